"""/lyrics: write lyrics with Suno, with a button that turns them into a song."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.jobs import lyrics_job
from bot.core.validation import lyrics_prompt
from bot.ui.launcher import start_job

if TYPE_CHECKING:
    from bot.app.chorus import Chorus


class Lyrics(commands.Cog):
    """Suno lyrics."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot

    @app_commands.command(name="lyrics")
    @app_commands.guild_only()
    @app_commands.describe(prompt="The theme, e.g. a rainy night in a neon city")
    async def lyrics(self, interaction: discord.Interaction, prompt: str) -> None:
        """Write song lyrics with Suno, then make them a song with one click."""
        theme = lyrics_prompt(prompt)  # bad input is answered privately by the tree's error path
        await start_job(interaction, self.bot, lambda who: lyrics_job(theme, who))


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(Lyrics(bot))
