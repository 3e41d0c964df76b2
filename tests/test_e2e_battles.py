"""Song battles through the real bot, the fake Discord and the simulator: face-off, votes, result, restarts."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.core.community.battles import contenders
from bot.core.limits import NotAllowedError
from bot.ui.community.herald import DiscordHerald
from bot.ui.items.battle_vote import BattleVoteButton
from tests.e2e import answers, buttons, components, custom_id, eventually, text_of, wait_delivery
from tests.fakes.discord import pinged_user_ids

DAY = 86400


def posted(fake, nonce):
    return next((m for m in fake.messages_in(fake.music) if m.get("nonce") == nonce), None)


def vote_post(fake, battle=1):
    """The post members vote on: the one carrying the battle's vote buttons."""
    prefix = f"chorus:battle:{battle}:"
    return next((m for m in fake.messages_in(fake.music)
                 if any(str(b.get("custom_id", "")).startswith(prefix) for b in buttons(m))), None)


async def face_off_of(fake, battle=1):
    return await fake.wait_for(lambda: vote_post(fake, battle), timeout=10)


def channel_posts(fake):
    """Every message the bot posted in #music, as the POSTs crossed the wire (accepted ones)."""
    return fake.find_requests("POST", f"/channels/{fake.music.id}/messages", status=200)


def players(message):
    """The audio a post plays: its File components, each naming one of its attachments."""
    names = {a["filename"] for a in message.get("attachments") or []}
    files = [c["file"]["url"].removeprefix("attachment://") for c in components(message) if c.get("type") == 13]
    assert all(name in names for name in files)
    return [name for name in files if name.endswith(".mp3")]


async def result_of(fake, battle=1):
    return await fake.wait_for(lambda: posted(fake, f"chorus-battle-end-{battle}"), timeout=10)


async def vote(fake, face_off, side, user):
    custom = next(b["custom_id"] for b in buttons(face_off)
                  if b.get("custom_id", "").startswith("chorus:battle:") and b["custom_id"].endswith(f":{side}"))
    click = await fake.click_button(face_off, custom, user=user)
    return click, (await click.wait_response())["data"]


async def start_battle(fake, prompt="a duel of synths", **options):
    it = await fake.slash_command("battle", {"prompt": prompt, **options}, user=fake.alice)
    assert (await it.wait_response())["type"] == 5
    await wait_delivery(fake)
    return await face_off_of(fake)


async def test_a_battle_from_prompt_to_result(shifted_harness):
    """/battle makes one Suno song; once it is posted its own post becomes the face-off (its two takes play there,
    with Vote A and Vote B); votes are private, one per member and changeable; after the voting time the post shows
    the votes instead of its buttons, and one short line names the winner, pinging only the starter."""
    fake, sim = shifted_harness.fake, shifted_harness.sim
    face_off = await start_battle(fake)
    (song,) = await wait_delivery(fake)
    assert face_off["id"] == song["id"]  # one place: the song's post is where members listen and vote
    assert sim.count("submit_music") == 1
    text = text_of(face_off)
    assert "Song battle #1" in text and "counts stay hidden" in text
    labels = [b.get("label") for b in buttons(face_off) if str(b.get("custom_id", "")).startswith("chorus:battle:")]
    assert labels == ["Vote for Take A", "Vote for Take B"]
    assert len(players(face_off)) == 2
    _, first = await vote(fake, face_off, 1, fake.bob)
    assert first["flags"] & 64 and "Your vote for **A** is in" in first["content"]
    await vote(fake, face_off, 2, fake.admin)
    await vote(fake, face_off, 1, fake.alice)
    _, changed = await vote(fake, face_off, 2, fake.bob)
    assert "Changed: your vote is now for **B**" in changed["content"]
    assert text_of(fake.message(int(face_off["id"])).snapshot()) == text  # never edited: no counts shown
    assert posted(fake, "chorus-battle-end-1") is None
    shifted_harness.clock.advance(DAY + 1)
    result = await result_of(fake)
    line = text_of(result)
    assert "Take B wins! 2 votes to 1" in line
    assert [c["type"] for c in components(result)] == [10] and len(line) <= 200 and "\n" not in line  # one line
    assert pinged_user_ids(result) == {fake.alice.id}
    assert result["message_reference"]["message_id"] == face_off["id"]
    closed = await fake.wait_for(lambda: (m := fake.message(int(face_off["id"])).snapshot()) and not vote_post(fake)
                                 and m)
    assert "Voting closed: **Take A** 1 · **Take B** 2, Take B wins." in text_of(closed)
    assert len(players(closed)) == 2  # the songs stay playable
    with pytest.raises(NotAllowedError, match="voting has closed"):  # a member whose screen still shows the buttons
        await shifted_harness.bot.community.battles.vote(1, fake.admin.id, "a")
    battle = await shifted_harness.bot.community.battles.get(1)
    assert (battle.state, battle.winner, battle.votes_a, battle.votes_b) == ("closed", "b", 1, 2)


