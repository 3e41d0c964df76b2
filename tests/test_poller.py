"""The batch poller and the courier with the real client, the simulator over HTTP and a real SQLite store."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import sys
import time
from typing import Any

import pytest

from bot.cometapi import SunoMusicRequest, UdioRequest
from bot.core.courier import Courier, CourierConfig, Delivered, PermanentDeliveryError, RetryLater, this_host
from bot.core.jobs import JobService, lyrics_job, suno_job, udio_job
from bot.core.poller import TIMED_OUT_REASON, CycleReport, Poller, PollerConfig
from bot.domain import Job
from bot.simulator import Fault, ManualClock, SimulatorServer, Timings
from bot.store import JobStore, open_store
from tests.conftest import ALICE, API_KEY, new_job, relax_limits
from tests.timing import ManualTimer

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

    def __init__(self, store, api, inbox, config, clock, *, timer=None, **poller_options: Any) -> None:
        self.timer = timer  # the loops' time (a ManualTimer, or None: real time)
        self.courier = Courier(store, inbox, COURIER, now=clock, timer=timer)
        self.poller = Poller(store, api, config, now=clock, on_finished=self.courier.wake, timer=timer,
                             **poller_options)

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

    # The loops' time is moved by hand: a provider whose polls failed rests until it has passed.
    poller = Pipeline(store, api, inbox, config, clock, on_progress=on_progress, timer=ManualTimer())
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


async def test_backoff_on_errors_and_recovery(store, cometapi, inbox, service, simulator, config, clock):
    """Repeated 5xx doubles the wait between cycles up to the cap; success resets it. A cycle that comes sooner (a
    wake) does not ask the failing provider before its wait is over."""
    timer = ManualTimer()
    poller = Pipeline(store, cometapi, inbox, config, clock, timer=timer)
    await submit_many(service, 2)
    simulator.faults.always("batch_fetch", 503)
    delays = []
    for _ in range(3):
        delays.append((await poller.run_cycle()).delay)
        assert (await poller.run_cycle()).calls == 0  # woken at once: still resting
        await timer.advance(delays[-1])
    assert delays == [config.interval * 2, config.interval * 4, config.interval * 8]
    simulator.faults.clear()
    report = await poller.run_cycle()
    assert (report.errors, report.delay, report.finished, poller.delivered) == (0, config.interval, 2, 2)


async def test_a_failing_provider_rests_alone_while_the_other_is_polled_at_the_interval(store, cometapi, service,
                                                                                       simulator, config, inbox):
    """Udio's polls fail (503) again and again: Udio rests on a backoff of its own (asked at 0, 2 and 6 s), while the
    Suno songs asked for meanwhile are fetched at every cycle, one interval apart, and posted; once Udio answers
    again its song is posted too. (Before, a Udio outage slowed every Suno song down to the error backoff.)"""
    timer = ManualTimer()  # the loop's time, which the rests are kept on
    poller = Pipeline(store, cometapi, inbox, config, time.time, timer=timer)
    udio = await service.submit(udio_job(UdioRequest(prompt="lofi"), ALICE))
    simulator.faults.always("udio_query", 503)
    simulator.reset_log()
    suno_songs, udio_asked = [], []
    for second in range(7):
        suno_songs.append(await service.submit(suno_job(SONG, ALICE)))
        asked_before = simulator.count("udio_query")
        report = await poller.run_cycle()
        udio_asked.append(simulator.count("udio_query") > asked_before)
        assert report.delay == config.interval, f"at {second} s the next cycle was put off to {report.delay} s"
        assert report.resting == ("udio",) and report.fetched["suno/MUSIC"] == 1
        await timer.advance(config.interval)
    assert udio_asked == [True, False, True, False, False, False, True]
    assert sorted(inbox.ids) == sorted(job.id for job in suno_songs)
    simulator.faults.clear()
    await timer.advance(7 * config.interval)  # the rest that began at 6 s (8 s long) is over at 14 s
    report = await poller.run_cycle()
    assert (report.errors, report.resting, report.delay) == (0, (), config.interval)
    assert udio.id in inbox.ids


async def test_429_waits_what_the_server_said(poller, service, simulator):
    """On 429 the next cycle waits at least the server's Retry-After."""
    await submit_many(service, 1)
    simulator.faults.always("batch_fetch", Fault(429, retry_after=42))
    report = await poller.run_cycle()
    assert report.errors == 1
    assert report.delay >= 42


