"""Guild settings rows on SQLite: reading one, and writing one inside the caller's transaction."""

from __future__ import annotations

import json

import aiosqlite

from bot.store.records import GuildSettings


async def read(conn: aiosqlite.Connection, guild_id: int) -> GuildSettings:
    """The guild's settings, or the defaults when it has no row."""
    async with conn.execute("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return GuildSettings(guild_id)
    return GuildSettings(
        guild_id=guild_id,
        allowed_channels=frozenset(json.loads(row["allowed_channels"])),
        required_role_id=row["required_role_id"],
        default_suno_model=row["default_suno_model"],
        default_udio_model=row["default_udio_model"],
        suno_enabled=bool(row["suno_enabled"]),
        udio_enabled=bool(row["udio_enabled"]),
        max_concurrent=row["max_concurrent"],
        daily_quota=row["daily_quota"],
        daily_budget=row["daily_budget"],
        cooldown_seconds=row["cooldown_seconds"],
        alert_channel_id=row["alert_channel_id"],
        credit_alert_below=row["credit_alert_below"],
        credit_warned_at=row["credit_warned_at"],
        song_of_day_channel_id=row["song_of_day_channel_id"],
        battle_minutes=row["battle_minutes"],
    )


async def write(conn: aiosqlite.Connection, settings: GuildSettings, *, now: float, by: int | None) -> None:
    """Insert or replace the guild's row; the caller holds the write transaction it read the old row in."""
    await conn.execute(
        "INSERT OR REPLACE INTO guild_settings (guild_id, allowed_channels, required_role_id,"
        " default_suno_model, default_udio_model, suno_enabled, udio_enabled, max_concurrent, daily_quota,"
        " daily_budget, cooldown_seconds, alert_channel_id, credit_alert_below, credit_warned_at,"
        " song_of_day_channel_id, battle_minutes, updated_at, updated_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            settings.alert_channel_id,
            settings.credit_alert_below,
            settings.credit_warned_at,
            settings.song_of_day_channel_id,
            settings.battle_minutes,
            now,
            by,
        ),
    )
