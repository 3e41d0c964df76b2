"""/listen: a listening party in the voice channel you are in, playing the chart, a member's songs, a challenge's
entries, or what the server posts while it is on (More → Play in voice on a post plays one song)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.listening import ListeningService, Song
from bot.ui.listening.party_start import listen

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

PERIOD_WORDS = {"week": "this week's chart", "month": "this month's chart", "all": "the all-time chart"}


@app_commands.guild_only()
class Listen(commands.GroupCog, group_name="listen", group_description="Listen together in your voice channel"):
    """Start a listening party, or add to the one that is on."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="top")
    @app_commands.describe(period="The chart of this week (default), the last 30 days, or all time")
    async def top(self, interaction: discord.Interaction,
                  period: Literal["week", "month", "all"] = "week") -> None:
        """Play the server's most liked songs in your voice channel."""
        await listen(interaction, lambda songs, guild_id: songs.top(guild_id, period), what=PERIOD_WORDS[period],
                     empty=f"There is nothing on {PERIOD_WORDS[period]} yet: songs chart once someone likes them "
                           "(❤️ on a song). Try `period: all`.")

    @app_commands.command(name="member")
    @app_commands.describe(member="Whose songs to play (their newest first)")
    async def member(self, interaction: discord.Interaction, member: discord.Member) -> None:
        """Play a member's newest songs in your voice channel."""
        await listen(interaction, lambda songs, guild_id: songs.member(guild_id, member.id),
                     what=f"{member.mention}'s songs", empty=f"{member.mention} has no songs on this server yet.")

    @app_commands.command(name="challenge")
    async def challenge(self, interaction: discord.Interaction) -> None:
        """Play the entries of the running (or last) challenge in your voice channel."""
        await listen(interaction, lambda songs, guild_id: songs.challenge(guild_id), what="the challenge's entries",
                     empty="The challenge has no entries yet.")

    @app_commands.command(name="live")
    async def live(self, interaction: discord.Interaction) -> None:
        """Play each song posted in this channel from now on, as it is posted."""
        await listen(interaction, _nothing_yet, what="this channel", empty="", live=True)

    @commands.Cog.listener()
    async def on_voice_state_update(self, member: discord.Member, before: discord.VoiceState,
                                    after: discord.VoiceState) -> None:
        """Members coming and going in voice: a party left alone leaves after a short grace."""
        await self.bot.listening.on_voice_state_update(member, before, after)


async def _nothing_yet(songs: ListeningService, guild_id: int) -> list[Song]:
    """A live party starts empty: what is posted from now on fills it."""
    return []


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(Listen(bot))
