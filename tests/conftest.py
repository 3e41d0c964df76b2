"""Shared fixtures: real objects, fully set up, on loopback and temp files."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.domain import JamLine, NewJob, Requester
from bot.store import JobStore, open_store


class FakeClock:
    """A wall clock tests move by hand, shared by the store and the poller."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RunningClock:
    """A wall clock that runs with real time, and that a test may also move forward by hand (minutes in a moment)."""

    def __init__(self) -> None:
        self._ahead = 0.0

    @property
    def now(self) -> float:
        return time.time() + self._ahead

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self._ahead += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "data" / "chorus.db"


@pytest.fixture
async def store(db_path, clock) -> AsyncIterator[JobStore]:
    opened = await open_store(str(db_path), now=clock)
    yield opened
    await opened.close()


# ---- PostgreSQL: a fresh database per test on the cluster .ci/run starts (skipped where there is none) ----------

POSTGRES_ENV = "CHORUS_TEST_POSTGRES_URL"


def postgres_admin_url() -> str:
    """The test cluster's DSN, or skip: the quick-start test command must pass on a machine without PostgreSQL."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"no PostgreSQL for the tests: set {POSTGRES_ENV} (.ci/run starts a throwaway cluster and sets it)")
    return url


def with_database(url: str, name: str) -> str:
    """The same server, another database."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A DSN of a new, empty database, dropped after the test."""
    import asyncpg

    admin_url = postgres_admin_url()
    name = f"chorus_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(admin_url, name)
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, db_path):
    """Where a store contract test's store lives: a SQLite file, or a new PostgreSQL database (skipped without one).
    A test (or module) that takes it, or `store_on_both`, runs once on each backend."""
    if request.param == "sqlite":
        return str(db_path)
    return request.getfixturevalue("postgres_url")


@pytest.fixture
async def store_on_both(store_url, clock) -> AsyncIterator[JobStore]:
    """The store on each backend in turn, on the test's clock (modules of contract tests name it `store`)."""
    opened = await open_store(store_url, now=clock)
    yield opened
    await opened.close()


async def jam_line(store: JobStore, jam_id: int, user_id: int, line: str) -> JamLine:
    """Add a jam line where no limit stands in the way (the store tests that are not about the limits)."""
    added = await store.add_jam_line(jam_id, user_id, line, max_lines=1000, max_chars=100_000)
    assert added is not None
    return added


async def relax_limits(store: JobStore, guild_id: int) -> None:
    """No per-member or per-server limits in this guild (most tests fire several jobs at once)."""
    relaxed = {"max_concurrent": 0, "daily_quota": 0, "daily_budget": 0, "cooldown_seconds": 0}
    await store.change_guild_settings(guild_id, lambda current: current.replace(**relaxed), by=None)


ALICE = Requester(user_id=1001, channel_id=2001, guild_id=3001)


def new_job(provider: str = "suno", action: str = "MUSIC", requester: Requester = ALICE) -> NewJob:
    return NewJob(requester, provider, action, params={"description": "a song"})  # type: ignore[arg-type]


# ---- CometAPI: the real client against the simulator over loopback HTTP ----------------------------------------

import aiohttp  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from bot.cometapi import CometAPI, RetryPolicy, Timeouts  # noqa: E402
from bot.simulator import SimulatorServer, Timings  # noqa: E402

API_KEY = "sk-test-9f8e7d6c5b4a3210"
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.5, jitter=0.0)
FAST_TIMEOUTS = Timeouts(fetch=0.5, submit=0.5, connect=0.5)


class SleepRecorder:
    """An injected sleep that records each backoff and yields without really waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def simulator() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(api_key=API_KEY, timings=Timings.instant(), shutdown_timeout=0.2) as sim:
        yield sim


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def cometapi(simulator, http_session, sleeps) -> CometAPI:
    return CometAPI(
        http_session, SecretStr(API_KEY), base_url=simulator.url, retry=FAST_RETRY, timeouts=FAST_TIMEOUTS, sleep=sleeps
    )


# ---- the real bot end to end: fake Discord + simulator + SQLite ---------------------------------------------------

from tests.fakes.discord.fixtures import fake_discord  # noqa: E402, F401


@pytest.fixture
async def harness(fake_discord, simulator, tmp_path):  # noqa: F811
    from tests.harness import BotHarness

    running = BotHarness(fake_discord, simulator, tmp_path / "chorus.db")
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def slow_harness(fake_discord, tmp_path):  # noqa: F811
    """The bot against a simulator whose songs take realistic time on a clock the test moves (sim_clock)."""
    from bot.simulator import ManualClock
    from tests.harness import BotHarness

    clock = ManualClock()
    async with SimulatorServer(api_key=API_KEY, timings=Timings(), clock=clock, shutdown_timeout=0.2) as sim:
        running = BotHarness(fake_discord, sim, tmp_path / "chorus.db")
        running.sim_clock = clock  # type: ignore[attr-defined]
        await running.start()
        yield running
        await running.stop()


class ShiftedClock:
    """The real clock plus an offset a test moves forward (a day passes at once), for the bot and its store."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        import time

        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
async def shifted_harness(fake_discord, simulator, tmp_path):  # noqa: F811
    """The bot on a clock the test can move forward (`shifted_harness.clock.advance(seconds)`): timers due in a day
    fire at once, and likes pressed "later" are later."""
    from tests.harness import BotHarness

    clock = ShiftedClock()
    running = BotHarness(fake_discord, simulator, tmp_path / "chorus.db", now=clock)
    running.clock = clock  # type: ignore[attr-defined]
    await running.start()
    yield running
    await running.stop()
