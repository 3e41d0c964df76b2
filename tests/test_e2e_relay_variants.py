"""Answers CometAPI documents in several shapes, where which one it serves is not settled (shared/api §8), through
the fake Discord: a WAV or video answered as a conversion task or as `{}` before the conversion, and an upload id
that batch fetch never lists (the simulator's relay modes `act_answers`, `conversion_polls`, `upload_answer`)."""

from __future__ import annotations

import pytest

from bot.core.poller import PollerConfig
from bot.core.take_exports import MEDIA_TRIES
from tests.e2e import answers, eventually, wait_delivery
from tests.fakes.discord import Upload
from tests.test_e2e_suno_tools import final_answer, first_song, tools_of, use_tool

# Per tool: the private answer's link ends in this.
LINKS = {"wav": ".wav)", "mp4": ".mp4)"}
PREPARING = "Please ask again in a minute"
POLLER = PollerConfig()  # the harness keeps these defaults for the unseen-id checks


async def press(fake, message, tool, user):
    """A member opens More → Tools for take A and picks `tool`; the interaction, once its answer is in."""
    it = await use_tool(fake, await tools_of(fake, message, user), tool, user)
    await final_answer(fake, it)
    return it


def private_answer(fake, it) -> str:
    """The one answer the interaction got, checked to be private; its text."""
    assert len(answers(fake, it)) == 1
    assert it.response["type"] == 5 and it.response["data"]["flags"] & 64  # deferred, privately
    return str(it.original()["content"])


def song_for(sim, tool):
    """Finished clips carry their video (§2.3), so the Video tool only asks CometAPI when they do not."""
    if tool == "mp4":
        sim.relay.clip_videos = False


# ---- 7. WAV / MP4 answered as a task, or as `{}` before the conversion -----------------------------------------


@pytest.mark.parametrize("tool", ["wav", "mp4"])
async def test_a_link_answered_as_a_task_is_followed_until_it_is_ready(harness, tool):
    """`{code, data: "<task id>"}`: the bot fetches that task (a few reads) and answers the link, privately, once."""
    fake, sim = harness.fake, harness.sim
    song_for(sim, tool)
    sim.relay.act_answers[tool] = "task"
    message = await first_song(fake)
    it = await press(fake, message, tool, fake.bob)
    text = private_answer(fake, it)
    assert LINKS[tool] in text and "not available" not in text
    assert sim.count(tool) == 1
    (conversion,) = sim.state.conversions
    unfinished = sim.relay.conversion_polls
    assert [r.path for r in sim.requests_to("fetch")] == [f"/suno/fetch/{conversion}"] * (unfinished + 1)


@pytest.mark.parametrize("tool", ["wav", "mp4"])
async def test_a_conversion_slower_than_the_wait_is_being_prepared_and_followed_on_the_next_ask(harness, tool):
    """A conversion still running after the bounded wait reads "being prepared, ask again in a minute", never "not
    available"; asking again follows the same conversion rather than starting (and paying for) another."""
    fake, sim = harness.fake, harness.sim
    song_for(sim, tool)
    sim.relay.act_answers[tool] = "task"
    sim.relay.conversion_polls = 1000
    message = await first_song(fake)
    first = private_answer(fake, await press(fake, message, tool, fake.bob))
    assert PREPARING in first and "not available" not in first and LINKS[tool] not in first
    assert (sim.count(tool), sim.count("fetch")) == (1, MEDIA_TRIES)
    sim.relay.conversion_polls = 0  # CometAPI finishes it meanwhile
    again = private_answer(fake, await press(fake, message, tool, fake.bob))
    assert LINKS[tool] in again
    (conversion,) = sim.state.conversions
    assert sim.count(tool) == 1
    assert {r.path for r in sim.requests_to("fetch")} == {f"/suno/fetch/{conversion}"}


@pytest.mark.parametrize("tool", ["wav", "mp4"])
async def test_an_empty_answer_before_the_conversion_is_being_prepared(harness, tool):
    """`{}` before the conversion: "being prepared, ask again in a minute" after one call (each call may be charged,
    so the bot does not hammer the route); asked again once it is converted, the link."""
    fake, sim = harness.fake, harness.sim
    song_for(sim, tool)
    sim.relay.act_answers[tool] = "not_ready"
    sim.relay.conversion_polls = 1
    message = await first_song(fake)
    first = private_answer(fake, await press(fake, message, tool, fake.alice))
    assert PREPARING in first and "not available" not in first
    assert sim.count(tool) == 1
    again = private_answer(fake, await press(fake, message, tool, fake.alice))
    assert LINKS[tool] in again
    assert (sim.count(tool), sim.count("fetch")) == (2, 0)


