"""aiohttp routes of the simulated CometAPI: auth, request log and faults wrap every handler."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aiohttp import web

from . import _render, conversions, tools
from ._build import UDIO_SECONDS
from ._model import TERMINAL, Status, Task
from .faults import (
    HTML_BODY,
    MALFORMED_BODY,
    RELAY_429,
    Fault,
    Faults,
    format_retry_after,
    gateway_error,
    relay_error,
    status_body,
)
from .media import MediaStore
from .relay import UPSTREAM_REFUSAL_CODE, UPSTREAM_REFUSAL_MESSAGE, without_task
from .state import SimState

log = logging.getLogger(__name__)

UDIO_LYRICS_TYPES = frozenset({"user", "generate", "instrumental"})


class RecordedRequest(NamedTuple):
    """What the simulator saw of one request (never the key itself)."""

    endpoint: str
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorized: bool
    # When it arrived (time.monotonic()), e.g. to check that no task is fetched twice within one poll interval.
    at: float = 0.0


@dataclass(slots=True)
class SimContext:
    """Everything the routes share; one per simulator."""

    api_key: str
    state: SimState
    faults: Faults
    media: MediaStore
    requests: list[RecordedRequest] = field(default_factory=list)
    record: bool = True
    closing: asyncio.Event = field(default_factory=asyncio.Event)


CONTEXT = web.AppKey("chorus_simulator", SimContext)
Handler = Callable[[web.Request, SimContext, Any], Awaitable[web.StreamResponse]]
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(text=_render.dumps(body), status=status, content_type="application/json")


def _success(data: object) -> web.Response:
    return _json({"code": "success", "message": "", "data": data})


def _invalid(message: str) -> web.Response:
    return _json(gateway_error("invalid_request", message), 400)


def _bearer(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _authorized(request: web.Request, key: str) -> bool:
    token = _bearer(request)
    return bool(token) and hmac.compare_digest(token.encode(), key.encode())


def _web_page() -> web.Response:
    """What the relay's web UI answers for a path no API route serves: 200 and an HTML page."""
    return web.Response(text=HTML_BODY, content_type="text/html")


async def _read_json(request: web.Request) -> tuple[Any, bool]:
    """Return (parsed body, is a JSON object); GET requests have no body to check."""
    if request.method != "POST":
        return None, True
    try:
        body = json.loads(await request.text())
    except ValueError:
        return None, False
    return body, isinstance(body, dict)


