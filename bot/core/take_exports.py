"""A finished take's exports from Suno: its WAV or video link, its synced lyrics (.lrc) and its MIDI notes.

Each is asked of CometAPI when a member picks it under More. Some routes answer with a conversion or transcription
still under way; those are asked about again a bounded few times (`poll_interval` apart), so the member's answer
waits a little, never for long, and a route answered `{}` is not asked again: each ask may be charged. CometAPI
publishes no price for these routes (shared/api cometapi-music.md §4.3), so nothing here calls them free; the Discord
side says so under every answer. Each call passes the server's rules first (`JobService.check_rules`).
"""

from __future__ import annotations

import asyncio
from typing import Literal

from bot.cometapi import CometAPI, Midi, lrc
from bot.core.jobs import JobService
from bot.domain import Job, Requester

# MIDI is transcribed on demand: ask this often, this many times, before saying it is not ready.
MIDI_TRIES = 10
# A WAV or MP4 answered as a conversion task is asked about this many times before the member is told to ask again.
MEDIA_TRIES = 5

MediaKind = Literal["wav", "mp4"]


class TakeExports:
    """The WAV or video link, the synced lyrics and the MIDI of a take, from CometAPI's Suno tools."""

    def __init__(self, api: CometAPI, jobs: JobService, *, poll_interval: float = 2.0) -> None:
        self._tools = api.tools
        self._jobs = jobs
        self._poll_interval = poll_interval

    async def media_link(self, job: Job, requester: Requester, kind: MediaKind, clip_id: str) -> str | None:
        """The take's WAV or MP4 link; None while CometAPI is still converting it. Within the server's rules."""
        await self._jobs.check_rules(job, requester)
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

    async def synced_lyrics(self, job: Job, requester: Requester, clip_id: str, *, title: str = "") -> str:
        """The take's words timed as sung, as the text of an .lrc file. Within the server's rules."""
        await self._jobs.check_rules(job, requester)
        return lrc(await self._tools.timing(clip_id), title=title)

    async def midi(self, job: Job, requester: Requester, clip_id: str) -> Midi | None:
        """The take's MIDI notes, per instrument; None while Suno is still transcribing them. Within the server's
        rules."""
        await self._jobs.check_rules(job, requester)
        for attempt in range(MIDI_TRIES):
            if attempt:
                await asyncio.sleep(self._poll_interval)
            midi = await self._tools.midi(clip_id)
            if midi.ready:
                return midi
        return None
