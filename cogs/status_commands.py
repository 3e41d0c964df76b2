"""/status: a member's recent jobs, or one job in detail. Always ephemeral."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.ui import render

if TYPE_CHECKING:
    from bot.app.chorus import Chorus


class Status(commands.Cog):
    """Job status."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot

    @app_commands.command(name="status")
    @app_commands.guild_only()
    @app_commands.describe(job="A job number from the list, to see it in detail")
    async def status(self, interaction: discord.Interaction, job: app_commands.Range[int, 1] | None = None) -> None:
        """Show your recent music jobs and how they are doing."""
        now = time.time()
        if job is None:
            jobs = await self.bot.jobs.recent(interaction.user.id, guild_id=interaction.guild_id)
            await interaction.response.send_message(embed=render.status_list(jobs, now=now), ephemeral=True)
            return
        found = await self.bot.jobs.get(job)
        # Jobs are public in their channel anyway; keep other servers' jobs private.
        if found is None or (found.guild_id != interaction.guild_id and found.user_id != interaction.user.id):
            await interaction.response.send_message(f"There is no job #{job} here.", ephemeral=True)
            return
        await interaction.response.send_message(embed=render.status_detail(found, now=now), ephemeral=True)


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(Status(bot))
