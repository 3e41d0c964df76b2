"""A jam thread's buttons: Add a line (a form) and Make it a song (the starter or moderators)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from bot.core.jobs import suno_job
from bot.core.validation import suno_request
from bot.store import Job
from bot.ui.forms import ChorusForm
from bot.ui.items.item_base import ChorusButton, bot_of
from bot.ui.launcher import start_job
from bot.ui.replies import safe_reply


def plain(text: str) -> str:
    """Member text shown as typed: no markdown or mentions sneak in."""
    return discord.utils.escape_markdown(discord.utils.escape_mentions(text))


class JamLineForm(ChorusForm):
    """One lyric line (or a few short ones) for the jam."""

    def __init__(
        self, opener: discord.Interaction, *, on_done: Callable[[discord.Interaction, str], Awaitable[None]]
    ) -> None:
        super().__init__(opener, title="Add a line to the jam", name="jamline")
        self._on_done = on_done
        self.line: discord.ui.TextInput[JamLineForm] = discord.ui.TextInput(
            label="Your line", custom_id="line", style=discord.TextStyle.paragraph, max_length=300,
            placeholder="We wrote this song together…",
        )
        self.add_item(self.line)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        """Hand the line on (bad input raises and is answered by on_error)."""
        await self._on_done(interaction, self.line.value)


class JamLineButton(ChorusButton, action="jamline", fields=("jam",)):
    """Opens the form to add a line; the line is then shown in the thread, credited without a ping."""

    def __init__(self, jam_id: int) -> None:
        super().__init__(jam_id, label="Add a line", emoji="✍️", style=discord.ButtonStyle.primary)

    async def on_press(self, interaction: discord.Interaction) -> None:
        """Open the form."""
        jam = await bot_of(interaction).community.jams.get(self.ids["jam"])

        async def add(form_interaction: discord.Interaction, text: str) -> None:
            added = await bot_of(form_interaction).community.jams.add_line(jam.id, form_interaction.user.id, text)
            lines = "\n".join(f"> {plain(part)}" for part in added.line.splitlines())
            await form_interaction.response.send_message(
                f"✍️ <@{added.user_id}> added:\n{lines}", allowed_mentions=discord.AllowedMentions.none()
            )

        await interaction.response.send_modal(JamLineForm(interaction, on_done=add))


class JamSongButton(ChorusButton, action="jamsong", fields=("jam",)):
    """Makes a Suno song of the jam's lines (the starter or a moderator), credited to every contributor."""

    def __init__(self, jam_id: int) -> None:
        super().__init__(jam_id, label="Make it a song", emoji="🎶", style=discord.ButtonStyle.success)

    async def on_press(self, interaction: discord.Interaction) -> None:
        """Check who pressed, collect the lines, and start the song through the usual limits."""
        bot = bot_of(interaction)
        jam = await bot.community.jams.get(self.ids["jam"])
        if interaction.user.id != jam.starter_id and not interaction.permissions.manage_messages:
            await safe_reply(interaction, f"Only <@{jam.starter_id}> (who started the jam) or a moderator can make "
                                          "it a song.")
            return
        sheet = await bot.community.jams.sheet(jam.id)
        settings = await bot.jobs.guild_settings(interaction.guild_id)
        request = suno_request(lyrics=sheet.lyrics, prompt=jam.theme, title=jam.theme[:80],
                               model=settings.default_suno_model if settings else None)

        async def credit(jobs: list[Job]) -> None:
            await bot.community.jams.record_song(jam.id, jobs[0].id, sheet.credits)

        await start_job(interaction, bot, lambda who: suno_job(request, who), on_reserved=credit)
