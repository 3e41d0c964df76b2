"""Simulated CometAPI task store: tasks, clock and a lazily evaluated state machine."""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import deque
from dataclasses import dataclass, fields
from typing import Any, Protocol

from . import _build
from ._model import (
    MAGIC_WORDS,
    MODERATION_REASON,
    TERMINAL,
    Action,
    Clip,
    Outcome,
    Provider,
    Status,
    Task,
    magic_outcome,
)
from .conversions import Conversion
from .relay import Relay

__all__ = ["MAGIC_WORDS", "Clock", "ManualClock", "SimState", "Status", "Task", "Timings", "wall_clock"]

log = logging.getLogger(__name__)


class Clock(Protocol):
    """Anything callable that returns the current time in seconds."""

    def __call__(self) -> float:
        """The current time in seconds."""
        ...


def wall_clock() -> float:
    """Return monotonic seconds: the default simulator clock."""
    return time.monotonic()


class ManualClock:
    """A clock that only moves when a test calls `advance`."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        """The current time in seconds (only `advance` moves it)."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self.now += seconds


@dataclass(frozen=True, slots=True)
class Timings:
    """How long each stage lasts, in clock seconds."""

    not_start: float = 2.0
    submitted: float = 5.0
    queued: float = 0.0
    in_progress: float = 20.0
    lyrics: float = 3.0
    udio: float = 30.0

    @classmethod
    def instant(cls) -> Timings:
        """Every task is finished by the first fetch after submit."""
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

    def scaled(self, factor: float) -> Timings:
        """Multiply every duration by `factor` (0.1 runs ten times faster)."""
        if factor < 0:
            raise ValueError("factor must be >= 0")
        return Timings(*(getattr(self, f.name) * factor for f in fields(self)))

    @property
    def music_total(self) -> float:
        """Seconds from submit to the end of a music task."""
        return self.not_start + self.submitted + self.queued + self.in_progress


