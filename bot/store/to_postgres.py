"""`python -m bot.store.to_postgres SQLITE POSTGRES`: copy a stopped bot's SQLite database into an empty PostgreSQL one.

Jobs keep their ids (so buttons on songs already posted keep working), their CometAPI task ids (so jobs in flight
are polled by the new processes) and their delivery state (so pending posts are made, once: each keeps its nonce).
Guild settings are copied; process heartbeats are not (claims of the old process are then taken over at once).
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


class TargetNotEmptyError(Exception):
    """The PostgreSQL database already holds jobs or settings: copying would mix two bots' histories."""


async def copy_sqlite_to_postgres(sqlite_url: str, postgres_url: str) -> tuple[int, int]:
    """Copy every job and guild's settings in one transaction; return (jobs, guilds) copied."""
    source = await connect_sqlite(sqlite_path(sqlite_url))  # also brings an old file's schema up to date
    try:
        jobs = await _rows(source, "jobs", JOB_FIELDS)
        settings = await _rows(source, "guild_settings", SETTINGS_FIELDS)
    finally:
        await source.close()
    pool = await connect_postgres(postgres_url, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM guild_settings)"):
                raise TargetNotEmptyError(f"{describe_url(postgres_url)} already has jobs or guild settings")
            await conn.executemany(_insert("jobs", JOB_FIELDS), jobs)
            await conn.executemany(_insert("guild_settings", SETTINGS_FIELDS), settings)
            # New jobs continue after the copied ids.
            await conn.execute(
                "SELECT setval(pg_get_serial_sequence('jobs', 'id'), GREATEST((SELECT max(id) FROM jobs), 1),"
                " (SELECT max(id) FROM jobs) IS NOT NULL)"
            )
    finally:
        await pool.close()
    return len(jobs), len(settings)


async def _rows(conn: aiosqlite.Connection, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    async with conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1") as cursor:  # noqa: S608 - our names
        rows = await cursor.fetchall()
    return [
        tuple(bool(value) if name in BOOLEAN_COLUMNS and value is not None else value
              for name, value in zip(columns, row, strict=True))
        for row in rows
    ]


def _insert(table: str, columns: list[str]) -> str:
    json_columns = {"params", "result", "allowed_channels"}
    values = ", ".join(f"${n}::jsonb" if name in json_columns else f"${n}" for n, name in enumerate(columns, 1))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"  # noqa: S608 - our own names


def main(argv: list[str] | None = None) -> int:
    """Copy and report; exit 2 on bad arguments, 1 when the target is not empty."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or is_postgres(args[0]) or not is_postgres(args[1]):
        sys.stderr.write("usage: python -m bot.store.to_postgres sqlite:///data/chorus.db postgresql://user:pw@host/db\n")
        return 2
    logging.basicConfig(level=logging.WARNING)
    try:
        jobs, guilds = asyncio.run(copy_sqlite_to_postgres(args[0], args[1]))
    except TargetNotEmptyError as exc:
        sys.stderr.write(f"not copied: {exc}\n")
        return 1
    sys.stdout.write(f"copied {jobs} job(s) and {guilds} guild(s) to {describe_url(args[1])}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