async def test_a_battle_of_two_takes_is_two_public_posts(shifted_harness):
    """A battle of takes posts its song (where members listen, like and vote) and, at the end, one result line:
    nothing else reaches the channel (no separate face-off, no result card)."""
    fake = shifted_harness.fake
    face_off = await start_battle(fake)
    await vote(fake, face_off, 1, fake.bob)
    like = await fake.click_button(face_off, custom_id(face_off, "chorus:like:"), user=fake.bob)
    await like.wait_response()
    liked = fake.message(int(face_off["id"])).snapshot()
    assert vote_post(fake)["id"] == face_off["id"] and len(players(liked)) == 2  # a like keeps the battle as it was
    assert len(channel_posts(fake)) == 1
    shifted_harness.clock.advance(DAY + 1)
    await result_of(fake)
    await fake.wait_for(lambda: vote_post(fake) is None or None)
    assert len(channel_posts(fake)) == 2


async def test_opening_a_battle_again_after_a_crash_adds_its_votes_once(shifted_harness):
    """The opening is tried again when the bot stopped before recording it: the song's post keeps one pair of vote
    buttons however often it is opened."""
    fake, bot = shifted_harness.fake, shifted_harness.bot
    face_off = await start_battle(fake)
    battle = await bot.community.battles.get(1)
    sides = contenders(battle, await bot.community.battles.jobs_of(battle))
    assert sides is not None
    herald = DiscordHerald(bot)
    assert await herald.face_off(battle, sides, battle.closes_at) == int(face_off["id"])
    again = fake.message(int(face_off["id"])).snapshot()
    assert [b["custom_id"] for b in buttons(again) if b["custom_id"].startswith("chorus:battle:")] == [
        "chorus:battle:1:1", "chorus:battle:1:2"]


async def test_votes_at_the_same_instant_count_once_each(harness):
    """Presses at the same instant: one member's double click is one vote; every press gets exactly one answer."""
    fake, bot = harness.fake, harness.bot
    face_off = await start_battle(fake)
    custom_a = next(b["custom_id"] for b in buttons(face_off) if b["custom_id"].endswith(":1"))
    custom_b = next(b["custom_id"] for b in buttons(face_off) if b["custom_id"].endswith(":2"))
    clicks = await asyncio.gather(
        fake.click_button(face_off, custom_a, user=fake.bob), fake.click_button(face_off, custom_a, user=fake.bob),
        fake.click_button(face_off, custom_b, user=fake.admin), fake.click_button(face_off, custom_b, user=fake.alice),
    )
    await asyncio.gather(*(click.wait_response() for click in clicks))
    assert all(len(answers(fake, click)) == 1 for click in clicks)
    assert await bot.store.battle_tally(1) == (1, 2)


async def test_a_restart_between_a_vote_and_the_close_keeps_the_vote_and_the_timer(shifted_harness):
    """Votes live in the database and so does the closing time: the bot is down when the battle should close, and
    closes it (counting the vote cast before the restart) as soon as it is back."""
    fake = shifted_harness.fake
    face_off = await start_battle(fake)
    await vote(fake, face_off, 1, fake.bob)
    await shifted_harness.stop()
    shifted_harness.clock.advance(DAY + 60)  # the closing time passes while the bot is down
    await shifted_harness.start()
    result = await result_of(fake)
    assert "Take A wins! 1 vote to 0" in text_of(result)
    assert len([m for m in fake.messages_in(fake.music) if m.get("nonce") == "chorus-battle-end-1"]) == 1


