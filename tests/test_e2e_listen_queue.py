"""/listen end to end, beyond the first party: adding to the queue, one party per server, deleted songs, live
parties, More → Play in voice, skip votes, likes, presses on an ended party, voice switched off, and shutdown."""

from __future__ import annotations

import asyncio

import pytest

from tests import listening
from tests.e2e import buttons, text_of
from tests.fakes.discord.faults import Fault
from tests.fakes.discord.models import SEND_MESSAGES
from tests.fakes.voice import FFMPEG_MISSING, expected_frames, ffmpeg
from tests.listening import heard

pytestmark = pytest.mark.skipif(ffmpeg() is None, reason=FFMPEG_MISSING)
room = listening.room


async def test_a_second_listen_in_the_channel_adds_to_the_queue(room):
    """Bob joins Alice's party and asks for his songs: they are queued after hers, and both play."""
    fake, voice = room.fake, room.voice
    await room.song(440, 1.5, count=1)
    await room.song(660, 1.5, user=fake.bob, count=2)
    await room.like(1, fake.bob)
    await voice.join(fake.bob, room.lobby)
    await room.listen("listen top", {"period": "all"})
    answer = await room.listen("listen member", {"member": fake.bob}, user=fake.bob)
    assert f"Added 1 song from <@{fake.bob.id}>'s songs to the queue in <#{room.lobby.id}>" in answer
    await room.ended()
    first, second = room.bursts()
    assert heard(first, 440, 1.5) and heard(second, 660, 1.5)
    assert len(room.posts_to_music()) == 1  # still the one now-playing message


async def test_one_party_per_server(room):
    """While a party is on in the Lobby, /listen from another voice channel says where the party is."""
    fake, voice = room.fake, room.voice
    await room.song(440, 20.0, count=1)
    await room.like(1, fake.bob)
    stage = await voice.create_voice_channel("Stage")
    await room.listen("listen top", {"period": "all"})
    await voice.join(fake.bob, stage)
    await voice.wait_for(lambda: bool(voice.voice_state(fake.bob)))
    answer = await room.listen("listen top", {"period": "all"}, user=fake.bob)
    assert f"already on in <#{room.lobby.id}>" in answer and f"<@{fake.alice.id}>" in answer
    assert [int(r["channel_id"]) for r in voice.requests if r["channel_id"]] == [room.lobby.id]
    await room.press("Stop")
    await room.ended()


async def test_a_song_deleted_while_queued_is_skipped(room):
    """Alice's three songs, newest first; the middle one is deleted before its turn: the other two play."""
    fake = room.fake
    await room.song(440, 1.5, count=1)
    middle = await room.song(550, 1.5, count=2)
    await room.song(660, 3.0, count=3)
    await room.listen("listen member", {"member": fake.alice})
    stream = room.voice.stream()
    await room.voice.wait_for(lambda: len(stream.audio) >= 5 or None, timeout=10)
    await fake.delete_message(middle, user=fake.admin)  # a moderator deletes the post in Discord
    text = await room.ended()
    assert "2 songs played" in text
    newest, oldest = room.bursts()
    assert heard(newest, 660, 3.0) and heard(oldest, 440, 1.5)


async def test_listen_live_plays_a_song_posted_after_it_began(room):
    """/listen live waits in the channel; a song posted afterwards joins the queue and plays (it may have been
    posted by any process: the party reads it from the store)."""
    fake, voice = room.fake, room.voice
    await room.song(330, 1.0, count=1)  # posted before: not part of the party
    room.sim.media.set_audio(room.tone(880, 1.5))  # every clip without its own tone: the song posted next
    answer = await room.listen("listen live")
    assert "Songs posted in" in answer
    await voice.wait_connected()
    waiting = await fake.wait_for(lambda: room.now_playing() if "Waiting for the next song" in
                                  text_of(room.now_playing()) else None, timeout=10)
    assert f"<#{fake.music.id}>" in text_of(waiting)
    await fake.slash_command("suno", {"prompt": "a song for the party"}, user=fake.bob)
    stream = voice.stream()
    await voice.wait_for(lambda: (len(stream.bursts()) == 1 and len(stream.silence) >= 5) or None, timeout=20)
    (burst,) = stream.bursts()
    assert heard(burst, 880, 1.5)
    assert voice.voice_state(fake.bot_user) is not None, "a live party waits for the next song"
    await room.press("Stop")
    await room.ended()


