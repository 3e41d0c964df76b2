"""The one loop base (bot.core.loop) every background loop runs on: the not-before rule, graceful stop, backoff and
heartbeat, proven once for all five loops. Time is a ManualTimer the test moves, so minutes pass in no time."""

from __future__ import annotations

import asyncio
import itertools
import math

import pytest

from bot.core.loop import Backoff, Loop, Next
from tests.timing import ManualTimer, settle


class Rounds:
    """A round that records when it ran (timer time) and answers what the test queued (default: Next())."""

    def __init__(self, timer: ManualTimer) -> None:
        self.timer = timer
        self.at: list[float] = []
        self.answers: list[Next | Exception | None] = []

    async def __call__(self) -> Next | None:
        self.at.append(self.timer.now())
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def timer() -> ManualTimer:
    return ManualTimer()


@pytest.fixture
async def running(timer):
    loops: list[Loop] = []

    def make(rounds: Rounds, **options) -> Loop:
        loop = Loop("test", rounds, timer=timer, **{"interval": 5.0, **options})
        loops.append(loop)
        loop.start()
        return loop

    yield make
    for loop in loops:
        await loop.stop(grace=1)


async def test_a_wake_never_brings_a_round_before_the_hold(timer, running):
    """A round that asks to be left alone for 20 s (a Retry-After, a backoff) is not run again before then, however
    often the loop is woken; the wakes bring the next round to the end of the hold, not to the full interval."""
    rounds = Rounds(timer)
    rounds.answers = [Next(after=60.0, hold=20.0)]
    loop = running(rounds)
    await settle()
    start = rounds.at[0]
    for _ in range(9):
        loop.wake()
        await timer.advance(2.0)
    loop.wake()
    await timer.advance(1.5)
    assert rounds.at == [start]
    await timer.advance(0.5)
    assert rounds.at == [start, start + 20.0]


async def test_a_wake_brings_the_next_round_forward_when_nothing_holds(timer, running):
    """Without a hold, a wake runs the next round now rather than after the interval."""
    rounds = Rounds(timer)
    rounds.answers = [Next(after=60.0)]
    loop = running(rounds)
    await settle()
    await timer.advance(3.0)
    loop.wake()
    await settle()
    assert rounds.at == [rounds.at[0], rounds.at[0] + 3.0]


async def test_a_wake_with_a_not_before_time_runs_then_and_not_sooner(timer, running):
    """wake(delay) asks for a round, but not before `delay` seconds from now; a plain wake later still brings it
    to now, and the interval still applies when it is shorter."""
    rounds = Rounds(timer)
    rounds.answers = [Next(after=60.0), Next(after=60.0), Next(after=60.0)]
    loop = running(rounds)
    await settle()
    start = rounds.at[0]
    loop.wake(10.0)
    await timer.advance(9.0)
    assert rounds.at == [start]
    await timer.advance(1.0)
    assert rounds.at == [start, start + 10.0]
    loop.wake(30.0)
    await timer.advance(5.0)
    loop.wake()
    await settle()
    assert rounds.at == [start, start + 10.0, start + 15.0]


async def test_a_wake_during_a_round_brings_the_round_after_it_forward(timer, running):
    """A wake that arrives while a round runs (a submit during a poll cycle) is not lost: the next round follows."""
    gate = asyncio.Event()
    ran: list[float] = []
    loop: Loop

    async def slow_round() -> Next:
        ran.append(timer.now())
        if len(ran) == 1:
            await gate.wait()
        return Next(after=60.0)

    loop = running(slow_round)
    await settle()
    loop.wake()  # during the first round
    gate.set()
    await settle()
    assert len(ran) == 2


async def test_stop_lets_the_round_under_way_finish_then_runs_no_more(timer, running):
    """stop() waits for the round under way to finish (nothing is cut off half-way), and no round follows."""
    gate = asyncio.Event()
    finished: list[bool] = []

    async def busy_round() -> None:
        await gate.wait()
        finished.append(True)

    loop = running(busy_round)
    await settle()
    stopping = asyncio.create_task(loop.stop(grace=60))
    await settle()
    assert not stopping.done() and loop.running
    gate.set()
    await asyncio.wait_for(stopping, 5)
    assert finished == [True]
    assert not loop.running
    await timer.advance(3600)
    assert finished == [True]


