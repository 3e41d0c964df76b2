"""What a submit does to the poller (issue 18, calls per poll interval): the first song after a quiet spell is asked
about at once; songs asked for while others are in flight join the poller's next regular cycle, so a steady trickle
of submits never turns into woken cycles that each fetch one or two new jobs as a partial batch of their own. The
real bot, the fake Discord and the simulator; the poll interval is long, so every fetch the test sees was brought
by a submit."""

from __future__ import annotations

import asyncio

from bot.core.poller import PollerConfig
from bot.simulator import ManualClock, SimulatorServer, Timings
from tests.conftest import API_KEY
from tests.e2e import eventually
from tests.harness import BotHarness

INTERVAL = 60.0  # no regular cycle comes while the test runs: every fetch after the first cycle is a submit's
BATCH = 10


async def test_songs_asked_for_while_others_are_in_flight_wait_for_the_next_cycle(fake_discord, tmp_path):
    fake = fake_discord
    # Songs take their realistic time on a clock that stands still: every song stays in flight.
    async with SimulatorServer(api_key=API_KEY, timings=Timings(), clock=ManualClock(), shutdown_timeout=0.2) as sim:
        running = BotHarness(fake, sim, tmp_path / "chorus.db",
                             poller=PollerConfig(interval=INTERVAL, batch_size=BATCH, deadline=600))
        bot = await running.start()
        try:
            await _trickle(fake, sim, bot)
        finally:
            await running.stop()


async def _trickle(fake, simulator, bot) -> None:
    """The first song to an idle poller, then four more while it is in flight."""
    async def first_cycle_done() -> bool:
        return bot.poller.last_cycle_at is not None

    await eventually(first_cycle_done)  # the cycle at start found nothing: the poller is idle

    await fake.slash_command("suno", {"prompt": "the first song of the evening"}, user=fake.alice)

    async def fetched_once() -> bool:
        return bool(simulator.count("batch_fetch") == 1)

    await eventually(fetched_once)  # idle: the new song was asked about at once, not an interval later

    for n in range(4):
        await fake.slash_command("suno", {"prompt": f"another song, number {n}"}, user=fake.bob)

    async def all_submitted() -> bool:
        return bool(simulator.count("submit_music") == 5)

    await eventually(all_submitted)
    await asyncio.sleep(0.5)  # room for the fetches a wake per submit would bring
    # One song in flight when they came: the four wait for the next regular cycle, which fetches all five at once.
    assert simulator.count("batch_fetch") == 1
