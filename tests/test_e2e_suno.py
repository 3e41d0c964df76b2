"""/suno end to end: the real bot, discord.py, the fake Discord, the simulator and SQLite."""

from __future__ import annotations

import pytest

from tests.conftest import API_KEY
from tests.e2e import action_rows, components, eventually, private_answer, text_of, wait_delivery
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

    text = text_of(message)
    assert f"<@{fake.alice.id}> · Suno v5 · song #1" in text
    assert message["flags"] & (1 << 15)  # Components V2: one compact container
    covers = [c["media"]["url"] for c in components(message) if c["type"] == 11]
    assert len(covers) == 1 and covers[0].startswith(sim.url)  # one cover for the song
    names = [a["filename"] for a in message["attachments"]]
    assert names == ["A Sea Shanty About - Take A.mp3", "A Sea Shanty About - Take B.mp3",
                     "A Sea Shanty About - Lyrics.txt"]
    assert [c["file"]["url"] for c in components(message) if c["type"] == 13] == [f"attachment://{n}" for n in names]
    assert len(action_rows(message)) == 2  # one row of actions, one More menu
    sent = fake.find_requests("POST", f"/channels/{fake.music.id}/messages")[-1]
    assert sent.json["allowed_mentions"]["parse"] == []
    assert sent.json["allowed_mentions"]["users"] == [fake.alice.id]


async def test_the_card_goes_when_the_song_is_posted(harness):
    """The interaction's original message is the job's card while it is made; once the song is posted the card
    is deleted, so exactly one public message of the job remains in the channel."""
    fake = harness.fake
    it = await fake.slash_command("suno", {"prompt": "lofi beats to study to"}, user=fake.alice)
    card = await it.wait_original(lambda m: bool(m["embeds"]))
    assert f"<@{fake.alice.id}> · song #1" in card["embeds"][0]["description"]
    (song,) = await wait_delivery(fake)

    async def card_gone():
        return it.original() is None

    await eventually(card_gone)
    assert [m["id"] for m in fake.messages_in(fake.music)] == [song["id"]]


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
    [(402, "credit ran out"), (401, "API key"), (500, "try again"), (429, "busy")],
)
async def test_cometapi_errors_become_clear_messages(harness, status, needle):
    """A refused submit is explained to the member in plain words, with no traceback."""
    fake, sim = harness.fake, harness.sim
    sim.faults.script("submit_music", [status])
    it = await fake.slash_command("suno", {"prompt": "a song"}, user=fake.alice)
    original = await private_answer(fake, it)
    assert needle in original["content"]
    assert "Traceback" not in original["content"]
    assert sim.count("submit_music") == 1


async def test_prompt_with_everyone_pings_no_one_else(harness):
    """Prompts that contain @everyone or role mentions ping nobody but the requester."""
    fake = harness.fake
    prompt = f"@everyone <@&{fake.admin_role.id}> <@{fake.bob.id}> party anthem"
    await fake.slash_command("suno", {"prompt": prompt}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    assert pinged_user_ids(message) == {fake.alice.id}
    assert not message.get("mention_everyone")
    assert message.get("mention_roles", []) == []
    cards = [m for m in fake.state.messages.by_id.values() if m.channel_id == fake.music.id
             and m.data["id"] != message["id"]]
    assert cards, "the status card should have existed"
    for card in cards:
        for version in card.history:
            assert pinged_user_ids(version) == set()
            assert not version.get("mention_everyone")


async def test_secrets_never_reach_discord(harness):
    """Neither the CometAPI key nor the bot token appears in anything sent to Discord."""
    fake, sim = harness.fake, harness.sim
    sim.faults.script("submit_music", [401])
    await private_answer(fake, await fake.slash_command("suno", {"prompt": "one"}, user=fake.alice))
    await fake.slash_command("suno", {"prompt": "two"}, user=fake.alice)
    await wait_delivery(fake)
    text = fake.all_outgoing_text()
    assert API_KEY not in text
    assert fake.token not in text
