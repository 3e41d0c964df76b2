"""/suno: make a song with Suno, from a description or from the member's own lyrics (via a modal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalog import SUNO_MODELS, suno_model
from bot.flow import start_job
from bot.jobs import suno_job
from bot.modals import LyricsForm, LyricsModal
from bot.replies import describe, safe_reply
from bot.validation import InvalidInputError, suno_request

if TYPE_CHECKING:
    from bot.chorus import Chorus

MODEL_CHOICES = [
    app_commands.Choice(name=m.name + (" (newest)" if i == 0 else ""), value=m.name) for i, m in enumerate(SUNO_MODELS)
]


class Suno(commands.Cog):
    """Suno songs."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot

    @app_commands.command(name="suno")
    @app_commands.guild_only()
    @app_commands.describe(
        prompt="What the song is about, e.g. a sea shanty about our server's cat",
        instrumental="No vocals",
        model="Suno version (default: the newest)",
        style="Styles, e.g. indie folk, female vocals",
        title="The song's title",
        lyrics="Write your own lyrics in a form (the prompt then describes the style)",
    )
    @app_commands.choices(model=MODEL_CHOICES)
    async def suno(
        self,
        interaction: discord.Interaction,
        prompt: str,
        instrumental: bool = False,
        model: str | None = None,
        style: str | None = None,
        title: str | None = None,
        lyrics: bool = False,
    ) -> None:
        """Make a song with Suno from a description."""
        settings = await self.bot.jobs.guild_settings(interaction.guild_id)
        model = model or (settings.default_suno_model if settings else None)
        try:
            request = suno_request(prompt=prompt, model=model, instrumental=instrumental, style=style, title=title)
        except InvalidInputError as exc:
            await safe_reply(interaction, describe(exc))
            return
        if lyrics:
            chosen = suno_model(model)
            assert chosen is not None  # noqa: S101 - suno_request accepted the model

            async def submit_custom(modal_interaction: discord.Interaction, form: LyricsForm) -> None:
                custom = suno_request(
                    lyrics=form.lyrics, prompt=prompt, style=form.style, title=form.title, model=model,
                    instrumental=instrumental,
                )
                await start_job(modal_interaction, self.bot, lambda who: suno_job(custom, who))

            modal = LyricsModal(
                heading="Your lyrics for Suno", style=style or prompt, title=title or "",
                max_lyrics=chosen.max_lyrics, on_done=submit_custom,
            )
            await interaction.response.send_modal(modal)
            return
        await start_job(interaction, self.bot, lambda who: suno_job(request, who))


async def setup(bot: Chorus) -> None:
    await bot.add_cog(Suno(bot))
