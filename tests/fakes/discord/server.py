"""FakeDiscord: the harness tests hold. It runs REST + gateway on 127.0.0.1 and drives users' actions."""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from .actions import UserActions
from .faults import Faults
from .gateway import Gateway
from .interactions import FakeInteraction
from .messages import StoredMessage
from .models import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser
from .recorder import Recorded
from .rest import build_app
from .routes_bot import application_payload
from .state import GUILDS, FakeState, Settings
from .world import World

T = TypeVar("T")
DEFAULT_TOKEN = "fake-bot-token.Chorus.0123456789"  # shaped like a token, obviously not one


class FakeDiscord(UserActions):
    """A loopback Discord for the real discord.py: ``async with FakeDiscord() as fake: ...``.

    Point the bot at it with ``discord.http.Route.BASE = fake.api_base``; ``GET /gateway/bot`` then
    hands discord.py ``fake.gateway_url``. The default world is ``fake.guild`` with channels
    ``fake.general`` and ``fake.music`` and members ``fake.alice``, ``fake.bob`` and ``fake.admin``.
    """

    def __init__(
        self, *, token: str = DEFAULT_TOKEN, heartbeat_interval_ms: int = 41_250, bot_name: str = "Chorus"
    ) -> None:
        settings = Settings(token=token, heartbeat_interval_ms=heartbeat_interval_ms)
        self.state = FakeState(settings, world=World(bot_name=bot_name))
        self.gateway = Gateway(self.state)
        self.state.dispatcher = self.gateway
        self._runner: web.AppRunner | None = None

    # Lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        app = build_app(self.state)
        app.router.add_get("/gateway", self.gateway.handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.state.base_url = f"http://127.0.0.1:{port}"
        self.state.messages.cdn_base = self.state.base_url

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # Addresses and settings -------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.state.base_url

    @property
    def api_base(self) -> str:
        return self.url + "/api/v10"

    @property
    def gateway_url(self) -> str:
        return self.state.gateway_url

    @property
    def token(self) -> str:
        return self.state.settings.token

    @token.setter
    def token(self, value: str) -> None:
        self.state.settings.token = value

    @property
    def upload_limit(self) -> int | None:
        """Bytes allowed per message (all files together); None means the guild's tier limit."""
        return self.state.settings.upload_limit

    @upload_limit.setter
    def upload_limit(self, value: int | None) -> None:
        self.state.settings.upload_limit = value

    @property
    def ack_deadline(self) -> float | None:
        """Seconds the bot has to answer an interaction (Discord: 3); None disables the check."""
        return self.state.settings.ack_deadline

    @ack_deadline.setter
    def ack_deadline(self, value: float | None) -> None:
        self.state.settings.ack_deadline = value

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @property
    def faults(self) -> Faults:
        return self.state.faults

    def forget_nonces(self) -> None:
        """Let Discord's nonce memory (a few minutes) run out: a repeated nonce now creates a second message."""
        self.state.messages.forget_nonces()

    # The world --------------------------------------------------------------------------------

    @property
    def world(self) -> World:
        return self.state.world

    @property
    def application_id(self) -> int:
        return self.state.world.application_id

    @property
    def bot_user(self) -> FakeUser:
        return self.state.world.bot

    @property
    def guild(self) -> FakeGuild:
        return self.state.world.guild

    @property
    def general(self) -> FakeChannel:
        return self.state.world.general

    @property
    def music(self) -> FakeChannel:
        return self.state.world.music

    @property
    def alice(self) -> FakeUser:
        return self.state.world.alice

    @property
    def bob(self) -> FakeUser:
        return self.state.world.bob

    @property
    def admin(self) -> FakeUser:
        return self.state.world.admin

    @property
    def admin_role(self) -> FakeRole:
        return self.state.world.admin_role

    def add_user(self, username: str, *, global_name: str | None = None, bot: bool = False) -> FakeUser:
        return self.state.world.add_user(username, global_name=global_name, bot=bot)

    def add_member(
        self, user: FakeUser | str, *, roles: list[FakeRole] | None = None, guild: FakeGuild | None = None
    ) -> FakeMember:
        return self.state.world.add_member(user, roles=roles, guild=guild)

    def add_role(self, name: str, *, permissions: int = 0, guild: FakeGuild | None = None) -> FakeRole:
        return self.state.world.add_role(name, permissions=permissions, guild=guild)

    def add_channel(self, name: str, *, guild: FakeGuild | None = None, topic: str | None = None) -> FakeChannel:
        return self.state.world.add_channel(name, guild=guild, topic=topic)

    async def set_premium_tier(self, tier: int, guild: FakeGuild | None = None) -> None:
        """Change a guild's boost tier (and so its upload limit) and tell the bot (GUILD_UPDATE)."""
        target = guild or self.guild
        target.premium_tier = tier
        await self.gateway.dispatch("GUILD_UPDATE", target.payload(), guild_id=target.id, intent=GUILDS)

    async def set_bot_permissions(self, channel: FakeChannel, *, allow: int = 0, deny: int = 0) -> None:
        """Set the bot's member overwrite on ``channel`` and tell the bot (CHANNEL_UPDATE).

        E.g. ``deny=SEND_MESSAGES`` makes channel sends fail with 403/50013 the way Discord would.
        """
        self.state.world.set_member_overwrite(channel, self.bot_user, allow=allow, deny=deny)
        await self.gateway.dispatch("CHANNEL_UPDATE", channel.payload(), guild_id=channel.guild_id, intent=GUILDS)

    # Recorder ---------------------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """Every REST request, in the order the fake answered them."""
        return self.state.recorder.requests

    @property
    def gateway_frames(self) -> list[dict[str, Any]]:
        """Every gateway frame the bot sent (IDENTIFY/RESUME tokens redacted)."""
        return self.state.recorder.gateway_frames

    def find_requests(
        self, method: str | None = None, path_prefix: str = "", status: int | None = None
    ) -> list[Recorded]:
        return self.state.recorder.find(method, path_prefix, status)

    def messages_in(self, channel: FakeChannel | int) -> list[dict[str, Any]]:
        """Current (edited, undeleted) messages in a channel, oldest first; ephemeral ones included."""
        return self.state.messages.messages_in(channel if isinstance(channel, int) else channel.id)

    def message(self, message_id: int) -> StoredMessage | None:
        """A message with its edit ``history`` and the ``allowed_mentions`` sent with each create/edit."""
        return self.state.messages.by_id.get(message_id)

    def interaction(self, interaction_id: int) -> FakeInteraction:
        return self.state.interactions.by_id[interaction_id]

    def interaction_responses(self, interaction_id: int) -> list[dict[str, Any]]:
        it = self.state.interactions.by_id.get(interaction_id)
        return copy.deepcopy(it.callbacks) if it else []

    def original_response(self, token: str) -> dict[str, Any] | None:
        it = self.state.interactions.by_token.get(token)
        return it.original() if it else None

    def original_response_history(self, token: str) -> list[dict[str, Any]]:
        it = self.state.interactions.by_token.get(token)
        return it.edits if it else []

    def application_commands(self, guild: FakeGuild | int | None = None) -> list[dict[str, Any]]:
        """Commands as synced: global when ``guild`` is None."""
        scope = guild.id if isinstance(guild, FakeGuild) else guild
        return self.state.commands.list_commands(scope)

    def application_info(self) -> dict[str, Any]:
        return application_payload(self.state)

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:  # noqa: ASYNC109 - explicit per-call timeouts are this API's point
        """Return the first truthy ``predicate()``, re-checked whenever the fake records anything."""
        return await self.state.recorder.wait_for(predicate, timeout)

    async def wait_for_request(
        self,
        method: str,
        path_prefix: str,
        *,
        status: int | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Recorded:
        """Wait until ``count`` matching requests were seen; return the last of them."""
        found = await self.wait_for(lambda: len(self.find_requests(method, path_prefix, status)) >= count, timeout)
        assert found
        return self.find_requests(method, path_prefix, status)[count - 1]

    def all_outgoing_text(self) -> str:
        """Everything the bot sent (paths, queries, headers minus Authorization, bodies, gateway frames)."""
        return self.state.recorder.all_outgoing_text()

    def authorization_values(self) -> list[str]:
        return self.state.recorder.authorization_values()

    # Gateway ----------------------------------------------------------------------------------

    async def wait_until_ready(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - explicit per-call timeouts are this API's point
        await self.gateway.wait_until_ready(timeout)


__all__ = ["DEFAULT_TOKEN", "FakeDiscord"]
