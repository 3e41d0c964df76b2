"""Guild settings rows on PostgreSQL: reading one, and writing one inside the caller's transaction.

The columns are the fields of GuildSettings (plus who changed them, and when), named once here: a setting added
to the record and to the schema is read and written without touching this module, and a write never leaves a
column behind.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import asyncpg

from bot.store.records import GuildSettings

from .db import Connection

SETTINGS_FIELDS = [f.name for f in dataclasses.fields(GuildSettings)]
_COLUMNS = [*SETTINGS_FIELDS, "updated_at", "updated_by"]
_JSON = {"allowed_channels"}
_WRITE = (
    f"INSERT INTO guild_settings ({', '.join(_COLUMNS)}) VALUES ("
    + ", ".join(f"${n}::jsonb" if name in _JSON else f"${n}" for n, name in enumerate(_COLUMNS, 1))
    + ") ON CONFLICT (guild_id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in _COLUMNS if name != "guild_id")
)
SELECT_SETTINGS = f"SELECT {', '.join(SETTINGS_FIELDS)} FROM guild_settings"


def from_row(row: asyncpg.Record) -> GuildSettings:
    """Settings from a guild_settings row (its SETTINGS_FIELDS columns)."""
    values: dict[str, Any] = dict(row)
    values["allowed_channels"] = frozenset(json.loads(values["allowed_channels"]))
    return GuildSettings(**values)


async def read(conn: Connection | asyncpg.Pool[asyncpg.Record], guild_id: int) -> GuildSettings:
    """The guild's settings, or the defaults when it has no row."""
    row = await conn.fetchrow(f"{SELECT_SETTINGS} WHERE guild_id = $1", guild_id)
    return from_row(row) if row is not None else GuildSettings(guild_id)


async def write(conn: Connection, settings: GuildSettings, *, now: float, by: int | None) -> None:
    """Insert the guild's row, or replace every column of it; the caller holds the guild's lock in the transaction
    it read in."""
    values = [getattr(settings, name) for name in SETTINGS_FIELDS]
    values[SETTINGS_FIELDS.index("allowed_channels")] = json.dumps(sorted(settings.allowed_channels))
    await conn.execute(_WRITE, *values, now, by)
