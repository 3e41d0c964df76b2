"""Suno's tools for a finished take: WAV, MP4 video, synced lyrics, MIDI, stems, personas, uploads, style tags.

Several of these routes are documented by CometAPI only in its navigation, with shapes that vary between relays
(shared/api §2.5 to §2.13), so every answer is parsed defensively: a route that answers 404, a web page or a shape
we cannot read raises ModelUnavailableError ("not available on CometAPI right now"), never a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from cachetools import LRUCache

from .client import Transport
from .errors import BadResponseError, InvalidRequestError, ModelUnavailableError, TaskFailedError, TaskNotFoundError
from .suno import task_id_of

_SECTION = re.compile(r"\[[^\]]*\]")
STEM_KINDS = {"two": "Two", "twelve": "Twelve"}
MediaKind = Literal["wav", "mp4"]
# Per kind: the keys a link is read from first, the suffix any other link must end in, and how members call it.
_MEDIA: dict[MediaKind, tuple[tuple[str, ...], str, str]] = {
    "wav": (("wav_file_url", "wav_url", "url"), ".wav", "WAV"),
    "mp4": (("mp4_file_url", "mp4", "video_url", "url"), ".mp4", "video"),
}
# Conversions still under way, remembered (this many, the oldest dropped first) so that a member asking again
# follows the same conversion instead of starting (and perhaps paying for) another.
REMEMBERED_CONVERSIONS = 256


@dataclass(frozen=True, slots=True)
class AlignedWord:
    """One sung word and when it is sung (seconds from the start)."""

    word: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Note:
    """One MIDI note: pitch (0-127), start and end in seconds, velocity 0-1."""

    pitch: int
    start: float
    end: float
    velocity: float


@dataclass(frozen=True, slots=True)
class Instrument:
    """One instrument of a MIDI transcription and its notes."""

    name: str
    notes: tuple[Note, ...]


@dataclass(frozen=True, slots=True)
class MediaLink:
    """A take's WAV or MP4 as CometAPI answered it: the link, or a conversion task to ask about (`task_id`), or
    neither yet (`{}` before the conversion: it is being prepared)."""

    url: str | None = None
    task_id: str | None = None


@dataclass(frozen=True, slots=True)
class Midi:
    """A MIDI transcription: `ready` once CometAPI has finished it."""

    ready: bool
    instruments: tuple[Instrument, ...] = ()


class SunoTools:
    """The take-level Suno routes."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._conversions: LRUCache[tuple[MediaKind, str], str] = LRUCache(REMEMBERED_CONVERSIONS)

    async def wav(self, clip_id: str) -> MediaLink:
        """The lossless WAV of a complete clip: its link, a conversion to ask about, or neither yet."""
        return await self._media("wav", clip_id)

    async def mp4(self, clip_id: str) -> MediaLink:
        """The MP4 video of a complete clip: its link, a conversion to ask about, or neither yet."""
        return await self._media("mp4", clip_id)

    async def conversion(self, kind: MediaKind, clip_id: str, task_id: str) -> str | None:
        """Ask once about a WAV/MP4 conversion task (GET /suno/fetch/{id}, a free read): its link once done, None
        while CometAPI is still converting. Raises TaskFailedError when the conversion failed."""
        keys, suffix, what = _MEDIA[kind]
        try:
            body = await self._transport.request("GET", f"/suno/fetch/{task_id}", endpoint="suno.fetch",
                                                 idempotent=True)
        except TaskNotFoundError:
            self._conversions.pop((kind, clip_id), None)  # gone: the next ask starts afresh
            return None
        task = body.get("data") if isinstance(body, dict) else None
        if not isinstance(task, dict):
            raise BadResponseError(f"fetch of conversion {task_id} returned no task object")
        status = str(task.get("status") or "").upper()
        if status in {"FAILURE", "FAILED"}:
            self._conversions.pop((kind, clip_id), None)
            raise TaskFailedError(str(task.get("fail_reason") or f"CometAPI could not make the {what}"))
        if status != "SUCCESS":
            return None  # a link seen before SUCCESS may be a stream: only a finished task's link is the file
        self._conversions.pop((kind, clip_id), None)
        # What a finished conversion carries is not documented: its link is looked for wherever it is.
        url = _link(task.get("data"), keys, suffix, deep=True)
        if url is None:
            raise ModelUnavailableError(f"CometAPI finished the {what} but sent no link")
        return url

    async def _media(self, kind: MediaKind, clip_id: str) -> MediaLink:
        keys, suffix, what = _MEDIA[kind]
        pending = self._conversions.get((kind, clip_id))
        if pending is not None:
            return MediaLink(task_id=pending)  # asked before and still converting: follow that one
        body = await self._get(f"/suno/act/{kind}/{clip_id}", f"suno.{kind}")
        # Documented in several shapes (shared/api §2.10, §2.12, §8): a URL object, the same in {code, data},
        # {code, data: "<task id>"} to fetch, or {} before the conversion.
        url = _link(body, keys, suffix)
        if url is not None:
            return MediaLink(url=url)
        task_id = _conversion_task(body)
        if task_id is not None:
            self._conversions[(kind, clip_id)] = task_id
            return MediaLink(task_id=task_id)
        if _not_ready(body):
            return MediaLink()
        raise ModelUnavailableError(f"CometAPI sent no {what} link for this take")

    async def timing(self, clip_id: str) -> list[AlignedWord]:
        """Word-level timing of a complete clip's lyrics."""
        body = _unwrap(await self._get(f"/suno/act/timing/{clip_id}", "suno.timing"))
        words = body.get("aligned_words") if isinstance(body, dict) else None
        if not isinstance(words, list):
            raise ModelUnavailableError("CometAPI sent no word timing for this take")
        found = []
        for item in words:
            if isinstance(item, dict) and isinstance(item.get("word"), str) and item.get("success", True) is not False:
                try:
                    found.append(AlignedWord(item["word"], float(item.get("start_s", 0)), float(item.get("end_s", 0))))
                except (TypeError, ValueError):
                    continue
        return found

    async def midi(self, clip_id: str) -> Midi:
        """The MIDI transcription of a clip (ask again while it is not ready)."""
        body = _unwrap(await self._get(f"/suno/act/midi/{clip_id}", "suno.midi"))
        if not isinstance(body, dict):
            raise ModelUnavailableError("CometAPI sent no MIDI for this take")
        if str(body.get("state", "")).lower() != "complete":
            return Midi(ready=False)
        instruments = []
        for raw in body.get("instruments") or []:
            if not isinstance(raw, dict):
                continue
            notes = []
            for note in raw.get("notes") or []:
                try:
                    notes.append(Note(int(note["pitch"]), float(note["start"]), float(note["end"]),
                                      float(note.get("velocity", 0.8))))
                except (KeyError, TypeError, ValueError):
                    continue
            instruments.append(Instrument(str(raw.get("name") or "Instrument"), tuple(notes)))
        return Midi(ready=True, instruments=tuple(instruments))

    async def upsample_tags(self, tags: str) -> str:
        """A richer style description for a few words of style (Suno's tag upsampling)."""
        body = await self._post("/suno/act/tags", "suno.tags", {"original_tags": tags})
        data = _unwrap(body)
        value = data.get("upsampled_tags") if isinstance(data, dict) else None
        if not isinstance(value, str) or not value.strip():
            raise ModelUnavailableError("CometAPI sent no style suggestion")
        return value.strip()

    async def create_persona(self, root_clip_id: str, name: str, description: str) -> str:
        """Make a persona (a reusable voice) from a generated clip; return its persona id."""
        payload = {"root_clip_id": root_clip_id, "name": name, "description": description, "clips": [root_clip_id],
                   "is_public": False}
        data = _unwrap(await self._post("/suno/persona/create", "suno.persona", payload, paid=True))
        persona_id = data.get("id") or data.get("persona_id") if isinstance(data, dict) else None
        if not isinstance(persona_id, str) or not persona_id:
            raise BadResponseError("CometAPI made the persona but sent no id")
        return persona_id

    async def submit_stems(self, clip_id: str, task_id: str, kind: str) -> str:
        """Start separating a take into stems (`two`: vocals and instrumental; `twelve`: every track)."""
        group = STEM_KINDS[kind]
        body = {
            "task": "gen_stem", "mv": "chirp-auk", "continue_clip_id": clip_id, "task_id": task_id,
            "generation_type": "TEXT", "title": "", "prompt": "", "make_instrumental": True, "continue_at": None,
            "continued_aligned_prompt": None, "stem_type_id": 91, "stem_type_group_name": group, "stem_task": kind,
        }
        return task_id_of(await self._post("/suno/submit/music", "suno.stems", body, paid=True))

    async def upload_audio(self, url: str) -> str:
        """Register a member's audio (a public URL) with Suno; return the upload task id."""
        return task_id_of(await self._post("/suno/uploads/audio-url", "suno.upload", {"url": url}, paid=True))

    async def _get(self, path: str, endpoint: str) -> Any:
        try:
            return await self._transport.request("GET", path, endpoint=endpoint, idempotent=True)
        except InvalidRequestError as exc:
            if exc.status == 404:
                raise ModelUnavailableError(f"{endpoint} is not served", status=404) from None
            raise

    async def _post(self, path: str, endpoint: str, body: dict[str, Any], *, paid: bool = False) -> Any:
        try:
            return await self._transport.request("POST", path, endpoint=endpoint, idempotent=not paid, json_body=body)
        except InvalidRequestError as exc:
            if exc.status == 404:
                raise ModelUnavailableError(f"{endpoint} is not served", status=404) from None
            raise


