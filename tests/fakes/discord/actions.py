"""What users do, seen from the bot: slash commands, clicks, selects, modals, menus and messages.

Each helper builds the INTERACTION_CREATE (or MESSAGE_CREATE) Discord would send, dispatches it over
the gateway and returns a FakeInteraction to wait on.
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from .commands import MESSAGE_COMMAND, USER_COMMAND
from .gateway import Gateway
from .interaction_payloads import Upload
from .interactions import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    FakeInteraction,
)
from .limits import DiscordError, missing_permissions
from .messages import EPHEMERAL, StoredMessage
from .models import DISCORD_EPOCH_MS, MANAGE_MESSAGES, FakeChannel, FakeMember, FakeUser
from .recorder import RecordedFile
from .state import DIRECT_MESSAGES, GUILD_MESSAGES, MESSAGE_CONTENT, FakeState

BULK_DELETE_MAX_AGE = 14 * 86400  # seconds: Discord bulk-deletes nothing older than two weeks

MessageRef = StoredMessage | dict[str, Any] | int


class UserActions:
    """Mixed into FakeDiscord. Defaults: the user is alice, the channel is #music."""

    state: FakeState
    gateway: Gateway

    async def _send_interaction(self, payload: dict[str, Any]) -> FakeInteraction:
        guild_id = int(payload["guild_id"]) if "guild_id" in payload else None
        if not self.gateway.live_sessions(guild_id):
            raise RuntimeError("no bot is connected to the fake gateway; await fake.wait_until_ready() first")
        it = FakeInteraction(payload, messages=self.state.messages, recorder=self.state.recorder)
        self.state.interactions.add(it)
        it.sent_at = asyncio.get_running_loop().time()
        await self.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=guild_id)
        return it

    def _user(self, user: FakeUser | FakeMember | None) -> FakeUser:
        if user is None:
            return self.state.world.alice
        return user.user if isinstance(user, FakeMember) else user

    def _stored(self, message: MessageRef) -> StoredMessage:
        message_id = (
            message.id
            if isinstance(message, StoredMessage)
            else int(message["id"])
            if isinstance(message, dict)
            else message
        )
        stored = self.state.messages.get(message_id)
        if stored is None:
            raise LookupError(f"the fake has no message {message_id}")
        return stored

    async def slash_command(
        self,
        name: str,
        options: dict[str, Any] | list[dict[str, Any]] | None = None,
        *,
        user: FakeUser | FakeMember | None = None,
        channel: FakeChannel | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """Run ``/name`` (``"group sub"`` for subcommands) as ``user`` (alice) in ``channel`` (music)."""
        author, where = self._user(user), channel or self.state.world.music
        data = self.state.payloads.slash(name, options, author, where)
        return await self._send_interaction(
            self.state.payloads.base(APPLICATION_COMMAND, author, where, data, locale=locale)
        )

    async def autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        user: FakeUser | FakeMember | None = None,
        channel: FakeChannel | None = None,
    ) -> FakeInteraction:
        """Ask for autocomplete choices of option ``focused`` while the user typed ``options``."""
        author, where = self._user(user), channel or self.state.world.music
        data = self.state.payloads.slash(name, options, author, where, focused=focused)
        return await self._send_interaction(
            self.state.payloads.base(APPLICATION_COMMAND_AUTOCOMPLETE, author, where, data)
        )

    async def click_button(
        self, message: MessageRef, custom_id: str, *, user: FakeUser | FakeMember | None = None
    ) -> FakeInteraction:
        """Click the button ``custom_id`` on a message the bot sent."""
        return await self._component(message, custom_id, None, user)

    async def select(
        self, message: MessageRef, custom_id: str, values: list[Any], *, user: FakeUser | FakeMember | None = None
    ) -> FakeInteraction:
        """Pick ``values`` in a select menu (strings, or users/roles/channels for entity selects)."""
        return await self._component(message, custom_id, values, user)

    async def _component(
        self, message: MessageRef, custom_id: str, values: list[Any] | None, user: FakeUser | FakeMember | None
    ) -> FakeInteraction:
        stored, author = self._stored(message), self._user(user)
        channel = self.state.world.channels[stored.channel_id]
        data = self.state.payloads.component(stored, custom_id, values, author)
        payload = self.state.payloads.base(MESSAGE_COMPONENT, author, channel, data, message=stored.snapshot())
        return await self._send_interaction(payload)

    async def submit_modal(
        self,
        custom_id: str,
        values: dict[str, Any],
        *,
        user: FakeUser | FakeMember | None = None,
        interaction_from: FakeInteraction | None = None,
    ) -> FakeInteraction:
        """Submit the modal ``custom_id`` the bot opened (in ``interaction_from``, else the latest one).

        The submitted components mirror the modal: action rows stay rows, discord.py 2.7 ``Label``
        components come back as ``{"type": 18, "component": {...}}``.
        """
        source, modal = self.state.interactions.modal(custom_id, interaction_from)
        author = self._user(user) if user is not None else self._interaction_user(source)
        channel = self.state.world.channels[source.channel_id]
        data = self.state.payloads.modal_submit(modal, values)
        message = None
        if source.source_message_id is not None:
            stored = self.state.messages.get(source.source_message_id)
            message = stored.snapshot() if stored else None
        return await self._send_interaction(
            self.state.payloads.base(MODAL_SUBMIT, author, channel, data, message=message)
        )

    def _interaction_user(self, it: FakeInteraction) -> FakeUser:
        raw = it.payload["member"]["user"] if "member" in it.payload else it.payload["user"]
        return self.state.world.users[int(raw["id"])]

    async def message_context_menu(
        self, name: str, target_message: MessageRef, *, user: FakeUser | FakeMember | None = None
    ) -> FakeInteraction:
        """Run the message command ``name`` on ``target_message``."""
        stored, author = self._stored(target_message), self._user(user)
        channel = self.state.world.channels[stored.channel_id]
        data = self.state.payloads.context_menu(name, MESSAGE_COMMAND, stored, channel)
        return await self._send_interaction(self.state.payloads.base(APPLICATION_COMMAND, author, channel, data))

    async def user_context_menu(
        self,
        name: str,
        target: FakeUser,
        *,
        user: FakeUser | FakeMember | None = None,
        channel: FakeChannel | None = None,
    ) -> FakeInteraction:
        """Run the user command ``name`` on ``target``."""
        author, where = self._user(user), channel or self.state.world.music
        data = self.state.payloads.context_menu(name, USER_COMMAND, target, where)
        return await self._send_interaction(self.state.payloads.base(APPLICATION_COMMAND, author, where, data))

    async def user_message(
        self,
        channel: FakeChannel,
        content: str,
        *,
        user: FakeUser | FakeMember | None = None,
        attachments: list[Upload] | None = None,
    ) -> dict[str, Any]:
        """A user posts in ``channel``; the bot gets MESSAGE_CREATE (content blanked without the intent)."""
        author = self._user(user)
        files = [
            RecordedFile(a.filename, len(a.data), a.content_type, a.data, f"files[{i}]")
            for i, a in enumerate(attachments or [])
        ]
        stored = self.state.messages.create(channel, author, {"content": content}, files)
        data = stored.snapshot()
        guild_id = channel.guild_id
        if guild_id is not None:
            member = self.state.world.guild.members.get(author.id) if guild_id == self.state.world.guild.id else None
            data["guild_id"] = str(guild_id)
            if member is not None:
                data["member"] = member.payload(with_user=False)
        intent = GUILD_MESSAGES if guild_id is not None else DIRECT_MESSAGES
        for session in self.gateway.live_sessions(guild_id):
            if not session.intents & intent:
                continue
            event = copy.deepcopy(data)
            mentioned = any(int(u["id"]) == self.state.world.bot.id for u in event["mentions"])
            if not session.intents & MESSAGE_CONTENT and guild_id is not None and not mentioned:
                # Without the privileged intent Discord blanks what other users wrote.
                event.update(content="", embeds=[], attachments=[], components=[])
            await self.gateway.dispatch_to(session, "MESSAGE_CREATE", event)
        return data

    async def delete_message(self, message: MessageRef, *, user: FakeUser | FakeMember | None = None) -> None:
        """``user`` (alice) deletes a message with Discord's own Delete: their own, or anyone's with Manage
        Messages (else 403/50013). The bot gets MESSAGE_DELETE (with the guild messages intent; the direct
        messages one in a DM), carrying only ids, as Discord sends it."""
        stored, author = self._stored(message), self._user(user)
        channel = self.state.world.channels[stored.channel_id]
        own = int(stored.data["author"]["id"]) == author.id
        if stored.data["flags"] & EPHEMERAL or (
            not own and not self.state.world.permissions(author.id, channel) & MANAGE_MESSAGES
        ):
            raise missing_permissions()
        self.state.messages.delete(stored)
        self.state.recorder.notify()
        data = {"id": str(stored.id), "channel_id": str(channel.id)}
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        intent = GUILD_MESSAGES if channel.guild_id is not None else DIRECT_MESSAGES
        await self.gateway.dispatch("MESSAGE_DELETE", data, guild_id=channel.guild_id, intent=intent)

    async def bulk_delete(
        self, channel: FakeChannel, messages: list[MessageRef], *, user: FakeUser | FakeMember | None = None
    ) -> None:
        """A purge by ``user`` (alice; e.g. a moderation bot's): ``POST /channels/{id}/messages/bulk-delete`` with
        Discord's rules (a guild channel, Manage Messages, 2 to 100 distinct messages under two weeks old). The bot
        gets one MESSAGE_DELETE_BULK (with the guild messages intent)."""
        author = self._user(user)
        ids = [self._stored(m).id for m in messages]
        if channel.guild_id is None:
            raise DiscordError(400, 50003, "Cannot execute action on a DM channel")
        if not self.state.world.permissions(author.id, channel) & MANAGE_MESSAGES:
            raise missing_permissions()
        if not 2 <= len(ids) <= 100 or len(set(ids)) != len(ids):
            raise DiscordError(400, 50016, "Provide at least 2 and fewer than 100 messages to delete.")
        created_ms = (min(ids) >> 22) + DISCORD_EPOCH_MS
        if time.time() - created_ms / 1000 > BULK_DELETE_MAX_AGE:
            raise DiscordError(400, 50034, "You can only bulk delete messages that are under 14 days old.")
        for stored in [self.state.messages.require(message_id, channel.id) for message_id in ids]:
            self.state.messages.delete(stored)
        self.state.recorder.notify()
        data = {"ids": [str(i) for i in ids], "channel_id": str(channel.id), "guild_id": str(channel.guild_id)}
        await self.gateway.dispatch("MESSAGE_DELETE_BULK", data, guild_id=channel.guild_id, intent=GUILD_MESSAGES)

    def expire_interaction(self, interaction: FakeInteraction) -> None:
        """Make the interaction's token invalid, as after 15 minutes (webhook calls get 401/50027)."""
        interaction.expired = True
