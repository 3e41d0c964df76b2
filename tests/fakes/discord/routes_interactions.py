"""Interaction callbacks and the interaction webhook (original response and followups).

These routes carry no Authorization header: the interaction token in the URL is the credential.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from aiohttp import web

from .interactions import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    PONG,
    UPDATE_MESSAGE,
    FakeInteraction,
)
from .limits import DiscordError, invalid_form, modal_errors
from .messages import EPHEMERAL, StoredMessage
from .recorder import RecordedFile
from .rest import body_of, check_new_message, json_of, message_checks, no_content, ok, snowflake
from .routes_bot import ensure_not_emptied
from .state import FakeState

LOADING = 1 << 7  # the "Bot is thinking…" state of a deferred response
KEPT_FLAGS = EPHEMERAL | LOADING | (1 << 2) | (1 << 12) | (1 << 15)  # + suppress embeds/notifications, v2
ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE, MODAL},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE},
    APPLICATION_COMMAND_AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
}


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true")


class InteractionRoutes:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    # Shared -----------------------------------------------------------------------------------

    def _create(
        self, it: FakeInteraction, payload: dict[str, Any], files: list[RecordedFile], *, original: bool
    ) -> StoredMessage:
        world = self.state.world
        channel = world.channels[it.channel_id]
        user_payload = it.payload["member"]["user"] if "member" in it.payload else it.payload["user"]
        metadata: dict[str, Any] = {
            "id": str(it.id),
            "type": it.type,
            "user": user_payload,
            "authorizing_integration_owners": it.payload["authorizing_integration_owners"],
        }
        kind = 0
        if it.type == APPLICATION_COMMAND and original:
            command_type = it.payload["data"].get("type", 1)
            kind = 20 if command_type == 1 else 23
            metadata["name"] = it.payload["data"]["name"]
        if it.source_message_id is not None:
            metadata["interacted_message_id"] = str(it.source_message_id)
        if not original and it.original_id is not None:
            metadata["original_response_message_id"] = str(it.original_id)
        extra = {
            "type": kind,
            "webhook_id": str(world.application_id),
            "application_id": str(world.application_id),
            "interaction_metadata": metadata,
        }
        payload = {**payload, "flags": int(payload.get("flags") or 0) & KEPT_FLAGS}
        return self.state.messages.create(channel, world.bot, payload, files, extra=extra)

    def _limit(self, it: FakeInteraction) -> int:
        return self.state.upload_limit(self.state.world.channels.get(it.channel_id))

    # POST /interactions/{id}/{token}/callback -------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        it = self.state.interactions.by_id.get(snowflake(request, "interaction_id"))
        if it is None or it.token != request.match_info["token"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        now = asyncio.get_running_loop().time()
        deadline = self.state.settings.ack_deadline
        if it.acknowledged:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if it.expired or (deadline is not None and now - it.sent_at > deadline):
            raise DiscordError(404, 10062, "Unknown interaction")
        body = json_of(request)
        files = body_of(request).files
        kind = body.get("type")
        data: dict[str, Any] = body.get("data") or {}
        if kind not in ALLOWED_CALLBACKS.get(it.type, {PONG}):
            raise invalid_form(
                {
                    "type": {
                        "_errors": [
                            {
                                "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                "message": f"Invalid interaction response type {kind} for interaction type {it.type}",
                            }
                        ]
                    }
                }
            )
        stored = self._validate_and_apply(it, kind, data, files)
        it.callbacks.append(copy.deepcopy({"type": kind, "data": body.get("data")}))
        it.responded_at = now
        self.state.recorder.notify()
        if stored is not None:
            await self.state.echo(
                "MESSAGE_CREATE" if kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE) else "MESSAGE_UPDATE", stored
            )
        if not _truthy(request.query.get("with_response")):
            return no_content()
        return ok(self._callback_response(it, kind, stored))

    def _validate_and_apply(
        self, it: FakeInteraction, kind: int, data: dict[str, Any], files: list[RecordedFile]
    ) -> StoredMessage | None:
        """Check the callback like Discord does, then create or update the message it implies."""
        messages = self.state.messages
        if kind == CHANNEL_MESSAGE:
            check_new_message(data, files, self._limit(it), nest="data")
            stored = self._create(it, data, files, original=True)
            it.original_id = stored.id
            return stored
        if kind == DEFERRED_CHANNEL_MESSAGE:
            flags = (int(data.get("flags") or 0) & EPHEMERAL) | LOADING
            stored = self._create(it, {"content": "", "flags": flags}, [], original=True)
            it.original_id = stored.id
            return stored
        if kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and it.source_message_id is not None:
            it.original_id = it.source_message_id
            if kind == UPDATE_MESSAGE:
                source = messages.require(it.source_message_id)
                message_checks(data, files, self._limit(it), nest="data")
                ensure_not_emptied(source, data, files)
                return messages.edit(source, data, files)
            return None
        if kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            raise invalid_form(
                {
                    "type": {
                        "_errors": [
                            {"code": "INTERACTION_RESPONSE_TYPE_INVALID", "message": "There is no message to update"}
                        ]
                    }
                }
            )
        if kind == MODAL:
            errors = modal_errors(data)
            if errors:
                raise invalid_form({"data": errors})
        return None

    def _callback_response(self, it: FakeInteraction, kind: int, stored: StoredMessage | None) -> dict[str, Any]:
        """The ``?with_response=1`` body discord.py 2.5+ asks for and turns into InteractionCallbackResponse."""
        interaction: dict[str, Any] = {"id": str(it.id), "type": it.type}
        resource: dict[str, Any] = {"type": kind}
        if stored is not None:
            interaction["response_message_id"] = str(stored.id)
            interaction["response_message_loading"] = bool(stored.data["flags"] & LOADING)
            interaction["response_message_ephemeral"] = bool(stored.data["flags"] & EPHEMERAL)
            resource["message"] = stored.snapshot()
        return {"interaction": interaction, "resource": resource}

    # /webhooks/{app_id}/{token}... ------------------------------------------------------------

    def _webhook(self, request: web.Request) -> FakeInteraction:
        if snowflake(request, "app_id") != self.state.world.application_id:
            raise DiscordError(404, 10015, "Unknown Webhook")
        it = self.state.interactions.by_token.get(request.match_info["token"])
        if it is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        if it.expired:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if not it.acknowledged:
            # The interaction webhook only exists once the interaction has been acknowledged.
            raise DiscordError(404, 10015, "Unknown Webhook")
        return it

    def _target(self, request: web.Request, it: FakeInteraction) -> StoredMessage:
        raw = request.match_info["message_id"]
        if raw == "@original":
            message_id = it.original_id
        else:
            message_id = snowflake(request, "message_id")
            if message_id != it.original_id and message_id not in it.followup_ids:
                message_id = None
        stored = self.state.messages.get(message_id) if message_id is not None else None
        if stored is None:
            raise DiscordError(404, 10008, "Unknown Message")
        return stored

    async def followup(self, request: web.Request) -> web.Response:
        it = self._webhook(request)
        payload, files = json_of(request), body_of(request).files
        check_new_message(payload, files, self._limit(it))
        original = self.state.messages.get(it.original_id) if it.original_id is not None else None
        if original is not None and original.data["flags"] & LOADING:
            # After a "thinking" defer, Discord turns the first followup into the original response.
            stored = self.state.messages.edit(original, payload, files)
            event = "MESSAGE_UPDATE"
        else:
            stored = self._create(it, payload, files, original=False)
            event = "MESSAGE_CREATE"
        it.followup_ids.append(stored.id)
        self.state.recorder.notify()
        await self.state.echo(event, stored)
        return ok(stored.snapshot()) if _truthy(request.query.get("wait")) else no_content()

    async def get_message(self, request: web.Request) -> web.Response:
        it = self._webhook(request)
        return ok(self._target(request, it).snapshot())

    async def patch_message(self, request: web.Request) -> web.Response:
        it = self._webhook(request)
        stored = self._target(request, it)
        payload, files = json_of(request), body_of(request).files
        message_checks(payload, files, self._limit(it))
        ensure_not_emptied(stored, payload, files)
        self.state.messages.edit(stored, payload, files)
        self.state.recorder.notify()
        await self.state.echo("MESSAGE_UPDATE", stored)
        return ok(stored.snapshot())

    async def delete_message(self, request: web.Request) -> web.Response:
        it = self._webhook(request)
        stored = self._target(request, it)
        self.state.messages.delete(stored)
        self.state.recorder.notify()
        await self.state.echo("MESSAGE_DELETE", stored)
        return no_content()


def add_interaction_routes(app: web.Application, state: FakeState, prefix: str) -> None:
    r = InteractionRoutes(state)
    add = app.router.add_route
    add("POST", prefix + "/interactions/{interaction_id}/{token}/callback", r.callback)
    add("POST", prefix + "/webhooks/{app_id}/{token}", r.followup)
    add("GET", prefix + "/webhooks/{app_id}/{token}/messages/{message_id}", r.get_message)
    add("PATCH", prefix + "/webhooks/{app_id}/{token}/messages/{message_id}", r.patch_message)
    add("DELETE", prefix + "/webhooks/{app_id}/{token}/messages/{message_id}", r.delete_message)
