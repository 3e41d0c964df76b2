"""Discord's payload limits and error bodies.

The real API answers an over-long field with 400 ``{"code": 50035, "message": "Invalid Form Body",
"errors": {...}}`` where ``errors`` mirrors the payload's shape down to the bad key and ends in an
``_errors`` list. discord.py flattens that into the ``HTTPException`` text, so tests can match on it.
"""

from __future__ import annotations

from typing import Any

CONTENT_MAX = 2000
NONCE_MAX = 25  # a uuid4 string (36 chars) is too long: Discord answers 400
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
ACTION_ROWS_MAX = 5
ROW_BUTTONS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
MODAL_TITLE_MAX = 45
COMPONENTS_V2_FLAG = 1 << 15
V2_COMPONENTS_MAX = 40  # every component counts, nested ones included
V2_TEXT_MAX = 4000  # all text displays of a message together
SELECT_OPTIONS_MAX = 25
SELECT_OPTION_LABEL_MAX = 100
TEXT_DISPLAY = 10

Errors = dict[str, Any]


class DiscordError(Exception):
    """An error response in Discord's JSON shape; the REST layer turns it into the HTTP answer."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: Errors | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


def invalid_form(errors: Errors) -> DiscordError:
    return DiscordError(400, 50035, "Invalid Form Body", errors=errors)


def unknown(what: str, code: int) -> DiscordError:
    return DiscordError(404, code, f"Unknown {what}")


def _err(code: str, message: str) -> Errors:
    return {"_errors": [{"code": code, "message": message}]}


def _max_len(value: Any, limit: int) -> Errors | None:
    if isinstance(value, str) and len(value) > limit:
        return _err("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return None


def _put(errors: Errors, path: list[str | int], leaf: Errors) -> None:
    node = errors
    for key in path:
        node = node.setdefault(str(key), {})
    node.update(leaf)


def _embed_errors(embeds: list[Any], errors: Errors) -> None:
    if len(embeds) > EMBEDS_MAX:
        _put(errors, ["embeds"], _err("BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length."))
        return
    total = 0
    for i, embed in enumerate(embeds):
        checks: list[tuple[list[str | int], Any, int]] = [
            (["title"], embed.get("title"), EMBED_TITLE_MAX),
            (["description"], embed.get("description"), EMBED_DESCRIPTION_MAX),
            (["footer", "text"], (embed.get("footer") or {}).get("text"), EMBED_FOOTER_MAX),
            (["author", "name"], (embed.get("author") or {}).get("name"), EMBED_AUTHOR_MAX),
        ]
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            _put(errors, ["embeds", i, "fields"], _err("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
        for j, fld in enumerate(fields):
            checks.append((["fields", j, "name"], fld.get("name"), EMBED_FIELD_NAME_MAX))
            checks.append((["fields", j, "value"], fld.get("value"), EMBED_FIELD_VALUE_MAX))
        for path, value, limit in checks:
            total += len(value) if isinstance(value, str) else 0
            problem = _max_len(value, limit)
            if problem:
                _put(errors, ["embeds", i, *path], problem)
    if total > EMBED_TOTAL_MAX:
        _put(
            errors, ["embeds"], _err("MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}")
        )


def _walk_components(components: list[Any], path: list[str | int], errors: Errors, seen: set[str]) -> None:
    for i, comp in enumerate(components):
        here = [*path, i]
        custom_id = comp.get("custom_id")
        if isinstance(custom_id, str):
            problem = _max_len(custom_id, CUSTOM_ID_MAX)
            if problem:
                _put(errors, [*here, "custom_id"], problem)
            elif custom_id in seen:
                _put(
                    errors,
                    [*here, "custom_id"],
                    _err("COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"),
                )
            seen.add(custom_id)
        if comp.get("type") == 2:
            problem = _max_len(comp.get("label"), BUTTON_LABEL_MAX)
            if problem:
                _put(errors, [*here, "label"], problem)
        if comp.get("type") == 3:
            options = comp.get("options") or []
            if not 1 <= len(options) <= SELECT_OPTIONS_MAX:
                _put(errors, [*here, "options"], _err("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length."))
            for n, option in enumerate(options):
                problem = _max_len(option.get("label"), SELECT_OPTION_LABEL_MAX)
                if problem:
                    _put(errors, [*here, "options", n, "label"], problem)
        children = comp.get("components")
        if isinstance(children, list):
            if comp.get("type") == 1 and len(children) > ROW_BUTTONS_MAX:
                _put(errors, [*here, "components"], _err("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."))
            _walk_components(children, [*here, "components"], errors, seen)
        for key in ("accessory", "component"):
            child = comp.get(key)
            if isinstance(child, dict):
                _walk_components([child], [*here, key], errors, seen)


def message_errors(payload: dict[str, Any]) -> Errors:
    """Return Discord's form errors for a message create/edit payload ({} when it is valid)."""
    errors: Errors = {}
    problem = _max_len(payload.get("content"), CONTENT_MAX)
    if problem:
        errors["content"] = problem
    problem = _max_len(payload.get("nonce"), NONCE_MAX)
    if problem:
        errors["nonce"] = problem
    embeds = payload.get("embeds")
    if isinstance(embeds, list):
        _embed_errors(embeds, errors)
    components = payload.get("components")
    v2 = bool(int(payload.get("flags") or 0) & COMPONENTS_V2_FLAG)
    if isinstance(components, list):
        if not v2 and len(components) > ACTION_ROWS_MAX:
            _put(errors, ["components"], _err("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."))
        _walk_components(components, ["components"], errors, set())
        if v2:
            everything = list(walk_all(components))
            if len(everything) > V2_COMPONENTS_MAX:
                _put(errors, ["components"], _err("BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in length."))
            text = sum(len(c.get("content") or "") for c in everything if c.get("type") == TEXT_DISPLAY)
            if text > V2_TEXT_MAX:
                _put(errors, ["components"], _err("COMPONENT_TEXT_TOO_LONG", "Text displays must total 4000 or fewer."))
    if v2:
        # A Components V2 message is made of components only.
        for key in ("content", "embeds"):
            if payload.get(key):
                _put(errors, [key], _err("MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                                         f"The '{key}' field cannot be used when using MessageFlags.IS_COMPONENTS_V2"))
    return errors


def walk_all(components: list[Any]) -> Any:
    """Every component of a tree, depth first: children, a section's accessory, a label's component."""
    for comp in components:
        if not isinstance(comp, dict):
            continue
        yield comp
        children = comp.get("components")
        if isinstance(children, list):
            yield from walk_all(children)
        for key in ("accessory", "component"):
            child = comp.get(key)
            if isinstance(child, dict):
                yield from walk_all([child])


def is_empty_message(payload: dict[str, Any], *, has_files: bool) -> bool:
    """Discord refuses a new message with nothing visible in it (50006)."""
    return not (
        payload.get("content")
        or payload.get("embeds")
        or payload.get("components")
        or payload.get("sticker_ids")
        or payload.get("poll")
        or has_files
    )


def modal_errors(data: dict[str, Any]) -> Errors:
    """Return form errors for a modal callback's ``data``."""
    errors: Errors = {}
    for key, limit in (("title", MODAL_TITLE_MAX), ("custom_id", CUSTOM_ID_MAX)):
        problem = _max_len(data.get(key), limit)
        if problem:
            errors[key] = problem
    components = data.get("components") or []
    if len(components) > ACTION_ROWS_MAX:
        errors["components"] = _err("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    _walk_components(components, ["components"], errors, set())
    return errors


def empty_message() -> DiscordError:
    return DiscordError(400, 50006, "Cannot send an empty message")


def too_large() -> DiscordError:
    return DiscordError(413, 40005, "Request entity too large")


def missing_permissions() -> DiscordError:
    return DiscordError(403, 50013, "Missing Permissions")


def missing_access() -> DiscordError:
    return DiscordError(403, 50001, "Missing Access")