async def test_submits_during_a_429_spell_never_bring_a_fetch_before_the_retry_after(store, cometapi, simulator,
                                                                                    inbox, config, clock):
    """During a spell of 429s with Retry-After: 20, members keep submitting and every submit wakes the poller: no
    batch fetch comes before the 20 s CometAPI asked for, and the next one comes then (a wake may bring a cycle
    forward, never before the Retry-After). The loop's time is a ManualTimer, so 40 s pass in no time."""
    timer = ManualTimer()
    pipeline = Pipeline(store, cometapi, inbox, config, clock, timer=timer)
    assert ALICE.guild_id is not None
    await relax_limits(store, ALICE.guild_id)
    service = JobService(store, cometapi, on_submitted=lambda _job: pipeline.poller.wake())
    simulator.faults.always("batch_fetch", Fault(429, retry_after=20))
    await service.submit(suno_job(SONG, ALICE))
    pipeline.poller.start()
    try:
        async def first_cycle_ended() -> bool:
            return pipeline.poller.loop.last_round_at is not None

        await eventually_true(first_cycle_ended)
        assert simulator.count("batch_fetch") == 1
        for _ in range(19):
            await service.submit(suno_job(SONG, ALICE))  # each submit wakes the poller
            await timer.advance(1.0)
            await asyncio.sleep(0.02)  # room for any fetch a wake brought to reach the simulator
        assert simulator.count("batch_fetch") == 1
        await timer.advance(1.0)  # 20 s after the 429

        async def second_cycle_ended() -> bool:
            return pipeline.poller.loop.last_round_at == timer.now()

        await eventually_true(second_cycle_ended)
        fetched = simulator.count("batch_fetch")
        assert fetched > 1  # 20 jobs now: the cycle's chunks went out together, and were refused together
        simulator.faults.clear()  # the spell ends; the next cycle (again 20 s on: that was a 429 too) gets through
        for _ in range(5):
            await service.submit(suno_job(SONG, ALICE))
            await asyncio.sleep(0.02)
        assert simulator.count("batch_fetch") == fetched
        await timer.advance(20.0)

        async def songs_came_through() -> bool:
            return pipeline.poller.loop.last_round_at == timer.now() and pipeline.poller.last_report.finished > 0

        await eventually_true(songs_came_through)
    finally:
        await pipeline.poller.stop(grace=5)


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


async def test_a_failing_delivery_is_retried_with_backoff_and_given_up_only_by_age(store, cometapi, inbox, config,
                                                                                  service, clock):
    """A delivery that keeps failing is retried after a growing wait (not at every round), never given up for the
    number of attempts, and given up only once the song is a day old, with the reason."""
    timer = ManualTimer()
    pipeline = Pipeline(store, cometapi, inbox, config, clock, timer=timer)
    job = (await submit_many(service, 1))[0]
    inbox.fail_with = RuntimeError("discord is down")
    await pipeline.run_cycle()
    for _ in range(10):  # rounds come every few seconds; the job waits out its backoff
        assert await pipeline.courier.run_once() == 0
    assert (await store.get(job.id)).delivery_attempts == 1
    for _ in range(20):  # twenty hours of failures: far more attempts than any count would allow
        await timer.advance(COURIER.retry_cap)
        clock.advance(3600)
        await pipeline.courier.run_once()
    saved = await store.get(job.id)
    assert (saved.delivery, saved.delivery_attempts) == ("pending", 21)
    clock.advance(COURIER.give_up_after)
    await timer.advance(COURIER.retry_cap)
    await pipeline.courier.run_once()
    saved = await store.get(job.id)
    assert (saved.delivery, saved.delivery_attempts) == ("abandoned", 22)
    assert "discord is down" in saved.delivery_error


