"""The fake gateway: HELLO → IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME, dispatches.

discord.py 2.7 connects with ``?v=10&encoding=json&compress=zlib-stream`` (or ``zstd-stream`` when a
zstd module is importable). We honour zlib-stream — one zlib context per connection, each frame
ending in Z_SYNC_FLUSH — so the bot's real decompression path runs. For zstd-stream we send text
frames, which discord.py also accepts (it only decompresses binary frames).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import zlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import WSCloseCode, WSMsgType, web

from .models import FakeGuild
from .state import PRIVILEGED_INTENTS, FakeState

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE, VOICE_STATE_UPDATE, RESUME, RECONNECT = 0, 1, 2, 3, 4, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11
CLIENT_CLOSES = (1000, 1001)  # a deliberate client close ends the session; anything else may resume
GUILD_VOICE_STATES = 1 << 7  # the intent without which Discord sends no voice states (and a bot cannot join voice)


class VoiceHook(Protocol):
    """The fake voice server (tests/fakes/voice) as the gateway sees it: op 4 in, voice states for GUILD_CREATE."""

    async def voice_state_update(self, session: GatewaySession, data: dict[str, Any]) -> None: ...

    def guild_voice_states(self, guild_id: int) -> list[dict[str, Any]]: ...


@dataclass(eq=False)
class _Connection:
    ws: web.WebSocketResponse
    zlib_stream: bool
    session: GatewaySession | None = None
    closed_by_server: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _compressor: Any = None

    async def send(self, frame: dict[str, Any]) -> None:
        # One lock per socket: compressing and writing must happen in frame order.
        async with self.lock:
            if self.ws.closed:
                return
            text = json.dumps(frame)
            try:
                if self.zlib_stream:
                    if self._compressor is None:
                        self._compressor = zlib.compressobj()
                    data = self._compressor.compress(text.encode()) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(text)
            except (ConnectionResetError, RuntimeError):
                pass  # the client went away mid-send; the session keeps the frame for RESUME


@dataclass(eq=False)
class GatewaySession:
    """A gateway session: survives a dropped connection so the client can RESUME it."""

    session_id: str
    shard: tuple[int, int]
    intents: int
    seq: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    connection: _Connection | None = None

    def owns(self, guild_id: int | None) -> bool:
        return guild_id is None or (guild_id >> 22) % self.shard[1] == self.shard[0]


class Gateway:
    """The websocket endpoint at ``/gateway`` and the dispatch side used by the harness and REST."""

    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.sessions: dict[str, GatewaySession] = {}
        self.identify_count = 0
        # (loop time, shard id) of every accepted IDENTIFY: tests check Discord's one per 5 s per bucket.
        self.identifies: list[tuple[float, int]] = []
        self.resume_count = 0
        self.heartbeat_count = 0
        self.presence_updates: list[dict[str, Any]] = []
        self.connect_queries: list[dict[str, str]] = []  # e.g. {"v": "10", "encoding": "json", "compress": …}
        self._connections: set[_Connection] = set()
        self._ready = asyncio.Event()
        self.voice: VoiceHook | None = None  # set by tests.fakes.voice.FakeVoice; without it op 4 is only recorded

    # Queries ----------------------------------------------------------------------------------

    def live_sessions(self, guild_id: int | None = None) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.connection is not None and s.owns(guild_id)]

    def connected_shards(self) -> set[int]:
        """The shard ids some connected session holds."""
        return {s.shard[0] for s in self.sessions.values() if s.connection is not None}

    def shard_of(self, guild_id: int) -> int:
        """The shard that gets this guild's events: Discord's (guild_id >> 22) % shard_count."""
        return (guild_id >> 22) % self.state.settings.shard_count

    @property
    def intents(self) -> int | None:
        """The intents of the most recent session, or None before the first IDENTIFY."""
        return list(self.sessions.values())[-1].intents if self.sessions else None

    async def wait_until_ready(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - explicit per-call timeouts are this API's point
        """Wait until a client identified (or resumed) and got its GUILD_CREATEs."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no bot became ready on the fake gateway within {timeout}s "
                f"(identify attempts: {self.identify_count}; check the token, intents and Route.BASE)"
            ) from None

    # Dispatch ---------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any], *, guild_id: int | None = None, intent: int = 0) -> None:
        """Send a DISPATCH to every session that owns ``guild_id`` and subscribed to ``intent``."""
        for session in list(self.sessions.values()):
            if session.owns(guild_id) and (not intent or session.intents & intent):
                await self.dispatch_to(session, event, data)

    async def dispatch_to(self, session: GatewaySession, event: str, data: Any) -> None:
        """Send one DISPATCH to one session (kept for RESUME replay if it is disconnected)."""
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.history.append(frame)
        if session.connection is not None:
            await session.connection.send(frame)

    async def disconnect(self, code: int = 4000) -> None:
        """Drop every connection with ``code``; sessions stay, so discord.py RESUMEs."""
        self._ready.clear()
        for conn in list(self._connections):
            conn.closed_by_server = True
            await conn.ws.close(code=code, message=b"fake disconnect")

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py closes and resumes."""
        self._ready.clear()
        for conn in list(self._connections):
            await conn.send({"op": RECONNECT, "d": None})

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9; with ``resumable=False`` discord.py re-identifies at DiscordWebSocket.DEFAULT_GATEWAY."""
        self._ready.clear()
        for conn in list(self._connections):
            if conn.session is not None and not resumable:
                self.sessions.pop(conn.session.session_id, None)
            await conn.send({"op": INVALID_SESSION, "d": resumable})

    async def close_all(self) -> None:
        for conn in list(self._connections):
            conn.closed_by_server = True
            await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"fake shutting down")

    # Websocket endpoint -----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connect_queries.append(dict(request.query))
        conn = _Connection(ws, zlib_stream=request.query.get("compress") == "zlib-stream")
        if request.query.get("encoding", "json") != "json":
            await ws.close(code=4002, message=b"Only encoding=json is supported by the fake.")
            return ws
        self._connections.add(conn)
        try:
            interval = self.state.settings.heartbeat_interval_ms
            await conn.send({"op": HELLO, "d": {"heartbeat_interval": interval, "_trace": ["fake-gateway"]}})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(conn, json.loads(msg.data))
        finally:
            self._connections.discard(conn)
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
                if ws.close_code in CLIENT_CLOSES and not conn.closed_by_server:
                    self.sessions.pop(session.session_id, None)
            self.state.recorder.notify()
        return ws

    async def _on_frame(self, conn: _Connection, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d")
        redacted = json.loads(json.dumps(frame))
        if isinstance(redacted.get("d"), dict) and "token" in redacted["d"]:
            redacted["d"]["token"] = "<redacted: bot token>"
        self.state.recorder.add_gateway_frame(redacted)
        if op == HEARTBEAT:
            self.heartbeat_count += 1
            await conn.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})
        elif op == REQUEST_MEMBERS:
            await self._members_chunk(conn, data or {})
        elif op == PRESENCE_UPDATE:
            self.presence_updates.append(data or {})
        elif op == VOICE_STATE_UPDATE and self.voice is not None and conn.session is not None:
            await self.voice.voice_state_update(conn.session, data or {})

    async def _identify(self, conn: _Connection, data: dict[str, Any]) -> None:
        settings = self.state.settings
        self.identify_count += 1
        if data.get("token") != settings.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(data.get("intents") or 0)
        if intents & PRIVILEGED_INTENTS & ~settings.privileged_intents:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard_id, shard_count = data.get("shard") or [0, 1]
        if shard_count != settings.shard_count or not 0 <= shard_id < shard_count:
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        # A new session for a shard replaces the disconnected ones (a client that died and came back identifies
        # anew): events no longer pile up for a connection that will never resume.
        for stale in [s for s in self.sessions.values() if s.shard == (shard_id, shard_count) and s.connection is None]:
            self.sessions.pop(stale.session_id, None)
        self.identifies.append((asyncio.get_running_loop().time(), shard_id))
        session = GatewaySession(secrets.token_hex(16), (shard_id, shard_count), intents)
        self.sessions[session.session_id] = session
        session.connection, conn.session = conn, session
        guilds = [g for g in self._bot_guilds() if session.owns(g.id)]
        await self.dispatch_to(session, "READY", self._ready_payload(session, guilds))
        for guild in guilds:
            payload = guild.create_payload()
            if self.voice is not None and intents & GUILD_VOICE_STATES:
                payload["voice_states"] = self.voice.guild_voice_states(guild.id)
            await self.dispatch_to(session, "GUILD_CREATE", payload)
        self._ready.set()
        self.state.recorder.notify()

    async def _resume(self, conn: _Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.state.settings.token:
            await conn.send({"op": INVALID_SESSION, "d": False})
            return
        session.connection, conn.session = conn, session
        seq = int(data.get("seq") or 0)
        for frame in session.history:
            if frame["s"] > seq:
                await conn.send(frame)
        self.resume_count += 1
        # discord.py writes into RESUMED's payload, so it must be an object (Discord sends {"_trace": …}).
        await self.dispatch_to(session, "RESUMED", {"_trace": ["fake-gateway"]})
        self._ready.set()
        self.state.recorder.notify()

    async def _members_chunk(self, conn: _Connection, data: dict[str, Any]) -> None:
        guild = self.state.world.guilds.get(int(data.get("guild_id") or 0))
        if guild is None or conn.session is None:
            return
        wanted = {int(u) for u in data.get("user_ids") or []}
        query = str(data.get("query") or "").lower()
        members = [
            m
            for m in guild.members.values()
            if (not wanted or m.id in wanted) and m.user.username.lower().startswith(query)
        ]
        if data.get("limit"):
            members = members[: int(data["limit"])]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(u) for u in wanted - {m.id for m in members}],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self.dispatch_to(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    # Payloads ---------------------------------------------------------------------------------

    def _bot_guilds(self) -> list[FakeGuild]:
        world = self.state.world
        return [g for g in world.guilds.values() if world.bot.id in g.members]

    def _ready_payload(self, session: GatewaySession, guilds: list[FakeGuild]) -> dict[str, Any]:
        world = self.state.world
        return {
            "v": 10,
            "user": {**world.bot.payload(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.state.gateway_url,
            "shard": list(session.shard),
            "application": {"id": str(world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["us-west"],
            "user_settings": {},
            "auth": {},
            "_trace": ["fake-gateway"],
        }
