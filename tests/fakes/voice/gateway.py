"""The fake voice gateway: the websocket discord.py opens at ``wss://<endpoint>/?v=8`` after VOICE_SERVER_UPDATE.

HELLO → IDENTIFY → READY (SSRC, UDP address, modes) → the bot's IP discovery over UDP → SELECT_PROTOCOL →
SESSION_DESCRIPTION (mode, 32-byte secret key, ``dave_protocol_version`` 0: the fake declines DAVE, as Discord
may for a session) → heartbeats, SPEAKING. Since v8 the server numbers the messages it may need to re-send
(``seq``); the bot acknowledges the last one in each heartbeat's ``seq_ack`` and in RESUME, after which the
fake re-sends what the bot missed and answers RESUMED.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .session import (
    ALREADY_AUTHENTICATED,
    AUTHENTICATION_FAILED,
    CLIENTS_CONNECT,
    HEARTBEAT,
    HEARTBEAT_ACK,
    HELLO,
    IDENTIFY,
    NOT_AUTHENTICATED,
    READY,
    RESUME,
    RESUMED,
    SELECT_PROTOCOL,
    SESSION_DESCRIPTION,
    SESSION_NO_LONGER_VALID,
    SPEAKING,
    UNKNOWN_ENCRYPTION_MODE,
    UNKNOWN_PROTOCOL,
    VoiceSession,
)

if TYPE_CHECKING:
    from .server import FakeVoice


class VoiceGateway:
    """The websocket side of the fake voice server."""

    def __init__(self, server: FakeVoice) -> None:
        self.server = server
        self.connect_queries: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        query = dict(request.query)
        self.connect_queries.append(query)
        session: VoiceSession | None = None
        try:
            await ws.send_json({"op": HELLO, "d": {"heartbeat_interval": self.server.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    session = await self._on_frame(ws, query, session, json.loads(msg.data))
                elif msg.type is WSMsgType.BINARY and session is not None and msg.data:
                    session.binary_ops.append(msg.data[0])  # client binary frames: opcode, then payload
                    self.server.notify()
        finally:
            if session is not None:
                session.close_codes.append(ws.close_code)
                if session.ws is ws:
                    session.ws = None
            self.server.notify()
        return ws

    async def _on_frame(
        self, ws: web.WebSocketResponse, query: dict[str, str], session: VoiceSession | None, frame: dict[str, Any]
    ) -> VoiceSession | None:
        op, data = frame.get("op"), frame.get("d")
        if session is not None:
            session.received.append(_redacted(frame))
        if op == IDENTIFY:
            if session is not None:
                await ws.close(code=ALREADY_AUTHENTICATED, message=b"Already authenticated.")
                return session
            return await self._identify(ws, query, data or {})
        if op == RESUME:
            return await self._resume(ws, data or {})
        if session is None:
            await ws.close(code=NOT_AUTHENTICATED, message=b"Not authenticated.")
            return None
        if op == HEARTBEAT:
            session.heartbeats.append(data)
            # v8 echoes the nonce in an object; older versions sent the bare nonce back.
            await ws.send_json({"op": HEARTBEAT_ACK, "d": {"t": data.get("t")} if isinstance(data, dict) else data})
        elif op == SELECT_PROTOCOL:
            await self._select_protocol(ws, session, data or {})
        elif op == SPEAKING:
            session.speaking.append(data or {})
            self.server.stream(session.guild_id).add_speaking(int((data or {}).get("speaking") or 0), session.ssrc)
        self.server.notify()
        return session

    async def _identify(
        self, ws: web.WebSocketResponse, query: dict[str, str], data: dict[str, Any]
    ) -> VoiceSession | None:
        grant = self.server.grants.get(str(data.get("token")))
        if grant is None:
            await ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return None
        if (str(data.get("server_id")), str(data.get("user_id")), data.get("session_id")) != (
            str(grant.guild_id), str(grant.user_id), grant.session_id
        ):
            await ws.close(code=SESSION_NO_LONGER_VALID, message=b"Session no longer valid.")
            return None
        session = self.server.new_session(grant, query, _redacted({"d": data})["d"], ws)
        await ws.send_json({
            "op": READY,
            "d": {
                "ssrc": session.ssrc,
                "ip": self.server.host,
                "port": self.server.udp_port,
                "modes": list(self.server.modes),
                "heartbeat_interval": 1,  # Discord documents this field as erroneous; clients use HELLO's
                "experiments": [],
            },
        })
        self.server.notify()
        return session

    async def _select_protocol(self, ws: web.WebSocketResponse, session: VoiceSession, data: dict[str, Any]) -> None:
        session.select_protocol = data
        if data.get("protocol") != "udp":
            await ws.close(code=UNKNOWN_PROTOCOL, message=b"Unknown protocol.")
            return
        if session.mode not in self.server.modes:
            await ws.close(code=UNKNOWN_ENCRYPTION_MODE, message=b"Unknown encryption mode.")
            return
        session.secret_key = secrets.token_bytes(32)
        await self.send_numbered(session, SESSION_DESCRIPTION, {
            "audio_codec": "opus",
            "video_codec": "H264",
            "media_session_id": secrets.token_hex(16),
            "mode": session.mode,
            "secret_key": list(session.secret_key),
            "dave_protocol_version": session.dave_protocol_version,
        })
        others = self.server.listeners(session.guild_id, session.channel_id)
        if others:
            await self.send_numbered(session, CLIENTS_CONNECT, {"user_ids": [str(u) for u in others]})

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> VoiceSession | None:
        session = self.server.resumable(str(data.get("server_id")), data.get("session_id"), str(data.get("token")))
        if session is None:
            await ws.close(code=SESSION_NO_LONGER_VALID, message=b"Session no longer valid.")
            return None
        session.ws = ws
        session.resumes += 1
        seq_ack = int(data.get("seq_ack", -1))
        for missed in [m for m in session.sent if m["seq"] > seq_ack]:
            await ws.send_json(missed)
        await ws.send_json({"op": RESUMED, "d": None})
        self.server.notify()
        return session

    async def send_numbered(self, session: VoiceSession, op: int, data: dict[str, Any]) -> None:
        """Send a message the bot must acknowledge (``seq``); kept for re-sending after a RESUME."""
        session.seq += 1
        message = {"op": op, "d": data, "seq": session.seq}
        session.sent.append(message)
        if session.ws is not None and not session.ws.closed:
            await session.ws.send_json(message)


def _redacted(frame: dict[str, Any]) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(frame))
    if isinstance(copy.get("d"), dict) and "token" in copy["d"]:
        copy["d"]["token"] = "<redacted: voice token>"
    return copy
