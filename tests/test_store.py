"""The store's contract, on both backends (a real SQLite file, and a fresh PostgreSQL database when the tests have
a cluster): transitions, claims, restarts. SQLite's file mode and its migrations (Alembic's) are checked here too."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest
import sqlalchemy as sa

from bot.domain import INTERRUPTED_SUBMIT, IllegalTransitionError, JobUpdate
from bot.store import open_store
from bot.store import schema as store_schema
from tests.conftest import ALICE, new_job


@pytest.fixture
def store(store_on_both):
    """The store under test: on SQLite, and on PostgreSQL when the tests have a cluster."""
    return store_on_both


GUILD = 3001  # ALICE's guild


def duplicate_error(store_url):
    """What each backend raises when a unique index refuses a row (SQLAlchemy's wrapper of the driver's error)."""
    del store_url
    return sa.exc.IntegrityError


def head_revision() -> str:
    """The newest Alembic revision of the store's migrations."""
    from alembic.script import ScriptDirectory

    from bot.store.database import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def sqlite_catalog(path) -> list[tuple[str, str, str | None]]:
    """Everything SQLite's catalog holds (tables, indexes and their SQL), and the journal mode, read with plain
    sqlite3."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        return [*rows, ("pragma", "journal_mode", conn.execute("PRAGMA journal_mode").fetchone()[0])]
    finally:
        conn.close()


async def test_fresh_database_is_migrated_in_wal_mode(db_path, caplog):
    """Opening a new file creates its folder and every table of the schema at once, records Alembic's newest
    revision (once), and uses WAL."""
    caplog.set_level(logging.INFO)
    assert not db_path.parent.exists()
    store = await open_store(str(db_path))
    await store.close()
    assert "created the database schema" in caplog.text
    catalog = sqlite_catalog(db_path)
    tables = {name for kind, name, _ in catalog if kind == "table" and not name.startswith("sqlite_")}
    assert tables == {*store_schema.metadata.tables, "alembic_version"}
    assert ("pragma", "journal_mode", "wal") in catalog
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]
    finally:
        conn.close()


async def test_reopening_applies_nothing_twice(db_path, caplog):
    """A second start finds the schema current: it creates and runs nothing, the catalog is unchanged, and the data
    is kept."""
    first = await open_store(str(db_path))
    job = await first.create(new_job())
    await first.close()
    catalog = sqlite_catalog(db_path)
    caplog.set_level(logging.INFO)
    caplog.clear()
    second = await open_store(str(db_path))
    try:
        assert (await second.get(job.id)) == job
    finally:
        await second.close()
    assert "created the database schema" not in caplog.text
    assert "Running upgrade" not in caplog.text
    assert sqlite_catalog(db_path) == catalog


async def test_job_lifecycle_follows_legal_transitions(store, clock):
    """submitting → queued → running → succeeded, with timestamps and a pending delivery at the end."""
    job = await store.create(new_job())
    assert (job.state, job.delivery, job.task_id) == ("submitting", "none", None)
    clock.advance(1)
    job = await store.mark_submitted(job.id, "task-1")
    assert (job.state, job.task_id, job.submitted_at) == ("queued", "task-1", clock.now)
    assert await store.apply([JobUpdate(job.id, "running", progress=40)]) == [job.id]
    assert await store.apply([JobUpdate(job.id, "succeeded", progress=100, result={"task_id": "task-1"})]) == [job.id]
    done = await store.get(job.id)
    assert done is not None
    assert (done.state, done.progress, done.delivery) == ("succeeded", 100, "pending")
    assert done.result == {"task_id": "task-1"}
    assert done.finished_at == clock.now


async def test_illegal_transitions_are_refused(store):
    """A finished job cannot be resubmitted or revived; apply() skips illegal moves."""
    job = await store.create(new_job())
    await store.mark_submitted(job.id, "t")
    await store.apply([JobUpdate(job.id, "failed", error="nope")])
    with pytest.raises(IllegalTransitionError):
        await store.mark_submitted(job.id, "t2")
    assert await store.apply([JobUpdate(job.id, "running", progress=10)]) == []
    assert (await store.get(job.id)).state == "failed"


async def test_in_flight_lists_only_queued_and_running(store):
    """The poller's query returns queued and running jobs, oldest first, and nothing else."""
    ids = []
    for index in range(4):
        job = await store.create(new_job())
        await store.mark_submitted(job.id, f"t{index}")
        ids.append(job.id)
    await store.apply([JobUpdate(ids[1], "running"), JobUpdate(ids[2], "succeeded", result={})])
    submitting = await store.create(new_job())
    pending = await store.in_flight()
    assert [p.id for p in pending] == [ids[0], ids[1], ids[3]]
    assert submitting.id not in [p.id for p in pending]
    assert pending[1].state == "running"


