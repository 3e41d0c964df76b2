"""Turn request bodies into tasks with plausible made-up content (titles, lyrics, durations)."""

from __future__ import annotations

import itertools
import random
import re
from typing import TYPE_CHECKING, Any

from ._model import EARLY_FAIL_REASON, MODERATION_REASON, Action, Clip, Outcome, Provider, Task

if TYPE_CHECKING:
    from .state import SimState

DEFAULT_MV = "chirp-v3-0"  # new-api relays fill this in when `mv` is missing
UDIO_SECONDS = {"udio32-v1.5": 32.8, "udio130-v1.5": 131.1}
# mv prefix -> (major_model_version, longest song in seconds)
_MODELS: tuple[tuple[str, str, float], ...] = (
    ("chirp-v3", "v3", 120.0),
    ("chirp-v4", "v4", 150.0),
    ("chirp-auk", "v4.5", 240.0),
    ("chirp-bluejay", "v4.5+", 300.0),
    ("chirp-crow", "v5", 300.0),
    ("chirp-fenix", "v5.5", 300.0),
    ("chirp-v5-5", "v5.5", 300.0),
)
_STYLES = (
    "upbeat synth pop, female vocals",
    "lo-fi hip hop, mellow, jazzy chords",
    "emotional punk, driving drums",
    "acoustic folk, warm, fingerpicked guitar",
    "club banger high-energy edm",
)
_MAGIC = re.compile(r"\[(?:fail-early|fail|hang|partial)\]", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9']+")


def model_info(mv: str) -> tuple[str, float]:
    """Return (major_model_version, longest song in seconds) for an `mv` value."""
    for prefix, major, longest in _MODELS:
        if mv.startswith(prefix):
            return major, longest
    return "v4", 150.0


def title_from(text: str, default: str = "Untitled") -> str:
    """Title-case the first few words of a description."""
    words = _WORD.findall(_MAGIC.sub(" ", text))[:4]
    return " ".join(w.capitalize() for w in words) or default


def lyrics_for(topic: str) -> str:
    """Write short bracket-tagged lyrics about `topic`."""
    theme = " ".join(_WORD.findall(_MAGIC.sub(" ", topic))[:6]).lower() or "the night"
    return (
        f"[Verse]\nI was thinking about {theme}\nWalking slow beneath the light\n"
        f"Every word I couldn't say\nEchoes softly through the night\n\n"
        f"[Chorus]\nOh, {theme}\nStay with me until the morning\nOh, {theme}\nSing it loud and sing it true"
    )


def _duration(rng: random.Random, longest: float) -> float:
    return round(rng.uniform(0.55, 0.95) * longest, 2)


def _text(value: object) -> str:
    """Return `value` if it is a string, else "" (the relay ignores wrongly typed fields)."""
    return value if isinstance(value, str) else ""


def music(state: SimState, body: dict[str, Any]) -> Task:
    """Build a Suno music task: inspiration, custom or extend, picked by which fields are sent."""
    mv = _text(body.get("mv")) or DEFAULT_MV
    description = _text(body.get("gpt_description_prompt"))
    words = _text(body.get("prompt"))
    outcome, reason = state.take_outcome(description, words, body.get("tags"), body.get("title"))
    parent_id = _text(body.get("continue_clip_id"))
    parent = state.clips[parent_id][0] if parent_id in state.clips else None
    if parent_id and parent is None:
        outcome, reason = "fail_early", f"continue_clip_id not found: {parent_id}"
    # A cover re-sings its source (named in cover_clip_id), it does not continue it.
    cover_id = _text(body.get("cover_clip_id"))
    source = state.clips[cover_id][0] if cover_id in state.clips else parent
    if cover_id and cover_id not in state.clips:
        outcome, reason = "fail_early", f"cover_clip_id not found: {cover_id}"
    if description:  # inspiration mode wins whenever a description is sent
        title, tags, words = title_from(description), state.rng.choice(_STYLES), lyrics_for(description)
    else:
        title = _text(body.get("title")) or (source.title if source else "Untitled")
        tags = _text(body.get("tags")) or (source.tags if source else "")
    if body.get("make_instrumental") is True:
        words = ""
    major, longest = model_info(mv)
    at = body.get("continue_at")
    continue_at = float(at) if parent and isinstance(at, int | float) and not isinstance(at, bool) else None
    clips = [
        Clip(
            state.new_id(),
            title,
            _duration(state.rng, longest),
            tags,
            words,
            description or None,
            mv,
            major,
            parent_id=parent.id if parent else None,
            continue_at=continue_at,
            task=_text(body.get("task")),
        )
        for _ in range(2)
    ]
    return Task(state.new_id(), "MUSIC", "suno", state.clock(), outcome, reason, clips, body)


def lyrics(state: SimState, prompt: str) -> Task:
    """Build a Suno lyrics task."""
    outcome, reason = state.take_outcome(prompt)
    task = Task(state.new_id(), "LYRICS", "suno", state.clock(), outcome, reason, [], {"prompt": prompt})
    task.lyrics_title, task.lyrics_text = title_from(prompt), lyrics_for(prompt)
    return task


def concat(state: SimState, clip_id: str, body: dict[str, Any]) -> Task:
    """Build a concat task joining the extend chain that ends at `clip_id` into one clip."""
    outcome, reason = state.take_outcome()
    segments = state.chain(clip_id)
    clips: list[Clip] = []
    if not segments:
        outcome, reason = "fail_early", f"clip not found: {clip_id}"
    else:
        last = segments[-1]
        # Each parent plays up to where its child continued; the last segment plays whole.
        total = last.duration
        history: list[dict[str, Any]] = []
        for parent, child in itertools.pairwise(segments):
            cut = min(child.continue_at if child.continue_at is not None else parent.duration, parent.duration)
            total += cut
            history.append({"id": parent.id, "continue_at": cut, "type": "gen", "source": "web"})
        history.append({"id": last.id, "continue_at": None, "type": "gen", "source": "web"})
        words = "\n\n".join(s.lyrics for s in segments if s.lyrics)
        clips.append(
            Clip(
                state.new_id(),
                last.title,
                round(total, 2),
                last.tags,
                words,
                last.description,
                last.model_name,
                last.major_version,
                kind="concat",
                concat_history=history,
            )
        )
    return Task(state.new_id(), "MUSIC", "suno", state.clock(), outcome, reason, clips, body)


def udio(state: SimState, gen_params: dict[str, Any]) -> Task:
    """Build a Udio generation of 2 songs; the task id doubles as the generation id."""
    prompt, words = _text(gen_params.get("prompt")), _text(gen_params.get("lyrics"))
    outcome, reason = state.take_outcome(prompt, words)
    if gen_params.get("lyrics_type") == "generate":
        words = lyrics_for(prompt)
    elif gen_params.get("lyrics_type") == "instrumental":
        words = ""
    model = _text(gen_params.get("model_type"))
    seconds = UDIO_SECONDS.get(model, 32.8)
    title = title_from(prompt)
    songs = [
        Clip(
            state.new_id(),
            title,
            round(seconds + state.rng.uniform(-0.5, 0.5), 3),
            prompt,
            words,
            prompt,
            model,
            "v1.5",
        )
        for _ in range(2)
    ]
    return Task(state.new_id(), "MUSIC", "udio", state.clock(), outcome, reason, songs, {"gen_params": gen_params})


def seeded(state: SimState, n: int, action: Action, provider: Provider, outcome: Outcome) -> list[Task]:
    """Build `n` cheap tasks sharing their texts, for benchmarks."""
    if provider == "udio" and action != "MUSIC":
        raise ValueError("udio only makes music")
    reason = {"fail": MODERATION_REASON, "fail_early": EARLY_FAIL_REASON}.get(outcome, "")
    mv = DEFAULT_MV if provider == "suno" else "udio32-v1.5"
    major, longest = model_info(mv) if provider == "suno" else ("v1.5", UDIO_SECONDS[mv])
    words = lyrics_for("benchmark")
    now = state.clock()
    tasks: list[Task] = []
    for i in range(n):
        title = f"Seed {i}"
        clips = (
            []
            if action == "LYRICS"
            else [Clip(state.new_id(), title, longest * 0.8, "pop", words, None, mv, major) for _ in range(2)]
        )
        task = Task(state.new_id(), action, provider, now, outcome, reason, clips)
        task.lyrics_title, task.lyrics_text = title, words
        tasks.append(task)
    return tasks
