"""A Chorus 0.1 database (SQLite V007, PostgreSQL V002, built by `tests.legacy` from the old migration files) is
upgraded in place by the first start of this version: every row stays, with its id and values; jobs in flight are
polled and posted once; buttons on old posts still answer; new ids continue after the old ones; a second start
changes nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from bot.domain import (
    Battle,
    Challenge,
    ChallengeEntry,
    GuildSettings,
    Jam,
    JamLine,
    Job,
    NewJob,
    PendingJob,
    Persona,
    Requester,
    Worker,
    utc_day_start,
)
from bot.store import open_store
from bot.store.database import LegacyDatabaseError, alembic_config
from tests.conftest import jam_line
from tests.legacy import LEGACY_TABLES, NEWEST, LegacyWriter, build_legacy

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()  # the newest revision

T = 1_750_000_000.0  # the `clock` fixture's start
GUILD, OTHER_GUILD = 3001, 3002
ALICE, BOB, CAROL = 1001, 1002, 1003
CHANNEL = 2001
SNOWFLAKE = 1_300_000_000_000_000_000  # Discord ids are above 2**53: they must survive as exact 64-bit integers
YESTERDAY = utc_day_start(T) - 86_400
CLIPS = {"clips": [{"id": "clip-1a", "title": "Shanty", "audio_url": "https://cdn1.suno.ai/clip-1a.mp3"},
                   {"id": "clip-1b", "title": "Shanty", "audio_url": "https://cdn1.suno.ai/clip-1b.mp3"}]}

# Jobs as Chorus 0.1 left them, in id order (the table numbers them 1, 2, …): every state a job can be caught in.
JOBS: list[dict[str, Any]] = [
    # 1: posted, with the message its buttons live on.
    {"user_id": ALICE, "guild_id": GUILD, "channel_id": CHANNEL, "status_message_id": SNOWFLAKE + 1,
     "interaction_token": "tok-1", "interaction_expires_at": T - 2700.0, "provider": "suno", "action": "MUSIC",
     "kind": "generate", "task_id": "task-delivered",
     "params": {"mv": "chirp-v4", "gpt_description_prompt": "a shanty"},
     "state": "succeeded", "progress": 100, "result": CLIPS, "created_at": T - 3600.0, "updated_at": T - 3500.0,
     "submitted_at": T - 3599.0, "finished_at": T - 3540.0, "delivery": "delivered", "delivery_claimed_at": T - 3530.0,
     "delivery_attempts": 1, "delivered_at": T - 3520.0, "delivered_channel_id": CHANNEL,
     "delivered_message_id": SNOWFLAKE + 2, "delivery_owner": "old-host:41", "submit_owner": "old-host:41"},
    # 2: queued at CometAPI.
    {"user_id": ALICE, "guild_id": GUILD, "channel_id": CHANNEL, "provider": "suno", "action": "MUSIC",
     "task_id": "task-queued", "params": {"mv": "chirp-v4", "prompt": "[Verse]\nwaves"}, "state": "queued",
     "created_at": T - 121.0, "updated_at": T - 120.0, "submitted_at": T - 120.0, "submit_owner": "old-host:42"},
    # 3: running, with progress.
    {"user_id": BOB, "guild_id": GUILD, "channel_id": CHANNEL, "provider": "udio", "action": "MUSIC",
     "task_id": "task-running", "params": {"model_type": "udio32-v1.5", "prompt": "lofi"}, "state": "running",
     "progress": 40, "created_at": T - 300.0, "updated_at": T - 10.0, "submitted_at": T - 299.0},
    # 4: finished, waiting to be posted.
    {"user_id": BOB, "guild_id": GUILD, "channel_id": CHANNEL, "provider": "suno", "action": "MUSIC",
     "task_id": "task-pending", "state": "succeeded", "progress": 100, "result": CLIPS, "created_at": T - 200.0,
     "updated_at": T - 60.0, "submitted_at": T - 199.0, "finished_at": T - 60.0, "delivery": "pending"},
    # 5: a late song, claimed for posting by a process that is gone.
    {"user_id": CAROL, "guild_id": GUILD, "channel_id": CHANNEL, "provider": "suno", "action": "MUSIC",
     "task_id": "task-late", "state": "succeeded", "result": CLIPS, "error": "took too long", "late": True,
     "created_at": T - 4000.0, "updated_at": T - 30.0, "submitted_at": T - 3999.0, "finished_at": T - 30.0,
     "delivery": "claimed", "delivery_owner": "gone-host:9", "delivery_claimed_at": T - 600.0, "delivery_attempts": 2},
    # 6: an extension of job 1 that failed (and was posted, then deleted).
    {"user_id": ALICE, "guild_id": GUILD, "channel_id": CHANNEL, "provider": "suno", "action": "MUSIC",
     "kind": "extend", "parent_job_id": 1, "task_id": "task-extend", "state": "failed", "error": "moderation",
     "created_at": T - 1500.0, "updated_at": T - 1400.0, "finished_at": T - 1400.0, "delivery": "delivered",
     "delivered_at": T - 1390.0, "delivered_channel_id": CHANNEL, "delivered_message_id": SNOWFLAKE + 7},
    # 7: cancelled by its member.
    {"user_id": BOB, "guild_id": GUILD, "channel_id": CHANNEL, "provider": "suno", "action": "MUSIC",
     "task_id": "task-cancelled", "state": "cancelled", "cancel_requested_at": T - 900.0, "created_at": T - 1000.0,
     "updated_at": T - 800.0, "finished_at": T - 800.0},
    # 8: lyrics asked for in a DM (no guild), refused by a limit.
    {"user_id": CAROL, "guild_id": None, "channel_id": CHANNEL + 9, "provider": "suno", "action": "LYRICS",
     "state": "submit_failed", "error": "not started because of a limit: daily quota", "created_at": T - 50.0,
     "updated_at": T - 50.0, "finished_at": T - 50.0},
]
SETTINGS: list[dict[str, Any]] = [
    {"guild_id": GUILD, "allowed_channels": [CHANNEL, SNOWFLAKE + 8], "required_role_id": SNOWFLAKE + 9,
     "default_suno_model": "chirp-v4", "default_udio_model": None, "suno_enabled": True, "udio_enabled": False,
     "max_concurrent": 1, "daily_quota": 3, "daily_budget": 50, "cooldown_seconds": 30, "updated_at": T - 86_400.0,
     "updated_by": ALICE, "alert_channel_id": CHANNEL, "credit_alert_below": 5.5, "credit_warned_at": T - 7200.0,
     "song_of_day_channel_id": CHANNEL, "battle_minutes": 30},
    {"guild_id": OTHER_GUILD, "allowed_channels": [], "suno_enabled": False, "udio_enabled": True,
     "max_concurrent": 0, "daily_quota": 0, "daily_budget": 0, "cooldown_seconds": 0, "updated_at": T - 100.0},
]
# Personas 1 to 5; "nova" differs from "Nova" only in case (Chorus 0.1 allowed it); 5 was deleted afterwards.
PERSONAS: list[dict[str, Any]] = [
    {"guild_id": GUILD, "name": "Nova", "description": "bright", "persona_id": "p-1", "root_clip_id": "clip-1a",
     "source_job_id": 1, "created_by": ALICE, "created_at": T - 3000.0},
    {"guild_id": GUILD, "name": "nova", "description": "", "persona_id": "p-2", "root_clip_id": "clip-1b",
     "source_job_id": 1, "created_by": BOB, "created_at": T - 2900.0},
    {"guild_id": GUILD, "name": "Alto", "description": "warm", "persona_id": "p-3", "root_clip_id": "clip-1b",
     "created_by": ALICE, "created_at": T - 2800.0},
    {"guild_id": OTHER_GUILD, "name": "Nova", "description": "", "persona_id": "p-4", "root_clip_id": "clip-x",
     "created_by": CAROL, "created_at": T - 2700.0},
    {"guild_id": GUILD, "name": "Temp", "description": "", "persona_id": "p-5", "root_clip_id": "clip-y",
     "created_by": CAROL, "created_at": T - 2600.0},
]
BATTLES: list[dict[str, Any]] = [
    {"guild_id": GUILD, "channel_id": CHANNEL, "starter_id": ALICE, "prompt": "sea vs city", "mode": "versus",
     "job_a": 1, "job_b": 4, "state": "open", "voting_seconds": 3600.0, "created_at": T - 200.0,
     "opened_at": T - 100.0, "closes_at": T + 3500.0, "message_id": SNOWFLAKE + 3},
    {"guild_id": GUILD, "channel_id": CHANNEL, "starter_id": BOB, "prompt": "two takes", "mode": "takes",
     "job_a": 1, "job_b": None, "state": "closed", "voting_seconds": 60.0, "created_at": T - 9000.0,
     "opened_at": T - 8900.0, "closes_at": T - 8840.0, "message_id": SNOWFLAKE + 10, "closed_at": T - 8830.0,
     "winner": "a", "votes_a": 2, "votes_b": 1, "note": "close one", "result_message_id": SNOWFLAKE + 11},
]
CHALLENGES: list[dict[str, Any]] = [
    {"guild_id": GUILD, "channel_id": CHANNEL, "theme": "rain", "started_by": ALICE, "state": "closed",
     "started_at": T - 30 * 86_400.0, "submit_ends_at": T - 23 * 86_400.0, "voting_seconds": 86_400.0,
     "vote_ends_at": T - 22 * 86_400.0, "vote_message_id": SNOWFLAKE + 12, "result_message_id": SNOWFLAKE + 13,
     "closed_at": T - 22 * 86_400.0},
    {"guild_id": GUILD, "channel_id": CHANNEL, "theme": "the sea", "started_by": ALICE, "state": "voting",
     "started_at": T - 7 * 86_400.0, "submit_ends_at": T - 86_400.0, "voting_seconds": 86_400.0,
     "vote_ends_at": T + 1000.0, "vote_message_id": SNOWFLAKE + 4},
]
JAMS: list[dict[str, Any]] = [
    {"guild_id": GUILD, "channel_id": CHANNEL, "thread_id": SNOWFLAKE + 5, "starter_id": ALICE, "theme": "rain",
     "created_at": T - 5000.0},
]
JAM_LINES: list[dict[str, Any]] = [
    {"jam_id": 1, "user_id": ALICE, "line": "drops on the roof", "added_at": T - 4900.0},
    {"jam_id": 1, "user_id": BOB, "line": "and the gutters sing", "added_at": T - 4800.0},
]
# Rows without ids of their own, by table, inserted after the ones above.
OTHER_ROWS: dict[str, list[dict[str, Any]]] = {
    "workers": [{"owner": "old-host:42", "host": "old-host", "pid": 42, "started_at": T - 7200.0,
                 "heartbeat_at": T - 100.0}],
    "likes": [{"job_id": 1, "user_id": BOB, "guild_id": GUILD, "created_at": T - 3000.0},
              {"job_id": 1, "user_id": CAROL, "guild_id": GUILD, "created_at": T - 2900.0},
              {"job_id": 4, "user_id": ALICE, "guild_id": GUILD, "created_at": T - 50.0}],
    "removed_songs": [{"job_id": 6, "removed_by": ALICE, "removed_at": T - 1000.0}],
    "battle_votes": [{"battle_id": 1, "user_id": BOB, "choice": "a", "voted_at": T - 90.0},
                     {"battle_id": 1, "user_id": CAROL, "choice": "b", "voted_at": T - 80.0}],
    "challenge_entries": [
        {"challenge_id": 2, "user_id": ALICE, "job_id": 1, "submitted_at": T - 5 * 86_400.0},
        {"challenge_id": 2, "user_id": BOB, "job_id": 4, "submitted_at": T - 4 * 86_400.0},
        {"challenge_id": 2, "user_id": CAROL, "job_id": 5, "submitted_at": T - 3 * 86_400.0, "removed_by": ALICE}],
    "challenge_votes": [{"challenge_id": 2, "voter_id": CAROL, "entry_user_id": ALICE, "voted_at": T - 3600.0},
                        {"challenge_id": 2, "voter_id": BOB, "entry_user_id": ALICE, "voted_at": T - 3500.0}],
    "jam_songs": [{"job_id": 1, "jam_id": 1, "credits": [ALICE, BOB]}],
    "song_of_day": [
        {"guild_id": GUILD, "day": YESTERDAY, "job_id": 1, "channel_id": CHANNEL, "message_id": SNOWFLAKE + 6,
         "posted_at": YESTERDAY + 86_400.0 + 60.0},
        {"guild_id": GUILD, "day": YESTERDAY - 86_400.0, "job_id": None, "channel_id": None, "message_id": None,
         "posted_at": YESTERDAY + 60.0}],
}


async def fill_legacy(url: str) -> dict[str, list[dict[str, Any]]]:
    """A Chorus 0.1 database at `url` holding the rows above (written with raw SQL, as Chorus 0.1 wrote them);
    returns every row of every table as it stands."""
    await build_legacy(url)
    async with LegacyWriter(url) as db:
        for table, rows in (("jobs", JOBS), ("guild_settings", SETTINGS), ("personas", PERSONAS),
                            ("battles", BATTLES), ("challenges", CHALLENGES), ("jams", JAMS),
                            ("jam_lines", JAM_LINES), *OTHER_ROWS.items()):
            for number, row in enumerate(rows, 1):
                given = await db.insert(table, row)
                assert given in (None, number), (table, given)
        await db.execute("DELETE FROM personas WHERE id = ?", 5)  # the newest persona was deleted
        return await db.dump(LEGACY_TABLES)


def job(job_id: int) -> Job:
    """What the store must answer for the seeded job `job_id`."""
    return Job.from_row({"id": job_id, "kind": "generate", **JOBS[job_id - 1]})


def persona(number: int, **changes: Any) -> Persona:
    fields = {field.name for field in dataclasses.fields(Persona)}
    return Persona(**{name: value for name, value in {**PERSONAS[number - 1], **changes}.items() if name in fields})


def settings(row: dict[str, Any]) -> GuildSettings:
    fields = {field.name for field in dataclasses.fields(GuildSettings)}
    values = {name: value for name, value in row.items() if name in fields}
    return GuildSettings(**{**values, "allowed_channels": frozenset(row["allowed_channels"])})


async def test_every_job_setting_and_persona_is_kept_with_its_id(store_url, clock):
    """After the upgrade the store reads every job as it was (in flight, awaiting delivery, posted, failed, late,
    cancelled, a DM's), the guild settings, heartbeats and personas; the case twin of a persona is kept, renamed,
    and the names are now one per server regardless of case; new ids continue after the old ones (a deleted newest
    persona's id is not handed out again)."""
    await fill_legacy(store_url)
    store = await open_store(store_url, now=clock)
    try:
        assert [await store.get(job_id) for job_id in range(1, len(JOBS) + 1)] == [job(n) for n in range(1, 9)]
        assert await store.in_flight() == [
            PendingJob(2, "suno", "MUSIC", "task-queued", "queued", None, T - 121.0),
            PendingJob(3, "udio", "MUSIC", "task-running", "running", 40, T - 300.0),
        ]
        assert [j.id for j in await store.deliverable(lease_seconds=60)] == [4, 5]
        assert (await store.get(1)).delivered_message_id == SNOWFLAKE + 2
        assert [await store.guild_settings(row["guild_id"]) for row in SETTINGS] == [settings(row) for row in SETTINGS]
        assert await store.workers() == [Worker("old-host:42", "old-host", 42, T - 7200.0, T - 100.0)]
        assert await store.personas(GUILD) == [persona(3), persona(1), persona(2, name="nova (2)")]
        assert await store.personas(OTHER_GUILD) == [persona(4)]
        assert await store.add_persona(Persona(GUILD, "Bass", "", "p-6", "clip-z", CAROL))
        assert not await store.add_persona(Persona(GUILD, "NOVA", "", "p-9", "clip-z", CAROL))
        assert not await store.add_persona(Persona(GUILD, "Nova (2)", "", "p-9", "clip-z", CAROL))
        created = await store.create(NewJob(Requester(ALICE, CHANNEL, GUILD), "suno", "MUSIC", {"prompt": "new"}))
        assert created.id == len(JOBS) + 1
    finally:
        await store.close()
    async with LegacyWriter(store_url) as db:
        assert await db.rows("SELECT id, name FROM personas WHERE name = 'Bass'") == [(6, "Bass")]


async def test_every_community_row_is_kept_with_its_id(store_url, clock):
    """Likes, deleted songs, battles and their votes, challenges with entries and votes, jams with their lines and
    songs, and song of the day read back through the store as Chorus 0.1 left them; new ids continue after them."""
    from bot.domain import NewJam

    await fill_legacy(store_url)
    store = await open_store(store_url, now=clock)
    try:
        assert [await store.like_count(job_id) for job_id in (1, 4, 5)] == [2, 1, 0]
        assert await store.removed_songs(range(1, 9)) == {6}
        assert [await store.get_battle(n) for n in (1, 2)] == [Battle(n, **row) for n, row in enumerate(BATTLES, 1)]
        assert await store.battle_tally(1) == (1, 1)
        assert await store.get_challenge(1) == Challenge(1, **CHALLENGES[0])
        assert await store.current_challenge(GUILD) == Challenge(2, **CHALLENGES[1])
        assert await store.challenge_entries(2) == [
            ChallengeEntry(2, ALICE, 1, T - 5 * 86_400.0), ChallengeEntry(2, BOB, 4, T - 4 * 86_400.0)
        ]
        assert await store.challenge_tally(2) == {ALICE: 2}
        assert await store.get_jam(1) == Jam(1, **JAMS[0])
        assert await store.jam_lines(1) == [JamLine(n, **row) for n, row in enumerate(JAM_LINES, 1)]
        assert await store.jam_credits(1) == [ALICE, BOB]
        assert await store.song_of_day_done(GUILD, YESTERDAY)
        assert await store.song_of_day_done(GUILD, YESTERDAY - 86_400.0)
        assert not await store.song_of_day_done(GUILD, YESTERDAY + 86_400.0)
        assert (await jam_line(store, 1, CAROL, "and then the sun")).id == len(JAM_LINES) + 1
        assert (await store.create_jam(NewJam(GUILD, CHANNEL, SNOWFLAKE + 99, BOB, "sun"))).id == len(JAMS) + 1
    finally:
        await store.close()


async def test_the_upgrade_changes_no_value_and_a_second_start_applies_nothing(store_url, clock, caplog):
    """Every row of every old table, read with plain SQL, is the same after the upgrade (only the case twin is
    renamed); a second start runs no migration, keeps one Alembic version row and changes nothing."""
    before = await fill_legacy(store_url)
    async with LegacyWriter(store_url) as db:
        old_columns = {table: await db.columns(table) for table in LEGACY_TABLES}
    caplog.set_level(logging.INFO)
    await (await open_store(store_url, now=clock)).close()
    assert "Running upgrade 0001 -> 0002" in caplog.text
    async with LegacyWriter(store_url) as db:
        upgraded = await db.dump(LEGACY_TABLES, columns=old_columns)
        tables = {row[0] for row in await db.rows(
            "SELECT name FROM sqlite_master WHERE type = 'table'" if not db.postgres
            else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )}
    expected = {table: [dict(row) for row in rows] for table, rows in before.items()}
    for row in expected["personas"]:
        if row["id"] == 2:
            row["name"] = "nova (2)"
    expected["personas"].sort(key=lambda row: tuple(row.values()))
    assert upgraded == expected
    assert "schema_migrations" not in tables

    caplog.clear()
    await (await open_store(store_url, now=clock)).close()
    assert "Running upgrade" not in caplog.text
    async with LegacyWriter(store_url) as db:
        assert await db.dump(LEGACY_TABLES, columns=old_columns) == upgraded
        assert await db.rows("SELECT version_num FROM alembic_version") == [(HEAD,)]


async def test_extra_running_challenges_of_an_old_sqlite_file_are_cancelled(db_path, clock):
    """Chorus 0.1 on SQLite had no unique index of one running challenge per server; should a file hold two, the
    upgrade keeps the newest running and cancels the other, so the index can be built."""
    url = str(db_path)
    await build_legacy(url)
    async with LegacyWriter(url) as db:
        for theme in ("first", "second"):
            await db.insert("challenges", {**CHALLENGES[1], "theme": theme, "state": "open"})
    store = await open_store(url, now=clock)
    try:
        assert [(c.theme, c.state) for c in (await store.get_challenge(1), await store.get_challenge(2))] == [
            ("first", "cancelled"), ("second", "open")
        ]
    finally:
        await store.close()


async def test_an_older_chorus_0_1_database_is_refused_with_what_to_do(store_url):
    """A database whose old migrations stopped short of the last one (SQLite V005, PostgreSQL V001) is not touched:
    the error says to start Chorus 0.1 on it first."""
    postgres = store_url.startswith("postgresql://")
    await build_legacy(store_url, upto=1 if postgres else 5)
    with pytest.raises(LegacyDatabaseError, match=r"old migration V00[15].*Chorus 0\.1"):
        await open_store(store_url)
    async with LegacyWriter(store_url) as db:
        versions = await db.rows("SELECT version FROM schema_migrations ORDER BY version")
    assert versions == [(n,) for n in range(1, (1 if postgres else 5) + 1)]
    assert NEWEST == {"sqlite": 7, "postgres": 2}


async def test_legacy_helper_builds_what_the_old_runner_recorded(store_url):
    """The helper's database carries the old runner's record: every migration once, in order, by name."""
    await build_legacy(store_url)
    async with LegacyWriter(store_url) as db:
        rows = await db.rows("SELECT version, name FROM schema_migrations ORDER BY version")
    expected = 2 if store_url.startswith("postgresql://") else 7
    assert [version for version, _ in rows] == list(range(1, expected + 1))
    assert all(name.startswith(f"V{version:03d}__") and name.endswith(".sql") for version, name in rows)


async def test_five_processes_starting_together_on_an_old_postgres_database_upgrade_it_once(postgres_url):
    """Five processes opening the same Chorus 0.1 PostgreSQL database at once: one upgrades it (under the migration
    lock), the others find it current; none fails, and every row is kept."""
    before = await fill_legacy(postgres_url)
    stores = await asyncio.gather(*(open_store(postgres_url) for _ in range(5)))
    try:
        assert [(await store.get(1)) == job(1) for store in stores] == [True] * 5
    finally:
        await asyncio.gather(*(store.close() for store in stores))
    async with LegacyWriter(postgres_url) as db:
        assert await db.rows("SELECT version_num FROM alembic_version") == [(HEAD,)]
        assert len((await db.dump(["jobs"]))["jobs"]) == len(before["jobs"])


# ---- end to end: the bot started on an old SQLite file ------------------------------------------------------------


async def test_the_bot_started_on_an_old_sqlite_file_posts_its_job_in_flight_once_and_old_buttons_answer(
    fake_discord, simulator, cometapi, tmp_path
):
    """Chorus 0.1 left a file with a posted song (its message in the channel) and a job queued at CometAPI. This
    version, started on it, upgrades it, polls the queued job and posts it exactly once; Info and Like on the old
    post answer as they did."""
    import time

    from bot.ui.post import song_post
    from tests.e2e import eventually, posts, wait_delivery
    from tests.harness import BotHarness

    fake = fake_discord
    path = tmp_path / "chorus.db"
    await build_legacy(str(path))
    posted_task, flying_task = simulator.state.seed_tasks(2)
    now = time.time()
    where = {"user_id": fake.alice.id, "guild_id": fake.guild.id, "channel_id": fake.music.id, "provider": "suno",
             "action": "MUSIC", "params": {"description": "a sea shanty"}}
    posted = {**where, "task_id": posted_task, "state": "succeeded", "progress": 100,
              "result": (await cometapi.suno.fetch(posted_task)).to_dict(), "created_at": now - 600.0,
              "updated_at": now - 500.0, "submitted_at": now - 599.0, "finished_at": now - 510.0,
              "delivery": "delivered", "delivery_attempts": 1, "delivered_at": now - 500.0,
              "delivered_channel_id": fake.music.id, "delivery_owner": "old-host:1", "submit_owner": "old-host:1"}
    # The post Chorus 0.1 made of job 1, as it rendered it (Components V2), now in the channel.
    view = song_post(Job.from_row({"id": 1, "kind": "generate", **posted}), attached={})
    old_post = fake.state.messages.create(
        fake.music, fake.world.bot, {"flags": 1 << 15, "components": view.to_components()}, []
    )
    async with LegacyWriter(str(path)) as db:
        assert await db.insert("jobs", {**posted, "delivered_message_id": old_post.id}) == 1
        assert await db.insert("jobs", {**where, "task_id": flying_task, "state": "queued", "created_at": now - 6.0,
                                        "updated_at": now - 5.0, "submitted_at": now - 5.0,
                                        "submit_owner": "old-host:1"}) == 2

    harness = BotHarness(fake, simulator, path)
    await harness.start()
    try:
        (message,) = await wait_delivery(fake)
        assert message["nonce"] == "chorus-job-2"
        await asyncio.sleep(0.3)  # more poll and delivery cycles: nothing more may be posted
        assert [request.json["nonce"] for request in posts(fake)] == ["chorus-job-2"]
        store = harness.bot.store
        delivered = await store.get(2)
        assert (delivered.state, delivered.delivery, delivered.delivered_message_id) == (
            "succeeded", "delivered", int(message["id"])
        )
        assert (await store.get(1)).delivered_message_id == old_post.id

        info = await (await fake.select(old_post, "chorus:more:1", ["info"], user=fake.bob)).wait_response()
        assert info["type"] == 4 and info["data"]["flags"] & 64
        assert info["data"]["embeds"][0]["title"].startswith("Song #1 ")
        await fake.click_button(old_post, "chorus:like:1", user=fake.bob)
        assert await eventually(lambda: _likes(store, 1), within=5) == 1
    finally:
        await harness.stop()


async def _likes(store: Any, job_id: int) -> int:
    return int(await store.like_count(job_id))
