"""Buttons on delivered lyrics: make them a song as they are, or edit them first (for whoever presses)."""

from __future__ import annotations

import discord

from bot.cometapi import Lyrics
from bot.core.jobs import suno_job
from bot.core.validation import suno_request
from bot.domain import Job
from bot.ui import render
from bot.ui.forms import LyricsForm, LyricsFormValues
from bot.ui.items.item_base import ChorusButton, bot_of
from bot.ui.launcher import start_job
from bot.ui.replies import safe_reply


async def lyrics_of(interaction: discord.Interaction, job: Job) -> Lyrics | None:
    """The job's lyrics, or None after telling the member they are not ready."""
    result = render.result_of(job)
    if result is None or result.lyrics is None:
        await safe_reply(interaction, "Those lyrics are not ready yet.")
        return None
    return result.lyrics


class MakeSongButton(ChorusButton, action="makesong"):
    """Turns generated lyrics into a Suno song (custom mode) for whoever presses it."""

    answer = "public"  # the new job's card (a refusal still reaches the member privately)

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id, label="Make it a song", emoji="🎵", style=discord.ButtonStyle.primary)

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Submit a song that sings exactly these lyrics."""
        lyrics = await lyrics_of(interaction, job)
        if lyrics is None:
            return
        request = suno_request(lyrics=lyrics.text, prompt=render.prompt_of(job), title=lyrics.title)
        await start_job(interaction, bot_of(interaction), lambda who: suno_job(request, who, parent=job))


class EditLyricsSongButton(ChorusButton, action="lyricsedit"):
    """Opens the lyrics form prefilled with generated lyrics, to tweak them before making the song."""

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id, label="Edit & make song", emoji="✏️")

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Open the lyrics form, prefilled."""
        lyrics = await lyrics_of(interaction, job)
        if lyrics is None:
            return

        async def submit(form_interaction: discord.Interaction, form: LyricsFormValues) -> None:
            request = suno_request(lyrics=form.lyrics, prompt=render.prompt_of(job), style=form.style,
                                   title=form.title)
            await start_job(form_interaction, bot_of(form_interaction), lambda who: suno_job(request, who, parent=job))

        form = LyricsForm(interaction, heading="Edit the lyrics, then make the song", style=render.prompt_of(job),
                          title=lyrics.title, max_lyrics=5000, on_done=submit, lyrics=lyrics.text)
        await interaction.response.send_modal(form)
