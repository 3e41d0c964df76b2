"""Three pollers (three processes) on one PostgreSQL database, against the simulator: each in-flight job is fetched by
exactly one of them per cycle, and the CometAPI calls stay ⌈N/chunk⌉ per provider and action, plus at most one
partial chunk per process."""

from __future__ import annotations

import asyncio
import math
from collections import Counter

import pytest

from bot.cometapi import SunoMusicRequest, UdioRequest
from bot.core.courier import Courier, CourierConfig, Delivered
from bot.core.jobs import JobService, lyrics_job, suno_job, udio_job
from bot.core.limits import Caps
from bot.core.poller import Poller, PollerConfig
from bot.domain import Job
from bot.simulator import ManualClock, SimulatorServer, Timings
from bot.store import open_store
from tests.conftest import ALICE, API_KEY, relax_limits

BATCH = 10
INTERVAL = 5.0


def fetched_ids(sim: SimulatorServer) -> list[str]:
    """Every task id the simulator was asked about, once per time it was asked."""
    ids: list[str] = []
    for request in sim.requests:
        if request.endpoint == "batch_fetch":
            ids += request.body["ids"]
        elif request.endpoint == "udio_query":
            ids += request.query["ids"].split(",")
    return ids


def fetch_calls(sim: SimulatorServer) -> Counter[str]:
    calls: Counter[str] = Counter()
    for request in sim.requests:
        if request.endpoint == "batch_fetch":
            calls[f"suno/{request.body['action']}"] += 1
        elif request.endpoint == "udio_query":
            calls["udio/MUSIC"] += 1
    return calls


@pytest.fixture
async def slow_simulator():
    """Songs take minutes on a clock nobody moves: every job stays in flight."""
    async with SimulatorServer(api_key=API_KEY, timings=Timings(), clock=ManualClock(), shutdown_timeout=0.2) as sim:
        yield sim


@pytest.fixture
async def processes(postgres_url, clock, cometapi_for):
    """Three 'processes' on one database: each its own store, heartbeat (courier owner) and poller."""
    stores = [await open_store(postgres_url, now=clock) for _ in range(3)]
    pollers = []
    for index, store in enumerate(stores):
        owner = f"process-{index}"
        await store.beat(owner, host="h", pid=index + 1)
        config = PollerConfig(interval=INTERVAL, batch_size=BATCH, deadline=3600)
        pollers.append(Poller(store, cometapi_for, config, now=clock, owner=owner))
    yield stores, pollers
    for store in stores:
        await store.close()


@pytest.fixture
def cometapi_for(slow_simulator, http_session, sleeps):
    from pydantic import SecretStr

    from bot.cometapi import CometAPI
    from tests.conftest import FAST_RETRY, FAST_TIMEOUTS

    return CometAPI(http_session, SecretStr(API_KEY), base_url=slow_simulator.url, retry=FAST_RETRY,
                    timeouts=FAST_TIMEOUTS, sleep=sleeps)


async def submit_mix(store, api, *, suno: int, lyrics: int, udio: int) -> Counter[str]:
    assert ALICE.guild_id is not None
    await relax_limits(store, ALICE.guild_id)
    service = JobService(store, api, caps=Caps(total_in_flight=0, guild_in_flight=0), owner="process-0")
    for _ in range(suno):
        await service.submit(suno_job(SunoMusicRequest(mv="chirp-crow", description="anthem"), ALICE))
    for _ in range(lyrics):
        await service.submit(lyrics_job("stars", ALICE))
    for _ in range(udio):
        await service.submit(udio_job(UdioRequest(prompt="lofi"), ALICE))
    return Counter({"suno/MUSIC": suno, "suno/LYRICS": lyrics, "udio/MUSIC": udio})


async def test_three_pollers_fetch_each_job_once_per_cycle_within_the_call_budget(
    processes, slow_simulator, cometapi_for, clock
):
    """Three processes cycling at once: every in-flight job is fetched exactly once per cycle, and per provider and
    action the calls are at most ⌈N/chunk⌉ plus one partial chunk per process, cycle after cycle."""
    stores, pollers = processes
    groups = await submit_mix(stores[0], cometapi_for, suno=95, lyrics=17, udio=31)
    task_ids = {job.task_id for job in await stores[0].in_flight()}
    for _ in range(3):
        slow_simulator.reset_log()
        reports = await asyncio.gather(*(poller.run_cycle() for poller in pollers))
        fetched = fetched_ids(slow_simulator)
        assert Counter(fetched) == Counter(dict.fromkeys(task_ids, 1))  # each job exactly once this cycle
        calls = fetch_calls(slow_simulator)
        for group, n in groups.items():
            assert calls[group] <= math.ceil(n / BATCH) + len(pollers), group
        for report in reports:  # within a process: one partial chunk at most per group
            assert report.calls == sum(math.ceil(n / BATCH) for n in report.fetched.values())
        assert sum(sum(r.fetched.values()) for r in reports) == len(task_ids)
        assert all(r.fetched for r in reports)  # the work is split: every process fetched a share
        clock.advance(INTERVAL)


