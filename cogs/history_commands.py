"""/history and /show: look back at delivered songs, and bring one back with live buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.ui.acknowledgement import in_time, send_answer
from bot.ui.items.history_pages import history_page
from bot.ui.post import lyrics_post, song_post
from bot.ui.replies import safe_reply
from bot.ui.song_files import lyrics_files

if TYPE_CHECKING:
    from bot.app.chorus import Chorus


class History(commands.Cog):
    """Past songs."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot

    @app_commands.command(name="history")
    @app_commands.guild_only()
    @app_commands.describe(member="Whose songs (default: yours)")
    async def history(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        """A member's delivered songs on this server, newest first."""
        who = member or interaction.user
        page = history_page(self.bot, who.id, interaction.guild_id, 0)
        embed, view = await in_time(interaction, page, answer="private")  # a private "thinking…" if the store is slow
        await send_answer(interaction, embed=embed, view=view, ephemeral=True)

    @app_commands.command(name="show")
    @app_commands.guild_only()
    @app_commands.describe(job="The song number (see /history or /status)")
    async def show(self, interaction: discord.Interaction, job: app_commands.Range[int, 1]) -> None:
        """Post a past song again here, with working buttons."""
        # The store is read before the answer: a public "thinking…" stands in if it is slow (a database restart).
        found = await in_time(interaction, self.bot.jobs.get(job), answer="public")
        if found is None or found.guild_id != interaction.guild_id or found.state != "succeeded":
            await safe_reply(interaction, f"There is no finished song #{job} here.")  # privately, in any case
            return
        note = f"shown again by {interaction.user.mention}"
        lyrics = []
        if found.action == "LYRICS":
            view = lyrics_post(found, note=note)
        else:
            likes = await in_time(interaction, self.bot.community.likes.count(found.id), answer="public")
            credits = await in_time(interaction, self.bot.community.jams.credits(found.id), answer="public")
            lyrics = lyrics_files(found)  # the same files its post carries (a few kilobytes: always within limits)
            view = song_post(found, attached={}, lyrics=lyrics, note=note, likes=likes, credits=credits,
                             linked=None)  # a repost links the MP3s: they are not too large
        # Nobody is pinged by a repeat: the requester was told when it was made.
        await send_answer(interaction, view=view, files=[words.upload() for words in lyrics],
                          allowed_mentions=discord.AllowedMentions.none())


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(History(bot))
