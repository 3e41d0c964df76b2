"""PostgreSQL-only promises of the shared store: concurrent starts migrate once, times come from the database's
clock, and poll claims split the in-flight jobs among processes without handing one job to two."""

from __future__ import annotations

import asyncio
import math
import time

import asyncpg
import pytest
import sqlalchemy as sa

from bot.database_url import describe_url
from bot.domain import JobUpdate
from bot.store import open_store
from tests.conftest import jam_line, new_job


async def seed_in_flight(store, n: int, *, udio: int = 0) -> list[int]:
    ids = []
    for index in range(n):
        job = await store.create(new_job("udio" if index < udio else "suno"))
        await store.mark_submitted(job.id, f"task-{index}")
        ids.append(job.id)
    return ids


async def test_processes_starting_together_create_the_schema_once(postgres_url):
    """Five processes opening a new database at once all succeed (one creates the schema under the migration lock,
    the others find it current), and Alembic records one version: the newest."""
    from alembic.script import ScriptDirectory

    from bot.store.database import alembic_config

    stores = await asyncio.gather(*(open_store(postgres_url) for _ in range(5)))
    try:
        jobs = [await store.create(new_job()) for store in stores]
        conn = await asyncpg.connect(postgres_url)
        try:
            versions = [row["version_num"] for row in await conn.fetch("SELECT version_num FROM alembic_version")]
            tables = {row["tablename"] for row in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )}
        finally:
            await conn.close()
    finally:
        await asyncio.gather(*(store.close() for store in stores))
    assert versions == [ScriptDirectory.from_config(alembic_config()).get_current_head()]
    assert "schema_migrations" not in tables
    assert [job.id for job in jobs] == [1, 2, 3, 4, 5]


async def test_times_come_from_the_database_clock_not_the_process_clock(postgres_url, monkeypatch):
    """With this process's clock an hour off, a job's timestamps and heartbeats still read the database's time."""
    store = await open_store(postgres_url)
    try:
        real = time.time()
        monkeypatch.setattr(time, "time", lambda: real - 3600.0)
        job = await store.create(new_job())
        await store.beat("me", host="h", pid=1)
        (worker,) = await store.workers()
        database_now = await store.clock()
    finally:
        monkeypatch.undo()
        await store.close()
    assert abs(job.created_at - real) < 60
    assert abs(worker.heartbeat_at - real) < 60
    assert abs(database_now - real) < 60


@pytest.fixture
async def three_processes(postgres_url, clock):
    """Three stores on one database, each a live process with a heartbeat."""
    stores = [await open_store(postgres_url, now=clock) for _ in range(3)]
    for index, store in enumerate(stores):
        await store.beat(f"p{index}", host="h", pid=index + 1)
    yield stores
    for store in stores:
        await store.close()


async def claim_round(stores, every: float = 5.0) -> list[list[int]]:
    claimed = await asyncio.gather(
        *(store.claim_polls(f"p{index}", every=every, peers_within=20) for index, store in enumerate(stores))
    )
    return [[job.id for job in jobs] for jobs in claimed]


async def test_three_processes_claiming_at_once_split_the_in_flight_jobs_without_overlap(three_processes, clock):
    """Three processes claiming at the same instant get disjoint shares of about a third each, covering every
    in-flight job; within the interval nobody is handed any of them again."""
    ids = await seed_in_flight(three_processes[0], 100, udio=10)
    shares = await claim_round(three_processes)
    flat = [job_id for share in shares for job_id in share]
    assert sorted(flat) == ids
    assert len(set(flat)) == len(flat)
    assert all(len(share) <= math.ceil(100 / 3) for share in shares)
    clock.advance(4.9)
    assert await claim_round(three_processes) == [[], [], []]
    clock.advance(0.2)
    again = [job_id for share in await claim_round(three_processes) for job_id in share]
    assert sorted(again) == ids


async def test_a_silent_processes_share_goes_to_the_others(three_processes, clock):
    """Once a process's heartbeat is older than `peers_within`, the two live ones split every job between them."""
    ids = await seed_in_flight(three_processes[0], 30)
    clock.advance(30)
    for index in (0, 1):
        await three_processes[index].beat(f"p{index}", host="h", pid=index + 1)
    first = await three_processes[0].claim_polls("p0", every=5, peers_within=20)
    second = await three_processes[1].claim_polls("p1", every=5, peers_within=20)
    assert (len(first), len(second)) == (15, 15)
    assert sorted(job.id for job in first + second) == ids


