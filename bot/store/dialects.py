"""Where SQLite and PostgreSQL genuinely differ, each difference named once.

The store's queries are one set, built from `schema`; what a query needs that the two backends do differently comes
from here:
- **the clock**: SQLite serves one process, so its clock is that process's; PostgreSQL is shared, so every time is
  the database server's (`now()`), which all processes agree on (`now`);
- **locks**: on SQLite one process writes, one transaction at a time (a process-wide write lock and `BEGIN
  IMMEDIATE`), so a check and the write that follows cannot be raced; on PostgreSQL the same check holds a
  transaction-scoped advisory lock, so two processes take turns (`lock`);
- **sharing**: whether other processes may work on the same rows (poll claims, IDENTIFY turns) (`shared`);
- **upserts**: `INSERT … ON CONFLICT` comes from each dialect's own `insert` (same API, different classes);
- **byte order**: the collation that sorts names the same on both (`binary_collation`);
- **id lists**: PostgreSQL takes one array parameter, SQLite a list of placeholders (`ids_in`);
- **JSON fields**: PostgreSQL's `->>`, SQLite's `json_extract` (which SQLite before 3.38 needs) (`json_text`).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

Clock = Callable[[], float]

# Advisory lock namespaces (pg_advisory_xact_lock(namespace, key)), all within Chorus's class id "CHO".
MIGRATION_LOCK = (0x43484F, 1)
ADMIT = 0x43485  # per guild around the limit check and insert; key 0: bot-wide
SETTINGS = 0x43486  # per guild, around a read-modify-write of its settings
TURN = 0x43487  # per turn key (Discord IDENTIFY buckets)
COMMUNITY = 0x43488  # per community race: a member's presses of one button, a guild's challenge starts

# SQLite binds at most 32,766 values in one statement; id lists are sent in chunks well below that.
SQLITE_CHUNK = 500


def lock_key(key: str | int) -> int:
    """A stable 32-bit signed key for an advisory lock (the same in every process)."""
    return zlib.crc32(str(key).encode()) - 2**31


@dataclass(frozen=True)
class Backend:
    """What one backend does its own way (see the module's docstring)."""

    name: str
    shared: bool
    binary_collation: str
    injected_clock: Clock | None

    def now(self) -> sa.ColumnElement[float]:
        """The store's time as a SQL value: the injected clock (tests), this process's clock on SQLite, or the
        database's `now()` (the start of the transaction) on PostgreSQL."""
        if self.injected_clock is not None:
            return sa.literal(self.injected_clock(), sa.Double())
        if self.shared:
            return sa.cast(sa.extract("epoch", sa.func.now()), sa.Double())
        return sa.literal(time.time(), sa.Double())

    def statement_now(self) -> sa.ColumnElement[float]:
        """Like `now`, but on PostgreSQL the time the statement runs (`clock_timestamp()`), not when its transaction
        began: for a stamp that must not look older than the work it records (a poll claim held up mid-transaction
        would otherwise look handed out before it was)."""
        if self.shared and self.injected_clock is None:
            return sa.cast(sa.extract("epoch", sa.func.clock_timestamp()), sa.Double())
        return self.now()

    def local_now(self) -> float | None:
        """The store's time when this process knows it without asking the database (None on PostgreSQL)."""
        if self.injected_clock is not None:
            return self.injected_clock()
        if self.shared:
            return None
        return time.time()

    def insert(self, table: sa.Table) -> Any:
        """An INSERT with `.on_conflict_do_nothing()` / `.on_conflict_do_update()`."""
        return postgresql.insert(table) if self.shared else sqlite.insert(table)

    async def lock(self, conn: AsyncConnection, namespace: int, *keys: str | int) -> None:
        """Hold advisory locks until the transaction ends (PostgreSQL); SQLite's write transaction already excludes
        every other writer."""
        if not self.shared:
            return
        for key in keys:
            await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(namespace, lock_key(key))))

    def ids_in(self, column: sa.ColumnElement[int], ids: Sequence[int]) -> list[sa.ColumnElement[bool]]:
        """Conditions that together select `column IN ids`: one per chunk on SQLite, one array on PostgreSQL."""
        if self.shared:
            return [column == sa.any_(sa.literal(list(ids), postgresql.ARRAY(sa.BigInteger())))]
        return [column.in_(ids[start : start + SQLITE_CHUNK]) for start in range(0, len(ids), SQLITE_CHUNK)]

    def json_text(self, column: sa.ColumnElement[Any], key: str) -> sa.ColumnElement[str]:
        """One top-level field of a JSON column as text (`key` is one of our own names)."""
        if not key.isidentifier():
            raise ValueError(f"not a field name: {key!r}")
        if self.shared:
            return column.op("->>", return_type=sa.Text)(sa.literal_column(f"'{key}'"))
        return sa.func.json_extract(column, f"$.{key}", type_=sa.Text)

    def not_among(self, column: sa.ColumnElement[str], values: Collection[str]) -> sa.ColumnElement[bool]:
        """`column` is not one of `values` (true for an empty list)."""
        return sa.true() if not values else column.not_in(sorted(values))


def sqlite_backend(clock: Clock | None) -> Backend:
    """The embedded default: one process, its clock, no advisory locks."""
    return Backend(name="sqlite", shared=False, binary_collation="BINARY", injected_clock=clock)


def postgres_backend(clock: Clock | None) -> Backend:
    """Several processes on one database: the database's clock, advisory locks, SKIP LOCKED claims."""
    return Backend(name="postgresql", shared=True, binary_collation="C", injected_clock=clock)
