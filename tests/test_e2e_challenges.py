"""Weekly challenges through the real bot, the fake Discord and the simulator: entries, voting, results."""

from __future__ import annotations

import asyncio

from tests.e2e import answers, buttons, components, eventually, text_of, wait_delivery
from tests.fakes.discord import pinged_user_ids

DAY = 86400


def posted(fake, nonce):
    return next((m for m in fake.messages_in(fake.music) if m.get("nonce") == nonce), None)


async def reply_to(it):
    return (await it.wait_response())["data"]


class Songs:
    """Makes songs one after another and remembers how many were posted."""

    def __init__(self, fake):
        self.fake = fake
        self.count = 0

    async def make(self, user, prompt="a song for the challenge"):
        await self.fake.slash_command("suno", {"prompt": prompt}, user=user)
        self.count += 1
        return (await wait_delivery(self.fake, self.count))[-1]


async def start(fake, ends="2d", **more):
    it = await fake.slash_command("challenge start", {"theme": "songs about the sea", "ends": ends, **more},
                                  user=fake.admin)
    return await reply_to(it)


async def submit(fake, user, job):
    return await reply_to(await fake.slash_command("challenge submit", {"job": job}, user=user))


async def cast(fake, voting, user, entrant):
    click = await fake.select(voting, "chorus:challenge:1:0", [str(entrant.id)], user=user)
    return click, await reply_to(click)


async def voting_post(fake):
    return await fake.wait_for(lambda: posted(fake, "chorus-vote-1"), timeout=10)


async def test_a_challenge_from_start_to_results(shifted_harness):
    """Admins start it; members enter songs made since (one each, replacing); then an anonymous vote (one each,
    changeable, never for one's own); then results and a leaderboard that ping nobody."""
    fake, bot = shifted_harness.fake, shifted_harness.bot
    songs = Songs(fake)
    await songs.make(fake.alice, "made before")  # job 1
    refused = await reply_to(await fake.slash_command("challenge start", {"theme": "x", "ends": "1d"}, user=fake.bob))
    assert refused["flags"] & 64 and "Manage Server" in refused["content"]
    announced = await start(fake)
    assert "New challenge: songs about the sea" in announced["content"]
    assert "More → Enter" in announced["content"] and "job:" not in announced["content"]  # no numbers to look up
    assert "before the challenge started" in (await submit(fake, fake.alice, 1))["content"]
    await songs.make(fake.alice, "a first try")  # job 2
    assert "**A First Try** is your entry" in (await submit(fake, fake.alice, 2))["content"]
    await songs.make(fake.alice)  # job 3
    assert "It replaces **A First Try** (one entry each)" in (await submit(fake, fake.alice, 3))["content"]
    await songs.make(fake.bob)  # job 4
    assert "not yours" in (await submit(fake, fake.bob, 3))["content"]
    await submit(fake, fake.bob, 4)
    await songs.make(fake.admin)  # job 5
    await submit(fake, fake.admin, 5)
    status = await reply_to(await fake.slash_command("challenge status", {}, user=fake.alice))
    embed = status["embeds"][0]
    assert "3 entries" in embed["description"] and "song #3" in embed["fields"][0]["value"]

    shifted_harness.clock.advance(2 * DAY + 1)
    voting = await voting_post(fake)
    text = text_of(voting)
    assert "Vote: songs about the sea" in text and "song #3" in text and "song #2" not in text
    assert pinged_user_ids(voting) == set()
    assert "Entries are closed" in (await submit(fake, fake.alice, 3))["content"]
    _, own = await cast(fake, voting, fake.alice, fake.alice)
    assert "cannot vote for your own entry" in own["content"]
    await cast(fake, voting, fake.alice, fake.bob)
    _, first = await cast(fake, voting, fake.bob, fake.admin)
    assert "Your vote is in" in first["content"] and "anonymous" in first["content"]
    _, changed = await cast(fake, voting, fake.bob, fake.alice)
    assert "Changed" in changed["content"]
    await cast(fake, voting, fake.admin, fake.alice)
    assert text_of(fake.message(int(voting["id"])).snapshot()) == text  # no counts while voting

    shifted_harness.clock.advance(DAY + 1)
    results = await fake.wait_for(lambda: posted(fake, "chorus-results-1"), timeout=10)
    lines = text_of(results).splitlines()
    assert f"<@{fake.alice.id}> wins!" in lines
    board = [line for line in lines if line.startswith(("🥇", "🥈", "🥉", "**3.**"))]
    assert [line.split(" · ")[1] for line in board] == ["2 votes", "1 vote", "0 votes"]
    assert [line.split(" ", 1)[0] for line in board] == ["🥇", "🥈", "**3.**"]  # no bronze medal for no votes
    assert f"<@{fake.alice.id}>" in board[0] and f"<@{fake.bob.id}>" in board[1]
    assert pinged_user_ids(results) == set()

    async def closed():
        return (await bot.community.challenges.current(fake.guild.id)).state == "closed"

    await eventually(closed)
    ended = fake.message(int(voting["id"])).snapshot()
    assert not buttons(ended) and "Voting is closed" in text_of(ended)


