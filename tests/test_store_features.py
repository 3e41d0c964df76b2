"""What the store keeps for the features around a job, on both backends (a real SQLite file, and a fresh PostgreSQL
database when the tests have a cluster): every guild setting, credit alerts, personas, the typical duration and the
queue position shown on a compact post, and the usage report."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain import GuildSettings, JobUpdate, NewJob, Persona, Requester, UsageRow
from bot.store import open_store
from tests.conftest import ALICE

GUILD = 3001  # ALICE's guild
BOB = Requester(user_id=1002, channel_id=2001, guild_id=GUILD)


@pytest.fixture
def store(store_on_both):
    """The store under test: on SQLite, and on PostgreSQL when the tests have a cluster."""
    return store_on_both


def a_job(provider="suno", action="MUSIC", who=ALICE, kind="generate", **params):
    return NewJob(who, provider, action, params={"description": "a song", **params}, kind=kind)


# ---- guild settings ---------------------------------------------------------------------------------------------

EVERY_SETTING = GuildSettings(
    GUILD, allowed_channels=frozenset({11, 12}), required_role_id=13, default_suno_model="chirp-v4",
    default_udio_model="udio130", suno_enabled=False, udio_enabled=False, max_concurrent=3, daily_quota=4,
    daily_budget=5, cooldown_seconds=6, alert_channel_id=14, credit_alert_below=2.5, credit_warned_at=1_750_000_123.5,
    song_of_day_channel_id=15, battle_minutes=90, song_of_day_since=1_750_000_456.5, voice_enabled=False,
)


def test_every_setting_differs_from_its_default():
    """The round-trip below would miss a column that is never written if that setting kept its default."""
    import dataclasses

    defaults = GuildSettings(GUILD)
    same = [f.name for f in dataclasses.fields(GuildSettings)
            if f.name != "guild_id" and getattr(EVERY_SETTING, f.name) == getattr(defaults, f.name)]
    assert same == []


async def test_every_setting_is_written_and_read_back(store_url, clock):
    """A guild's settings, every one changed, come back as they were written, also after a restart; writing the
    defaults back over them changes every column again (nothing of the old row survives)."""
    store = await open_store(store_url, now=clock)
    try:
        assert await store.change_guild_settings(GUILD, lambda _: EVERY_SETTING, by=42) == EVERY_SETTING
    finally:
        await store.close()
    store = await open_store(store_url, now=clock)
    try:
        assert await store.guild_settings(GUILD) == EVERY_SETTING
        await store.change_guild_settings(GUILD, lambda _: GuildSettings(GUILD), by=42)
        assert await store.guild_settings(GUILD) == GuildSettings(GUILD)
    finally:
        await store.close()


async def test_credit_alerts_are_listed_for_guilds_with_a_channel_and_a_threshold(store):
    """Only guilds with both an alert channel and a threshold are watched; their settings come whole."""
    await store.change_guild_settings(1, lambda s: s.replace(alert_channel_id=10, credit_alert_below=5.0), by=None)
    await store.change_guild_settings(2, lambda s: s.replace(alert_channel_id=20), by=None)
    await store.change_guild_settings(3, lambda s: s.replace(credit_alert_below=1.0, daily_quota=9), by=None)
    await store.change_guild_settings(4, lambda s: s.replace(alert_channel_id=40, credit_alert_below=0.5,
                                                             credit_warned_at=7.0), by=None)
    watched = sorted(await store.credit_alert_guilds(), key=lambda s: s.guild_id)
    assert watched == [GuildSettings(1, alert_channel_id=10, credit_alert_below=5.0),
                       GuildSettings(4, alert_channel_id=40, credit_alert_below=0.5, credit_warned_at=7.0)]


# ---- personas ---------------------------------------------------------------------------------------------------

def persona(name, guild_id=GUILD, **changes):
    values = {"description": f"{name}'s voice", "persona_id": f"p-{name}", "root_clip_id": f"c-{name}",
              "created_by": ALICE.user_id, "source_job_id": None, **changes}
    return Persona(guild_id, name, **values)


async def test_personas_are_kept_per_guild_once_per_name_and_listed_by_name(store):
    """A name is taken once per guild (another guild may use it); the list is by name, whatever the case."""
    job = await store.create(a_job())
    assert await store.add_persona(persona("zed", source_job_id=job.id))
    assert await store.add_persona(persona("Alto"))
    assert await store.add_persona(persona("bass"))
    assert not await store.add_persona(persona("zed", description="another"))
    assert await store.add_persona(persona("zed", guild_id=GUILD + 1))
    assert [p.name for p in await store.personas(GUILD)] == ["Alto", "bass", "zed"]
    assert (await store.personas(GUILD))[2] == persona("zed", source_job_id=job.id)
    assert await store.personas(GUILD + 2) == []


async def test_two_processes_adding_one_persona_name_at_once_keep_one(store_url, clock):
    """Two processes adding the same name at the same instant: one is kept, the other is told it is taken."""
    first = await open_store(store_url, now=clock)
    second = await open_store(store_url, now=clock)
    try:
        added = await asyncio.gather(*(s.add_persona(persona("choir", persona_id=f"p{n}"))
                                       for n, s in enumerate((first, second, first, second))))
        assert sorted(added) == [False, False, False, True]
        assert len(await first.personas(GUILD)) == 1
    finally:
        await first.close()
        await second.close()


async def test_a_persona_is_removed_by_name_whatever_the_case(store):
    """Removing finds the name regardless of case, in its own guild only, and says whether there was one."""
    await store.add_persona(persona("Tenor"))
    await store.add_persona(persona("Tenor", guild_id=GUILD + 1))
    assert await store.remove_persona(GUILD, "tenor")
    assert not await store.remove_persona(GUILD, "Tenor")
    assert await store.personas(GUILD) == []
    assert [p.guild_id for p in await store.personas(GUILD + 1)] == [GUILD + 1]


# ---- typical duration and queue position -------------------------------------------------------------------------

async def a_song_that_took(store, clock, seconds, *, provider="suno", action="MUSIC", kind="generate",
                           state="succeeded", **params):
    job = await store.create(a_job(provider, action, kind=kind, **params))
    clock.advance(5)  # waiting to be submitted does not count
    await store.mark_submitted(job.id, f"task-{job.id}")
    clock.advance(seconds)
    await store.apply([JobUpdate(job.id, state, 100, {"clips": []}, None if state == "succeeded" else "no")])
    return job.id


async def test_typical_duration_is_the_median_of_the_latest_songs_of_that_model(store, clock):
    """Submit to finish of the last `sample` succeeded songs of the provider, action and model: their median (the
    mean of the middle two for an even count); failures, other models, actions and concatenations do not count."""
    assert await store.typical_duration("suno", "MUSIC", "chirp-v4") is None
    for seconds in (100, 60, 80, 70):
        await a_song_that_took(store, clock, seconds, mv="chirp-v4")
    await a_song_that_took(store, clock, 5, mv="chirp-v3-5")
    await a_song_that_took(store, clock, 1, mv="chirp-v4", kind="concat")
    await a_song_that_took(store, clock, 1, mv="chirp-v4", state="failed")
    await a_song_that_took(store, clock, 2, action="LYRICS", mv="chirp-v4")
    await a_song_that_took(store, clock, 300, provider="udio", model_type="udio130")
    assert await store.typical_duration("suno", "MUSIC", "chirp-v4") == 75.0
    assert await store.typical_duration("suno", "MUSIC", "chirp-v4", sample=3) == 70.0  # 60, 80, 70: the latest
    assert await store.typical_duration("suno", "MUSIC", None, sample=5) == 70.0  # any model: 5 joins in
    assert await store.typical_duration("suno", "LYRICS", "chirp-v4") == 2.0
    assert await store.typical_duration("udio", "MUSIC", "udio130") == 300.0
    assert await store.typical_duration("udio", "MUSIC", "chirp-v4") is None


async def test_queue_position_counts_the_queued_jobs_of_the_provider_ahead(store):
    """1 + the jobs of the same provider waiting at CometAPI (queued) that were recorded before this one; running,
    finished and other providers' jobs are not in the line."""
    ids = {}
    for name, provider in (("q1", "suno"), ("run", "suno"), ("udio", "udio"), ("done", "suno"), ("q2", "suno"),
                           ("me", "suno"), ("after", "suno")):
        job = await store.create(a_job(provider))
        await store.mark_submitted(job.id, name)
        ids[name] = job.id
    await store.apply([JobUpdate(ids["run"], "running", 10), JobUpdate(ids["done"], "succeeded", 100, {})])
    assert await store.queue_position(ids["me"]) == 3
    assert await store.queue_position(ids["q1"]) == 1
    assert await store.queue_position(ids["udio"]) == 1


