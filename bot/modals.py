"""Modals for what slash options cannot hold: lyrics need line breaks."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.replies import describe, safe_reply
from bot.validation import InvalidInputError

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
    ) -> None:
        super().__init__(title=heading, timeout=15 * 60, custom_id="chorus:lyrics-form")
        self._on_done = on_done
        self.lyrics: discord.ui.TextInput[LyricsModal] = discord.ui.TextInput(
            label="Lyrics",
            custom_id="lyrics",
            style=discord.TextStyle.paragraph,
            placeholder="[Verse]\nYour words here…\n\n[Chorus]\n…",
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
