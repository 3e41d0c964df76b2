"""The one way an interaction starts a job: reserve (limits), acknowledge, submit, then show the status card."""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import discord

from bot.cometapi import CometAPIError
from bot.core.jobs import NOT_STARTED, Order, Reservation
from bot.core.limits import LimitReachedError
from bot.core.validation import InvalidInputError
from bot.domain import Job, Requester
from bot.ui import render
from bot.ui.acknowledgement import answered_publicly, in_time
from bot.ui.items.card import card_view
from bot.ui.items.item_base import item_custom_id
from bot.ui.replies import PUBLIC_STAND_IN, describe, safe_reply

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)

# Runs once a request's jobs are recorded, before anything is sent to CometAPI (raising withdraws them).
OnReserved = Callable[[list[Job]], Awaitable[None]]
# Interaction tokens live 15 minutes; stop using one a little early so an edit never races its expiry.
TOKEN_LIFETIME = timedelta(minutes=15) - timedelta(seconds=30)


async def offer_retry(interaction: discord.Interaction, bot: Chorus, refusal: LimitReachedError, draft_id: int) -> None:
    """Say which limit applies and when it resets, show the whole request back (as the command that asks for it),
    and offer Try again, labelled with when it will work (privately)."""
    draft = await in_time(interaction, bot.jobs.get(draft_id), answer="public")
    asked = request_echo(draft) if draft is not None else ""
    text = f"{refusal.message}\nNothing was sent or charged."
    if asked:
        text += " Here is what you asked for, so nothing is lost:\n" + asked
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label=retry_label(refusal, time.time()), emoji="🔁",
                                    style=discord.ButtonStyle.primary, custom_id=item_custom_id("retry", draft_id)))
    # Private even when a public "thinking…" stood in while the store was slow (safe_reply replaces it privately).
    await safe_reply(interaction, render.shorten(text, render.CONTENT), view=view)


def request_echo(job: Job) -> str:
    """The whole request, to copy: the slash command that asks for it (prompt, style, title, model, options), then
    the member's own lyrics when there are some; a follow-up (extend, stems, …) by its prompt. Code blocks, so
    nothing the member typed is read as markdown or a mention."""
    command = render.copy_command(job)
    shown = command or render.prompt_of(job)
    if not shown:
        return ""
    echo = "```\n" + render.code_safe(render.shorten(shown, 700)) + "\n```"
    words = job.params.get("lyrics")
    if command and isinstance(words, str) and words.strip():
        echo += "Your lyrics:\n```\n" + render.code_safe(render.shorten(words, 1000)) + "\n```"
    return echo


def retry_label(refusal: LimitReachedError, now: float) -> str:
    """Try again, with when it will work: `Try again · works in 4 min` for a limit that resets at a known time, else
    what it waits for (a song of the member's finishing, songs of the server finishing)."""
    if refusal.resets_at is not None:
        wait = refusal.resets_at - now
        when = ("in a minute" if wait <= 60 else f"in {math.ceil(wait / 60)} min" if wait < 90 * 60
                else f"in {round(wait / 3600)} h")
        return f"Try again · works {when}"
    waits_for = {
        "concurrent": "when a song of yours is done",
        "guild_capacity": "when songs here are done",
        "bot_capacity": "in a few minutes",
    }
    return f"Try again · works {waits_for[refusal.limit]}" if refusal.limit in waits_for else "Try again"


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
    build: Callable[[Requester], Order],
    *,
    draft_id: int | None = None,
    on_reserved: OnReserved | None = None,
    private: bool = False,
) -> Job | None:
    """Reserve the job, acknowledge, submit, then show the status card (only to the member when `private`: a job
    asked from a private menu, such as stems); None when it did not start.

    A limit never throws the request away: the member is shown it back, privately, with a Try again button
    (`draft_id` is that kept request when this is the retry). Other refusals (bad input, a rule) raise before
    anything is acknowledged, so the caller's error path answers them privately; nothing is charged either way.
    `on_reserved` runs once the job is recorded and before it is submitted (e.g. to tie it to a jam or a battle,
    so that even a song that finishes at once is posted as part of it).
    """
    jobs = await start_jobs(interaction, bot, [build], draft_id=draft_id, on_reserved=on_reserved, private=private)
    return jobs[0] if jobs else None


async def start_jobs(
    interaction: discord.Interaction,
    bot: Chorus,
    builds: Sequence[Callable[[Requester], Order]],
    *,
    draft_id: int | None = None,
    on_reserved: OnReserved | None = None,
    private: bool = False,
) -> list[Job] | None:
    """Start one or more jobs for one interaction (a battle of Suno against Udio makes two): all are reserved
    through the limits before anything is acknowledged or sent, or none is. The first job's card answers the
    interaction; the others are posted when done. None when nothing started."""
    requester = requester_of(interaction)
    # Only the first job owns the interaction's token (its card); the others must never edit that message.
    quiet = dataclasses.replace(requester, interaction_token=None, interaction_expires_at=None)
    reserved: list[Reservation] = []

    async def reserve_all() -> None:
        for index, build in enumerate(builds):
            # Every paid job passes its server's limits here, the one door (a press in a DM is charged to the server
            # of the song it came from); only what passed can be sent.
            reserved.append(await bot.jobs.reserve(build(requester if index == 0 else quiet),
                                                   draft_id=draft_id if index == 0 else None))
        if on_reserved is not None:
            await on_reserved([reservation.job for reservation in reserved])

    try:
        # With the store reads before it (the caller's), the one stretch before the answer: acknowledged if slow.
        await in_time(interaction, reserve_all(), answer="private" if private else "public")
    except LimitReachedError as refusal:
        await _withdraw(bot, reserved, f"{NOT_STARTED}: another job of the same request was refused")
        if refusal.draft_job_id is None or len(builds) > 1:
            raise  # the one error path says which limit applies (Try again starts a single job only)
        await offer_retry(interaction, bot, refusal, refusal.draft_job_id)
        return None
    except BaseException:
        await _withdraw(bot, reserved, "the request was refused before it started")
        raise
    answered_publicly(interaction)  # accepted: the card takes the "thinking…"'s place (a failure to send, privately)
    try:
        if not interaction.response.is_done():
            await interaction.response.defer(thinking=True, ephemeral=private)
    except discord.HTTPException:
        # Discord's 3 s window has passed: nothing was sent to CometAPI, so nothing is lost or charged.
        await _withdraw(bot, reserved, "Discord's time to answer the command ran out before the job started")
        log.warning("could not acknowledge the interaction for job(s) %s in time", [r.job.id for r in reserved])
        return None
    sent: list[Job] = []
    for index, reservation in enumerate(reserved):
        try:
            sent.append(await bot.jobs.send(reservation))
        except Exception as exc:
            if not isinstance(exc, CometAPIError):
                log.exception("submitting job %d failed", reservation.job.id)
            if index == 0:
                await _withdraw(bot, reserved[1:], "the first job of the same request could not be started")
                # A song that could not start is the member's business (admins hear of a lack of credit once, in their
                # alert channel): the public "thinking…" gives way to a private answer, and nothing stays public.
                if not private:
                    interaction.extras[PUBLIC_STAND_IN] = True
                await safe_reply(interaction, "❌ " + describe(exc, provider=reservation.job.provider))
                return None
    job = sent[0]
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
    return sent


async def _withdraw(bot: Chorus, reservations: Sequence[Reservation], reason: str) -> None:
    for reservation in reservations:
        await bot.jobs.withdraw(reservation, reason)
