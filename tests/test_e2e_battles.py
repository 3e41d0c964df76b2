"""Song battles through the real bot, the fake Discord and the simulator: face-off, votes, result, restarts."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.limits import NotAllowedError
from tests.e2e import answers, buttons, eventually, text_of, wait_delivery
from tests.fakes.discord import pinged_user_ids

DAY = 86400


def posted(fake, nonce):
    return next((m for m in fake.messages_in(fake.music) if m.get("nonce") == nonce), None)


async def face_off_of(fake, battle=1):
    return await fake.wait_for(lambda: posted(fake, f"chorus-battle-{battle}"), timeout=10)


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
    """/battle makes one Suno song; once it is posted a face-off of its two takes opens; votes are private, one per
    member and changeable; after the voting time the result names the winner and pings only the starter."""
    fake, sim = shifted_harness.fake, shifted_harness.sim
    face_off = await start_battle(fake)
    assert sim.count("submit_music") == 1
    text = text_of(face_off)
    assert "Song battle #1" in text and "A · Take A" in text and "B · Take B" in text
    assert "counts stay hidden" in text
    assert pinged_user_ids(face_off) == set()
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
    text = text_of(result)
    assert "B · Take B wins!" in text and "**Take B** 2 votes · Take A 1 vote" in text
    assert pinged_user_ids(result) == {fake.alice.id}
    assert result["message_reference"]["message_id"] == face_off["id"]
    closed = await fake.wait_for(lambda: (m := fake.message(int(face_off["id"])).snapshot()) and not buttons(m) and m)
    assert "Voting closed: **A** 1 · **B** 2, B wins." in text_of(closed) and "Take A" in text_of(closed)
    with pytest.raises(NotAllowedError, match="voting has closed"):  # a member whose screen still shows the buttons
        await shifted_harness.bot.community.battles.vote(1, fake.admin.id, "a")
    battle = await shifted_harness.bot.community.battles.get(1)
    assert (battle.state, battle.winner, battle.votes_a, battle.votes_b) == ("closed", "b", 1, 2)


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
    assert "A · Take A wins!" in text_of(result) and "1 vote" in text_of(result)
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
    jobs = [await harness.bot.jobs.get(n) for n in (1, 2)]
    assert [(job.provider, job.user_id) for job in jobs] == [("suno", fake.alice.id), ("udio", fake.alice.id)]
    assert jobs[1].interaction_token is None  # only the first job owns the command's card


async def test_a_deleted_song_calls_the_battle_off(shifted_harness):
    """A battle whose song was deleted takes no more votes and ends called off, with no winner and no ping."""
    fake = shifted_harness.fake
    face_off = await start_battle(fake)
    await vote(fake, face_off, 1, fake.bob)
    song = (await wait_delivery(fake))[0]
    delete = await fake.select(song, "chorus:more:1", ["delete"], user=fake.alice)
    await delete.wait_response()
    _, refused = await vote(fake, face_off, 2, fake.admin)
    assert "called off" in refused["content"]
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
