"""Remove a line, on a jam's panel: the starter or a moderator picks lines (privately) and they leave the song.

The picker lists every line in order, 25 to a menu (Discord's most per select) and up to four menus, enough for
the most lines a jam takes. The lines taken out are named in the thread, pinging nobody, so whoever wrote one
knows why it is not sung.
"""

from __future__ import annotations

import contextlib

import discord

from bot.core.community.jams import MAX_LINES
from bot.domain import JamLine
from bot.ui import render
from bot.ui.acknowledgement import in_time, send_answer, update_answer
from bot.ui.items.item_base import ChorusButton, ChorusSelect, bot_of
from bot.ui.items.jam_buttons import jam_for, plain
from bot.ui.replies import safe_reply

PER_MENU = 25  # Discord's most options in one select
OPTION_LABEL = 100  # and characters in an option's label


class JamCutButton(ChorusButton, action="jamcut", fields=("jam",)):
    """Opens the private picker of lines to remove (the starter or a moderator)."""

    def __init__(self, jam_id: int) -> None:
        super().__init__(jam_id, label="Remove a line", emoji="✂️")

    async def on_press(self, interaction: discord.Interaction) -> None:
        """Show the lines, privately, to pick from (a private "thinking…" first if the store is slow)."""
        jam = await jam_for(interaction, self.ids["jam"], "remove lines", answer="private")
        if jam is None:
            return
        lines = await in_time(interaction, bot_of(interaction).community.jams.lines(jam.id), answer="private")
        if not lines:
            await safe_reply(interaction, "There are no lines to remove yet.")
            return
        await send_answer(
            interaction, content=f"Pick the lines to take out of **{plain(jam.theme)}**: they leave the song, and the "
            "thread is told.", view=picker(jam.id, lines), ephemeral=True,
        )


class JamCutSelect(ChorusSelect, action="jamdrop", fields=("jam", "page")):
    """One menu of the picker (lines `page`·25+1 onwards); the values picked are line ids."""

    def __init__(self, jam_id: int, page: int, options: list[discord.SelectOption] | None = None) -> None:
        first = page * PER_MENU + 1
        shown = f"lines {first} to {first + len(options) - 1}" if options and len(options) > 1 else "lines"
        super().__init__(jam_id, page, placeholder=f"Take out {shown}…", options=options)
        if options:
            self.item.max_values = len(options)

    async def on_press(self, interaction: discord.Interaction) -> None:
        """Take the picked lines out, say which in the picker's place, and tell the thread."""
        jam = await jam_for(interaction, self.ids["jam"], "remove lines", answer="update")
        if jam is None:
            return
        picked = [int(value) for value in self.item.values if value.isdigit()]
        removed = await in_time(interaction, bot_of(interaction).community.jams.remove_lines(jam.id, picked),
                                answer="update")
        await update_answer(interaction, content=f"✂️ Taken out:\n{quoted(removed)}", view=None)
        if isinstance(interaction.channel, discord.abc.Messageable):
            authors = ", ".join(dict.fromkeys(f"<@{line.user_id}>" for line in removed))
            # The lines are out all the same if the thread refuses the note: the picker said so.
            with contextlib.suppress(discord.HTTPException):
                await interaction.channel.send(
                    f"✂️ <@{interaction.user.id}> took out {'a line' if len(removed) == 1 else 'lines'} by "
                    f"{authors}:\n{quoted(removed, struck=True)}", allowed_mentions=discord.AllowedMentions.none(),
                )


def picker(jam_id: int, lines: list[JamLine]) -> discord.ui.View:
    """The menus of a jam's lines, numbered as they are sung."""
    view = discord.ui.View(timeout=None)
    shown = lines[:MAX_LINES]
    for page, start in enumerate(range(0, len(shown), PER_MENU)):
        options = [
            discord.SelectOption(label=render.shorten(f"{n}. {' / '.join(line.line.splitlines())}", OPTION_LABEL),
                                 value=str(line.id))
            for n, line in enumerate(shown[start:start + PER_MENU], start + 1)
        ]
        view.add_item(JamCutSelect(jam_id, page, options))
    return view


def quoted(lines: list[JamLine], *, struck: bool = False) -> str:
    """The lines as a quote, as typed (no markdown or mentions), struck through when they are gone."""
    mark = "~~" if struck else ""
    parts = [part for line in lines for part in line.line.splitlines()]
    return render.shorten("\n".join(f"> {mark}{plain(part)}{mark}" for part in parts), 1800)
