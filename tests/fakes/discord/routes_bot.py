"""REST routes the bot calls with its token: users, gateway, application, commands, channels, guilds."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .limits import DiscordError, invalid_form, is_empty_message, missing_access, missing_permissions
from .messages import EPHEMERAL, StoredMessage
from .models import (
    ATTACH_FILES,
    CREATE_PUBLIC_THREADS,
    DM,
    EMBED_LINKS,
    GUILD_TEXT,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
)
from .recorder import RecordedFile
from .rest import body_of, json_of, message_checks, no_content, ok, snowflake
from .state import GUILDS, FakeState


def application_payload(state: FakeState) -> dict[str, Any]:
    world = state.world
    return {
        "id": str(world.application_id),
        "name": world.application_name,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "rpc_origins": [],
        "bot_public": True,
        "bot_require_code_grant": False,
        "bot": world.bot.payload(),
        "owner": world.admin.payload(),
        "team": None,
        "verify_key": "0" * 64,
        "flags": 0,
        "tags": [],
        "redirect_uris": [],
        "interactions_endpoint_url": None,  # non-null makes discord.py warn that no interactions arrive
        "approximate_guild_count": len(world.guilds),
        "integration_types_config": {"0": {}},
    }


async def send_to_channel(
    state: FakeState, channel: FakeChannel, payload: dict[str, Any], files: list[RecordedFile]
) -> StoredMessage:
    """Create a bot message as ``POST /channels/{id}/messages`` does, with Discord's checks in its order."""
    world = state.world
    message_checks(payload, files, state.upload_limit(channel))
    if channel.type == DM:
        if not channel.recipients[0].accepts_dms:
            raise DiscordError(403, 50007, "Cannot send messages to this user")
    else:
        perms = world.permissions(world.bot.id, channel)
        if not perms & VIEW_CHANNEL:
            raise missing_access()
        if not perms & SEND_MESSAGES or (files and not perms & ATTACH_FILES):
            raise missing_permissions()
        if not perms & EMBED_LINKS:
            payload = {k: v for k, v in payload.items() if k != "embeds"}  # Discord drops them silently
    nonce = payload.get("nonce")
    if nonce is not None and payload.get("enforce_nonce"):
        previous = state.messages.nonce_hit(channel.id, str(nonce))
        if previous is not None:
            return previous
    if is_empty_message(payload, has_files=bool(files)):
        raise DiscordError(400, 50006, "Cannot send an empty message")
    payload = {**payload, "flags": int(payload.get("flags") or 0) & ~EPHEMERAL}  # ephemeral is interactions-only
    stored = state.messages.create(channel, world.bot, payload, files)
    await state.echo("MESSAGE_CREATE", stored)
    return stored


