"""Typed requests and results for the CometAPI music endpoints, with defensive parsing.

CometAPI's payloads drift (unknown statuses, null data, numbers sent as strings), so every parser here
accepts what it can, fills the rest with safe defaults, and never raises on a missing optional field.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, fields
from typing import Any, Literal

log = logging.getLogger(__name__)

Provider = Literal["suno", "udio"]
Action = Literal["MUSIC", "LYRICS"]
# A provider-neutral view of where a task is; the store's job states are derived from it.
Phase = Literal["pending", "running", "succeeded", "failed"]

_SUNO_PHASES: dict[str, Phase] = {
    "NOT_START": "pending",
    "SUBMITTED": "pending",
    "QUEUED": "pending",
    "IN_PROGRESS": "running",
    "SUCCESS": "succeeded",
    "FAILURE": "failed",
    "FAILED": "failed",
    "UNKNOWN": "failed",
}
_BROKEN_AUDIO_SUFFIX = "None.mp3"


def as_str(value: object, default: str = "") -> str:
    """Return `value` as a stripped string; None and containers become `default`."""
    if value is None or isinstance(value, dict | list):
        return default
    return str(value).strip()


def as_float(value: object) -> float | None:
    """Parse a number that may arrive as a string ("163.5", "40%"); None when it is not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    match = re.search(r"-?\d+(?:\.\d+)?", str(value))
    return float(match.group()) if match else None