async def test_challenge_votes_at_the_same_instant_count_once(shifted_harness):
    """One member's double pick is one vote; every pick gets exactly one answer."""
    fake, bot = shifted_harness.fake, shifted_harness.bot
    songs = Songs(fake)
    await start(fake, ends="1h")
    for user in (fake.alice, fake.bob):
        await songs.make(user)
        await submit(fake, user, songs.count)
    shifted_harness.clock.advance(3601)
    voting = await voting_post(fake)
    picks = await asyncio.gather(
        *(fake.select(voting, "chorus:challenge:1:0", [str(fake.bob.id)], user=fake.alice) for _ in range(2)),
        fake.select(voting, "chorus:challenge:1:0", [str(fake.bob.id)], user=fake.admin),
    )
    await asyncio.gather(*(pick.wait_response() for pick in picks))
    assert all(len(answers(fake, pick)) == 1 for pick in picks)
    assert await bot.store.challenge_tally(1) == {fake.bob.id: 2}


async def test_moderators_remove_entries_and_deleted_songs_drop_out(shifted_harness):
    """/challenge remove is for moderators; a removed entry, or one whose song was deleted, is not voted on."""
    fake = shifted_harness.fake
    songs = Songs(fake)
    await start(fake, ends="1h")
    posts = {}
    for user in (fake.alice, fake.bob, fake.admin):
        posts[user.id] = await songs.make(user)
        await submit(fake, user, songs.count)
    denied = await reply_to(await fake.slash_command("challenge remove", {"member": fake.bob}, user=fake.alice))
    assert "Only moderators" in denied["content"]
    removed = await reply_to(await fake.slash_command("challenge remove", {"member": fake.bob}, user=fake.admin))
    assert "Took" in removed["content"]
    delete = await fake.select(posts[fake.admin.id], "chorus:more:3", ["delete"], user=fake.admin)
    await delete.wait_response()
    shifted_harness.clock.advance(3601)
    # One entry is left: no vote, straight to the results, which it wins unopposed.
    results = await fake.wait_for(lambda: posted(fake, "chorus-results-1"), timeout=10)
    assert posted(fake, "chorus-vote-1") is None
    text = text_of(results)
    assert f"<@{fake.alice.id}> wins unopposed" in text
    assert f"<@{fake.bob.id}>" not in text and f"<@{fake.admin.id}>" not in text


async def test_a_challenge_phase_due_while_the_bot_was_down_happens_after_the_restart(shifted_harness):
    """The end of entries is kept in the database: a restart after it moves the challenge to voting at once."""
    fake = shifted_harness.fake
    songs = Songs(fake)
    await start(fake, ends="1d")
    for user in (fake.alice, fake.bob):
        await songs.make(user)
        await submit(fake, user, songs.count)
    await shifted_harness.stop()
    shifted_harness.clock.advance(DAY + 60)
    await shifted_harness.start()
    voting = await voting_post(fake)
    options = [o["value"] for b in buttons(voting) if b.get("type") == 3 for o in b["options"]]
    assert options == [str(fake.alice.id), str(fake.bob.id)]