class BotRoutes:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.world = state.world

    # Look-ups that turn into Discord errors ---------------------------------------------------

    def _channel(self, request: web.Request) -> FakeChannel:
        channel = self.world.channels.get(snowflake(request, "channel_id"))
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        if channel.type != DM and not self.world.permissions(self.world.bot.id, channel) & VIEW_CHANNEL:
            raise missing_access()
        return channel

    def _guild(self, request: web.Request) -> FakeGuild:
        guild = self.world.guilds.get(snowflake(request, "guild_id"))
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        if self.world.bot.id not in guild.members:
            raise missing_access()
        return guild

    def _app(self, request: web.Request) -> None:
        if snowflake(request, "app_id") != self.world.application_id:
            raise DiscordError(404, 10002, "Unknown Application")

    # Users, gateway, application --------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        return ok(
            {**self.world.bot.payload(), "verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"}
        )

    async def user(self, request: web.Request) -> web.Response:
        user = self.world.users.get(snowflake(request, "user_id"))
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return ok(user.payload())

    async def gateway(self, request: web.Request) -> web.Response:
        return ok({"url": self.state.gateway_url})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        limit = {
            "total": 1000, "remaining": 999, "reset_after": 14_400_000,
            "max_concurrency": self.state.settings.max_concurrency,
        }
        return ok(
            {"url": self.state.gateway_url, "shards": self.state.settings.shard_count, "session_start_limit": limit}
        )

    async def application(self, request: web.Request) -> web.Response:
        return ok(application_payload(self.state))

    # Application commands ---------------------------------------------------------------------

    async def put_global_commands(self, request: web.Request) -> web.Response:
        self._app(request)
        return ok(self.state.commands.bulk_overwrite(None, body_of(request).json))

    async def get_global_commands(self, request: web.Request) -> web.Response:
        self._app(request)
        return ok(self.state.commands.list_commands(None))

    async def put_guild_commands(self, request: web.Request) -> web.Response:
        self._app(request)
        guild = self._guild(request)
        return ok(self.state.commands.bulk_overwrite(guild.id, body_of(request).json))

    async def get_guild_commands(self, request: web.Request) -> web.Response:
        self._app(request)
        return ok(self.state.commands.list_commands(self._guild(request).id))

    # Channels and messages --------------------------------------------------------------------

    async def get_channel(self, request: web.Request) -> web.Response:
        return ok(self._channel(request).payload())

    async def typing(self, request: web.Request) -> web.Response:
        self._channel(request)
        return no_content()

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        limit = int(request.query.get("limit", "50"))
        newest_first = list(reversed(self.state.messages.messages_in(channel.id)))
        # Like Discord, history does not return nonces: only the create response and gateway event carry one.
        return ok([{k: v for k, v in m.items() if k != "nonce"} for m in newest_first[:limit]])

    async def post_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        stored = await send_to_channel(self.state, channel, json_of(request), body_of(request).files)
        return ok(stored.snapshot())

    async def get_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        return ok(self.state.messages.require(snowflake(request, "message_id"), channel.id).snapshot())

    async def patch_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        stored = self.state.messages.require(snowflake(request, "message_id"), channel.id)
        if int(stored.data["author"]["id"]) != self.world.bot.id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        payload, files = json_of(request), body_of(request).files
        message_checks(payload, files, self.state.upload_limit(channel))
        ensure_not_emptied(stored, payload, files)
        self.state.messages.edit(stored, payload, files)
        await self.state.echo("MESSAGE_UPDATE", stored)
        return ok(stored.snapshot())

    async def delete_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        stored = self.state.messages.require(snowflake(request, "message_id"), channel.id)
        self.state.messages.delete(stored)
        await self.state.echo("MESSAGE_DELETE", stored)
        return no_content()

    async def thread_from_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        stored = self.state.messages.require(snowflake(request, "message_id"), channel.id)
        if channel.type != GUILD_TEXT:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        if not self.world.permissions(self.world.bot.id, channel) & CREATE_PUBLIC_THREADS:
            raise missing_permissions()
        if stored.id in self.world.channels:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        payload = json_of(request)
        name = str(payload.get("name") or "")
        if not 1 <= len(name) <= 100:
            raise invalid_form(
                {
                    "name": {
                        "_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be between 1 and 100 in length."}]
                    }
                }
            )
        thread = self.world.add_thread(channel, name, thread_id=stored.id)
        thread.auto_archive_duration = int(payload.get("auto_archive_duration") or 1440)
        stored.data["thread"] = thread.payload()
        if self.state.dispatcher is not None:
            event = {**thread.payload(), "newly_created": True}
            await self.state.dispatcher.dispatch("THREAD_CREATE", event, guild_id=thread.guild_id, intent=GUILDS)
        return ok(thread.payload(), status=201)

    async def create_dm(self, request: web.Request) -> web.Response:
        raw = json_of(request).get("recipient_id")
        user = self.world.users.get(int(str(raw))) if str(raw).isdigit() else None
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return ok(self.world.dm_channel(user).payload())

    # Guilds -----------------------------------------------------------------------------------

    async def get_guild(self, request: web.Request) -> web.Response:
        return ok(self._guild(request).payload())

    async def get_member(self, request: web.Request) -> web.Response:
        member = self._guild(request).members.get(snowflake(request, "user_id"))
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return ok(member.payload())


def ensure_not_emptied(stored: StoredMessage, payload: dict[str, Any], files: list[RecordedFile]) -> None:
    """An edit may not leave a message with nothing in it (50006)."""
    merged = {**stored.data, **{k: v for k, v in payload.items() if k in ("content", "embeds", "components")}}
    attachments = payload["attachments"] if "attachments" in payload else stored.data["attachments"]
    if is_empty_message(merged, has_files=bool(files or attachments)):
        raise DiscordError(400, 50006, "Cannot send an empty message")


def add_bot_routes(app: web.Application, state: FakeState, prefix: str) -> None:
    r = BotRoutes(state)
    add = app.router.add_route
    add("GET", prefix + "/users/@me", r.me)
    add("POST", prefix + "/users/@me/channels", r.create_dm)
    add("GET", prefix + "/users/{user_id}", r.user)
    add("GET", prefix + "/gateway", r.gateway)
    add("GET", prefix + "/gateway/bot", r.gateway_bot)
    add("GET", prefix + "/oauth2/applications/@me", r.application)
    add("GET", prefix + "/applications/@me", r.application)
    add("PUT", prefix + "/applications/{app_id}/commands", r.put_global_commands)
    add("GET", prefix + "/applications/{app_id}/commands", r.get_global_commands)
    add("PUT", prefix + "/applications/{app_id}/guilds/{guild_id}/commands", r.put_guild_commands)
    add("GET", prefix + "/applications/{app_id}/guilds/{guild_id}/commands", r.get_guild_commands)
    add("GET", prefix + "/channels/{channel_id}", r.get_channel)
    add("POST", prefix + "/channels/{channel_id}/typing", r.typing)
    add("GET", prefix + "/channels/{channel_id}/messages", r.list_messages)
    add("POST", prefix + "/channels/{channel_id}/messages", r.post_message)
    add("GET", prefix + "/channels/{channel_id}/messages/{message_id}", r.get_message)
    add("PATCH", prefix + "/channels/{channel_id}/messages/{message_id}", r.patch_message)
    add("DELETE", prefix + "/channels/{channel_id}/messages/{message_id}", r.delete_message)
    add("POST", prefix + "/channels/{channel_id}/messages/{message_id}/threads", r.thread_from_message)
    add("GET", prefix + "/guilds/{guild_id}", r.get_guild)
    add("GET", prefix + "/guilds/{guild_id}/members/{user_id}", r.get_member)
