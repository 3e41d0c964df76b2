"""Self-tests of the fake voice server: a minimal discord.Client's real VoiceClient joins, plays and leaves."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest

from tests.fakes.discord import CONNECT, SPEAK, FakeDiscord, fixtures
from tests.fakes.voice import (
    FFMPEG_MISSING,
    XCHACHA_RTPSIZE,
    FakeVoice,
    expected_frames,
    ffmpeg,
    shared_ca,
    tone_input,
)
from tests.fakes.voice.session import CLIENT_DISCONNECT, CLIENTS_CONNECT, HELLO

fake_discord = fixtures.fake_discord
needs_ffmpeg = pytest.mark.skipif(ffmpeg() is None, reason=FFMPEG_MISSING)
SECONDS = 3.0


@pytest.fixture
async def voice(fake_discord: FakeDiscord) -> AsyncIterator[FakeVoice]:
    # A short HELLO interval, so discord.py heartbeats (and acknowledges seq) within the test.
    async with FakeVoice(fake_discord, heartbeat_interval_ms=200) as fake_voice:
        lobby = fake_voice.add_voice_channel("Lobby")
        fake_voice.place(fake_discord.alice, lobby)
        yield fake_voice


@pytest.fixture
async def client(fake_discord: FakeDiscord, voice: FakeVoice) -> AsyncIterator[discord.Client]:
    discord.http.Route.BASE = fake_discord.api_base
    listener = discord.Client(intents=discord.Intents.default())  # guilds + voice_states, as /listen needs
    runner: asyncio.Task[None] | None = None
    try:
        await listener.login(fake_discord.token)
        runner = asyncio.create_task(listener.connect())
        await asyncio.wait_for(listener.wait_until_ready(), 10)
        yield listener
    finally:
        for voice_client in list(listener.voice_clients):
            await voice_client.disconnect(force=True)
        await listener.close()
        if runner is not None:
            await runner


def lobby_of(client: discord.Client, voice: FakeVoice) -> discord.VoiceChannel:
    channel = client.get_channel(next(c.id for c in voice.fake.guild.channels if c.name == "Lobby"))
    assert isinstance(channel, discord.VoiceChannel)
    return channel


async def play(voice_client: discord.VoiceClient, hz: int, seconds: float) -> None:
    """Play a sine through ffmpeg (FFmpegOpusAudio) and wait until the player calls back."""
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    errors: list[Exception | None] = []

    def after(error: Exception | None) -> None:
        errors.append(error)
        loop.call_soon_threadsafe(done.set)

    source, before = tone_input(hz, seconds)
    voice_client.play(discord.FFmpegOpusAudio(source, before_options=before), after=after)
    await asyncio.wait_for(done.wait(), seconds + 20)
    assert errors == [None]


async def test_voice_gateway_speaks_tls_only_with_the_test_ca(voice: FakeVoice) -> None:
    """The endpoint is real TLS: the system's CAs reject it, the test CA gets HELLO."""
    url = f"wss://{voice.endpoint}/?v=8"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.ws_connect(url, ssl=ssl.create_default_context())
        async with session.ws_connect(url, ssl=shared_ca().client_context()) as ws:
            hello = await ws.receive_json(timeout=5)
    assert hello["op"] == HELLO and hello["d"]["heartbeat_interval"] == 200


@needs_ffmpeg
async def test_voice_client_joins_plays_a_tone_and_leaves(
    fake_discord: FakeDiscord, voice: FakeVoice, client: discord.Client
) -> None:
    """Join over op 4 → voice gateway v8 → UDP; 3 s of audio arrive as ~150 frames, in order; leave cleanly."""
    voice_client: discord.VoiceClient = await lobby_of(client, voice).connect(timeout=10)
    session = await voice.wait_connected()

    (request,) = voice.requests
    assert int(request["channel_id"]) == lobby_of(client, voice).id
    assert session.query.get("v") == "8"
    assert session.max_dave_protocol_version > 0, "the bot must offer DAVE in IDENTIFY"
    assert session.mode == XCHACHA_RTPSIZE and session.dave_protocol_version == 0
    assert session.discovered is not None and session.discovered[0] == "127.0.0.1"
    assert [m["op"] for m in session.sent] == [4, CLIENTS_CONNECT]  # SESSION_DESCRIPTION, then Alice is there
    # v8: heartbeats acknowledge the last numbered message the server sent.
    await voice.wait_for(lambda: session.last_seq_ack == session.seq)

    await play(voice_client, 440, SECONDS)
    stream = voice.stream()
    await voice.wait_for(lambda: len(stream.silence) >= 5)  # the five silence frames after the source ends

    assert abs(len(stream.audio) - expected_frames(SECONDS)) <= expected_frames(SECONDS) * 0.1
    (burst,) = stream.bursts()
    assert burst.in_order
    assert abs(burst.pitch_hz() - 440) < 440 * 0.05
    assert [e.speaking for e in stream.speaking][-2:] == [1, 0]
    assert stream.undecryptable == 0 and not stream.unheard

    await voice_client.disconnect()
    assert voice.requests[-1]["channel_id"] is None
    await voice.wait_for(lambda: session.close_codes == [1000])
    assert voice.voice_state(fake_discord.bot_user) is None and session.left
    assert not client.voice_clients


