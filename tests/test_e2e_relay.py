"""The real bot against the simulator in relay mode (shared/api/cometapi-music.md §8), through the fake Discord."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.simulator import (
    UPSTREAM_REFUSAL_MESSAGE,
    USED_UP_MESSAGE,
    ManualClock,
    SimulatorServer,
    Timings,
    key_fragment,
)
from tests.conftest import API_KEY
from tests.e2e import private_answer, text_of, wait_delivery
from tests.harness import BotHarness


@pytest.fixture
async def relay_harness(fake_discord, tmp_path) -> AsyncIterator[BotHarness]:
    """The bot against a simulator that behaves like the live relay, with songs that finish at once."""
    async with SimulatorServer(api_key=API_KEY, timings=Timings.instant(), relay=True, shutdown_timeout=0.2) as sim:
        running = BotHarness(fake_discord, sim, tmp_path / "chorus.db")
        await running.start()
        yield running
        await running.stop()


@pytest.fixture
async def slow_relay_harness(fake_discord, tmp_path) -> AsyncIterator[tuple[BotHarness, ManualClock]]:
    """The bot against a relay-mode simulator whose songs take realistic time on a clock the test moves."""
    clock = ManualClock()
    async with SimulatorServer(api_key=API_KEY, timings=Timings(), clock=clock, relay=True,
                               shutdown_timeout=0.2) as sim:
        running = BotHarness(fake_discord, sim, tmp_path / "chorus.db")
        await running.start()
        yield running, clock
        await running.stop()


async def only_job(harness: BotHarness) -> Any:
    assert harness.bot is not None
    (job,) = await harness.bot.jobs.recent(harness.fake.alice.id, guild_id=harness.fake.guild.id)
    return job


# ---- 8. description mode drops style and title ---------------------------------------------------------------


async def test_style_and_title_with_a_description_reach_suno_inside_it_and_the_card_says_so(relay_harness):
    """Style and title given with a description are folded into it (the relay drops them), and the card says so."""
    fake, sim = relay_harness.fake, relay_harness.sim
    options = {"prompt": "a sea shanty about rubber ducks", "style": "emotional punk", "title": "Quack Attack"}
    it = await fake.slash_command("suno", options, user=fake.alice)
    (message,) = await wait_delivery(fake)
    job = await only_job(relay_harness)
    upstream = sim.state.tasks[job.task_id].request  # what survived the relay's rebuild of the body
    assert set(upstream) == {"gpt_description_prompt", "prompt", "mv", "make_instrumental"}
    assert "a sea shanty about rubber ducks" in upstream["gpt_description_prompt"]
    assert "emotional punk" in upstream["gpt_description_prompt"]
    assert "Quack Attack" in upstream["gpt_description_prompt"]
    assert "ignores style and title" not in text_of(message)  # plumbing: not on the public post
    assert text_of(message).startswith("### 🎶 Quack Attack\n")  # the member's title, not the one Suno made up
    card = next(m for m in it.edits if m["embeds"])  # said on the card while the song is made (and in Info)
    assert "ignores style and title" in card["embeds"][0]["description"]
    assert card["embeds"][0]["description"].endswith(">>> a sea shanty about rubber ducks")  # as the member typed it


async def test_a_description_alone_gets_no_note(relay_harness):
    """Without style or title nothing is folded and the card carries no note."""
    fake, sim = relay_harness.fake, relay_harness.sim
    it = await fake.slash_command("suno", {"prompt": "lofi beats"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    assert sim.requests_to("submit_music")[0].body["gpt_description_prompt"] == "lofi beats"
    assert "ignores" not in text_of(message)
    assert not any("ignores" in str(m["embeds"]) for m in it.edits)


async def test_style_that_does_not_fit_into_the_description_is_refused_privately(relay_harness):
    """A description plus style over the description limit is refused with the reason; nothing is sent."""
    fake, sim = relay_harness.fake, relay_harness.sim
    it = await fake.slash_command("suno", {"prompt": "d" * 450, "style": "s" * 100}, user=fake.alice)
    response = await it.wait_response()
    assert response["type"] == 4
    assert response["data"]["flags"] & 64
    assert "limit is 500" in response["data"]["content"]
    assert "lyrics" in response["data"]["content"]  # the way to keep a long style: custom mode
    assert sim.count("submit_music") == 0


# ---- 9. one complete clip and one failed clip come back as FAILURE ------------------------------------------


async def test_a_failure_with_one_complete_take_delivers_that_take_and_says_what_happened(relay_harness):
    """FAILURE with one complete and one errored clip: the complete take is posted, with a note about the other."""
    fake, sim = relay_harness.fake, relay_harness.sim
    await fake.slash_command("suno", {"prompt": "[partial] bossa nova"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    job = await only_job(relay_harness)
    assert sim.state.status(job.task_id) == "FAILURE"  # what CometAPI said
    text = text_of(message)
    assert f"<@{fake.alice.id}> · Suno v5" in text
    assert "Take B failed" in text and "Here is what worked" in text
    assert [a["filename"].endswith(" - Take A.mp3") for a in message["attachments"]] == [True, False]  # and lyrics
    assert job.state == "succeeded"


# ---- 10. progress stays "0%" until "100%" -------------------------------------------------------------------


async def test_a_running_job_with_no_progress_shows_elapsed_time_not_a_bar_at_zero(slow_relay_harness):
    """While the relay says "0%", the card and /status show how long the job has been going, never a 0 % bar."""
    harness, clock = slow_relay_harness
    fake = harness.fake
    it = await fake.slash_command("suno", {"prompt": "ambient rain"}, user=fake.alice)
    await it.wait_original(lambda m: bool(m["embeds"]) and "Queued" in m["embeds"][0]["title"])
    clock.advance(10)
    card = await it.wait_original(lambda m: bool(m["embeds"]) and "Generating" in m["embeds"][0]["title"])
    job = await only_job(harness)
    assert (job.state, job.progress) == ("running", 0)
    text = str(card["embeds"])
    assert "0%" not in text and "▱" not in text
    started = int(job.submitted_at or job.created_at)
    assert f"Generating, started <t:{started}:R>" in card["embeds"][0]["description"]
    status = await fake.slash_command("status", {}, user=fake.alice)
    line = (await status.wait_response())["data"]["embeds"][0]["description"]
    assert "Generating" in line and "0%" not in line
    clock.advance(60)
    await wait_delivery(fake)


# ---- 11. unknown or switched-off routes answer 200 with an HTML page ---------------------------------------


@pytest.mark.parametrize(
    ("command", "endpoint", "needle"),
    [("suno", "submit_music", "This Suno model is not available on CometAPI right now"),
     ("udio", "udio_generate", "Udio is not available on CometAPI right now")],
)
async def test_a_switched_off_model_is_said_so_and_tried_once(relay_harness, command, endpoint, needle):
    """A submit answered with the relay's HTML page tells the member the model is not available; one call only."""
    fake, sim = relay_harness.fake, relay_harness.sim
    sim.relay.switched_off.add(endpoint)
    it = await fake.slash_command(command, {"prompt": "anything"}, user=fake.alice)
    original = await private_answer(fake, it)
    assert needle in original["content"]
    assert sim.count(endpoint) == 1
    job = await only_job(relay_harness)
    assert job.state == "submit_failed"


