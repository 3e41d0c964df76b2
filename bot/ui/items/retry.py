"""Try again: a request a limit refused, kept so the member never has to retype it; and what a failure offers next."""

from __future__ import annotations

import discord

from bot.core.jobs import retry_job
from bot.core.specs import LyricsSpec, SongSpec, UdioSongSpec, spec_of
from bot.domain import Job
from bot.ui import render
from bot.ui.items.item_base import ChorusButton, bot_of
from bot.ui.items.song_buttons import EditButton, InfoButton, RerollButton
from bot.ui.launcher import start_job

# The specs the edit form rebuilds whole (a description or lyrics, style, title, model); the others (extensions,
# covers, stems, persona songs) carry more than it shows, so their failures keep Try again.
EDITABLE_SPECS = (SongSpec, LyricsSpec, UdioSongSpec)


class RetryButton(ChorusButton, action="retry"):
    """Ask again for a request a limit refused (only its member; it goes through the limits again)."""

    who, verb = "owner", "retry"
    answer = "public"  # the new job's card (a refusal still reaches the member privately)

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id, label="Try again", emoji="🔁", style=discord.ButtonStyle.primary)

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Start the kept request as a new job; if a limit still applies, say when it resets (same draft)."""
        await start_job(interaction, bot_of(interaction), lambda who: retry_job(job, who), draft_id=job.id)


def failure_button(job: Job) -> EditButton | RerollButton:
    """What a failed song offers: **Edit** (the form, prefilled) when CometAPI refused its words, since asked again
    unchanged it would fail the same way; else Try again (saying so when the first try may have been charged)."""
    if render.refused_for_its_words(job) and _editable(job):
        return EditButton(job.id)
    return RerollButton(job.id, label=render.retry_label(job))


def failure_actions(job: Job) -> tuple[EditButton | RerollButton, InfoButton]:
    """The buttons under a failure, wherever it is told (privately, on the card, or posted): what to do next, and
    Info, whose small print keeps the technical reason the sentence puts in members' words."""
    return failure_button(job), InfoButton(job.id)


def _editable(job: Job) -> bool:
    try:
        return isinstance(spec_of(job), EDITABLE_SPECS)
    except (TypeError, ValueError, KeyError):  # a row this version cannot read as a request
        return False