def lrc(words: list[AlignedWord], *, title: str = "") -> str:
    """An .lrc file (one timed line per sung line) that music players show in time with the song."""
    lines: list[tuple[float, str]] = []
    current: list[str] = []
    start: float | None = None
    for word in words:
        parts = _SECTION.sub("", word.word).split("\n")
        for n, part in enumerate(parts):
            if n > 0 and current:
                lines.append((start or 0.0, " ".join(current)))
                current, start = [], None
            if part.strip():
                start = word.start if start is None else start
                current.append(part.strip())
    if current:
        lines.append((start or 0.0, " ".join(current)))
    header = [f"[ti:{title}]"] if title else []
    return "\n".join([*header, *(f"[{int(t // 60):02d}:{t % 60:05.2f}]{text}" for t, text in lines)]) + "\n"


def _unwrap(body: Any) -> Any:
    """The payload, inside a {code, data} envelope or not."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        return body["data"]
    return body


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _link(body: Any, keys: tuple[str, ...], suffix: str, *, deep: bool = False) -> str | None:
    """The link in an answer: under one of `keys`, else any link ending in `suffix` (nested too, when `deep`)."""
    data = _unwrap(body)
    if _is_url(data):
        return str(data)  # {code, data: "https://…"}
    if isinstance(data, dict):
        for key in keys:
            if _is_url(data.get(key)):
                return str(data[key])
        for value in data.values():
            if _is_url(value) and str(value).split("?", 1)[0].endswith(suffix):
                return str(value)
    if deep:
        children = data.values() if isinstance(data, dict) else data if isinstance(data, list) else ()
        for child in children:
            if isinstance(child, dict | list) and (found := _link(child, keys, suffix, deep=True)) is not None:
                return found
    return None


def _conversion_task(body: Any) -> str | None:
    """The task id of a `{code: "success", data: "<task id>"}` answer: a conversion to fetch."""
    if not isinstance(body, dict) or str(body.get("code", "success")).lower() != "success":
        return None
    data = body.get("data")
    if isinstance(data, str) and data.strip() and not _is_url(data):
        return data.strip()
    return None


def _not_ready(body: Any) -> bool:
    """`{}` (or an envelope, or fields, with nothing in them): CometAPI has not converted the take yet."""
    if not isinstance(body, dict):
        return False
    data = body.get("data") if set(body) >= {"code", "data"} else body
    if data is None:
        return True
    return isinstance(data, dict) and all(value in (None, "", {}, []) for value in data.values())
