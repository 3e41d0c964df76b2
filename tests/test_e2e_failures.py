"""Failures and refusals through the fake Discord: what stays in the channel, what the member is told privately, and
what they can press next (issue 19, items 7 and 8)."""

from __future__ import annotations

import asyncio
import re

from tests.e2e import answers, buttons, components, posts


def card_edits(fake, it, card):
    """The PATCHes of the status card (the interaction's original response), as they crossed the wire."""
    paths = {f"/{it.token}/messages/@original", f"/{it.token}/messages/{card['id']}",
             f"/channels/{fake.music.id}/messages/{card['id']}"}
    return [r for r in fake.find_requests("PATCH") if any(r.path.endswith(p) for p in paths) and r.status == 200]


def private_notes(it):
    """The ephemeral followups of an interaction."""
    return [m for m in it.followups() if m["flags"] & 64]


def public_in_music(fake):
    return [m for m in fake.messages_in(fake.music) if not m["flags"] & 64]


def text_input(modal, custom_id):
    """The text input `custom_id` of a form the bot opened (its prefilled value)."""
    return next(c for c in components(modal) if c.get("type") == 4 and c.get("custom_id") == custom_id)


async def test_a_moderation_failure_leaves_one_line_and_offers_edit_privately(harness):
    """A song Suno refused for its words: the member is told privately (why, what they asked) with **Edit**, not a
    Try again that would fail the same way; the public card shrinks to one line without buttons; nothing else is
    posted. Edit opens the form prefilled with the request."""
    fake = harness.fake
    it = await fake.slash_command("suno", {"prompt": "[fail] a doomed song", "style": "doom metal"}, user=fake.alice)
    (note,) = await fake.wait_for(lambda: private_notes(it) or None)
    assert "moderation" in note["content"] and "[fail] a doomed song" in note["content"]
    assert [b["label"] for b in buttons(note)] == ["Edit", "Info"]
    await fake.wait_for(lambda: (lambda m: m if m and not m["embeds"][0].get("title") else None)(it.original()))
    card = it.original()
    (embed,) = card["embeds"]
    assert "\n" not in embed["description"] and "song #1" in embed["description"].lower()
    assert "moderation" not in embed["description"] and "doomed" not in embed["description"]
    assert buttons(card) == []
    last = card_edits(fake, it, card)[-1].json
    assert last["components"] == [] and "\n" not in last["embeds"][0]["description"]
    await asyncio.sleep(0.3)
    assert posts(fake) == []
    assert [m["id"] for m in public_in_music(fake)] == [card["id"]]
    assert len(it.followups()) == 1
    edit = await fake.click_button(note, buttons(note)[0]["custom_id"], user=fake.alice)
    form = await edit.wait_response()
    assert form["type"] == 9
    assert "[fail] a doomed song" in text_input(form["data"], "description")["value"]
    assert text_input(form["data"], "style")["value"] == "doom metal"


async def test_a_failure_that_may_pass_next_time_offers_try_again_privately(harness):
    """A failure that is not about the words (CometAPI gave up on it) offers Try again, privately; the card is one
    line, and Try again starts the same request as a new song."""
    fake, sim = harness.fake, harness.sim
    it = await fake.slash_command("suno", {"prompt": "[fail-early] an unlucky song"}, user=fake.alice)
    (note,) = await fake.wait_for(lambda: private_notes(it) or None)
    assert [b["label"] for b in buttons(note)] == ["Try again", "Info"]
    assert "an unlucky song" in note["content"]
    card = await it.wait_original(lambda m: bool(m["embeds"]) and not m["embeds"][0].get("title"))
    assert "\n" not in card["embeds"][0]["description"] and buttons(card) == []
    # Info shows the song's details with the small print a bug report needs (the task id), privately, to anyone.
    info = await fake.click_button(note, buttons(note)[1]["custom_id"], user=fake.bob)
    shown = await info.wait_response()
    assert shown["type"] == 4 and shown["data"]["flags"] & 64
    (job,) = await harness.bot.store.recent_for_user(fake.alice.id)
    assert job.task_id and job.task_id in shown["data"]["embeds"][0]["description"]
    assert len(answers(fake, info)) == 1
    again = await fake.click_button(note, buttons(note)[0]["custom_id"], user=fake.alice)
    assert (await again.wait_response())["type"] == 5
    await fake.wait_for(lambda: sim.count("submit_music") == 2 or None)
    assert "an unlucky song" in sim.requests_to("submit_music")[1].body["gpt_description_prompt"]


