"""One door for paid work (issue 17): every paid CometAPI call passes the server's limits, counted at its cost.

Each test drives the real bot through the fake Discord and the simulator and counts what crossed the wire; each
fails on the code before its fix.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.domain import NewJob, Requester
from tests.conftest import API_KEY
from tests.e2e import buttons, corrupt, custom_id, eventually, text_of, wait_delivery
from tests.fakes.discord import Upload
from tests.harness import BotHarness

ROOT = Path(__file__).resolve().parents[1]
COVER_MODELS = {"chirp-v4", "chirp-auk", "chirp-bluejay"}  # what the cover route accepts (shared/api §2.1)


async def settle(seconds: float = 0.3) -> None:
    """Give a request the bot should not make the time to arrive, if it were to make it."""
    await asyncio.sleep(seconds)


async def dm_song(fake, prompt="a song the channel refused"):
    """A song delivered by DM because its channel refuses every post (tests/test_e2e_delivery.py)."""
    fake.faults.forbid("POST", rf"/channels/{fake.music.id}/messages", code=50013, times=None)
    await fake.slash_command("suno", {"prompt": prompt}, user=fake.alice)
    (song,) = await wait_delivery(fake, channel=fake.world.dm_channel(fake.alice))
    return song


async def tools_menu(fake, message, take=1, user=None):
    """More → Stems, wherever the post is (a channel or a DM): the private stems menu's interaction (and the take
    that use_tool picks in it)."""
    it = await fake.select(message, custom_id(message, "chorus:more:"), ["stems"], user=user or fake.alice)
    assert (await it.wait_response())["data"]["flags"] & 64
    return it, take


async def use_tool(fake, opened, value, user=None):
    """Pick which stems (of the take tools_menu was asked for) in the private menu More → Stems opened."""
    it, take = opened
    menu = it.original()
    options = [o["value"] for b in buttons(menu) for o in b.get("options", [])]
    picked = f"{value}@{take}" if f"{value}@{take}" in options else value  # a one-take song's menu names no take
    return await fake.select(menu, custom_id(menu, "chorus:tools:"), [picked], user=user or fake.alice)


def stem_submits(sim):
    return [r.body for r in sim.requests_to("submit_music") if r.body.get("task") == "gen_stem"]


async def final_text(it):
    """What replaced the "thinking…" of a deferred answer."""
    done = await it.wait_original(lambda m: bool(m.get("content")))
    return done["content"]


async def admin_usage(fake):
    it = await fake.slash_command("chorus usage", {}, user=fake.admin)
    return (await it.wait_response())["data"]["embeds"][0]


# ---- 1. a press in a DM is charged to the song's server, through its limits ----------------------------------


async def test_presses_in_a_dm_obey_the_limits_of_the_songs_server(harness):
    """A song the channel refused comes by DM with working buttons; at a daily quota of 1 and concurrency 1, Again
    pressed again and again in the DM, and More → Tools → Stems there, are refused privately: nothing more is paid."""
    fake, sim = harness.fake, harness.sim
    await harness.bot.admin.set_limits(fake.guild.id, by=fake.admin.id, daily_quota=1, max_concurrent=1)
    song = await dm_song(fake)
    for _ in range(3):
        click = await fake.click_button(song, custom_id(song, "chorus:reroll:"), user=fake.alice)
        reply = await click.wait_response()
        assert reply["type"] == 4 and reply["data"]["flags"] & 64
        assert "daily limit" in reply["data"]["content"]
    stems = await use_tool(fake, await tools_menu(fake, song), "stems:two")
    reply = await stems.wait_response()
    assert reply["data"]["flags"] & 64 and "daily limit" in reply["data"]["content"]
    await settle()
    assert sim.count("submit_music") == 1


async def test_a_press_in_a_dm_is_a_job_of_the_songs_server(harness):
    """Within the limits, Again in a DM makes a job that belongs to the song's server (its limits, its budget, its
    /chorus usage) and comes back by DM."""
    fake, sim = harness.fake, harness.sim
    song = await dm_song(fake)
    click = await fake.click_button(song, custom_id(song, "chorus:reroll:"), user=fake.alice)
    assert (await click.wait_response())["type"] == 5
    dm = fake.world.dm_channel(fake.alice)
    await wait_delivery(fake, 2, channel=dm)
    again = await harness.bot.jobs.get(2)
    assert (again.guild_id, again.channel_id, again.parent_job_id) == (fake.guild.id, dm.id, 1)
    assert (await admin_usage(fake))["fields"][0]["name"].startswith("Today (UTC): 2 ")
    assert sim.count("submit_music") == 2


async def test_a_press_with_no_server_to_charge_is_refused(harness):
    """A song that belongs to no server (recorded before every job had one) cannot start paid work from a DM: the
    member is told why, privately, and nothing is paid."""
    fake, sim = harness.fake, harness.sim
    song = await dm_song(fake)
    await corrupt(harness.settings.database_url, "UPDATE jobs SET guild_id = NULL")
    click = await fake.click_button(song, custom_id(song, "chorus:reroll:"), user=fake.alice)
    reply = await click.wait_response()
    assert reply["type"] == 4 and reply["data"]["flags"] & 64
    assert "server" in reply["data"]["content"]
    await settle()
    assert sim.count("submit_music") == 1


# ---- 2. stems cost several songs ------------------------------------------------------------------------------


async def test_full_stems_count_at_their_cost_against_the_daily_quota(harness):
    """With 4 songs made today and a daily quota of 5, full-track stems (about five songs) are refused and nothing
    is submitted; vocals + instrumental (one song) still fit."""
    fake, sim = harness.fake, harness.sim
    await harness.bot.admin.set_limits(fake.guild.id, by=fake.admin.id, daily_quota=5)
    for n in range(4):
        await fake.slash_command("suno", {"prompt": f"song {n}"}, user=fake.alice)
    messages = await wait_delivery(fake, 4)
    full = await use_tool(fake, await tools_menu(fake, messages[0]), "stems:twelve")
    reply = await full.wait_response()
    assert reply["data"]["flags"] & 64 and "daily limit" in reply["data"]["content"]
    assert "5" in reply["data"]["content"]
    await settle()
    assert stem_submits(sim) == []
    two = await use_tool(fake, await tools_menu(fake, messages[0]), "stems:two")
    assert (await two.wait_response())["type"] == 5
    await fake.wait_for(lambda: stem_submits(sim) or None)
    assert [body["stem_task"] for body in stem_submits(sim)] == ["two"]


async def test_usage_counts_stems_at_their_cost(fake_discord, simulator, tmp_path, monkeypatch):
    """/chorus usage counts a job at its cost: a song and its full-track stems are 1 + STEMS_COST_SONGS songs."""
    monkeypatch.setenv("STEMS_COST_SONGS", "3")
    running = BotHarness(fake_discord, simulator, tmp_path / "chorus.db")
    await running.start()
    try:
        fake = fake_discord
        await fake.slash_command("suno", {"prompt": "split me"}, user=fake.alice)
        (song,) = await wait_delivery(fake)
        stems = await use_tool(fake, await tools_menu(fake, song), "stems:twelve")
        assert (await stems.wait_response())["type"] == 5
        await wait_delivery(fake, 2)
        assert (await running.bot.jobs.get(2)).cost == 3
        today = (await admin_usage(fake))["fields"][0]
        assert today["name"].startswith("Today (UTC): 4 ")
        assert f"<@{fake.alice.id}>: 4 " in today["value"]
    finally:
        await running.stop()


# ---- 3. one door: nothing is paid without an admission ---------------------------------------------------------


async def test_only_an_admitted_reservation_is_ever_sent(harness):
    """JobService.send pays only for a reservation that passed admission, once: a refused draft (kept for Try
    again), a job read back from the store, a reservation sent already and a withdrawn one are programming errors,
    and none of them reaches CometAPI."""
    from bot.core.jobs import UnadmittedSubmitError, suno_job
    from bot.core.validation import suno_request

    fake, sim = harness.fake, harness.sim
    bot = harness.bot
    await bot.admin.set_limits(fake.guild.id, by=fake.admin.id, daily_quota=1)
    await fake.slash_command("suno", {"prompt": "the one for today"}, user=fake.alice)
    await wait_delivery(fake)
    refused = await fake.slash_command("suno", {"prompt": "one too many"}, user=fake.alice)
    assert "daily limit" in (await refused.wait_response())["data"]["content"]
    draft = await bot.jobs.get(2)
    assert draft.state == "submit_failed"
    for job in (draft, await bot.jobs.get(1)):
        with pytest.raises(UnadmittedSubmitError):
            await bot.jobs.send(job)
    await bot.admin.set_limits(fake.guild.id, by=fake.admin.id, daily_quota=0)
    who = Requester(fake.alice.id, fake.music.id, fake.guild.id)
    reservation = await bot.jobs.reserve(suno_job(suno_request(prompt="paid once"), who))
    await bot.jobs.send(reservation)
    with pytest.raises(UnadmittedSubmitError):
        await bot.jobs.send(reservation)
    withdrawn = await bot.jobs.reserve(suno_job(suno_request(prompt="never paid"), who))
    await bot.jobs.withdraw(withdrawn, "changed my mind")
    with pytest.raises(UnadmittedSubmitError):
        await bot.jobs.send(withdrawn)
    await settle()
    assert sim.count("submit_music") == 2


PAID_ROUTES = re.compile(r"\.(submit_music|submit_lyrics|submit_concat|submit_stems|upload_audio)\(|\budio\.generate\(")


def test_only_the_job_specs_call_cometapis_paid_routes():
    """The one door is the only door: outside the client itself, no module but bot/core/specs.py calls a paid
    submit route, so every paid call goes through JobService.send (and its admission)."""
    callers = sorted(
        str(path.relative_to(ROOT))
        for folder in ("bot", "cogs")
        for path in (ROOT / folder).rglob("*.py")
        if not path.is_relative_to(ROOT / "bot" / "cometapi") and not path.is_relative_to(ROOT / "bot" / "simulator")
        and PAID_ROUTES.search(path.read_text(encoding="utf-8"))
    )
    assert callers == ["bot/core/specs.py"]


def test_old_rows_still_read_as_typed_specs():
    """Rows written before the typed specs (today's params shapes) read back as the spec they were, so Try again,
    Again and a cover's restage still work on them."""
    from bot.cometapi import SunoMusicRequest
    from bot.core.specs import ConcatSpec, CoverSpec, ExtendSpec, LyricsSpec, SongSpec, StemsSpec, UdioSongSpec, spec_of
    from bot.domain import Job

    def row(params, *, kind="inspiration", provider="suno", action="MUSIC"):
        return Job(id=1, user_id=1, guild_id=1, channel_id=1, provider=provider, action=action, kind=kind,
                   state="succeeded", created_at=0.0, updated_at=0.0, params=params, task_id="t")

    song = {"mv": "chirp-crow", "description": "a song", "instrumental": False, "lyrics": "", "tags": "",
            "title": "", "negative_tags": "", "continue_clip_id": "", "continue_at": None, "task_id": "",
            "persona_id": "", "artist_clip_id": "", "cover_task": ""}
    assert spec_of(row(song)) == SongSpec(SunoMusicRequest(mv="chirp-crow", description="a song"))
    assert isinstance(spec_of(row({**song, "continue_clip_id": "c", "task_id": "t"}, kind="reroll")), ExtendSpec)
    assert spec_of(row({"clip_id": "c", "mv": "chirp-crow"}, kind="reroll")) == ConcatSpec("c", "chirp-crow")
    stems = spec_of(row({"stem_of": "c", "task_id": "t", "stem": "twelve", "take": 2}, kind="stems"))
    assert stems == StemsSpec("c", "t", "twelve", 2)
    assert spec_of(row({"prompt": "stars"}, kind="lyrics", action="LYRICS")) == LyricsSpec("stars")
    assert isinstance(spec_of(row({"prompt": "lofi", "model_type": "udio32-v1.5"}, kind="generate",
                                  provider="udio")), UdioSongSpec)
    legacy_cover = {"stage": "cover", "url": "https://x/a.mp3", "file": "a.mp3", "mode": "cover", "mv": "chirp-crow",
                    "prompt": "a cover of a.mp3", "request": {**song, "description": "", "tags": "jazz",
                                                              "continue_clip_id": "up", "task_id": "ut",
                                                              "cover_task": "cover"}}
    cover = spec_of(row(legacy_cover, kind="cover"))
    assert isinstance(cover, CoverSpec) and (cover.upload_clip_id, cover.upload_task_id) == ("up", "ut")


# ---- 4. covers name their upload as cover_clip_id --------------------------------------------------------------


async def test_a_cover_names_its_upload_as_cover_clip_id(harness):
    """/cover sends the uploaded clip as `cover_clip_id` with a model the cover route accepts, and no
    `continue_clip_id` (with one the relay demands a task of this account: 400 task_origin_not_exist)."""
    fake, sim = harness.fake, harness.sim
    sim.state.relay.upload_origin_check = True
    it = await fake.slash_command("cover", {"audio": Upload("demo.mp3", b"ID3" + bytes(256), "audio/mpeg"),
                                            "style": "bossa nova"}, user=fake.alice)
    assert (await it.wait_response())["type"] == 5
    (song,) = await wait_delivery(fake)
    (body,) = [r.body for r in sim.requests_to("submit_music")]
    uploaded_task = sim.requests_to("batch_fetch")[0].body["ids"][0]
    uploaded_clip = sim.state.tasks[uploaded_task].clips[0].id
    assert (body["task"], body["cover_clip_id"], body["tags"]) == ("cover", uploaded_clip, "bossa nova")
    assert "continue_clip_id" not in body and "continue_at" not in body
    assert body["mv"] in COVER_MODELS
    assert "ordinary song" not in text_of(song)


async def test_extending_an_upload_continues_from_its_end(harness):
    """/cover mode:extend continues the uploaded clip from its own length (`upload_extend`), not from 0 s."""
    fake, sim = harness.fake, harness.sim
    sim.state.relay.upload_origin_check = True
    it = await fake.slash_command("cover", {"audio": Upload("demo.mp3", b"ID3" + bytes(256), "audio/mpeg"),
                                            "style": "synthwave", "mode": "extend"}, user=fake.alice)
    assert (await it.wait_response())["type"] == 5
    await wait_delivery(fake)
    (body,) = [r.body for r in sim.requests_to("submit_music")]
    uploaded_task = sim.requests_to("batch_fetch")[0].body["ids"][0]
    uploaded = sim.state.tasks[uploaded_task].clips[0]
    assert (body["task"], body["continue_clip_id"], body["task_id"]) == ("upload_extend", uploaded.id, uploaded_task)
    assert body["continue_at"] == uploaded.duration > 0
    assert body["mv"] in COVER_MODELS


async def test_the_relay_refuses_a_continue_clip_id_of_an_upload(cometapi, simulator):
    """The simulator's relay mode answers a cover that names its upload as `continue_clip_id` with 400
    `task_origin_not_exist`, as the live relay does; `upload_extend`, the documented way to extend an upload, passes."""
    from bot.cometapi import InvalidRequestError, SunoMusicRequest

    simulator.state.relay.upload_origin_check = True
    task_id = await cometapi.tools.upload_audio("https://example.com/a.mp3")
    clip = (await cometapi.suno.fetch(task_id)).clips[0]
    with pytest.raises(InvalidRequestError, match="task_origin_not_exist"):
        await cometapi.suno.submit_music(SunoMusicRequest(mv="chirp-auk", lyrics="", tags="jazz", title="x",
                                                          continue_clip_id=clip.id, task_id=task_id,
                                                          cover_task="extend"))
    assert await cometapi.suno.submit_music(SunoMusicRequest(mv="chirp-auk", tags="jazz", title="x",
                                                             continue_clip_id=clip.id, task_id=task_id,
                                                             continue_at=clip.duration, cover_task="upload_extend"))


# ---- 5. a paid submit answered without a task id; results that are not what was asked -------------------------


async def test_stems_answered_without_a_task_id_may_have_started(harness):
    """CometAPI's stems page shows a raw `{id, clips}` answer with no task id: the stems may have started (and been
    charged), so the member is told that, not "try again"; nothing is resent."""
    fake, sim = harness.fake, harness.sim
    sim.state.relay.stems_answer = "raw"
    await fake.slash_command("suno", {"prompt": "split me"}, user=fake.alice)
    (song,) = await wait_delivery(fake)
    stems = await use_tool(fake, await tools_menu(fake, song), "stems:two")
    text = await final_text(stems)
    assert "may have started" in text and "charged" in text
    assert "try again in a minute" not in text.lower()
    await settle(0.5)
    assert len(stem_submits(sim)) == 1
    job = await harness.bot.jobs.get(2)
    assert job.state == "submit_failed" and "may have started" in (job.error or "")


async def test_stems_that_come_back_as_an_ordinary_song_are_posted_as_a_song(harness):
    """When the upstream ignores `gen_stem` and makes an ordinary song, the member is told so, and it is posted as
    the song it is, not as stems."""
    fake, sim = harness.fake, harness.sim
    await fake.slash_command("suno", {"prompt": "split me"}, user=fake.alice)
    (song,) = await wait_delivery(fake)
    sim.state.relay.ignored_tasks.add("gen_stem")
    stems = await use_tool(fake, await tools_menu(fake, song), "stems:two")
    assert (await stems.wait_response())["type"] == 5
    (_, posted) = await wait_delivery(fake, 2)
    text = text_of(posted)
    assert "ordinary song" in text and "stems" in text.lower()
    assert "Stems of #1" not in text
    songs = [a["filename"] for a in posted["attachments"] if a["filename"].endswith(".mp3")]
    assert songs[0].endswith(" - Take A.mp3")


async def test_a_cover_that_comes_back_as_an_ordinary_song_says_so(harness):
    """A cover whose answer does not read as a cover is posted with a word that it may be an ordinary song."""
    fake, sim = harness.fake, harness.sim
    sim.state.relay.ignored_tasks.add("cover")
    await fake.slash_command("cover", {"audio": Upload("demo.mp3", b"ID3" + bytes(256), "audio/mpeg"),
                                       "style": "bossa nova"}, user=fake.alice)
    (song,) = await wait_delivery(fake)
    assert "ordinary song" in text_of(song)


# ---- 6. say what is known about a charge ------------------------------------------------------------------------


async def test_a_submit_interrupted_by_a_crash_says_it_may_have_started(harness):
    """A job a crashed process left mid-submit is recovered by the poller: CometAPI may have accepted and charged
    it, so the member reads that it may have started (not "Not started"), and Try again says it is charged again."""
    fake = harness.fake
    store = harness.bot.store
    who = Requester(fake.alice.id, fake.music.id, fake.guild.id)
    job = await store.create(NewJob(who, "suno", "MUSIC", {"mv": "chirp-crow", "description": "lost in the crash"},
                                    "inspiration"), owner="a-process-that-crashed")
    await corrupt(harness.settings.database_url, "UPDATE jobs SET created_at = created_at - 600")  # the only job
    (post,) = await wait_delivery(fake)
    text = text_of(post)
    assert "may have started" in text and "charged" in text
    assert "could not be started" not in text
    labels = [b.get("label") for b in buttons(post)]
    assert "Try again" not in labels
    assert any("charged again" in (label or "") for label in labels)
    it = await fake.slash_command("status", {"job": job.id}, user=fake.alice)
    embed = (await it.wait_response())["data"]["embeds"][0]
    assert "May have started" in embed["title"] and "Not started" not in embed["title"]

    async def recovered():
        saved = await store.get(job.id)
        return saved.state == "submit_failed" and saved.delivery == "delivered"

    await eventually(recovered)


def test_stems_cost_is_a_setting(monkeypatch):
    """STEMS_COST_SONGS sets what full-track stems count as (default 5), and must be at least 1."""
    from bot.config import ConfigError, load_settings

    monkeypatch.setenv("DISCORD_TOKEN", "token")
    monkeypatch.setenv("COMETAPI_KEY", API_KEY)
    assert load_settings(env_file=None).stems_cost_songs == 5
    monkeypatch.setenv("STEMS_COST_SONGS", "7")
    assert load_settings(env_file=None).stems_cost_songs == 7
    monkeypatch.setenv("STEMS_COST_SONGS", "0")
    with pytest.raises(ConfigError, match="STEMS_COST_SONGS"):
        load_settings(env_file=None)
