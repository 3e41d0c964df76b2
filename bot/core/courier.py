"""The courier: delivers finished jobs apart from the poll loop, so posting never stalls polling.

The poller only records what CometAPI said and wakes the courier. The courier claims deliverable jobs in the
store (each claim names its owner, this process), posts them through the `Deliver` callback, and marks them
delivered. Deliveries run concurrently across channels (bounded) and in order within a channel. While a
delivery runs, its claim's lease is renewed; the process keeps a heartbeat, and a claim whose owner has no
fresh heartbeat (or whose process is known to be gone) is taken over at once, not after a fixed lease.

A song CometAPI charged for is never given up because Discord (or a proxy in front of it) was busy: a failure for
now (`RetryLater`: a 429, a 5xx, a connection refused) holds its channel, or every channel for a global rate limit,
for the Retry-After asked and a backoff that grows with each failure in a row; any other error holds that job
alone. Only a permanent refusal (`PermanentDeliveryError`: the channel and the member's DMs both refuse) gives up at
once; anything else is given up only when the job is older than `give_up_after` (a day), however many attempts it
took. The holds live in memory (bounded by the jobs waiting), and each wait is written with the job it released
(`delivery_not_before`; for a per-route rate limit also on the songs waiting in its channel), so another process,
or this one restarted, keeps it too; a global rate limit is a hold in the store (`hold_off`, on a shared database)
that stops every process's rounds, songs finishing during it included.
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

from bot.core.loop import Loop, Next, Timer
from bot.domain import DeliveryHold, Job, Worker
from bot.store import JobStore

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


class RetryLater(Exception):
    """Delivery failed for now (a rate limit, a server error, a connection refused): try again after `retry_after`
    seconds when the other side said (at least; the courier's backoff may ask longer), holding every channel when
    `everywhere` (a global rate limit), else only this job's channel. Never counts towards giving up."""

    def __init__(self, reason: str, *, retry_after: float | None = None, everywhere: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.everywhere = everywhere


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
    # A finished job whose delivery keeps failing for now is given up once it is this old (store clock, from when it
    # finished): a song CometAPI charged for outlives any Discord or proxy outage, however many attempts it takes.
    give_up_after: float = 24 * 3600.0
    # Waits after failures in a row (per channel, per job, or for every channel): retry_base·2ⁿ⁻¹, at most retry_cap,
    # and never less than the Retry-After asked (itself at most max_retry_after, against a bogus header).
    retry_base: float = 5.0
    retry_cap: float = 120.0
    max_retry_after: float = 3600.0
    # Channels posted to at once (Discord limits each channel to about 5 messages per 5 s anyway).
    concurrency: int = 4
    # How often to look for work without being woken (retries after a failed delivery).
    interval: float = 5.0
    batch: int = 100
    # Housekeeping, so the store never only grows: how often, after how long a silent process's row is deleted (its
    # claims and submits are free long before), and how long a request a limit refused stays for its Try again.
    tidy_every: float = 600.0
    forget_workers_after: float = 3600.0
    forget_drafts_after: float = 24 * 3600.0


@dataclass(slots=True)
class _Hold:
    """Failures in a row (of a channel, a job, or every channel) and the loop-timer time before which to wait."""

    failures: int = 0
    until: float = 0.0


# The key of a global Discord rate limit's wait in the store's holds, shared by every process of the bot.
DISCORD_HOLD = "hold:discord"

# Owners of the couriers running in this very process (tests run several bots in one): alive, whatever their last
# beat says, since we know it here rather than guess it from the store.
_RUNNING_HERE: set[str] = set()


def this_host() -> str:
    """Where this process's id means something: the machine's name and, on Linux, its process-id namespace.

    Containers that share a hostname (host networking, a fixed `hostname:`) each number their processes apart: a
    process id read from another namespace says nothing here, and checking it would take a live bot for dead."""
    name = socket.gethostname()
    try:
        return f"{name} pidns:{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:  # not Linux: the machine's name is all we have
        return name


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
        timer: Timer | None = None,
    ) -> None:
        self._store = store
        self._on_delivered = on_delivered  # e.g. wake the community timers: a battle may be ready to open
        self._deliver = deliver
        self.config = config or CourierConfig()
        self._metrics = metrics
        self._now = now
        self.host = this_host()
        self.pid = os.getpid()
        self.owner = owner or f"{socket.gethostname()}:{self.pid}:{uuid.uuid4().hex[:8]}"
        # Two loops on the one base: delivery rounds, and the heartbeat that tells other processes we are alive.
        # A failed round (the store unreachable) is retried within a minute at most: songs are waiting.
        self._loop = Loop("courier", self._round, interval=self.config.interval, max_backoff=60.0, timer=timer)
        self._beats = Loop("heartbeat", self._beat, interval=self.config.heartbeat_every, timer=timer)
        # Housekeeping on a loop of its own: a slow DELETE must never hold up the heartbeat (other processes would
        # take this one for dead and its claims over).
        self._tidying = Loop("housekeeping", self.tidy, interval=self.config.tidy_every, timer=timer)
        self._started = False
        # Only channels being posted to right now (an entry goes when its count is back to 0).
        self._busy_channels: dict[int, int] = defaultdict(int)
        # Failures in a row, and the loop-timer time before which to wait: per channel (a per-route 429, a channel's
        # 5xx), per job (an error of its own), and for every channel (a global rate limit). Bounded: only channels and
        # jobs among the deliverable ones are kept (see _forget_holds).
        self._channel_holds: dict[int, _Hold] = {}
        self._job_holds: dict[int, _Hold] = {}
        self._global_hold = _Hold()

    # ---- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Say this process is alive, then deliver in the background until stopped."""
        await self._store.beat(self.owner, host=self.host, pid=self.pid)
        self._started = True
        _RUNNING_HERE.add(self.owner)
        self._loop.start()
        self._beats.start(first_in=self.config.heartbeat_every)  # it has just beaten
        self._tidying.start()

    async def stop(self, grace: float = 30.0) -> None:
        """Let the deliveries under way finish (cancel them after `grace` s), then retire this process."""
        if not self._started:
            return
        self._started = False
        # The heartbeat goes on while the last posts finish, so no other process takes their claims over.
        await self._loop.stop(grace)
        await self._tidying.stop(2.0)
        await self._beats.stop(2.0)  # a beat is one quick write
        _RUNNING_HERE.discard(self.owner)
        # Claims still held (a cancelled post) stay claimed: the next process takes them over at once, since
        # this owner is gone from the workers table.
        with contextlib.suppress(Exception):
            await self._store.retire(self.owner)

    def wake(self) -> None:
        """Look for finished jobs now (the poller calls this when a job finishes); jobs waiting out a Retry-After or
        a backoff still wait."""
        self._loop.wake()

    @property
    def running(self) -> bool:
        """The delivery loop is running."""
        return self._loop.running

    @property
    def loop(self) -> Loop:
        """The delivery loop (its heartbeat is what /healthz reads)."""
        return self._loop

    def busy_in(self, channel_id: int) -> bool:
        """A song is being posted in this channel right now (status-card edits there wait their turn)."""
        return self._busy_channels.get(channel_id, 0) > 0

    async def _round(self) -> Next:
        while await self.run_once() and not self._loop.stopping:
            pass  # more may have finished meanwhile
        self._loop.backoff.reset()  # a round that got here went well: an earlier store hiccup is forgotten
        # A job waiting out a hold is tried again when the hold ends, not only at the next interval.
        return Next(after=self._until_next_retry())

    async def _beat(self) -> None:
        try:
            await self._store.beat(self.owner, host=self.host, pid=self.pid)
        except Exception:
            # Logged and tried again at the usual cadence: backing off would make us look dead to other processes.
            log.exception("could not record this process's heartbeat")

    async def tidy(self) -> None:
        """Delete what nobody needs any more: rows of processes silent for long, and refused requests whose Try
        again is long past (any process may do it; doing it twice deletes nothing more)."""
        gone = await self._store.forget_silent_workers(silent_for=self.config.forget_workers_after)
        drafts = await self._store.forget_refused_drafts(older_than=self.config.forget_drafts_after)
        if gone or drafts:
            log.info("housekeeping: forgot %d silent process(es) %s and %d refused request(s)", len(gone), gone, drafts)

    # ---- one round -------------------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Deliver everything deliverable now: concurrently across channels, in order within each; return how many
        were delivered."""
        if await self._store.held_for(DISCORD_HOLD) > 0:
            return 0  # a global rate limit another process met: nobody posts until it is over
        dead = await self.dead_owners()
        ready = await self._store.deliverable(lease_seconds=self.config.lease, dead_owners=dead,
                                              limit=self.config.batch)
        self._forget_holds(ready)
        ready = [job for job in ready if not self._held(job)]
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
                    delivered = 0
                    for job in jobs:
                        # A failure for now earlier in this round holds the rest of the channel (or every channel).
                        if not self._held(job):
                            delivered += await self._deliver_one(job.id, dead)
                    return delivered
                finally:
                    self._busy_channels[channel_id] -= 1
                    if not self._busy_channels[channel_id]:
                        del self._busy_channels[channel_id]

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
            # Our own process id: another bot running in this very process (tests run several) is alive even between
            # its beats; otherwise an earlier run of this process id (restarted by a supervisor in this namespace) is
            # gone if it fell silent before we started. (A restarted container has a namespace of its own: its
            # earlier run is taken over once silent, like a process on another machine.)
            if worker.owner in _RUNNING_HERE:
                return False
            return started is not None and worker.heartbeat_at < started
        return not process_alive(worker.pid)

    async def _deliver_one(self, job_id: int, dead: set[str]) -> int:
        job = await self._store.claim_delivery(job_id, owner=self.owner, lease_seconds=self.config.lease,
                                               dead_owners=dead)
        if job is None:
            return 0  # another live owner claimed it, or it is delivered already
        # Stopped by an event, never cancelled: a cancel landing in the middle of its write could leave a pooled
        # connection inside its transaction, holding SQLite's write lock.
        done = asyncio.Event()
        renewer = asyncio.create_task(self._renew(job.id, done), name=f"chorus-renew-{job.id}")
        try:
            where = await self._deliver(job)
        except PermanentDeliveryError as exc:
            log.error("job %d cannot be delivered, giving up: %s", job.id, exc)
            self._job_holds.pop(job.id, None)
            await self._store.release_delivery(job.id, str(exc), owner=self.owner, give_up=True)
            return 0
        except Exception as exc:
            await self._failed_for_now(job, exc)
            return 0
        finally:
            done.set()
            await renewer
        # It got through: the channel (and every channel) is no longer held, and its next failure starts afresh.
        self._channel_holds.pop(job.channel_id, None)
        self._job_holds.pop(job.id, None)
        self._global_hold.failures = 0
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

    async def _failed_for_now(self, job: Job, exc: Exception) -> None:
        """Release a failed delivery to be tried again after a hold, or give it up once the job is older than
        `give_up_after`: never by the number of attempts, so an outage of any length short of that loses nothing."""
        reason = f"{type(exc).__name__}: {exc}"
        finished_at = job.finished_at if job.finished_at is not None else job.created_at
        age = await self._store.clock() - finished_at
        if age >= self.config.give_up_after:
            log.error("job %d could not be delivered in %.1f h (%d attempts); giving up: %s", job.id, age / 3600,
                      job.delivery_attempts, reason)
            self._job_holds.pop(job.id, None)
            await self._store.release_delivery(job.id, reason, owner=self.owner, give_up=True)
            return
        if isinstance(exc, RetryLater):
            # Discord, or the proxy in front of it, is busy or down: the whole channel waits (every channel for a
            # global limit), since its next posts would only be refused too.
            hold = self._global_hold if exc.everywhere else self._channel_holds.setdefault(job.channel_id, _Hold())
            asked = min(exc.retry_after or 0.0, self.config.max_retry_after)
        else:
            hold = self._job_holds.setdefault(job.id, _Hold())  # something about this job: the others go on
            asked = 0.0
        hold.failures += 1
        wait = max(asked, min(self.config.retry_base * 2.0 ** min(hold.failures - 1, 32), self.config.retry_cap))
        hold.until = self._loop.timer.now() + wait
        if isinstance(exc, RetryLater):
            log.warning("delivering job %d failed for now (%s; attempt %d); %s waits %.1fs", job.id, exc,
                        job.delivery_attempts, "every channel" if exc.everywhere else f"channel {job.channel_id}",
                        wait)
        else:
            log.error("delivering job %d failed (attempt %d); trying it again in %.1fs", job.id,
                      job.delivery_attempts, wait, exc_info=exc)
        # The wait goes into the store too, so that no other process (nor this one restarted) posts early: on the job
        # (and its channel's waiting songs for a per-route limit); a global limit holds every process's rounds.
        scope: DeliveryHold = "channel" if isinstance(exc, RetryLater) and not exc.everywhere else "job"
        if isinstance(exc, RetryLater) and exc.everywhere:
            await self._store.hold_off(DISCORD_HOLD, wait)
        await self._store.release_delivery(job.id, reason, owner=self.owner, give_up=False, retry_in=wait, hold=scope)

    def _held(self, job: Job) -> bool:
        """The job waits: every channel, its channel or the job itself is held by a Retry-After or a backoff."""
        now = self._loop.timer.now()
        holds = (self._global_hold, self._channel_holds.get(job.channel_id), self._job_holds.get(job.id))
        return any(hold is not None and hold.until > now for hold in holds)

    def _forget_holds(self, ready: list[Job]) -> None:
        """Keep holds for channels and jobs still waiting to be delivered, and any hold not over yet (a channel whose
        jobs fell past this batch keeps its Retry-After); the rest is forgotten, so the state stays as small as the
        work."""
        channels, ids, now = {job.channel_id for job in ready}, {job.id for job in ready}, self._loop.timer.now()
        self._channel_holds = {key: hold for key, hold in self._channel_holds.items()
                               if key in channels or hold.until > now}
        self._job_holds = {key: hold for key, hold in self._job_holds.items() if key in ids or hold.until > now}

    def _until_next_retry(self) -> float | None:
        """Seconds until the earliest hold ends, when that comes before the interval (None: the interval)."""
        now = self._loop.timer.now()
        holds = (self._global_hold, *self._channel_holds.values(), *self._job_holds.values())
        ahead = [hold.until - now for hold in holds if hold.until > now]
        return min(self.config.interval, *ahead) if ahead else None

    async def _renew(self, job_id: int, done: asyncio.Event) -> None:
        """Keep the claim's lease fresh while a slow delivery (large files, rate limits) runs, until `done`."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), self.config.renew_every)
                return
            try:
                if not await self._store.renew_claim(job_id, owner=self.owner):
                    log.warning("lost the delivery claim of job %d while posting it", job_id)
                    return
            except Exception:
                log.exception("could not renew the delivery claim of job %d", job_id)
