"""Likes, charts and profiles through the real bot, the fake Discord and the simulator."""

from __future__ import annotations

import asyncio

from tests.e2e import action_rows, answers, buttons, custom_id, text_of, wait_delivery


async def song(fake, prompt="a song to like", *, user=None, count=1, **options):
    await fake.slash_command("suno", {"prompt": prompt, **options}, user=user or fake.alice)
    return (await wait_delivery(fake, count))[count - 1]


def like_button(message):
    return next(b for b in buttons(message) if str(b.get("custom_id", "")).startswith("chorus:like:"))


async def like(fake, message, user):
    click = await fake.click_button(message, like_button(message)["custom_id"], user=user)
    return click, await click.wait_response()


async def test_like_is_on_every_song_and_its_count_is_the_label(shifted_harness):
    """❤️ Like is the first button of the one row; each press updates the post in place (the one answer), and a
    member's second press, later, takes the like back."""
    fake, bot = shifted_harness.fake, shifted_harness.bot
    message = await song(fake)
    (row, _menu) = action_rows(message)
    assert [b.get("label") for b in row["components"]] == ["Like", "Extend A", "Extend B", "Again", "Edit"]
    _, first = await like(fake, message, fake.bob)
    assert first["type"] == 7  # the post itself is updated
    assert like_button(fake.message(int(message["id"])).snapshot())["label"] == "1"
    _, second = await like(fake, message, fake.alice)
    assert like_button(fake.message(int(message["id"])).snapshot())["label"] == "2"
    assert second["type"] == 7
    shifted_harness.clock.advance(60)
    await like(fake, message, fake.bob)  # pressing again takes it back
    current = fake.message(int(message["id"])).snapshot()
    assert like_button(current)["label"] == "1"
    assert await bot.community.likes.count(1) == 1
    # Everything else on the post is as it was: text, files, the other buttons.
    assert text_of(current) == text_of(message)
    assert current["attachments"] == message["attachments"]
    assert [b.get("custom_id") for b in buttons(current)] == [b.get("custom_id") for b in buttons(message)]


async def test_two_presses_at_the_same_instant_count_once(harness):
    """A member's double click (two presses at the same instant) is one like, and each press gets one answer."""
    fake, bot = harness.fake, harness.bot
    message = await song(fake)
    cid = like_button(message)["custom_id"]
    clicks = await asyncio.gather(*(fake.click_button(message, cid, user=fake.bob) for _ in range(2)))
    await asyncio.gather(*(click.wait_response() for click in clicks))
    assert await bot.community.likes.count(1) == 1
    assert all(len(answers(fake, click)) == 1 for click in clicks)
    assert like_button(fake.message(int(message["id"])).snapshot())["label"] == "1"
    # Two members at the same instant are two likes.
    pair = await asyncio.gather(fake.click_button(message, cid, user=fake.alice),
                                fake.click_button(message, cid, user=fake.admin))
    await asyncio.gather(*(click.wait_response() for click in pair))
    assert await bot.community.likes.count(1) == 3
    await fake.wait_for(lambda: like_button(fake.message(int(message["id"])).snapshot())["label"] == "3" or None)


async def test_likes_cost_no_quota(harness):
    """A member at their daily limit can still like songs: likes make no job and count towards nothing."""
    fake, sim, bot = harness.fake, harness.sim, harness.bot
    message = await song(fake)
    await bot.admin.set_limits(fake.guild.id, by=fake.admin.id, daily_quota=1)
    before = await bot.store.usage_by_member(fake.guild.id, 0)
    for user in (fake.alice, fake.bob):
        _, reply = await like(fake, message, user)
        assert reply["type"] == 7
    assert await bot.store.usage_by_member(fake.guild.id, 0) == before
    assert sim.count("submit_music") == 1
    assert await bot.jobs.get(2) is None


async def test_top_lists_the_most_liked_songs_with_jump_links(shifted_harness):
    """/top ranks this week's songs by likes, links each to its post, filters by provider, and pings nobody."""
    fake = shifted_harness.fake
    old = await song(fake, "an old song")
    await like(fake, old, fake.bob)
    shifted_harness.clock.advance(8 * 86400)  # the first song is now older than a week
    first = await song(fake, "liked once", count=2)
    second = await song(fake, "liked twice", user=fake.bob, count=3)
    await like(fake, first, fake.bob)
    for user in (fake.alice, fake.admin):
        await like(fake, second, user)
    top = await fake.slash_command("top", {}, user=fake.alice)
    reply = (await top.wait_response())["data"]
    assert not reply.get("flags", 0) & 64  # a chart is for everyone
    assert reply["allowed_mentions"]["parse"] == []
    lines = reply["embeds"][0]["description"].splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("**1.** ❤️ 2") and f"<@{fake.bob.id}>" in lines[0]
    assert lines[1].startswith("**2.** ❤️ 1") and f"<@{fake.alice.id}>" in lines[1]
    jump = f"https://discord.com/channels/{fake.guild.id}/{fake.music.id}/{second['id']}"
    assert jump in lines[0]
    ever = await fake.slash_command("top", {"period": "all"}, user=fake.alice)
    assert len((await ever.wait_response())["data"]["embeds"][0]["description"].splitlines()) == 3
    udio = await fake.slash_command("top", {"provider": "udio"}, user=fake.alice)
    assert "No liked songs yet" in (await udio.wait_response())["data"]["embeds"][0]["description"]


