"""The courier: delivers finished jobs apart from the poll loop, so posting never stalls polling.

The poller only records what CometAPI said and wakes the courier. The courier claims deliverable jobs in the
store (each claim names its owner, this process), posts them through the `Deliver` callback, and marks them
delivered. Deliveries run concurrently across channels (bounded) and in order within a channel. While a
delivery runs, its claim's lease is renewed; the process keeps a heartbeat, and a claim whose owner has no
fresh heartbeat (or whose process is known to be gone) is taken over at once, not after a fixed lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.store import Job, JobStore, Worker

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Delivered:
    """Where a finished job was posted."""

    channel_id: int
    message_id: int
    # Why it was not posted as planned (e.g. sent by DM because the channel refused); kept on the job.
    note: str | None = None


class PermanentDeliveryError(Exception):
    """Delivery can never succeed (e.g. the channel and the member's DMs are both closed): stop retrying."""


# Posts a finished job (success, failure or time-out) and says where; raises to have it retried later.
Deliver = Callable[[Job], Awaitable[Delivered]]


class CourierMetrics(Protocol):
    """Where the courier reports delivery latency (bot.app.metrics.Metrics in the bot)."""

    def observe_delivery(self, latency: float) -> None:
        """Record the time from CometAPI finishing a job to its post."""


@dataclass(frozen=True, slots=True)
class CourierConfig:
    """How the courier works; the defaults suit a live bot."""

    # A claim whose lease is not renewed for this long is presumed abandoned (renewed every `renew_every`).
    lease: float = 60.0
    renew_every: float = 15.0
    # Every process says it is alive this often; one silent for `heartbeat_timeout` is gone.
    heartbeat_every: float = 5.0
    heartbeat_timeout: float = 20.0
    max_attempts: int = 5
    # Channels posted to at once (Discord limits each channel to about 5 messages per 5 s anyway).
    concurrency: int = 4
    # How often to look for work without being woken (retries after a failed delivery).
    interval: float = 5.0
    batch: int = 100


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (our own id never belongs to another owner)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return True


class Courier:
    """Delivers finished jobs: claim → post (through `deliver`) → mark delivered, exactly once."""

    def __init__(
        self,
        store: JobStore,
        deliver: Deliver,
        config: CourierConfig | None = None,
        *,
        metrics: CourierMetrics | None = None,
        now: Clock = time.time,
        owner: str | None = None,
        on_delivered: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._on_delivered = on_delivered  # e.g. wake the community timers: a battle may be ready to open
        self._deliver = deliver
        self.config = config or CourierConfig()
        self._metrics = metrics
        self._now = now
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.owner = owner or f"{self.host}:{self.pid}:{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._busy_channels: dict[int, int] = defaultdict(int)
        self.last_run_at: float | None = None

    # ---- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Say this process is alive, then deliver in the background until stopped."""
        await self._store.beat(self.owner, host=self.host, pid=self.pid)
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._run(), name="chorus-courier"),
            asyncio.create_task(self._heartbeat(), name="chorus-heartbeat"),
        ]

    async def stop(self, grace: float = 30.0) -> None:
        """Let the deliveries under way finish (cancel them after `grace` s), then retire this process."""
        self._stopping.set()
        self._wake.set()
        if not self._tasks:
            return
        runner, heartbeat = self._tasks
        try:
            await asyncio.wait_for(asyncio.shield(runner), grace)
        except TimeoutError:
            log.warning("deliveries did not finish within %.0fs of shutdown; cancelling them", grace)
            runner.cancel()
        heartbeat.cancel()
        await asyncio.gather(runner, heartbeat, return_exceptions=True)
        self._tasks = []
        # Claims still held (a cancelled post) stay claimed: the next process takes them over at once, since
        # this owner is gone from the workers table.
        with contextlib.suppress(Exception):
            await self._store.retire(self.owner)

    def wake(self) -> None:
        """Look for finished jobs now (the poller calls this when a job finishes)."""
        self._wake.set()

    @property
    def running(self) -> bool:
        """The delivery loop is running."""
        return bool(self._tasks) and not self._tasks[0].done()

    def busy_in(self, channel_id: int) -> bool:
        """A song is being posted in this channel right now (status-card edits there wait their turn)."""
        return self._busy_channels.get(channel_id, 0) > 0

    async def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                while await self.run_once() and not self._stopping.is_set():
                    pass  # more may have finished meanwhile
            except Exception:
                log.exception("delivery round crashed")
            try:
                async with asyncio.timeout(self.config.interval):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_every)
            try:
                await self._store.beat(self.owner, host=self.host, pid=self.pid)
            except Exception:
                log.exception("could not record this process's heartbeat")

    # ---- one round -------------------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Deliver everything deliverable now: concurrently across channels, in order within each; return how many
        were delivered."""
        dead = await self.dead_owners()
        ready = await self._store.deliverable(lease_seconds=self.config.lease, dead_owners=dead,
                                              limit=self.config.batch)
        self.last_run_at = self._now()
        if not ready:
            return 0
        by_channel: dict[int, list[Job]] = defaultdict(list)
        for job in ready:  # oldest finished first
            by_channel[job.channel_id].append(job)
        limiter = asyncio.Semaphore(self.config.concurrency)

        async def channel_round(channel_id: int, jobs: list[Job]) -> int:
            async with limiter:
                self._busy_channels[channel_id] += 1
                try:
                    return sum([await self._deliver_one(job.id, dead) for job in jobs])
                finally:
                    self._busy_channels[channel_id] -= 1

        done = await asyncio.gather(*(channel_round(channel, jobs) for channel, jobs in by_channel.items()))
        return sum(done)

    async def dead_owners(self) -> set[str]:
        """Owners whose claims may be taken over now: silent too long (on the store's clock, which wrote the
        heartbeats), or their process is gone."""
        now = await self._store.clock()
        workers = await self._store.workers()
        started = next((worker.started_at for worker in workers if worker.owner == self.owner), None)
        return {worker.owner for worker in workers if self._gone(worker, now, started)}

    def _gone(self, worker: Worker, now: float, started: float | None) -> bool:
        if worker.owner == self.owner:
            return False
        if now - worker.heartbeat_at > self.config.heartbeat_timeout:
            return True
        if worker.host != self.host:
            return False
        if worker.pid == self.pid:
            # Our own process id: an earlier run of this process (a container's PID 1 after a restart) if it fell
            # silent before we started; otherwise another bot living in this very process (tests run several).
            return started is not None and worker.heartbeat_at < started
        return not process_alive(worker.pid)

    async def _deliver_one(self, job_id: int, dead: set[str]) -> int:
        job = await self._store.claim_delivery(job_id, owner=self.owner, lease_seconds=self.config.lease,
                                               dead_owners=dead)
        if job is None:
            return 0  # another live owner claimed it, or it is delivered already
        renewer = asyncio.create_task(self._renew(job.id), name=f"chorus-renew-{job.id}")
        try:
            where = await self._deliver(job)
        except PermanentDeliveryError as exc:
            log.error("job %d cannot be delivered, giving up: %s", job.id, exc)
            await self._store.release_delivery(job.id, str(exc), owner=self.owner, give_up=True)
            return 0
        except Exception as exc:
            give_up = job.delivery_attempts >= self.config.max_attempts
            log.exception("delivering job %d failed (attempt %d)", job.id, job.delivery_attempts)
            await self._store.release_delivery(job.id, f"{type(exc).__name__}: {exc}", owner=self.owner,
                                               give_up=give_up)
            return 0
        finally:
            renewer.cancel()
        if not await self._store.mark_delivered(job.id, where.channel_id, where.message_id, owner=self.owner,
                                                note=where.note):
            log.warning("job %d was delivered but its claim had been taken over", job.id)
        if self._on_delivered is not None:
            self._on_delivered()
        if self._metrics is not None and job.finished_at is not None:
            self._metrics.observe_delivery(self._now() - job.finished_at)
        log.info(
            "delivered job %d (%s, guild %s) to channel %d%s",
            job.id, job.provider, job.guild_id, where.channel_id, f" ({where.note})" if where.note else "",
        )
        return 1

    async def _renew(self, job_id: int) -> None:
        """Keep the claim's lease fresh while a slow delivery (large files, rate limits) runs."""
        while True:
            await asyncio.sleep(self.config.renew_every)
            try:
                if not await self._store.renew_claim(job_id, owner=self.owner):
                    log.warning("lost the delivery claim of job %d while posting it", job_id)
                    return
            except Exception:
                log.exception("could not renew the delivery claim of job %d", job_id)
