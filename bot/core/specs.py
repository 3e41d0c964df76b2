"""Typed job specs: each kind of paid job, what it costs, and the one CometAPI request that starts it.

A spec is what a member asked for, and nothing else: who pays and under which limits is JobService's business
(`bot/core/jobs.py`), and only JobService calls `submit`, for a job that passed admission. A spec is stored as the
job's `params` (with its `spec` name) and read back by `spec_of`, which also reads the rows written before specs
existed (today's params shapes), so Try again, Again and a cover's second stage work on old rows too.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from bot.cometapi import CometAPI, SunoMusicRequest, TaskResult, UdioRequest
from bot.cometapi.models import Action, Provider
from bot.domain import Job

# What full-track stems (every track, up to 12) count as, in songs. The open-source relay bills every submit/music as
# one song whatever its `task`, but resellers of the same upstream charge a full-track separation about five songs
# (DeerAPI's full-track-separate page; shared/api/cometapi-music.md §2.7, §4.3); STEMS_COST_SONGS sets it.
DEFAULT_FULL_STEMS_COST = 5
# The models the cover and upload_extend routes accept (shared/api §2.1: v4, v4.5, v4.5+), best first: a cover asked
# with another model (say v5) is sung by the first of these.
COVER_MODELS: tuple[str, ...] = ("chirp-bluejay", "chirp-auk", "chirp-v4")
StemKind = Literal["two", "twelve"]
CoverMode = Literal["cover", "extend"]


@dataclass(frozen=True, slots=True)
class Costs:
    """What the jobs that cost more than one song count as (in songs), from the settings."""

    full_stems: int = DEFAULT_FULL_STEMS_COST


class JobSpec(ABC):
    """One kind of paid job: its provider and action, its cost in songs, its stored form and its CometAPI request."""

    __slots__ = ()
    name: ClassVar[str]  # stored as params["spec"]
    provider: ClassVar[Provider] = "suno"
    action: ClassVar[Action] = "MUSIC"
    # Stems, covers and whole songs are posted by their kind, so starting one again keeps its kind and lineage.
    keeps_kind: ClassVar[bool] = False

    @property
    def kind(self) -> str:
        """How a new job of this spec is listed (`inspiration`, `extend`, `stems`, …)."""
        return self.name

    @property
    def counts_towards_quota(self) -> bool:
        """Songs count towards quotas and budgets; cheap lyrics only towards concurrency."""
        return self.action == "MUSIC"

    def cost(self, costs: Costs) -> int:
        """What the job counts as against quotas and budgets, in songs."""
        return 1

    def to_params(self) -> dict[str, Any]:
        """The stored form (the job's params): `spec_of` reads it back."""
        return {**self._params(), "spec": self.name}

    @abstractmethod
    def _params(self) -> dict[str, Any]: ...

    @abstractmethod
    async def submit(self, api: CometAPI) -> str:
        """Make the paid call and return its task id. Only JobService.send calls this, for an admitted job."""


# ---- Suno songs ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SunoMusic(JobSpec):
    request: SunoMusicRequest

    def _params(self) -> dict[str, Any]:
        return dataclasses.asdict(self.request)

    async def submit(self, api: CometAPI) -> str:
        """POST /suno/submit/music with the request."""
        return await api.suno.submit_music(self.request)


@dataclass(frozen=True, slots=True)
class SongSpec(_SunoMusic):
    """A Suno song from a description (inspiration) or the member's lyrics (custom)."""

    name: ClassVar[str] = "song"

    @property
    def kind(self) -> str:
        """`inspiration` or `custom`, as songs have always been listed."""
        return self.request.mode


@dataclass(frozen=True, slots=True)
class PersonaSongSpec(_SunoMusic):
    """A Suno song sung by one of the server's personas (custom mode: `task: artist_consistency`)."""

    name: ClassVar[str] = "persona_song"

    @property
    def kind(self) -> str:
        """`custom`: a persona sings lyrics."""
        return self.request.mode


@dataclass(frozen=True, slots=True)
class ExtendSpec(_SunoMusic):
    """A continuation of a Suno take from a point in it (`task: extend`)."""

    name: ClassVar[str] = "extend"


def music_spec(request: SunoMusicRequest) -> SongSpec | PersonaSongSpec | ExtendSpec:
    """The spec of a Suno music request: an extension when it continues a clip, a persona song with a persona."""
    if request.continue_clip_id:
        return ExtendSpec(request)
    if request.persona_id:
        return PersonaSongSpec(request)
    return SongSpec(request)


# ---- the other kinds ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LyricsSpec(JobSpec):
    """Suno lyrics on a theme."""

    prompt: str
    name: ClassVar[str] = "lyrics"
    action: ClassVar[Action] = "LYRICS"

    def _params(self) -> dict[str, Any]:
        return {"prompt": self.prompt}

    async def submit(self, api: CometAPI) -> str:
        """POST /suno/submit/lyrics."""
        return await api.suno.submit_lyrics(self.prompt)


@dataclass(frozen=True, slots=True)
class UdioSongSpec(JobSpec):
    """A Udio song."""

    request: UdioRequest
    name: ClassVar[str] = "udio_song"
    provider: ClassVar[Provider] = "udio"

    @property
    def kind(self) -> str:
        """`generate`, as Udio songs have always been listed."""
        return "generate"

    def _params(self) -> dict[str, Any]:
        return dataclasses.asdict(self.request)

    async def submit(self, api: CometAPI) -> str:
        """POST /udio/generate-proxy."""
        return await api.udio.generate(self.request)


@dataclass(frozen=True, slots=True)
class ConcatSpec(JobSpec):
    """An extended take joined with the takes it continues into one song."""

    clip_id: str
    mv: str | None = None  # the model of the song, for the card
    name: ClassVar[str] = "concat"
    keeps_kind: ClassVar[bool] = True

    def _params(self) -> dict[str, Any]:
        return {"clip_id": self.clip_id, "mv": self.mv}

    async def submit(self, api: CometAPI) -> str:
        """POST /suno/submit/concat."""
        return await api.suno.submit_concat(self.clip_id)


@dataclass(frozen=True, slots=True)
class StemsSpec(JobSpec):
    """A take separated into stems: `two` (vocals and instrumental, one song) or `twelve` (every track, several)."""

    clip_id: str
    task_id: str
    stem: StemKind
    take: int | None = None  # which take of the parent, for the post
    name: ClassVar[str] = "stems"
    keeps_kind: ClassVar[bool] = True

    def cost(self, costs: Costs) -> int:
        """Full-track stems cost several songs where resold (see DEFAULT_FULL_STEMS_COST); two stems one."""
        return costs.full_stems if self.stem == "twelve" else 1

    def _params(self) -> dict[str, Any]:
        return {"stem_of": self.clip_id, "task_id": self.task_id, "stem": self.stem, "take": self.take}

    async def submit(self, api: CometAPI) -> str:
        """POST /suno/submit/music with `task: gen_stem`."""
        return await api.tools.submit_stems(self.clip_id, self.task_id, self.stem)


@dataclass(frozen=True, slots=True)
class CoverSpec(JobSpec):
    """A cover (or an extension) of the member's own audio: first uploaded to Suno, then sung. One job, two paid
    calls: the upload stage, and once Suno has the audio, the cover stage (`staged`), admitted once for both."""

    url: str
    filename: str
    mode: CoverMode
    request: SunoMusicRequest  # what the member asked: style, title, model
    stage: Literal["upload", "cover"] = "upload"
    upload_clip_id: str = ""
    upload_task_id: str = ""
    upload_seconds: float | None = None  # the uploaded clip's length: an extension continues from its end
    name: ClassVar[str] = "cover"
    keeps_kind: ClassVar[bool] = True

    @property
    def mv(self) -> str:
        """The model the cover is sung with: the member's when the cover route takes it, else the best it takes."""
        return self.request.mv if self.request.mv in COVER_MODELS else COVER_MODELS[0]

    def staged(self, result: TaskResult | dict[str, Any], upload_task_id: str) -> CoverSpec | None:
        """The cover stage once the upload finished (from its stored result); None if it made no clip."""
        parsed = TaskResult.from_dict(result) if isinstance(result, dict) else result
        clip = next((clip for clip in parsed.clips if clip.id), None)
        if clip is None:
            return None
        return dataclasses.replace(self, stage="cover", upload_clip_id=clip.id, upload_task_id=upload_task_id,
                                   upload_seconds=clip.duration)

    def sung(self) -> SunoMusicRequest:
        """The request of the cover stage: a cover names its upload in `cover_clip_id`; an extension continues the
        upload (`upload_extend`, with the upload's task) from the upload's own end."""
        if self.mode == "cover":
            return dataclasses.replace(self.request, mv=self.mv, cover_task="cover", cover_clip_id=self.upload_clip_id,
                                       continue_clip_id="", task_id="", continue_at=None)
        return dataclasses.replace(self.request, mv=self.mv, cover_task="upload_extend", cover_clip_id="",
                                   continue_clip_id=self.upload_clip_id, task_id=self.upload_task_id,
                                   continue_at=self.upload_seconds)

    def _params(self) -> dict[str, Any]:
        what = "a cover" if self.mode == "cover" else "an extension"
        return {"stage": self.stage, "url": self.url, "file": self.filename, "mode": self.mode, "mv": self.mv,
                "prompt": f"{what} of {self.filename}" + (f" in {self.request.tags}" if self.request.tags else ""),
                "request": dataclasses.asdict(self.request), "upload_clip_id": self.upload_clip_id,
                "upload_task_id": self.upload_task_id, "upload_seconds": self.upload_seconds}

    async def submit(self, api: CometAPI) -> str:
        """The upload stage's POST /suno/uploads/audio-url, or the cover stage's POST /suno/submit/music."""
        if self.stage == "upload":
            return await api.tools.upload_audio(self.url)
        return await api.suno.submit_music(self.sung())


# ---- reading stored jobs ------------------------------------------------------------------------------------------

_SUNO_FIELDS = frozenset(f.name for f in dataclasses.fields(SunoMusicRequest))
_UDIO_FIELDS = frozenset(f.name for f in dataclasses.fields(UdioRequest))


def spec_of(job: Job) -> JobSpec:
    """The spec a stored job was made from. New rows name it (`params["spec"]`); rows from before specs are read by
    the shape of their params, the only place that still looks at the shape."""
    return stored_spec(job.provider, job.action, job.kind, job.params)


def stored_spec(provider: str, action: str, kind: str, params: dict[str, Any]) -> JobSpec:
    """`spec_of` for a provider, action, kind and params (e.g. edited ones)."""
    name = params.get("spec")
    if provider == "udio" or name == UdioSongSpec.name:
        return UdioSongSpec(UdioRequest(**{k: v for k, v in params.items() if k in _UDIO_FIELDS}))
    if action == "LYRICS" or name == LyricsSpec.name:
        return LyricsSpec(str(params.get("prompt") or ""))
    if name == CoverSpec.name or kind == "cover" or "stage" in params:
        return _cover(params)
    if name == StemsSpec.name or kind == "stems" or "stem_of" in params:
        stem: StemKind = "twelve" if params.get("stem") == "twelve" else "two"
        take = params.get("take")
        return StemsSpec(str(params.get("stem_of") or ""), str(params.get("task_id") or ""), stem,
                         take if isinstance(take, int) else None)
    if name == ConcatSpec.name or kind == "concat" or "clip_id" in params:
        mv = params.get("mv")
        return ConcatSpec(str(params.get("clip_id") or ""), str(mv) if mv else None)
    return music_spec(suno_request_of(params))


def suno_request_of(params: dict[str, Any]) -> SunoMusicRequest:
    """A stored Suno music request (fields it does not know, such as `spec`, are left out)."""
    return SunoMusicRequest(**{k: v for k, v in params.items() if k in _SUNO_FIELDS})


def _cover(params: dict[str, Any]) -> CoverSpec:
    stored = suno_request_of(dict(params.get("request") or {}))
    # Rows from before cover_clip_id kept the upload in the request's continue_clip_id and task_id.
    upload_clip = str(params.get("upload_clip_id") or stored.continue_clip_id or stored.cover_clip_id)
    upload_task = str(params.get("upload_task_id") or stored.task_id)
    member = dataclasses.replace(stored, continue_clip_id="", task_id="", cover_task="", cover_clip_id="",
                                 continue_at=None)
    seconds = params.get("upload_seconds")
    return CoverSpec(
        url=str(params.get("url") or ""), filename=str(params.get("file") or ""),
        mode="extend" if params.get("mode") == "extend" else "cover", request=member,
        stage="cover" if params.get("stage") == "cover" else "upload", upload_clip_id=upload_clip,
        upload_task_id=upload_task, upload_seconds=float(seconds) if isinstance(seconds, int | float) else None,
    )


# ---- what came back -----------------------------------------------------------------------------------------------

Asked = Literal["stems", "cover", "upload_extend", "persona"]
_TASK_OF: dict[str, str] = {"cover": "cover", "upload_extend": "upload_extend", "persona": "artist_consistency"}


def came_back_ordinary(job: Job, result: TaskResult) -> Asked | None:
    """What a stems, cover or persona job asked for, when its finished result reads as an ordinary song instead
    (the upstream ignored the `task`); None when it came back as asked, or for any other job.

    Stems are told by their tracks (`chirp-stem`); a cover, an upload's extension or a persona song by the task Suno
    names in the clip's metadata, when it names none of those.
    """
    clips = result.complete_clips
    if job.state != "succeeded" or not clips:
        return None
    asked = _asked(job)
    if asked is None:
        return None
    if asked == "stems":
        return None if any(clip.is_stem for clip in clips) else asked
    return None if any(clip.task == _TASK_OF[asked] for clip in clips) else asked


def _asked(job: Job) -> Asked | None:
    if job.provider != "suno" or job.action != "MUSIC":
        return None
    try:
        spec = spec_of(job)
    except (TypeError, ValueError, KeyError):
        # A row whose params this version cannot read as a request (e.g. an old post's, missing a field): it is
        # shown as a song, without a note, rather than not shown at all.
        return None
    if isinstance(spec, StemsSpec):
        return "stems"
    if isinstance(spec, CoverSpec):
        return "cover" if spec.mode == "cover" else "upload_extend"
    if isinstance(spec, PersonaSongSpec):
        return "persona"
    return None
