"""A jam thread's buttons: Add a line (a form), and Make it a song (the starter or moderators), which asks before
making another take once the jam is a song. Remove a line is in jam_cuts.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from bot.core.jobs import suno_job
from bot.core.validation import suno_request
from bot.domain import Jam, Job
from bot.ui import render
from bot.ui.acknowledgement import Answer, in_time, send_answer
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
        """Open the form (which nothing may precede: if the store is slow, the member is asked to try again)."""
        jam = await in_time(interaction, bot_of(interaction).community.jams.get(self.ids["jam"]), answer="direct")

        async def add(form_interaction: discord.Interaction, text: str) -> None:
            bot = bot_of(form_interaction)
            # The line is shown publicly; a refusal (a line that would not fit) privately, in place of a stand-in.
            settings = await in_time(form_interaction, bot.jobs.guild_settings(form_interaction.guild_id),
                                     answer="public")
            adding = bot.community.jams.add_line(jam, form_interaction.user.id, text,
                                                 model=settings.default_suno_model if settings else None)
            added = await in_time(form_interaction, adding, answer="public")
            lines = "\n".join(f"> {plain(part)}" for part in added.line.splitlines())
            await send_answer(form_interaction, content=f"✍️ <@{added.user_id}> added:\n{lines}",
                              allowed_mentions=discord.AllowedMentions.none())

        await interaction.response.send_modal(JamLineForm(interaction, on_done=add))


class JamSongButton(ChorusButton, action="jamsong", fields=("jam",)):
    """Makes a Suno song of the jam's lines (the starter or a moderator), credited to every contributor."""

    def __init__(self, jam_id: int) -> None:
        super().__init__(jam_id, label="Make it a song", emoji="🎶", style=discord.ButtonStyle.success)

    async def on_press(self, interaction: discord.Interaction) -> None:
        """Check who pressed; once the jam is a song, say so and offer another take; else make it."""
        bot = bot_of(interaction)
        # Answered publicly (the song's card) or privately (who may, the song made): a public "thinking…" may stand in.
        jam = await jam_for(interaction, self.ids["jam"], "make it a song", answer="public")
        if jam is None:
            return
        made = await in_time(interaction, bot.community.jams.made(jam.id), answer="public")
        if made is None:
            await make_song(interaction, jam)
            return
        where = f"song #{made.id}"
        if made.delivered_channel_id and made.delivered_message_id:
            where = f"[{where}]({render.jump_url(made.guild_id, made.delivered_channel_id, made.delivered_message_id)})"
        state = "This jam is a song already" if made.state == "succeeded" else "This jam's song is on its way"
        await safe_reply(interaction, f"🎶 {state}: {where}. Another take sings the lines as they are now, and counts "
                         "as a new song.", view=discord.ui.View(timeout=None).add_item(JamAgainButton(jam.id)))


class JamAgainButton(ChorusButton, action="jamagain", fields=("jam",)):
    """Makes another take of a jam that is a song already, pressed on purpose (the starter or a moderator)."""

    def __init__(self, jam_id: int) -> None:
        super().__init__(jam_id, label="Make another take", emoji="🎶", style=discord.ButtonStyle.success)

    async def on_press(self, interaction: discord.Interaction) -> None:
        """Make the song again from the lines as they are now."""
        jam = await jam_for(interaction, self.ids["jam"], "make it a song", answer="public")
        if jam is not None:
            await make_song(interaction, jam)


async def jam_for(interaction: discord.Interaction, jam_id: int, doing: str, *, answer: Answer) -> Jam | None:
    """The jam, if the presser started it or is a moderator; else they are told who may, and None. Read before the
    press is answered: acknowledged in time, as `answer` allows, if the store is slow (bot.ui.acknowledgement)."""
    jam = await in_time(interaction, bot_of(interaction).community.jams.get(jam_id), answer=answer)
    if interaction.user.id != jam.starter_id and not interaction.permissions.manage_messages:
        await safe_reply(interaction, f"Only <@{jam.starter_id}> (who started the jam) or a moderator can {doing}.")
        return None
    return jam


async def make_song(interaction: discord.Interaction, jam: Jam) -> None:
    """Collect the lines and start the song through the usual limits, credited to every contributor."""
    bot = bot_of(interaction)
    settings = await in_time(interaction, bot.jobs.guild_settings(interaction.guild_id), answer="public")
    model = settings.default_suno_model if settings else None
    sheet = await in_time(interaction, bot.community.jams.sheet(jam.id, model=model), answer="public")
    request = suno_request(lyrics=sheet.lyrics, prompt=jam.theme, title=jam.theme[:80], model=model)

    async def credit(jobs: list[Job]) -> None:
        await bot.community.jams.record_song(jam.id, jobs[0].id, sheet.credits)

    await start_job(interaction, bot, lambda who: suno_job(request, who), on_reserved=credit)