def _drop(request: web.Request) -> web.Response:
    """Close the connection without answering (what a reset looks like to the client)."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=503)  # never sent: the transport is gone


async def _apply(request: web.Request, ctx: SimContext, fault: Fault, endpoint: str) -> web.StreamResponse | None:
    """Answer with `fault`, or return None to let the request through (after a "hang" ends)."""
    kind = fault.kind
    response: web.Response
    if kind == "hang":
        try:
            await asyncio.wait_for(ctx.closing.wait(), timeout=fault.hang_seconds)
        except TimeoutError:
            return None
        return _drop(request)  # the server is stopping
    if kind == "reset":
        return _drop(request)
    if isinstance(kind, int):
        response = _json(status_body(kind), kind)
        if kind == 429 and fault.retry_after is not None:
            response.headers["Retry-After"] = format_retry_after(fault.retry_after)
    elif kind == "malformed":
        response = web.Response(text=MALFORMED_BODY, content_type="application/json")
    elif kind == "html":
        response = _web_page()
    elif kind == "null_data":
        response = _json({"songs": None}) if endpoint == "udio_query" else _success(None)
    else:  # "relay_429"
        response = _json(RELAY_429, 429)
    response.headers.update(fault.headers)
    return response


def endpoint(name: str, *, auth: bool = True) -> Callable[[Handler], Route]:
    """Wrap a handler: log the request, play the next fault, check the key, then parse the body."""

    def wrap(handler: Handler) -> Route:
        async def route(request: web.Request) -> web.StreamResponse:
            ctx = request.app[CONTEXT]
            body, valid = await _read_json(request)
            authorized = _authorized(request, ctx.api_key)
            if ctx.record:
                query = dict(request.query)
                ctx.requests.append(
                    RecordedRequest(name, request.method, request.path, query, body, authorized, time.monotonic())
                )
            fault = ctx.faults.take(name)
            if fault is not None:
                response = await _apply(request, ctx, fault, name)
                if response is not None:
                    return response
            relay = ctx.state.relay
            if name in relay.switched_off:
                return _web_page()  # the route is gone, so the web UI's catch-all answers, before any auth
            if auth and _bearer(request) in relay.used_up_keys:
                return _json(gateway_error("", relay.used_up_text(_bearer(request))), 401)
            if auth and not authorized:
                return _json(status_body(401), 401)
            if name in relay.upstream_refuses:
                return _json(relay_error(UPSTREAM_REFUSAL_CODE, UPSTREAM_REFUSAL_MESSAGE), 500)
            if not valid:
                return _invalid("invalid request body")
            return await handler(request, ctx, body)

        return route

    return wrap


@endpoint("submit_music")
async def submit_music(request: web.Request, ctx: SimContext, body: dict[str, Any]) -> web.Response:
    """POST /suno/submit/music."""
    if body.get("continue_clip_id") and not body.get("task_id"):
        # new-api relays route an extend to the original task's account, so they insist on task_id.
        return _json(relay_error("invalid_request", "task id is empty"), 400)
    refused = _refused_submit(ctx, body)
    if refused is not None:
        return refused
    if not ctx.state.charge(tools.price(body, "MUSIC")):
        return _json(_NO_QUOTA, 403)
    relay = ctx.state.relay
    if body.get("task") in relay.ignored_tasks:
        body = without_task(body)  # the upstream makes an ordinary song of what is left
    if body.get("task") == "gen_stem":
        stems = ctx.state.add(tools.stems(ctx.state, body))
        return _json(_raw_stems(stems)) if relay.stems_answer == "raw" else _success(stems.id)
    # The task keeps what the upstream saw: the relay's rebuilt body, not what the client sent (see ctx.requests).
    return _success(ctx.state.submit_music(relay.forwarded(body)).id)


# The models the cover and upload_extend routes accept (shared/api §2.1: v4, v4.5, v4.5+).
COVER_MODELS = frozenset({"chirp-v4", "chirp-auk", "chirp-bluejay"})
COVER_TASKS = frozenset({"cover", "upload_extend"})


def _refused_submit(ctx: SimContext, body: dict[str, Any]) -> web.Response | None:
    """A cover with a model its route does not take, or (relay) an upload named as `continue_clip_id` other than by
    `upload_extend`: the 400s the route and the relay answer, before anything is charged."""
    task = body.get("task")
    if task in COVER_TASKS and body.get("mv") not in COVER_MODELS:
        return _json(relay_error("invalid_request", f"mv {body.get('mv')} is not supported for {task}"), 400)
    source = ctx.state.clips.get(str(body.get("continue_clip_id") or ""))
    if ctx.state.relay.upload_origin_check and source is not None and source[0].kind == "upload" \
            and task != "upload_extend":
        return _json(relay_error("task_not_exist", "task_origin_not_exist"), 400)
    return None


def _raw_stems(task: Task) -> dict[str, Any]:
    """The raw Suno answer to a stem separation, as CometAPI's stems page shows it: no task id (fixtures)."""
    clips = [{"id": clip.id, "entity_type": "song_schema", "video_url": "", "audio_url": "", "major_model_version": "",
              "model_name": clip.model_name, "status": "submitted", "title": clip.title,
              "metadata": {"prompt": "", "stem_from_id": clip.parent_id, "stem_type_id": 91}} for clip in task.clips]
    return {"id": str(uuid.uuid4()), "clips": clips, "metadata": {"create_mode": "custom"}, "major_model_version": "",
            "status": "complete", "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "batch_size": 1}


@endpoint("submit_lyrics")
async def submit_lyrics(request: web.Request, ctx: SimContext, body: dict[str, Any]) -> web.Response:
    """POST /suno/submit/lyrics."""
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return _json(relay_error("invalid_request", "prompt_empty"), 400)
    if not ctx.state.charge(tools.price(body, "LYRICS")):
        return _json(_NO_QUOTA, 403)
    return _success(ctx.state.submit_lyrics(prompt).id)


@endpoint("submit_concat")
async def submit_concat(request: web.Request, ctx: SimContext, body: dict[str, Any]) -> web.Response:
    """POST /suno/submit/concat."""
    clip_id = body.get("clip_id")
    if not isinstance(clip_id, str) or not clip_id:
        return _invalid("clip_id is required")
    return _success(ctx.state.submit_concat(clip_id, body).id)


@endpoint("fetch")
async def fetch(request: web.Request, ctx: SimContext, body: None) -> web.Response:
    """GET /suno/fetch/{task_id}."""
    task = ctx.state.get(request.match_info["task_id"])
    if task is None or task.provider != "suno":
        conversion = conversions.fetched_conversion(ctx.state, request.match_info["task_id"], _base(request))
        if conversion is not None:
            return _success(conversion)  # a WAV/MP4 made on demand (relay act_answers "task")
        return _json(relay_error("task_not_exist", "task_not_exist"), 400)
    text = _render.suno_task(ctx.state, task, _base(request), ctx.state.clock())
    return web.Response(text=f'{{"code":"success","message":"","data":{text}}}', content_type="application/json")


@endpoint("batch_fetch")
async def batch_fetch(request: web.Request, ctx: SimContext, body: dict[str, Any]) -> web.Response:
    """POST /suno/fetch: unknown ids are left out and `action` is ignored, as in the real relay."""
    ids = body.get("ids")
    if ids is None:
        ids = []
    if not isinstance(ids, list):
        return _invalid("ids must be an array")
    state, base, now = ctx.state, _base(request), ctx.state.clock()
    found = (state.tasks.get(i) for i in dict.fromkeys(i for i in ids if isinstance(i, str)))
    texts = [_render.suno_task(state, t, base, now) for t in found
             if t is not None and t.provider == "suno" and conversions.listed(state, t)]
    texts.reverse()  # the relay promises no order; a fixed different one makes order bugs reproducible
    if not texts and ids and state.relay.null_unknown_batch:
        return _success(None)  # the relay's answer when it knows none of the ids (an empty list gives [])
    payload = '{"code":"success","message":"","data":[' + ",".join(texts) + "]}"
    return web.Response(text=payload, content_type="application/json")


@endpoint("udio_generate")
async def udio_generate(request: web.Request, ctx: SimContext, body: dict[str, Any]) -> web.Response:
    """POST /udio/generate-proxy."""
    params = body.get("gen_params")
    if not isinstance(params, dict):
        return _invalid("gen_params is required")
    if params.get("model_type") not in UDIO_SECONDS:
        return _invalid(f"invalid model_type, expected one of {sorted(UDIO_SECONDS)}")
    if params.get("lyrics_type") not in UDIO_LYRICS_TYPES:
        return _invalid(f"invalid lyrics_type, expected one of {sorted(UDIO_LYRICS_TYPES)}")
    if not isinstance(params.get("prompt", ""), str) or not isinstance(params.get("lyrics", ""), str):
        return _invalid("prompt and lyrics must be strings")
    return _success(ctx.state.submit_udio(params).id)


@endpoint("udio_query")
async def udio_query(request: web.Request, ctx: SimContext, body: None) -> web.Response:
    """GET /udio/query?ids=a,b: generation ids give both songs, song ids give one; no code wrapper."""
    state, base, now = ctx.state, _base(request), ctx.state.clock()
    songs: dict[str, str] = {}
    groups: list[tuple[Status, list[str]]] = []  # per id asked: its task's status and songs
    for raw in request.query.get("ids", "").split(","):
        key = raw.strip()
        task = state.tasks.get(key)
        if task is not None and task.provider == "udio":
            texts = _render.udio_songs(state, task, base, now)
            songs.update((s.id, text) for s, text in zip(task.clips, texts, strict=True))
            groups.append((state.phase(task, now)[0], texts))
        elif key in state.clips and state.clips[key][1].provider == "udio":
            owner = state.clips[key][1]
            index = next(i for i, s in enumerate(owner.clips) if s.id == key)
            songs[key] = _render.udio_songs(state, owner, base, now)[index]
            groups.append((state.phase(owner, now)[0], [songs[key]]))
    if state.relay.udio_nested:
        return _nested_udio(groups)
    return web.Response(text='{"songs":[' + ",".join(songs.values()) + "]}", content_type="text/plain")


def _nested_udio(groups: list[tuple[Status, list[str]]]) -> web.Response:
    """A sibling gateway's /udio/query: `{code, data: {status, data: [{songs}]}}`, `data: null` when none known."""
    if not groups:
        return _success(None)
    status = "IN_PROGRESS" if any(s not in TERMINAL for s, _ in groups) else "SUCCESS"
    items = ",".join('{"songs":[' + ",".join(texts) + "]}" for _, texts in groups)
    payload = f'{{"code":"success","message":"","data":{{"status":"{status}","data":[{items}]}}}}'
    return web.Response(text=payload, content_type="application/json")


@endpoint("media", auth=False)
async def media_file(request: web.Request, ctx: SimContext, body: None) -> web.StreamResponse:
    """GET /media/{name}: mp3, mp4 and cover PNGs, like the CDN (no auth); a stalling link sends its first bytes and
    then nothing, its connection open, until the simulator stops."""
    name = request.match_info["name"]
    found = ctx.media.file(name)
    stall = ctx.media.stalls(name)
    if found is None or stall is None:
        return _media(found)
    content_type, data = found
    response = web.StreamResponse(headers={"Content-Type": content_type, "Content-Length": str(len(data))})
    await response.prepare(request)
    await response.write(data[:stall])
    await ctx.closing.wait()
    return response


@endpoint("media", auth=False)
async def media_stream(request: web.Request, ctx: SimContext, body: None) -> web.Response:
    """GET /media/stream/{clip_id}: the preview audio while a clip is streaming."""
    return _media(ctx.media.stream(request.match_info["clip_id"]))


def _media(found: tuple[str, bytes] | None) -> web.Response:
    if found is None:
        return web.Response(status=404, text="Not Found")
    content_type, data = found
    return web.Response(body=data, content_type=content_type)


_NO_QUOTA = {"code": "quota_not_enough", "message": "user quota is not enough", "data": None}
_CLIP_NOT_READY = "clip is not complete"


def _refused_charge(ctx: SimContext) -> web.Response | None:
    """Charge a take tool, persona or upload its made-up price (tools.TOOL_PRICE); the quota answer if unpaid."""
    return None if ctx.state.charge(tools.TOOL_PRICE) else _json(_NO_QUOTA, 403)


def _clip_or_error(ctx: SimContext, request: web.Request) -> tuple[Any, web.Response | None]:
    found = tools.complete_clip(ctx.state, request.match_info["clip_id"])
    if found is None:
        return None, _json(relay_error("invalid_request", _CLIP_NOT_READY), 400)
    return found[0], None


@endpoint("wav")
async def act_wav(request: web.Request, ctx: SimContext, body: None) -> web.Response:
    """GET /suno/act/wav/{clip_id}: the lossless WAV link of a complete clip."""
    clip, error = _clip_or_error(ctx, request)
    return error or _refused_charge(ctx) or _json(conversions.act_answer(ctx.state, "wav", clip, _base(request)))


@endpoint("mp4")
async def act_mp4(request: web.Request, ctx: SimContext, body: None) -> web.Response:
    """GET /suno/act/mp4/{clip_id}: the video link of a complete clip."""
    clip, error = _clip_or_error(ctx, request)
    return error or _refused_charge(ctx) or _json(conversions.act_answer(ctx.state, "mp4", clip, _base(request)))


@endpoint("timing")
async def act_timing(request: web.Request, ctx: SimContext, body: None) -> web.Response:
    """GET /suno/act/timing/{clip_id}: word timing, only once the clip is complete."""
    clip, error = _clip_or_error(ctx, request)
    return error or _refused_charge(ctx) or _json(tools.timing(clip))


@endpoint("midi")
async def act_midi(request: web.Request, ctx: SimContext, body: None) -> web.Response:
    """GET /suno/act/midi/{clip_id}: "running" for a while, then the transcription."""
    clip, error = _clip_or_error(ctx, request)
    if error:
        return error
    # One transcription is charged once, on the first ask; the polls after it are free here (a guess, too).
    refused = _refused_charge(ctx) if clip.id not in ctx.state.midi_polls else None
    return refused or _json(tools.midi(ctx.state, clip))


@endpoint("tags")
async def act_tags(request: web.Request, ctx: SimContext, body: dict[str, Any]) -> web.Response:
    """POST /suno/act/tags: a richer style description (raw answer, no envelope)."""
    original = body.get("original_tags")
    if not isinstance(original, str) or not original.strip():
        return _invalid("original_tags is required")
    if refused := _refused_charge(ctx):
        return refused
    richer = f"{original.strip()}, warm analog production, expressive vocals, wide stereo, punchy mix"
    return _json({"upsampled_tags": richer, "request_id": ctx.state.new_id()})


@endpoint("persona")
async def persona_create(request: web.Request, ctx: SimContext, body: dict[str, Any]) -> web.Response:
    """POST /suno/persona/create: the raw persona JSON."""
    root = body.get("root_clip_id")
    if not isinstance(root, str) or tools.complete_clip(ctx.state, root) is None:
        return _invalid("root_clip_id is not a complete generated clip")
    if refused := _refused_charge(ctx):
        return refused
    made = tools.persona(ctx.state, body)
    return _json(made) if made is not None else _invalid("root_clip_id is not a complete generated clip")


@endpoint("upload")
async def upload_audio(request: web.Request, ctx: SimContext, body: dict[str, Any]) -> web.Response:
    """POST /suno/uploads/audio-url: registers external audio as a task with one "upload" clip."""
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _invalid("url must be a public http(s) URL")
    if refused := _refused_charge(ctx):
        return refused
    return _success(conversions.upload_answer(ctx.state, ctx.state.add(tools.upload(ctx.state, url))))


@endpoint("quota", auth=False)
async def user_quota(request: web.Request, ctx: SimContext, body: None) -> web.Response:
    """GET /user/quota?key=: the balance host (auth by query parameter)."""
    if not hmac.compare_digest(request.query.get("key", "").encode(), ctx.api_key.encode()):
        return _json(status_body(401), 401)
    return _json(tools.quota(ctx.state))


def _base(request: web.Request) -> str:
    """Scheme and host the client used, so result URLs work on any port."""
    return f"{request.scheme}://{request.host}"


@web.middleware
async def _catch_all(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
    """With the relay's catch-all on, a path no route serves gets the web UI's page (200 HTML), not a 404."""
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        ctx = request.app[CONTEXT]
        if not ctx.state.relay.html_catch_all:
            raise
        if ctx.record:
            body, _ = await _read_json(request)
            authorized = _authorized(request, ctx.api_key)
            ctx.requests.append(
                RecordedRequest("unknown", request.method, request.path, dict(request.query), body, authorized)
            )
        return _web_page()


def create_app(ctx: SimContext) -> web.Application:
    """Build the aiohttp application around a simulator context."""
    app = web.Application(middlewares=[_catch_all])
    app[CONTEXT] = ctx
    app.router.add_post("/suno/submit/music", submit_music)
    app.router.add_post("/suno/submit/lyrics", submit_lyrics)
    app.router.add_post("/suno/submit/concat", submit_concat)
    app.router.add_get("/suno/fetch/{task_id}", fetch)
    app.router.add_post("/suno/fetch", batch_fetch)
    app.router.add_post("/udio/generate-proxy", udio_generate)
    app.router.add_get("/udio/query", udio_query)
    app.router.add_get("/suno/act/wav/{clip_id}", act_wav)
    app.router.add_get("/suno/act/mp4/{clip_id}", act_mp4)
    app.router.add_get("/suno/act/timing/{clip_id}", act_timing)
    app.router.add_get("/suno/act/midi/{clip_id}", act_midi)
    app.router.add_post("/suno/act/tags", act_tags)
    app.router.add_post("/suno/persona/create", persona_create)
    app.router.add_post("/suno/uploads/audio-url", upload_audio)
    app.router.add_get("/user/quota", user_quota)
    app.router.add_get("/media/stream/{clip_id}", media_stream)
    app.router.add_get("/media/{name}", media_file)

    async def wake_hanging(_: web.Application) -> None:
        ctx.closing.set()

    app.on_shutdown.append(wake_hanging)
    return app