async def test_task_ids_are_unique_per_provider(store, store_url):
    """The same CometAPI task cannot be recorded for two jobs."""
    first = await store.create(new_job())
    second = await store.create(new_job())
    await store.mark_submitted(first.id, "dup")
    with pytest.raises(duplicate_error(store_url)):
        await store.mark_submitted(second.id, "dup")


async def _finished(store, task_id="t"):
    job = await store.create(new_job())
    await store.mark_submitted(job.id, task_id)
    await store.apply([JobUpdate(job.id, "succeeded", result={})])
    return job


ME = "host:1:me"


async def live(store, owner=ME):
    """Register `owner` as a live process (its first heartbeat)."""
    await store.beat(owner, host="host", pid=1)


async def test_claim_then_deliver_exactly_once(store):
    """A finished job can be claimed once, is then marked delivered, and is never deliverable again."""
    await live(store)
    job = await _finished(store)
    claimed = await store.claim_delivery(job.id, owner=ME, lease_seconds=60)
    assert claimed is not None
    assert (claimed.delivery, claimed.delivery_attempts) == ("claimed", 1)
    assert await store.claim_delivery(job.id, owner=ME, lease_seconds=60) is None
    assert await store.mark_delivered(job.id, channel_id=2001, message_id=999, owner=ME)
    assert await store.claim_delivery(job.id, owner=ME, lease_seconds=60) is None
    assert await store.deliverable(lease_seconds=60) == []
    done = await store.get(job.id)
    assert (done.delivery, done.delivered_message_id, done.delivered_channel_id) == ("delivered", 999, 2001)


async def test_concurrent_claimers_on_two_connections_get_one_claim(store_url, clock):
    """Two stores on the same database racing for the same jobs: each job is claimed by exactly one."""
    first = await open_store(store_url, now=clock)
    second = await open_store(store_url, now=clock)
    try:
        jobs = [await _finished(first, f"t{i}") for i in range(20)]
        await live(first, "a")
        await live(second, "b")

        async def claim_all(store, owner):
            claimed = []
            for job in jobs:
                if await store.claim_delivery(job.id, owner=owner, lease_seconds=60) is not None:
                    claimed.append(job.id)
                await asyncio.sleep(0)
            return claimed

        a, b = await asyncio.gather(claim_all(first, "a"), claim_all(second, "b"))
    finally:
        await first.close()
        await second.close()
    assert sorted(a + b) == [job.id for job in jobs]
    assert not set(a) & set(b)


async def test_expired_claim_is_taken_over_after_a_crash(store, clock):
    """A claim whose holder died is reclaimable once its lease runs out; the late holder cannot mark it."""
    await live(store)
    job = await _finished(store)
    assert await store.claim_delivery(job.id, owner=ME, lease_seconds=60) is not None
    clock.advance(30)
    assert await store.deliverable(lease_seconds=60) == []
    clock.advance(31)
    assert [j.id for j in await store.deliverable(lease_seconds=60)] == [job.id]
    again = await store.claim_delivery(job.id, owner="host:2:next", lease_seconds=60)
    assert again is not None
    assert again.delivery_attempts == 2
    assert not await store.mark_delivered(job.id, channel_id=1, message_id=2, owner=ME)
    assert (await store.get(job.id)).delivery == "claimed"


async def test_a_dead_owners_claim_is_taken_over_at_once(store, clock):
    """A claim whose owner is known to be gone (or stopped and retired) is free at once, lease or not."""
    await live(store)
    job = await _finished(store)
    assert await store.claim_delivery(job.id, owner=ME, lease_seconds=60) is not None
    assert await store.claim_delivery(job.id, owner="other", lease_seconds=60) is None
    assert await store.claim_delivery(job.id, owner="other", lease_seconds=60, dead_owners={ME}) is not None
    await store.retire("other")
    assert [j.id for j in await store.deliverable(lease_seconds=60)] == [job.id]


