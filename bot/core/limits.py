"""The limit policy. Pure: the store counts what already counts (Usage), this decides."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.core.wording import plural, span
from bot.domain import GuildSettings, Usage, utc_day_start


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
        # The refused request, kept as a job that never started, so the member can try it again without retyping.
        self.draft_job_id: int | None = None


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
    # What the new job counts as, in songs (full-track stems several): quotas and budgets judge it at its cost, so
    # 4 songs and a 5-song job do not fit a quota of 5. Concurrency and the caps count jobs, whatever they cost.
    cost: int = 1

    def __call__(self, usage: Usage, now: float) -> None:
        """Judge the job against what already counts (the store calls this inside its insert transaction)."""
        check(self, usage, now)


def _when(timestamp: float) -> str:
    return f"<t:{int(timestamp)}:R>"


def check(admission: Admission, usage: Usage, now: float) -> None:
    """Raise LimitReachedError for the first limit this job would break."""
    settings, caps = admission.settings, admission.caps
    tomorrow = utc_day_start(now) + timedelta(days=1).total_seconds()
    if caps.total_in_flight and usage.total_in_flight >= caps.total_in_flight:
        raise LimitReachedError(
            "bot_capacity", "The bot is making as many songs as it can right now. Please try again in a few minutes."
        )
    if caps.guild_in_flight and usage.guild_in_flight >= caps.guild_in_flight:
        raise LimitReachedError(
            "guild_capacity",
            f"This server already has {plural(usage.guild_in_flight, 'song')} in the making, the most one server may "
            "have at once. Please try again when some are done.",
        )
    if settings.max_concurrent and usage.member_in_flight >= settings.max_concurrent:
        raise LimitReachedError(
            "concurrent",
            f"You already have {plural(usage.member_in_flight, 'song')} in the making, the limit here is "
            f"{settings.max_concurrent}. Try again when one is done (see `/status`).",
        )
    if settings.cooldown_seconds and usage.member_last_at is not None:
        ready_at = usage.member_last_at + settings.cooldown_seconds
        if now < ready_at:
            raise LimitReachedError(
                "cooldown", f"Please wait {span(settings.cooldown_seconds)} between songs: you can ask again "
                f"{_when(ready_at)}.", ready_at
            )
    if not admission.counts_towards_quota:
        return
    cost = max(admission.cost, 1)
    if settings.daily_quota and usage.member_today + cost > settings.daily_quota:
        raise LimitReachedError(
            "daily_quota", _over_quota(usage.member_today, cost, settings.daily_quota, tomorrow), tomorrow
        )
    if settings.daily_budget and usage.guild_today + cost > settings.daily_budget:
        raise LimitReachedError(
            "daily_budget",
            (f"This server has used its {plural(settings.daily_budget, 'song')} for today" if cost == 1 else
             f"This server has used {usage.guild_today} of its {plural(settings.daily_budget, 'song')} for today, "
             f"and this counts as {plural(cost, 'song')}") + f". It resets {_when(tomorrow)}.",
            tomorrow,
        )


def _over_quota(made: int, cost: int, quota: int, tomorrow: float) -> str:
    if cost == 1:
        return f"You have made {plural(made, 'song')} today, the daily limit here. It resets {_when(tomorrow)}."
    return (f"You have made {plural(made, 'song')} today and this counts as {plural(cost, 'song')}; the daily limit "
            f"here is {quota}. It resets {_when(tomorrow)}.")