def more_values(post):
    menus = [b for b in buttons(post) if b.get("custom_id", "").startswith("chorus:more:")]
    return [option["value"] for menu in menus for option in menu["options"]]


async def test_a_member_enters_their_song_from_its_post(shifted_harness):
    """While a challenge takes entries, a new song's More menu offers to enter it: its maker enters it privately,
    with no number to look up; anyone else is told it is not theirs; a song posted before offers nothing."""
    fake = shifted_harness.fake
    songs = Songs(fake)
    before = await songs.make(fake.alice, "made before")
    assert "enter" not in more_values(before)
    await start(fake)
    post = await songs.make(fake.alice, "a sea shanty")  # job 2
    assert "enter" in more_values(post)
    other = await fake.select(post, "chorus:more:2", ["enter"], user=fake.bob)
    refused = await reply_to(other)
    assert refused["flags"] & 64 and "not yours" in refused["content"]
    it = await fake.select(post, "chorus:more:2", ["enter"], user=fake.alice)
    entered = await reply_to(it)
    assert entered["flags"] & 64 and "**A Sea Shanty** is your entry in **songs about the sea**" in entered["content"]
    assert len(answers(fake, it)) == 1 and len(answers(fake, other)) == 1
    status = await reply_to(await fake.slash_command("challenge status", {}, user=fake.alice))
    assert "1 entry" in status["embeds"][0]["description"]


async def test_the_vote_post_plays_the_entries(shifted_harness):
    """The vote post carries each entry's song, playing right there (no jumping away to listen), and keeps them
    once voting closes."""
    fake = shifted_harness.fake
    songs = Songs(fake)
    await start(fake, ends="1h")
    for user in (fake.alice, fake.bob):
        await songs.make(user)
        await submit(fake, user, songs.count)
    shifted_harness.clock.advance(3601)
    voting = await voting_post(fake)
    names = [a["filename"] for a in voting["attachments"]]
    played = [c["file"]["url"].removeprefix("attachment://") for c in components(voting) if c.get("type") == 13]
    assert len(played) == 2 and all(name.endswith(".mp3") and name in names for name in played)
    assert "▶ Listen" not in text_of(voting)
    descriptions = [o.get("description") or "" for b in buttons(voting) if b.get("type") == 3 for o in b["options"]]
    assert not [d for d in descriptions if "#" in d]
    shifted_harness.clock.advance(DAY + 1)
    await fake.wait_for(lambda: posted(fake, "chorus-results-1"), timeout=10)
    ended = await fake.wait_for(lambda: (m := fake.message(int(voting["id"])).snapshot()) and not buttons(m) and m)
    assert "Voting is closed" in text_of(ended)
    assert [c["file"]["url"] for c in components(ended) if c.get("type") == 13] == [f"attachment://{n}" for n in played]


async def test_challenge_submit_offers_the_members_songs_by_title(shifted_harness):
    """/challenge submit needs no number looked up: as the member types, it offers their songs that may enter, by
    title (songs made before the challenge, or by others, are not offered)."""
    fake = shifted_harness.fake
    songs = Songs(fake)
    await songs.make(fake.alice, "made before")  # job 1
    await start(fake)
    await songs.make(fake.alice, "a sea shanty")  # job 2
    await songs.make(fake.bob, "not hers")  # job 3
    typed = await fake.autocomplete("challenge submit", {"job": "sea"}, "job", user=fake.alice)
    choices = (await typed.wait_response())["data"]["choices"]
    assert [(c["name"], c["value"]) for c in choices] == [("A Sea Shanty (song #2)", 2)]
