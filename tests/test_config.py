"""Settings: the env var contract, defaults, validation with one line per problem, secrets hidden."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.database_url import describe_url, sqlite_path

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = [
    "DISCORD_TOKEN", "COMETAPI_KEY", "COMETAPI_BASE_URL", "DISCORD_API_BASE",
    "DATABASE_URL", "POLL_INTERVAL", "DISCORD_GUILD_ID",
]

PRICING = ["PRICE_PER_SONG", "PRICE_PER_LYRICS", "PRICE_PER_UDIO_SONG", "CREDIT_CHECK_INTERVAL"]


@pytest.fixture
def clean_env(monkeypatch):
    for name in [*CONTRACT, "POLL_BATCH_SIZE", "JOB_DEADLINE_MINUTES", "SHARD_COUNT", "SHARD_IDS", *PRICING]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(clean_env):
    """Only the two secrets are required; everything else has the documented default."""
    clean_env.setenv("DISCORD_TOKEN", "tok")
    clean_env.setenv("COMETAPI_KEY", "key")
    settings = load_settings(None)
    assert settings.cometapi_base_url == "https://api.cometapi.com"
    assert settings.discord_api_base == "https://discord.com/api/v10"
    assert settings.database_url == "sqlite:///data/chorus.db"
    assert sqlite_path(settings.database_url) == Path("data/chorus.db")
    assert settings.poll_interval == 5.0
    assert settings.discord_guild_id is None


def test_every_contract_name_is_read(clean_env):
    """Each env var name in the contract reaches its setting."""
    values = {
        "DISCORD_TOKEN": "tok", "COMETAPI_KEY": "key", "COMETAPI_BASE_URL": "http://127.0.0.1:8765/",
        "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10", "DATABASE_URL": "/srv/chorus/x.db",
        "POLL_INTERVAL": "2.5", "DISCORD_GUILD_ID": "123",
    }
    for name, value in values.items():
        clean_env.setenv(name, value)
    settings = load_settings(None)
    assert settings.discord_token.get_secret_value() == "tok"
    assert settings.cometapi_key.get_secret_value() == "key"
    assert settings.cometapi_base_url == "http://127.0.0.1:8765"
    assert settings.discord_api_base == "http://127.0.0.1:9/api/v10"
    assert sqlite_path(settings.database_url) == Path("/srv/chorus/x.db")
    assert settings.poll_interval == 2.5
    assert settings.discord_guild_id == 123


def test_dotenv_file_supplies_values(clean_env, tmp_path):
    """A .env file may feed the settings."""
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_TOKEN=from-file\nCOMETAPI_KEY=key-file\nPOLL_INTERVAL=9\n")
    settings = load_settings(env_file)
    assert settings.discord_token.get_secret_value() == "from-file"
    assert settings.poll_interval == 9.0


def test_problems_are_listed_one_per_line_without_values(clean_env):
    """Every problem is named, and a bad secret's value never appears in the message."""
    clean_env.setenv("COMETAPI_KEY", "   ")
    clean_env.setenv("POLL_INTERVAL", "-1")
    clean_env.setenv("DATABASE_URL", "postgres://user:hunter2@db/x")
    clean_env.setenv("DISCORD_TOKEN", "sekrit-token-value")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    problems = caught.value.problems
    assert any(p.startswith("COMETAPI_KEY:") for p in problems)
    assert any(p.startswith("POLL_INTERVAL:") for p in problems)
    assert "sekrit-token-value" not in str(caught.value)


def test_unsupported_database_scheme(clean_env):
    """Only SQLite URLs, plain paths and PostgreSQL URLs are accepted; anything else gets a clear line."""
    clean_env.setenv("DISCORD_TOKEN", "tok")
    clean_env.setenv("COMETAPI_KEY", "key")
    clean_env.setenv("DATABASE_URL", "mysql://db/x")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert caught.value.problems == [
        "DATABASE_URL: unsupported database URL scheme 'mysql' (use sqlite:///path or postgresql://…)"
    ]
    assert sqlite_path("sqlite:////abs/x.db") == Path("/abs/x.db")


@pytest.mark.parametrize("url", ["postgresql://chorus:s3cret-pw@db:5432/chorus", "postgres://chorus:s3cret-pw@db/chorus"])
def test_postgres_urls_are_accepted_and_logged_without_the_password(clean_env, url):
    """DATABASE_URL may name PostgreSQL (postgresql:// or postgres://); the log line shows it without the password."""
    clean_env.setenv("DISCORD_TOKEN", "tok")
    clean_env.setenv("COMETAPI_KEY", "key")
    clean_env.setenv("DATABASE_URL", url)
    assert load_settings(None).database_url == url
    described = describe_url(url)
    assert "s3cret-pw" not in described
    assert described.startswith("postgresql://chorus@db") and described.endswith("/chorus")


