"""Render tasks as the JSON CometAPI returns, caching each task's text between status changes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._model import CLIP_ERROR_REASON, TERMINAL, Clip, Status, Task

if TYPE_CHECKING:
    from .state import SimState

_CLIP_STATUS: dict[Status, str] = {
    "SUBMITTED": "submitted",
    "QUEUED": "queued",
    "IN_PROGRESS": "streaming",
    "SUCCESS": "complete",
    "FAILURE": "error",
}
_USER_ID = "00000000-0000-4000-8000-00000000c0de"


def dumps(obj: object) -> str:
    """Serialise compactly, keeping non-ASCII text as is (like the Go relay)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _iso(unix: int, *, suno: bool = True) -> str:
    """Suno writes "2025-10-02T09:43:21.637Z"; Udio writes "2024-11-04T15:47:35.363658+00:00"."""
    moment = datetime.fromtimestamp(unix, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z") if suno else moment.isoformat(timespec="microseconds")


def _phase(state: SimState, task: Task, base: str, now: float) -> tuple[tuple[Status, int, str], bool]:
    """Return the cache key for `task` now, and whether task.cache already holds that rendering."""
    status, progress = state.phase(task, now)
    key = (status, progress, base)
    return key, task.cache_key == key


def suno_task(state: SimState, task: Task, base: str, now: float) -> str:
    """Return the task object of `/suno/fetch` as JSON text."""
    key, fresh = _phase(state, task, base, now)
    if fresh:
        return task.cache[0]
    status, progress, _ = key
    submit, start, finish = state.times(task, status)
    data: Any = None
    if task.action == "LYRICS":
        if status == "SUCCESS":
            data = {"id": task.id, "text": task.lyrics_text, "title": task.lyrics_title, "status": "complete"}
    elif status != "NOT_START" and not (status == "FAILURE" and task.outcome == "fail_early"):
        data = [_clip(clip, i, task, status, base, _iso(submit)) for i, clip in enumerate(task.clips)]
        if not state.relay.clip_videos:
            for clip_data in data:
                clip_data["video_url"] = ""  # a take's video then comes only from /suno/act/mp4
    hook = (task.request or {}).get("notify_hook")
    body = {
        "task_id": task.id,
        "notify_hook": hook if isinstance(hook, str) else "",
        "action": task.action,
        "status": status,
        "fail_reason": task.fail_reason if status == "FAILURE" else "",
        "submit_time": submit,
        "start_time": start,
        "finish_time": finish,
        "progress": f"{progress}%",
        "data": data,
    }
    task.cache, task.cache_key = [dumps(body)], key
    return task.cache[0]


def _clip(clip: Clip, index: int, task: Task, status: Status, base: str, created_at: str) -> dict[str, Any]:
    media = f"{base}/media"
    clip_status = _clip_status(task, status, index)
    error = clip_status == "error"
    # A whole failed task is moderated; a take failing on its own (partial) just produced no audio.
    moderated = error and status == "FAILURE" and task.outcome != "partial"
    reason = (task.fail_reason if moderated else CLIP_ERROR_REASON) if error else None
    audio = video = image = large = ""
    if clip_status == "streaming":
        audio = f"{media}/stream/{clip.id}"
    elif clip_status == "complete":
        audio, video = f"{media}/{clip.id}.mp3", f"{media}/{clip.id}.mp4"
    elif error:
        audio = f"{media}/None.mp3"  # what Suno's CDN links to when a clip has no audio
    if clip_status in ("streaming", "complete") or (error and not moderated):
        image, large = f"{media}/image_{clip.id}.png", f"{media}/image_large_{clip.id}.png"
    metadata: dict[str, Any] = {
        "tags": clip.tags,
        "prompt": "" if moderated else clip.lyrics,
        "duration": clip.duration if clip_status == "complete" else None,
        "error_type": ("moderation" if moderated else "generation") if error else None,
        "error_message": reason,
        "audio_prompt_id": None,
        "gpt_description_prompt": clip.description,
        "type": clip.kind,
        "stream": True,
    }
    if clip.parent_id is not None:
        metadata["history"] = [
            {"id": clip.parent_id, "continue_at": clip.continue_at, "type": "gen", "source": "web", "infill": False}
        ]
    if clip.concat_history is not None:
        metadata["concat_history"] = clip.concat_history
    if clip.task:
        metadata["task"] = clip.task
    if clip.kind == "stem":
        metadata["stem_from_id"] = clip.parent_id  # as CometAPI's stems answer names the source
    return {
        "id": clip.id,
        "title": "" if moderated else clip.title,
        "status": clip_status,
        "metadata": metadata,
        "audio_url": audio,
        "image_url": image,
        "video_url": video,
        "model_name": clip.model_name,
        "image_large_url": large,
        "major_model_version": clip.major_version,
        "created_at": created_at,
    }


def _clip_status(task: Task, status: Status, index: int) -> str:
    if task.outcome == "partial" and status in TERMINAL:
        # The task may say SUCCESS (documented) or FAILURE (the relay): the clips are the same either way.
        return "error" if index == 1 else "complete"
    return _CLIP_STATUS.get(status, "submitted")


def udio_songs(state: SimState, task: Task, base: str, now: float) -> list[str]:
    """Return the songs of a Udio generation as JSON texts."""
    key, fresh = _phase(state, task, base, now)
    if not fresh:
        created_at = _iso(state.unix(task.created), suno=False)
        task.cache = [dumps(_song(s, i, task, key[0], base, created_at)) for i, s in enumerate(task.clips)]
        task.cache_key = key
    return task.cache


def _song(song: Clip, index: int, task: Task, status: Status, base: str, created_at: str) -> dict[str, Any]:
    done = status in ("SUCCESS", "FAILURE")
    error = _clip_status(task, status, index) == "error"
    ok = done and not error
    reason = (task.fail_reason or CLIP_ERROR_REASON) if status == "FAILURE" else CLIP_ERROR_REASON
    return {
        "artist": "ChorusSimulator",
        "artist_image": "",
        "attribution": "",
        "audio_conditioning_type": None,
        "created_at": created_at,
        "description": "",
        "disliked": False,
        "duration": song.duration if ok else None,
        "error_code": "content_policy" if error else None,
        "error_detail": reason if error else None,
        "error_id": str(uuid.uuid5(uuid.NAMESPACE_URL, song.id)) if error else None,
        "error_type": "moderation" if error else None,
        "finished": done,
        "generation_id": task.id,
        "id": song.id,
        "image_path": f"{base}/media/image_{song.id}.png" if ok else "",
        "liked": False,
        "likes": 0,
        "lyrics": song.lyrics if ok else "",
        "original_song_path": None,
        "plays": 0,
        "prompt": song.description or "",
        "publishable": True,
        "published_at": None,
        "replaced_tags": {},
        "song_path": f"{base}/media/{song.id}.mp3" if ok else "",
        "tags": [t.strip() for t in song.tags.split(",") if t.strip()] if ok else [],
        "title": song.title if ok else "",
        "user_id": _USER_ID,
        "user_tags": [],
        "video_path": None,
    }
