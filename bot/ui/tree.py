"""The command tree: refuses commands while the bot shuts down, and sends every failure down the one error path."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.ui.error_handler import answer_error
from bot.ui.replies import safe_reply

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)

RESTARTING = "Chorus is restarting. Please try again in a minute."
# A command answers in milliseconds; one still unanswered after this (the database restarting, the store waiting for
# it) is acknowledged ("thinking…") so Discord's 3 s window never passes, and its answer replaces that later.
SLOW_ANSWER = 2.0


class ChorusTree(app_commands.CommandTree["Chorus"]):
    """A command tree whose every failure gets exactly one friendly answer and no traceback."""

    def __init__(self, client: Chorus) -> None:
        super().__init__(client)
        self._watchdogs: set[asyncio.Task[None]] = set()

    async def interaction_check(self, interaction: discord.Interaction[Chorus]) -> bool:
        """Refuse new commands once shutdown has begun (the member is told why); make sure a slow one is
        acknowledged in time."""
        if interaction.client.closing:
            await safe_reply(interaction, RESTARTING)
            return False
        if interaction.type is discord.InteractionType.application_command:
            watchdog = asyncio.create_task(_acknowledge_if_slow(interaction))
            self._watchdogs.add(watchdog)
            watchdog.add_done_callback(self._watchdogs.discard)
        return True

    async def on_error(self, interaction: discord.Interaction[Chorus], error: app_commands.AppCommandError) -> None:
        """Slash commands and context menus: answer once, log what happened."""
        command = interaction.command.qualified_name if interaction.command else "?"
        await answer_error(interaction, error, what=f"/{command}")


async def _acknowledge_if_slow(interaction: discord.Interaction[Chorus]) -> None:
    await asyncio.sleep(SLOW_ANSWER)
    if interaction.response.is_done():
        return
    try:
        await interaction.response.defer(thinking=True)
        log.warning("interaction %s was slow to answer (is the database restarting?); acknowledged it first",
                    interaction.id)
    except discord.HTTPException:  # answered meanwhile, or too late already: either way nothing more to do
        log.debug("could not acknowledge slow interaction %s", interaction.id, exc_info=True)
