"""`python -m bot.store.to_postgres SQLITE POSTGRES`: copy a stopped bot's SQLite database into an empty PostgreSQL one.

Jobs keep their ids (so buttons on songs already posted keep working), their CometAPI task ids (so jobs in flight
are polled by the new processes) and their delivery state (so pending posts are made, once: each keeps its nonce).
Guild settings, personas and everything members made together (likes, deleted songs, battles and their votes,
challenges with their entries and votes, jams, song-of-the-day features) are copied with their ids too: every table
of `bot.store.schema` is, except the process-local ones (heartbeats and IDENTIFY turns: claims of the old process
are then taken over at once). A SQLite file of an older Chorus is brought up to date first, as the bot would.
Stop the bot first: a copy of a database that is still being written is a copy of the past.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.database_url import describe_url, is_postgres, sqlite_path

from . import schema
from .database import Database
from .factory import engine_url

log = logging.getLogger(__name__)

# Rows that belong to the processes that wrote them, not to the bot's history.
PROCESS_LOCAL = frozenset({"workers", "turns"})
# Every other table, parents before the tables that refer to them.
COPIED = tuple(table for table in schema.metadata.sorted_tables if table.name not in PROCESS_LOCAL)
# Counted apart in the report; every other copied row is a "persona and community row".
REPORTED_APART = ("jobs", "guild_settings")
BATCH = 1000  # rows per INSERT


class TargetNotEmptyError(Exception):
    """The PostgreSQL database already holds jobs or settings: copying would mix two bots' histories."""


async def copy_sqlite_to_postgres(sqlite_url: str, postgres_url: str) -> tuple[int, int, int]:
    """Copy every row of every copied table in one PostgreSQL transaction; return (jobs, guilds, other rows)
    copied."""
    source = await Database.open_sqlite(sqlite_path(sqlite_url))  # also brings an old file's schema up to date
    try:
        target = await Database.open_postgres(engine_url(postgres_url), max_size=1)
        try:
            async with source.connect() as reading, target.transaction() as writing:
                if await _holds_rows(writing):
                    raise TargetNotEmptyError(
                        f"{describe_url(postgres_url)} already has jobs, settings or community rows"
                    )
                copied = {table.name: await _copy(table, reading, writing) for table in COPIED}
                counters = await _autoincrement_counters(reading)
                for table in schema.IDENTITY_TABLES:  # new rows continue after the copied ids
                    await _continue_after(writing, table, counters.get(table.name))
        finally:
            await target.close()
    finally:
        await source.close()
    others = sum(count for name, count in copied.items() if name not in REPORTED_APART)
    return copied["jobs"], copied["guild_settings"], others


async def _holds_rows(conn: AsyncConnection) -> bool:
    """Whether any copied table of the target has a row."""
    for table in COPIED:
        if (await conn.execute(sa.select(sa.exists().select_from(table)))).scalar():
            return True
    return False


async def _copy(table: sa.Table, reading: AsyncConnection, writing: AsyncConnection) -> int:
    """Insert the source's rows of `table` into the target, in primary-key order (so a job's parent, always an
    earlier job, is there before it), in batches; return how many."""
    flags = [column.name for column in table.c if isinstance(column.type, sa.Boolean)]  # SQLite's 0/1
    result = await reading.stream(sa.select(table).order_by(*table.primary_key.columns))
    count = 0
    async for batch in result.partitions(BATCH):
        rows = [_with_flags(dict(row._mapping), flags) for row in batch]
        await writing.execute(sa.insert(table), rows)
        count += len(rows)
    log.info("copied %d row(s) of %s", count, table.name)
    return count


def _with_flags(row: dict[str, Any], flags: list[str]) -> dict[str, Any]:
    for name in flags:
        if row[name] is not None:
            row[name] = bool(row[name])
    return row


async def _autoincrement_counters(conn: AsyncConnection) -> dict[str, int]:
    """The highest id SQLite's AUTOINCREMENT handed out per table: above the highest row left when the newest rows
    were deleted (personas), and never to be handed out again."""
    rows = await conn.execute(sa.text("SELECT name, seq FROM sqlite_sequence"))
    return {str(name): int(seq) for name, seq in rows}


async def _continue_after(conn: AsyncConnection, table: sa.Table, counter: int | None) -> None:
    """Move the sequence behind `table.id` past the copied ids (and past the source's own counter)."""
    highest = (await conn.execute(sa.select(sa.func.max(table.c.id)))).scalar()
    last = max(highest or 0, counter or 0)
    sequence = sa.func.pg_get_serial_sequence(table.name, "id")
    await conn.execute(sa.select(sa.func.setval(sequence, max(last, 1), last > 0)))


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
