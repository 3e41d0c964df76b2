"""A write transaction cancelled midway (a loop stopped, a command given up) leaves the database writable.

On SQLite a cancel that lands while a statement runs used to leave the pooled connection's write lock held: SQLAlchemy
invalidates the connection, but SQLite only closes it once every statement it prepared is finalized, and the
cancelled statement lives on in the CancelledError's traceback (which asyncio keeps with the task). Every later write,
from this process or another, then waited out the busy timeout and failed with "database is locked". The store rolls
the transaction back before the connection goes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
import sqlalchemy as sa

from bot.database_url import is_postgres, sqlite_path
from bot.store.database import Database
from bot.store.factory import engine_url


@pytest.fixture
async def database(store_url):
    if is_postgres(store_url):
        opened = await Database.open_postgres(engine_url(store_url))
    else:
        opened = await Database.open_sqlite(sqlite_path(store_url))
    async with opened.transaction() as conn:
        await conn.execute(sa.text("CREATE TABLE scratch (x INTEGER)"))
    yield opened
    await opened.close()


async def _hold_statement(conn, entered: threading.Event, release: threading.Event) -> None:
    """Run a statement that stays inside the database until `release` (SQLite: a function of ours in the query;
    PostgreSQL: a sleep), signalling `entered` once it runs."""
    if conn.dialect.name == "sqlite":
        def hold() -> int:
            entered.set()
            release.wait(10)
            return 1

        raw = await conn.get_raw_connection()
        await raw.driver_connection.create_function("hold", 0, hold)
        await conn.execute(sa.text("SELECT hold()"))
    else:
        entered.set()  # close enough: the cancel lands in the sleep or just before it
        await conn.execute(sa.text("SELECT pg_sleep(10)"))


def _free_for_another_process(path) -> bool:
    """Whether another process could take the write lock right now (no waiting)."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


@pytest.mark.parametrize("moment", ["in a statement", "between statements"])
async def test_a_transaction_cancelled_midway_leaves_the_database_writable(database, store_url, moment):
    entered, release = threading.Event(), threading.Event()

    async def writer() -> None:
        async with database.transaction() as conn:
            await conn.execute(sa.text("INSERT INTO scratch VALUES (1)"))
            if moment == "in a statement":
                await _hold_statement(conn, entered, release)
            else:
                entered.set()
                await asyncio.sleep(10)

    task = asyncio.create_task(writer())
    await asyncio.to_thread(entered.wait, 10)
    await asyncio.sleep(0.1)
    task.cancel()
    release.set()
    outcome = await asyncio.gather(task, return_exceptions=True)  # kept, as asyncio keeps a cancelled task's error
    assert isinstance(outcome[0], asyncio.CancelledError)

    if not is_postgres(store_url):
        assert _free_for_another_process(sqlite_path(store_url)), "a cancelled transaction still holds the write lock"

    async def another_write() -> None:
        async with database.transaction() as conn:
            await conn.execute(sa.text("INSERT INTO scratch VALUES (2)"))

    await asyncio.create_task(another_write())  # fails with "database is locked" if the lock is still held
    async with database.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT x FROM scratch ORDER BY x"))).scalars().all()
    assert rows == [2]  # the cancelled write was rolled back, the later one kept
    del outcome
