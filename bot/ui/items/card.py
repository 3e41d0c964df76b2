"""The status card's button: Cancel, while the job is queued or running."""

from __future__ import annotations

import discord

from bot.domain import Job
from bot.ui import render
from bot.ui.items.item_base import ChorusButton, bot_of
from bot.ui.replies import safe_reply


class CancelButton(ChorusButton, action="cancel"):
    """Stop following a queued or running job (the requester or moderators)."""

    who, verb = "owner", "cancel"

    def __init__(self, job_id: int) -> None:
        # Everyone sees the card: the label says whose button this is.
        super().__init__(job_id, label="Cancel (asker only)", emoji="✖️", style=discord.ButtonStyle.danger)

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Cancel the job and show the card in its final state."""
        cancelled = await bot_of(interaction).jobs.cancel(job)
        if cancelled is None:
            await safe_reply(interaction, "That job has already finished or was cancelled.")
            return
        await interaction.response.edit_message(embed=render.status_card(cancelled), view=None)


def card_view(job: Job) -> discord.ui.View:
    """The status card's buttons: Cancel while the job is queued or running, nothing after."""
    view = discord.ui.View(timeout=None)
    if job.state in {"submitting", "queued", "running"} and not job.cancelled:
        view.add_item(CancelButton(job.id))
    return view
