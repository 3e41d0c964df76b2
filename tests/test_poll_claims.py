"""Poll claims (issue 18): a cycle woken early fetches only what is new, on both backends; and processes sharing a
database split the polling in whole batches, so together they make ⌈in flight ÷ batch⌉ fetches per interval."""

from __future__ import annotations

import asyncio
import math

import asyncpg
import pytest

from bot.store import open_store
from tests.conftest import new_job


async def in_flight(store, n: int, *, provider: str = "suno") -> list[int]:
    ids = []
    for index in range(n):
        job = await store.create(new_job(provider))
        await store.mark_submitted(job.id, f"{provider}-{job.id}-{index}")
        ids.append(job.id)
    return ids


@pytest.fixture
def store(store_on_both):
    return store_on_both


async def test_a_claim_within_the_interval_hands_out_only_new_jobs(store, clock):
    """A submit wakes the poller: its early cycle gets the new job alone, not every job again; after the interval
    everything is due once more."""
    await store.beat("me", host="h", pid=1)
    ids = await in_flight(store, 3)
    assert [job.id for job in await store.claim_polls("me", every=5, peers_within=20)] == ids
    clock.advance(1)
    assert await store.claim_polls("me", every=5, peers_within=20) == []
    (fresh,) = await in_flight(store, 1)
    assert [job.id for job in await store.claim_polls("me", every=5, peers_within=20)] == [fresh]
    clock.advance(4)
    assert [job.id for job in await store.claim_polls("me", every=5, peers_within=20)] == ids
    clock.advance(1)
    assert [job.id for job in await store.claim_polls("me", every=5, peers_within=20)] == [fresh]


async def test_processes_split_the_polling_in_whole_batches(postgres_url, clock):
    """Twelve Suno jobs, batches of ten, three processes: one takes a whole batch, one the two left, one nothing,
    so the fetches are ⌈12/10⌉ = 2, not one partial batch per process (3)."""
    stores = [await open_store(postgres_url, now=clock) for _ in range(3)]
    try:
        for index, one in enumerate(stores):
            await one.beat(f"p{index}", host="h", pid=index + 1)
        ids = await in_flight(stores[0], 12)
        await in_flight(stores[0], 3, provider="udio")
        shares = [await one.claim_polls(f"p{index}", every=5, peers_within=20, batch=10)
                  for index, one in enumerate(stores)]
    finally:
        for one in stores:
            await one.close()
    suno = [[job.id for job in share if job.provider == "suno"] for share in shares]
    udio = [[job.id for job in share if job.provider == "udio"] for share in shares]
    assert sorted(job_id for share in suno for job_id in share) == ids
    assert [len(share) for share in suno] == [10, 2, 0]
    assert [len(share) for share in udio] == [3, 0, 0]
    fetches = sum(math.ceil(len(share) / 10) for share in suno + udio)
    assert fetches == math.ceil(12 / 10) + math.ceil(3 / 10)


async def test_a_claim_held_up_mid_transaction_is_stamped_when_it_hands_the_jobs_out(postgres_url):
    """On PostgreSQL a claim is judged and stamped on the database's clock. A claim transaction held up after it
    began (here: waiting for a lock; in production a busy process between its statements) must stamp the jobs with
    when it handed them out, not when it began: stamped earlier, they look polled before their fetch, and another
    process takes them again within the interval (seen as a job fetched twice 0.3 s apart with a 1 s interval)."""
    store = await open_store(postgres_url)  # the database's own clock, as in production
    blocker, watcher = await asyncpg.connect(postgres_url), await asyncpg.connect(postgres_url)
    try:
        await store.beat("me", host="h", pid=1)
        (job_id,) = await in_flight(store, 1)
        hold = blocker.transaction()
        await hold.start()
        await blocker.execute("LOCK TABLE workers IN ACCESS EXCLUSIVE MODE")  # the claim's first read waits for it
        claiming = asyncio.create_task(store.claim_polls("me", every=5, peers_within=20, batch=10))
        for _ in range(500):
            # (asked on a connection of its own: inside a transaction the activity view is read once and kept)
            if await watcher.fetchval("SELECT count(*) FROM pg_stat_activity"
                                      " WHERE wait_event_type = 'Lock' AND query ILIKE '%workers%'"):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the claim never waited for the lock")
        released_at = await blocker.fetchval("SELECT extract(epoch FROM clock_timestamp())::float8")
        await hold.commit()
        (claimed,) = await asyncio.wait_for(claiming, 10)
        stamped = await blocker.fetchval("SELECT polled_at FROM jobs WHERE id = $1", job_id)
    finally:
        await blocker.close()
        await watcher.close()
        await store.close()
    assert claimed.id == job_id
    assert stamped >= released_at