# ---- 6. an upload id that never shows up in batch fetch -------------------------------------------------------


async def start_cover(fake, filename="my demo.mp3"):
    it = await fake.slash_command("cover", {"audio": Upload(filename, b"ID3" + bytes(2048), "audio/mpeg"),
                                            "style": "bossa nova"}, user=fake.alice)
    assert (await it.wait_response())["type"] == 5
    return it


async def the_job(harness, state):
    """Job 1 once it is in `state`."""

    async def reached():
        job = await harness.bot.jobs.get(1)
        return job if job is not None and job.state == state else None

    return await eventually(reached)


async def test_an_upload_id_cometapi_does_not_know_fails_the_cover_with_a_clear_reason(shifted_harness):
    """An upload answered with an id no fetch knows waits like any job at first; once it is old enough the bot asks
    about it on its own (GET /suno/fetch/{id}), hears "no such task", fails the cover with a reason the member reads,
    sings nothing, and frees the member's slot."""
    harness, clock = shifted_harness, shifted_harness.clock
    fake, sim = harness.fake, harness.sim
    await harness.bot.admin.set_limits(fake.guild.id, by=fake.admin.id, max_concurrent=1)
    sim.relay.upload_answer = "unknown"
    it = await start_cover(fake)
    job = await the_job(harness, "queued")
    await fake.wait_for(lambda: sim.count("batch_fetch") >= 3 or None)
    assert sim.count("fetch") == 0  # young: batch fetch alone, like any job
    clock.advance(POLLER.unseen_grace + 1)
    failed = await the_job(harness, "failed")
    assert [r.path for r in sim.requests_to("fetch")] == [f"/suno/fetch/{job.task_id}"]
    assert "no record" in failed.error
    card = await it.wait_original(lambda m: bool(m["embeds"]) and not m["embeds"][0].get("title"))
    assert "did not work out" in card["embeds"][0]["description"]
    (private,) = await fake.wait_for(lambda: it.followups() or None)
    assert "no record" in private["content"] and private["flags"] & 64
    assert sim.count("submit_music") == 0
    again = await fake.slash_command("suno", {"prompt": "something else"}, user=fake.alice)
    assert (await again.wait_response())["type"] == 5  # the slot is free again
    await wait_delivery(fake)


async def test_an_upload_batch_fetch_never_lists_is_found_on_its_own_and_the_cover_follows(shifted_harness):
    """An upload task batch fetch leaves out but the single fetch knows: asked about once it is old enough, found
    finished, and the cover of the uploaded clip is submitted, once."""
    harness, clock = shifted_harness, shifted_harness.clock
    fake, sim = harness.fake, harness.sim
    sim.relay.upload_answer = "unlisted"
    await start_cover(fake)
    job = await the_job(harness, "queued")
    await fake.wait_for(lambda: sim.count("batch_fetch") >= 2 or None)
    assert sim.count("submit_music") == 0
    clock.advance(POLLER.unseen_grace + 1)
    await fake.wait_for(lambda: sim.count("submit_music") or None)
    assert [r.path for r in sim.requests_to("fetch")] == [f"/suno/fetch/{job.task_id}"]
    uploaded_clip = sim.state.tasks[job.task_id].clips[0].id
    (cover,) = [r.body for r in sim.requests_to("submit_music")]
    assert cover["task"] == "cover" and uploaded_clip in cover.values()


async def test_an_unlisted_upload_still_working_waits_until_the_deadline(shifted_harness):
    """An unlisted upload the single fetch says is still working is not failed: it is asked about again only after
    the check interval, and timed out at the normal deadline like any job."""
    harness, clock = shifted_harness, shifted_harness.clock
    fake, sim = harness.fake, harness.sim
    sim.relay.upload_answer = "unlisted"
    sim.state.hang_next()  # the upload never finishes
    it = await start_cover(fake)
    await the_job(harness, "queued")
    clock.advance(POLLER.unseen_grace + 1)
    await fake.wait_for(lambda: sim.count("fetch") == 1 or None)
    cycles = sim.count("batch_fetch")
    await fake.wait_for(lambda: sim.count("batch_fetch") >= cycles + 3 or None)
    job = await harness.bot.jobs.get(1)
    assert job.state in {"queued", "running"} and sim.count("fetch") == 1  # still working: kept, not asked again yet
    deadline = harness.poller_config.deadline
    clock.advance(deadline)
    await the_job(harness, "timed_out")
    private = await fake.wait_for(lambda: it.followups() or None)
    assert "took too long" in private[-1]["content"]
    assert sim.count("submit_music") == 0
