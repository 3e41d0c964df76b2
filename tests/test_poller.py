"""The batch poller and the courier with the real client, the simulator over HTTP and a real SQLite store."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from bot.cometapi import SunoMusicRequest, UdioRequest
from bot.core.courier import Courier, CourierConfig, Delivered, PermanentDeliveryError
from bot.core.jobs import JobService, lyrics_job, suno_job, udio_job
from bot.core.poller import TIMED_OUT_REASON, CycleReport, Poller, PollerConfig
from bot.simulator import Fault, ManualClock, SimulatorServer, Timings
from bot.store import Job, open_store
from tests.conftest import ALICE, API_KEY, new_job, relax_limits

SONG = SunoMusicRequest(mv="chirp-crow", description="an anthem for our server")


class Inbox:
    """The delivery callback under test: records what it was handed, fails when told to."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.fail_with: Exception | None = None
        self.arrived = asyncio.Event()

    async def __call__(self, job: Job) -> Delivered:
        if self.fail_with is not None:
            raise self.fail_with
        self.jobs.append(job)
        self.arrived.set()
        return Delivered(channel_id=job.channel_id, message_id=10_000 + job.id)

    @property
    def ids(self) -> list[int]:
        return [job.id for job in self.jobs]


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


COURIER = CourierConfig(lease=60.0)


class Pipeline:
    """The poller and the courier as the bot wires them, stepped by hand: one poll cycle, then one delivery
    round (the bot runs them as two loops, so posting never holds up polling)."""

    def __init__(self, store, api, inbox, config, clock, **poller_options: Any) -> None:
        self.courier = Courier(store, inbox, COURIER, now=clock)
        self.poller = Poller(store, api, config, now=clock, on_finished=self.courier.wake, **poller_options)

    async def run_cycle(self) -> CycleReport:
        report = await self.poller.run_cycle()
        self.delivered = await self.courier.run_once()
        return report


@pytest.fixture
def config() -> PollerConfig:
    return PollerConfig(interval=1.0, batch_size=5, deadline=600.0, max_backoff=60.0)


@pytest.fixture
def poller(store, cometapi, inbox, config, clock) -> Pipeline:
    return Pipeline(store, cometapi, inbox, config, clock)


async def service_for(store, api) -> JobService:
    """The real service, with ALICE's guild allowing as many jobs as a test submits."""
    assert ALICE.guild_id is not None
    await relax_limits(store, ALICE.guild_id)
    return JobService(store, api)


@pytest.fixture
async def service(store, cometapi) -> JobService:
    return await service_for(store, cometapi)


async def submit_many(service: JobService, n: int, request: SunoMusicRequest = SONG) -> list[Job]:
    return [await service.submit(suno_job(request, ALICE)) for _ in range(n)]


async def test_no_calls_when_nothing_is_pending(poller, simulator):
    """An idle cycle makes zero CometAPI calls."""
    report = await poller.run_cycle()
    assert (report.in_flight, report.calls) == (0, 0)
    assert simulator.requests == []


@pytest.mark.parametrize("n", [1, 5, 23])
async def test_n_jobs_cost_ceil_n_over_chunk_calls(poller, service, simulator, config, n):
    """N pending jobs are fetched with ⌈N/chunk⌉ batch calls, never one per job."""
    await submit_many(service, n)
    simulator.reset_log()
    report = await poller.run_cycle()
    assert report.calls == math.ceil(n / config.batch_size)
    assert simulator.count("batch_fetch") == math.ceil(n / config.batch_size)
    assert simulator.count("fetch") == 0
    assert sorted(len(r.body["ids"]) for r in simulator.requests_to("batch_fetch"))[-1] <= config.batch_size


async def test_groups_by_provider_and_action(poller, service, simulator):
    """Each provider and action is batched separately: suno MUSIC, suno LYRICS, udio."""
    await submit_many(service, 7)
    for _ in range(3):
        await service.submit(lyrics_job("stars", ALICE))
    for _ in range(6):
        await service.submit(udio_job(UdioRequest(prompt="lofi"), ALICE))
    simulator.reset_log()
    await poller.run_cycle()
    actions = sorted(r.body["action"] for r in simulator.requests_to("batch_fetch"))
    assert actions == ["LYRICS", "MUSIC", "MUSIC"]
    assert simulator.count("udio_query") == 2


