"""FakeVoice: voice channels, members in them, and a voice server (TLS websocket + UDP) on loopback.

It plugs into a running :class:`~tests.fakes.discord.FakeDiscord`: the main gateway hands it the bot's op 4
VOICE_STATE_UPDATE, and it answers as Discord does, with the dispatch events VOICE_STATE_UPDATE (the bot's voice
state, with its gateway ``session_id``) and VOICE_SERVER_UPDATE (a token, the guild, ``endpoint`` 127.0.0.1:port).
A bot lacking View Channel or Connect there, or facing a full channel without Manage Channels, gets no answer at
all (Discord ignores the request; discord.py times out); one lacking Speak joins, but nobody hears it.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from ..discord.gateway import GUILD_VOICE_STATES, GatewaySession
from ..discord.models import (
    CONNECT,
    GUILD_VOICE,
    MANAGE_CHANNELS,
    SPEAK,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
    FakeUser,
    Overwrite,
)
from ..discord.server import FakeDiscord
from ..discord.state import GUILDS
from .gateway import VoiceGateway
from .rtp import XCHACHA_RTPSIZE, RtpError, decrypt_xchacha_rtpsize
from .session import (
    CLIENT_DISCONNECT,
    CLIENTS_CONNECT,
    DISCONNECTED,
    VoiceGrant,
    VoiceMember,
    VoiceSession,
)
from .stream import Frame, VoiceStream
from .tls import LOOPBACK, LoopbackCA, shared_ca
from .udp import VoiceUdp

T = TypeVar("T")
GuildRef = FakeGuild | int | None


class FakeVoice:
    """The fake Discord's voice side: ``async with FakeVoice(fake) as voice:`` before the bot connects.

    ``voice.add_voice_channel("Lobby")`` makes a voice channel, ``voice.place(fake.alice, lobby)`` puts a member in
    it (sent in GUILD_CREATE), ``await voice.join(...)`` / ``await voice.leave(...)`` move members once the bot is
    connected. What the bot played is in ``voice.stream()``; its voice sessions in ``voice.sessions``.
    """

    def __init__(
        self,
        fake: FakeDiscord,
        *,
        heartbeat_interval_ms: int = 41_250,
        modes: tuple[str, ...] = (XCHACHA_RTPSIZE,),
        ca: LoopbackCA | None = None,
        trust_in_process: bool = True,
    ) -> None:
        self.fake = fake
        self.ca = ca or shared_ca()
        self.host = LOOPBACK
        self.heartbeat_interval_ms = heartbeat_interval_ms
        # Discord always offers aead_xchacha20_poly1305_rtpsize and, hardware allowing, aead_aes256_gcm_rtpsize;
        # the fake decrypts only the first, so by default it offers only that (a server without AES hardware).
        self.modes = modes
        self.grants: dict[str, VoiceGrant] = {}
        self.sessions: list[VoiceSession] = []
        self.requests: list[dict[str, Any]] = []  # the d of every op 4 the bot sent
        self.refusals: list[tuple[dict[str, Any], str]] = []  # op 4s the fake (as Discord) left unanswered, and why
        self.notes: list[str] = []  # other things a failing test may want to know (e.g. a missing intent)
        self.stray_packets = 0  # UDP packets with an SSRC no session has
        self.gateway = VoiceGateway(self)
        self._trust_in_process = trust_in_process
        self._states: dict[int, dict[int, VoiceMember]] = {}
        self._streams: dict[int, VoiceStream] = {}
        self._by_ssrc: dict[int, VoiceSession] = {}
        self._next_ssrc = random.randint(1_000, 60_000)
        self._runner: web.AppRunner | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self.ws_port = 0
        self.udp_port = 0

    # Lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self.gateway.handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0, ssl_context=self.ca.server_context())
        await site.start()
        self.ws_port = self._runner.addresses[0][1]
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: VoiceUdp(self._on_discovery, self._on_rtp), local_addr=(self.host, 0)
        )
        self._udp = transport
        self.udp_port = transport.get_extra_info("sockname")[1]
        if self._trust_in_process:
            self.ca.trust_in_process()
        self.fake.gateway.voice = self

    async def stop(self) -> None:
        """Close every voice websocket (code 1000: discord.py then disconnects quietly) and both ports."""
        if self.fake.gateway.voice is self:
            self.fake.gateway.voice = None
        for session in self.sessions:
            if session.ws is not None and not session.ws.closed:
                await session.ws.close(code=1000, message=b"fake voice server stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def endpoint(self) -> str:
        """What VOICE_SERVER_UPDATE carries: host:port, no scheme (discord.py adds ``wss://`` and ``/?v=8``)."""
        return f"{self.host}:{self.ws_port}"

    # Voice channels and the members in them ---------------------------------------------------

    def add_voice_channel(
        self,
        name: str,
        *,
        guild: FakeGuild | None = None,
        user_limit: int = 0,
        bitrate: int = 64_000,
        overwrites: list[Overwrite] | None = None,
    ) -> FakeChannel:
        """A voice channel in ``guild`` (default: the default guild); before the bot connects, or use
        :meth:`create_voice_channel`. Deny the bot Connect or Speak with ``fake.set_bot_permissions``."""
        world = self.fake.world
        target = guild or world.guild
        channel = FakeChannel(
            id=world.snowflake(),
            name=name,
            type=GUILD_VOICE,
            guild_id=target.id,
            position=sum(1 for c in target.channels if not c.is_thread),
            overwrites=list(overwrites or []),
            bitrate=bitrate,
            user_limit=user_limit,
        )
        target.channels.append(channel)
        world.channels[channel.id] = channel
        return channel

    async def create_voice_channel(self, name: str, **options: Any) -> FakeChannel:
        """:meth:`add_voice_channel`, then CHANNEL_CREATE to the bot."""
        channel = self.add_voice_channel(name, **options)
        await self.fake.gateway.dispatch("CHANNEL_CREATE", channel.payload(), guild_id=channel.guild_id, intent=GUILDS)
        return channel

    def place(self, user: FakeUser, channel: FakeChannel, *, self_mute: bool = False, self_deaf: bool = False) -> None:
        """Put ``user`` in ``channel`` without telling anyone: for the GUILD_CREATE of a bot not yet connected."""
        assert channel.guild_id is not None and channel.type == GUILD_VOICE, "members join voice channels"
        self._states.setdefault(channel.guild_id, {})[user.id] = VoiceMember(
            user.id, channel.id, self_mute=self_mute, self_deaf=self_deaf
        )

    async def join(self, user: FakeUser, channel: FakeChannel, *, self_mute: bool = False,
                   self_deaf: bool = False) -> None:
        """``user`` joins (or moves to) ``channel``: VOICE_STATE_UPDATE to the bot, CLIENTS_CONNECT to its voice
        session there (and CLIENT_DISCONNECT to its session in the channel they left)."""
        assert channel.guild_id is not None
        before = self.voice_state(user, channel.guild_id)
        self.place(user, channel, self_mute=self_mute, self_deaf=self_deaf)
        await self._dispatch_state(channel.guild_id, self._states[channel.guild_id][user.id])
        if before is not None and before.channel_id != channel.id:
            await self._tell_sessions(channel.guild_id, before.channel_id, CLIENT_DISCONNECT, {"user_id": str(user.id)})
        await self._tell_sessions(channel.guild_id, channel.id, CLIENTS_CONNECT, {"user_ids": [str(user.id)]})

    async def leave(self, user: FakeUser, guild: GuildRef = None) -> None:
        """``user`` leaves voice in ``guild``: VOICE_STATE_UPDATE with ``channel_id`` null, CLIENT_DISCONNECT."""
        guild_id = self._guild_id(guild)
        state = self._states.get(guild_id, {}).pop(user.id, None)
        if state is None:
            return
        await self._dispatch_state(guild_id, VoiceMember(user.id, 0, state.session_id), left=True)
        await self._tell_sessions(guild_id, state.channel_id, CLIENT_DISCONNECT, {"user_id": str(user.id)})

    async def disconnect_bot(self, guild: GuildRef = None, *, code: int = DISCONNECTED) -> None:
        """A moderator disconnects the bot: its VOICE_STATE_UPDATE with ``channel_id`` null, then its voice
        websocket closes with 4014 (Disconnected)."""
        guild_id = self._guild_id(guild)
        bot = self.fake.bot_user
        state = self._states.get(guild_id, {}).pop(bot.id, None)
        if state is not None:
            await self._dispatch_state(guild_id, VoiceMember(bot.id, 0, state.session_id), left=True)
        for session in self._bot_sessions(guild_id):
            session.left = True
            if session.ws is not None:
                await session.ws.close(code=code, message=b"Disconnected.")
        self.notify()

    def voice_state(self, user: FakeUser | int, guild: GuildRef = None) -> VoiceMember | None:
        """``user``'s voice state in ``guild``, or None when not in voice."""
        user_id = user if isinstance(user, int) else user.id
        return self._states.get(self._guild_id(guild), {}).get(user_id)

    def members_in(self, channel: FakeChannel) -> list[int]:
        """User ids in a voice channel (the bot included when it is there)."""
        states = self._states.get(channel.guild_id or 0, {})
        return [user_id for user_id, state in states.items() if state.channel_id == channel.id]

    def bot_channel(self, guild: GuildRef = None) -> FakeChannel | None:
        """The voice channel the bot is in, as Discord sees it (its last accepted op 4)."""
        state = self.voice_state(self.fake.bot_user, guild)
        return None if state is None else self.fake.world.channels.get(state.channel_id)

    def listeners(self, guild_id: int, channel_id: int) -> list[int]:
        """Who else is in the channel: everyone there but the bot."""
        bot_id = self.fake.bot_user.id
        return [
            user_id
            for user_id, state in self._states.get(guild_id, {}).items()
            if state.channel_id == channel_id and user_id != bot_id
        ]

    # What the bot did -------------------------------------------------------------------------

    def session(self, guild: GuildRef = None) -> VoiceSession | None:
        """The bot's latest voice session in ``guild``."""
        guild_id = self._guild_id(guild)
        return next((s for s in reversed(self.sessions) if s.guild_id == guild_id), None)

    def stream(self, guild: GuildRef = None) -> VoiceStream:
        """The audio the bot sent to ``guild``'s voice channel, across its voice sessions."""
        guild_id = self._guild_id(guild)
        stream = self._streams.get(guild_id)
        if stream is None:
            stream = self._streams[guild_id] = VoiceStream(guild_id, on_change=self.notify)
        return stream

    async def wait_connected(self, guild: GuildRef = None, timeout: float = 10.0) -> VoiceSession:  # noqa: ASYNC109 - explicit per-call timeouts are this API's point
        """Wait for a voice session in ``guild`` that finished its handshake (SESSION_DESCRIPTION sent)."""

        def connected() -> VoiceSession | None:
            session = self.session(guild)
            return session if session is not None and session.connected and not session.left else None

        return await self.wait_for(connected, timeout)

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """``fake.wait_for``: woken by every voice event and received frame too."""
        return await self.fake.wait_for(predicate, timeout)

    def notify(self) -> None:
        self.fake.state.recorder.notify()

    # The main gateway's hook (tests.fakes.discord.gateway.VoiceHook) --------------------------

    def guild_voice_states(self, guild_id: int) -> list[dict[str, Any]]:
        """GUILD_CREATE's ``voice_states``."""
        guild = self.fake.world.guilds[guild_id]
        return [state.payload(None, guild.members.get(user_id)) for user_id, state in
                self._states.get(guild_id, {}).items()]

    async def voice_state_update(self, session: GatewaySession, data: dict[str, Any]) -> None:
        """Op 4 from the bot: join, move or leave, answered as Discord answers it."""
        self.requests.append(dict(data))
        world, bot = self.fake.world, self.fake.bot_user
        guild = world.guilds.get(int(data.get("guild_id") or 0))
        if guild is None or bot.id not in guild.members:
            self._refuse(data, "the bot is not in that guild")
            return
        if data.get("channel_id") is None:
            state = self._states.get(guild.id, {}).pop(bot.id, None)
            for voice_session in self._bot_sessions(guild.id):
                voice_session.left = True
            await self._dispatch_state(guild.id, VoiceMember(bot.id, 0, session.session_id), left=True)
            if state is not None:
                self.notify()
            return
        channel = world.channels.get(int(data["channel_id"]))
        if channel is None or channel.guild_id != guild.id or channel.type != GUILD_VOICE:
            self._refuse(data, "not a voice channel of that guild")
            return
        permissions = world.permissions(bot.id, channel)
        if not permissions & VIEW_CHANNEL or not permissions & CONNECT:
            self._refuse(data, "the bot lacks View Channel or Connect there")
            return
        others = self.listeners(guild.id, channel.id)
        if channel.user_limit and len(others) >= channel.user_limit and not permissions & MANAGE_CHANNELS:
            self._refuse(data, "the channel is full")
            return
        if not session.intents & GUILD_VOICE_STATES:
            # Discord answers, but the half that needs the intent never reaches the bot: it cannot finish joining.
            self.notes.append("the bot has no GUILD_VOICE_STATES intent: its VOICE_STATE_UPDATE was not sent")
        state = VoiceMember(bot.id, channel.id, session.session_id, bool(data.get("self_mute")),
                            bool(data.get("self_deaf")))
        self._states.setdefault(guild.id, {})[bot.id] = state
        await self._dispatch_state(guild.id, state)
        grant = VoiceGrant(secrets.token_hex(8), guild.id, bot.id, session.session_id, channel.id)
        self.grants[grant.token] = grant
        await self.fake.gateway.dispatch_to(
            session, "VOICE_SERVER_UPDATE", {"token": grant.token, "guild_id": str(guild.id), "endpoint": self.endpoint}
        )
        self.notify()

    # For the voice gateway --------------------------------------------------------------------

    def new_session(
        self, grant: VoiceGrant, query: dict[str, str], identify: dict[str, Any], ws: web.WebSocketResponse
    ) -> VoiceSession:
        self._next_ssrc += 1
        session = VoiceSession(grant, self._next_ssrc, query, identify, grant.token, ws=ws)
        self.sessions.append(session)
        self._by_ssrc[session.ssrc] = session
        return session

    def resumable(self, server_id: str, session_id: Any, token: str) -> VoiceSession | None:
        """The session a RESUME names: same guild and gateway session, its token or a newer one for it."""
        for session in reversed(self.sessions):
            if str(session.guild_id) == server_id and session.grant.session_id == session_id and not session.left:
                grant = self.grants.get(token)
                fresh = grant is not None and (grant.guild_id, grant.session_id) == (session.guild_id, session_id)
                return session if token == session.token or fresh else None
        return None

    # Internals --------------------------------------------------------------------------------

    def _on_discovery(self, request: bytes, addr: tuple[str, int]) -> None:
        session = self._by_ssrc.get(int.from_bytes(request[4:8], "big"))
        if session is not None:
            session.discovered = addr
            self.notify()

    def _on_rtp(self, packet: bytes, addr: tuple[str, int]) -> None:
        session = self._by_ssrc.get(int.from_bytes(packet[8:12], "big")) if len(packet) >= 12 else None
        if session is None:
            self.stray_packets += 1
            return
        stream = self.stream(session.guild_id)
        if session.secret_key is None or session.mode != XCHACHA_RTPSIZE:
            stream.undecryptable += 1
            return
        try:
            decrypted = decrypt_xchacha_rtpsize(packet, session.secret_key)
        except RtpError:
            stream.undecryptable += 1
            return
        stream.add(Frame.of(decrypted, heard=self._can_speak(session)))

    def _can_speak(self, session: VoiceSession) -> bool:
        channel = self.fake.world.channels.get(session.channel_id)
        return channel is not None and bool(self.fake.world.permissions(self.fake.bot_user.id, channel) & SPEAK)

    def _bot_sessions(self, guild_id: int) -> list[VoiceSession]:
        return [s for s in self.sessions if s.guild_id == guild_id and not s.left]

    async def _tell_sessions(self, guild_id: int, channel_id: int, op: int, data: dict[str, Any]) -> None:
        for session in self._bot_sessions(guild_id):
            if session.channel_id == channel_id and session.connected:
                await self.gateway.send_numbered(session, op, data)

    async def _dispatch_state(self, guild_id: int, state: VoiceMember, *, left: bool = False) -> None:
        guild = self.fake.world.guilds[guild_id]
        payload = state.payload(guild_id, guild.members.get(state.user_id))
        if left:
            payload["channel_id"] = None
        await self.fake.gateway.dispatch("VOICE_STATE_UPDATE", payload, guild_id=guild_id, intent=GUILD_VOICE_STATES)
        self.notify()

    def _refuse(self, data: dict[str, Any], reason: str) -> None:
        self.refusals.append((dict(data), reason))
        self.notify()

    def _guild_id(self, guild: GuildRef) -> int:
        if guild is None:
            return self.fake.guild.id
        return guild if isinstance(guild, int) else guild.id