# ---- usage ------------------------------------------------------------------------------------------------------

async def test_usage_counts_jobs_and_failures_per_member_provider_and_action(store, clock):
    """Counted jobs (what limits count) and failures per member, provider and action since `since`, in the guild;
    a draft refused by a limit is neither, and a submit CometAPI refused is a failure."""
    before = await store.create(a_job())  # before `since`: not in the report
    await store.mark_submitted(before.id, "early")
    clock.advance(60)
    since = clock.now

    async def job(who=ALICE, provider="suno", action="MUSIC", then=None, error=None):
        made = await store.create(a_job(provider, action, who=who))
        if then == "submit_failed":
            await store.mark_submit_failed(made.id, error or "CometAPI said no")
        elif then is not None:
            await store.mark_submitted(made.id, f"task-{made.id}")
            await store.apply([JobUpdate(made.id, then, 100, {}, "failed" if then == "failed" else None)])

    await job(then="succeeded")
    await job(then="succeeded")
    await job()  # still submitting: counts
    await job(then="failed")
    await job(then="submit_failed")
    await job(then="submit_failed", error="not started because of a limit: Alice's other job failed")
    await job(then="submit_failed", error="Not started because of a limit")  # the same, whatever the case
    await job(action="LYRICS", then="succeeded")
    await job(provider="udio", then="failed")
    await job(who=BOB, then="timed_out")
    await job(who=Requester(user_id=9, channel_id=1, guild_id=GUILD + 1), then="succeeded")  # another guild
    rows = await store.usage_by_member(GUILD, since)
    assert sorted(rows, key=lambda r: (r.user_id, r.provider, r.action)) == [
        UsageRow(ALICE.user_id, "suno", "LYRICS", 1, 0),
        UsageRow(ALICE.user_id, "suno", "MUSIC", 3, 2),
        UsageRow(ALICE.user_id, "udio", "MUSIC", 0, 1),
        UsageRow(BOB.user_id, "suno", "MUSIC", 1, 0),
    ]
    assert rows[0] == UsageRow(ALICE.user_id, "suno", "MUSIC", 3, 2)  # busiest first
    assert await store.usage_by_member(GUILD, clock.now + 1) == []