class ByChannel(Inbox):
    """Fails each channel's deliveries with the errors queued for it, in order, then delivers."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: dict[int, list[Exception]] = {}
        self.tried: list[tuple[int, float]] = []
        self.timer: ManualTimer | None = None

    async def __call__(self, job: Job) -> Delivered:
        self.tried.append((job.channel_id, self.timer.now() if self.timer else 0.0))
        queued = self.errors.get(job.channel_id)
        if queued:
            raise queued.pop(0)
        return await super().__call__(job)


async def _finished_in(store: JobStore, channel_id: int) -> Job:
    import dataclasses

    from bot.domain import JobUpdate

    job = await store.create(new_job(requester=dataclasses.replace(ALICE, channel_id=channel_id)))
    await store.mark_submitted(job.id, f"task-{job.id}")
    await store.apply([JobUpdate(job.id, "succeeded", result={})])
    return job


async def _pass(timer: ManualTimer, clock, seconds: float) -> None:
    """Time goes by for the courier's loop timer and for the store's clock (which keeps the waits for every process)."""
    clock.advance(seconds)
    await timer.advance(seconds)


async def test_a_rate_limited_channel_waits_its_retry_after_while_other_channels_go_on(store, clock):
    """A 429 in one channel (RetryLater with Retry-After 30 s) holds that channel, all of its songs, for 30 s, however
    often the courier is woken; other channels are posted meanwhile; then every song is posted, none given up."""
    timer = ManualTimer()
    inbox = ByChannel()
    inbox.timer = timer
    inbox.errors[2001] = [RetryLater("429 Too Many Requests", retry_after=30.0)]
    courier = Courier(store, inbox, COURIER, now=clock, timer=timer)
    first, second = await _finished_in(store, 2001), await _finished_in(store, 2001)
    other = await _finished_in(store, 2002)
    start = timer.now()
    assert await courier.run_once() == 1
    assert inbox.ids == [other.id]
    for _ in range(29):
        await _pass(timer, clock, 1.0)
        assert await courier.run_once() == 0
    await _pass(timer, clock, 1.0)
    assert await courier.run_once() == 2
    assert inbox.ids == [other.id, first.id, second.id]
    assert [at - start for channel, at in inbox.tried if channel == 2001] == [0.0, 30.0, 30.0]
    assert {(await store.get(job.id)).delivery for job in (first, second, other)} == {"delivered"}


async def test_a_retry_after_holds_for_every_process_and_after_a_restart(store, clock):
    """A 429 met by one process holds the songs it was posting for the Retry-After in the store, not only in that
    process's memory: another process (or this one restarted) does not post them early."""
    timer = ManualTimer()
    inbox = ByChannel()
    inbox.timer = timer
    inbox.errors[2001] = [RetryLater("429 Too Many Requests", retry_after=30.0)]
    first = Courier(store, inbox, COURIER, now=clock, timer=timer, owner="first")
    job = await _finished_in(store, 2001)
    assert await first.run_once() == 0
    other = Courier(store, inbox, COURIER, now=clock, timer=timer, owner="other")
    for _ in range(29):
        await _pass(timer, clock, 1.0)
        assert await other.run_once() == 0
    await _pass(timer, clock, 1.0)
    assert await other.run_once() == 1
    assert inbox.ids == [job.id]
    assert [at - inbox.tried[0][1] for _, at in inbox.tried] == [0.0, 30.0]


async def test_a_global_rate_limit_holds_every_channel(store, clock):
    """A global 429 (RetryLater everywhere) holds every channel for its Retry-After, songs finishing meanwhile too."""
    timer = ManualTimer()
    inbox = ByChannel()
    inbox.timer = timer
    inbox.errors[2001] = [RetryLater("429 global", retry_after=10.0, everywhere=True)]
    courier = Courier(store, inbox, COURIER, now=clock, timer=timer)
    first = await _finished_in(store, 2001)
    assert await courier.run_once() == 0
    later = await _finished_in(store, 2002)
    await _pass(timer, clock, 9.0)
    assert await courier.run_once() == 0
    assert [channel for channel, _ in inbox.tried] == [2001]
    await _pass(timer, clock, 1.0)
    assert await courier.run_once() == 2
    assert sorted(inbox.ids) == [first.id, later.id]


async def test_the_courier_loop_retries_when_the_hold_ends_not_at_the_next_interval(store, clock):
    """Running in the background, the courier comes back to a held channel when its Retry-After ends (its own
    wake), well before the (long) interval; woken sooner by finished jobs, it still waits the Retry-After out."""
    import dataclasses

    timer = ManualTimer()
    inbox = ByChannel()
    inbox.timer = timer
    inbox.errors[2001] = [RetryLater("429", retry_after=7.0)]
    courier = Courier(store, inbox, dataclasses.replace(COURIER, interval=600.0), now=clock, timer=timer)
    job = await _finished_in(store, 2001)
    await courier.start()
    try:
        await eventually_true(lambda: _tried(inbox, 1))
        start = inbox.tried[0][1]
        for _ in range(6):
            courier.wake()
            await _pass(timer, clock, 1.0)
            await asyncio.sleep(0.05)
        assert len(inbox.tried) == 1
        await _pass(timer, clock, 1.0)
        await asyncio.wait_for(inbox.arrived.wait(), 5)
    finally:
        await courier.stop(grace=5)
    assert inbox.ids == [job.id]
    assert inbox.tried[1][1] - start == 7.0


