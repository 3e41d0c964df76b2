"""The command tree: refuses commands while the bot shuts down, and sends every failure down the one error path."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.ui.error_handler import answer_error
from bot.ui.replies import safe_reply

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

RESTARTING = "Chorus is restarting. Please try again in a minute."


class ChorusTree(app_commands.CommandTree["Chorus"]):
    """A command tree whose every failure gets exactly one friendly answer and no traceback."""

    async def interaction_check(self, interaction: discord.Interaction[Chorus]) -> bool:
        """Refuse new commands once shutdown has begun (the member is told why)."""
        if interaction.client.closing:
            await safe_reply(interaction, RESTARTING)
            return False
        return True

    async def on_error(self, interaction: discord.Interaction[Chorus], error: app_commands.AppCommandError) -> None:
        """Slash commands and context menus: answer once, log what happened."""
        command = interaction.command.qualified_name if interaction.command else "?"
        await answer_error(interaction, error, what=f"/{command}")
