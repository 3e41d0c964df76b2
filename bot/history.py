"""/history pages: a member's delivered songs, with Prev/Next buttons that survive restarts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot import render

if TYPE_CHECKING:
    from bot.chorus import Chorus

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
    embed = discord.Embed(title="Songs", colour=render.COLOURS["busy"])
    embed.description = f"<@{user_id}>'s songs, newest first.\n\n"
    if not jobs:
        embed.description += "No songs yet."
    for job in jobs:
        result = render.result_of(job)
        titles = " / ".join(clip.title or "Untitled" for clip in (result.complete_clips if result else ()))
        url = render.jump_url(job.guild_id, job.delivered_channel_id or job.channel_id, job.delivered_message_id or 0)
        embed.description += (
            f"**[{render.shorten(titles or 'Untitled', 80)}]({url})** · {render.model_label(job)} · job #{job.id}\n"
        )
    embed.set_footer(text=f"Page {page + 1} of {pages} · {total} song(s)")
    view = discord.ui.View(timeout=None)
    if page > 0:
        view.add_item(HistoryPageButton(user_id, page - 1, "◀ Newer"))
    if page + 1 < pages:
        view.add_item(HistoryPageButton(user_id, page + 1, "Older ▶"))
    return embed, view


PAGE_ID = r"chorus:history:(?P<user>\d+):(?P<page>\d+)"


class HistoryPageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=PAGE_ID):
    """Turns the page of a /history answer."""

    def __init__(self, user_id: int, page: int, label: str = "Page") -> None:
        super().__init__(discord.ui.Button(label=label, custom_id=f"chorus:history:{user_id}:{page}",
                                           style=discord.ButtonStyle.secondary))
        self.user_id, self.page = user_id, page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> HistoryPageButton:
        return cls(int(match["user"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = cast("Chorus", interaction.client)
        embed, view = await history_page(bot, self.user_id, interaction.guild_id, self.page)
        await interaction.response.edit_message(embed=embed, view=view)