async def test_finished_jobs_are_delivered_exactly_once(poller, service, store, inbox):
    """A finished job is handed to delivery once, recorded as delivered, and never again."""
    jobs = await submit_many(service, 3)
    await poller.run_cycle()
    await poller.run_cycle()
    assert sorted(inbox.ids) == [job.id for job in jobs]
    for job in jobs:
        saved = await store.get(job.id)
        assert (saved.state, saved.delivery, saved.delivered_message_id) == ("succeeded", "delivered", 10_000 + job.id)
    delivered = inbox.jobs[0]
    assert delivered.result is not None
    assert len(delivered.result["clips"]) == 2


async def test_failed_job_is_delivered_with_its_reason(poller, service, inbox):
    """A failed generation is reported, with CometAPI's reason."""
    await service.submit(suno_job(SunoMusicRequest(mv="chirp-crow", description="[fail] oops"), ALICE))
    await poller.run_cycle()
    assert [job.state for job in inbox.jobs] == ["failed"]
    assert "moderation" in (inbox.jobs[0].error or "")


async def test_second_cycle_after_everything_finished_is_free(poller, service, simulator):
    """Once every job is finished, polling stops costing calls."""
    await submit_many(service, 4)
    await poller.run_cycle()
    simulator.reset_log()
    await poller.run_cycle()
    assert simulator.requests == []


@pytest.fixture
async def slow_simulator():
    sim_clock = ManualClock()
    async with SimulatorServer(api_key=API_KEY, timings=Timings(), clock=sim_clock, shutdown_timeout=0.2) as sim:
        sim.clock = sim_clock  # type: ignore[attr-defined]
        yield sim


@pytest.fixture
async def slow_parts(slow_simulator, http_session, store, inbox, config, clock, sleeps):
    from pydantic import SecretStr

    from bot.cometapi import CometAPI
    from tests.conftest import FAST_RETRY, FAST_TIMEOUTS

    api = CometAPI(http_session, SecretStr(API_KEY), base_url=slow_simulator.url, retry=FAST_RETRY,
                   timeouts=FAST_TIMEOUTS, sleep=sleeps)
    updates: list[Any] = []

    async def on_progress(batch):
        updates.extend(batch)

    poller = Pipeline(store, api, inbox, config, clock, on_progress=on_progress)
    return await service_for(store, api), poller, updates


async def test_progress_is_recorded_and_reported(slow_parts, slow_simulator, store):
    """Queued → running → succeeded is followed in the store, and running updates reach the listener."""
    service, poller, updates = slow_parts
    job = await service.submit(suno_job(SONG, ALICE))
    await poller.run_cycle()
    assert (await store.get(job.id)).state == "queued"
    slow_simulator.clock.advance(10)
    await poller.run_cycle()
    running = await store.get(job.id)
    assert running.state == "running"
    assert running.result is not None  # stream URLs and cover art, for early listening
    assert [(u.job_id, u.state) for u in updates] == [(job.id, "running")]
    slow_simulator.clock.advance(60)
    await poller.run_cycle()
    assert (await store.get(job.id)).state == "succeeded"


async def test_deadline_times_a_job_out(slow_parts, store, inbox, clock, config):
    """A job still unfinished after the deadline is given up and reported as timed out."""
    service, poller, _ = slow_parts
    job = await service.submit(suno_job(SunoMusicRequest(mv="chirp-crow", description="[hang] forever"), ALICE))
    await poller.run_cycle()
    assert inbox.jobs == []
    clock.advance(config.deadline + 1)
    await poller.run_cycle()
    saved = await store.get(job.id)
    assert (saved.state, saved.error, saved.delivery) == ("timed_out", TIMED_OUT_REASON, "delivered")
    assert inbox.ids == [job.id]


async def test_backoff_on_errors_and_recovery(poller, service, simulator, config):
    """Repeated 5xx doubles the wait between cycles up to the cap; success resets it."""
    await submit_many(service, 2)
    simulator.faults.always("batch_fetch", 503)
    delays = [(await poller.run_cycle()).delay for _ in range(3)]
    assert delays == [config.interval * 2, config.interval * 4, config.interval * 8]
    simulator.faults.clear()
    report = await poller.run_cycle()
    assert (report.errors, report.delay, report.finished, poller.delivered) == (0, config.interval, 2, 2)


