"""/top and /profile: the server's chart of most liked songs, and a member's songs, likes and styles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.ui.acknowledgement import in_time, send_answer
from bot.ui.community import chart_embeds

if TYPE_CHECKING:
    from bot.app.chorus import Chorus


class Charts(commands.Cog):
    """Likes turned into charts and profiles."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot

    @app_commands.command(name="top")
    @app_commands.guild_only()
    @app_commands.describe(period="Songs made this week (default), in the last 30 days, or ever",
                           provider="Only Suno or only Udio songs")
    async def top(
        self, interaction: discord.Interaction, period: Literal["week", "month", "all"] = "week",
        provider: Literal["suno", "udio"] | None = None,
    ) -> None:
        """The server's most liked songs, with links to them."""
        assert interaction.guild_id is not None  # noqa: S101 - guild_only
        # Read before the answer: a public "thinking…" stands in if the store is slow (a database restart).
        chart = self.bot.community.charts.top(interaction.guild_id, period, provider)
        rows = await in_time(interaction, chart, answer="public")
        embed = chart_embeds.chart(rows, period=period, provider=provider)
        # A chart is for everyone to see; the mentions in it never ping.
        await send_answer(interaction, embed=embed, allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="profile")
    @app_commands.guild_only()
    @app_commands.describe(member="Whose profile (default: yours)")
    async def profile(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        """Songs made, likes received and favourite styles of a member."""
        assert interaction.guild_id is not None  # noqa: S101 - guild_only
        who = member or interaction.user
        found = await in_time(interaction, self.bot.community.charts.profile(interaction.guild_id, who.id),
                              answer="private")  # a private "thinking…" stands in if the store is slow
        await send_answer(interaction, embed=chart_embeds.profile(found), ephemeral=True)


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(Charts(bot))
