"""INTERACTION_CREATE payloads as Discord builds them: slash commands, components, modals, menus.

Slash options are typed from the command definitions the bot synced, so a test passes plain Python
values ({"prompt": "lofi", "count": 2, "who": fake.alice}) and the bot receives what a real client
would send, including ``resolved`` users, members, roles, channels and attachments.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .commands import CHAT_INPUT, MESSAGE_COMMAND, SUB_COMMAND, SUB_COMMAND_GROUP, USER_COMMAND, CommandRegistry
from .messages import Blob, MessageStore, StoredMessage
from .models import FakeChannel, FakeMember, FakeRole, FakeUser
from .world import World

STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
TEXT_INPUT, LABEL, TEXT_DISPLAY = 4, 18, 10
SELECTS = (3, 5, 6, 7, 8)
BOT_DM_CONTEXT, GUILD_CONTEXT = 1, 0

Entity = FakeUser | FakeMember | FakeRole | FakeChannel | int


@dataclass(frozen=True, slots=True)
class Upload:
    """A file a user attaches to an ATTACHMENT option."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass(slots=True)
class _Resolved:
    data: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(self, kind: str, key: int, value: dict[str, Any]) -> None:
        self.data.setdefault(kind, {})[str(key)] = value


def walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component in a message or modal, depth first (rows, containers, sections, labels)."""
    for comp in components:
        yield comp
        yield from walk_components(comp.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                yield from walk_components([comp[key]])


class InteractionPayloads:
    """Builds interaction payloads from the fake world's state."""

    def __init__(
        self,
        world: World,
        commands: CommandRegistry,
        messages: MessageStore,
        upload_limit: Callable[[FakeChannel], int],
    ) -> None:
        self.world = world
        self.commands = commands
        self.messages = messages
        self.upload_limit = upload_limit

    # Common envelope --------------------------------------------------------------------------

    def base(
        self,
        kind: int,
        user: FakeUser,
        channel: FakeChannel,
        data: dict[str, Any],
        *,
        message: dict[str, Any] | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        world = self.world
        guild = world.guild_of(channel)
        payload: dict[str, Any] = {
            "id": str(world.snowflake()),
            "application_id": str(world.application_id),
            "type": kind,
            "data": data,
            "channel_id": str(channel.id),
            "channel": {**channel.payload(), "permissions": str(world.permissions(user.id, channel))},
            "token": "fake-interaction-" + secrets.token_urlsafe(24),
            "version": 1,
            "locale": locale,
            "app_permissions": str(world.permissions(world.bot.id, channel)),
            "entitlements": [],
            "attachment_size_limit": self.upload_limit(channel),
        }
        if guild is not None:
            member = guild.members.get(user.id)
            if member is None:
                raise LookupError(f"{user.username} is not a member of {guild.name}; add them with fake.add_member()")
            payload["guild_id"] = str(guild.id)
            payload["guild"] = {"id": str(guild.id), "locale": guild.preferred_locale, "features": []}
            payload["guild_locale"] = guild.preferred_locale
            payload["member"] = {**member.payload(), "permissions": str(world.permissions(user.id, channel))}
            payload["authorizing_integration_owners"] = {"0": str(guild.id)}
            payload["context"] = GUILD_CONTEXT
        else:
            payload["user"] = user.payload()
            payload["authorizing_integration_owners"] = {"0": "0"}
            payload["context"] = BOT_DM_CONTEXT
        if message is not None:
            payload["message"] = message
        return payload

    # Application commands ---------------------------------------------------------------------

    def _command(self, name: str, kind: int, channel: FakeChannel) -> dict[str, Any]:
        guild_id = channel.guild_id
        command = self.commands.find(name, kind=kind, guild_id=guild_id)
        if command is None:
            known = ", ".join(self.commands.names(guild_id)) or "none - did the bot sync its command tree?"
            raise LookupError(f"no synced command {name!r} (type {kind}) visible in this channel; known: {known}")
        return command

    def slash(
        self,
        name: str,
        options: dict[str, Any] | list[dict[str, Any]] | None,
        user: FakeUser,
        channel: FakeChannel,
        *,
        focused: str | None = None,
    ) -> dict[str, Any]:
        """A chat-input command; ``name`` may be a path such as "music queue add"."""
        top, *path = name.split()
        command = self._command(top, CHAT_INPUT, channel)
        resolved = _Resolved()
        built = self._options(command.get("options") or [], path, options or {}, user, channel, resolved, focused)
        data: dict[str, Any] = {"id": command["id"], "name": top, "type": CHAT_INPUT, "options": built}
        if resolved.data:
            data["resolved"] = resolved.data
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        return data

    def _options(
        self,
        defs: list[dict[str, Any]],
        path: list[str],
        values: dict[str, Any] | list[dict[str, Any]],
        user: FakeUser,
        channel: FakeChannel,
        resolved: _Resolved,
        focused: str | None,
    ) -> list[dict[str, Any]]:
        subs = {d["name"]: d for d in defs if d["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)}
        if path:
            head, *rest = path
            if head not in subs:
                raise LookupError(f"no subcommand {head!r}; known: {', '.join(subs) or 'none'}")
            inner = self._options(subs[head].get("options") or [], rest, values, user, channel, resolved, focused)
            return [{"name": head, "type": subs[head]["type"], "options": inner}]
        if subs:
            raise LookupError(f"this command needs a subcommand: {', '.join(subs)}")
        if isinstance(values, list):
            return values  # raw option dicts, passed through untouched
        by_name = {d["name"]: d for d in defs}
        unknown = sorted(set(values) - set(by_name))
        if unknown:
            raise LookupError(f"unknown option(s) {unknown}; the command has {sorted(by_name)}")
        missing = [d["name"] for d in defs if d.get("required") and d["name"] not in values and focused is None]
        if missing:
            raise ValueError(f"required option(s) {missing} missing; Discord's client would not send this")
        built = []
        for d in defs:
            if d["name"] not in values:
                continue
            if d["name"] == focused:
                built.append({"name": d["name"], "type": d["type"], "value": str(values[d["name"]]), "focused": True})
            else:
                value = self._value(d, values[d["name"]], user, channel, resolved)
                built.append({"name": d["name"], "type": d["type"], "value": value})
        return built

    def _value(self, d: dict[str, Any], value: Any, user: FakeUser, channel: FakeChannel, resolved: _Resolved) -> Any:
        kind = d["type"]
        if kind == STRING:
            result: Any = str(value)
        elif kind == INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"option {d['name']!r} is an integer option; got {value!r}")
            result = value
        elif kind == NUMBER:
            result = float(value)
        elif kind == BOOLEAN:
            result = bool(value)
        elif kind == ATTACHMENT:
            return self._attachment(value, channel, resolved)
        elif kind in (USER, CHANNEL, ROLE, MENTIONABLE):
            return str(self._resolve_entity(value, user, channel, resolved))
        else:
            result = value
        choices = [c["value"] for c in d.get("choices") or []]
        if choices and result not in choices:
            raise ValueError(f"option {d['name']!r} must be one of {choices}; got {result!r}")
        return result

    def _resolve_entity(self, value: Entity, user: FakeUser, channel: FakeChannel, resolved: _Resolved) -> int:
        world = self.world
        if isinstance(value, FakeMember):
            value = value.user
        if isinstance(value, int):
            value = world.users.get(value) or world.channels.get(value) or _role(world, value) or value
        if isinstance(value, FakeUser):
            resolved.put("users", value.id, value.payload())
            guild = world.guild_of(channel)
            member = guild.members.get(value.id) if guild else None
            if member is not None:
                perms = world.permissions(value.id, channel)
                resolved.put("members", value.id, {**member.payload(with_user=False), "permissions": str(perms)})
            return value.id
        if isinstance(value, FakeRole):
            resolved.put("roles", value.id, value.payload())
            return value.id
        if isinstance(value, FakeChannel):
            data = {**value.payload(), "permissions": str(world.permissions(user.id, value))}
            resolved.put("channels", value.id, data)
            return value.id
        raise LookupError(f"unknown user/role/channel {value!r}")

    def _attachment(self, upload: Upload, channel: FakeChannel, resolved: _Resolved) -> str:
        attachment_id = self.world.snowflake()
        url = f"{self.messages.cdn_base}/attachments/{channel.id}/{attachment_id}/{upload.filename}"
        self.messages.blobs[attachment_id] = Blob(upload.data, upload.content_type)
        resolved.put(
            "attachments",
            attachment_id,
            {
                "id": str(attachment_id),
                "filename": upload.filename,
                "size": len(upload.data),
                "url": url,
                "proxy_url": url,
                "content_type": upload.content_type,
                "ephemeral": True,
            },
        )
        return str(attachment_id)

    def context_menu(
        self, name: str, kind: int, target: StoredMessage | FakeUser, channel: FakeChannel
    ) -> dict[str, Any]:
        """A user (kind 2) or message (kind 3) context-menu command on ``target``."""
        command = self._command(name, kind, channel)
        resolved = _Resolved()
        if kind == MESSAGE_COMMAND and isinstance(target, StoredMessage):
            resolved.put("messages", target.id, target.snapshot())
            target_id = target.id
        elif kind == USER_COMMAND and isinstance(target, FakeUser):
            target_id = self._resolve_entity(target, target, channel, resolved)
        else:
            raise TypeError("message commands target a message, user commands a user")
        data = {"id": command["id"], "name": name, "type": kind, "target_id": str(target_id), "resolved": resolved.data}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        return data

    # Components and modals --------------------------------------------------------------------

    def component(
        self, stored: StoredMessage, custom_id: str, values: list[Any] | None, user: FakeUser
    ) -> dict[str, Any]:
        """The ``data`` of a button click or select on a message the bot sent."""
        comp = next((c for c in walk_components(stored.data["components"]) if c.get("custom_id") == custom_id), None)
        if comp is None:
            ids = [c["custom_id"] for c in walk_components(stored.data["components"]) if "custom_id" in c]
            raise LookupError(f"message {stored.id} has no component {custom_id!r}; it has {ids}")
        if comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; a user cannot use it")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": comp["type"]}
        if "id" in comp:
            data["id"] = comp["id"]
        if comp["type"] in SELECTS:
            channel = self.world.channels[stored.channel_id]
            resolved = _Resolved()
            if comp["type"] == 3:
                options = [o["value"] for o in comp.get("options") or []]
                bad = [v for v in values or [] if v not in options]
                if bad:
                    raise ValueError(f"select {custom_id!r} has no option(s) {bad}; options: {options}")
                data["values"] = list(values or [])
            else:
                data["values"] = [str(self._resolve_entity(v, user, channel, resolved)) for v in values or []]
                data["resolved"] = resolved.data
        return data

    def modal_submit(self, modal: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """Modal submit ``data`` mirroring the modal's layout: action rows or (2.7's) label components."""
        fields = {c["custom_id"] for c in walk_components(modal.get("components") or []) if "custom_id" in c}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise LookupError(f"modal {modal.get('custom_id')!r} has no field(s) {unknown}; it has {sorted(fields)}")
        return {
            "custom_id": modal["custom_id"],
            "components": [self._submitted(c, values) for c in modal["components"]],
        }

    def _submitted(self, comp: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"type": comp["type"]}
        if "id" in comp:
            out["id"] = comp["id"]
        if comp["type"] == 1:
            out["components"] = [self._submitted(c, values) for c in comp.get("components") or []]
        elif comp["type"] == LABEL:
            out["component"] = self._submitted(comp["component"], values)
        elif "custom_id" in comp:
            out["custom_id"] = comp["custom_id"]
            out.update(_field_value(comp, values.get(comp["custom_id"])))
        return out


def _field_value(comp: dict[str, Any], value: Any) -> dict[str, Any]:
    kind = comp["type"]
    if kind == TEXT_INPUT:
        text = str(value) if value is not None else comp.get("value") or ""
        if comp.get("required", True) and not text:
            raise ValueError(f"text input {comp['custom_id']!r} is required; Discord's client would not submit")
        lo, hi = comp.get("min_length") or 0, comp.get("max_length") or 4000
        if text and not lo <= len(text) <= hi:
            raise ValueError(f"text input {comp['custom_id']!r} must be {lo}..{hi} characters")
        return {"value": text}
    if isinstance(value, bool):
        return {"value": value}
    if isinstance(value, list) or kind in SELECTS:
        if value is None:  # left as shown: the client submits the options the bot marked as default
            value = [o["value"] for o in comp.get("options") or [] if o.get("default")]
        return {"values": [str(v) for v in value or []]}
    return {"value": value}


def _role(world: World, role_id: int) -> FakeRole | None:
    for guild in world.guilds.values():
        role = guild.role(role_id)
        if role is not None:
            return role
    return None
