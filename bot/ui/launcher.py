"""The one way an interaction starts a job: reserve (limits), acknowledge, submit, then show the status card."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import discord

from bot.cometapi import CometAPIError
from bot.core.limits import LimitReachedError
from bot.core.validation import InvalidInputError
from bot.store import Job, NewJob, Requester
from bot.ui import render
from bot.ui.items.base import item_custom_id
from bot.ui.items.card import card_view
from bot.ui.replies import describe, safe_reply

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)

# Interaction tokens live 15 minutes; stop using one a little early so an edit never races its expiry.
TOKEN_LIFETIME = timedelta(minutes=15) - timedelta(seconds=30)


async def offer_retry(interaction: discord.Interaction, bot: Chorus, refusal: LimitReachedError, draft_id: int) -> None:
    """Say which limit applies and when it resets, show the request back, and offer Try again (privately)."""
    draft = await bot.jobs.get(draft_id)
    prompt = render.shorten(render.prompt_of(draft), 1500) if draft is not None else ""
    text = f"{refusal.message}\nNothing was sent or charged."
    if prompt:
        text += " Here is what you asked for, so nothing is lost:\n```\n" + render.code_safe(prompt) + "\n```"
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Try again", emoji="🔁", style=discord.ButtonStyle.primary,
                                    custom_id=item_custom_id("retry", draft_id)))
    await safe_reply(interaction, render.shorten(text, render.CONTENT), view=view)


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
    *,
    draft_id: int | None = None,
) -> Job | None:
    """Reserve the job, acknowledge, submit, then show the status card; None when it did not start.

    A limit never throws the request away: the member is shown it back, privately, with a Try again button
    (`draft_id` is that kept request when this is the retry). Other refusals (bad input, a rule) raise before
    anything is acknowledged, so the caller's error path answers them privately; nothing is charged either way.
    """
    try:
        job = await bot.jobs.reserve(build(requester_of(interaction)), draft_id=draft_id)
    except LimitReachedError as refusal:
        if refusal.draft_job_id is None:
            raise
        await offer_retry(interaction, bot, refusal, refusal.draft_job_id)
        return None
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
    except Exception:
        # The job is submitted and will be delivered (by a post of its own if the card is unknown): only its live
        # card is lost, which is no reason to apologise to the member.
        log.warning("could not show the status card of job %d", job.id, exc_info=True)
    return job