# ---- covers: an upload stage, then the cover ------------------------------------------------------------------


async def test_a_finished_upload_stage_waits_for_its_cover_and_is_restaged_once(store):
    """A cover's upload stage that finishes is not queued for delivery; it is listed as ready, and moving it back
    to `submitting` for the cover succeeds once (guarded by the upload's task id), never twice."""
    job = await store.create(NewJob(ALICE, "suno", "MUSIC", {"stage": "upload", "url": "https://x/a.mp3"}, "cover"))
    await store.mark_submitted(job.id, "upload-task")
    await store.apply([JobUpdate(job.id, "succeeded", result={"clips": [{"id": "uploaded"}]})])
    finished = await store.get(job.id)
    assert (finished.state, finished.delivery) == ("succeeded", "none")
    assert [j.id for j in await store.uploads_ready()] == [job.id]
    params = {**finished.params, "stage": "cover"}
    first, second = await asyncio.gather(
        store.restage(job.id, task_id="upload-task", params=params, owner="a"),
        store.restage(job.id, task_id="upload-task", params=params, owner="b"),
    )
    assert [r is not None for r in (first, second)].count(True) == 1
    restaged = await store.get(job.id)
    assert (restaged.state, restaged.task_id, restaged.params["stage"]) == ("submitting", None, "cover")
    assert await store.uploads_ready() == []
    await store.mark_submitted(job.id, "cover-task")
    await store.apply([JobUpdate(job.id, "succeeded", result={"clips": []})])
    assert (await store.get(job.id)).delivery == "pending"  # the cover itself is posted
