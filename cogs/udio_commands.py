"""/udio: make a song with Udio (CometAPI marks Udio unavailable at times; errors say so clearly)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.catalog import MAX_UDIO_LYRICS, UDIO_MODELS
from bot.core.jobs import udio_job
from bot.core.validation import InvalidInputError, udio_request
from bot.ui.acknowledgement import Answer, in_time
from bot.ui.forms import LyricsForm, LyricsFormValues
from bot.ui.launcher import start_job

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

MODEL_CHOICES = [app_commands.Choice(name=label, value=value) for value, label in UDIO_MODELS.items()]


class Udio(commands.Cog):
    """Udio songs."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot

    @app_commands.command(name="udio")
    @app_commands.guild_only()
    @app_commands.describe(
        prompt="What the song is about, or its styles",
        model="Short clip (~32 s) or full song (~130 s)",
        instrumental="No vocals",
        lyrics="Write your own lyrics in a form",
    )
    @app_commands.choices(model=MODEL_CHOICES)
    async def udio(
        self,
        interaction: discord.Interaction,
        prompt: str,
        model: str | None = None,
        instrumental: bool = False,
        lyrics: bool = False,
    ) -> None:
        """Make a song with Udio from a description."""
        # What the server chose, read before the answer: a form, or the song's public card (acknowledged if slow).
        answer: Answer = "direct" if lyrics else "public"
        settings = await in_time(interaction, self.bot.jobs.guild_settings(interaction.guild_id), answer=answer)
        model = model or (settings.default_udio_model if settings else None)
        # Bad input raises InvalidInputError, answered privately by the tree's error path; nothing is charged.
        request = udio_request(prompt=prompt, model=model, instrumental=instrumental)
        if lyrics and instrumental:
            raise InvalidInputError("lyrics", "An instrumental cannot have lyrics: drop one of the two.")
        if lyrics:

            async def submit_custom(modal_interaction: discord.Interaction, form: LyricsFormValues) -> None:
                custom = udio_request(prompt=form.style or prompt, model=model, lyrics=form.lyrics)
                await start_job(modal_interaction, self.bot, lambda who: udio_job(custom, who))

            modal = LyricsForm(
                interaction,
                heading="Your lyrics for Udio", style=prompt, title="", max_lyrics=MAX_UDIO_LYRICS,
                on_done=submit_custom,
            )
            await interaction.response.send_modal(modal)
            return
        await start_job(interaction, self.bot, lambda who: udio_job(request, who))


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(Udio(bot))
