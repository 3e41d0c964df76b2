"""Song posts deleted with Discord's own Delete (by a moderator, or many at once in a bulk delete) delete their songs.

With the guild messages intent Discord tells the bot of every message deleted in its servers' channels, by id only.
Chorus keeps no message cache (its posts would not be in one after a restart anyway), so it listens to the raw
events. A deleted message that was a song's post deletes the song, as the post's own Delete option does: it leaves
the charts, profiles, battles, challenges and song of the day. A copy shown again with /show is not the song's post.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)


class PostDeletes:
    """The bot's listeners for deleted messages (wired in setup_hook)."""

    def __init__(self, bot: Chorus) -> None:
        self._bot = bot

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """One message was deleted."""
        await self._deleted([payload.message_id], payload.guild_id)

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        """Many messages of one channel were deleted at once."""
        await self._deleted(sorted(payload.message_ids), payload.guild_id)

    async def _deleted(self, message_ids: Sequence[int], guild_id: int | None) -> None:
        if guild_id is None:
            return  # a DM: no song's post lives there
        try:
            removed = await self._bot.community.remove_posts(message_ids)
        except Exception:
            # Nobody to answer: the event is gone with the log line (the song stays listed until deleted again).
            log.exception("could not record %d deleted message(s) in guild %d", len(message_ids), guild_id)
            return
        for job_id in removed:
            log.info("job %d's post was deleted in Discord (guild %d): the song is deleted", job_id, guild_id)