async def test_running_out_of_credit_is_answered_privately(harness):
    """A song refused for lack of CometAPI credit is told to the member privately (admins hear it once in their
    alert channel): the public "thinking…" goes, one ephemeral answer stays, nothing public remains."""
    fake, sim = harness.fake, harness.sim
    sim.faults.script("submit_music", [402])
    it = await fake.slash_command("suno", {"prompt": "a song on no credit"}, user=fake.alice)
    (answer,) = await fake.wait_for(lambda: private_notes(it) or None)
    assert "credit ran out" in answer["content"]
    await fake.wait_for(lambda: it.original() is None or None)
    assert public_in_music(fake) == []
    followups = [r for r in fake.find_requests("POST") if r.path.endswith(f"/{it.token}")]
    assert len(followups) == 1 and followups[0].json["flags"] & 64
    assert sim.count("submit_music") == 1


async def test_a_refusal_echoes_the_whole_request_and_says_when_try_again_works(harness):
    """Over the cooldown, the refusal shows the whole request back as the command that asks for it (prompt, style,
    title, model), and Try again says when it will work."""
    fake = harness.fake
    await harness.bot.admin.set_limits(fake.guild.id, by=fake.admin.id, cooldown_seconds=600)
    first = await fake.slash_command("suno", {"prompt": "the first one"}, user=fake.alice)
    assert (await first.wait_response())["type"] == 5
    options = {"prompt": "a waltz for the moon", "style": "strings", "title": "Moon Waltz", "model": "v4.5"}
    it = await fake.slash_command("suno", options, user=fake.alice)
    refused = (await it.wait_response())["data"]
    assert refused["flags"] & 64
    assert "/suno prompt:a waltz for the moon style:strings title:Moon Waltz model:v4.5" in refused["content"]
    (retry,) = [b for b in buttons(refused) if b.get("custom_id", "").startswith("chorus:retry:")]
    assert re.fullmatch(r"Try again · works in (9|10) min", retry["label"]), retry["label"]


async def test_a_refusal_for_the_daily_quota_says_try_again_works_tomorrow(harness):
    """Over the daily quota, Try again says how long until the day's quota resets, in hours."""
    fake = harness.fake
    await harness.bot.admin.set_limits(fake.guild.id, by=fake.admin.id, daily_quota=1)
    first = await fake.slash_command("suno", {"prompt": "the only one today"}, user=fake.alice)
    assert (await first.wait_response())["type"] == 5
    it = await fake.slash_command("suno", {"prompt": "one too many"}, user=fake.alice)
    refused = (await it.wait_response())["data"]
    (retry,) = [b for b in buttons(refused) if b.get("custom_id", "").startswith("chorus:retry:")]
    assert re.fullmatch(r"Try again · works in (\d+ h|\d+ min|a minute)", retry["label"]), retry["label"]


async def test_a_song_that_took_too_long_is_told_in_songs_not_plumbing(fake_discord, simulator, tmp_path):
    """Past the deadline the member reads that Suno did not finish their song in time, on the private note, the card
    and /status: no "CometAPI", no "job", no "task" anywhere they look (the technical reason stays in the logs)."""
    from bot.core.poller import TIMED_OUT_REASON, PollerConfig
    from tests.harness import BotHarness

    fake = fake_discord
    running = BotHarness(fake, simulator, tmp_path / "c.db", poller=PollerConfig(interval=0.05, deadline=0.3))
    await running.start()
    try:
        it = await fake.slash_command("suno", {"prompt": "[hang] a song that never ends"}, user=fake.alice)
        (note,) = await fake.wait_for(lambda: private_notes(it) or None)
        status = await fake.slash_command("status", {"job": 1}, user=fake.alice)
        detail = (await status.wait_response())["data"]["embeds"][0]
        job = await running.bot.jobs.get(1)
    finally:
        await running.stop()
    assert job.error == TIMED_OUT_REASON  # the technical reason is kept
    assert "Suno did not finish this song in time" in note["content"]
    assert "Suno did not finish this song in time" in detail["description"]
    seen = "\n".join([note["content"], detail["description"], *(str(edit) for edit in it.edits)])
    for plumbing in ("CometAPI", "job", "task"):
        assert plumbing not in seen, plumbing