async def test_429_waits_what_the_server_said(poller, service, simulator):
    """On 429 the next cycle waits at least the server's Retry-After."""
    await submit_many(service, 1)
    simulator.faults.always("batch_fetch", Fault(429, retry_after=42))
    report = await poller.run_cycle()
    assert report.errors == 1
    assert report.delay >= 42


async def test_a_failing_provider_does_not_block_the_other(poller, service, simulator, inbox):
    """Udio failing does not stop Suno jobs from being delivered."""
    suno = await submit_many(service, 2)
    await service.submit(udio_job(UdioRequest(prompt="lofi"), ALICE))
    simulator.faults.always("udio_query", 503)
    report = await poller.run_cycle()
    assert report.errors == 1
    assert sorted(inbox.ids) == [job.id for job in suno]


async def test_restart_resumes_pending_jobs(db_path, clock, cometapi, config, simulator):
    """Jobs submitted before a restart are polled and delivered by the next process."""
    first_store = await open_store(str(db_path), now=clock)
    jobs = await submit_many(await service_for(first_store, cometapi), 3)
    await first_store.close()  # the bot stops before polling
    second_store = await open_store(str(db_path), now=clock)
    inbox = Inbox()
    try:
        await Pipeline(second_store, cometapi, inbox, config, clock).run_cycle()
    finally:
        await second_store.close()
    assert sorted(inbox.ids) == [job.id for job in jobs]


async def test_crash_mid_delivery_is_redelivered_with_the_same_nonce(db_path, clock, cometapi, config):
    """A process that dies after claiming leaves the job for the next one, which posts with the same nonce."""
    store = await open_store(str(db_path), now=clock)
    job = (await submit_many(await service_for(store, cometapi), 1))[0]

    class CrashingInbox(Inbox):
        async def __call__(self, job: Job) -> Delivered:
            self.jobs.append(job)
            raise asyncio.CancelledError  # the process is killed while posting

    crashing = CrashingInbox()
    with pytest.raises(asyncio.CancelledError):
        await Pipeline(store, cometapi, crashing, config, clock).run_cycle()
    await store.close()
    clock.advance(COURIER.lease + 1)
    store = await open_store(str(db_path), now=clock)
    inbox = Inbox()
    try:
        await Pipeline(store, cometapi, inbox, config, clock).run_cycle()
        saved = await store.get(job.id)
    finally:
        await store.close()
    assert inbox.ids == [job.id]
    assert inbox.jobs[0].nonce == crashing.jobs[0].nonce
    assert (saved.delivery, saved.delivery_attempts) == ("delivered", 2)


async def test_failed_delivery_is_retried_then_abandoned(poller, service, store, inbox, config):
    """A delivery error is retried next cycle, and given up after the attempt limit."""
    job = (await submit_many(service, 1))[0]
    inbox.fail_with = RuntimeError("discord is down")
    for _ in range(COURIER.max_attempts):
        await poller.run_cycle()
    saved = await store.get(job.id)
    assert (saved.delivery, saved.delivery_attempts) == ("abandoned", COURIER.max_attempts)
    assert "discord is down" in saved.delivery_error


async def test_permanent_delivery_error_gives_up_at_once(poller, service, store, inbox):
    """A delivery that can never succeed is abandoned on the first try, with the reason."""
    job = (await submit_many(service, 1))[0]
    inbox.fail_with = PermanentDeliveryError("channel deleted")
    await poller.run_cycle()
    saved = await store.get(job.id)
    assert (saved.delivery, saved.delivery_error) == ("abandoned", "channel deleted")


async def test_background_loops_deliver_and_stop_cleanly(poller, service, inbox, store):
    """start() polls and delivers in the background (the poller wakes the courier); stop() ends both loops, and
    the courier retires its heartbeat."""
    await submit_many(service, 1)
    await poller.courier.start()
    poller.poller.start()
    await asyncio.wait_for(inbox.arrived.wait(), 5)
    assert poller.poller.running and poller.courier.running
    assert [w.owner for w in await store.workers()] == [poller.courier.owner]
    await poller.poller.stop(grace=5)
    await poller.courier.stop(grace=5)
    assert not poller.poller.running and not poller.courier.running
    assert poller.poller.last_cycle_at is not None
    assert await store.workers() == []