async def _tried(inbox: ByChannel, n: int) -> bool:
    return len(inbox.tried) >= n


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
    from bot.domain import MAYBE_ACCEPTED

    with pytest.raises(APITimeoutError):
        await service.submit(suno_job(SONG, ALICE))
    (job,) = await store.recent_for_user(ALICE.user_id)
    assert (job.state, job.error) == ("submit_failed", MAYBE_ACCEPTED)
    assert simulator.count("submit_music") == 1


async def recovered_mid_submit(store, simulator, http_session, *, client_waits: float,
                                answer_after: float) -> tuple[asyncio.Task[Job], Job]:
    """A submit of this process ("this-process") waits for CometAPI (which answers after `answer_after` s; the
    client waits `client_waits` s) while another process takes it for dead and fails the job as interrupted: the submit
    under way, and the job as recovery left it."""
    from pydantic import SecretStr

    from bot.cometapi import CometAPI, Timeouts

    assert ALICE.guild_id is not None
    await relax_limits(store, ALICE.guild_id)
    api = CometAPI(http_session, SecretStr(API_KEY), base_url=simulator.url, timeouts=Timeouts(submit=client_waits))
    service = JobService(store, api, owner="this-process")
    simulator.faults.script("submit_music", [Fault("hang", hang_seconds=answer_after)])
    sending = asyncio.create_task(service.submit(suno_job(SONG, ALICE)))
    for _ in range(500):
        if simulator.count("submit_music"):
            break
        await asyncio.sleep(0.01)
    (job,) = await store.recent_for_user(ALICE.user_id)
    assert await store.recover_interrupted_submits(older_than=0, owner="another", dead_owners={"this-process"}) == [
        job.id
    ]
    recovered = await store.get(job.id)
    assert recovered is not None and recovered.state == "submit_failed"
    return sending, recovered


async def test_a_submit_failed_as_interrupted_while_its_call_went_through_is_taken_back(store, simulator, http_session):
    """Another process takes this one for dead while CometAPI is answering its submit, and fails the job as
    interrupted: the task id, when it comes, takes the job back (queued, followed like any song), and the member's
    request succeeds instead of an error that would invite a second, paid, try."""
    sending, job = await recovered_mid_submit(store, simulator, http_session, client_waits=30, answer_after=1.0)
    sent = await asyncio.wait_for(sending, 10)
    assert (sent.state, sent.task_id is not None, sent.delivery) == ("queued", True, "none")
    assert [pending.id for pending in await store.in_flight()] == [job.id]
    assert simulator.count("submit_music") == 1


async def test_a_failed_submit_already_recovered_as_interrupted_is_told_as_itself(store, simulator, http_session):
    """Another process failed the job as interrupted while its submit was still waiting for CometAPI, and then the
    submit fails (here it times out): the member hears what happened to it (the time-out), not an apology for the
    bot's own state machine, and the job keeps the recovery's notice (told once)."""
    from bot.cometapi import APITimeoutError
    from bot.domain import INTERRUPTED_SUBMIT

    sending, job = await recovered_mid_submit(store, simulator, http_session, client_waits=1.0, answer_after=5.0)
    with pytest.raises(APITimeoutError):
        await asyncio.wait_for(sending, 10)
    saved = await store.get(job.id)
    assert (saved.state, saved.error, saved.delivery) == ("submit_failed", INTERRUPTED_SUBMIT, "pending")
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
    await poller.timer.advance(config.max_backoff)  # Suno's rest after its failed polls
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
    job = (await submit_many(service, 1))[0]
    await poller.poller.run_cycle()
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()  # a process id that was alive and is no more
    await _claimed_by(store, job, "killed", host=this_host(), pid=gone.pid)
    assert await poller.courier.run_once() == 1
    assert inbox.ids == [job.id]
    assert (await store.get(job.id)).delivery_attempts == 2


