"""Records behind the simulator: tasks, clips, statuses and the outcomes a prompt can ask for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS", "SUCCESS", "FAILURE"]
Action = Literal["MUSIC", "LYRICS"]
Provider = Literal["suno", "udio"]
Outcome = Literal["success", "fail", "fail_early", "hang", "partial"]

TERMINAL: frozenset[Status] = frozenset({"SUCCESS", "FAILURE"})
MODERATION_REASON = "Unable to generate audio: the request was flagged by content moderation."
EARLY_FAIL_REASON = "task failed"
CLIP_ERROR_REASON = "Unable to generate audio for this clip."

# Checked in this order, so "[fail-early]" is never read as "[fail]".
MAGIC_WORDS: tuple[tuple[str, Outcome, str], ...] = (
    ("[fail-early]", "fail_early", EARLY_FAIL_REASON),
    ("[fail]", "fail", MODERATION_REASON),
    ("[hang]", "hang", ""),
    ("[partial]", "partial", ""),
)


@dataclass(slots=True)
class Clip:
    """One Suno clip or Udio song, fixed at submit time; its status comes from its task."""

    id: str
    title: str
    duration: float
    tags: str
    lyrics: str
    description: str | None
    model_name: str
    major_version: str
    kind: str = "gen"
    parent_id: str | None = None
    continue_at: float | None = None
    concat_history: list[dict[str, Any]] | None = None
    # The submit's `task` (cover, upload_extend, artist_consistency, extend), as Suno's clip metadata names it.
    task: str = ""


@dataclass(slots=True, eq=False)
class Task:
    """A submitted job. Its status is derived from the clock, so nothing runs in the background."""

    id: str
    action: Action
    provider: Provider
    created: float
    outcome: Outcome
    fail_reason: str
    clips: list[Clip]
    request: dict[str, Any] | None = None
    lyrics_title: str = ""
    lyrics_text: str = ""
    forced: Status | None = None
    forced_at: float = 0.0
    # The last rendering, reused while (status, progress, base URL) stay the same.
    cache_key: tuple[str, int, str] | None = None
    cache: list[str] = field(default_factory=list)


def magic_outcome(*texts: object) -> tuple[Outcome, str]:
    """Pick the outcome a prompt asks for with a magic word such as `[fail]`."""
    joined = " ".join(t for t in texts if isinstance(t, str)).lower()
    for word, outcome, reason in MAGIC_WORDS:
        if word in joined:
            return outcome, reason
    return "success", ""
