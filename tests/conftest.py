"""Shared fixtures: real objects, fully set up, on loopback and temp files."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.store import NewJob, Requester, SqliteJobStore


class FakeClock:
    """A wall clock tests move by hand, shared by the store and the poller."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "data" / "chorus.db"


@pytest.fixture
async def store(db_path, clock) -> AsyncIterator[SqliteJobStore]:
    opened = await SqliteJobStore.open(db_path, now=clock)
    yield opened
    await opened.close()


ALICE = Requester(user_id=1001, channel_id=2001, guild_id=3001)


def new_job(provider: str = "suno", action: str = "MUSIC", requester: Requester = ALICE) -> NewJob:
    return NewJob(requester, provider, action, params={"description": "a song"})  # type: ignore[arg-type]
