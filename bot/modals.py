"""Modals for what slash options cannot hold: lyrics need line breaks."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.catalog import suno_model
from bot.cometapi import Clip, SunoMusicRequest
from bot.replies import describe, safe_reply
from bot.store import Job
from bot.validation import InvalidInputError, extend_request, lyrics_prompt, suno_request, udio_request

log = logging.getLogger(__name__)

# Discord caps a text input at 4,000 characters.
MAX_TEXT_INPUT = 4000


@dataclass(frozen=True, slots=True)
class LyricsForm:
    """What the member wrote in the lyrics modal."""

    lyrics: str
    style: str
    title: str


class LyricsModal(discord.ui.Modal):
    """Own lyrics plus style and title; `on_done` validates and submits (raising InvalidInputError if bad)."""

    def __init__(
        self,
        *,
        heading: str,
        style: str,
        title: str,
        max_lyrics: int,
        on_done: Callable[[discord.Interaction, LyricsForm], Awaitable[None]],
        lyrics: str = "",
    ) -> None:
        super().__init__(title=heading, timeout=15 * 60, custom_id="chorus:lyrics-form")
        self._on_done = on_done
        self.lyrics: discord.ui.TextInput[LyricsModal] = discord.ui.TextInput(
            label="Lyrics",
            custom_id="lyrics",
            style=discord.TextStyle.paragraph,
            placeholder="[Verse]\nYour words here…\n\n[Chorus]\n…",
            default=lyrics[:MAX_TEXT_INPUT] or None,
            max_length=min(max_lyrics, MAX_TEXT_INPUT),
        )
        self.style: discord.ui.TextInput[LyricsModal] = discord.ui.TextInput(
            label="Style",
            custom_id="style",
            default=style[:200] or None,
            required=False,
            max_length=200,
            placeholder="e.g. indie folk",
        )
        self.song_title: discord.ui.TextInput[LyricsModal] = discord.ui.TextInput(
            label="Title", custom_id="title", default=title[:80] or None, required=False, max_length=80
        )
        for item in (self.lyrics, self.style, self.song_title):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        form = LyricsForm(self.lyrics.value, self.style.value, self.song_title.value)
        try:
            await self._on_done(interaction, form)
        except InvalidInputError as exc:
            await safe_reply(interaction, describe(exc))

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: Any = None, /) -> None:
        log.error("the lyrics form of user %s failed", interaction.user.id, exc_info=error)
        await safe_reply(interaction, describe(error))


class ExtendModal(discord.ui.Modal):
    """Where to continue a take from, and optional lyrics and style for the continuation."""

    def __init__(
        self,
        parent_params: dict[str, Any],
        clip: Clip,
        task_id: str,
        *,
        on_done: Callable[[discord.Interaction, SunoMusicRequest], Awaitable[None]],
    ) -> None:
        super().__init__(title=f"Extend “{(clip.title or 'this take')[:30]}”", timeout=15 * 60,
                         custom_id="chorus:extend-form")
        self._parent, self._clip, self._task_id, self._on_done = parent_params, clip, task_id, on_done
        end = f"{clip.duration:.0f}" if clip.duration else ""
        self.at: discord.ui.TextInput[ExtendModal] = discord.ui.TextInput(
            label="Continue from (seconds)", custom_id="continue_at", default=end or None, required=False,
            max_length=8, placeholder=f"0 to {end or 'the end'}; empty: from the end",
        )
        self.lyrics: discord.ui.TextInput[ExtendModal] = discord.ui.TextInput(
            label="Lyrics for the continuation", custom_id="lyrics", style=discord.TextStyle.paragraph,
            required=False, max_length=MAX_TEXT_INPUT,
        )
        self.style: discord.ui.TextInput[ExtendModal] = discord.ui.TextInput(
            label="Style", custom_id="style", default=clip.tags[:200] or None, required=False, max_length=200,
        )
        for item in (self.at, self.lyrics, self.style):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            request = extend_request(
                self._parent, clip_id=self._clip.id, clip_title=self._clip.title, clip_duration=self._clip.duration,
                task_id=self._task_id, continue_at=self.at.value, lyrics=self.lyrics.value, style=self.style.value,
            )
        except InvalidInputError as exc:
            await safe_reply(interaction, describe(exc))
            return
        await self._on_done(interaction, request)


class EditModal(discord.ui.Modal):
    """The original request, prefilled, to change and run again."""

    def __init__(self, job: Job, *, on_done: Callable[[discord.Interaction, dict[str, Any]], Awaitable[None]]) -> None:
        super().__init__(title=f"Edit job #{job.id} and run it again", timeout=15 * 60, custom_id="chorus:edit-form")
        self._job, self._on_done = job, on_done
        params = job.params
        self.fields: dict[str, discord.ui.TextInput[EditModal]] = {}
        if job.action == "LYRICS":
            self._add("prompt", "Theme", params.get("prompt"), paragraph=False)
        elif job.provider == "udio":
            self._add("prompt", "Description or style", params.get("prompt"), paragraph=True)
            self._add("lyrics", "Lyrics (empty: Udio writes them)", params.get("lyrics"), paragraph=True)
            self._add("model", "Model (udio32-v1.5 or udio130-v1.5)", params.get("model_type"), paragraph=False)
        else:
            self._add("description", "Description (empty: use the lyrics below)", params.get("description"),
                      paragraph=True)
            self._add("lyrics", "Lyrics", params.get("lyrics"), paragraph=True)
            self._add("style", "Style", params.get("tags"), paragraph=False)
            self._add("title", "Title", params.get("title"), paragraph=False)
            model = _model_name(params.get("mv")) + (" instrumental" if params.get("instrumental") else "")
            self._add("model", "Model, + 'instrumental' for no vocals", model, paragraph=False)

    def _add(self, key: str, label: str, value: object, *, paragraph: bool) -> None:
        text = str(value or "")[:MAX_TEXT_INPUT]
        field = discord.ui.TextInput[EditModal](
            label=label[:45], custom_id=key, default=text or None, required=False, max_length=MAX_TEXT_INPUT,
            style=discord.TextStyle.paragraph if paragraph else discord.TextStyle.short,
        )
        self.fields[key] = field
        self.add_item(field)

    def _value(self, key: str) -> str:
        field = self.fields.get(key)
        return field.value.strip() if field is not None else ""

    async def on_submit(self, interaction: discord.Interaction) -> None:
        job = self._job
        model_words = self._value("model").split()
        instrumental = "instrumental" in (word.lower() for word in model_words)
        model = next((word for word in model_words if word.lower() != "instrumental"), None)
        try:
            if job.action == "LYRICS":
                params: dict[str, Any] = {"prompt": lyrics_prompt(self._value("prompt"))}
            elif job.provider == "udio":
                words = self._value("lyrics")
                params = dataclasses.asdict(udio_request(
                    prompt=self._value("prompt"), model=model,
                    lyrics=words or None, instrumental=job.params.get("lyrics_type") == "instrumental" and not words,
                ))
            else:
                description, words = self._value("description"), self._value("lyrics")
                params = dataclasses.asdict(suno_request(
                    prompt=description or self._value("style"), lyrics=None if description else words,
                    model=model, instrumental=instrumental, style=self._value("style"),
                    title=self._value("title"),
                ))
        except InvalidInputError as exc:
            await safe_reply(interaction, describe(exc))
            return
        await self._on_done(interaction, params)


def _model_name(mv: object) -> str:
    found = suno_model(str(mv)) if mv else None
    return found.name if found else ""


@dataclass(frozen=True, slots=True)
class SongFromTextForm:
    description: str
    lyrics: str
    style: str
    title: str


class SongFromTextModal(discord.ui.Modal):
    """For the "Make it a song" context menu: the message's text as description or lyrics, editable."""

    def __init__(
        self, *, description: str, lyrics: str,
        on_done: Callable[[discord.Interaction, SongFromTextForm], Awaitable[None]],
    ) -> None:
        super().__init__(title="Make it a song", timeout=15 * 60, custom_id="chorus:song-from-text")
        self._on_done = on_done
        self.description: discord.ui.TextInput[SongFromTextModal] = discord.ui.TextInput(
            label="Description (leave empty to sing the lyrics)", custom_id="description",
            style=discord.TextStyle.paragraph, default=description[:500] or None, required=False, max_length=500,
        )
        self.lyrics: discord.ui.TextInput[SongFromTextModal] = discord.ui.TextInput(
            label="Lyrics (used when there is no description)", custom_id="lyrics",
            style=discord.TextStyle.paragraph, default=lyrics[:MAX_TEXT_INPUT] or None, required=False,
            max_length=MAX_TEXT_INPUT,
        )
        self.style: discord.ui.TextInput[SongFromTextModal] = discord.ui.TextInput(
            label="Style", custom_id="style", required=False, max_length=200, placeholder="e.g. sea shanty",
        )
        self.song_title: discord.ui.TextInput[SongFromTextModal] = discord.ui.TextInput(
            label="Title", custom_id="title", required=False, max_length=80,
        )
        for item in (self.description, self.lyrics, self.style, self.song_title):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        form = SongFromTextForm(self.description.value.strip(), self.lyrics.value.strip(), self.style.value.strip(),
                                self.song_title.value.strip())
        if not form.description and not form.lyrics:
            await safe_reply(interaction, "Write a description or some lyrics first.")
            return
        try:
            await self._on_done(interaction, form)
        except InvalidInputError as exc:
            await safe_reply(interaction, describe(exc))
