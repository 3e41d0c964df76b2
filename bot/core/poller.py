"""The batch poller: one cycle asks CometAPI about every in-flight job, chunked, and hands finished jobs on."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.cometapi import CometAPI, CometAPIError, RateLimitedError, TaskNotFoundError, TaskResult
from bot.cometapi.models import Action, Provider
from bot.core.loop import Backoff, Loop, Next, Timer
from bot.domain import JobState, JobUpdate, PendingJob
from bot.store import JobStore

log = logging.getLogger(__name__)

TIMED_OUT_REASON = "CometAPI did not finish this job in time"
UNKNOWN_TASK_REASON = "CometAPI has no record of this job's task (it never showed up), so nothing will come of it"
# Updates after which a job waits for the courier.
FINISHED = frozenset({"succeeded", "failed", "timed_out"})
# The key of CometAPI's Retry-After in the store's holds, shared by every process of the bot.
COMETAPI_HOLD = "hold:cometapi"
# The longest Retry-After kept as asked: CometAPI's word is honoured in full, but a bogus header cannot park polling
# for days.
MAX_RETRY_AFTER = 3600.0


# Told about in-flight jobs whose state or progress changed this cycle (for live status cards).
ProgressListener = Callable[[Sequence[JobUpdate]], Awaitable[None]]
Clock = Callable[[], float]


class PollerMetrics(Protocol):
    """Where the poller reports its timings (bot.metrics.Metrics in the bot)."""

    def observe_cycle(self, seconds: float) -> None:
        """Record how long one poll cycle took."""


@dataclass(frozen=True, slots=True)
class PollerConfig:
    """How often and how hard the poller works; the bot builds it from the settings."""
    interval: float = 5.0
    batch_size: int = 50
    deadline: float = 30 * 60.0
    # Longest wait after repeated errors, however many there were.
    max_backoff: float = 300.0
    concurrency: int = 4
    # A job still `submitting` this long after it was recorded, and not being submitted by this process, was
    # interrupted by a crash; longer than any submit can take (60 s timeout plus connection retries).
    submit_grace: float = 120.0
    # A timed-out job may still finish (and CometAPI charges for it): keep asking about it this long, this often,
    # and post the song late if it comes.
    late_grace: float = 24 * 3600.0
    late_poll_interval: float = 300.0
    # On a shared database: processes whose heartbeat is younger than this share the polling (the courier's
    # heartbeat timeout).
    peer_timeout: float = 20.0
    # A Suno job that batch fetch answers without (batch fetch leaves out ids it does not list, e.g. an upload's:
    # shared/api §2.4, §8) is asked about on its own (GET /suno/fetch/{id}) once it is this old, then at most once per
    # `unseen_check_interval`, at most `unseen_checks_per_cycle` jobs a cycle: an id CometAPI does not know fails
    # with a clear reason, one still working waits until the deadline like any job.
    unseen_grace: float = 120.0
    unseen_check_interval: float = 60.0
    unseen_checks_per_cycle: int = 10


@dataclass(slots=True)
class CycleReport:
    """What one cycle did: for logs, health checks and the benchmark."""

    in_flight: int = 0
    calls: int = 0
    errors: int = 0
    updated: int = 0
    finished: int = 0
    delay: float = 0.0
    # Jobs fetched this cycle per "provider/action" (so calls can be checked against ⌈n/batch⌉ per group).
    fetched: dict[str, int] = field(default_factory=dict)
    # Jobs batch fetch answered without, asked about one by one (each one call besides `calls`).
    checked: int = 0
    # Nothing was fetched: a Retry-After CometAPI gave (to this process or another) is not over yet.
    held: bool = False
    # Seconds no wake may cut short before the next cycle: a Retry-After (met now, or by another process).
    hold: float = 0.0
    # Providers whose polls failed and that are not asked until their own backoff is over (ProviderRests).
    resting: tuple[Provider, ...] = ()


class Poller:
    """Runs cycles until stopped. Pending work lives in the store, so a restart resumes where it left off."""

    def __init__(
        self,
        store: JobStore,
        cometapi: CometAPI,
        config: PollerConfig | None = None,
        *,
        on_finished: Callable[[], None] | None = None,
        after_finish: Callable[[], Awaitable[object]] | None = None,
        on_progress: ProgressListener | None = None,
        metrics: PollerMetrics | None = None,
        now: Clock = time.time,
        busy_submits: Callable[[], Collection[int]] = frozenset,
        owner: str | None = None,
        dead_owners: Callable[[], Awaitable[Collection[str]]] | None = None,
        timer: Timer | None = None,
    ) -> None:
        self._metrics = metrics
        self._store = store
        self._api = cometapi
        self._on_finished = on_finished
        # Follow-up submits (a cover after its upload): run beside the loop, never inside it, one round at a time.
        self._after_finish = after_finish
        self._follow_ups: asyncio.Task[None] | None = None
        self.config = config or PollerConfig()
        self._on_progress = on_progress
        self._now = now
        self._busy_submits = busy_submits
        # This process, when several may share the store: it polls only its claimed share, and recovers only its
        # own interrupted submits (or those of processes `dead_owners` says are gone).
        self._owner = owner
        self._dead_owners = dead_owners
        # Start, stop, wakes, the heartbeat /healthz reads and the backoff after a cycle that crashed live in the one
        # loop base; failed fetches rest their provider alone (on the loop's timer, as every wait of the loop).
        self._rests = ProviderRests(self.config.interval, self.config.max_backoff)
        self._loop = Loop("poller", self._round, interval=self.config.interval, max_backoff=self.config.max_backoff,
                          timer=timer)
        self.last_cycle_at: float | None = None
        # The last cycle had nothing to ask about: a submit then wakes the poller (see `submitted`).
        self._idle = True
        self._late_polled_at: float | None = None
        # When each job missing from batch fetch was last asked about on its own (store clock), to space the asks.
        self._checked_at: dict[int, float] = {}
        self.last_report = CycleReport()

    # ---- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start cycling in the background (idempotent)."""
        self._loop.start()

    async def stop(self, grace: float = 30.0) -> None:
        """Let the current cycle finish, then stop; cancel it if it takes longer than `grace` seconds."""
        await self._loop.stop(grace)
        if self._follow_ups is not None:
            # A follow-up submit under way is written first: waiting for it (briefly) keeps it from being cut off.
            await asyncio.wait([self._follow_ups], timeout=grace)
            self._follow_ups = None

    def wake(self) -> None:
        """Run the next cycle now rather than after the interval, but never before the time CometAPI's Retry-After
        or the error backoff asked for."""
        self._loop.wake()

    def submitted(self) -> None:
        """A job was just submitted. An idle poller (its last cycle had nothing to ask about) is woken, so the first
        song after a quiet spell is looked at promptly; a busy one lets the job join its next regular cycle, at most
        one interval away. A song takes minutes: asking about it seconds sooner buys the member nothing, while a
        wake per submit made each woken cycle fetch the one or two new jobs as a partial batch of their own (1.5-1.8
        calls per ideal at a steady 20 submits a second). Like any wake, never before a Retry-After or backoff."""
        if self._idle:
            self._idle = False  # one wake per quiet spell: the cycle it brings takes every job submitted meanwhile
            self._loop.wake()

    @property
    def running(self) -> bool:
        """The poll loop is running."""
        return self._loop.running

    @property
    def loop(self) -> Loop:
        """The loop this poller runs on (its heartbeat is what /healthz reads)."""
        return self._loop

    async def _round(self) -> Next:
        """One cycle as a round of the loop. After a 429 the wait is held: a submit's wake may bring the next cycle
        forward, never before the time CometAPI asked for. A provider whose polls failed rests: a cycle that comes
        sooner does not ask it. A crash of the cycle itself is the loop's to back off."""
        report = await self.run_cycle()
        return Next(after=report.delay, hold=report.hold)

    # ---- one cycle -------------------------------------------------------------------------------------------

    async def run_cycle(self) -> CycleReport:
        """Poll every in-flight job once, apply what changed, wake the courier for what finished; return what
        happened. Never waits on Discord: posting is the courier's job."""
        report = CycleReport()
        started = time.perf_counter()
        # Deadlines and grace periods are judged on the store's clock (the database's, when processes share one).
        now = await self._store.clock()
        dead = await self._dead_owners() if self._dead_owners is not None else ()
        # Every cycle, not only at start: a restart within the grace period must not leave a job stuck.
        await self._store.recover_interrupted_submits(
            older_than=now - self.config.submit_grace, exclude=self._busy_submits(), owner=self._owner,
            dead_owners=dead,
        )
        # One API key, one rate limit: a Retry-After that any process of the bot met binds every process.
        held = await self._store.held_for(COMETAPI_HOLD)
        if held > 0:
            report.delay, report.held, report.hold = held, True, held
            self.last_cycle_at = self._now()
            self.last_report = report
            return report
        if self._owner is None:
            jobs = await self._store.in_flight()
        else:
            # This process's share; other processes fetch the rest, and none fetches a job twice in one interval.
            jobs = await self._store.claim_polls(
                self._owner, every=self.config.interval, peers_within=self.config.peer_timeout, dead_owners=dead,
                batch=self.config.batch_size,
            )
        report.in_flight = len(jobs)
        jobs += await self._overdue_due(now)
        # A provider that is resting is not asked; its songs wait in the store for the cycle after its rest.
        moment = self._loop.timer.now()
        resting = self._rests.resting(moment)
        waiting = {job.provider for job in jobs if job.provider in resting}
        jobs = [job for job in jobs if job.provider not in resting]
        retry_after = 0.0
        if jobs:
            results, answered, calls, errors, retry_after, failed = await self._fetch_all(jobs)
            report.calls, report.errors = calls, errors
            for job in jobs:
                group = f"{job.provider}/{job.action}"
                report.fetched[group] = report.fetched.get(group, 0) + 1
            missing = _Missing({job.task_id for job in jobs if job.task_id in answered and job.task_id not in results})
            if missing.left_out:
                await self._check_missing(jobs, missing, now)
                results.update(missing.found)
                report.checked = len(missing.asked)
                report.errors += missing.errors
                retry_after = max(retry_after, missing.retry_after)
                if missing.errors:
                    failed.add("suno")
            for provider in {job.provider for job in jobs}:
                if provider in failed:
                    self._rests.failed(provider, moment)
                else:
                    self._rests.answered(provider)
            # Forget only check times that no longer hold anything back (bounded), not those of jobs another
            # process polled this interval: they would be asked again too soon.
            self._checked_at = {job_id: at for job_id, at in self._checked_at.items()
                                if now - at < self.config.unseen_check_interval}
            updates = self._updates(jobs, results, now, missing)
            changed = set(await self._store.apply(updates))
            report.updated = len(changed)
            await self._notify_progress([update for update in updates if update.job_id in changed])
            report.finished = sum(1 for u in updates if u.job_id in changed and u.state in FINISHED)
        if report.finished and self._on_finished is not None:
            self._on_finished()  # the courier posts them; this loop goes straight back to polling
        if (report.finished or self.last_cycle_at is None) and self._after_finish is not None:
            self._start_follow_ups()
        if retry_after > 0:
            await self._store.hold_off(COMETAPI_HOLD, retry_after)  # the other processes wait it out too
        self._loop.backoff.reset()  # the cycle ran: the loop's backoff is for cycles that crash
        # The next cycle comes after the interval while some provider with songs in flight is being asked; when
        # every such provider rests, when the first rest is over (a wake in between asks none of them).
        report.resting = self._rests.resting(moment)
        with_songs = waiting | {job.provider for job in jobs}
        if with_songs and with_songs <= set(report.resting):
            report.delay = max(self.config.interval, self._rests.left(moment))
        else:
            report.delay = self.config.interval
        report.delay, report.hold = max(report.delay, retry_after), retry_after
        self._idle = not jobs and not waiting
        self.last_cycle_at = self._now()
        self.last_report = report
        if self._metrics is not None:
            self._metrics.observe_cycle(time.perf_counter() - started)
        if jobs:
            log.debug("poll cycle: %s", report)
        return report

    async def _overdue_due(self, store_now: float) -> list[PendingJob]:
        """Timed-out jobs still within their grace period, when the slow cadence says it is time to ask."""
        now = self._now()
        if self._late_polled_at is None:
            self._late_polled_at = now  # the first look comes one interval after start
            return []
        if now - self._late_polled_at < self.config.late_poll_interval:
            return []
        self._late_polled_at = now
        return await self._store.overdue(
            since=store_now - self.config.late_grace, owner=self._owner, every=self.config.late_poll_interval
        )

    def _start_follow_ups(self) -> None:
        if self._follow_ups is not None and not self._follow_ups.done():
            return
        self._follow_ups = asyncio.create_task(self._follow_up(), name="chorus-follow-ups")

    async def _follow_up(self) -> None:
        assert self._after_finish is not None  # noqa: S101 - only started when set
        try:
            await self._after_finish()
        except Exception:
            log.exception("follow-up submits failed")

    async def _fetch_all(
        self, jobs: Sequence[PendingJob]
    ) -> tuple[dict[str, TaskResult], set[str], int, int, float, set[Provider]]:
        """Batch-fetch every job: (results by task id, the task ids some call answered about, calls, errors, the
        longest Retry-After, the providers a call failed for). An id answered about but without a result was left
        out by CometAPI."""
        groups: dict[tuple[Provider, Action], list[str]] = defaultdict(list)
        for job in jobs:
            groups[(job.provider, job.action)].append(job.task_id)
        results: dict[str, TaskResult] = {}
        answered: set[str] = set()
        calls = errors = 0
        retry_after = 0.0
        limiter = asyncio.Semaphore(self.config.concurrency)
        throttled: set[Provider] = set()
        failed: set[Provider] = set()
        size = self.config.batch_size

        async def fetch(provider: Provider, action: Action, chunk: list[str]) -> None:
            nonlocal calls, errors, retry_after
            async with limiter:
                if provider in throttled:
                    return  # the server asked us to wait; the rest of this provider's chunks wait for next cycle
                calls += 1
                try:
                    if provider == "suno":
                        found = await self._api.suno.fetch_batch(chunk, action)
                    else:
                        found = await self._api.udio.query(chunk)
                except RateLimitedError as exc:
                    errors += 1
                    throttled.add(provider)
                    failed.add(provider)
                    retry_after = max(retry_after, min(exc.retry_after or 0.0, MAX_RETRY_AFTER))
                    log.warning("CometAPI rate-limited the %s poll; waiting %.1fs", provider, exc.retry_after or 0)
                    return
                except CometAPIError as exc:
                    errors += 1
                    failed.add(provider)
                    log.warning("polling %d %s %s job(s) failed: %s", len(chunk), provider, action, exc)
                    return
                results.update(found)
                answered.update(chunk)

        await asyncio.gather(
            *(
                fetch(provider, action, task_ids[start : start + size])
                for (provider, action), task_ids in groups.items()
                for start in range(0, len(task_ids), size)
            )
        )
        return results, answered, calls, errors, retry_after, failed

    async def _check_missing(self, jobs: Sequence[PendingJob], missing: _Missing, now: float) -> None:
        """Ask about Suno jobs that batch fetch left out, one by one (the single-task fetch), and note in `missing`
        what CometAPI said: a task (finished or not), "no such task", or nothing (the ask failed).

        Only jobs older than `unseen_grace`, each at most once per `unseen_check_interval`, at most
        `unseen_checks_per_cycle` a cycle; a job past its deadline is asked at once, so it is never given up unasked.
        """
        config = self.config
        due: list[tuple[bool, PendingJob]] = []
        for job in jobs:
            if job.provider != "suno" or job.task_id not in missing.left_out:
                continue  # Udio has no single-task fetch: its deadline alone bounds it
            age = now - job.created_at
            overdue = age > config.deadline and job.state != "timed_out"
            last = self._checked_at.get(job.id)
            if overdue or (age > config.unseen_grace and (last is None or now - last >= config.unseen_check_interval)):
                due.append((overdue, job))
        # Jobs about to be given up first, then the oldest.
        due.sort(key=lambda item: (not item[0], item[1].created_at))
        limiter = asyncio.Semaphore(config.concurrency)

        async def check(job: PendingJob) -> None:
            async with limiter:
                if missing.retry_after:
                    return  # rate-limited: the rest wait for a later cycle
                self._checked_at[job.id] = now
                try:
                    missing.found[job.task_id] = await self._api.suno.fetch(job.task_id)
                except TaskNotFoundError:
                    missing.unknown.add(job.task_id)
                except RateLimitedError as exc:
                    missing.errors += 1
                    missing.retry_after = max(min(exc.retry_after or 0.0, MAX_RETRY_AFTER), 0.001)
                except CometAPIError as exc:
                    missing.errors += 1
                    log.warning("asking about job %d (task %s) on its own failed: %s", job.id, job.task_id, exc)
                else:
                    missing.asked.add(job.task_id)
                    return
                if job.task_id in missing.unknown:
                    missing.asked.add(job.task_id)  # answered: CometAPI has no such task

        await asyncio.gather(*(check(job) for _, job in due[: config.unseen_checks_per_cycle]))

    def _updates(
        self, jobs: Sequence[PendingJob], results: dict[str, TaskResult], now: float, missing: _Missing | None = None
    ) -> list[JobUpdate]:
        missing = missing or _Missing(set())
        updates: list[JobUpdate] = []
        for job in jobs:
            if job.task_id in missing.unknown:
                # Batch fetch never listed it and the single fetch says no such task: it will never finish, so it must
                # not hold its place (and the member's) until a deadline that cannot help.
                log.warning("job %d (%s task %s) is unknown to CometAPI; giving it up", job.id, job.provider,
                            job.task_id)
                updates.append(JobUpdate(job.id, "failed", error=UNKNOWN_TASK_REASON))
                continue
            result = results.get(job.task_id)
            update = _update_from(job, result) if result is not None else None
            finished = update is not None and update.state in {"succeeded", "failed"}
            # Only on a status actually read, or on answers that left the job out (a Suno job once asked about on its
            # own too): an outage that hides every status times nothing out.
            heard = result is not None or (
                job.task_id in missing.left_out and (job.provider != "suno" or job.task_id in missing.asked)
            )
            if heard and not finished and job.state != "timed_out" and now - job.created_at > self.config.deadline:
                log.warning("job %d (%s task %s) timed out", job.id, job.provider, job.task_id)
                update = JobUpdate(job.id, "timed_out", error=TIMED_OUT_REASON)
            if update is not None:
                updates.append(update)
        return updates

    async def _notify_progress(self, updates: Sequence[JobUpdate]) -> None:
        live = [update for update in updates if update.state in {"queued", "running"}]
        if not live or self._on_progress is None:
            return
        try:
            await self._on_progress(live)
        except Exception:
            log.exception("progress listener failed")


