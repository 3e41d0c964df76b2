"""A loop timer tests move by hand (bot.core.loop.Timer), so waits of minutes are checked in no time at all."""

from __future__ import annotations

import asyncio


class ManualTimer:
    """`now()` only moves when the test calls `advance`; `sleep` returns once it has moved far enough."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start
        self._moved: asyncio.Event | None = None

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        end = self.t + seconds
        while self.t < end:
            if self._moved is None:
                self._moved = asyncio.Event()
            await self._moved.wait()

    async def advance(self, seconds: float) -> None:
        """Move the clock, then let everything that was waiting for it run."""
        self.t += seconds
        if self._moved is not None:
            self._moved.set()
            self._moved = None
        await settle()


async def settle(rounds: int = 50) -> None:
    """Let every task that can run, run (the loop under test does no real I/O in these tests)."""
    for _ in range(rounds):
        await asyncio.sleep(0)
