"""Which buttons a delivered message carries (the status card's are in items/card.py)."""

from __future__ import annotations

import discord

from bot.store import Job
from bot.ui import render
from bot.ui.items.base import ChorusButton
from bot.ui.items.lyrics import EditLyricsSongButton, MakeSongButton
from bot.ui.items.song import (
    DeleteButton,
    EditButton,
    ExtendButton,
    InfoButton,
    LyricsButton,
    RerollButton,
    WholeSongButton,
)

# Row 4 holds the job-wide buttons; rows 0-3 one take each.
JOB_ROW = 4


def post_marker(job: Job) -> str:
    """A custom_id that only this job's post (in its current state) carries, to find it in channel history.

    Message history does not return nonces, so a post is recognised by its own buttons: a delivered result (song
    or lyrics) has the job's Delete button, a failure or time-out notice only its Info button. A late song is
    therefore told apart from the time-out notice of the same job.
    """
    return DeleteButton(job.id).custom_id if job.state == "succeeded" else InfoButton(job.id).custom_id


def song_view(job: Job) -> discord.ui.View:
    """Per take: audio, cover, lyrics, extend and video (or whole song); then reroll, edit, info, delete."""
    result = render.result_of(job)
    view = discord.ui.View(timeout=None)
    if job.state == "succeeded" and result is not None and result.lyrics is not None:
        lyrics_items: tuple[ChorusButton, ...] = (
            MakeSongButton(job.id), EditLyricsSongButton(job.id), InfoButton(job.id), DeleteButton(job.id),
        )
        for lyrics_item in lyrics_items:
            view.add_item(lyrics_item)
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
        items: list[ChorusButton] = []
        if clip.lyrics:
            items.append(LyricsButton(job.id, take))
        if job.provider == "suno":
            items.append(ExtendButton(job.id, take))
            if job.kind == "extend":
                items.append(WholeSongButton(job.id, take))
        for item in items:
            item.row = row
            view.add_item(item)
    # Joining the same parts again gives the same song: a whole song offers no Reroll or Edit.
    rerun: list[ChorusButton] = [] if job.kind == "concat" else [RerollButton(job.id), EditButton(job.id)]
    job_items: list[ChorusButton] = [*rerun, InfoButton(job.id)]
    if job.state == "succeeded":
        job_items.append(DeleteButton(job.id))
    for item in job_items:
        item.row = JOB_ROW
        view.add_item(item)
    return view