async def test_stop_cancels_a_round_that_outlives_the_grace(timer, running):
    """A round that does not finish within the grace is cancelled, and the loop is stopped."""
    cancelled = asyncio.Event()

    async def hung_round() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    loop = running(hung_round)
    await settle()
    await asyncio.wait_for(loop.stop(grace=0.05), 5)
    assert cancelled.is_set()
    assert not loop.running


async def test_stop_ends_a_waiting_loop_at_once(timer, running):
    """A loop waiting for its next round (even one held for an hour) stops without waiting it out."""
    rounds = Rounds(timer)
    rounds.answers = [Next(after=3600.0, hold=3600.0)]
    loop = running(rounds)
    await settle()
    await asyncio.wait_for(loop.stop(grace=60), 5)
    assert not loop.running
    assert len(rounds.at) == 1


async def test_a_failing_round_backs_off_exponentially_up_to_the_cap_held_against_wakes(timer, running):
    """A round that raises is retried after interval·2ⁿ (capped), and wakes do not cut that short; one success
    resets it."""
    rounds = Rounds(timer)
    rounds.answers = [RuntimeError("store hiccup")] * 5
    loop = running(rounds, interval=1.0, max_backoff=10.0)
    await settle()
    for _ in range(66):
        loop.wake()
        await timer.advance(1.0)
    gaps = [b - a for a, b in itertools.pairwise(rounds.at)]
    assert gaps[:6] == [2.0, 4.0, 8.0, 10.0, 10.0, 1.0]  # then succeeded: woken every second again
    assert loop.backoff.failures == 0


def test_backoff_is_capped_exponential():
    """base with no failures, base·2ⁿ after n, never above the cap, and no overflow after very many failures."""
    backoff = Backoff(5.0, 300.0)
    assert backoff.delay == 5.0
    assert [backoff.failed() for _ in range(8)] == [10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0]
    for _ in range(5000):
        backoff.failed()
    assert backoff.delay == 300.0
    backoff.reset()
    assert backoff.delay == 5.0


async def test_heartbeat_says_alive_while_rounds_end_and_not_when_stuck_or_stopped(timer):
    """The heartbeat /healthz reads: not alive before a round ended, alive while rounds end on time, not alive once a
    round has been stuck for several waits, and not after stop."""
    gate = asyncio.Event()
    count = 0

    async def round_() -> Next:
        nonlocal count
        count += 1
        if count == 2:
            await gate.wait()  # the second round hangs (a call that never answers)
        return Next(after=5.0)

    loop = Loop("test", round_, interval=5.0, timer=timer)
    assert not loop.alive()
    loop.start(first_in=1.0)
    await settle()
    assert not loop.alive()  # no round has ended yet
    await timer.advance(1.0)
    assert loop.alive() and loop.seconds_since_round() == 0.0
    await timer.advance(5.0)  # the second round starts and hangs
    await timer.advance(3 * 5.0 + 30.0 - 5.0)
    assert loop.alive()
    await timer.advance(1.0)
    assert not loop.alive()
    gate.set()
    await settle()
    assert loop.alive()
    await loop.stop(grace=1)
    assert not loop.alive()


async def test_a_loop_idle_until_woken_is_alive_and_waits_for_its_first_wake(timer):
    """start(first_in=inf): no round until woken (status cards); idle is alive once a round has ended."""
    rounds = Rounds(timer)
    rounds.answers = [Next(after=math.inf)]
    loop = Loop("idle", rounds, interval=5.0, timer=timer)
    loop.start(first_in=math.inf)
    try:
        await timer.advance(3600)
        assert rounds.at == []
        loop.wake()
        await settle()
        assert len(rounds.at) == 1
        await timer.advance(86400)
        assert loop.alive() and len(rounds.at) == 1
    finally:
        await loop.stop(grace=1)
