"""Jam threads through the real bot, the fake Discord and the simulator: lines from many members, one song."""

from __future__ import annotations

from tests.e2e import answers, buttons, custom_id, deliveries, text_of, wait_delivery
from tests.fakes.discord import pinged_user_ids


async def open_jam(fake, theme="a song about our cat"):
    it = await fake.slash_command("jam", {"theme": theme}, user=fake.alice)
    opening = await it.wait_response()
    assert opening["type"] == 4 and not opening["data"].get("flags", 0) & 64
    message = await it.wait_original()
    thread = await fake.wait_for(lambda: fake.world.channels.get(int(message["id"])))
    panel = await fake.wait_for(lambda: next(iter(fake.messages_in(thread)), None))
    assert len(answers(fake, it)) == 1
    return thread, panel


async def add_line(fake, panel, user, line):
    click = await fake.click_button(panel, custom_id(panel, "chorus:jamline:"), user=user)
    opened = await click.wait_response()
    assert opened["type"] == 9
    submit = await fake.submit_modal(opened["data"]["custom_id"], {"line": line}, user=user, interaction_from=click)
    reply = (await submit.wait_response())["data"]
    assert len(answers(fake, click)) == 1 and len(answers(fake, submit)) == 1
    return reply


async def test_a_jam_from_lines_to_a_song_credited_to_every_contributor(harness):
    """/jam opens a thread; members add lines through a form (each shown in the thread, pinging nobody); the
    starter makes it a song of the lines in order, and its post mentions each contributor once and pings only them."""
    fake, sim = harness.fake, harness.sim
    thread, panel = await open_jam(fake)
    assert thread.parent_id == fake.music.id
    assert "Jam: a song about our cat" in text_of(panel)
    added = await add_line(fake, panel, fake.bob, "Whiskers on the keyboard")
    assert f"<@{fake.bob.id}> added:" in added["content"] and added["allowed_mentions"]["parse"] == []
    await add_line(fake, panel, fake.admin, f"She naps on the router, hi <@{fake.alice.id}> @everyone")
    await add_line(fake, panel, fake.bob, "Purring in four four time")
    await add_line(fake, panel, fake.alice, "Our cat, our song")
    assert all(pinged_user_ids(m) == set() for m in fake.messages_in(thread))

    refused = await fake.click_button(panel, custom_id(panel, "chorus:jamsong:"), user=fake.bob)
    assert "Only" in (await refused.wait_response())["data"]["content"]
    make = await fake.click_button(panel, custom_id(panel, "chorus:jamsong:"), user=fake.alice)
    assert (await make.wait_response())["type"] == 5
    (song,) = await wait_delivery(fake, channel=thread)
    assert len(answers(fake, make)) == 1 and len(answers(fake, refused)) == 1
    body = sim.requests_to("submit_music")[0].body
    assert body["prompt"].splitlines() == [
        "Whiskers on the keyboard", f"She naps on the router, hi <@{fake.alice.id}> @everyone",
        "Purring in four four time", "Our cat, our song",
    ]
    heading = text_of(song).splitlines()[1]
    assert heading.startswith(f"A jam by <@{fake.bob.id}>, <@{fake.admin.id}>, <@{fake.alice.id}> · Suno")
    for user in (fake.bob, fake.admin, fake.alice):
        assert text_of(song).count(f"<@{user.id}>") == 1
    assert pinged_user_ids(song) == {fake.bob.id, fake.admin.id, fake.alice.id}
    sent = fake.find_requests("POST", f"/channels/{thread.id}/messages")[-1].json["allowed_mentions"]
    assert sorted(sent["users"]) == sorted([fake.bob.id, fake.admin.id, fake.alice.id]) and sent["parse"] == []
    assert deliveries(fake) == []  # the song stays in the thread


async def test_a_moderator_may_make_the_song_and_an_empty_jam_cannot(harness):
    """Nothing to sing yet is refused privately; a moderator may make someone else's jam a song."""
    fake, sim = harness.fake, harness.sim
    thread, panel = await open_jam(fake, "empty at first")
    empty = await fake.click_button(panel, custom_id(panel, "chorus:jamsong:"), user=fake.alice)
    reply = (await empty.wait_response())["data"]
    assert reply["flags"] & 64 and "Nobody has added a line yet" in reply["content"]
    await add_line(fake, panel, fake.bob, "A line at last")
    make = await fake.click_button(panel, custom_id(panel, "chorus:jamsong:"), user=fake.admin)
    assert (await make.wait_response())["type"] == 5
    (song,) = await wait_delivery(fake, channel=thread)
    assert pinged_user_ids(song) == {fake.bob.id}  # credited to the one contributor, not to who pressed
    assert (await harness.bot.jobs.get(1)).user_id == fake.admin.id  # charged to who pressed
    assert sim.count("submit_music") == 1
    assert [b.get("label") for b in buttons(panel)] == ["Add a line", "Remove a line", "Make it a song"]


async def test_a_finished_jam_song_is_announced_where_the_jam_started(harness):
    """The song is posted in the jam's thread, and announced in the channel where the jam started: one line replying
    to the jam's opening message, linking the song and naming who wrote it, pinging nobody (the thread pinged them)."""
    fake = harness.fake
    thread, panel = await open_jam(fake, "a song about our cat")
    await add_line(fake, panel, fake.bob, "Whiskers on the keyboard")
    make = await fake.click_button(panel, custom_id(panel, "chorus:jamsong:"), user=fake.alice)
    assert (await make.wait_response())["type"] == 5
    (song,) = await wait_delivery(fake, channel=thread)
    news = await fake.wait_for(lambda: next((m for m in fake.messages_in(fake.music)
                                             if m.get("nonce") == "chorus-jam-song-1"), None))
    assert news["message_reference"]["message_id"] == str(thread.id)  # the jam's opening message
    text = text_of(news)
    assert f"/{thread.id}/{song['id']})" in text and "a song about our cat" in text.lower()
    assert f"<@{fake.bob.id}>" in text and "\n" not in text
    assert pinged_user_ids(news) == set()