class ProviderRests:
    """A provider whose polls fail (5xx, time-outs, a garbled answer, a 429) rests on a backoff of its own: it is not
    asked until its wait is over, while the other provider's songs are polled at the interval, so a Udio outage does
    not slow Suno's songs down. (A 429's Retry-After also holds every poll: one API key, one rate limit.)"""

    def __init__(self, base: float, cap: float) -> None:
        self._base, self._cap = base, cap
        self._backoffs: dict[Provider, Backoff] = {}
        self._until: dict[Provider, float] = {}

    def resting(self, now: float) -> tuple[Provider, ...]:
        """The providers not to ask at `now`, by name."""
        return tuple(sorted(provider for provider, until in self._until.items() if now < until))

    def left(self, now: float) -> float:
        """Seconds until the first resting provider may be asked again (0.0 when none rests)."""
        return max(0.0, min((until - now for until in self._until.values() if now < until), default=0.0))

    def failed(self, provider: Provider, now: float) -> None:
        """One more failed cycle in a row: rest for the (doubled) backoff it calls for."""
        backoff = self._backoffs.setdefault(provider, Backoff(self._base, self._cap))
        self._until[provider] = now + backoff.failed()

    def answered(self, provider: Provider) -> None:
        """The provider's polls went through: it is asked at every cycle again, and a later failure starts over."""
        self._backoffs.pop(provider, None)
        self._until.pop(provider, None)


@dataclass(slots=True)
class _Missing:
    """One cycle's jobs that batch fetch answered without, and what asking about them one by one found."""

    left_out: set[str]
    asked: set[str] = field(default_factory=set)
    found: dict[str, TaskResult] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)
    errors: int = 0
    retry_after: float = 0.0


def _update_from(job: PendingJob, result: TaskResult) -> JobUpdate | None:
    """The store update a fetch result calls for, or None when nothing changed."""
    state: JobState
    if result.phase == "succeeded":
        return JobUpdate(job.id, "succeeded", progress=100, result=result.to_dict())
    if result.phase == "failed":
        return JobUpdate(job.id, "failed", result=result.to_dict(), error=result.fail_reason or "the generation failed")
    if result.phase == "running" and job.state != "timed_out":
        state = "running"
    else:
        return None  # still waiting upstream (or late and still unfinished): nothing to record
    if job.state == state and (result.progress is None or result.progress == job.progress):
        return None
    # Only the first move to running carries the clips (stream URLs and cover art appear then).
    payload = result.to_dict() if job.state != state else None
    return JobUpdate(job.id, state, progress=result.progress, result=payload)
