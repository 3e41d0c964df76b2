"""/jam: open a thread where members write a song's lyrics together, line by line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.ui.community.posts import jam_panel
from bot.ui.items.jam_buttons import plain

if TYPE_CHECKING:
    from bot.app.chorus import Chorus


class Jams(commands.Cog):
    """Jam threads."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot

    @app_commands.command(name="jam")
    @app_commands.guild_only()
    @app_commands.describe(theme="What the song is about; it names the thread and the song")
    async def jam(self, interaction: discord.Interaction, theme: str) -> None:
        """Open a jam thread: everyone adds lyric lines, then it becomes a song credited to all of them."""
        assert interaction.guild_id is not None and interaction.channel_id is not None  # noqa: S101 - guild_only
        theme = self.bot.community.jams.theme(theme)
        if not isinstance(interaction.channel, discord.TextChannel):
            await interaction.response.send_message("Start a jam in a text channel (threads grow from there).",
                                                    ephemeral=True)
            return
        await interaction.response.send_message(
            f"🎤 **Jam: {plain(theme)}**, started by {interaction.user.mention}. Add your lines in the thread!",
            allowed_mentions=discord.AllowedMentions.none(),
        )
        opening = await interaction.original_response()
        try:
            thread = await opening.create_thread(name=f"🎤 {theme}"[:100], auto_archive_duration=1440)
        except discord.HTTPException as exc:
            await interaction.edit_original_response(
                content=f"I could not open a thread here (Discord said {exc.status}): I need Create Public Threads."
            )
            return
        jam = await self.bot.community.jams.open(
            guild_id=interaction.guild_id, channel_id=interaction.channel_id, thread_id=thread.id,
            starter_id=interaction.user.id, theme=theme,
        )
        await thread.send(view=jam_panel(jam), allowed_mentions=discord.AllowedMentions.none())


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(Jams(bot))
