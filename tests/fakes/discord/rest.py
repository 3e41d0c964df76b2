"""The fake REST API: an aiohttp app whose middleware records every request and applies faults.

Only ``/api/v10/...`` is the API; ``/gateway`` (websocket) and ``/attachments/...`` (CDN) sit beside it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, hdrs, web

from .faults import Fault
from .limits import DiscordError, invalid_form, is_empty_message, message_errors
from .recorder import Recorded, RecordedFile
from .state import FakeState

API_PREFIX = "/api/v10"
MAX_BODY = 512 * 1024 * 1024  # far above any upload limit, so the fake (not aiohttp) decides on 413
PUBLIC_PREFIXES = ("/webhooks/", "/interactions/")  # authorised by the token in the URL, not a header


@dataclass(frozen=True, slots=True)
class Body:
    """A parsed request body: JSON (or multipart ``payload_json``), uploaded files and text for leak checks."""

    json: Any
    files: list[RecordedFile]
    text: str


BODY = web.RequestKey("body", Body)


def body_of(request: web.Request) -> Body:
    return request[BODY]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with a bare ``application/json`` type: discord.py compares the header verbatim and would
    treat ``application/json; charset=utf-8`` (aiohttp's default) as plain text."""
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={**(headers or {}), "Content-Type": "application/json"}
    )


def json_of(request: web.Request) -> dict[str, Any]:
    """The JSON object body, or a 400 if the bot sent something else."""
    data = body_of(request).json
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise invalid_form({"_errors": [{"code": "DICT_TYPE_CONVERT", "message": "Only dictionaries may be used"}]})
    return data


def snowflake(request: web.Request, key: str) -> int:
    raw = request.match_info[key]
    if not raw.isdigit():
        raise invalid_form(
            {key: {"_errors": [{"code": "NUMBER_TYPE_COERCE", "message": f"Value {raw!r} is not snowflake."}]}}
        )
    return int(raw)


def ok(data: Any, status: int = 200) -> web.Response:
    return json_response(data, status)


def no_content() -> web.Response:
    return web.Response(status=204)


def message_checks(payload: dict[str, Any], files: list[RecordedFile], limit: int, *, nest: str | None = None) -> None:
    """413 for uploads over ``limit``, then Discord's form checks; ``nest`` wraps errors (callbacks use "data")."""
    if sum(f.size for f in files) > limit:
        raise DiscordError(413, 40005, "Request entity too large")
    errors = message_errors(payload)
    if errors:
        raise invalid_form({nest: errors} if nest else errors)


def check_new_message(
    payload: dict[str, Any], files: list[RecordedFile], limit: int, *, nest: str | None = None
) -> None:
    message_checks(payload, files, limit, nest=nest)
    if is_empty_message(payload, has_files=bool(files)):
        raise DiscordError(400, 50006, "Cannot send an empty message")


async def read_body(request: web.Request) -> Body:
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        payload: Any = None
        files: list[RecordedFile] = []
        texts: list[str] = []
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            raw = bytes(await part.read(decode=False))
            texts.append(raw.decode("utf-8", "replace"))
            if part.name == "payload_json":
                payload = _parse_json(raw)
            elif part.filename is not None:
                content_type = part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
                files.append(RecordedFile(part.filename, len(raw), content_type, raw, part.name or ""))
        return Body(payload, files, "\n".join(texts))
    raw = await request.read()
    if not raw:
        return Body(None, [], "")
    parsed = _parse_json(raw) if request.content_type == "application/json" else None
    return Body(parsed, [], raw.decode("utf-8", "replace"))


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise DiscordError(400, 50109, "The request body contains invalid JSON.") from None


def _error_response(error: DiscordError) -> web.Response:
    return json_response(error.body(), status=error.status, headers=error.headers)


def _fault_response(fault: Fault) -> web.Response:
    if isinstance(fault.body, str):
        return web.Response(text=fault.body, status=fault.status, headers=fault.headers)
    return json_response(fault.body, status=fault.status, headers=fault.headers)


def _ratelimit_headers(request: web.Request) -> dict[str, str]:
    # Generous, stable buckets: discord.py exercises its bucket code but never has to wait.
    resource = request.match_info.route.resource
    route = f"{request.method} {resource.canonical if resource else request.path}"
    return {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": "49",
        "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
        "X-RateLimit-Reset-After": "1.000",
        "X-RateLimit-Bucket": hashlib.sha1(route.encode(), usedforsecurity=False).hexdigest()[:16],
    }


def build_middleware(state: FakeState) -> Any:
    """Record, fault, authenticate and answer every API request."""

    async def answer(request: web.Request, handler: Any, path: str) -> web.StreamResponse:
        if state.settings.latency:
            await asyncio.sleep(state.settings.latency)  # the request is on its way: Discord acts on arrival
        fault = state.faults.take(request.method, path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            return _fault_response(fault)
        try:
            if (
                not path.startswith(PUBLIC_PREFIXES)
                and request.headers.get(hdrs.AUTHORIZATION) != f"Bot {state.settings.token}"
            ):
                return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
            response: web.StreamResponse = await handler(request)
        except DiscordError as error:
            return _error_response(error)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
            # An unimplemented route shows up in fake.requests as a 404 with this body.
            return json_response({"message": "404: Not Found", "code": 0, "fake": "route not implemented"}, status=404)
        if state.settings.rate_limit_headers and 200 <= response.status < 300:
            response.headers.update(_ratelimit_headers(request))
        return response

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)  # type: ignore[no-any-return]
        path = request.path[len(API_PREFIX) :]
        try:
            body = await read_body(request)
            request[BODY] = body
            response = await answer(request, handler, path)
        except DiscordError as error:
            body, response = Body(None, [], ""), _error_response(error)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        state.recorder.add(
            Recorded(
                method=request.method,
                path=path,
                query=dict(request.query),
                json=body.json,
                files=body.files,
                headers=headers,
                authorization=request.headers.get(hdrs.AUTHORIZATION),
                status=response.status,
                response=_response_json(response),
                body_text=body.text,
                at=asyncio.get_running_loop().time(),
            )
        )
        return response

    return middleware


def _response_json(response: web.StreamResponse) -> Any:
    if isinstance(response, web.Response) and response.content_type == "application/json" and response.body:
        return json.loads(bytes(response.body))  # type: ignore[arg-type]
    return None


def build_app(state: FakeState) -> web.Application:
    """The aiohttp application with every fake route registered."""
    # Imported here: the route modules import helpers from this one.
    from .routes_bot import add_bot_routes
    from .routes_interactions import add_interaction_routes

    app = web.Application(middlewares=[build_middleware(state)], client_max_size=MAX_BODY)
    add_bot_routes(app, state, API_PREFIX)
    add_interaction_routes(app, state, API_PREFIX)

    async def cdn(request: web.Request) -> web.StreamResponse:
        blob = state.messages.blobs.get(snowflake(request, "attachment_id"))
        if blob is None:
            raise web.HTTPNotFound()
        return web.Response(body=blob.data, content_type=blob.content_type)

    app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", cdn)
    return app