async def test_a_cycle_woken_early_fetches_nothing_polled_this_interval(processes, slow_simulator, cometapi_for, clock):
    """A poller woken again within the interval (e.g. by a submit) does not fetch what any process just fetched."""
    stores, pollers = processes
    await submit_mix(stores[0], cometapi_for, suno=12, lyrics=0, udio=0)
    await asyncio.gather(*(poller.run_cycle() for poller in pollers))
    slow_simulator.reset_log()
    clock.advance(INTERVAL / 2)
    reports = await asyncio.gather(*(poller.run_cycle() for poller in pollers))
    assert fetched_ids(slow_simulator) == []
    assert [r.calls for r in reports] == [0, 0, 0]


async def test_a_finished_job_is_delivered_once_by_three_couriers(processes, cometapi_for, clock):
    """Three couriers racing over the same finished jobs: each is handed to exactly one delivery."""
    from bot.domain import JobUpdate

    stores, _ = processes
    await submit_mix(stores[0], cometapi_for, suno=20, lyrics=0, udio=0)
    jobs = await stores[0].in_flight()
    await stores[0].apply([JobUpdate(job.id, "succeeded", progress=100, result={}) for job in jobs])
    delivered: list[int] = []

    async def deliver(job: Job) -> Delivered:
        delivered.append(job.id)
        await asyncio.sleep(0.01)
        return Delivered(job.channel_id, 10_000 + job.id)

    couriers = [Courier(store, deliver, CourierConfig(), now=clock, owner=f"process-{index}")
                for index, store in enumerate(stores)]
    counts = await asyncio.gather(*(courier.run_once() for courier in couriers))
    assert sum(counts) == 20
    assert sorted(delivered) == sorted(job.id for job in jobs)


async def test_cometapis_retry_after_holds_every_process(processes, slow_simulator, cometapi_for, clock,
                                                        postgres_url):
    """One API key, one rate limit: a 429 with Retry-After met by one process holds the others' fetches too, until
    it is over (on real time, as CometAPI counts it)."""
    import asyncpg

    from bot.simulator import Fault

    stores, pollers = processes
    await submit_mix(stores[0], cometapi_for, suno=30, lyrics=0, udio=0)
    slow_simulator.reset_log()
    slow_simulator.faults.script("batch_fetch", [Fault(429, retry_after=30)] * 10)
    met = await pollers[0].run_cycle()
    assert met.errors and met.delay >= 30
    asked = sum(fetch_calls(slow_simulator).values())
    slow_simulator.faults.clear()
    clock.advance(INTERVAL)  # the others' share is due
    waiting = await asyncio.gather(*(poller.run_cycle() for poller in pollers[1:]))
    assert sum(fetch_calls(slow_simulator).values()) == asked  # nothing more was asked while held
    assert all(report.held and 20 < report.delay <= 30 for report in waiting)
    # Thirty seconds later (the hold moved into the past rather than waited for), every process fetches again.
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute("UPDATE turns SET taken_at = clock_timestamp() - interval '1 second'")
    finally:
        await conn.close()
    after = await asyncio.gather(*(poller.run_cycle() for poller in pollers))
    assert not any(report.held for report in after) and sum(report.calls for report in after) > 0


async def test_a_global_discord_rate_limit_holds_every_process_songs_finishing_later_too(processes, cometapi_for,
                                                                                        clock, postgres_url):
    """Discord's global rate limit belongs to the bot token: a global 429 met by one process's courier holds every
    process's posts, songs that finish during the wait included, until it is over."""
    import asyncpg

    from bot.core.courier import RetryLater
    from bot.domain import JobUpdate

    stores, _ = processes
    await submit_mix(stores[0], cometapi_for, suno=2, lyrics=0, udio=0)
    first, later = await stores[0].in_flight()
    await stores[0].apply([JobUpdate(first.id, "succeeded", progress=100, result={})])
    posted: list[int] = []

    async def refused_everywhere(job: Job) -> Delivered:
        raise RetryLater("429 global", retry_after=30.0, everywhere=True)

    async def deliver(job: Job) -> Delivered:
        posted.append(job.id)
        return Delivered(job.channel_id, 10_000 + job.id)

    met = Courier(stores[0], refused_everywhere, CourierConfig(), now=clock, owner="process-0")
    other = Courier(stores[1], deliver, CourierConfig(), now=clock, owner="process-1")
    assert await met.run_once() == 0
    await stores[0].apply([JobUpdate(later.id, "succeeded", progress=100, result={})])  # finishes during the wait
    assert await other.run_once() == 0 and posted == []
    conn = await asyncpg.connect(postgres_url)
    try:  # thirty seconds later: the waits moved into the past rather than waited for
        await conn.execute("UPDATE turns SET taken_at = clock_timestamp() - interval '1 second'")
        await conn.execute("UPDATE jobs SET delivery_not_before = NULL")
    finally:
        await conn.close()
    assert await other.run_once() == 2
    assert sorted(posted) == [first.id, later.id]