async def test_members_joining_and_leaving_reach_the_bot(
    fake_discord: FakeDiscord, voice: FakeVoice, client: discord.Client
) -> None:
    """Voice states in GUILD_CREATE and VOICE_STATE_UPDATE keep the bot's view of the channel right."""
    lobby = lobby_of(client, voice)
    assert [m.id for m in lobby.members] == [fake_discord.alice.id]

    voice_client: discord.VoiceClient = await lobby.connect(timeout=10)
    session = await voice.wait_connected()
    fake_lobby = voice.fake.world.channels[lobby.id]
    await voice.join(fake_discord.bob, fake_lobby)
    await voice.wait_for(lambda: fake_discord.bob.id in [m.id for m in lobby.members])
    await voice.leave(fake_discord.alice)
    await voice.wait_for(lambda: fake_discord.alice.id not in [m.id for m in lobby.members])

    assert sorted(m.id for m in lobby.members) == sorted([fake_discord.bob.id, client.user.id])
    assert [m["op"] for m in session.sent][-2:] == [CLIENTS_CONNECT, CLIENT_DISCONNECT]
    assert voice.listeners(fake_discord.guild.id, lobby.id) == [fake_discord.bob.id]
    await voice_client.disconnect()


async def test_without_connect_the_join_goes_unanswered(
    fake_discord: FakeDiscord, voice: FakeVoice, client: discord.Client
) -> None:
    """Lacking Connect, Discord ignores op 4: discord.py times out, and the fake says why."""
    lobby = lobby_of(client, voice)
    await fake_discord.set_bot_permissions(voice.fake.world.channels[lobby.id], deny=CONNECT)
    await voice.wait_for(lambda: not lobby.permissions_for(lobby.guild.me).connect)

    with pytest.raises(asyncio.TimeoutError):
        await lobby.connect(timeout=1)
    assert [reason for _, reason in voice.refusals] == ["the bot lacks View Channel or Connect there"]
    assert voice.grants == {} and not voice.sessions


@needs_ffmpeg
async def test_without_speak_nobody_hears_the_bot(
    fake_discord: FakeDiscord, voice: FakeVoice, client: discord.Client
) -> None:
    """Lacking Speak, the bot joins and sends, but its frames reach no listener."""
    lobby = lobby_of(client, voice)
    await fake_discord.set_bot_permissions(voice.fake.world.channels[lobby.id], deny=SPEAK)
    voice_client: discord.VoiceClient = await lobby.connect(timeout=10)
    await play(voice_client, 440, 0.5)

    stream = voice.stream()
    await voice.wait_for(lambda: len(stream.unheard) >= expected_frames(0.5))
    assert stream.frames == []
    await voice_client.disconnect()


async def test_resume_resends_what_the_bot_missed(
    fake_discord: FakeDiscord, voice: FakeVoice, client: discord.Client
) -> None:
    """v8 buffered resume: RESUME with seq_ack re-sends the later numbered messages, then RESUMED; a wrong token
    is refused with 4006 (session no longer valid)."""
    voice_client: discord.VoiceClient = await lobby_of(client, voice).connect(timeout=10)
    session = await voice.wait_connected()
    url = f"wss://{voice.endpoint}/?v=8"
    ids = {"server_id": str(session.guild_id), "session_id": session.grant.session_id}

    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url, ssl=shared_ca().client_context()) as ws:
            await ws.receive_json(timeout=5)  # HELLO
            await ws.send_json({"op": 7, "d": {**ids, "token": "not-the-token", "seq_ack": 0}})
            assert (await ws.receive(timeout=5)).type is aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 4006
        async with http.ws_connect(url, ssl=shared_ca().client_context()) as ws:
            await ws.receive_json(timeout=5)  # HELLO
            await ws.send_json({"op": 7, "d": {**ids, "token": session.token, "seq_ack": 1}})
            replayed = [await ws.receive_json(timeout=5) for _ in range(2)]
    assert [(m["op"], m.get("seq")) for m in replayed] == [(CLIENTS_CONNECT, 2), (9, None)]
    assert session.resumes == 1
    await voice_client.disconnect()
