"""AdminService: what /chorus changes and reports. Cogs call this; it calls the store."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from bot.core.catalog import SUNO_MODELS, UDIO_MODELS, Prices, suno_model
from bot.core.validation import InvalidInputError
from bot.domain import GuildSettings, SettingsChange, UsageRow, utc_day_start
from bot.store import JobStore

ProviderName = Literal["suno", "udio"]


@dataclass(frozen=True, slots=True)
class MemberUsage:
    """One member's use in a period: songs that counted (at their cost), lyrics, what failed (refunded), and an
    estimate in USD, the unit /chorus balance speaks."""

    songs: int = 0
    lyrics: int = 0
    failed: int = 0
    usd: float = 0.0


@dataclass(frozen=True, slots=True)
class UsagePeriod:
    """Jobs in one period, by member (busiest first) and by provider."""

    by_member: dict[int, MemberUsage] = field(default_factory=dict)
    by_provider: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Jobs that counted in the period, all providers together."""
        return sum(self.by_provider.values())

    @property
    def songs(self) -> int:
        """Songs that counted in the period (at their cost), all members together."""
        return sum(member.songs for member in self.by_member.values())

    @property
    def lyrics(self) -> int:
        """Lyrics that counted in the period, all members together."""
        return sum(member.lyrics for member in self.by_member.values())

    @property
    def usd(self) -> float:
        """Estimated USD spent in the period (at the configured prices)."""
        return sum(member.usd for member in self.by_member.values())

    @property
    def failed(self) -> int:
        """Jobs that failed in the period (CometAPI refunds them)."""
        return sum(member.failed for member in self.by_member.values())


@dataclass(frozen=True, slots=True)
class UsageReport:
    """/chorus usage: today and the last 30 days."""

    today: UsagePeriod
    month: UsagePeriod


