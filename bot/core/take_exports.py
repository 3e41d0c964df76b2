"""A finished take's exports from Suno: its WAV or video link, its synced lyrics (.lrc) and its MIDI notes.

Each is asked of CometAPI when a member picks it under More. Some routes answer with a conversion or transcription
still under way; those are asked about again a bounded few times (`poll_interval` apart), so the member's answer
waits a little, never for long, and a route answered `{}` is not asked again: each ask may be charged. CometAPI
publishes no price for these routes (shared/api cometapi-music.md §4.3), so nothing here calls them free; the Discord
side says so under every answer. Each call passes the server's rules first (`JobService.check_rules`).

A finished answer is remembered for a while (a take's files do not change): asking again for the same take's WAV,
video, lyrics timing or MIDI answers at once without asking CometAPI (so without a charge, and the answer says no
such thing), and members pressing the same tool at the same moment share one call. The memory is this process's,
bounded in size and age.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, cast

from cachetools import TTLCache

from bot.cometapi import AlignedWord, CometAPI, Midi, lrc
from bot.core.jobs import JobService
from bot.domain import Job, Requester

# MIDI is transcribed on demand: ask this often, this many times, before saying it is not ready.
MIDI_TRIES = 10
# A WAV or MP4 answered as a conversion task is asked about this many times before the member is told to ask again.
MEDIA_TRIES = 5

MediaKind = Literal["wav", "mp4"]
# Finished answers are remembered this long (seconds), this many at most (the oldest go first).
REMEMBER_FOR = 6 * 3600.0
REMEMBER_AT_MOST = 512

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Exported(Generic[T_co]):
    """A tool's answer, and whether CometAPI was asked for it just now (False: remembered, nothing was charged)."""

    value: T_co
    asked: bool


class _Remembered:
    """Finished answers per (route, clip) for `REMEMBER_FOR` s, `REMEMBER_AT_MOST` of them; asks for one key at the
    same moment share one call (a failure reaches each of them, and is not remembered)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._kept: TTLCache[tuple[str, str], Any] = TTLCache(REMEMBER_AT_MOST, REMEMBER_FOR, timer=clock)
        self._asking: dict[tuple[str, str], asyncio.Task[Any]] = {}

    async def get(self, key: tuple[str, str], ask: Callable[[], Awaitable[T]], *,
                  finished: Callable[[T], bool]) -> Exported[T]:
        """The remembered answer for `key`, or `ask`'s (remembered when `finished`)."""
        if key in self._kept:
            return Exported(cast(T, self._kept[key]), asked=False)
        task = self._asking.get(key)
        if task is None:
            task = asyncio.ensure_future(ask())
            self._asking[key] = task
            task.add_done_callback(lambda done: self._settle(key, done, finished))
        # Shielded: a member who gives up does not cancel the call the others wait for.
        return Exported(cast(T, await asyncio.shield(task)), asked=True)

    def _settle(self, key: tuple[str, str], done: asyncio.Task[Any], finished: Callable[[Any], bool]) -> None:
        self._asking.pop(key, None)
        if not done.cancelled() and done.exception() is None and finished(done.result()):
            self._kept[key] = done.result()


class TakeExports:
    """The WAV or video link, the synced lyrics and the MIDI of a take, from CometAPI's Suno tools."""

    def __init__(self, api: CometAPI, jobs: JobService, *, poll_interval: float = 2.0) -> None:
        self._tools = api.tools
        self._jobs = jobs
        self._poll_interval = poll_interval
        self._remembered = _Remembered()

    async def media_link(self, job: Job, requester: Requester, kind: MediaKind, clip_id: str) -> Exported[str | None]:
        """The take's WAV or MP4 link; None while CometAPI is still converting it. Within the server's rules."""
        await self._jobs.check_rules(job, requester)
        return await self._remembered.get((kind, clip_id), lambda: self._media_link(kind, clip_id),
                                          finished=lambda url: url is not None)

    async def _media_link(self, kind: MediaKind, clip_id: str) -> str | None:
        link = await (self._tools.wav(clip_id) if kind == "wav" else self._tools.mp4(clip_id))
        if link.url is not None or link.task_id is None:
            return link.url
        for attempt in range(MEDIA_TRIES):
            if attempt:
                await asyncio.sleep(self._poll_interval)
            url = await self._tools.conversion(kind, clip_id, link.task_id)
            if url is not None:
                return url
        return None

    async def synced_lyrics(self, job: Job, requester: Requester, clip_id: str, *, title: str = "") -> Exported[str]:
        """The take's words timed as sung, as the text of an .lrc file. Within the server's rules."""
        await self._jobs.check_rules(job, requester)
        words: Exported[list[AlignedWord]] = await self._remembered.get(
            ("timing", clip_id), lambda: self._tools.timing(clip_id), finished=bool)
        return Exported(lrc(words.value, title=title), words.asked)

    async def midi(self, job: Job, requester: Requester, clip_id: str) -> Exported[Midi | None]:
        """The take's MIDI notes, per instrument; None while Suno is still transcribing them. Within the server's
        rules."""
        await self._jobs.check_rules(job, requester)
        return await self._remembered.get(("midi", clip_id), lambda: self._midi(clip_id),
                                          finished=lambda midi: midi is not None)

    async def _midi(self, clip_id: str) -> Midi | None:
        for attempt in range(MIDI_TRIES):
            if attempt:
                await asyncio.sleep(self._poll_interval)
            midi = await self._tools.midi(clip_id)
            if midi.ready:
                return midi
        return None
