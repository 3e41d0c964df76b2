"""One background loop, written once for the engine's five (poller, courier, community timers, credit watch, status
cards): start, graceful stop, wake with a not-before time, a heartbeat for /healthz and capped exponential backoff.

A loop runs a *round* again and again. After each round it waits: until the round's `after` (the interval unless
the round says otherwise) or until woken, whichever comes first, but never before the round's `hold`. A hold is a
time the other side asked for (CometAPI's Retry-After, Discord's) or the error backoff: no wake cuts it short, so
member activity (a submit wakes the poller) can never turn a rate limit into a burst of calls. A wake may name a
not-before time of its own ("a round, but not before t"): it brings the next round forward to that time at most.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Timer(Protocol):
    """The clock a loop waits on and how it sleeps (tests inject one they move by hand)."""

    def now(self) -> float:
        """Seconds on a clock that never goes backwards."""

    async def sleep(self, seconds: float) -> None:
        """Sleep about `seconds` on that clock (a loop re-checks the clock afterwards, so early is fine)."""


class MonotonicTimer:
    """The real timer: time.monotonic() and asyncio.sleep (a wall-clock jump never shortens or stretches a wait)."""

    def now(self) -> float:
        """time.monotonic()."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """asyncio.sleep."""
        await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class Next:
    """What a round asks of the wait after it.

    `after`: seconds until the next round unless woken sooner (None: the loop's interval; math.inf: only when woken).
    `hold`: seconds before which no round may run, whatever wakes it (a Retry-After, a backoff, a minimum pause).
    """

    after: float | None = None
    hold: float = 0.0


class Backoff:
    """Capped exponential backoff: `base` with no failures, then base·2ⁿ after n failures in a row, at most `cap`."""

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = max(cap, base)
        self.failures = 0

    @property
    def delay(self) -> float:
        """The wait the failures so far call for."""
        if not self.failures:
            return self.base
        # min() before the power would overflow: 2.0 ** 2000 is an OverflowError, not infinity.
        return min(self.base * 2.0 ** min(self.failures, 64), self.cap)

    def failed(self) -> float:
        """Count one more failure; return the wait it calls for."""
        self.failures += 1
        return self.delay

    def reset(self) -> None:
        """A success: the next failure starts from `base` again."""
        self.failures = 0


Round = Callable[[], Awaitable[Next | None]]


class Loop:
    """Runs `work`, one round at a time, until stopped. A round that raises is logged and followed by the backoff
    (held: no wake cuts it short); a round that returns None succeeded (the backoff resets) and the next comes after
    the interval; a round that returns a `Next` judges its own errors (telling `backoff`) and says when the next
    should come."""

    def __init__(
        self,
        name: str,
        work: Round,
        *,
        interval: float,
        max_backoff: float = 300.0,
        grace: float = 30.0,
        timer: Timer | None = None,
    ) -> None:
        self.name = name
        self._round = work
        self.interval = interval
        self.grace = grace
        self.timer: Timer = timer or MonotonicTimer()
        self.backoff = Backoff(interval, max_backoff)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Set by wake() and stop(): a wait re-reads its target.
        self._changed = asyncio.Event()
        self._due = 0.0  # when the next round is planned (timer clock)
        self._hold = 0.0  # no round before this, whatever wakes the loop
        self._woken: float | None = None  # the earliest time a wake since the last round started asked for
        # The heartbeat: when the last round ended, and the wait it planned after it.
        self.last_round_at: float | None = None
        self.last_wait: float = interval

    # ---- lifecycle -------------------------------------------------------------------------------------------

    def start(self, *, first_in: float = 0.0) -> None:
        """Run rounds in the background, the first `first_in` seconds from now (math.inf: at the first wake);
        idempotent while running."""
        if self.running:
            return
        self._stopping = False
        now = self.timer.now()
        self._due, self._hold, self._woken = now + first_in, now, None
        self._task = asyncio.create_task(self._run(), name=f"chorus-{self.name}")

    async def stop(self, grace: float | None = None) -> None:
        """Stop: a loop that is waiting stops at once; a round under way is let finish, and cancelled after `grace`
        seconds (the loop's own grace when None)."""
        task = self._task
        if task is None:
            return
        self._stopping = True
        self._changed.set()
        grace = self.grace if grace is None else grace
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            log.warning("%s: the round under way did not finish within %.0fs of shutdown; cancelling it", self.name,
                        grace)
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        self._task = None

    def wake(self, delay: float = 0.0) -> None:
        """Bring the next round forward to `delay` seconds from now (now by default): never later than it was due
        anyway, never before the hold the last round asked for. Any round that starts after this call answers it."""
        at = self.timer.now() + max(delay, 0.0)
        self._woken = at if self._woken is None else min(self._woken, at)
        self._changed.set()

    @property
    def running(self) -> bool:
        """The loop's task is alive (not stopped, not crashed)."""
        return self._task is not None and not self._task.done()

    @property
    def stopping(self) -> bool:
        """stop() was called: a round that loops within itself should end soon."""
        return self._stopping

    @property
    def held_until(self) -> float:
        """The timer time before which no round will run (a Retry-After, a backoff)."""
        return self._hold

    # ---- heartbeat -------------------------------------------------------------------------------------------

    def seconds_since_round(self) -> float | None:
        """Seconds since the last round ended (None before the first)."""
        return None if self.last_round_at is None else self.timer.now() - self.last_round_at

    def alive(self, *, waits: float = 3.0, slack: float = 30.0) -> bool:
        """Running, and a round ended within `waits` of its own waits (at least the interval) plus `slack`: a loop
        stuck in a round (a hung call), or that never finished one, is not alive. A loop idle until woken is."""
        age = self.seconds_since_round()
        if not self.running or age is None:
            return False
        if math.isinf(self.last_wait):
            return True
        return age <= waits * max(self.interval, self.last_wait) + slack

    # ---- the loop ----------------------------------------------------------------------------------------------

    async def _run(self) -> None:
        await self._wait()
        while not self._stopping:
            # A wake before this round is answered by it; one during it brings the round after it forward.
            self._woken = None
            try:
                result = await self._round()
                if result is None:
                    self.backoff.reset()
                    result = Next()
            except Exception:
                # A round must never kill the loop: a store hiccup is retried after the backoff.
                delay = self.backoff.failed()
                log.exception("%s: round failed; next in %.1fs", self.name, delay)
                result = Next(after=delay, hold=delay)
            now = self.timer.now()
            after = self.interval if result.after is None else result.after
            wait = max(after, result.hold)
            self.last_round_at, self.last_wait = now, wait
            self._hold = now + result.hold
            self._due = now + wait
            await self._wait()

    def _target(self) -> float:
        due = self._due if self._woken is None else min(self._due, self._woken)
        return max(due, self._hold)

    async def _wait(self) -> None:
        """Until the next round's time (re-read whenever woken), or until stopped."""
        while not self._stopping:
            target = self._target()
            now = self.timer.now()
            if target <= now:
                return
            self._changed.clear()
            changed = asyncio.ensure_future(self._changed.wait())
            waits: set[asyncio.Future[Any]] = {changed}
            if not math.isinf(target):
                waits.add(asyncio.ensure_future(self.timer.sleep(target - now)))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waits:
                    waiter.cancel()  # the sleep or the event wait that lost the race
