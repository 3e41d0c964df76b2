"""Guild settings rows on PostgreSQL: reading one, and writing one inside the caller's transaction."""

from __future__ import annotations

import json

import asyncpg

from bot.store.records import GuildSettings

from .db import Connection


async def read(conn: Connection | asyncpg.Pool[asyncpg.Record], guild_id: int) -> GuildSettings:
    """The guild's settings, or the defaults when it has no row."""
    row = await conn.fetchrow("SELECT * FROM guild_settings WHERE guild_id = $1", guild_id)
    if row is None:
        return GuildSettings(guild_id)
    return GuildSettings(
        guild_id=guild_id,
        allowed_channels=frozenset(json.loads(row["allowed_channels"])),
        required_role_id=row["required_role_id"],
        default_suno_model=row["default_suno_model"],
        default_udio_model=row["default_udio_model"],
        suno_enabled=row["suno_enabled"],
        udio_enabled=row["udio_enabled"],
        max_concurrent=row["max_concurrent"],
        daily_quota=row["daily_quota"],
        daily_budget=row["daily_budget"],
        cooldown_seconds=row["cooldown_seconds"],
    )


async def write(conn: Connection, settings: GuildSettings, *, now: float, by: int | None) -> None:
    """Insert or replace the guild's row; the caller holds the guild's lock in the transaction it read in."""
    await conn.execute(
        "INSERT INTO guild_settings (guild_id, allowed_channels, required_role_id, default_suno_model,"
        " default_udio_model, suno_enabled, udio_enabled, max_concurrent, daily_quota, daily_budget,"
        " cooldown_seconds, updated_at, updated_by)"
        " VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        " ON CONFLICT (guild_id) DO UPDATE SET allowed_channels = EXCLUDED.allowed_channels,"
        " required_role_id = EXCLUDED.required_role_id, default_suno_model = EXCLUDED.default_suno_model,"
        " default_udio_model = EXCLUDED.default_udio_model, suno_enabled = EXCLUDED.suno_enabled,"
        " udio_enabled = EXCLUDED.udio_enabled, max_concurrent = EXCLUDED.max_concurrent,"
        " daily_quota = EXCLUDED.daily_quota, daily_budget = EXCLUDED.daily_budget,"
        " cooldown_seconds = EXCLUDED.cooldown_seconds, updated_at = EXCLUDED.updated_at,"
        " updated_by = EXCLUDED.updated_by",
        settings.guild_id,
        json.dumps(sorted(settings.allowed_channels)),
        settings.required_role_id,
        settings.default_suno_model,
        settings.default_udio_model,
        settings.suno_enabled,
        settings.udio_enabled,
        settings.max_concurrent,
        settings.daily_quota,
        settings.daily_budget,
        settings.cooldown_seconds,
        now,
        by,
    )