async def test_a_renewed_claim_outlives_its_first_lease(store, clock):
    """A slow delivery that renews its claim keeps it past the original lease; only its owner can renew."""
    await live(store)
    job = await _finished(store)
    await store.claim_delivery(job.id, owner=ME, lease_seconds=60)
    clock.advance(50)
    assert await store.renew_claim(job.id, owner=ME)
    assert not await store.renew_claim(job.id, owner="someone else")
    clock.advance(50)
    assert await store.deliverable(lease_seconds=60) == []
    assert await store.claim_delivery(job.id, owner="other", lease_seconds=60) is None


async def test_a_released_delivery_waits_its_retry_for_every_process(store):
    """A release with a wait keeps the job (and, for a channel's rate limit, the other songs waiting in that channel)
    out of every process's deliverable list until the wait is over."""
    import dataclasses

    await live(store)
    await live(store, "other")

    async def finished_in(channel_id: int):
        job = await store.create(new_job(requester=dataclasses.replace(ALICE, channel_id=channel_id)))
        await store.mark_submitted(job.id, f"t{job.id}")
        await store.apply([JobUpdate(job.id, "succeeded", result={})])
        return job

    async def waiting() -> set[int]:
        return {job.id for job in await store.deliverable(lease_seconds=60)}

    first, neighbour, elsewhere = await finished_in(2001), await finished_in(2001), await finished_in(2002)
    await store.claim_delivery(first.id, owner=ME, lease_seconds=60)
    await store.release_delivery(first.id, "HTTP 500", owner=ME, give_up=False, retry_in=3600)
    assert await waiting() == {neighbour.id, elsewhere.id}
    assert await store.claim_delivery(first.id, owner="other", lease_seconds=60) is None
    await store.claim_delivery(neighbour.id, owner=ME, lease_seconds=60)
    await store.release_delivery(neighbour.id, "429", owner=ME, give_up=False, retry_in=3600, hold="channel")
    assert await waiting() == {elsewhere.id}
    await store.claim_delivery(elsewhere.id, owner=ME, lease_seconds=60)
    await store.release_delivery(elsewhere.id, "HTTP 500", owner=ME, give_up=False, retry_in=0)
    assert await waiting() == {elsewhere.id}  # no wait asked: due at once


async def test_release_retries_or_gives_up(store):
    """A failed delivery goes back to pending, or is abandoned with its reason recorded."""
    await live(store)
    job = await _finished(store)
    await store.claim_delivery(job.id, owner=ME, lease_seconds=60)
    await store.release_delivery(job.id, "HTTP 500", owner=ME, give_up=False)
    assert (await store.get(job.id)).delivery == "pending"
    await store.claim_delivery(job.id, owner=ME, lease_seconds=60)
    await store.release_delivery(job.id, "Forbidden everywhere", owner=ME, give_up=True)
    gone = await store.get(job.id)
    assert (gone.delivery, gone.delivery_error) == ("abandoned", "Forbidden everywhere")
    assert await store.deliverable(lease_seconds=0) == []


async def test_restart_keeps_pending_jobs_and_deliveries(store_url, clock):
    """Closing and reopening the store (a restart) loses no in-flight job and no undelivered result."""
    store = await open_store(store_url, now=clock)
    running = await store.create(new_job())
    await store.mark_submitted(running.id, "a")
    finished = await _finished(store, "b")
    await live(store)
    await store.claim_delivery(finished.id, owner=ME, lease_seconds=60)  # the crash happens mid-delivery
    await store.close()
    clock.advance(61)
    reopened = await open_store(store_url, now=clock)
    try:
        assert [p.id for p in await reopened.in_flight()] == [running.id]
        assert [j.id for j in await reopened.deliverable(lease_seconds=60)] == [finished.id]
    finally:
        await reopened.close()


async def test_interrupted_submits_are_failed_and_reported(store, clock):
    """A job left in `submitting` by a crash is failed with an explanation and queued for a notice."""
    stuck = await store.create(new_job())
    clock.advance(300)
    fresh = await store.create(new_job())
    assert await store.recover_interrupted_submits(older_than=clock.now - 120) == [stuck.id]
    job = await store.get(stuck.id)
    assert (job.state, job.error, job.delivery) == ("submit_failed", INTERRUPTED_SUBMIT, "pending")
    assert (await store.get(fresh.id)).state == "submitting"


