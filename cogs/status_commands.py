"""/status: a member's recent jobs, or one job in detail. Always ephemeral."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.ui import render
from bot.ui.acknowledgement import in_time, send_answer
from bot.ui.replies import safe_reply

if TYPE_CHECKING:
    from bot.app.chorus import Chorus


class Status(commands.Cog):
    """Job status."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot

    @app_commands.command(name="status")
    @app_commands.guild_only()
    @app_commands.describe(job="A song number from the list, to see it in detail")
    async def status(self, interaction: discord.Interaction, job: app_commands.Range[int, 1] | None = None) -> None:
        """Show your recent songs and how they are doing."""
        now = time.time()
        # The store is read before the answer: a private "thinking…" stands in if it is slow (a database restart).
        if job is None:
            recent = self.bot.jobs.recent(interaction.user.id, guild_id=interaction.guild_id)
            jobs = await in_time(interaction, recent, answer="private")
            await send_answer(interaction, embed=render.status_list(jobs, now=now), ephemeral=True)
            return
        found = await in_time(interaction, self.bot.jobs.get(job), answer="private")
        # Jobs are public in their channel anyway; keep other servers' jobs private.
        if found is None or (found.guild_id != interaction.guild_id and found.user_id != interaction.user.id):
            await safe_reply(interaction, f"There is no song #{job} here.")
            return
        await send_answer(interaction, embed=render.status_detail(found, now=now), ephemeral=True)


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(Status(bot))