def as_dict(value: object) -> dict[str, Any]:
    """`value` if it is a dict, else an empty one (CometAPI's shapes vary)."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Clip:
    """One generated song (a Suno clip or a Udio song)."""

    id: str
    title: str = ""
    status: str = ""
    audio_url: str = ""
    image_url: str = ""
    image_large_url: str = ""
    video_url: str = ""
    model_name: str = ""
    tags: str = ""
    lyrics: str = ""
    duration: float | None = None
    error_message: str = ""
    # What Suno made it as (`metadata.task`: cover, upload_extend, artist_consistency, extend; empty for a plain song),
    # so a stems, cover or persona job that came back as an ordinary song can be told as such.
    task: str = ""

    @property
    def is_stem(self) -> bool:
        """A track of a stem separation (`chirp-stem`, naming the clip it was separated from)."""
        return self.model_name == "chirp-stem"

    @property
    def is_complete(self) -> bool:
        """Done with a usable audio file (Suno sends `.../None.mp3` for broken clips)."""
        done = self.status in {"complete", "finished", "succeeded"}
        return done and bool(self.audio_url) and not self.audio_url.endswith(_BROKEN_AUDIO_SUFFIX)

    @property
    def is_streaming(self) -> bool:
        """The clip can be listened to while it is still being made."""
        return self.status == "streaming" and bool(self.audio_url)

    @classmethod
    def from_suno(cls, raw: dict[str, Any]) -> Clip:
        """Parse one Suno clip, tolerating missing and oddly typed fields."""
        meta = as_dict(raw.get("metadata"))
        return cls(
            id=as_str(raw.get("id") or raw.get("clip_id")),
            title=as_str(raw.get("title")),
            status=as_str(raw.get("status") or raw.get("state")).lower(),
            audio_url=as_str(raw.get("audio_url")),
            image_url=as_str(raw.get("image_url")),
            image_large_url=as_str(raw.get("image_large_url")),
            video_url=as_str(raw.get("video_url")),
            model_name=as_str(raw.get("model_name") or raw.get("mv")),
            tags=as_str(meta.get("tags")),
            lyrics=as_str(meta.get("prompt")),
            duration=as_float(meta.get("duration", raw.get("duration"))),
            error_message=as_str(meta.get("error_message")),
            task=as_str(meta.get("task")),
        )

    @classmethod
    def from_udio(cls, raw: dict[str, Any]) -> Clip:
        """Parse one Udio song, tolerating missing and oddly typed fields."""
        tags = raw.get("tags")
        error = as_str(raw.get("error_detail")) or as_str(raw.get("error_type")) or as_str(raw.get("error_code"))
        finished = raw.get("finished") is True
        status = "error" if error else ("complete" if finished else "streaming" if raw.get("song_path") else "queued")
        return cls(
            id=as_str(raw.get("id")),
            title=as_str(raw.get("title")),
            status=status,
            audio_url=as_str(raw.get("song_path")),
            image_url=as_str(raw.get("image_path")),
            video_url=as_str(raw.get("video_path")),
            tags=", ".join(as_str(t) for t in tags) if isinstance(tags, list) else as_str(tags),
            lyrics=as_str(raw.get("lyrics")),
            duration=as_float(raw.get("duration")),
            error_message=error,
        )


_CLIP_FIELDS = tuple(f.name for f in fields(Clip))


@dataclass(frozen=True, slots=True)
class Lyrics:
    """The result of a Suno lyrics task."""

    title: str
    text: str


@dataclass(frozen=True, slots=True)
class TaskResult:
    """What CometAPI currently says about one task, in provider-neutral terms."""

    task_id: str
    phase: Phase
    status: str = ""
    progress: int | None = None
    clips: tuple[Clip, ...] = ()
    lyrics: Lyrics | None = None
    fail_reason: str = ""

    @property
    def finished(self) -> bool:
        """CometAPI is done with the task (it succeeded or failed)."""
        return self.phase in {"succeeded", "failed"}

    @property
    def complete_clips(self) -> tuple[Clip, ...]:
        """The clips that finished with audio, in order."""
        return tuple(clip for clip in self.clips if clip.is_complete)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the store (by hand: dataclasses.asdict's deep copy is 5x slower)."""
        lyrics = self.lyrics
        return {
            "task_id": self.task_id,
            "phase": self.phase,
            "status": self.status,
            "progress": self.progress,
            "clips": [{name: getattr(clip, name) for name in _CLIP_FIELDS} for clip in self.clips],
            "lyrics": {"title": lyrics.title, "text": lyrics.text} if lyrics is not None else None,
            "fail_reason": self.fail_reason,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TaskResult:
        """Rebuild a result from its stored form (to_dict's inverse)."""
        lyrics = raw.get("lyrics")
        return cls(
            task_id=str(raw["task_id"]),
            phase=raw["phase"],
            status=str(raw.get("status", "")),
            progress=raw.get("progress"),
            clips=tuple(Clip(**clip) for clip in raw.get("clips", ())),
            lyrics=Lyrics(**lyrics) if isinstance(lyrics, dict) else None,
            fail_reason=str(raw.get("fail_reason", "")),
        )

    @classmethod
    def from_suno(cls, raw: dict[str, Any]) -> TaskResult:
        """Parse one Suno task object (single or batch fetch)."""
        status = as_str(raw.get("status")).upper()
        phase = _SUNO_PHASES.get(status)
        if phase is None:
            # An unknown status is not evidence of failure: keep polling, the deadline bounds it.
            log.warning("unknown Suno task status %r for task %s; treating it as running", status, raw.get("task_id"))
            phase = "running"
        data = raw.get("data")
        clips: tuple[Clip, ...] = ()
        lyrics: Lyrics | None = None
        if isinstance(data, list):
            clips = tuple(Clip.from_suno(item) for item in data if isinstance(item, dict))
        elif isinstance(data, dict) and ("text" in data or as_str(raw.get("action")).upper() == "LYRICS"):
            lyrics = Lyrics(title=as_str(data.get("title")), text=as_str(data.get("text")))
        progress = as_float(raw.get("progress"))
        fail_reason = as_str(raw.get("fail_reason"))
        if phase == "failed" and any(clip.is_complete for clip in clips):
            # The relay gives a task the status of its least finished clip (§3.2, §8): one complete take and one
            # errored take read FAILURE (and are refunded). The complete take is playable, so it is a success
            # with a failed take; the reason stays with that take's clip.
            log.info("Suno task %s failed with a complete take; delivering that take", raw.get("task_id"))
            phase = "succeeded"
        if phase == "succeeded" and clips and not any(clip.is_complete for clip in clips):
            phase, fail_reason = "failed", fail_reason or _first_clip_error(clips) or "no playable clip was produced"
        if phase == "succeeded" and lyrics is not None and not lyrics.text:
            phase, fail_reason = "failed", fail_reason or "the lyrics came back empty"
        if phase == "failed" and not fail_reason:
            fail_reason = _first_clip_error(clips) or "the generation failed"
        return cls(
            task_id=as_str(raw.get("task_id") or raw.get("id")),
            phase=phase,
            status=status,
            progress=int(progress) if progress is not None else None,
            clips=clips,
            lyrics=lyrics,
            fail_reason=fail_reason,
        )

    @classmethod
    def from_udio_songs(cls, task_id: str, songs: list[dict[str, Any]]) -> TaskResult:
        """Fold the songs of one Udio generation into a task result."""
        clips = tuple(Clip.from_udio(song) for song in songs)
        if not clips:
            return cls(task_id=task_id, phase="pending", status="NOT_FOUND")
        if all(clip.status in {"complete", "error"} for clip in clips):
            if any(clip.is_complete for clip in clips):
                return cls(task_id=task_id, phase="succeeded", status="finished", progress=100, clips=clips)
            reason = _first_clip_error(clips) or "the generation failed"
            return cls(task_id=task_id, phase="failed", status="error", clips=clips, fail_reason=reason)
        return cls(task_id=task_id, phase="running", status="generating", clips=clips)


def _first_clip_error(clips: tuple[Clip, ...]) -> str:
    return next((clip.error_message for clip in clips if clip.error_message), "")


SunoMode = Literal["inspiration", "custom", "extend"]


def description_with_style_and_title(description: str, tags: str = "", title: str = "") -> str:
    """The description Suno gets in description mode, with any style and title folded into its text.

    The live relay rebuilds a description-mode body from the description, `mv` and `make_instrumental` only
    (shared/api/cometapi-music.md §8), so a `tags` or `title` sent beside it would be lost without a word.
    """
    lines = [description.strip()]
    if tags.strip():
        lines.append(f"Style: {tags.strip()}")
    if title.strip():
        lines.append(f"Title: {title.strip()}")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class SunoMusicRequest:
    """A Suno music submission. Which fields are set decides the mode, as on the API."""

    mv: str
    description: str = ""
    instrumental: bool = False
    lyrics: str = ""
    tags: str = ""
    title: str = ""
    negative_tags: str = ""
    continue_clip_id: str = ""
    continue_at: float | None = None
    task_id: str = ""
    # A persona ("house voice"): sung by the voice of `artist_clip_id` (custom mode only; the relay drops it from
    # a description).
    persona_id: str = ""
    artist_clip_id: str = ""
    # For a member's own uploaded audio: "cover" (the same song in another style) or "upload_extend".
    cover_task: str = ""
    # A cover's source (an uploaded clip), sent as `cover_clip_id`: never as `continue_clip_id`, which makes the relay
    # demand a task of this account (400 task_origin_not_exist, shared/api §8).
    cover_clip_id: str = ""

    @property
    def folds_style_and_title(self) -> bool:
        """Description mode with a style or title: they travel inside the description (see to_json)."""
        return self.mode == "inspiration" and bool(self.tags or self.title)

    @property
    def mode(self) -> SunoMode:
        """How the job is listed: `extend`, `custom` (own lyrics) or `inspiration` (a description)."""
        if self.continue_clip_id:
            return "extend"
        return "inspiration" if self.description else "custom"

    def to_json(self) -> dict[str, Any]:
        """The body of POST /suno/submit/music for this request."""
        body: dict[str, Any] = {"mv": self.mv}
        mode = self.mode
        if mode == "inspiration":
            description = description_with_style_and_title(self.description, self.tags, self.title)
            body.update(gpt_description_prompt=description, make_instrumental=self.instrumental, prompt="")
            return body
        body.update(prompt=self.lyrics, tags=self.tags, title=self.title, make_instrumental=self.instrumental)
        if self.negative_tags:
            body["negative_tags"] = self.negative_tags
        if self.persona_id and mode == "custom":
            body.update(task="artist_consistency", persona_id=self.persona_id, artist_clip_id=self.artist_clip_id,
                        generation_type="TEXT")
        if self.cover_task == "cover":
            # A cover re-sings its source whole: named in cover_clip_id, with nothing to continue from. (Rows from
            # before cover_clip_id kept the source in continue_clip_id; it is sent the right way all the same.)
            body.update(task="cover", cover_clip_id=self.cover_clip_id or self.continue_clip_id)
            return body
        if mode == "extend":
            # new-api relays refuse an extend without the original task id ("task id is empty").
            body.update(task=self.cover_task or "extend", continue_clip_id=self.continue_clip_id, task_id=self.task_id)
            if self.continue_at is not None:
                body["continue_at"] = self.continue_at
            elif self.cover_task != "upload_extend":
                body["continue_at"] = 0
            # An upload of unknown length is continued from where Suno picks: the relay drops a 0 anyway (§8).
        return body


UdioLyricsType = Literal["generate", "user", "instrumental"]


@dataclass(frozen=True, slots=True)
class UdioRequest:
    """A Udio generation. Layout follows the seed's curl example: strengths in gen_params, config minimal."""

    prompt: str
    model_type: str = "udio32-v1.5"
    lyrics: str = ""
    lyrics_type: UdioLyricsType = "generate"
    negative_prompt: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The body of POST /udio/generate for this request."""
        params: dict[str, Any] = {
            "prompt": self.prompt,
            "lyrics": self.lyrics,
            "lyrics_type": self.lyrics_type,
            "model_type": self.model_type,
            "config": {"mode": "regular"},
            "negative_prompt": self.negative_prompt,
            "song_section_start": 0,
            "song_section_end": 1,
            "lyrics_placement_start": 0,
            "lyrics_placement_end": 0.95,
            "prompt_strength": 0.5,
            "clarity_strength": 0.25,
            "lyrics_strength": 0.5,
            "generation_quality": 0.75,
            "seed": -1,
            "bypass_prompt_optimization": False,
        }
        params.update(self.extra)
        return {"gen_params": params}