async def test_recent_jobs_for_a_member(store, clock):
    """/status's query: a member's newest jobs first, optionally within one guild."""
    ids = []
    for _ in range(3):
        ids.append((await store.create(new_job())).id)
        clock.advance(1)
    other = await store.create(new_job(requester=ALICE.__class__(user_id=7, channel_id=1)))
    recent = await store.recent_for_user(ALICE.user_id, guild_id=GUILD, limit=2)
    assert [job.id for job in recent] == [ids[2], ids[1]]
    assert other.id not in [job.id for job in await store.recent_for_user(ALICE.user_id)]


async def test_nonce_fits_discord_limit(store):
    """The delivery nonce is stable for a job and within Discord's 25 characters."""
    job = await store.create(new_job())
    assert job.nonce == f"chorus-job-{job.id}"
    assert len(job.nonce) <= 25


# ---- several processes on one database (on SQLite: two connections to one file) --------------------------------


async def test_two_stores_admitting_the_same_member_at_once_pass_a_limit_of_one_once(store_url, clock):
    """Two processes admitting the same member at the same instant: exactly one job is recorded, the other is refused
    with the concurrency limit."""
    from bot.core.limits import Admission, LimitReachedError
    from bot.domain import GuildSettings

    first = await open_store(store_url, now=clock)
    second = await open_store(store_url, now=clock)
    try:
        one_at_a_time = Admission(GuildSettings(GUILD, max_concurrent=1, cooldown_seconds=0))
        outcomes = await asyncio.gather(
            *(s.create(new_job(), one_at_a_time) for s in (first, second, first, second)), return_exceptions=True
        )
        created = [o for o in outcomes if not isinstance(o, BaseException)]
        refused = [o for o in outcomes if isinstance(o, LimitReachedError)]
        assert (len(created), len(refused)) == (1, 3)
        assert len(await first.recent_for_user(ALICE.user_id)) == 1
    finally:
        await first.close()
        await second.close()


async def test_a_submit_in_progress_in_another_live_process_is_never_recovered(store, clock):
    """An old `submitting` job recorded by another live process is left alone; once that process is known dead,
    or retired, it is failed as interrupted."""
    await live(store, "other")
    await live(store)
    theirs = await store.create(new_job(), owner="other")
    mine = await store.create(new_job(), owner=ME)
    clock.advance(300)
    assert await store.recover_interrupted_submits(older_than=clock.now - 120, owner=ME) == [mine.id]
    assert (await store.get(theirs.id)).state == "submitting"
    assert await store.recover_interrupted_submits(older_than=clock.now - 120, owner=ME, dead_owners={"other"}) == [
        theirs.id
    ]


async def test_a_dead_processes_submit_is_recovered_without_waiting_for_the_grace_period(store, clock):
    """A dead owner submits nothing any more: its `submitting` job is failed at once, however young."""
    await live(store, "dead")
    stuck = await store.create(new_job(), owner="dead")
    assert await store.recover_interrupted_submits(older_than=clock.now - 120, owner=ME) == []
    assert await store.recover_interrupted_submits(older_than=clock.now - 120, owner=ME, dead_owners={"dead"}) == [
        stuck.id
    ]


async def test_a_retired_processes_interrupted_submit_is_recovered(store, clock):
    """A submit whose owner stopped (no heartbeat row any more) is recovered by any process."""
    await live(store, "gone")
    stuck = await store.create(new_job(), owner="gone")
    await store.retire("gone")
    clock.advance(300)
    assert await store.recover_interrupted_submits(older_than=clock.now - 120, owner=ME) == [stuck.id]
    assert (await store.get(stuck.id)).submit_owner == "gone"


async def test_this_processes_own_submit_in_progress_is_left_alone(store, clock):
    """The owner's own submit is recovered unless it is among those it is submitting right now."""
    await live(store)
    busy = await store.create(new_job(), owner=ME)
    clock.advance(300)
    assert await store.recover_interrupted_submits(older_than=clock.now - 120, owner=ME, exclude={busy.id}) == []
    assert await store.recover_interrupted_submits(older_than=clock.now - 120, owner=ME) == [busy.id]


async def test_settings_changes_from_two_stores_both_stick(store_url, clock):
    """Two processes changing different settings of one guild at once: neither change undoes the other."""
    first = await open_store(store_url, now=clock)
    second = await open_store(store_url, now=clock)
    try:
        await asyncio.gather(
            first.change_guild_settings(GUILD, lambda s: s.replace(daily_quota=7), by=1),
            second.change_guild_settings(GUILD, lambda s: s.replace(cooldown_seconds=99), by=2),
            first.change_guild_settings(GUILD, lambda s: s.replace(suno_enabled=False), by=1),
            second.change_guild_settings(GUILD, lambda s: s.replace(allowed_channels=frozenset({5})), by=2),
        )
        settings = await first.guild_settings(GUILD)
    finally:
        await first.close()
        await second.close()
    assert (settings.daily_quota, settings.cooldown_seconds, settings.suno_enabled, settings.allowed_channels) == (
        7, 99, False, frozenset({5})
    )


