"""Open a PostgreSQL connection pool and bring the schema up to date with versioned migrations.

Processes that start together all try to migrate: each takes a session-level advisory lock first, so one
applies the migrations and the others find them applied when the lock comes to them.
"""

from __future__ import annotations

import logging
import re
from importlib import resources
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)

# A connection of our own or one borrowed from the pool: both run queries and transactions alike.
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

# The time in a statement: $1 of every statement that uses it is the injected clock (tests) or NULL, which stands for
# the database's clock (`now()`, the start of the transaction).
NOW = "COALESCE($1::float8, extract(epoch FROM now())::float8)"

_MIGRATION_NAME = re.compile(r"^V(\d{3})__[a-z0-9_]+\.sql$")

# Advisory lock keys (pg_advisory_lock(namespace, key)): one namespace per use, all within Chorus's class id.
MIGRATION_LOCK = (0x43484F, 1)  # "CHO": the migrations
ADMIT_NAMESPACE = 0x43485  # per guild (key: its id's hash) around the limit check and insert; key 0: bot-wide
SETTINGS_NAMESPACE = 0x43486  # per guild, around a read-modify-write of its settings
TURN_NAMESPACE = 0x43487  # per turn key (Discord IDENTIFY buckets)
# Per community race (key: the hash of e.g. "like:<song>:<member>", "challenge:<guild>"): a member's presses of one
# button, or a guild's challenge starts, one at a time.
COMMUNITY_NAMESPACE = 0x43488


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every bundled migration, in order."""
    found = []
    for entry in resources.files("bot.store.postgres.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def connect(dsn: str, *, max_size: int = 10) -> asyncpg.Pool[asyncpg.Record]:
    """Open a pool on `dsn` and migrate the database."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=max_size, command_timeout=60)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
    except BaseException:
        await pool.close()
        raise
    return pool


async def migrate(conn: Connection) -> list[int]:
    """Apply the migrations this database has not seen yet, each in its own transaction; return them.

    Holds an advisory lock throughout, so two processes starting together never apply one twice.
    """
    await conn.execute("SELECT pg_advisory_lock($1, $2)", *MIGRATION_LOCK)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        applied: list[int] = []
        for version, name, sql in migrations():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)  # the simple query protocol runs a whole file of statements
                await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name)
            log.info("applied database migration %s", name)
            applied.append(version)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1, $2)", *MIGRATION_LOCK)
