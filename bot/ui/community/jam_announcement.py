"""The line that closes a jam's loop: its song is posted in the jam's thread, and the channel where the jam started
hears of it, in one line replying to the jam's opening message."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.core.community.songs import title_of
from bot.domain import Job
from bot.ui import render

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)


def jam_song_line(job: Job, song_url: str, credits: Sequence[int]) -> str:
    """`🎶 The jam **Our cat** is a song now: song #4, by @a, @b.` (the writers mentioned, not pinged)."""
    title = discord.utils.escape_markdown(discord.utils.escape_mentions(render.shorten(title_of(job), 100)))
    by = ", ".join(f"<@{user}>" for user in dict.fromkeys(credits))
    return f"🎶 The jam **{title}** is a song now: [song #{job.id}]({song_url}), by {by}."


async def announce_jam_song(
    bot: Chorus, thread: discord.Thread, job: Job, song: discord.Message, credits: Sequence[int]
) -> None:
    """Tell the channel the jam's thread grew from that its song is posted, replying to the jam's opening message
    (a thread opened from a message shares its id). Nobody is pinged: the song's post pinged its writers. A failure
    is only logged: the song itself is posted."""
    channel = bot.get_partial_messageable(thread.parent_id, guild_id=thread.guild.id)
    opening = discord.MessageReference(message_id=thread.id, channel_id=thread.parent_id, fail_if_not_exists=False)
    try:
        await channel.send(jam_song_line(job, song.jump_url, credits), reference=opening,
                           nonce=f"chorus-jam-song-{job.id}", allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as exc:
        log.warning("could not announce job %d in channel %d, where its jam started (%s %s)", job.id,
                    thread.parent_id, exc.status, exc.text)
