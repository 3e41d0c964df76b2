"""Try again: a request a limit refused, kept so the member never has to retype it."""

from __future__ import annotations

import discord

from bot.core.jobs import retry_job
from bot.store import Job
from bot.ui.items.item_base import ChorusButton, bot_of
from bot.ui.launcher import start_job


class RetryButton(ChorusButton, action="retry"):
    """Ask again for a request a limit refused (only its member; it goes through the limits again)."""

    who, verb = "owner", "retry"

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id, label="Try again", emoji="🔁", style=discord.ButtonStyle.primary)

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Start the kept request as a new job; if a limit still applies, say when it resets (same draft)."""
        await start_job(interaction, bot_of(interaction), lambda who: retry_job(job, who), draft_id=job.id)
