"""/history pages: a member's delivered songs, with Newer/Older buttons that survive restarts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.ui import render
from bot.ui.acknowledgement import in_time, update_answer
from bot.ui.items.item_base import ChorusButton, bot_of

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

PER_PAGE = 5


async def history_page(
    bot: Chorus, user_id: int, guild_id: int | None, page: int
) -> tuple[discord.Embed, discord.ui.View]:
    """The embed and buttons for one page (clamped to the pages there are)."""
    jobs, total = await bot.jobs.history(user_id, guild_id=guild_id, page=page, per_page=PER_PAGE)
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    if page >= pages and total:
        page = pages - 1
        jobs, total = await bot.jobs.history(user_id, guild_id=guild_id, page=page, per_page=PER_PAGE)
    view = discord.ui.View(timeout=None)
    if page > 0:
        view.add_item(HistoryPageButton(user_id, page - 1, "◀ Newer"))
    if page + 1 < pages:
        view.add_item(HistoryPageButton(user_id, page + 1, "Older ▶"))
    return render.history(user_id, jobs, page=page, pages=pages, total=total), view


class HistoryPageButton(ChorusButton, action="history", fields=("user", "page")):
    """Turns the page of a /history answer."""

    def __init__(self, user_id: int, page: int, label: str = "Page") -> None:
        super().__init__(user_id, page, label=label)

    async def on_press(self, interaction: discord.Interaction) -> None:
        """Show the page this button points to (acknowledged as an update of this page if the store is slow)."""
        page = history_page(bot_of(interaction), self.ids["user"], interaction.guild_id, self.ids["page"])
        embed, view = await in_time(interaction, page, answer="update")
        await update_answer(interaction, embed=embed, view=view)
