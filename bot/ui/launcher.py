"""The one way an interaction starts a job: reserve (limits), acknowledge, submit, then show the status card."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import discord

from bot.cometapi import CometAPIError
from bot.core.validation import InvalidInputError
from bot.store import Job, NewJob, Requester
from bot.ui import render
from bot.ui.items.card import card_view
from bot.ui.replies import describe, safe_reply

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)

# Interaction tokens live 15 minutes; stop using one a little early so an edit never races its expiry.
TOKEN_LIFETIME = timedelta(minutes=15) - timedelta(seconds=30)


def requester_of(interaction: discord.Interaction) -> Requester:
    """Who asked and where the answer goes, with the token for live edits of the status card."""
    channel_id = interaction.channel_id
    if channel_id is None:
        raise InvalidInputError("channel", "I can only make songs in a channel or a DM.")
    roles = getattr(interaction.user, "roles", ())
    return Requester(
        user_id=interaction.user.id,
        role_ids=frozenset(role.id for role in roles),
        channel_id=channel_id,
        guild_id=interaction.guild_id,
        interaction_token=interaction.token,
        interaction_expires_at=(interaction.created_at + TOKEN_LIFETIME).timestamp(),
    )


async def start_job(
    interaction: discord.Interaction,
    bot: Chorus,
    build: Callable[[Requester], NewJob],
) -> Job | None:
    """Reserve the job, acknowledge, submit, then show the status card; None when it did not start.

    A refusal (bad input, a limit, a rule) raises before anything is acknowledged, so the caller's error
    path answers it privately and nothing is charged.
    """
    job = await bot.jobs.reserve(build(requester_of(interaction)))
    try:
        if not interaction.response.is_done():
            await interaction.response.defer(thinking=True)
    except discord.HTTPException:
        # Discord's 3 s window has passed: nothing was sent to CometAPI, so nothing is lost or charged.
        await bot.jobs.withdraw(job, "Discord's time to answer the command ran out before the job started")
        log.warning("could not acknowledge the interaction for job %d in time", job.id)
        return None
    try:
        job = await bot.jobs.send(job)
    except CometAPIError as exc:
        await safe_reply(interaction, "❌ " + describe(exc, provider=job.provider))
        return None
    except Exception as exc:
        log.exception("submitting job %d failed", job.id)
        await safe_reply(interaction, "❌ " + describe(exc, provider=job.provider))
        return None
    try:
        message = await interaction.edit_original_response(
            content=None, embed=render.status_card(job), view=card_view(job),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await bot.jobs.remember_status_message(job, message.id)
    except discord.HTTPException:
        # The job is submitted and will be delivered; only its live card is lost.
        log.warning("could not show the status card of job %d", job.id, exc_info=True)
    return job