async def test_a_poll_answered_with_html_is_not_retried_within_a_cycle(relay_harness, caplog):
    """Each poll cycle that meets the HTML page makes one call and backs off; the job is kept and delivered later."""
    fake, sim = relay_harness.fake, relay_harness.sim
    caplog.set_level(logging.INFO)
    sim.relay.switched_off.add("batch_fetch")
    await fake.slash_command("suno", {"prompt": "a patient song"}, user=fake.alice)

    def failed_cycles() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage().startswith("polling 1 suno MUSIC job(s) failed")]

    await fake.wait_for(lambda: len(failed_cycles()) >= 3, timeout=5)
    cycles, calls = len(failed_cycles()), sim.count("batch_fetch")
    assert calls <= cycles + 1  # one call per cycle (the next cycle's may already be on its way)
    assert not [r for r in caplog.records if "suno.fetch_batch failed" in r.getMessage()]  # no retry inside one
    assert "not available" in failed_cycles()[0].getMessage()
    assert (await only_job(relay_harness)).state == "queued"
    sim.relay.switched_off.clear()
    await wait_delivery(fake)


# ---- 12. a used-up key answers 401 without the word "quota" ---------------------------------------------------


async def test_a_used_up_key_tells_members_the_bot_is_out_of_credit(relay_harness, caplog):
    """401 `该令牌额度已用尽` means no credit, not a refused key; the gateway's message is logged, never the key."""
    fake, sim = relay_harness.fake, relay_harness.sim
    caplog.set_level(logging.INFO)
    sim.relay.used_up_keys.add(API_KEY)
    it = await fake.slash_command("suno", {"prompt": "a song on credit"}, user=fake.alice)
    original = await private_answer(fake, it)
    assert "credit ran out" in original["content"]
    assert "API key" not in original["content"]
    assert sim.count("submit_music") == 1
    assert USED_UP_MESSAGE in caplog.text
    assert API_KEY not in caplog.text
    assert API_KEY not in fake.all_outgoing_text()