@pytest.mark.skipif(not os.path.exists("/proc/self/ns/pid"), reason="process-id namespaces are Linux's")
async def test_a_container_sharing_this_hostname_keeps_its_claims_while_it_beats(poller, service, store, inbox,
                                                                                 clock):
    """Two containers with one hostname (host networking, a fixed `hostname:`) number their processes apart: the
    other's process id, dead or somebody else's here, says nothing, so its claim stays its own while it beats, and
    is taken over once it falls silent."""
    job = (await submit_many(service, 1))[0]
    await poller.poller.run_cycle()
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()  # no such process here; in its own namespace it is the twin bot
    twin = f"{socket.gethostname()} pidns:1"  # no namespace here has inode 1
    assert this_host() == f"{socket.gethostname()} pidns:{os.stat('/proc/self/ns/pid').st_ino}" != twin
    await _claimed_by(store, job, "twin", host=twin, pid=gone.pid)
    assert await poller.courier.run_once() == 0
    clock.advance(COURIER.heartbeat_timeout + 1)
    assert await poller.courier.run_once() == 1
    assert inbox.ids == [job.id]


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

    from bot.domain import JobUpdate

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
    all_channels_at_once = asyncio.Event()

    class Recording(Inbox):
        async def __call__(self, job: Job) -> Delivered:
            active[job.channel_id] = active.get(job.channel_id, 0) + 1
            peak["channel"] = max(peak["channel"], active[job.channel_id])
            peak["all"] = max(peak["all"], sum(active.values()))
            order.setdefault(job.channel_id, []).append(job.id)
            if sum(active.values()) == len(channels):
                all_channels_at_once.set()
            # A rendezvous, not a sleep: a post waits until every channel has one in flight, so the peak does not
            # depend on how fast a busy machine runs; posted one channel at a time, the wait runs out and peak is 1.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_channels_at_once.wait(), 2)
            active[job.channel_id] -= 1
            return await super().__call__(job)

    courier = Courier(store, Recording(), COURIER, now=clock)
    assert await courier.run_once() == 9
    assert peak == {"channel": 1, "all": 3}
    assert order == {c: [j.id for j in jobs if j.channel_id == c] for c in channels}


async def test_another_live_bot_in_the_same_process_is_not_taken_for_dead(store, clock):
    """Two couriers in one process (same host and pid) both beating: neither counts the other as dead; an earlier run
    of this process id that fell silent before this one started is dead at once."""
    first = Courier(store, Inbox(), COURIER, now=clock, owner="first")
    second = Courier(store, Inbox(), COURIER, now=clock, owner="second")
    await store.beat("earlier-run", host=first.host, pid=os.getpid())
    clock.advance(1)
    await store.beat("first", host=first.host, pid=first.pid)
    await store.beat("second", host=second.host, pid=second.pid)
    assert await first.dead_owners() == {"earlier-run"}
    assert await second.dead_owners() == {"earlier-run"}


async def test_a_bot_of_this_process_between_its_beats_is_not_taken_for_dead(store, clock):
    """A second bot started in this process before the first has beaten again: the first's last beat is older than
    the second's start, as an earlier run's would be, yet it is alive here and its claims are not taken over (the
    two-shard e2e posted a song twice when the second shard started while the first was posting)."""
    first = Courier(store, Inbox(), COURIER, now=clock, owner="first")
    second = Courier(store, Inbox(), COURIER, now=clock, owner="second")
    await first.start()
    try:
        clock.advance(1)
        await second.start()
        try:
            assert await second.dead_owners() == set()
        finally:
            await second.stop(grace=1)
        await first.stop(grace=1)
        # Once stopped (retired, or killed without a word) a bot of this process is no longer vouched for.
        await store.beat("first", host=first.host, pid=first.pid)
        clock.advance(1)
        late = Courier(store, Inbox(), COURIER, now=clock, owner="late")
        await late.start()
        try:
            assert "first" in await late.dead_owners()
        finally:
            await late.stop(grace=1)
    finally:
        await first.stop(grace=1)


# ---- ids batch fetch never lists (shared/api §2.4, §8: an upload's id may be one) --------------------------------


HANG = SunoMusicRequest(mv="chirp-crow", description="[hang] a song that keeps going")


async def test_a_job_cometapi_does_not_know_is_asked_about_alone_then_failed(poller, service, simulator, store, inbox,
                                                                             clock, config):
    """A task batch fetch never lists waits like any job at first; past `unseen_grace` it is asked about on its own
    (one GET /suno/fetch/{id}), and "no such task" fails it at once with a clear reason, told to the member."""
    job = await service.submit(suno_job(SONG, ALICE))
    simulator.state.tasks.pop(job.task_id)  # CometAPI does not know it
    report = await poller.run_cycle()
    assert (report.checked, simulator.count("fetch"), (await store.get(job.id)).state) == (0, 0, "queued")
    clock.advance(config.unseen_grace + 1)
    report = await poller.run_cycle()
    assert report.checked == 1
    assert [r.path for r in simulator.requests_to("fetch")] == [f"/suno/fetch/{job.task_id}"]
    saved = await store.get(job.id)
    assert (saved.state, saved.delivery) == ("failed", "delivered")
    assert "CometAPI has no record of this job's task" in saved.error
    assert inbox.ids == [job.id]


