"""Per-guild settings and the limit policy. Pure: the store counts, this decides."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.catalog import DEFAULT_SUNO_MODEL, DEFAULT_UDIO_MODEL


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """What a server admin controls. The defaults make a fresh install work with no setup."""

    guild_id: int
    allowed_channels: frozenset[int] = frozenset()  # empty: every channel
    required_role_id: int | None = None
    default_suno_model: str = DEFAULT_SUNO_MODEL.name
    default_udio_model: str = DEFAULT_UDIO_MODEL
    suno_enabled: bool = True
    udio_enabled: bool = True
    max_concurrent: int = 2  # per member; 0 means no limit (same for the next three)
    daily_quota: int = 20  # songs per member per UTC day
    daily_budget: int = 200  # songs per guild per UTC day
    cooldown_seconds: int = 10  # between two jobs of one member

    def replace(self, **changes: object) -> GuildSettings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Usage:
    """What already counts against the limits, read in the same transaction as the new job's insert."""

    member_in_flight: int = 0
    member_today: int = 0
    member_last_at: float | None = None
    guild_today: int = 0
    guild_in_flight: int = 0
    total_in_flight: int = 0


@dataclass(frozen=True, slots=True)
class Caps:
    """Bot-wide safety caps from the environment: one busy server cannot starve the others."""

    total_in_flight: int = 100
    guild_in_flight: int = 25


class LimitReachedError(Exception):
    """A limit stops this job; `message` says which and when it resets (Discord timestamp markup)."""

    def __init__(self, limit: str, message: str, resets_at: float | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.message = message
        self.resets_at = resets_at


class NotAllowedError(Exception):
    """This member may not generate here (channel, role or provider switched off); `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Admission:
    """Everything needed to admit one job: the guild's settings, the bot's caps, what counts, and when."""

    settings: GuildSettings
    caps: Caps = field(default_factory=Caps)
    counts_towards_quota: bool = True  # songs count; cheap lyrics jobs only count towards concurrency


def day_start(now: float) -> float:
    """Midnight UTC of the day containing `now`: daily quotas reset then."""
    moment = datetime.fromtimestamp(now, UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def _when(timestamp: float) -> str:
    return f"<t:{int(timestamp)}:R>"


def check(admission: Admission, usage: Usage, now: float) -> None:
    """Raise LimitReachedError for the first limit this job would break."""
    settings, caps = admission.settings, admission.caps
    tomorrow = day_start(now) + timedelta(days=1).total_seconds()
    if caps.total_in_flight and usage.total_in_flight >= caps.total_in_flight:
        raise LimitReachedError(
            "bot_capacity", "The bot is making as many songs as it can right now. Please try again in a few minutes."
        )
    if caps.guild_in_flight and usage.guild_in_flight >= caps.guild_in_flight:
        raise LimitReachedError(
            "guild_capacity",
            f"This server already has {usage.guild_in_flight} songs in the making, the most one server may have "
            "at once. Please try again when some are done.",
        )
    if settings.max_concurrent and usage.member_in_flight >= settings.max_concurrent:
        raise LimitReachedError(
            "concurrent",
            f"You already have {usage.member_in_flight} job(s) in progress, the limit here is "
            f"{settings.max_concurrent}. Try again when one is done (see `/status`).",
        )
    if settings.cooldown_seconds and usage.member_last_at is not None:
        ready_at = usage.member_last_at + settings.cooldown_seconds
        if now < ready_at:
            raise LimitReachedError(
                "cooldown", f"Please wait a moment between songs: you can ask again {_when(ready_at)}.", ready_at
            )
    if not admission.counts_towards_quota:
        return
    if settings.daily_quota and usage.member_today >= settings.daily_quota:
        raise LimitReachedError(
            "daily_quota",
            f"You have made {usage.member_today} songs today, the daily limit here. It resets {_when(tomorrow)}.",
            tomorrow,
        )
    if settings.daily_budget and usage.guild_today >= settings.daily_budget:
        raise LimitReachedError(
            "daily_budget",
            f"This server has used its {settings.daily_budget} songs for today. It resets {_when(tomorrow)}.",
            tomorrow,
        )
