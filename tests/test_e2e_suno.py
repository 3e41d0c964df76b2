"""/suno end to end: the real bot, discord.py, the fake Discord, the simulator and SQLite."""

from __future__ import annotations

import pytest

from tests.conftest import API_KEY
from tests.e2e import wait_delivery
from tests.fakes.discord import pinged_user_ids


async def test_suno_song_is_queued_then_delivered(harness):
    """/suno is acked in time, shows a queued card, and the song arrives as a channel message."""
    fake, sim = harness.fake, harness.sim
    it = await fake.slash_command("suno", {"prompt": "a sea shanty about rubber ducks"}, user=fake.alice)
    response = await it.wait_response()
    assert response["type"] == 5
    assert it.ack_latency < 3.0
    (message,) = await wait_delivery(fake)

    body = sim.requests_to("submit_music")[0].body
    assert body["gpt_description_prompt"] == "a sea shanty about rubber ducks"
    assert body["mv"] == "chirp-crow"

    assert message["content"].startswith(f"<@{fake.alice.id}> your songs are ready")
    assert len(message["embeds"]) == 2
    first = message["embeds"][0]
    assert first["title"]
    assert {f["name"] for f in first["fields"]} >= {"Style", "Model", "Duration"}
    assert first["image"]["url"].startswith(sim.url)
    assert first["description"]  # the lyrics, in full
    assert [a["filename"].endswith(".mp3") for a in message["attachments"]] == [True, True]
    buttons = [c for row in message["components"] for c in row["components"]]
    assert {b.get("label") for b in buttons} >= {"Audio 1", "Cover 1", "Lyrics 1", "Audio 2"}
    sent = fake.find_requests("POST", f"/channels/{fake.music.id}/messages")[-1]
    assert sent.json["allowed_mentions"]["parse"] == []
    assert sent.json["allowed_mentions"]["users"] == [fake.alice.id]


async def test_status_card_follows_the_job(harness):
    """The interaction's original message becomes the job's card, and ends with a link to the song."""
    fake = harness.fake
    it = await fake.slash_command("suno", {"prompt": "lofi beats to study to"}, user=fake.alice)
    await wait_delivery(fake)
    final = await it.wait_original(lambda m: m["embeds"] and "Done" in m["embeds"][0]["title"])
    fields = {f["name"]: f["value"] for f in final["embeds"][0]["fields"]}
    assert "Jump to the song" in fields["Result"]
    assert fields["Asked by"] == f"<@{fake.alice.id}>"


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"prompt": "   "}, "empty"),
        ({"prompt": "x" * 501}, "limit is 500"),
        ({"prompt": "ok", "style": "y" * 1001}, "limit is 1,000"),
        ({"prompt": "ok", "title": "t" * 81}, "limit is 80"),
    ],
)
async def test_bad_input_is_refused_privately_and_nothing_is_submitted(harness, options, needle):
    """Empty or overlong input gets an ephemeral, friendly error; CometAPI sees nothing."""
    fake, sim = harness.fake, harness.sim
    it = await fake.slash_command("suno", options, user=fake.alice)
    response = await it.wait_response()
    assert response["type"] == 4
    assert response["data"]["flags"] & 64
    assert needle in response["data"]["content"]
    assert sim.count("submit_music") == 0


@pytest.mark.parametrize(
    ("status", "needle"),
    [(402, "out of credit"), (401, "API key"), (500, "try again"), (429, "busy")],
)
async def test_cometapi_errors_become_clear_messages(harness, status, needle):
    """A refused submit is explained to the member in plain words, with no traceback."""
    fake, sim = harness.fake, harness.sim
    sim.faults.script("submit_music", [status])
    it = await fake.slash_command("suno", {"prompt": "a song"}, user=fake.alice)
    original = await it.wait_original(lambda m: m["content"].startswith("❌"))
    assert needle in original["content"]
    assert "Traceback" not in original["content"]
    assert sim.count("submit_music") == 1


async def test_failed_job_posts_reason_and_prompt(harness):
    """A failed generation is posted with the reason and the member's prompt."""
    fake = harness.fake
    await fake.slash_command("suno", {"prompt": "[fail] a doomed song"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    assert "failed" in message["content"]
    embed = message["embeds"][0]
    assert "[fail] a doomed song" in embed["description"]
    assert "moderation" in embed["fields"][0]["value"]


async def test_prompt_with_everyone_pings_no_one_else(harness):
    """Prompts that contain @everyone or role mentions ping nobody but the requester."""
    fake = harness.fake
    prompt = f"@everyone <@&{fake.admin_role.id}> <@{fake.bob.id}> party anthem"
    await fake.slash_command("suno", {"prompt": prompt}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    assert pinged_user_ids(message) == {fake.alice.id}
    assert not message.get("mention_everyone")
    assert message.get("mention_roles", []) == []
    cards = [m for m in fake.messages_in(fake.music) if m["id"] != message["id"]]
    assert cards, "the status card should exist"
    for card in cards:
        assert pinged_user_ids(card) == set()
        assert not card.get("mention_everyone")


async def test_secrets_never_reach_discord(harness):
    """Neither the CometAPI key nor the bot token appears in anything sent to Discord."""
    fake, sim = harness.fake, harness.sim
    sim.faults.script("submit_music", [401])
    await (await fake.slash_command("suno", {"prompt": "one"}, user=fake.alice)).wait_original(
        lambda m: m["content"].startswith("❌")
    )
    await fake.slash_command("suno", {"prompt": "two"}, user=fake.alice)
    await wait_delivery(fake)
    text = fake.all_outgoing_text()
    assert API_KEY not in text
    assert fake.token not in text
