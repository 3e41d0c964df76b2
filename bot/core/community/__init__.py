"""Making music together, with no Discord in it: likes and charts, song battles, weekly challenges, jams, and the
timers that close battles, move challenges on and feature a song of the day."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from bot.store import JobStore

from .battles import BattleService
from .challenges import ChallengeService
from .jams import JamService
from .likes import LikeService
from .rankings import ChartService


class Community:
    """The community services of one bot, sharing its store and clock."""

    def __init__(self, store: JobStore, *, now: Callable[[], float] = time.time) -> None:
        self.likes = LikeService(store)
        self.charts = ChartService(store, now=now)
        self.battles = BattleService(store, now=now)
        self.challenges = ChallengeService(store, now=now)
        self.jams = JamService(store)
        self._store = store

    async def remove_song(self, job_id: int, *, by: int | None) -> bool:
        """A song's post was deleted: it drops out of charts, battles, challenges and song of the day."""
        return await self._store.remove_song(job_id, by=by)

    async def remove_posts(self, message_ids: Collection[int]) -> list[int]:
        """Messages were deleted in Discord (who deleted them, Discord does not say): those that were songs' posts
        delete their songs, as the Delete option does. The songs deleted now, by job id."""
        removed = []
        for job_id in await self._store.songs_posted_as(message_ids):
            if await self._store.remove_song(job_id, by=None):
                removed.append(job_id)
        return removed


__all__ = ["Community"]
