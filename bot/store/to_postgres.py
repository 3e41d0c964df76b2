"""`python -m bot.store.to_postgres SQLITE POSTGRES`: copy a stopped bot's SQLite database into an empty PostgreSQL one.

Jobs keep their ids (so buttons on songs already posted keep working), their CometAPI task ids (so jobs in flight
are polled by the new processes) and their delivery state (so pending posts are made, once: each keeps its nonce).
Guild settings, personas and everything members made together (likes, deleted songs, battles and their votes,
challenges with their entries and votes, jams, song-of-the-day features) are copied with their ids too; process
heartbeats are not (claims of the old process are then taken over at once).
Stop the bot first: a copy of a database that is still being written is a copy of the past.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
from typing import Any

import aiosqlite

from .factory import describe_url, is_postgres, sqlite_path
from .postgres.db import connect as connect_postgres
from .records import GuildSettings, Job
from .sqlite.db import connect as connect_sqlite

log = logging.getLogger(__name__)

JOB_FIELDS = [f.name for f in dataclasses.fields(Job)]
SETTINGS_FIELDS = [f.name for f in dataclasses.fields(GuildSettings)] + ["updated_at", "updated_by"]
BOOLEAN_COLUMNS = {"late", "suno_enabled", "udio_enabled"}
JSON_COLUMNS = {"params", "result", "allowed_channels", "credits"}
# Copied after jobs and guild settings, every column as it is, in an order that satisfies their references. Tables
# with their own ids continue after the copied ones.
OTHER_TABLES = (
    "personas", "likes", "removed_songs", "battles", "battle_votes", "challenges", "challenge_entries",
    "challenge_votes", "jams", "jam_lines", "jam_songs", "song_of_day",
)
IDENTITY_TABLES = ("jobs", "personas", "battles", "challenges", "jams", "jam_lines")


class TargetNotEmptyError(Exception):
    """The PostgreSQL database already holds jobs or settings: copying would mix two bots' histories."""


async def copy_sqlite_to_postgres(sqlite_url: str, postgres_url: str) -> tuple[int, int, int]:
    """Copy every job, guild's settings, persona and community row in one transaction; return (jobs, guilds, other
    rows) copied."""
    source = await connect_sqlite(sqlite_path(sqlite_url))  # also brings an old file's schema up to date
    try:
        tables = {"jobs": (JOB_FIELDS, await _rows(source, "jobs", JOB_FIELDS)),
                  "guild_settings": (SETTINGS_FIELDS, await _rows(source, "guild_settings", SETTINGS_FIELDS))}
        for table in OTHER_TABLES:
            columns = await _columns(source, table)
            tables[table] = (columns, await _rows(source, table, columns))
    finally:
        await source.close()
    pool = await connect_postgres(postgres_url, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction():
            counts = " + ".join(f"(SELECT count(*) FROM {table})" for table in tables)  # noqa: S608 - our names
            if await conn.fetchval(f"SELECT {counts}"):
                raise TargetNotEmptyError(f"{describe_url(postgres_url)} already has jobs, settings or community rows")
            for table, (columns, rows) in tables.items():
                await conn.executemany(_insert(table, columns), rows)
            for table in IDENTITY_TABLES:  # new rows continue after the copied ids
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608 - our own names
                    f" GREATEST((SELECT max(id) FROM {table}), 1), (SELECT max(id) FROM {table}) IS NOT NULL)"
                )
    finally:
        await pool.close()
    others = sum(len(rows) for table, (_, rows) in tables.items() if table in OTHER_TABLES)
    return len(tables["jobs"][1]), len(tables["guild_settings"][1]), others


async def _columns(conn: aiosqlite.Connection, table: str) -> list[str]:
    """A SQLite table's columns (the PostgreSQL table has the same ones)."""
    async with conn.execute("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,)) as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def _rows(conn: aiosqlite.Connection, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    async with conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1") as cursor:  # noqa: S608 - our names
        rows = await cursor.fetchall()
    return [
        tuple(bool(value) if name in BOOLEAN_COLUMNS and value is not None else value
              for name, value in zip(columns, row, strict=True))
        for row in rows
    ]


def _insert(table: str, columns: list[str]) -> str:
    values = ", ".join(f"${n}::jsonb" if name in JSON_COLUMNS else f"${n}" for n, name in enumerate(columns, 1))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"  # noqa: S608 - our own names


def main(argv: list[str] | None = None) -> int:
    """Copy and report; exit 2 on bad arguments, 1 when the target is not empty."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or is_postgres(args[0]) or not is_postgres(args[1]):
        sys.stderr.write("usage: python -m bot.store.to_postgres sqlite:///data/chorus.db postgresql://user:pw@host/db\n")
        return 2
    logging.basicConfig(level=logging.WARNING)
    try:
        jobs, guilds, others = asyncio.run(copy_sqlite_to_postgres(args[0], args[1]))
    except TargetNotEmptyError as exc:
        sys.stderr.write(f"not copied: {exc}\n")
        return 1
    sys.stdout.write(f"copied {jobs} job(s), {guilds} guild(s) and {others} persona and community row(s)"
                     f" to {describe_url(args[1])}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