def test_a_postgres_url_without_a_host_is_refused(clean_env):
    """A postgresql:// URL with no host stops the bot with a line that shows the expected shape."""
    clean_env.setenv("DISCORD_TOKEN", "tok")
    clean_env.setenv("COMETAPI_KEY", "key")
    clean_env.setenv("DATABASE_URL", "postgresql:///chorus")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert caught.value.problems == [
        "DATABASE_URL: a postgresql:// URL needs a host (postgresql://user:password@host:5432/database)"
    ]


def test_prices_and_the_credit_interval_default_to_the_relays_prices_and_a_quarter_hour(clean_env):
    """Prices default to the open-source relay's code defaults (0.1 a song, 0.01 lyrics; Udio like a song), and the
    balance is read every 900 s; each is read from its env var."""
    clean_env.setenv("DISCORD_TOKEN", "tok")
    clean_env.setenv("COMETAPI_KEY", "key")
    settings = load_settings(None)
    assert (settings.prices.song, settings.prices.lyrics, settings.prices.udio_song) == (0.1, 0.01, 0.1)
    assert settings.credit_check_interval == 900.0
    for name, value in zip(PRICING, ["0.3", "0.02", "0.5", "60"], strict=True):
        clean_env.setenv(name, value)
    settings = load_settings(None)
    assert (settings.prices.song, settings.prices.lyrics, settings.prices.udio_song) == (0.3, 0.02, 0.5)
    assert settings.credit_check_interval == 60.0


def test_a_negative_price_or_interval_is_one_line_each(clean_env):
    """A price below 0 or an interval of 0 stops the bot with one line per setting."""
    clean_env.setenv("DISCORD_TOKEN", "tok")
    clean_env.setenv("COMETAPI_KEY", "key")
    clean_env.setenv("PRICE_PER_SONG", "-0.1")
    clean_env.setenv("CREDIT_CHECK_INTERVAL", "0")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert sorted(p.split(":")[0] for p in caught.value.problems) == ["CREDIT_CHECK_INTERVAL", "PRICE_PER_SONG"]


def test_secrets_are_hidden_in_repr(clean_env):
    """repr() of the settings never shows the token or the key."""
    clean_env.setenv("DISCORD_TOKEN", "tok-123456")
    clean_env.setenv("COMETAPI_KEY", "sk-abcdef")
    text = repr(load_settings(None))
    assert "tok-123456" not in text
    assert "sk-abcdef" not in text


def test_python_m_bot_reports_bad_config_and_exits_non_zero(tmp_path):
    """`python -m bot` with missing settings prints one line per problem, no traceback, exit code 2."""
    env = {k: v for k, v in os.environ.items() if k not in CONTRACT}
    env["POLL_INTERVAL"] = "soon"
    proc = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert any("DISCORD_TOKEN" in line for line in lines)
    assert any("COMETAPI_KEY" in line for line in lines)
    assert any("POLL_INTERVAL" in line for line in lines)


@pytest.mark.parametrize(
    ("count", "ids", "expected"),
    [
        ("3", "0,1", (3, (0, 1))),
        ("3", " 2 ", (3, (2,))),
        ("4", "", (4, None)),
        ("", "", (None, None)),
    ],
)
def test_shard_settings_are_read(clean_env, count, ids, expected):
    """SHARD_COUNT and SHARD_IDS (comma-separated) give this process its slice of the gateway; blank means unset."""
    clean_env.setenv("DISCORD_TOKEN", "tok")
    clean_env.setenv("COMETAPI_KEY", "key")
    clean_env.setenv("SHARD_COUNT", count)
    clean_env.setenv("SHARD_IDS", ids)
    settings = load_settings(None)
    assert (settings.shard_count, settings.shard_ids) == expected


@pytest.mark.parametrize(
    ("count", "ids", "problem"),
    [
        (None, "1", "SHARD_IDS: needs SHARD_COUNT (the number of shards of the whole bot)"),
        ("3", "0,3", "SHARD_IDS: must list different shard numbers from 0 to 2"),
        ("3", "1,1", "SHARD_IDS: must list different shard numbers from 0 to 2"),
        ("3", "one", "SHARD_IDS: must be shard numbers separated by commas, e.g. 0,1"),
        ("0", "", "SHARD_COUNT: Input should be greater than or equal to 1"),
    ],
)
def test_bad_shard_settings_stop_the_bot_with_one_line(clean_env, count, ids, problem):
    """Shard ids outside 0…SHARD_COUNT-1, repeated, unparsable or without SHARD_COUNT are refused with one line."""
    clean_env.setenv("DISCORD_TOKEN", "tok")
    clean_env.setenv("COMETAPI_KEY", "key")
    if count is not None:
        clean_env.setenv("SHARD_COUNT", count)
    clean_env.setenv("SHARD_IDS", ids)
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert caught.value.problems == [problem]