async def test_play_in_voice_from_a_posts_more_menu(room):
    """More → Play in voice plays the song's takes, A then B, in the member's voice channel."""
    fake = room.fake
    post = await room.song(440, 1.5, count=1)
    job = await room.bot.jobs.get(1)
    room.sim.media.set_audio(room.tone(660, 1.5), job.result["clips"][1]["id"])  # take B sounds different
    menu = next(b for b in buttons(post) if b.get("custom_id") == "chorus:more:1")
    assert "voice" in [o["value"] for o in menu["options"]]
    pick = await fake.select(post, "chorus:more:1", ["voice"], user=fake.alice)
    first = await pick.wait_response(timeout=5)
    assert first["type"] == 5 and first["data"]["flags"] & 64
    answer = await pick.wait_original(lambda m: bool(m["content"]), timeout=15)
    assert "Playing 2 songs from song #1" in answer["content"]
    await room.ended()
    take_a, take_b = room.bursts()
    assert heard(take_a, 440, 1.5) and heard(take_b, 660, 1.5)


async def test_a_skip_vote_needs_a_majority(room):
    """With Alice and Bob listening, Bob's Skip is one vote of two (told privately) and the song plays on; the
    starter's Skip then skips it."""
    fake, voice = room.fake, room.voice
    await room.song(440, 20.0, count=1)
    await room.song(660, 1.0, count=2)
    await room.like(1, fake.bob, fake.admin)
    await room.like(2, fake.bob)
    await voice.join(fake.bob, room.lobby)
    await room.listen("listen top", {"period": "all"})
    stream = voice.stream()
    await voice.wait_for(lambda: len(stream.audio) >= 10 or None, timeout=10)
    vote = await room.press("Skip", user=fake.bob)
    assert vote["type"] == 4 and vote["data"]["flags"] & 64 and "1 of 2" in vote["data"]["content"]
    assert len(stream.bursts()) == 1
    await fake.wait_for(lambda: "skip: 1 of 2 votes" in text_of(room.now_playing()) or None)
    await room.press("Skip")  # the starter's
    await room.ended()
    cut, nxt = room.bursts()
    assert len(cut) < expected_frames(20.0) / 2 and heard(nxt, 660, 1.0)


async def test_only_listeners_steer_but_anyone_likes(room):
    """Bob, not in the voice channel, cannot pause (told privately); his ❤️ Like counts on the song and shows."""
    fake, voice = room.fake, room.voice
    post = await room.song(440, 20.0, count=1)
    await room.like(1, fake.alice)
    await room.listen("listen top", {"period": "all"})
    await fake.wait_for(lambda: "Now playing" in text_of(room.now_playing()) or None, timeout=10)
    refused = await room.press("Pause", user=fake.bob)
    assert refused["type"] == 4 and refused["data"]["flags"] & 64
    assert f"Join the party's voice channel, <#{room.lobby.id}>" in refused["data"]["content"]
    liked = await room.press("1", user=fake.bob)
    assert liked["type"] == 7
    assert [b.get("label") for b in buttons(liked["data"])][-1] == "2"
    assert await room.bot.community.likes.count(1) == 2
    # The song's own post shows the same count: its Like is relabelled in place, once, its files and text kept.
    edit_path = f"/channels/{fake.music.id}/messages/{post['id']}"
    edits = await fake.wait_for(lambda: fake.find_requests("PATCH", edit_path) or None, timeout=5)
    await asyncio.sleep(0.3)  # a second edit, if the bot were to make one
    assert len(fake.find_requests("PATCH", edit_path)) == len(edits) == 1
    now = fake.message(int(post["id"]))
    assert now is not None
    like = next(b for b in buttons(now.data) if (b.get("emoji") or {}).get("name") == "❤️")
    assert like["label"] == "2"
    assert text_of(now.data) == text_of(post)
    assert [a["filename"] for a in now.data["attachments"]] == [a["filename"] for a in post["attachments"]]
    # And the other way: a like on the post shows on the now-playing message at once (paused: no progress edits
    # that would bring it along anyway).
    assert (await room.press("Pause"))["type"] == 7
    pressed = await fake.click_button(now.data, like["custom_id"], user=fake.admin)
    assert (await pressed.wait_response(timeout=5))["type"] == 7
    await fake.wait_for(lambda: [b.get("label") for b in buttons(room.now_playing())][-1] == "3" or None, timeout=5)
    await voice.leave(fake.alice)
    await room.ended()


async def test_a_press_on_an_ended_party_says_so(room):
    """The party ended but its message kept its buttons (Discord refused the last edit): a press is told, privately,
    that the party has ended."""
    fake, voice = room.fake, room.voice
    await room.song(440, 20.0, count=1)
    await room.like(1, fake.bob)
    await room.listen("listen top", {"period": "all"})
    message = await fake.wait_for(lambda: room.now_playing() if "Now playing" in text_of(room.now_playing())
                                  else None, timeout=10)
    fake.faults.always("PATCH", f"/channels/{fake.music.id}/messages/{message['id']}", Fault.forbidden())
    await voice.join(fake.bob, room.lobby)
    await voice.leave(fake.alice)
    await voice.leave(fake.bob)
    await room.left()
    await fake.wait_for(lambda: room.bot.listening.of_guild(fake.guild.id) is None or None)
    answer = await room.press("Pause", user=fake.alice)
    assert answer["type"] == 4 and answer["data"]["flags"] & 64
    assert "This listening party has ended" in answer["data"]["content"]