async def test_a_deleted_song_drops_out_of_the_chart(harness):
    """Deleting a song's post (More → Delete) takes it off the charts, and it can no longer be liked."""
    fake, bot = harness.fake, harness.bot
    message = await song(fake)
    await like(fake, message, fake.bob)
    assert len(await bot.community.charts.top(fake.guild.id)) == 1
    delete = await fake.select(message, "chorus:more:1", ["delete"], user=fake.alice)
    await delete.wait_response()
    assert await bot.community.charts.top(fake.guild.id) == []
    top = await fake.slash_command("top", {"period": "all"}, user=fake.alice)
    assert "No liked songs yet" in (await top.wait_response())["data"]["embeds"][0]["description"]


async def test_profile_shows_songs_likes_and_favourite_styles(harness):
    """/profile counts a member's songs, the likes they received and gave, and names their favourite styles."""
    fake = harness.fake
    first = await song(fake, "shanty one", style="sea shanty, accordion", title="One")
    await song(fake, "shanty two", style="Sea Shanty", title="Two", count=2)
    await like(fake, first, fake.bob)
    await like(fake, first, fake.admin)
    it = await fake.slash_command("profile", {"member": fake.alice}, user=fake.bob)
    reply = (await it.wait_response())["data"]
    assert reply["flags"] & 64
    fields = {f["name"]: f["value"] for f in reply["embeds"][0]["fields"]}
    assert fields["Songs made"] == "2"
    assert fields["Likes received"] == "❤️ 2"
    assert fields["Favourite styles"].startswith("sea shanty")
    assert "❤️ 2" in fields["Most liked"]
    mine = await fake.slash_command("profile", {}, user=fake.bob)
    mine_fields = {f["name"]: f["value"] for f in (await mine.wait_response())["data"]["embeds"][0]["fields"]}
    assert (mine_fields["Songs made"], mine_fields["Likes given"]) == ("0", "1")


async def test_a_song_shown_again_keeps_its_likes_and_a_like_there_counts_on_the_song(harness):
    """/show posts the song with its current count; liking it there likes the same song."""
    fake, bot = harness.fake, harness.bot
    message = await song(fake)
    await like(fake, message, fake.bob)
    shown = await fake.slash_command("show", {"job": 1}, user=fake.alice)
    await shown.wait_response()
    copy = fake.messages_in(fake.music)[-1]
    assert like_button(copy)["label"] == "1"
    await like(fake, copy, fake.alice)
    assert await bot.community.likes.count(1) == 2
    assert custom_id(copy, "chorus:like:") == "chorus:like:1"


async def test_a_burst_of_likes_ends_with_the_true_count_on_the_button(harness):
    """Many members pressing ❤️ at once, with Discord's usual round trip: every press is answered (none runs out its
    3 s waiting for the others), and the last edit of the post shows the true count."""
    fake, bot = harness.fake, harness.bot
    message = await song(fake)
    cid = like_button(message)["custom_id"]
    fans = [fake.add_member(f"fan{n}").user for n in range(14)]
    fake.settings.latency = 0.25
    clicks = await asyncio.gather(*(fake.click_button(message, cid, user=fan) for fan in fans))
    await asyncio.gather(*(click.wait_response() for click in clicks))
    assert await bot.community.likes.count(1) == len(fans)
    for click in clicks:
        (answer,) = answers(fake, click)
        assert answer.status == 200 and answer.json["type"] in (6, 7)  # the post updated, or edited just after
    tokens = {click.token for click in clicks}

    def label_edits():
        """Every accepted edit of the post by a press: its update answer (7), or an edit through its token."""
        return [r for r in fake.requests if r.status == 200 and (
            (r.path.endswith("/callback") and r.json["type"] == 7)
            or (r.method == "PATCH" and r.path.split("/")[3] in tokens and r.path.endswith("/messages/@original")))]

    await fake.wait_for(lambda: like_button(fake.message(int(message["id"])).snapshot())["label"] == "14" or None)
    edits = label_edits()
    assert len(edits) <= len(fans)  # presses that came while an edit was under way share the next one
    last = edits[-1]
    assert like_button(last.json if last.method == "PATCH" else last.json["data"])["label"] == "14"