class AdminService:
    """Reads and changes a guild's settings, and reports its usage."""

    def __init__(self, store: JobStore, *, prices: Prices | None = None, now: Callable[[], float] = time.time) -> None:
        self._store = store
        self.prices = prices or Prices()
        self._now = now

    async def settings(self, guild_id: int) -> GuildSettings:
        """The guild's current settings."""
        return await self._store.guild_settings(guild_id)

    async def _change(self, guild_id: int, by: int, **changes: object) -> GuildSettings:
        return await self._apply(guild_id, by, lambda current: current.replace(**changes))

    async def _apply(self, guild_id: int, by: int, change: SettingsChange) -> GuildSettings:
        # Read-modify-write happens inside the store's transaction, so two admins' changes both stick.
        return await self._store.change_guild_settings(guild_id, change, by=by)

    async def allow_channel(self, guild_id: int, channel_id: int, *, by: int) -> GuildSettings:
        """Add a channel to the list where songs may be made."""
        return await self._apply(
            guild_id, by, lambda current: current.replace(allowed_channels=current.allowed_channels | {channel_id})
        )

    async def disallow_channel(self, guild_id: int, channel_id: int, *, by: int) -> GuildSettings:
        """Take a channel off the list; InvalidInputError if it was not on it."""

        def remove(current: GuildSettings) -> GuildSettings:
            if channel_id not in current.allowed_channels:
                raise InvalidInputError("channel", "That channel is not on the list (an empty list means everywhere).")
            return current.replace(allowed_channels=current.allowed_channels - {channel_id})

        return await self._apply(guild_id, by, remove)

    async def allow_all_channels(self, guild_id: int, *, by: int) -> GuildSettings:
        """Allow every channel again (an empty list)."""
        return await self._change(guild_id, by, allowed_channels=frozenset())

    async def require_role(self, guild_id: int, role_id: int | None, *, by: int) -> GuildSettings:
        """Require a role to generate, or let anyone (None)."""
        return await self._change(guild_id, by, required_role_id=role_id)

    async def set_default_model(self, guild_id: int, provider: ProviderName, model: str, *, by: int) -> GuildSettings:
        """Set the model a provider uses when a member picks none; InvalidInputError for an unknown one."""
        if provider == "suno":
            chosen = suno_model(model)
            if chosen is None:
                names = ", ".join(m.name for m in SUNO_MODELS)
                raise InvalidInputError("model", f"Unknown Suno model `{model}`. Pick one of: {names}.")
            return await self._change(guild_id, by, default_suno_model=chosen.name)
        if model not in UDIO_MODELS:
            raise InvalidInputError("model", f"Unknown Udio model `{model}`. Pick one of: {', '.join(UDIO_MODELS)}.")
        return await self._change(guild_id, by, default_udio_model=model)

    async def enable_provider(self, guild_id: int, provider: ProviderName, enabled: bool, *, by: int) -> GuildSettings:
        """Switch Suno or Udio on or off on this server."""
        key = "suno_enabled" if provider == "suno" else "udio_enabled"
        return await self._change(guild_id, by, **{key: enabled})

    async def enable_voice(self, guild_id: int, enabled: bool, *, by: int) -> GuildSettings:
        """Let /listen host listening parties in this server's voice channels, or not."""
        return await self._change(guild_id, by, voice_enabled=enabled)

    async def set_limits(self, guild_id: int, *, by: int, **limits: int | None) -> GuildSettings:
        """Change the limits given (None keeps one); 0 means no limit."""
        changes = {name: value for name, value in limits.items() if value is not None}
        if any(value < 0 for value in changes.values()):
            raise InvalidInputError("limits", "Limits are whole numbers, 0 or more (0 means no limit).")
        return await self._change(guild_id, by, **changes)

    async def set_credit_alert(
        self, guild_id: int, channel_id: int | None, below: float, *, by: int
    ) -> GuildSettings:
        """Where and below what balance to warn admins (channel None: no alerts)."""
        if channel_id is None:
            return await self._change(guild_id, by, alert_channel_id=None, credit_alert_below=None,
                                      credit_warned_at=None)
        return await self._change(guild_id, by, alert_channel_id=channel_id, credit_alert_below=below,
                                  credit_warned_at=None)
    async def set_song_of_day(self, guild_id: int, channel_id: int | None, *, by: int) -> GuildSettings:
        """Feature the previous day's most liked song in a channel every day, or stop (None). It counts from the day
        it is switched on (moving it to another channel keeps that day)."""
        now = self._now()

        def switch(current: GuildSettings) -> GuildSettings:
            was_on = current.song_of_day_channel_id is not None
            since = None if channel_id is None else current.song_of_day_since if was_on else now
            return current.replace(song_of_day_channel_id=channel_id, song_of_day_since=since)

        return await self._apply(guild_id, by, switch)

    async def set_battle_minutes(self, guild_id: int, minutes: int, *, by: int) -> GuildSettings:
        """How long new song battles take votes (1 minute to 7 days)."""
        if not 1 <= minutes <= 7 * 24 * 60:
            raise InvalidInputError("minutes", "Battles take votes for 1 minute to 7 days (10080 minutes).")
        return await self._change(guild_id, by, battle_minutes=minutes)

    async def usage(self, guild_id: int) -> UsageReport:
        """Counted jobs per member and provider, today (UTC) and over 30 days."""
        now = self._now()
        today = await self._store.usage_by_member(guild_id, utc_day_start(now))
        month = await self._store.usage_by_member(guild_id, now - 30 * 86400)
        return UsageReport(_period(today, self.prices), _period(month, self.prices))


def _period(rows: list[UsageRow], prices: Prices) -> UsagePeriod:
    members: dict[int, MemberUsage] = defaultdict(MemberUsage)
    by_provider: dict[str, int] = defaultdict(int)
    for row in rows:
        cost = prices.of(row.provider, row.action) * row.counted
        was = members[row.user_id]
        lyrics = row.counted if row.action == "LYRICS" else 0
        members[row.user_id] = MemberUsage(was.songs + row.counted - lyrics, was.lyrics + lyrics,
                                           was.failed + row.failed, was.usd + cost)
        by_provider[row.provider] += row.counted
    ordered = dict(sorted(members.items(),
                          key=lambda item: (-item[1].songs - item[1].lyrics, -item[1].failed, item[0])))
    return UsagePeriod(ordered, dict(by_provider))