async def test_the_battle_length_is_an_admin_setting(shifted_harness):
    """/chorus battle-length sets how long new battles take votes."""
    fake, bot = shifted_harness.fake, shifted_harness.bot
    it = await fake.slash_command("chorus battle-length", {"minutes": 30}, user=fake.admin)
    assert "30 minutes" in (await it.wait_response())["data"]["content"]
    await start_battle(fake)

    async def opened():
        found = await bot.community.battles.get(1)
        return found if found.state == "open" else None

    battle = await eventually(opened)
    assert battle.closes_at - battle.opened_at == 30 * 60
    shifted_harness.clock.advance(31 * 60)
    await result_of(fake)


async def test_suno_against_udio(harness):
    """versus:True makes a Suno and a Udio song on the same prompt and lets them face off."""
    fake, sim = harness.fake, harness.sim
    it = await fake.slash_command("battle", {"prompt": "city lights", "versus": True}, user=fake.alice)
    assert (await it.wait_response())["type"] == 5
    await wait_delivery(fake, 2)
    face_off = await face_off_of(fake)
    assert (sim.count("submit_music"), sim.count("udio_generate")) == (1, 1)
    text = text_of(face_off)
    assert "A · Suno" in text and "B · Udio" in text and "Suno against Udio" in text
    assert "▶ Listen" not in text  # both sides play right there
    sides = players(face_off)
    assert len(sides) == 2 and sides[0].endswith(" - Suno.mp3") and sides[1].endswith(" - Udio.mp3")
    assert len(channel_posts(fake)) == 3  # the two songs, and the face-off that plays both
    jobs = [await harness.bot.jobs.get(n) for n in (1, 2)]
    assert [(job.provider, job.user_id) for job in jobs] == [("suno", fake.alice.id), ("udio", fake.alice.id)]
    assert jobs[1].interaction_token is None  # only the first job owns the command's card


async def test_suno_against_udio_ends_on_its_face_off(shifted_harness):
    """Suno against Udio: the face-off keeps playing both sides once voting closes, and the result is one line."""
    fake = shifted_harness.fake
    it = await fake.slash_command("battle", {"prompt": "city lights", "versus": True}, user=fake.alice)
    assert (await it.wait_response())["type"] == 5
    await wait_delivery(fake, 2)
    face_off = await face_off_of(fake)
    await vote(fake, face_off, 2, fake.bob)
    shifted_harness.clock.advance(DAY + 1)
    result = await result_of(fake)
    assert "Udio wins! 1 vote to 0" in text_of(result)
    assert result["message_reference"]["message_id"] == face_off["id"]
    closed = await fake.wait_for(lambda: vote_post(fake) is None and fake.message(int(face_off["id"])).snapshot())
    assert len(players(closed)) == 2 and "Voting closed: **Suno** 0 · **Udio** 1, Udio wins." in text_of(closed)
    assert len(channel_posts(fake)) == 4


async def test_a_face_off_too_large_to_attach_links_its_songs(harness):
    """The face-off attaches what fits the server's upload limit; a song that does not fit plays from its link."""
    fake = harness.fake
    fake.upload_limit = 64 * 1024 + 1  # nothing fits beside the message itself
    it = await fake.slash_command("battle", {"prompt": "city lights", "versus": True}, user=fake.alice)
    assert (await it.wait_response())["type"] == 5
    await wait_delivery(fake, 2)
    face_off = await face_off_of(fake)
    assert players(face_off) == [] and not face_off["attachments"]
    assert text_of(face_off).count("▶ Listen") == 2


async def test_a_face_off_posted_before_this_version_still_takes_votes_and_closes(shifted_harness):
    """A face-off posted by an earlier version (a post of its own, no players) keeps answering its vote buttons,
    and closes into the votes like the new ones."""
    fake, bot = shifted_harness.fake, shifted_harness.bot
    await start_battle(fake)
    battle = await bot.community.battles.get(1)
    closes = f"Voting closes <t:{int(battle.closes_at)}:R>. One vote each (press the other side to change it); the " \
             "counts stay hidden until the end."
    old_view = discord.ui.LayoutView(timeout=None)
    old_view.add_item(discord.ui.Container(
        discord.ui.TextDisplay("### ⚔️ Song battle #1\n>>> a duel of synths"), discord.ui.TextDisplay(closes),
        discord.ui.ActionRow(BattleVoteButton(1, 1, "Take A"), BattleVoteButton(1, 2, "Take B")),
    ))
    old = await bot.get_channel(fake.music.id).send(view=old_view)
    await bot.store.set_battle_message(1, old.id)
    old_post = fake.message(old.id).snapshot()
    click, reply = await vote(fake, old_post, 1, fake.bob)
    assert "Your vote for **A** is in" in reply["content"] and len(answers(fake, click)) == 1
    shifted_harness.clock.advance(DAY + 1)
    result = await result_of(fake)
    assert "Take A wins! 1 vote to 0" in text_of(result)
    closed = await fake.wait_for(lambda: (m := fake.message(old.id).snapshot()) and not buttons(m) and m)
    assert "Voting closed: **Take A** 1 · **Take B** 0, Take A wins." in text_of(closed)
    assert closes not in text_of(closed)


