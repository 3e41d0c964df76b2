"""Records of the fake voice server: who is in which voice channel, the grants handed out, the voice sessions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..discord.models import FakeMember

# Voice gateway opcodes (Discord's "Voice Opcodes"; DAVE's 21 to 31 are only recorded, the fake declines DAVE).
IDENTIFY, SELECT_PROTOCOL, READY, HEARTBEAT, SESSION_DESCRIPTION, SPEAKING, HEARTBEAT_ACK = 0, 1, 2, 3, 4, 5, 6
RESUME, HELLO, RESUMED, CLIENTS_CONNECT, CLIENT_CONNECT, CLIENT_DISCONNECT = 7, 8, 9, 11, 12, 13
DAVE_MLS_KEY_PACKAGE = 26

# Voice close codes the fake uses (Discord's "Voice Close Event Codes").
NOT_AUTHENTICATED, AUTHENTICATION_FAILED, ALREADY_AUTHENTICATED, SESSION_NO_LONGER_VALID = 4003, 4004, 4005, 4006
DISCONNECTED, VOICE_SERVER_CRASHED, UNKNOWN_PROTOCOL, UNKNOWN_ENCRYPTION_MODE = 4014, 4015, 4012, 4016


@dataclass(slots=True)
class VoiceMember:
    """One member's voice state: in ``channel_id`` of a guild, with the session id their gateway gave them."""

    user_id: int
    channel_id: int
    session_id: str = field(default_factory=lambda: secrets.token_hex(16))
    self_mute: bool = False
    self_deaf: bool = False

    def payload(self, guild_id: int | None, member: FakeMember | None) -> dict[str, Any]:
        """The voice state object; with ``guild_id`` as in VOICE_STATE_UPDATE, without as in GUILD_CREATE."""
        data: dict[str, Any] = {
            "channel_id": str(self.channel_id),
            "user_id": str(self.user_id),
            "session_id": self.session_id,
            "deaf": False,
            "mute": False,
            "self_deaf": self.self_deaf,
            "self_mute": self.self_mute,
            "self_video": False,
            "self_stream": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        }
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
        if member is not None:
            data["member"] = member.payload()
        return data


@dataclass(frozen=True, slots=True)
class VoiceGrant:
    """What a VOICE_SERVER_UPDATE handed the bot: the token its voice IDENTIFY must bring."""

    token: str
    guild_id: int
    user_id: int
    session_id: str
    channel_id: int


@dataclass(eq=False)
class VoiceSession:
    """One voice gateway session of the bot (a new one, with a new SSRC, on every fresh IDENTIFY)."""

    grant: VoiceGrant
    ssrc: int
    query: dict[str, str]  # the voice websocket URL's query, e.g. {"v": "8"}
    identify: dict[str, Any]  # the IDENTIFY's d, token redacted
    token: str  # current token (a repeated op 4 hands out a new one, which a RESUME may bring)
    ws: web.WebSocketResponse | None = None
    select_protocol: dict[str, Any] | None = None
    secret_key: bytes | None = None
    dave_protocol_version: int = 0
    seq: int = 0  # the last numbered message sent (v8 buffered resume)
    sent: list[dict[str, Any]] = field(default_factory=list)  # numbered messages, re-sent after a RESUME
    heartbeats: list[Any] = field(default_factory=list)  # the d of each op 3: {"t": nonce, "seq_ack": n} since v8
    speaking: list[dict[str, Any]] = field(default_factory=list)  # the d of each op 5
    received: list[dict[str, Any]] = field(default_factory=list)  # every JSON frame from the bot
    binary_ops: list[int] = field(default_factory=list)  # opcodes of binary (DAVE) frames from the bot
    discovered: tuple[str, int] | None = None  # the address its IP discovery came from
    resumes: int = 0
    close_codes: list[int | None] = field(default_factory=list)  # each websocket's close code, in order
    left: bool = False  # the bot left the channel (op 4 with channel_id null) or was disconnected

    @property
    def guild_id(self) -> int:
        return self.grant.guild_id

    @property
    def channel_id(self) -> int:
        return self.grant.channel_id

    @property
    def mode(self) -> str | None:
        """The transport encryption mode SELECT_PROTOCOL chose."""
        return None if self.select_protocol is None else self.select_protocol.get("data", {}).get("mode")

    @property
    def max_dave_protocol_version(self) -> int:
        """What IDENTIFY offered; above 0 means the bot speaks DAVE."""
        return int(self.identify.get("max_dave_protocol_version") or 0)

    @property
    def connected(self) -> bool:
        """Handshake done (SESSION_DESCRIPTION sent) and the websocket open."""
        return self.secret_key is not None and self.ws is not None and not self.ws.closed

    @property
    def last_seq_ack(self) -> int | None:
        """The seq_ack of the latest heartbeat (None before one, or for a pre-v8 heartbeat)."""
        for beat in reversed(self.heartbeats):
            if isinstance(beat, dict) and "seq_ack" in beat:
                return int(beat["seq_ack"])
        return None
