"""A database restart is ridden out (issue 18): a bot started while PostgreSQL is down waits for it, saying so once,
and a store whose database drops every connection for a moment carries on once it is back. PostgreSQL only (a
SQLite file does not go away); the outage is a loopback proxy in front of the test cluster, closed and reopened."""

from __future__ import annotations

import asyncio
import logging
import re
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import sqlalchemy as sa

from bot.domain import Usage
from bot.store import DatabaseUnavailableError, open_store
from bot.store.dialects import ADMIT, lock_key
from bot.ui.replies import APOLOGY, DATABASE_RESTARTING, describe
from tests.conftest import ALICE, new_job
from tests.tcp_proxy import TcpProxy


@pytest.fixture
async def proxy(postgres_url):
    parts = urlsplit(postgres_url)
    running = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    running.url = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{running.port}"))  # type: ignore[attr-defined]
    yield running
    await running.close()


async def test_start_up_waits_for_the_database_and_says_so_once(proxy, caplog):
    """Opened while nothing listens on the database's port, the store keeps trying; once the port opens it is
    migrated and usable. The wait is logged once, not once per attempt."""
    caplog.set_level(logging.WARNING, logger="bot.store")
    opening = asyncio.create_task(open_store(proxy.url))
    await asyncio.sleep(1.5)
    assert not opening.done(), "the store gave up (or went on) while the database was down"
    await proxy.open()
    store = await asyncio.wait_for(opening, 20)
    try:
        job = await store.create(new_job())
        assert await store.get(job.id) is not None
    finally:
        await store.close()
    waits = [record for record in caplog.records if "not reachable" in record.getMessage()]
    assert len(waits) == 1


async def test_a_short_outage_is_waited_out(proxy):
    """The database drops every connection and refuses new ones for two seconds: a job recorded meanwhile is
    recorded once it is back, and the store keeps working."""
    await proxy.open()
    store = await open_store(proxy.url)
    try:
        await store.create(new_job())
        await proxy.close()
        recording = asyncio.create_task(store.create(new_job()))
        reading = asyncio.create_task(store.in_flight())
        await asyncio.sleep(2)
        await proxy.open()
        job = await asyncio.wait_for(recording, 20)
        await asyncio.wait_for(reading, 20)
        assert (await store.get(job.id)).state == "submitting"
        assert len(await store.recent_for_user(job.user_id, limit=10)) == 2
    finally:
        await store.close()



async def test_a_database_starting_up_is_waited_for(proxy):
    """Right after a crash PostgreSQL accepts connections but refuses them while it recovers ("the database system
    is starting up", SQLSTATE 57P03): that is the restart too, waited for at start-up and while running."""
    await proxy.open(starting_up=True)
    opening = asyncio.create_task(open_store(proxy.url))
    await asyncio.sleep(1)
    assert not opening.done(), "the store gave up (or went on) while the database was starting up"
    await proxy.open()
    store = await asyncio.wait_for(opening, 20)
    try:
        await store.create(new_job())
        await proxy.close()
        await proxy.open(starting_up=True)
        recording = asyncio.create_task(store.create(new_job()))
        await asyncio.sleep(1)
        await proxy.open()
        job = await asyncio.wait_for(recording, 20)
        assert (await store.get(job.id)).state == "submitting"
    finally:
        await store.close()


async def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(proxy, caplog):
    """Many calls wait through one outage: the log says the database is not reachable once, when the outage starts
    (not once per call), and once that it is back, with how long it was away."""
    await proxy.open()
    store = await open_store(proxy.url)
    try:
        await store.create(new_job())
        caplog.set_level(logging.INFO, logger="bot.store")
        await proxy.close()
        calls: list[asyncio.Future[object]] = [asyncio.ensure_future(store.create(new_job())) for _ in range(3)]
        calls += [asyncio.ensure_future(store.in_flight()) for _ in range(3)]
        await asyncio.sleep(1.5)
        await proxy.open()
        await asyncio.wait_for(asyncio.gather(*calls), 20)
        await store.in_flight()
    finally:
        await store.close()
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("bot.store")]
    assert len([line for line in lines if "not reachable" in line]) == 1, lines
    back = [line for line in lines if "reachable again" in line]
    assert len(back) == 1, lines
    assert re.search(r"after \d+(\.\d)? ?s", back[0]), back


def admit_all(_usage: Usage, _now: float) -> None:
    """Admission that lets everything through (the reservation's transaction, with its advisory locks)."""


async def jobs_recorded(postgres_url: str) -> int:
    conn = await asyncpg.connect(postgres_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM jobs"))
    finally:
        await conn.close()


async def test_a_reservation_cut_off_mid_statement_is_made_once_the_database_is_back(proxy, postgres_url):
    """The database goes away while a reservation's transaction is in the middle of a statement (here waiting for
    its server's admission lock), as in a crash mid-burst: nothing of it was kept, so it is made again once the
    database is back, and recorded once."""
    await proxy.open()
    store = await open_store(proxy.url)
    holder, watcher = await asyncpg.connect(postgres_url), await asyncpg.connect(postgres_url)
    try:
        hold = holder.transaction()
        await hold.start()
        await holder.execute("SELECT pg_advisory_xact_lock($1, $2)", ADMIT, lock_key(f"guild:{ALICE.guild_id}"))
        reserving = asyncio.create_task(store.create(new_job(), admit_all))
        for _ in range(500):
            if await watcher.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory'"):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the reservation never waited for its lock")
        await proxy.close()  # cut mid-statement
        await hold.rollback()
        await asyncio.sleep(0.5)
        await proxy.open()
        job = await asyncio.wait_for(reserving, 20)
        assert job.state == "submitting"
        assert await jobs_recorded(postgres_url) == 1
    finally:
        await holder.close()
        await watcher.close()
        await store.close()


async def test_a_reservation_whose_commit_was_cut_off_is_not_made_twice(proxy, postgres_url):
    """The connection is cut in the middle of the reservation's COMMIT: the server committed, the bot never heard.
    The store asks the database what became of that transaction and keeps the job it recorded, rather than
    recording (and so reserving) it a second time."""
    await proxy.open()
    store = await open_store(proxy.url)
    try:
        proxy.lose_next_commit_answer()
        job = await asyncio.wait_for(store.create(new_job(), admit_all), 20)
        assert proxy.commits_cut == 1
        assert await jobs_recorded(postgres_url) == 1
        assert (await store.get(job.id)) is not None
    finally:
        await store.close()


def test_a_database_that_stays_away_is_told_as_a_restart_never_a_generic_error():
    """When the database stays away longer than a command waits (or a cut connection surfaces anywhere else), the
    member reads that the bot's database is restarting and to try again, not "Something went wrong"."""
    cut = sa.exc.DBAPIError("SELECT 1", None, Exception("connection was closed in the middle of operation"),
                            connection_invalidated=True)
    for error in (DatabaseUnavailableError("the database did not come back within 20s"), cut):
        said = describe(error)
        assert said == DATABASE_RESTARTING, error
        assert "database is restarting" in said and "try again" in said.lower() and said != APOLOGY
    assert describe(sa.exc.DBAPIError("SELECT 1", None, Exception("syntax error"))) == APOLOGY  # a real bug stays one
