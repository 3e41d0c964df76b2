"""The state the REST app, the gateway and the harness share."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Protocol

from .commands import CommandRegistry
from .faults import Faults
from .interaction_payloads import InteractionPayloads
from .interactions import InteractionStore
from .messages import EPHEMERAL, MessageStore, StoredMessage
from .models import FakeChannel
from .recorder import Recorder
from .world import World

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


class Dispatcher(Protocol):
    """The gateway, as the REST side sees it."""

    async def dispatch(
        self, event: str, data: dict[str, Any], *, guild_id: int | None = None, intent: int = 0
    ) -> None: ...


@dataclass(slots=True)
class Settings:
    """Knobs a test may turn; the harness exposes them as attributes."""

    token: str
    upload_limit: int | None = None  # overrides the per-tier limit everywhere when set
    ack_deadline: float | None = 3.0  # a callback later than this gets 404 Unknown interaction
    rate_limit_headers: bool = True  # X-RateLimit-* on successful answers, as Discord sends
    shard_count: int = 1
    max_concurrency: int = 1  # session_start_limit.max_concurrency: IDENTIFY buckets, one IDENTIFY per 5 s each
    heartbeat_interval_ms: int = 41_250
    privileged_intents: int = PRIVILEGED_INTENTS  # what the "developer portal" has switched on
    echo_messages: bool = True  # MESSAGE_CREATE/UPDATE/DELETE for messages made over REST
    latency: float = 0.0  # seconds every API request takes to reach Discord (a real round trip is ~0.1-0.3 s)


@dataclass(slots=True)
class FakeState:
    settings: Settings
    world: World = field(default_factory=World)
    recorder: Recorder = field(default_factory=Recorder)
    faults: Faults = field(default_factory=Faults)
    interactions: InteractionStore = field(default_factory=InteractionStore)
    dispatcher: Dispatcher | None = None
    base_url: str = ""  # http://127.0.0.1:PORT once the server listens
    messages: MessageStore = field(init=False)
    commands: CommandRegistry = field(init=False)
    payloads: InteractionPayloads = field(init=False)

    def __post_init__(self) -> None:
        self.messages = MessageStore(self.world)
        self.commands = CommandRegistry(self.world)
        self.payloads = InteractionPayloads(self.world, self.commands, self.messages, self.upload_limit)

    @property
    def gateway_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http") + "/gateway"

    def upload_limit(self, channel: FakeChannel | None) -> int:
        if self.settings.upload_limit is not None:
            return self.settings.upload_limit
        return self.world.upload_limit(channel)

    async def echo(self, event: str, stored: StoredMessage) -> None:
        """Send the gateway event Discord emits for a message change (never for ephemeral ones)."""
        if self.dispatcher is None or not self.settings.echo_messages or stored.data["flags"] & EPHEMERAL:
            return
        channel = self.world.channels.get(stored.channel_id)
        guild_id = channel.guild_id if channel else None
        intent = GUILD_MESSAGES if guild_id else DIRECT_MESSAGES
        if event == "MESSAGE_DELETE":
            data: dict[str, Any] = {"id": str(stored.id), "channel_id": str(stored.channel_id)}
        else:
            data = copy.deepcopy(stored.data)
            guild = self.world.guilds.get(guild_id) if guild_id else None
            author = guild.members.get(int(data["author"]["id"])) if guild else None
            if author is not None:
                data["member"] = author.payload(with_user=False)
        if guild_id:
            data["guild_id"] = str(guild_id)
        await self.dispatcher.dispatch(event, data, guild_id=guild_id, intent=intent)
