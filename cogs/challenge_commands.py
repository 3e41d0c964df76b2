"""/challenge: weekly song challenges. Admins start one; members enter a song and vote; results come by themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.community.challenges import DEFAULT_VOTING, parse_duration
from bot.core.community.songs import title_of
from bot.ui import render
from bot.ui.community import chart_embeds
from bot.ui.items.challenge_vote import enter
from bot.ui.items.jam_buttons import plain
from bot.ui.replies import Refusal

if TYPE_CHECKING:
    from bot.app.chorus import Chorus


@app_commands.guild_only()
class Challenges(commands.GroupCog, group_name="challenge", group_description="Weekly song challenges"):
    """Start, enter, follow and moderate challenges."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="start")
    @app_commands.describe(
        theme="What the songs are about, e.g. songs about the sea",
        ends="When entries close, from now: 7d, 48h, 1d12h, 90m (a bare number is hours)",
        voting="How long voting lasts after that (default 24h)",
    )
    async def start(self, interaction: discord.Interaction, theme: str, ends: str, voting: str | None = None) -> None:
        """Start a challenge in this channel (Manage Server)."""
        assert interaction.guild_id is not None and interaction.channel_id is not None  # noqa: S101 - guild_only
        if not interaction.permissions.manage_guild:
            raise Refusal("Only members with the Manage Server permission can start a challenge.")
        challenge = await self.bot.community.challenges.start(
            guild_id=interaction.guild_id, channel_id=interaction.channel_id, theme=theme, by=interaction.user.id,
            ends_in=parse_duration(ends), voting=parse_duration(voting, field="voting") if voting else DEFAULT_VOTING,
        )
        await interaction.response.send_message(
            f"### 🎯 New challenge: {plain(challenge.theme)}\nMake a song for it (`/suno`, `/udio`, …), then enter it "
            f"from its post: **More → Enter in the challenge**. One entry each, and entering again replaces yours. "
            f"Entries close <t:{int(challenge.submit_ends_at)}:R>; then everyone votes (anonymously, never for their "
            "own).",
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.command(name="submit")
    @app_commands.describe(job="One of your songs made since the challenge started (type to pick it by title)")
    async def submit(self, interaction: discord.Interaction, job: app_commands.Range[int, 1]) -> None:
        """Enter one of your songs in the running challenge (entering again replaces your entry)."""
        await enter(interaction, job)

    @submit.autocomplete("job")
    async def _songs(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
        songs = await self.bot.community.challenges.enterable(interaction.guild_id or 0, interaction.user.id)
        wanted = current.strip().lower()
        return [app_commands.Choice(name=render.shorten(f"{title_of(song)} (song #{song.id})", 100), value=song.id)
                for song in songs if wanted in f"{title_of(song)} {song.id}".lower()][:25]

    @app_commands.command(name="status")
    async def status(self, interaction: discord.Interaction) -> None:
        """The running challenge: theme, phase, entries and yours."""
        assert interaction.guild_id is not None  # noqa: S101 - guild_only
        challenge = await self.bot.community.challenges.current(interaction.guild_id)
        entries = await self.bot.community.challenges.entries(challenge.id) if challenge else []
        embed = chart_embeds.challenge_status(challenge, entries, interaction.user.id)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="remove")
    @app_commands.describe(member="Whose entry to take out")
    async def remove(self, interaction: discord.Interaction, member: discord.Member) -> None:
        """Take a member's entry out of the running challenge (moderators)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild_only
        if not interaction.permissions.manage_messages:
            raise Refusal("Only moderators (Manage Messages) can take an entry out.")
        challenge = await self.bot.community.challenges.remove(interaction.guild_id, member.id, by=interaction.user.id)
        await interaction.response.send_message(
            f"Took {member.mention}'s entry out of **{plain(challenge.theme)}**.", ephemeral=True
        )


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(Challenges(bot))