async def test_submit_failure_is_recorded(service, store, simulator):
    """A refused submit is stored as submit_failed with the reason, and nothing is polled for it."""
    simulator.faults.script("submit_music", [402])
    from bot.cometapi import InsufficientBalanceError

    with pytest.raises(InsufficientBalanceError):
        await service.submit(suno_job(SONG, ALICE))
    jobs = await store.recent_for_user(ALICE.user_id)
    assert [job.state for job in jobs] == ["submit_failed"]
    assert await store.in_flight() == []


async def test_uncertain_submit_is_recorded_as_maybe_started(service, store, simulator):
    """A submit that timed out after sending is recorded as uncertain, not retried."""
    simulator.faults.script("submit_music", ["hang"])
    from bot.cometapi import APITimeoutError
    from bot.core.jobs import MAYBE_ACCEPTED

    with pytest.raises(APITimeoutError):
        await service.submit(suno_job(SONG, ALICE))
    (job,) = await store.recent_for_user(ALICE.user_id)
    assert (job.state, job.error) == ("submit_failed", MAYBE_ACCEPTED)
    assert simulator.count("submit_music") == 1


async def test_a_job_stuck_in_submitting_is_recovered_by_a_later_cycle(store, cometapi, inbox, config, clock):
    """A restart seconds after a job's intent was written leaves it in `submitting`; a later cycle (not only the
    start) fails it and tells its member, so it holds no concurrency slot forever."""
    stuck = await store.create(new_job())
    clock.advance(10)  # the bot came back quickly: the job is too young to call interrupted yet
    poller = Pipeline(store, cometapi, inbox, config, clock)
    await poller.run_cycle()
    assert (await store.get(stuck.id)).state == "submitting"
    clock.advance(config.submit_grace + 1)
    await poller.run_cycle()
    saved = await store.get(stuck.id)
    assert (saved.state, saved.delivery) == ("submit_failed", "delivered")
    assert inbox.ids == [stuck.id]


async def test_a_submit_in_progress_is_never_recovered(store, cometapi, inbox, config, clock):
    """A job this process is still submitting (a slow CometAPI) is left alone, however old it is."""
    slow = await store.create(new_job())
    poller = Pipeline(store, cometapi, inbox, config, clock, busy_submits=lambda: {slow.id})
    clock.advance(config.submit_grace * 10)
    await poller.run_cycle()
    assert (await store.get(slow.id)).state == "submitting"


async def test_an_outage_longer_than_the_deadline_times_nothing_out(slow_parts, slow_simulator, store, inbox, clock,
                                                                   config):
    """While CometAPI cannot be read, no job is timed out (its status was never seen); when CometAPI is back, the
    song that finished meanwhile is delivered as usual."""
    service, poller, _ = slow_parts
    job = await service.submit(suno_job(SONG, ALICE))
    slow_simulator.faults.always("batch_fetch", 503)
    await poller.run_cycle()
    clock.advance(config.deadline * 3)
    slow_simulator.clock.advance(400)  # the song finishes during the outage
    await poller.run_cycle()
    assert (await store.get(job.id)).state == "queued"
    assert inbox.jobs == []
    slow_simulator.faults.clear()
    await poller.run_cycle()
    saved = await store.get(job.id)
    assert (saved.state, saved.delivery, saved.late) == ("succeeded", "delivered", False)
    assert inbox.ids == [job.id]


async def test_a_song_finishing_after_its_time_out_is_delivered_late(slow_parts, slow_simulator, store, inbox, clock,
                                                                     config):
    """A job seen unfinished past the deadline is reported timed out, then still polled at a slow cadence; when
    the song finishes within the grace period it is delivered once, marked late, under a nonce of its own."""
    service, poller, _ = slow_parts
    job = await service.submit(suno_job(SONG, ALICE))
    await poller.run_cycle()
    clock.advance(config.deadline + 1)
    await poller.run_cycle()  # seen still queued: timed out, and the member is told
    assert [(j.id, j.state) for j in inbox.jobs] == [(job.id, "timed_out")]
    slow_simulator.clock.advance(400)  # CometAPI finishes it after all
    fetched = slow_simulator.count("batch_fetch")
    await poller.run_cycle()
    assert slow_simulator.count("batch_fetch") == fetched  # the slow cadence: not every cycle
    clock.advance(config.late_poll_interval + 1)
    await poller.run_cycle()
    saved = await store.get(job.id)
    assert (saved.state, saved.late, saved.delivery) == ("succeeded", True, "delivered")
    assert [(j.id, j.state) for j in inbox.jobs] == [(job.id, "timed_out"), (job.id, "succeeded")]
    assert inbox.jobs[0].nonce != inbox.jobs[1].nonce
    clock.advance(config.late_poll_interval + 1)
    await poller.run_cycle()
    assert len(inbox.jobs) == 2


