"""AdminService: what /chorus changes and reports. Cogs call this; it calls the store."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from bot.catalog import SUNO_MODELS, UDIO_MODELS, suno_model
from bot.limits import GuildSettings, day_start
from bot.store import GuildStore, JobStore
from bot.validation import InvalidInputError

ProviderName = Literal["suno", "udio"]


@dataclass(frozen=True, slots=True)
class UsagePeriod:
    """Jobs that counted in one period, by member and by provider."""

    by_member: dict[int, int] = field(default_factory=dict)
    by_provider: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_provider.values())


@dataclass(frozen=True, slots=True)
class UsageReport:
    today: UsagePeriod
    month: UsagePeriod


class AdminService:
    """Reads and changes a guild's settings, and reports its usage."""

    def __init__(self, guilds: GuildStore, store: JobStore, *, now: Callable[[], float] = time.time) -> None:
        self._guilds = guilds
        self._store = store
        self._now = now

    async def settings(self, guild_id: int) -> GuildSettings:
        return await self._guilds.get(guild_id)

    async def _change(self, guild_id: int, by: int, **changes: object) -> GuildSettings:
        settings = (await self._guilds.get(guild_id)).replace(**changes)
        await self._guilds.save(settings, by=by)
        return settings

    async def allow_channel(self, guild_id: int, channel_id: int, *, by: int) -> GuildSettings:
        current = await self._guilds.get(guild_id)
        return await self._change(guild_id, by, allowed_channels=current.allowed_channels | {channel_id})

    async def disallow_channel(self, guild_id: int, channel_id: int, *, by: int) -> GuildSettings:
        current = await self._guilds.get(guild_id)
        if channel_id not in current.allowed_channels:
            raise InvalidInputError("channel", "That channel is not on the list (an empty list means everywhere).")
        return await self._change(guild_id, by, allowed_channels=current.allowed_channels - {channel_id})

    async def allow_all_channels(self, guild_id: int, *, by: int) -> GuildSettings:
        return await self._change(guild_id, by, allowed_channels=frozenset())

    async def require_role(self, guild_id: int, role_id: int | None, *, by: int) -> GuildSettings:
        return await self._change(guild_id, by, required_role_id=role_id)

    async def set_default_model(self, guild_id: int, provider: ProviderName, model: str, *, by: int) -> GuildSettings:
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
        key = "suno_enabled" if provider == "suno" else "udio_enabled"
        return await self._change(guild_id, by, **{key: enabled})

    async def set_limits(self, guild_id: int, *, by: int, **limits: int | None) -> GuildSettings:
        changes = {name: value for name, value in limits.items() if value is not None}
        if any(value < 0 for value in changes.values()):
            raise InvalidInputError("limits", "Limits are whole numbers, 0 or more (0 means no limit).")
        return await self._change(guild_id, by, **changes)

    async def usage(self, guild_id: int) -> UsageReport:
        now = self._now()
        today = await self._store.usage_by_member(guild_id, day_start(now))
        month = await self._store.usage_by_member(guild_id, now - 30 * 86400)
        return UsageReport(_period(today), _period(month))


def _period(rows: list[tuple[int, str, int]]) -> UsagePeriod:
    by_member: dict[int, int] = defaultdict(int)
    by_provider: dict[str, int] = defaultdict(int)
    for user_id, provider, count in rows:
        by_member[user_id] += count
        by_provider[provider] += count
    ordered = dict(sorted(by_member.items(), key=lambda item: (-item[1], item[0])))
    return UsagePeriod(ordered, dict(by_provider))
