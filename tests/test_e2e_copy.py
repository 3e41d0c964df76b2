"""What members read, as it crosses the wire (issue 19, items 4 and 5): songs, not plumbing, and copy that reads
right. tests/test_copy.py holds the same sentences to account function by function; these follow them through the
real bot and the fake Discord, where a member meets them (cards, posts, Info, /status, /history)."""

from __future__ import annotations

import re

from tests.e2e import eventually, text_of, wait_delivery

PLUMBING = re.compile(r"CometAPI|\bjob #|\binspiration\b", re.IGNORECASE)


def card_texts(it) -> list[str]:
    """Every version of a status card the member saw (as created, then after each edit)."""
    embeds = [embed for message in it.edits for embed in message.get("embeds") or []]
    return [" ".join([embed.get("title") or "", embed.get("description") or ""]) for embed in embeds]


async def test_the_card_info_and_status_speak_of_songs_not_plumbing(harness):
    """The card waits "for Suno" (not "at CometAPI") and counts song #n; Info names the kind of song in words and
    keeps the ids in its small print; /status speaks of songs. "CometAPI", "job #" and "inspiration" appear nowhere."""
    fake = harness.fake
    it = await fake.slash_command("suno", {"prompt": "a song in plain words"}, user=fake.alice)
    (song,) = await wait_delivery(fake)
    cards = card_texts(it)
    assert any("Waiting for Suno" in card for card in cards), cards
    info = await fake.select(song, "chorus:more:1", ["info"], user=fake.bob)
    details = (await info.wait_response())["data"]["embeds"][0]["description"]
    assert "a song from a description" in details
    assert all(line.startswith("-# ") for line in details.splitlines() if "task" in line)  # ids: small print only
    listed = await fake.slash_command("status", {}, user=fake.alice)
    mine = (await listed.wait_response())["data"]["embeds"][0]
    detail = await fake.slash_command("status", {"job": 1}, user=fake.alice)
    one = (await detail.wait_response())["data"]["embeds"][0]
    seen = [*cards, text_of(song), details, str(mine), str(one)]
    assert not [text for text in seen if PLUMBING.search(text)], [PLUMBING.search(t) for t in seen]


async def test_a_partly_failed_song_reads_as_one_sentence(harness):
    """One take failed: the post says so in one sentence ("Take B failed: why. Here is what worked."), never "..";
    the Udio label names Udio once; /history names a song once when its takes share its title."""
    fake = harness.fake
    await fake.slash_command("suno", {"prompt": "[partial] bossa nova"}, user=fake.alice)
    (song,) = await wait_delivery(fake)
    (line,) = [line for line in text_of(song).splitlines() if "Take B failed" in line]
    assert line.endswith(". Here is what worked.") and ".." not in line, line

    udio = await fake.slash_command("udio", {"prompt": "dreamy shoegaze"}, user=fake.alice)
    (_, udio_song) = await wait_delivery(fake, 2)
    labels = [*card_texts(udio), text_of(udio_song)]
    assert all("Udio (Udio" not in text and "Udio Udio" not in text for text in labels), labels
    assert "Udio v1.5" in text_of(udio_song)

    await fake.slash_command("suno", {"prompt": "a waltz", "title": "Moon Waltz"}, user=fake.alice)
    await wait_delivery(fake, 3)

    async def recorded():  # /history lists songs once their posts are recorded
        return (await harness.bot.jobs.get(3)).delivery == "delivered"

    await eventually(recorded)
    history = await fake.slash_command("history", {}, user=fake.alice)
    page = (await history.wait_response())["data"]["embeds"][0]
    (waltz,) = [line for line in page["description"].splitlines() if "Moon Waltz" in line]
    assert waltz.count("Moon Waltz") == 1 and " / " not in waltz, waltz
