"""The one way a command or button starts a job: defer, submit through JobService, show the status card."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import discord

from bot import render
from bot.cometapi import CometAPIError
from bot.replies import describe, safe_reply
from bot.store import Job, Requester
from bot.validation import InvalidInputError

if TYPE_CHECKING:
    from bot.chorus import Chorus

log = logging.getLogger(__name__)

# Interaction tokens live 15 minutes; stop using one a little early so an edit never races its expiry.
TOKEN_LIFETIME = timedelta(minutes=15) - timedelta(seconds=30)


def requester_of(interaction: discord.Interaction) -> Requester:
    """Who asked and where the answer goes, with the token for live edits of the status card."""
    channel_id = interaction.channel_id
    if channel_id is None:
        raise InvalidInputError("channel", "I can only make songs in a channel or a DM.")
    return Requester(
        user_id=interaction.user.id,
        channel_id=channel_id,
        guild_id=interaction.guild_id,
        interaction_token=interaction.token,
        interaction_expires_at=(interaction.created_at + TOKEN_LIFETIME).timestamp(),
    )


async def start_job(
    interaction: discord.Interaction,
    bot: Chorus,
    submit: Callable[[Requester], Awaitable[Job]],
    *,
    provider: str,
) -> Job | None:
    """Acknowledge at once (Discord allows 3 s), submit, then turn the answer into the job's status card."""
    if not interaction.response.is_done():
        await interaction.response.defer(thinking=True)
    try:
        job = await submit(requester_of(interaction))
    except (CometAPIError, InvalidInputError) as exc:
        await safe_reply(interaction, "❌ " + describe(exc, provider=provider))
        return None
    except Exception as exc:
        log.exception("submitting a %s job for user %s failed", provider, interaction.user.id)
        await safe_reply(interaction, "❌ " + describe(exc, provider=provider))
        return None
    try:
        message = await interaction.edit_original_response(
            content=None, embed=render.status_card(job), allowed_mentions=discord.AllowedMentions.none()
        )
        await bot.jobs.remember_status_message(job, message.id)
    except discord.HTTPException:
        # The job is submitted and will be delivered; only its live card is lost.
        log.warning("could not show the status card of job %d", job.id, exc_info=True)
    return job
