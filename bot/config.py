"""Settings read once at start from environment variables (a `.env` file may supply them)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.catalog import DEFAULT_LYRICS_PRICE, DEFAULT_SONG_PRICE, DEFAULT_UDIO_SONG_PRICE, Prices
from bot.core.specs import DEFAULT_FULL_STEMS_COST
from bot.database_url import check_database_url

DEFAULT_DATABASE_URL = "sqlite:///data/chorus.db"


class Settings(BaseSettings):
    """Every knob of the bot. Field names map to the upper-case env var names, which are a contract."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    discord_token: SecretStr
    cometapi_key: SecretStr
    cometapi_base_url: str = "https://api.cometapi.com"
    # CometAPI's balance lives on another host (the key goes there as a query parameter).
    cometapi_quota_url: str = "https://query.cometapi.com"
    discord_api_base: str = "https://discord.com/api/v10"
    database_url: str = DEFAULT_DATABASE_URL
    poll_interval: Annotated[float, Field(gt=0)] = 5.0
    discord_guild_id: int | None = None
    log_level: str = "INFO"
    # Beyond the contract: tuning knobs with safe defaults.
    poll_batch_size: Annotated[int, Field(ge=1, le=500)] = 50
    job_deadline_minutes: Annotated[float, Field(gt=0)] = 30.0
    # Safety caps on jobs in flight (0 = no cap): for the whole bot, and for any one server.
    max_jobs_in_flight: Annotated[int, Field(ge=0)] = 100
    max_guild_jobs_in_flight: Annotated[int, Field(ge=0)] = 25
    # What full-track stems (every track) count as against quotas, budgets and /chorus usage, in songs. Resellers of
    # the same upstream charge about five songs (see bot/core/specs.py); vocals + instrumental count as one.
    stems_cost_songs: Annotated[int, Field(ge=1)] = DEFAULT_FULL_STEMS_COST
    # Port of the /healthz and /metrics endpoint; unset means off.
    health_port: Annotated[int, Field(ge=0, le=65535)] | None = None
    health_host: str = "127.0.0.1"
    # Scaling out: how many gateway shards the bot has in all, and which of them this process runs (e.g. "0,1").
    # Unset: Discord's recommended count, all in this process.
    shard_count: Annotated[int, Field(ge=1)] | None = None
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None
    # Seconds between two readings of CometAPI's balance for credit alerts (switching an alert on reads it at once).
    credit_check_interval: Annotated[float, Field(gt=0)] = 900.0
    # What CometAPI charges per job, in USD, for /chorus usage, /chorus balance and credit alerts. CometAPI publishes
    # none: the defaults are the open-source relay's code defaults (see bot/core/catalog.py and docs/admins.md).
    price_per_song: Annotated[float, Field(ge=0)] = DEFAULT_SONG_PRICE
    price_per_lyrics: Annotated[float, Field(ge=0)] = DEFAULT_LYRICS_PRICE
    price_per_udio_song: Annotated[float, Field(ge=0)] = DEFAULT_UDIO_SONG_PRICE

    @property
    def prices(self) -> Prices:
        """The prices of CometAPI's jobs as configured."""
        return Prices(song=self.price_per_song, lyrics=self.price_per_lyrics, udio_song=self.price_per_udio_song)

    @field_validator("discord_token", "cometapi_key")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("cometapi_base_url", "cometapi_quota_url", "discord_api_base")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value

    @field_validator("discord_guild_id", "health_port", "shard_count", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        try:
            return tuple(int(part) for part in value.split(","))
        except ValueError:
            raise ValueError("must be shard numbers separated by commas, e.g. 0,1") from None

    @field_validator("shard_ids")
    @classmethod
    def _shards_in_range(cls, value: tuple[int, ...] | None, info: ValidationInfo) -> tuple[int, ...] | None:
        if value is None:
            return None
        count = info.data.get("shard_count")
        if count is None:
            raise ValueError("needs SHARD_COUNT (the number of shards of the whole bot)")
        if not value or len(set(value)) != len(value) or any(not 0 <= shard < count for shard in value):
            raise ValueError(f"must list different shard numbers from 0 to {count - 1}")
        return value


class ConfigError(Exception):
    """Configuration is unusable; `problems` holds one human line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read and validate settings, raising ConfigError with one line per problem (never the secret values)."""
    try:
        settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError([_describe(error) for error in exc.errors()]) from None
    try:
        check_database_url(settings.database_url)
    except ValueError as exc:
        raise ConfigError([f"DATABASE_URL: {exc}"]) from None
    return settings


def _describe(error: ErrorDetails) -> str:
    # Only the location and pydantic's message: the input value (maybe a secret) never reaches the line.
    name = "_".join(str(part) for part in error.get("loc", ())).upper() or "SETTINGS"
    if error.get("type") == "missing":
        return f"{name}: required, but not set (set it in the environment or in .env)"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{name}: {message}"
