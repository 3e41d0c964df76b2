"""A database restart is ridden out (issue 18): a bot started while PostgreSQL is down waits for it, saying so once,
and a store whose database drops every connection for a moment carries on once it is back. PostgreSQL only (a
SQLite file does not go away); the outage is a loopback proxy in front of the test cluster, closed and reopened."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.store import open_store
from tests.conftest import new_job
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