async def test_the_store_clock_is_the_injected_one(store, clock):
    """clock() reports the store's time (here the test's clock), which the job's timestamps use."""
    assert await store.clock() == clock.now
    job = await store.create(new_job())
    assert job.created_at == clock.now


async def test_claim_polls_hands_a_single_process_every_in_flight_job(store, clock):
    """With one live process, its share of the poll is every in-flight job, oldest first."""
    await live(store)
    ids = []
    for index in range(3):
        job = await store.create(new_job())
        await store.mark_submitted(job.id, f"t{index}")
        ids.append(job.id)
    assert [p.id for p in await store.claim_polls(ME, every=5, peers_within=20)] == ids


async def test_overdue_lists_timed_out_jobs_within_their_grace(store, clock):
    """Late polling asks about timed-out jobs given up on since `since` (and not those given up on before)."""
    old = await store.create(new_job())
    await store.mark_submitted(old.id, "old")
    await store.apply([JobUpdate(old.id, "timed_out", error="slow")])
    clock.advance(100)
    recent = await store.create(new_job())
    await store.mark_submitted(recent.id, "recent")
    await store.apply([JobUpdate(recent.id, "timed_out", error="slow")])
    assert [p.id for p in await store.overdue(since=clock.now - 50, owner=ME, every=300)] == [recent.id]


async def test_take_turn_spaces_turns_of_one_key(store):
    """Turns of one key are at least `spacing` apart; other keys do not wait."""
    import time

    async def turn(key):
        await store.take_turn(key, spacing=0.2)
        return time.monotonic()

    first, second, other = await asyncio.gather(turn("identify:0"), turn("identify:0"), turn("identify:1"))
    assert abs(second - first) >= 0.19
    assert other - min(first, second) < 0.15


async def test_a_submit_recovered_as_interrupted_takes_its_late_task_id(store, clock):
    """Another process took this one for dead and failed its submit as interrupted ("may have started"), but the
    paid call went through: the task id recorded late takes the job back (queued, followed and posted as any song),
    and the notice not yet posted is dropped. Once the notice is out, or for any other failure, it is refused."""
    await live(store, "other")
    job = await store.create(new_job(), owner=ME)
    assert await store.recover_interrupted_submits(older_than=clock.now - 120, owner="other", dead_owners={ME}) == [
        job.id
    ]
    taken = await store.mark_submitted_after_recovery(job.id, "t-late")
    assert taken is not None
    assert (taken.state, taken.task_id, taken.error, taken.finished_at, taken.delivery) == (
        "queued", "t-late", None, None, "none")
    assert [pending.id for pending in await store.in_flight()] == [job.id]
    assert await store.mark_submitted_after_recovery(job.id, "t-again") is None  # queued now: nothing to take back

    told = await store.create(new_job(), owner=ME)
    await store.recover_interrupted_submits(older_than=clock.now - 120, owner="other", dead_owners={ME})
    assert await store.claim_delivery(told.id, owner="other", lease_seconds=60) is not None
    assert await store.mark_submitted_after_recovery(told.id, "t-told") is None  # its notice is being posted

    refused = await store.create(new_job(), owner=ME)
    await store.mark_submit_failed(refused.id, "CometAPI refused the prompt")
    assert await store.mark_submitted_after_recovery(refused.id, "t-refused") is None


async def test_a_hold_binds_every_process_on_a_shared_database(store_url, store):
    """hold_off: on PostgreSQL every process reads the hold (a shorter one never cuts a longer one short); on SQLite
    (one process) the poller's own loop keeps the wait, so the store holds nothing."""
    assert await store.held_for("hold:test") == 0.0
    await store.hold_off("hold:test", 60)
    await store.hold_off("hold:test", 1)
    if store_url.startswith("postgresql"):
        assert 55 < await store.held_for("hold:test") <= 60
        assert await store.held_for("hold:another") == 0.0
    else:
        assert await store.held_for("hold:test") == 0.0
