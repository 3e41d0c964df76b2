"""The "Make it a song" message context menu: any message's text becomes a song's description or lyrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.catalog import MAX_SUNO_DESCRIPTION
from bot.core.jobs import suno_job
from bot.core.validation import suno_request
from bot.ui.acknowledgement import in_time
from bot.ui.forms import SongFromTextForm, SongFromTextValues
from bot.ui.launcher import start_job
from bot.ui.replies import safe_reply

if TYPE_CHECKING:
    from bot.app.chorus import Chorus


class MakeItASong(commands.Cog):
    """Right-click a message → Apps → Make it a song."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name="Make it a song", callback=self.make_it_a_song)
        self.menu.guild_only = True

    async def cog_load(self) -> None:
        """Add the context menu to the tree."""
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        """Remove the context menu from the tree."""
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    async def make_it_a_song(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Open a form with the message's text as a description (one short line) or as lyrics."""
        text = message.content.strip()
        if not text:
            await safe_reply(interaction, "That message has no text to sing.")
            return
        # Short single-line text reads as a description; anything longer is offered as lyrics.
        as_lyrics = "\n" in text or len(text) > MAX_SUNO_DESCRIPTION

        async def submit(modal_interaction: discord.Interaction, form: SongFromTextValues) -> None:
            # Read once the form is sent, not before it opens: a form cannot wait for a slow store (a restart).
            guild_id = modal_interaction.guild_id
            settings = await in_time(modal_interaction, self.bot.jobs.guild_settings(guild_id), answer="public")
            model = settings.default_suno_model if settings else None
            if form.description:  # inspiration mode: Suno writes the lyrics
                request = suno_request(prompt=form.description, style=form.style, title=form.title, model=model)
            else:  # custom mode: the message's text is sung
                request = suno_request(lyrics=form.lyrics, style=form.style, title=form.title, model=model)
            await start_job(modal_interaction, self.bot, lambda who: suno_job(request, who))

        modal = SongFromTextForm(
            interaction,
            description="" if as_lyrics else text, lyrics=text if as_lyrics else "", on_done=submit
        )
        await interaction.response.send_modal(modal)


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(MakeItASong(bot))
