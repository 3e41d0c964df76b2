"""Per-guild settings on the same SQLite database as the jobs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import aiosqlite

from bot.catalog import DEFAULT_SUNO_MODEL, DEFAULT_UDIO_MODEL
from bot.limits import GuildSettings

Transaction = Callable[[], AbstractAsyncContextManager[aiosqlite.Connection]]


class GuildStore(Protocol):
    """Settings a server admin changes with /chorus."""

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings, or the defaults when it never changed any."""
        ...

    async def save(self, settings: GuildSettings, *, by: int | None = None) -> None: ...


class SqliteGuildStore:
    """GuildStore sharing the job store's connection and write lock."""

    def __init__(
        self, conn: aiosqlite.Connection, transaction: Transaction, *, now: Callable[[], float] = time.time
    ) -> None:
        self._conn = conn
        self._transaction = transaction
        self._now = now

    async def get(self, guild_id: int) -> GuildSettings:
        async with self._conn.execute("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return GuildSettings(guild_id)
        return GuildSettings(
            guild_id=guild_id,
            allowed_channels=frozenset(json.loads(row["allowed_channels"])),
            required_role_id=row["required_role_id"],
            default_suno_model=row["default_suno_model"] or DEFAULT_SUNO_MODEL.name,
            default_udio_model=row["default_udio_model"] or DEFAULT_UDIO_MODEL,
            suno_enabled=bool(row["suno_enabled"]),
            udio_enabled=bool(row["udio_enabled"]),
            max_concurrent=row["max_concurrent"],
            daily_quota=row["daily_quota"],
            daily_budget=row["daily_budget"],
            cooldown_seconds=row["cooldown_seconds"],
        )

    async def save(self, settings: GuildSettings, *, by: int | None = None) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO guild_settings (guild_id, allowed_channels, required_role_id,"
                " default_suno_model, default_udio_model, suno_enabled, udio_enabled, max_concurrent, daily_quota,"
                " daily_budget, cooldown_seconds, updated_at, updated_by)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    settings.guild_id,
                    json.dumps(sorted(settings.allowed_channels)),
                    settings.required_role_id,
                    settings.default_suno_model,
                    settings.default_udio_model,
                    int(settings.suno_enabled),
                    int(settings.udio_enabled),
                    settings.max_concurrent,
                    settings.daily_quota,
                    settings.daily_budget,
                    settings.cooldown_seconds,
                    self._now(),
                    by,
                ),
            )