async def test_switched_off_voice_and_a_host_without_ffmpeg_are_answered_plainly(room, tmp_path, monkeypatch):
    """Admins switched voice off: /listen says so. A host without ffmpeg: /listen says that. Nothing joins."""
    fake, bot = room.fake, room.bot
    await bot.store.change_guild_settings(fake.guild.id, lambda s: s.replace(voice_enabled=False), by=None)
    assert "Voice is switched off on this server" in await room.listen("listen top")
    await bot.store.change_guild_settings(fake.guild.id, lambda s: s.replace(voice_enabled=True), by=None)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "its host has no ffmpeg" in await room.listen("listen top")
    assert room.voice.requests == []


async def test_shutdown_leaves_voice_first_and_says_why(room):
    """A graceful stop ends the party before anything else closes: the bot leaves the channel and the message says
    Chorus is restarting."""
    fake, voice = room.fake, room.voice
    await room.song(440, 20.0, count=1)
    await room.like(1, fake.bob)
    await room.listen("listen top", {"period": "all"})
    stream = voice.stream()
    await voice.wait_for(lambda: len(stream.audio) >= 10 or None, timeout=10)
    await room.harness.stop()
    assert voice.requests[-1]["channel_id"] is None
    assert voice.voice_state(fake.bot_user) is None
    assert "Chorus is restarting." in text_of(room.now_playing())


async def test_listen_challenge_plays_the_entries(room):
    """/listen challenge plays the challenge's entries in the order entered; with no challenge, a private answer."""
    fake = room.fake
    assert "no challenge here yet" in await room.listen("listen challenge")
    started = await fake.slash_command("challenge start", {"theme": "the sea", "ends": "1d"}, user=fake.admin)
    await started.wait_response()
    await room.song(660, 1.0, user=fake.bob, count=1)
    await room.song(440, 1.0, count=2)
    for user, job in ((fake.bob, 1), (fake.alice, 2)):
        entered = await fake.slash_command("challenge submit", {"job": job}, user=user)
        await entered.wait_response()
    assert "Playing 2 songs from the challenge's entries" in await room.listen("listen challenge")
    await room.ended()
    first, second = room.bursts()
    assert heard(first, 660, 1.0) and heard(second, 440, 1.0)


async def test_a_bot_disconnected_by_a_moderator_ends_the_party(room):
    """A moderator disconnects Chorus from the voice channel: the party ends and its message says so."""
    fake, voice = room.fake, room.voice
    await room.song(440, 20.0, count=1)
    await room.like(1, fake.bob)
    await room.listen("listen top", {"period": "all"})
    stream = voice.stream()
    await voice.wait_for(lambda: len(stream.audio) >= 10 or None, timeout=10)
    await voice.disconnect_bot()
    assert "disconnected from the voice channel" in await room.ended()
    assert room.bot.listening.of_guild(fake.guild.id) is None


async def test_a_channel_chorus_cannot_post_in_gets_no_silent_party(room):
    """Chorus may not send messages where /listen was used: no message could steer the party, so none begins, and
    the member is told why, privately. Should Discord refuse the message all the same, Chorus leaves again."""
    fake, voice = room.fake, room.voice
    await room.song(440, 20.0, count=1)
    await room.like(1, fake.bob)
    await fake.set_bot_permissions(fake.music, deny=SEND_MESSAGES)
    answer = await room.listen("listen top", {"period": "all"})
    assert "cannot post its now-playing message in this channel" in answer and voice.requests == []
    await fake.set_bot_permissions(fake.music)
    fake.faults.script("POST", f"/channels/{fake.music.id}/messages", [Fault.forbidden()])
    answer = await room.listen("listen top", {"period": "all"})
    assert "could not post the now-playing message" in answer
    await room.left()
    assert room.bot.listening.of_guild(fake.guild.id) is None


async def test_stop_ends_a_song_whose_link_stalled_at_once(room):
    """The CDN stops sending in the middle of a song (its connection open): Stop still ends the party and the bot
    leaves at once, not once ffmpeg gives up on the silent link (15 s later)."""
    fake = room.fake
    await room.song(440, 20.0, count=1)
    await room.like(1, fake.bob)
    job = await room.bot.jobs.get(1)
    for clip in job.result["clips"]:
        room.sim.media.stall_after[clip["id"]] = len(room.sim.media.audio_of[clip["id"]]) // 20  # about 1 s of song
    await room.listen("listen top", {"period": "all"})
    await fake.wait_for(lambda: "Now playing" in text_of(room.now_playing()) or None, timeout=10)
    await asyncio.sleep(2.5)  # the second of song that came has played: the player waits on the stalled link
    assert (await room.press("Stop"))["type"] == 7
    said = await asyncio.wait_for(room.ended(), 6)
    assert "Stopped by" in said