class SimState:
    """All tasks of one simulator, with their lazily computed status."""

    def __init__(
        self, timings: Timings | None = None, clock: Clock | None = None, seed: int | None = None,
        relay: Relay | None = None,
    ) -> None:
        self.timings = timings if timings is not None else Timings()
        self.relay = relay if relay is not None else Relay()
        self.clock: Clock = clock if clock is not None else wall_clock
        self.rng = random.Random(seed)
        self.tasks: dict[str, Task] = {}
        self.clips: dict[str, tuple[Clip, Task]] = {}
        self._epoch = time.time() - self.clock()
        self._next: deque[tuple[Outcome, str]] = deque()
        self.personas: dict[str, str] = {}  # persona id → its root clip id
        self.midi_polls: dict[str, int] = {}  # clip id → how often its MIDI was asked for
        # WAV/MP4 conversions made on demand (relay `act_answers` "task"), by task id, and how often a clip's WAV or
        # MP4 was asked for while it is `{}` ("not_ready").
        self.conversions: dict[str, Conversion] = {}
        self.conversion_asks: dict[tuple[str, str], int] = {}
        # The account's balance; None keeps no account (every submit is accepted, as before).
        self.balance: float | None = None
        self.spent = 0.0
        # The balance host's `keys` list as it should answer it (e.g. a fixture's); None: one unlimited key, "bot".
        self.quota_keys: list[dict[str, Any]] | None = None

    def charge(self, cost: float) -> bool:
        """Take `cost` from the balance; False (and nothing taken) when it is not enough."""
        if self.balance is not None:
            if self.balance < cost:
                return False
            self.balance -= cost
        self.spent += cost
        return True

    # ids and time ---------------------------------------------------------------------------------
    def new_id(self) -> str:
        """Return a uuid4 string drawn from the simulator's (seedable) generator."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def unix(self, at: float) -> int:
        """Convert a clock reading into unix seconds."""
        return int(self._epoch + at)

    # programmatic outcomes ------------------------------------------------------------------------
    def fail_next(self, reason: str = MODERATION_REASON, *, early: bool = False) -> None:
        """Make the next submitted task fail (with clips in `error`, or with `data: null` if early)."""
        self._next.append(("fail_early" if early else "fail", reason))

    def hang_next(self) -> None:
        """Make the next submitted task stay IN_PROGRESS forever."""
        self._next.append(("hang", ""))

    def take_outcome(self, *texts: object) -> tuple[Outcome, str]:
        """Outcome for a new task: a queued `fail_next`/`hang_next` wins over magic words."""
        return self._next.popleft() if self._next else magic_outcome(*texts)

    def set_status(self, task_id: str, status: Status, *, fail_reason: str | None = None) -> None:
        """Force a task into `status` from now on (escape hatch for tests)."""
        task = self.tasks[task_id]
        task.forced, task.forced_at = status, self.clock()
        if status == "FAILURE":
            task.fail_reason = fail_reason or task.fail_reason or MODERATION_REASON
            if task.outcome not in ("fail", "fail_early"):
                task.outcome = "fail"
        task.cache_key = None

    # registration ---------------------------------------------------------------------------------
    def add(self, task: Task) -> Task:
        """Store a task and index its clips."""
        self.tasks[task.id] = task
        for clip in task.clips:
            self.clips[clip.id] = (clip, task)
        log.debug("task %s (%s/%s) outcome=%s", task.id, task.provider, task.action, task.outcome)
        return task

    def get(self, task_id: str) -> Task | None:
        """Return the task with this id, or None."""
        return self.tasks.get(task_id)

    def status(self, task_id: str) -> Status:
        """Current status of a task (KeyError if unknown)."""
        return self.phase(self.tasks[task_id])[0]

    # the state machine ----------------------------------------------------------------------------
    def phase(self, task: Task, now: float | None = None) -> tuple[Status, int]:
        """Return (status, progress percent) of `task` at `now`."""
        if task.forced is not None:
            return task.forced, 100 if task.forced in TERMINAL else 0
        t = (self.clock() if now is None else now) - task.created
        tm = self.timings
        failed: Status = "FAILURE" if task.outcome in ("fail", "fail_early") else "SUCCESS"
        if task.outcome == "partial" and task.provider == "suno" and self.relay.mixed_clips_fail:
            failed = "FAILURE"  # the relay gives the task the status of its least finished clip (§3.2)
        if task.provider == "udio":
            if task.outcome == "hang" or t < tm.udio:
                return "IN_PROGRESS", 0
            return failed, 100
        if task.action == "LYRICS":
            if task.outcome == "hang" or t < tm.lyrics:
                return "NOT_START", 0
            return failed, 100
        if t < tm.not_start:
            return "NOT_START", 0
        if task.outcome == "fail_early":
            return "FAILURE", 100
        t -= tm.not_start
        if t < tm.submitted:
            return "SUBMITTED", 0
        t -= tm.submitted
        if t < tm.queued:
            return "QUEUED", 0
        t -= tm.queued
        if task.outcome == "hang" or t < tm.in_progress:
            # Real progress is coarse and unreliable: step by 10 and never show 100 early.
            tenths = int(t / tm.in_progress * 10) if tm.in_progress > 0 else 0
            return "IN_PROGRESS", 0 if self.relay.flat_progress else min(90, tenths * 10)
        return failed, 100

    def times(self, task: Task, status: Status) -> tuple[int, int, int]:
        """Return (submit_time, start_time, finish_time) in unix seconds."""
        tm = self.timings
        submit = self.unix(task.created)
        if status == "NOT_START":
            return submit, submit, 0
        early = task.outcome == "fail_early" and status == "FAILURE"
        queued_for = tm.not_start if task.provider == "suno" and task.action == "MUSIC" else 0.0
        start = 0 if early else self.unix(task.created + queued_for)
        if status not in TERMINAL:
            return submit, start, 0
        if task.forced is not None:
            end = task.forced_at
        elif task.provider == "udio":
            end = task.created + tm.udio
        elif task.action == "LYRICS":
            end = task.created + tm.lyrics
        else:
            end = task.created + (tm.not_start if early else tm.music_total)
        return submit, start, self.unix(end)

    # queries used by routes -----------------------------------------------------------------------
    def chain(self, clip_id: str) -> list[Clip]:
        """Return the extend chain ending at `clip_id`, oldest segment first."""
        segments: list[Clip] = []
        seen: set[str] = set()
        current: str | None = clip_id
        while current is not None and current in self.clips and current not in seen:
            seen.add(current)
            clip = self.clips[current][0]
            segments.append(clip)
            current = clip.parent_id
        segments.reverse()
        return segments

    # submissions ----------------------------------------------------------------------------------
    def submit_music(self, body: dict[str, Any]) -> Task:
        """Create a Suno music task (inspiration, custom or extend, picked by which fields are sent)."""
        return self.add(_build.music(self, body))

    def submit_lyrics(self, prompt: str) -> Task:
        """Create a Suno lyrics task."""
        return self.add(_build.lyrics(self, prompt))

    def submit_concat(self, clip_id: str, body: dict[str, Any] | None = None) -> Task:
        """Create a concat task: one clip as long as the extend chain ending at `clip_id`."""
        return self.add(_build.concat(self, clip_id, body or {"clip_id": clip_id}))

    def submit_udio(self, gen_params: dict[str, Any]) -> Task:
        """Create a Udio generation of 2 songs (the task id is the generation id)."""
        return self.add(_build.udio(self, gen_params))

    def seed_tasks(
        self, n: int, action: Action = "MUSIC", provider: Provider = "suno", outcome: Outcome = "success"
    ) -> list[str]:
        """Create `n` tasks cheaply and return their ids; `outcome="hang"` keeps them IN_PROGRESS forever."""
        return [self.add(task).id for task in _build.seeded(self, n, action, provider, outcome)]