async def test_late_polling_stops_after_the_grace_period(slow_parts, slow_simulator, store, inbox, clock, config):
    """A timed-out job is no longer asked about once the grace period (a day by default) is over."""
    service, poller, _ = slow_parts
    await service.submit(suno_job(SONG, ALICE))
    await poller.run_cycle()
    clock.advance(config.deadline + 1)
    await poller.run_cycle()
    clock.advance(config.late_grace + 1)
    fetched = slow_simulator.count("batch_fetch")
    await poller.run_cycle()
    assert slow_simulator.count("batch_fetch") == fetched


async def test_a_slow_delivery_never_holds_up_polling(slow_simulator, http_session, store, config, clock, sleeps):
    """While a song's post hangs (a slow CDN, Discord's per-channel limit), the other jobs are still polled every
    cycle: posting runs apart from the poll loop."""
    import dataclasses

    from pydantic import SecretStr

    from bot.cometapi import CometAPI
    from tests.conftest import FAST_RETRY, FAST_TIMEOUTS

    api = CometAPI(http_session, SecretStr(API_KEY), base_url=slow_simulator.url, retry=FAST_RETRY,
                   timeouts=FAST_TIMEOUTS, sleep=sleeps)
    gate = asyncio.Event()

    class StuckInbox(Inbox):
        async def __call__(self, job: Job) -> Delivered:
            await gate.wait()  # the post does not get through
            return await super().__call__(job)

    inbox = StuckInbox()
    pipeline = Pipeline(store, api, inbox, dataclasses.replace(config, interval=0.02), clock)
    service = await service_for(store, api)
    first = await service.submit(suno_job(SONG, ALICE))
    slow_simulator.clock.advance(400)  # the first song is done
    second = await service.submit(suno_job(SONG, ALICE))  # the second has just started
    await pipeline.courier.start()
    pipeline.poller.start()
    try:
        async def first_is_being_posted():
            return (await store.get(first.id)).delivery == "claimed"

        await eventually_true(first_is_being_posted)
        second_task = (await store.get(second.id)).task_id
        asked = sum(second_task in r.body["ids"] for r in slow_simulator.requests_to("batch_fetch"))
        await asyncio.sleep(0.5)
        asked_later = sum(second_task in r.body["ids"] for r in slow_simulator.requests_to("batch_fetch"))
        assert asked_later >= asked + 5, (asked, asked_later)
        gate.set()
        await asyncio.wait_for(inbox.arrived.wait(), 5)
    finally:
        gate.set()
        await pipeline.poller.stop(grace=5)
        await pipeline.courier.stop(grace=5)
    assert inbox.ids == [first.id]


async def eventually_true(check, within: float = 5.0):
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def _claimed_by(store, job, owner, *, host, pid):
    await store.beat(owner, host=host, pid=pid)
    assert await store.claim_delivery(job.id, owner=owner, lease_seconds=COURIER.lease) is not None


async def test_a_claim_left_by_a_killed_process_is_taken_over_at_once(poller, service, store, inbox):
    """A process killed mid-delivery (SIGKILL: no clean shutdown, its heartbeat still fresh) leaves a claim; on
    this machine its process id is gone, so the next courier takes the job over at once, not after the lease."""
    import socket
    import sys

    job = (await submit_many(service, 1))[0]
    await poller.poller.run_cycle()
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()  # a process id that was alive and is no more
    await _claimed_by(store, job, "killed", host=socket.gethostname(), pid=gone.pid)
    assert await poller.courier.run_once() == 1
    assert inbox.ids == [job.id]
    assert (await store.get(job.id)).delivery_attempts == 2


