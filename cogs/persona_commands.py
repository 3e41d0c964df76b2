"""/persona: the server's personas (house voices). Made from a song's More → Tools; used with /suno persona:."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.ui.replies import Refusal

if TYPE_CHECKING:
    from bot.app.chorus import Chorus


@app_commands.guild_only()
class Personas(commands.GroupCog, group_name="persona", group_description="This server's personas (house voices)"):
    """List personas (anyone) and remove them (Manage Server)."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="list")
    async def list_personas(self, interaction: discord.Interaction) -> None:
        """The voices songs here can be sung in."""
        personas = await self.bot.personas.list(interaction.guild_id or 0)
        if not personas:
            text = ("This server has no personas yet. Make one from a song: **More → Tools for take A → Make a "
                    "persona** (the song's requester or a moderator).")
        else:
            lines = [f"🗣️ **{discord.utils.escape_markdown(p.name)}**"
                     + (f": {discord.utils.escape_markdown(p.description)}" if p.description else "")
                     + f" · by <@{p.created_by}>" for p in personas]
            text = "\n".join(lines) + "\n\nSing in one with `/suno persona:<name>`."
        await interaction.response.send_message(text[:2000], ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="remove")
    @app_commands.describe(name="The persona to remove")
    @app_commands.default_permissions(manage_guild=True)
    async def remove(self, interaction: discord.Interaction, name: str) -> None:
        """Remove a persona from this server (Manage Server)."""
        if not interaction.permissions.manage_guild:
            raise Refusal("Only members with the Manage Server permission can remove personas.")
        removed = await self.bot.personas.remove(interaction.guild_id or 0, name)
        text = f"Removed the persona “{name}”." if removed else f"There is no persona called “{name}” here."
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())

    @remove.autocomplete("name")
    async def _names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        personas = await self.bot.personas.list(interaction.guild_id or 0)
        return [app_commands.Choice(name=p.name, value=p.name) for p in personas
                if current.lower() in p.name.lower()][:25]


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(Personas(bot))
