"""/listen end to end: the real bot joins a voice channel of the fake Discord's voice server and plays songs the
simulator's CDN serves (each a tone of its own pitch), and the tests check what a listener hears, and the one
now-playing message as it crossed the wire."""

from __future__ import annotations

import asyncio

import pytest

from tests import listening
from tests.e2e import buttons, text_of
from tests.fakes.discord import CONNECT, SPEAK
from tests.fakes.voice import FFMPEG_MISSING, expected_frames, ffmpeg
from tests.listening import heard

pytestmark = pytest.mark.skipif(ffmpeg() is None, reason=FFMPEG_MISSING)
room = listening.room

async def test_listen_top_plays_the_chart_in_order_then_leaves(room):
    """/listen top: the bot joins Alice's voice channel (offering DAVE), plays the most liked song, then the next,
    each whole, posts one now-playing message that it edits in place, and leaves when the queue ends."""
    fake, voice = room.fake, room.voice
    await room.song(440, 1.5, count=1)
    await room.song(660, 1.5, user=fake.bob, count=2)
    await room.like(2, fake.alice, fake.admin)  # song 2 tops the chart
    await room.like(1, fake.bob)

    answer = await room.listen("listen top", {"period": "all"})
    assert "Playing 2 songs from the all-time chart" in answer and f"<#{room.lobby.id}>" in answer
    session = await voice.wait_connected()
    assert session.max_dave_protocol_version > 0, "the bot must offer DAVE in IDENTIFY"
    text = await room.ended()

    second, first = room.bursts()[0], room.bursts()[1]
    assert len(room.bursts()) == 2
    assert heard(second, 660, 1.5) and heard(first, 440, 1.5)
    # One message for the whole party, edited in place; nobody pinged by it.
    (post,) = room.posts_to_music()
    assert post.json["allowed_mentions"] == {"parse": []}
    message = room.now_playing()
    assert fake.find_requests("PATCH", f"/channels/{fake.music.id}/messages/{message['id']}")
    assert "The queue has ended." in text and "2 songs played" in text
    assert not buttons(message)


async def test_the_now_playing_message_shows_the_song_its_maker_and_what_is_next(room):
    """While a song plays: its title, its maker (mentioned), a progress line, the next song, and the buttons."""
    fake = room.fake
    await room.song(440, 4.0, count=1)
    await room.song(660, 1.0, user=fake.bob, count=2)
    await room.like(1, fake.alice, fake.bob)
    await room.like(2, fake.bob)
    await room.listen("listen top", {"period": "all"})
    message = await fake.wait_for(lambda: next(
        (m for m in fake.messages_in(fake.music) if "Now playing" in text_of(m) and not m.get("flags", 0) & 64),
        None), timeout=10)
    text = text_of(message)
    assert f"by <@{fake.alice.id}>" in text and "▶" in text
    assert "**Next:**" in text and f"by <@{fake.bob.id}>" in text
    assert [b.get("label") for b in buttons(message)] == ["Skip", "Pause", "Stop", "2"]
    await room.press("Stop")
    await room.left()


async def test_skip_by_the_starter_moves_on_at_once(room):
    """The starter's Skip cuts the song short and the next plays whole."""
    fake = room.fake
    await room.song(440, 8.0, count=1)
    await room.song(660, 1.5, count=2)
    await room.like(1, fake.alice, fake.bob)
    await room.like(2, fake.bob)
    await room.listen("listen top", {"period": "all"})
    stream = room.voice.stream()
    await room.voice.wait_for(lambda: len(stream.audio) >= 25 or None, timeout=10)
    answer = await room.press("Skip")
    assert answer["type"] == 7  # the message itself is the answer, showing the song that plays now
    assert "A 660 Hz Song" in text_of(answer["data"]) and "A 440 Hz Song" not in text_of(answer["data"])
    await room.left()
    cut, whole = room.bursts()
    assert abs(cut.pitch_hz() - 440) < 22 and len(cut) < expected_frames(8.0) * 0.8
    assert heard(whole, 660, 1.5)


