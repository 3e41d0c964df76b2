"""Likes: one per member per song; pressing again takes it back. Likes never cost quota (no job is made)."""

from __future__ import annotations

from bot.core.community.songs import require_live_song
from bot.domain import Job, LikeToggle
from bot.store import JobStore

# Two presses of one member within this many seconds are one press (a double click never undoes itself).
LIKE_DEBOUNCE = 2.0


class LikeService:
    """Toggles and counts likes."""

    def __init__(self, store: JobStore) -> None:
        self._store = store

    async def toggle(self, job: Job, user_id: int) -> LikeToggle:
        """Like the song, or take the like back; NotAllowedError for a song that is not (or no longer) there."""
        await require_live_song(self._store, job)
        return await self._store.toggle_like(job.id, user_id, job.guild_id, debounce=LIKE_DEBOUNCE)

    async def count(self, job_id: int) -> int:
        """How many members like the song."""
        return await self._store.like_count(job_id)