async def test_a_silent_process_loses_its_claims_after_the_heartbeat_timeout(poller, service, store, inbox, clock):
    """A claim held by a process on another machine stays its own while its heartbeat is fresh, and is taken
    over once that process has been silent for the heartbeat timeout (long before the lease runs out)."""
    job = (await submit_many(service, 1))[0]
    await poller.poller.run_cycle()
    await _claimed_by(store, job, "elsewhere", host="another-machine", pid=1)
    assert await poller.courier.run_once() == 0
    clock.advance(COURIER.heartbeat_timeout + 1)
    assert COURIER.heartbeat_timeout + 1 < COURIER.lease
    assert await poller.courier.run_once() == 1
    assert inbox.ids == [job.id]


async def test_a_slow_delivery_keeps_its_claim_past_the_lease(service, store, cometapi, config, clock):
    """The courier renews its claim while a post takes longer than the lease, so no other process takes it over
    and posts the song a second time."""
    gate = asyncio.Event()

    class SlowInbox(Inbox):
        async def __call__(self, job: Job) -> Delivered:
            await gate.wait()
            return await super().__call__(job)

    inbox = SlowInbox()
    quick = CourierConfig(lease=60.0, renew_every=0.02)
    courier = Courier(store, inbox, quick, now=clock)
    await courier.start()
    try:
        job = (await submit_many(service, 1))[0]
        await Poller(store, cometapi, config, now=clock).run_cycle()
        courier.wake()
        other = Courier(store, Inbox(), quick, now=clock, owner="another-machine:1:x")
        other.host = "another-machine"
        await store.beat(other.owner, host=other.host, pid=1)
        for _ in range(5):  # five minutes of a stuck post, in steps shorter than the lease
            await asyncio.sleep(0.1)
            clock.advance(59)
            for process in (courier, other):  # both processes are alive and say so
                await store.beat(process.owner, host=process.host, pid=process.pid)
            assert await other.run_once() == 0
        gate.set()
        await asyncio.wait_for(inbox.arrived.wait(), 5)
    finally:
        await courier.stop(grace=5)
    saved = await store.get(job.id)
    assert (saved.delivery, saved.delivery_attempts) == ("delivered", 1)


async def test_the_courier_posts_in_order_within_a_channel_and_in_parallel_across_channels(store, clock):
    """Finished jobs of one channel are posted one after another, oldest first; different channels at once."""
    import dataclasses

    from bot.store import JobUpdate

    channels = (2001, 2002, 2003)
    jobs = []
    for n in range(9):
        who = dataclasses.replace(ALICE, channel_id=channels[n % 3])
        job = await store.create(new_job(requester=who))
        await store.mark_submitted(job.id, f"t{n}")
        await store.apply([JobUpdate(job.id, "succeeded", result={})])
        clock.advance(1)  # each finishes a second after the last
        jobs.append(job)
    active: dict[int, int] = {}
    peak = {"channel": 0, "all": 0}
    order: dict[int, list[int]] = {}

    class Recording(Inbox):
        async def __call__(self, job: Job) -> Delivered:
            active[job.channel_id] = active.get(job.channel_id, 0) + 1
            peak["channel"] = max(peak["channel"], active[job.channel_id])
            peak["all"] = max(peak["all"], sum(active.values()))
            order.setdefault(job.channel_id, []).append(job.id)
            await asyncio.sleep(0.02)
            active[job.channel_id] -= 1
            return await super().__call__(job)

    courier = Courier(store, Recording(), COURIER, now=clock)
    assert await courier.run_once() == 9
    assert peak == {"channel": 1, "all": 3}
    assert order == {c: [j.id for j in jobs if j.channel_id == c] for c in channels}


async def test_another_live_bot_in_the_same_process_is_not_taken_for_dead(store, clock):
    """Two couriers in one process (same host and pid) both beating: neither counts the other as dead; an earlier run
    of this process id that fell silent before this one started is dead at once."""
    import os
    import socket

    first = Courier(store, Inbox(), COURIER, now=clock, owner="first")
    second = Courier(store, Inbox(), COURIER, now=clock, owner="second")
    await store.beat("earlier-run", host=socket.gethostname(), pid=os.getpid())
    clock.advance(1)
    await store.beat("first", host=first.host, pid=first.pid)
    await store.beat("second", host=second.host, pid=second.pid)
    assert await first.dead_owners() == {"earlier-run"}
    assert await second.dead_owners() == {"earlier-run"}