async def test_a_process_known_dead_stops_counting_at_once(three_processes, clock):
    """A process the courier knows is gone (its pid vanished on this host) leaves the share at once, before its
    heartbeat goes stale."""
    await seed_in_flight(three_processes[0], 30)
    claimed = await three_processes[0].claim_polls("p0", every=5, peers_within=20, dead_owners={"p2"})
    assert len(claimed) == 15


async def test_a_newly_submitted_job_is_claimed_at_once(three_processes, clock):
    """A job submitted after a round (never polled) is handed out on the next claim, interval or not."""
    await seed_in_flight(three_processes[0], 6)
    await claim_round(three_processes)
    fresh = await three_processes[0].create(new_job())
    await three_processes[0].mark_submitted(fresh.id, "fresh")
    assert [job.id for job in await three_processes[2].claim_polls("p2", every=5, peers_within=20)] == [fresh.id]


async def test_late_polls_are_claimed_once_per_interval_across_processes(three_processes, clock):
    """A timed-out job is handed to one process per late-poll interval, not to every process."""
    (job_id,) = await seed_in_flight(three_processes[0], 1)
    await three_processes[0].apply([JobUpdate(job_id, "timed_out", error="slow")])
    since = clock.now - 3600
    claimed = await asyncio.gather(
        *(store.overdue(since=since, owner=f"p{index}", every=300) for index, store in enumerate(three_processes))
    )
    assert sorted(len(jobs) for jobs in claimed) == [0, 0, 1]
    clock.advance(301)
    assert len(await three_processes[1].overdue(since=since, owner="p1", every=300)) == 1


async def run_to_postgres(db_path, postgres_url) -> tuple[int, str]:
    """`python -m bot.store.to_postgres sqlite:///<db_path> <postgres_url>`: its exit code and what it said."""
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.store.to_postgres", f"sqlite:///{db_path}", postgres_url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_a_sqlite_database_is_copied_to_an_empty_postgres_one_as_it_was(db_path, postgres_url, clock):
    """`python -m bot.store.to_postgres`: every job (in flight, finished, awaiting delivery), guild setting, persona
    and community row (likes, deleted songs, battles, challenges, jams, song of the day) arrives unchanged with its
    id; new rows continue after the copied ids; a non-empty target is refused."""
    from bot.domain import GuildSettings, NewBattle, NewChallenge, NewJam, Persona

    async def to_postgres() -> tuple[int, str]:
        return await run_to_postgres(db_path, postgres_url)

    source = await open_store(str(db_path), now=clock)
    running = await source.create(new_job(), owner="old")
    await source.mark_submitted(running.id, "in-flight")
    finished = await source.create(new_job("udio"), owner="old")
    await source.mark_submitted(finished.id, "done")
    await source.apply([JobUpdate(finished.id, "succeeded", progress=100, result={"clips": [{"id": "c1"}]})])
    await source.create(new_job())
    await source.change_guild_settings(3001, lambda s: s.replace(daily_quota=3, suno_enabled=False,
                                                                 allowed_channels=frozenset({7, 8}),
                                                                 song_of_day_channel_id=9, battle_minutes=30), by=42)
    before = [await source.get(job_id) for job_id in range(1, 4)]
    voice = Persona(3001, "Alto", "warm", "p-1", "c-1", 1001, finished.id)
    await source.add_persona(voice)
    await source.toggle_like(finished.id, 7, 3001, debounce=2.0)
    await source.remove_song(running.id, by=1001)
    battle = await source.create_battle(NewBattle(3001, 2, 1001, "p", "versus", finished.id, running.id, 60.0))
    await source.open_battle(battle.id, opened_at=clock(), closes_at=clock() + 60)
    await source.vote_battle(battle.id, 7, "b")
    challenge = await source.create_challenge(NewChallenge(3001, 2, "sea", 1001, clock() + 60, 60.0))
    await source.submit_entry(challenge.id, 1001, finished.id)
    jam = await source.create_jam(NewJam(3001, 2, 3, 1001, "rain"))
    line = await jam_line(source, jam.id, 7, "drops")
    await source.record_jam_song(jam.id, finished.id, [7, 1001])
    await source.claim_song_of_day(3001, 0.0, finished.id, 9)
    opened = await source.get_battle(battle.id)
    await source.close()

    assert await to_postgres() == (0, f"copied 3 job(s), 1 guild(s) and 11 persona and community row(s)"
                                      f" to {describe_url(postgres_url)}\n")
    target = await open_store(postgres_url, now=clock)
    try:
        assert [await target.get(job_id) for job_id in range(1, 4)] == before
        assert [p.id for p in await target.in_flight()] == [running.id]
        assert [j.id for j in await target.deliverable(lease_seconds=60)] == [finished.id]
        assert await target.guild_settings(3001) == GuildSettings(3001, allowed_channels=frozenset({7, 8}),
                                                                  suno_enabled=False, daily_quota=3,
                                                                  song_of_day_channel_id=9, battle_minutes=30)
        assert await target.personas(3001) == [voice]
        assert (await target.like_count(finished.id), await target.removed_songs([1, 2, 3])) == (1, {running.id})
        assert (await target.get_battle(battle.id), await target.battle_tally(battle.id)) == (opened, (0, 1))
        assert await target.current_challenge(3001) == challenge
        assert [e.job_id for e in await target.challenge_entries(challenge.id)] == [finished.id]
        assert (await target.get_jam(jam.id), await target.jam_lines(jam.id)) == (jam, [line])
        assert await target.jam_credits(finished.id) == [7, 1001]
        assert await target.song_of_day_done(3001, 0.0)
        assert (await target.create(new_job())).id == 4
        assert await target.add_persona(Persona(3001, "Bass", "", "p-2", "c-2", 1001))
        assert (await jam_line(target, jam.id, 7, "more")).id == line.id + 1
        assert (await target.create_jam(NewJam(3001, 2, 4, 1001, "sun"))).id == jam.id + 1
    finally:
        await target.close()
    code, said = await to_postgres()
    assert (code, said.startswith("not copied:")) == (1, True)


