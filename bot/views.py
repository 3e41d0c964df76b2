"""Buttons on delivered messages. DynamicItems carry the ids they need in their custom_id, so they keep
working after a restart without any in-memory state."""

from __future__ import annotations

import io
import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot import render
from bot.buttons import (
    DeleteButton,
    EditButton,
    ExtendButton,
    InfoButton,
    RerollButton,
    WholeSongButton,
    client_of,
    find_job,
)
from bot.cometapi import Lyrics
from bot.flow import start_job
from bot.jobs import suno_job
from bot.modals import LyricsForm, LyricsModal
from bot.replies import describe, safe_reply
from bot.store import Job
from bot.validation import InvalidInputError, suno_request

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


async def _lyrics_job(interaction: discord.Interaction, job_id: int) -> tuple[Job, Lyrics] | None:
    """The lyrics job behind a button and its lyrics, or None after telling the member why not."""
    job = await find_job(interaction, job_id)
    result = render.result_of(job) if job else None
    if job is None or result is None or result.lyrics is None:
        if job is not None:
            await safe_reply(interaction, "Those lyrics are not ready yet.")
        return None
    return job, result.lyrics


LYRICS_ID = r"chorus:lyrics:(?P<job>\d+):(?P<take>\d+)"
MAKE_SONG_ID = r"chorus:makesong:(?P<job>\d+)"


class LyricsButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=LYRICS_ID):
    """Shows one take's full lyrics, privately, to whoever presses it."""

    def __init__(self, job_id: int, take: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"Lyrics {take}", emoji="📝", style=discord.ButtonStyle.secondary,
                custom_id=f"chorus:lyrics:{job_id}:{take}",
            )
        )
        self.job_id, self.take = job_id, take

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> LyricsButton:
        return cls(int(match["job"]), int(match["take"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        job = await find_job(interaction, self.job_id)
        result = render.result_of(job) if job else None
        clips = result.complete_clips if result else ()
        if not 1 <= self.take <= len(clips):
            await safe_reply(interaction, "That take has no lyrics.")
            return
        clip = clips[self.take - 1]
        text = clip.lyrics or "(instrumental: no lyrics)"
        title = render.shorten(clip.title or "Untitled", render.EMBED_TITLE)
        if len(text) <= render.EMBED_DESCRIPTION:
            embed = discord.Embed(title=title, description=text)
            await interaction.response.send_message(embed=embed, ephemeral=True)
        else:
            file = discord.File(io.BytesIO(text.encode()), filename="lyrics.txt")
            await interaction.response.send_message(f"**{title}**", file=file, ephemeral=True)


class MakeSongButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=MAKE_SONG_ID):
    """Turns generated lyrics into a Suno song (custom mode) for whoever presses it."""

    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Make it a song", emoji="🎵", style=discord.ButtonStyle.primary,
                custom_id=f"chorus:makesong:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> MakeSongButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        found = await _lyrics_job(interaction, self.job_id)
        if found is None:
            return
        job, lyrics = found
        try:
            request = suno_request(lyrics=lyrics.text, prompt=render.prompt_of(job), title=lyrics.title)
        except InvalidInputError as exc:
            await safe_reply(interaction, describe(exc))
            return
        await start_job(interaction, client_of(interaction), lambda who: suno_job(request, who, parent_job_id=job.id))


def delivery_view(job: Job) -> discord.ui.View:
    """Per take: audio, cover, lyrics, extend and video (or whole song); then reroll, edit, info, delete."""
    result = render.result_of(job)
    view = discord.ui.View(timeout=None)
    if job.state == "succeeded" and result is not None and result.lyrics is not None:
        view.add_item(MakeSongButton(job.id))
        view.add_item(EditLyricsSongButton(job.id))
        view.add_item(InfoButton(job.id))
        return view
    takes = result.complete_clips[:4] if job.state == "succeeded" and result is not None else ()
    for take, clip in enumerate(takes, 1):
        row = take - 1
        links = [("Audio", "🎧", clip.audio_url), ("Cover", "🖼️", clip.image_large_url or clip.image_url)]
        if job.kind not in {"extend", "concat"} or job.provider != "suno":
            links.append(("Video", "🎬", clip.video_url))
        for label, emoji, url in links:
            if url.startswith(("http://", "https://")) and len(url) <= render.LINK_URL:
                view.add_item(discord.ui.Button(label=f"{label} {take}", emoji=emoji, url=url, row=row))
        items: list[discord.ui.DynamicItem[Any]] = []
        if clip.lyrics:
            items.append(LyricsButton(job.id, take))
        if job.provider == "suno":
            items.append(ExtendButton(job.id, take))
            if job.kind == "extend":
                items.append(WholeSongButton(job.id, take))
        for item in items:
            item.item.row = row
            view.add_item(item)
    for item in (RerollButton(job.id), EditButton(job.id), InfoButton(job.id), DeleteButton(job.id)):
        if job.state != "succeeded" and isinstance(item, DeleteButton):
            continue
        item.item.row = 4
        view.add_item(item)
    return view


class EditLyricsSongButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"chorus:lyricsedit:(?P<job>\d+)"):
    """Opens the lyrics form prefilled with generated lyrics, to tweak them before making the song."""

    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Edit & make song", emoji="✏️", style=discord.ButtonStyle.secondary,
                custom_id=f"chorus:lyricsedit:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> EditLyricsSongButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        found = await _lyrics_job(interaction, self.job_id)
        if found is None:
            return
        parent, lyrics = found

        async def submit(modal_interaction: discord.Interaction, form: LyricsForm) -> None:
            request = suno_request(lyrics=form.lyrics, prompt=render.prompt_of(parent), style=form.style,
                                   title=form.title)
            await start_job(modal_interaction, client_of(modal_interaction),
                            lambda who: suno_job(request, who, parent_job_id=parent.id))

        modal = LyricsModal(heading="Edit the lyrics, then make the song", style=render.prompt_of(parent),
                            title=lyrics.title, max_lyrics=5000, on_done=submit, lyrics=lyrics.text)
        await interaction.response.send_modal(modal)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (LyricsButton, MakeSongButton, EditLyricsSongButton)
