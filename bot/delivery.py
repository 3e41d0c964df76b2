"""Deliverer: posts a finished job in the channel where it was asked for, exactly once per claim."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.cometapi import TaskResult
from bot.poller import Delivered, PermanentDeliveryError
from bot.store import Job

if TYPE_CHECKING:
    from bot.chorus import Chorus

log = logging.getLogger(__name__)


class Deliverer:
    """The poller's delivery callback. Sends with the job's nonce so a retried post is deduplicated by Discord."""

    def __init__(self, bot: Chorus) -> None:
        self._bot = bot

    async def __call__(self, job: Job) -> Delivered:
        channel = await self._channel(job.channel_id)
        message = await channel.send(
            content=_summary(job),
            nonce=job.nonce,
            allowed_mentions=only_requester(job.user_id),
        )
        return Delivered(channel_id=message.channel.id, message_id=message.id)

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        channel = self._bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self._bot.fetch_channel(channel_id)
            except discord.NotFound:
                raise PermanentDeliveryError(f"channel {channel_id} no longer exists") from None
        if not isinstance(channel, discord.abc.Messageable):
            raise PermanentDeliveryError(f"channel {channel_id} cannot hold messages")
        return channel


def only_requester(user_id: int) -> discord.AllowedMentions:
    """Mentions that can ping the requester and nobody else (AllowedMentions' defaults allow @everyone)."""
    return discord.AllowedMentions(everyone=False, roles=False, replied_user=False, users=[discord.Object(id=user_id)])


def _summary(job: Job) -> str:
    mention = f"<@{job.user_id}>"
    if job.state == "succeeded" and job.result:
        result = TaskResult.from_dict(job.result)
        if result.lyrics is not None:
            title = result.lyrics.title or "Untitled"
            return f"{mention} your lyrics are ready: **{title}**\n{result.lyrics.text}"[:2000]
        links = "\n".join(f"**{clip.title or 'Untitled'}**: {clip.audio_url}" for clip in result.complete_clips)
        return f"{mention} your song is ready!\n{links}"[:2000]
    if job.state == "timed_out":
        return f"{mention} your job #{job.id} took too long and was given up."
    return f"{mention} your job #{job.id} failed: {job.error or 'unknown reason'}"[:2000]
