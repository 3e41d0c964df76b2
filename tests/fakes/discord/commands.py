"""Application commands synced by the bot, checked against Discord's registration rules."""

from __future__ import annotations

import copy
import re
from typing import Any

from .limits import DiscordError, Errors, invalid_form
from .world import World

CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
# Discord allows Unicode letters too; ASCII is enough for a bot under test and catches typos.
CHAT_NAME = re.compile(r"[-_'a-z0-9]{1,32}")
MAX_OPTIONS = 25


def _err(code: str, message: str) -> Errors:
    return {"_errors": [{"code": code, "message": message}]}


def _option_errors(options: list[dict[str, Any]]) -> Errors:
    errors: Errors = {}
    if len(options) > MAX_OPTIONS:
        return {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 25 or fewer in length."}]}
    seen_optional = False
    for i, opt in enumerate(options):
        problems: Errors = {}
        if not CHAT_NAME.fullmatch(str(opt.get("name", ""))):
            problems["name"] = _err("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        if not 1 <= len(opt.get("description") or "") <= 100:
            problems["description"] = _err("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        if len(opt.get("choices") or []) > MAX_OPTIONS:
            problems["choices"] = _err("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if opt.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
            nested = _option_errors(opt.get("options") or [])
            if nested:
                problems["options"] = nested
        elif opt.get("required"):
            if seen_optional:
                problems["required"] = _err(
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        if problems:
            errors[str(i)] = problems
    return errors


def command_errors(commands: list[dict[str, Any]]) -> Errors:
    """Return form errors for a bulk-overwrite payload ({} when Discord would accept it)."""
    errors: Errors = {}
    seen: set[tuple[int, str]] = set()
    for i, cmd in enumerate(commands):
        problems: Errors = {}
        kind = int(cmd.get("type") or CHAT_INPUT)
        name = str(cmd.get("name", ""))
        if kind == CHAT_INPUT:
            if not CHAT_NAME.fullmatch(name):
                problems["name"] = _err("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
            if not 1 <= len(cmd.get("description") or "") <= 100:
                problems["description"] = _err("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            options = _option_errors(cmd.get("options") or [])
            if options:
                problems["options"] = options
        elif not 1 <= len(name) <= 32:
            problems["name"] = _err("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
        if (kind, name) in seen:
            problems["name"] = _err(
                "APPLICATION_COMMANDS_DUPLICATE_NAME", f"Application command names must be unique: {name}"
            )
        seen.add((kind, name))
        if problems:
            errors[str(i)] = problems
    return errors


class CommandRegistry:
    """Global commands (scope None) and per-guild commands, with ids that survive re-syncs."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._scopes: dict[int | None, list[dict[str, Any]]] = {}
        self._ids: dict[tuple[int | None, int, str], int] = {}
        self.sync_count = 0

    def bulk_overwrite(self, scope: int | None, payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replace every command in ``scope`` (a guild id, or None for global) as Discord's PUT does."""
        if not isinstance(payload, list):
            raise DiscordError(400, 50035, "Invalid Form Body", errors=_err("LIST_TYPE_CONVERT", "Must be a list."))
        errors = command_errors(payload)
        if errors:
            raise invalid_form(errors)
        stored = [self._complete(scope, cmd) for cmd in payload]
        self._scopes[scope] = stored
        self.sync_count += 1
        return copy.deepcopy(stored)

    def list_commands(self, scope: int | None) -> list[dict[str, Any]]:
        return copy.deepcopy(self._scopes.get(scope, []))

    def find(self, name: str, *, kind: int = CHAT_INPUT, guild_id: int | None = None) -> dict[str, Any] | None:
        """A command as a client in ``guild_id`` would see it: guild commands first, then global."""
        for scope in (guild_id, None) if guild_id is not None else (None,):
            for cmd in self._scopes.get(scope, []):
                if cmd["name"] == name and cmd["type"] == kind:
                    return cmd
        return None

    def names(self, guild_id: int | None) -> list[str]:
        scopes = (guild_id, None) if guild_id is not None else (None,)
        return sorted({cmd["name"] for scope in scopes for cmd in self._scopes.get(scope, [])})

    def _complete(self, scope: int | None, cmd: dict[str, Any]) -> dict[str, Any]:
        kind = int(cmd.get("type") or CHAT_INPUT)
        key = (scope, kind, cmd["name"])
        command_id = self._ids.setdefault(key, self.world.snowflake())
        data = {
            "id": str(command_id),
            "application_id": str(self.world.application_id),
            "version": str(self.world.snowflake()),
            "type": kind,
            "name": cmd["name"],
            "name_localizations": cmd.get("name_localizations"),
            "description": cmd.get("description") or "",
            "description_localizations": cmd.get("description_localizations"),
            "options": copy.deepcopy(cmd.get("options") or []),
            "default_member_permissions": _opt_str(cmd.get("default_member_permissions")),
            "contexts": cmd.get("contexts"),
            "integration_types": cmd.get("integration_types") or [0],
            "nsfw": bool(cmd.get("nsfw", False)),
        }
        if scope is None:
            data["dm_permission"] = cmd.get("dm_permission", True)
        else:
            data["guild_id"] = str(scope)
        return data


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