async def test_unlisted_jobs_are_asked_about_alone_within_bounds_and_time_out_at_the_deadline(poller, service,
                                                                                             simulator, store, clock,
                                                                                             config):
    """Jobs batch fetch answers without (`data: null`) but the single fetch knows are asked about at most
    `unseen_checks_per_cycle` a cycle and once per `unseen_check_interval` each; still working, they are kept (and
    follow what the single fetch says) until the normal deadline, where they time out like any job."""
    jobs = [await service.submit(suno_job(HANG, ALICE)) for _ in range(12)]
    simulator.faults.always("batch_fetch", "null_data")
    cap = config.unseen_checks_per_cycle
    clock.advance(config.unseen_grace + 1)
    checked = [(await poller.run_cycle()).checked]
    clock.advance(1)
    checked.append((await poller.run_cycle()).checked)
    clock.advance(1)
    checked.append((await poller.run_cycle()).checked)
    assert checked == [cap, len(jobs) - cap, 0]
    assert simulator.count("fetch") == len(jobs)
    assert {(await store.get(job.id)).state for job in jobs} == {"running"}
    clock.advance(config.unseen_check_interval)
    assert (await poller.run_cycle()).checked == cap  # asked again, the oldest first
    clock.advance(config.deadline)
    reports = [await poller.run_cycle() for _ in range(2)]
    assert [report.checked for report in reports] == [cap, len(jobs) - cap]
    assert {(await store.get(job.id)).state for job in jobs} == {"timed_out"}


async def test_an_overdue_unlisted_job_is_not_given_up_while_asking_about_it_fails(cometapi, inbox, service,
                                                                                     simulator, store, clock, config):
    """Past its deadline, a job batch fetch leaves out is given up only once its own fetch has answered: while that
    fetch fails (a 503), the paid job is kept and asked again; once it answers "still working", it times out."""
    poller = Pipeline(store, cometapi, inbox, config, clock, timer=ManualTimer())
    job = await service.submit(suno_job(HANG, ALICE))
    simulator.faults.always("batch_fetch", "null_data")
    simulator.faults.always("fetch", 503)
    clock.advance(config.deadline + 1)
    report = await poller.run_cycle()
    assert simulator.count("fetch") >= 1 and report.errors >= 1
    assert (await store.get(job.id)).state != "timed_out"
    simulator.faults.always("fetch", "ok")
    clock.advance(config.unseen_check_interval)
    await poller.timer.advance(config.max_backoff)  # Suno's rest after the failed fetch
    await poller.run_cycle()
    assert (await store.get(job.id)).state == "timed_out"


async def test_an_unlisted_job_that_finished_is_delivered_from_the_single_fetch(poller, service, simulator, inbox,
                                                                                clock, config):
    """A finished task batch fetch leaves out is found by the single fetch and delivered as usual."""
    job = await service.submit(suno_job(SONG, ALICE))
    simulator.faults.always("batch_fetch", "null_data")
    await poller.run_cycle()
    assert inbox.jobs == []
    clock.advance(config.unseen_grace + 1)
    await poller.run_cycle()
    assert [(j.id, j.state) for j in inbox.jobs] == [(job.id, "succeeded")]
    assert len(inbox.jobs[0].result["clips"]) == 2


async def test_a_udio_job_never_listed_times_out_at_the_deadline(cometapi, inbox, service, simulator, store, clock,
                                                                 config):
    """Udio has no single-task fetch: a generation its query answers without is timed out at the deadline instead
    of holding its place forever; an outage (no answer at all) still times nothing out."""
    poller = Pipeline(store, cometapi, inbox, config, clock, timer=ManualTimer())
    job = await service.submit(udio_job(UdioRequest(prompt="lofi"), ALICE))
    simulator.state.tasks.pop(job.task_id)
    simulator.faults.always("udio_query", 503)
    clock.advance(config.deadline + 1)
    await poller.run_cycle()
    assert (await store.get(job.id)).state == "queued"  # nothing was read: an outage is not a verdict
    simulator.faults.clear()
    await poller.timer.advance(config.max_backoff)  # Udio's rest after its failed poll
    await poller.run_cycle()
    saved = await store.get(job.id)
    assert (saved.state, saved.error) == ("timed_out", TIMED_OUT_REASON)
    assert simulator.count("fetch") == 0
