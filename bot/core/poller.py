"""The batch poller: one cycle asks CometAPI about every in-flight job, chunked, and hands finished jobs on."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.cometapi import CometAPI, CometAPIError, RateLimitedError, TaskResult
from bot.cometapi.models import Action, Provider
from bot.store import JobState, JobStore, JobUpdate, PendingJob

log = logging.getLogger(__name__)

TIMED_OUT_REASON = "CometAPI did not finish this job in time"
# Updates after which a job waits for the courier.
FINISHED = frozenset({"succeeded", "failed", "timed_out"})


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
        self._failures = 0
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_cycle_at: float | None = None
        self._late_polled_at: float | None = None
        self.last_report = CycleReport()

    # ---- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start cycling in the background (idempotent)."""
        if self._task is None or self._task.done():
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="chorus-poller")

    async def stop(self, grace: float = 30.0) -> None:
        """Let the current cycle finish, then stop; cancel it if it takes longer than `grace` seconds."""
        self._stopping.set()
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            log.warning("poller cycle did not finish within %.0fs of shutdown; cancelling it", grace)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        if self._follow_ups is not None:
            # A follow-up submit under way is written first: waiting for it (briefly) keeps it from being cut off.
            await asyncio.wait([self._follow_ups], timeout=grace)
            self._follow_ups = None

    def wake(self) -> None:
        """Run the next cycle now rather than after the interval (e.g. right after a submit)."""
        self._wake.set()

    @property
    def running(self) -> bool:
        """The poll loop is running."""
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            # Cleared before the cycle, so a wake() or stop() during the cycle cuts the next wait short.
            self._wake.clear()
            try:
                report = await self.run_cycle()
                delay = report.delay
            except Exception:
                # A cycle must never kill the loop: a store hiccup is retried after a backoff.
                log.exception("poll cycle crashed")
                self._failures += 1
                delay = self._backoff()
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass

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
        if self._owner is None:
            jobs = await self._store.in_flight()
        else:
            # This process's share; other processes fetch the rest, and none fetches a job twice in one interval.
            jobs = await self._store.claim_polls(
                self._owner, every=self.config.interval, peers_within=self.config.peer_timeout, dead_owners=dead
            )
        report.in_flight = len(jobs)
        jobs += await self._overdue_due(now)
        retry_after = 0.0
        if jobs:
            results, calls, errors, retry_after = await self._fetch_all(jobs)
            report.calls, report.errors = calls, errors
            for job in jobs:
                group = f"{job.provider}/{job.action}"
                report.fetched[group] = report.fetched.get(group, 0) + 1
            updates = self._updates(jobs, results, now)
            changed = set(await self._store.apply(updates))
            report.updated = len(changed)
            await self._notify_progress([update for update in updates if update.job_id in changed])
            self._failures = self._failures + 1 if errors else 0
            report.finished = sum(1 for u in updates if u.job_id in changed and u.state in FINISHED)
        if report.finished and self._on_finished is not None:
            self._on_finished()  # the courier posts them; this loop goes straight back to polling
        if (report.finished or self.last_cycle_at is None) and self._after_finish is not None:
            self._start_follow_ups()
        report.delay = max(self._backoff(), retry_after)
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

    def _backoff(self) -> float:
        if not self._failures:
            return self.config.interval
        return min(self.config.interval * 2.0**self._failures, self.config.max_backoff)

    async def _fetch_all(self, jobs: Sequence[PendingJob]) -> tuple[dict[str, TaskResult], int, int, float]:
        groups: dict[tuple[Provider, Action], list[str]] = defaultdict(list)
        for job in jobs:
            groups[(job.provider, job.action)].append(job.task_id)
        results: dict[str, TaskResult] = {}
        calls = errors = 0
        retry_after = 0.0
        limiter = asyncio.Semaphore(self.config.concurrency)
        throttled: set[Provider] = set()
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
                    retry_after = max(retry_after, exc.retry_after or 0.0)
                    log.warning("CometAPI rate-limited the %s poll; waiting %.1fs", provider, exc.retry_after or 0)
                    return
                except CometAPIError as exc:
                    errors += 1
                    log.warning("polling %d %s %s job(s) failed: %s", len(chunk), provider, action, exc)
                    return
                results.update(found)

        await asyncio.gather(
            *(
                fetch(provider, action, task_ids[start : start + size])
                for (provider, action), task_ids in groups.items()
                for start in range(0, len(task_ids), size)
            )
        )
        return results, calls, errors, retry_after

    def _updates(self, jobs: Sequence[PendingJob], results: dict[str, TaskResult], now: float) -> list[JobUpdate]:
        updates: list[JobUpdate] = []
        for job in jobs:
            result = results.get(job.task_id)
            update = _update_from(job, result) if result is not None else None
            finished = update is not None and update.state in {"succeeded", "failed"}
            # Only on a status actually read: an outage that hides every status times nothing out.
            seen_unfinished = result is not None and not finished and job.state != "timed_out"
            if seen_unfinished and now - job.created_at > self.config.deadline:
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