async def every_row(url: str) -> dict[str, list[dict[str, object]]]:
    """Every row of every table the copy carries, read through the schema's types (JSON decoded, flags as bools),
    in primary-key order: comparable across backends."""
    from bot.database_url import is_postgres, sqlite_path
    from bot.store.database import Database
    from bot.store.factory import engine_url
    from bot.store.to_postgres import COPIED

    database = await (Database.open_postgres(engine_url(url), max_size=1) if is_postgres(url)
                      else Database.open_sqlite(sqlite_path(url)))
    found = {}
    try:
        async with database.connect() as conn:
            for table in COPIED:
                rows = (await conn.execute(table.select().order_by(*table.primary_key.columns))).mappings().all()
                found[table.name] = [
                    {name: bool(value) if value is not None and isinstance(table.c[name].type, sa.Boolean) else value
                     for name, value in row.items()}
                    for row in rows
                ]
    finally:
        await database.close()
    return found


async def test_an_old_chorus_0_1_sqlite_file_is_copied_to_postgres_as_it_was(db_path, postgres_url, clock):
    """`python -m bot.store.to_postgres` on the file of a Chorus 0.1 install that never ran this version: it is
    brought up to date, then every row of every table (jobs in every state, settings, personas, every community
    row) arrives with its id and values; new ids continue after the old ones, a deleted newest persona's included;
    heartbeats stay behind; a second copy is refused."""
    from bot.domain import Persona
    from tests.test_store_upgrade import ALICE, GUILD, JOBS, OTHER_ROWS, fill_legacy, job

    await fill_legacy(str(db_path))
    code, said = await run_to_postgres(db_path, postgres_url)
    others = 4 + 2 + 2 + 1 + 2 + sum(len(rows) for name, rows in OTHER_ROWS.items() if name != "workers")
    warning, report = said.splitlines()
    assert "renamed 1 persona(s) whose names differed from another's only in case" in warning
    assert (code, report) == (0, f"copied {len(JOBS)} job(s), 2 guild(s) and {others} persona and community row(s)"
                                 f" to {describe_url(postgres_url)}")
    source, copied = await every_row(str(db_path)), await every_row(postgres_url)
    assert copied == source
    assert [name for name, rows in copied.items() if not rows] == []
    target = await open_store(postgres_url, now=clock)
    try:
        assert [await target.get(job_id) for job_id in range(1, len(JOBS) + 1)] == [job(n) for n in range(1, 9)]
        assert [p.id for p in await target.in_flight()] == [2, 3]
        assert [j.id for j in await target.deliverable(lease_seconds=60)] == [4, 5]
        assert [p.name for p in await target.personas(GUILD)] == ["Alto", "Nova", "nova (2)"]
        assert await target.workers() == []
        assert (await target.create(new_job())).id == len(JOBS) + 1
        assert await target.add_persona(Persona(GUILD, "Bass", "", "p-6", "c-6", ALICE))
    finally:
        await target.close()
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("SELECT id FROM personas WHERE name = 'Bass'") == 6  # 5 was deleted in 0.1
    finally:
        await conn.close()
    code, said = await run_to_postgres(db_path, postgres_url)
    assert (code, said.startswith("not copied:")) == (1, True)
