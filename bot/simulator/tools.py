"""Suno's take tools in the simulator: WAV and MP4 links, word timing, MIDI, style tags, personas, stems, uploads
and the account balance, each with the states and failures the real routes have (shared/api §2.5 to §4.4)."""

from __future__ import annotations

import uuid
from typing import Any

from ._build import DEFAULT_MV, model_info
from ._model import Clip, Task
from .state import SimState

STEM_NAMES = {
    "two": ("Vocals", "Instrumental"),
    "twelve": ("Vocals", "Backing vocals", "Drums", "Bass", "Guitar", "Keyboard", "Percussion", "Strings", "Synth",
               "FX", "Brass", "Woodwinds"),
}
# A MIDI transcription answers "running" this many times before it is complete, as the real route does.
MIDI_POLLS = 2
# What a call costs on the simulated account, in USD. Songs and lyrics at the open-source relay's code defaults
# (`suno_music` 0.1 for every submit/music task whatever its `task`, stems and covers included; `suno_lyrics` 0.01;
# shared/api §4.3). CometAPI publishes no price for the take tools, persona creation or uploads, and other gateways
# of the same family sell them as separately priced models: the simulator charges them TOOL_PRICE, a made-up small
# amount, so the bot is never tried against a route that pretends to be free.
PRICES = {"music": 0.1, "lyrics": 0.01}
TOOL_PRICE = 0.01


def complete_clip(state: SimState, clip_id: str) -> tuple[Clip, Task] | None:
    """The clip and its task when the task has finished with it, else None (the routes then answer an error)."""
    found = state.clips.get(clip_id)
    if found is None:
        return None
    status, _ = state.phase(found[1])
    return found if status == "SUCCESS" and found[1].outcome != "fail" else None


def timing(clip: Clip) -> dict[str, Any]:
    """Word timings spread over the clip: each sung line gets an equal share, words within it too."""
    lines = [line for line in clip.lyrics.splitlines() if line.strip()]
    words: list[dict[str, Any]] = []
    if lines:
        share = clip.duration / len(lines)
        for n, line in enumerate(lines):
            parts = line.split()
            for m, part in enumerate(parts):
                start = n * share + m * share / len(parts)
                text = part + ("\n" if m == len(parts) - 1 else " ")
                words.append({"word": text, "success": True, "start_s": round(start, 2),
                              "end_s": round(start + share / len(parts), 2), "p_align": 0.97})
    return {"aligned_words": words, "waveform_data": [0.1, 0.2], "hoot_cer": 0.03, "is_streamed": False}


def midi(state: SimState, clip: Clip) -> dict[str, Any]:
    """"running" for the first polls of a clip, then a small transcription."""
    polls = state.midi_polls.get(clip.id, 0) + 1
    state.midi_polls[clip.id] = polls
    if polls <= MIDI_POLLS:
        return {"state": "running"}
    notes = [{"pitch": 60 + (n % 12), "start": n * 0.5, "end": n * 0.5 + 0.4, "velocity": 0.7} for n in range(16)]
    return {"state": "complete", "instruments": [{"name": "Acoustic Grand Piano", "notes": notes},
                                                   {"name": "Acoustic Bass", "notes": notes[::4]}]}


def persona(state: SimState, body: dict[str, Any]) -> dict[str, Any] | None:
    """The raw persona JSON (no envelope), or None when the root clip is unknown or not complete."""
    root = body.get("root_clip_id")
    if not isinstance(root, str) or complete_clip(state, root) is None:
        return None
    persona_id = str(uuid.UUID(int=state.rng.getrandbits(128)))
    state.personas[persona_id] = root
    return {"id": persona_id, "name": body.get("name", ""), "description": body.get("description", ""),
            "root_clip_id": root, "persona_clips": [{"clip": {"id": root}}], "user_handle": "simulator"}


def stems(state: SimState, body: dict[str, Any]) -> Task:
    """A stem separation: one clip per stem, as long as the source, named by its stem."""
    source = state.clips.get(str(body.get("continue_clip_id") or ""))
    kind = str(body.get("stem_task") or "two").lower()
    names = STEM_NAMES.get(kind, STEM_NAMES["two"])
    outcome, reason = state.take_outcome()
    if source is None:
        outcome, reason = "fail_early", "continue_clip_id not found"
    clip = source[0] if source else None
    clips = [
        Clip(state.new_id(), name, clip.duration if clip else 60.0, clip.tags if clip else "", "", None, "chirp-stem",
             "v4.5", kind="stem", parent_id=clip.id if clip else None)
        for name in names
    ]
    return Task(state.new_id(), "MUSIC", "suno", state.clock(), outcome, reason, clips, body)


def upload(state: SimState, url: str) -> Task:
    """Registering a member's audio: one clip of type "upload" that covers and extensions can start from."""
    outcome, reason = state.take_outcome(url)
    major, _ = model_info(DEFAULT_MV)
    clip = Clip(state.new_id(), "Uploaded audio", 60.0, "", "", None, DEFAULT_MV, major, kind="upload")
    return Task(state.new_id(), "MUSIC", "suno", state.clock(), outcome, reason, [clip], {"url": url})


def price(body: dict[str, Any] | None, action: str) -> float:
    """What a submit costs on the simulated account (the relay bills every music task alike, stems included)."""
    return PRICES["lyrics"] if action == "LYRICS" else PRICES["music"]


def quota(state: SimState) -> dict[str, Any]:
    """The balance host's answer (shared/api §4.4)."""
    balance = state.balance if state.balance is not None else 100.0
    keys = state.quota_keys if state.quota_keys is not None else [
        {"name": "bot", "remain_quota": -1, "used_quota": round(state.spent, 4)}
    ]
    return {"username": "simulator", "total_quota": round(balance, 4), "total_used_quota": round(state.spent, 4),
            "request_count": len(state.tasks), "keys": keys}
