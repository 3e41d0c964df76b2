"""The documented answers of the WAV and MP4 routes and of uploads, as the relay modes pick them (see relay.py).

Which one CometAPI serves is not settled (shared/api §2.10, §2.12, §8), so the simulator can serve each: the raw URL
object, the same in an envelope, a conversion task to fetch at /suno/fetch/{id}, or `{}` until the conversion is
done; an upload answered with an id no fetch knows, or one batch fetch leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._model import Clip, Task

if TYPE_CHECKING:
    from .state import SimState

Kind = Literal["wav", "mp4"]
# The key of each route's URL object (fixtures suno_wav_ok.json, suno_mp4_ok.json).
URL_KEYS: dict[Kind, str] = {"wav": "wav_file_url", "mp4": "mp4_file_url"}


@dataclass(slots=True)
class Conversion:
    """A WAV or MP4 made on demand ("task" answers): unfinished for the relay's `conversion_polls` fetches."""

    id: str
    kind: Kind
    clip_id: str
    created: float
    fetches: int = 0


def media_url(base: str, kind: Kind, clip_id: str) -> str:
    """Where the simulated CDN serves a clip's WAV or MP4."""
    return f"{base}/media/{clip_id}.{kind}"


def act_answer(state: SimState, kind: Kind, clip: Clip, base: str) -> dict[str, Any]:
    """The body /suno/act/{kind}/{clip_id} answers for a complete clip, in the variant the relay is set to."""
    variant = state.relay.act_answers.get(kind, "url")
    link = {URL_KEYS[kind]: media_url(base, kind, clip.id)}
    if variant == "wrapped":
        return {"code": "success", "message": "", "data": link}
    if variant == "task":
        conversion = Conversion(state.new_id(), kind, clip.id, state.clock())
        state.conversions[conversion.id] = conversion
        return {"code": "success", "data": conversion.id, "message": ""}  # fixture suno_wav_task_2026-12.json
    if variant == "not_ready":
        asked = state.conversion_asks.get((kind, clip.id), 0) + 1
        state.conversion_asks[(kind, clip.id)] = asked
        if asked <= state.relay.conversion_polls:
            return {}  # fixture suno_wav_not_ready_2026-12.json
    return link


def fetched_conversion(state: SimState, task_id: str, base: str) -> dict[str, Any] | None:
    """The task object /suno/fetch/{id} answers for a conversion, or None when the id is not one.

    A finished conversion carries its link in `data` (an object with the route's own key): the shape of a finished
    conversion task is not documented, so the bot looks for the link wherever it is.
    """
    conversion = state.conversions.get(task_id)
    if conversion is None:
        return None
    conversion.fetches += 1
    done = conversion.fetches > state.relay.conversion_polls
    submitted = state.unix(conversion.created)
    return {
        "task_id": conversion.id, "notify_hook": "", "action": "MUSIC", "status": "SUCCESS" if done else "IN_PROGRESS",
        "fail_reason": "", "submit_time": submitted, "start_time": submitted,
        "finish_time": state.unix(state.clock()) if done else 0, "progress": "100%" if done else "0%",
        "data": {URL_KEYS[conversion.kind]: media_url(base, conversion.kind, conversion.clip_id)} if done else None,
    }


def upload_answer(state: SimState, task: Task) -> str:
    """The id an upload is answered with: its task's (documented), or the uploaded clip's when the relay answers
    with an id no fetch knows."""
    return task.clips[0].id if state.relay.upload_answer == "unknown" and task.clips else task.id


def listed(state: SimState, task: Task) -> bool:
    """Whether batch fetch lists this task: with "unlisted" uploads it leaves upload tasks out."""
    is_upload = bool(task.clips) and task.clips[0].kind == "upload"
    return not (is_upload and state.relay.upload_answer == "unlisted")