async def test_a_deleted_song_calls_the_battle_off(shifted_harness):
    """A battle whose song was deleted takes no more votes and ends called off, with no winner and no ping: its
    face-off says so instead of offering votes."""
    fake = shifted_harness.fake
    it = await fake.slash_command("battle", {"prompt": "city lights", "versus": True}, user=fake.alice)
    assert (await it.wait_response())["type"] == 5
    suno = (await wait_delivery(fake, 2))[0]
    face_off = await face_off_of(fake)
    await vote(fake, face_off, 1, fake.bob)
    delete = await fake.select(suno, "chorus:more:1", ["delete"], user=fake.alice)
    await delete.wait_response()
    _, refused = await vote(fake, face_off, 2, fake.admin)
    assert "called off" in refused["content"]
    shifted_harness.clock.advance(DAY + 1)
    result = await result_of(fake)
    assert "called off" in text_of(result) and pinged_user_ids(result) == set()
    closed = await fake.wait_for(lambda: vote_post(fake) is None and fake.message(int(face_off["id"])).snapshot())
    assert "Called off: a song in it was deleted." in text_of(closed)


async def test_a_battle_whose_song_post_is_deleted_is_called_off(shifted_harness):
    """A battle of takes whose song (its vote post) was deleted takes no more votes; it ends called off in one
    line, pinging nobody."""
    fake, bot = shifted_harness.fake, shifted_harness.bot
    song = await start_battle(fake)
    delete = await fake.select(song, "chorus:more:1", ["delete"], user=fake.alice)
    await delete.wait_response()
    with pytest.raises(NotAllowedError, match="called off"):
        await bot.community.battles.vote(1, fake.bob.id, "a")
    shifted_harness.clock.advance(DAY + 1)
    result = await result_of(fake)
    assert "called off" in text_of(result) and pinged_user_ids(result) == set()


async def test_votes_cost_no_quota(harness):
    """A member at their daily limit can still vote: voting makes no job."""
    fake, sim, bot = harness.fake, harness.sim, harness.bot
    face_off = await start_battle(fake)
    await bot.admin.set_limits(fake.guild.id, by=fake.admin.id, daily_quota=1)
    _, reply = await vote(fake, face_off, 1, fake.alice)
    assert "Your vote" in reply["content"]
    assert sim.count("submit_music") == 1 and await bot.jobs.get(2) is None


async def test_a_battle_is_refused_over_a_limit_and_nothing_starts(harness):
    """A battle goes through the same limits as a song: refused privately, nothing sent, no battle recorded."""
    fake, sim, bot = harness.fake, harness.sim, harness.bot
    await bot.admin.set_limits(fake.guild.id, by=fake.admin.id, daily_quota=1)
    await fake.slash_command("suno", {"prompt": "uses the quota"}, user=fake.alice)
    await wait_delivery(fake)
    it = await fake.slash_command("battle", {"prompt": "over the limit", "versus": True}, user=fake.alice)
    reply = (await it.wait_response())["data"]
    assert reply["flags"] & 64 and "daily limit" in reply["content"]
    assert (sim.count("submit_music"), sim.count("udio_generate")) == (1, 0)
    assert await bot.store.battles_in("making") == []


async def test_a_battle_whose_song_fails_is_dropped_quietly(harness):
    """A failed song calls its battle off without a post: the card already told the starter why."""
    fake, bot = harness.fake, harness.bot
    it = await fake.slash_command("battle", {"prompt": "this one will [fail]"}, user=fake.alice)
    assert (await it.wait_response())["type"] == 5

    async def called_off():
        battle = await bot.community.battles.get(1)
        return battle.state == "called_off"

    await eventually(called_off)
    assert posted(fake, "chorus-battle-1") is None and posted(fake, "chorus-battle-end-1") is None