async def test_the_key_fragment_of_a_used_up_key_is_never_stored_shown_or_logged(relay_harness, caplog):
    """The relay's 401 names a fragment of the key (`[sk-tes***210]`): it reaches no log line, no Discord message and
    not the stored job error that /status shows; the gateway's own words are kept."""
    fake, sim = relay_harness.fake, relay_harness.sim
    caplog.set_level(logging.INFO)
    fragment = key_fragment(API_KEY)
    sim.relay.used_up_keys.add(API_KEY)
    it = await fake.slash_command("suno", {"prompt": "a song on credit"}, user=fake.alice)
    await private_answer(fake, it)
    job = await only_job(relay_harness)
    assert job.state == "submit_failed" and USED_UP_MESSAGE in job.error
    shown = await fake.slash_command("status", {"job": job.id}, user=fake.alice)
    detail = (await shown.wait_response())["data"]["embeds"][0]
    assert USED_UP_MESSAGE in detail["description"]
    hidden = fragment.removeprefix("sk-")  # "tes***210": no part of the fragment either
    for where in (job.error, caplog.text, fake.all_outgoing_text()):
        assert fragment not in where and hidden not in where
        assert API_KEY not in where


# ---- 13. Udio's nested query shape; batch fetch `data: null` ------------------------------------------------


async def test_udio_songs_in_the_nested_query_shape_are_delivered(relay_harness):
    """/udio/query answering `{code, data: {status, data: [{songs}]}}` is read, matched by the generate id."""
    fake, sim = relay_harness.fake, relay_harness.sim
    await fake.slash_command("udio", {"prompt": "dreamy shoegaze"}, user=fake.alice)
    (message,) = await wait_delivery(fake, within=5)
    job = await only_job(relay_harness)
    assert sim.requests_to("udio_query")[0].query == {"ids": job.task_id}
    text = text_of(message)
    takes = [a["filename"].rsplit(" - ", 1)[-1] for a in message["attachments"] if a["filename"].endswith(".mp3")]
    assert takes == ["Take A.mp3", "Take B.mp3"]
    assert f"<@{fake.alice.id}> · Udio" in text


async def test_a_batch_fetch_that_knows_none_of_the_ids_is_nothing_new_not_an_error(relay_harness, caplog):
    """`data: null` for only unknown ids leaves the job waiting, with no error and no backoff, until it is known."""
    fake, sim = relay_harness.fake, relay_harness.sim
    caplog.set_level(logging.INFO)
    sim.state.hang_next()  # keeps the task running while it is hidden, whenever the first poll comes
    it = await fake.slash_command("suno", {"prompt": "a song CometAPI forgot"}, user=fake.alice)
    await it.wait_original(lambda m: bool(m["embeds"]))  # the card: the job is submitted
    task = sim.state.tasks.pop((await only_job(relay_harness)).task_id)
    sim.reset_log()
    await fake.wait_for(lambda: sim.count("batch_fetch") >= 3, timeout=5)
    assert not [r for r in caplog.records if r.getMessage().startswith("polling")]
    assert (await only_job(relay_harness)).state in {"queued", "running"}
    sim.state.tasks[task.id] = task
    sim.state.set_status(task.id, "SUCCESS")
    await wait_delivery(fake)


# ---- §8 "Upstream rejection on submit" ------------------------------------------------------------------------


async def test_an_upstream_refusal_reads_neutral_and_its_raw_message_is_logged(relay_harness, caplog):
    """A submit the upstream refused (500 with the relay's code/message) says CometAPI refused it; the log has why."""
    fake, sim = relay_harness.fake, relay_harness.sim
    caplog.set_level(logging.INFO)
    sim.relay.upstream_refuses.add("submit_music")
    it = await fake.slash_command("suno", {"prompt": "a refused song"}, user=fake.alice)
    original = await private_answer(fake, it)
    assert "CometAPI refused the request" in original["content"]
    assert UPSTREAM_REFUSAL_MESSAGE not in original["content"]
    assert UPSTREAM_REFUSAL_MESSAGE in caplog.text
    assert sim.count("submit_music") == 1