async def test_pause_stops_the_sound_and_resume_goes_on(room):
    """Pause: no more frames until Resume; then the rest of the song, so the two halves make the whole song."""
    fake, voice = room.fake, room.voice
    await room.song(440, 3.0, count=1)
    await room.like(1, fake.bob)
    await room.listen("listen top", {"period": "all"})
    stream = voice.stream()
    await voice.wait_for(lambda: len(stream.audio) >= 25 or None, timeout=10)
    paused = await room.press("Pause")
    assert paused["type"] == 7 and "Paused" in text_of(paused["data"])
    await voice.wait_for(lambda: len(stream.silence) >= 5 or None)  # discord.py's silence when it stops sending
    mark = len(stream.frames)
    await asyncio.sleep(0.5)
    assert not [f for f in stream.since(mark) if not f.silence and not f.ogg_header], "nothing plays while paused"
    resumed = await room.press("Resume")
    assert resumed["type"] == 7 and "Paused" not in text_of(resumed["data"])
    await room.left()
    first, rest = room.bursts()
    assert abs(first.pitch_hz() - 440) < 22 and abs(rest.pitch_hz() - 440) < 22
    assert abs(len(first) + len(rest) - expected_frames(3.0)) <= expected_frames(3.0) * 0.1 + 5


async def test_the_bot_leaves_when_everyone_else_has_left(room):
    """Alone in the channel, the bot leaves after the grace, and the message says why."""
    fake, voice = room.fake, room.voice
    await room.song(440, 20.0, count=1)
    await room.like(1, fake.bob)
    await room.listen("listen top", {"period": "all"})
    stream = voice.stream()
    await voice.wait_for(lambda: len(stream.audio) >= 10 or None, timeout=10)
    await voice.leave(fake.alice)
    assert "Everyone else left" in await room.ended()
    assert len(stream.audio) < expected_frames(20.0) / 2


async def test_stop_is_the_starters_or_a_moderators(room):
    """Bob, in the channel but neither starter nor moderator, is refused privately and the song plays on; Alice's
    Stop ends the party and the bot leaves."""
    fake, voice = room.fake, room.voice
    await room.song(440, 20.0, count=1)
    await room.like(1, fake.bob)
    await room.listen("listen top", {"period": "all"})
    await voice.join(fake.bob, room.lobby)
    stream = voice.stream()
    await voice.wait_for(lambda: len(stream.audio) >= 10 or None, timeout=10)
    refused = await room.press("Stop", user=fake.bob)
    assert refused["type"] == 4 and refused["data"]["flags"] & 64
    assert f"Only <@{fake.alice.id}>" in refused["data"]["content"]
    assert voice.voice_state(fake.bot_user) is not None
    stopped = await room.press("Stop")
    assert stopped["type"] == 7 and f"Stopped by <@{fake.alice.id}>" in text_of(stopped["data"])
    await room.left()


async def test_missing_connect_and_speak_are_named_plainly(room):
    """Without Connect and Speak in the member's channel, the answer names both, privately; the bot never tries."""
    fake, voice = room.fake, room.voice
    await room.song(440, 1.0, count=1)
    await room.like(1, fake.bob)
    await fake.set_bot_permissions(room.lobby, deny=CONNECT | SPEAK)
    await voice.wait_for(lambda: True)
    await asyncio.sleep(0.1)  # the overwrite reaches the bot's cache
    answer = await room.listen("listen top", {"period": "all"})
    assert "Connect and Speak" in answer
    assert voice.requests == []


async def test_a_member_outside_voice_is_told_to_join_one(room):
    """Bob is in no voice channel: a clear private answer, nothing joined."""
    answer = await room.listen("listen top", user=room.fake.bob)
    assert "Join a voice channel first" in answer
    assert room.voice.requests == []
