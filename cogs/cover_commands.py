"""/cover: a cover (or an extension) of the member's own audio, by Suno."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.catalog import MAX_TITLE
from bot.core.jobs import cover_job
from bot.core.validation import InvalidInputError, suno_request
from bot.ui.acknowledgement import in_time
from bot.ui.launcher import start_job
from bot.ui.render import shorten

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

# What Suno takes: a short clip (resellers recommend about two minutes at most), in a common audio format.
MAX_COVER_BYTES = 20 * 1024 * 1024
AUDIO_SUFFIXES = (".mp3", ".wav", ".m4a", ".ogg", ".flac", ".aac")


class Cover(commands.Cog):
    """Covers of members' own audio."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot

    @app_commands.command(name="cover")
    @app_commands.guild_only()
    @app_commands.describe(
        audio="Your own recording (mp3, wav, m4a, ogg, flac; up to 20 MB, best under two minutes)",
        style="The style of the new version, e.g. bossa nova, female vocals",
        mode="cover: the song in another style; extend: carry your recording on",
        title="The new version's title",
    )
    async def cover(
        self,
        interaction: discord.Interaction,
        audio: discord.Attachment,
        style: str,
        mode: Literal["cover", "extend"] = "cover",
        title: str | None = None,
    ) -> None:
        """Cover or extend audio you own with Suno (only upload what you may use)."""
        name = audio.filename.lower()
        is_audio = (audio.content_type or "").startswith("audio/") or name.endswith(AUDIO_SUFFIXES)
        if not is_audio:
            raise InvalidInputError("audio", "That file is not audio: attach an mp3, wav, m4a, ogg or flac file.")
        if audio.size > MAX_COVER_BYTES:
            raise InvalidInputError("audio", f"That file is {audio.size / 1_048_576:.1f} MB; the limit is 20 MB.")
        # Read before the answer (the song's public card), so acknowledged first if the store is slow.
        settings = await in_time(interaction, self.bot.jobs.guild_settings(interaction.guild_id), answer="public")
        model = settings.default_suno_model if settings else None
        # Style, title and model are validated as for /suno (the lyrics placeholder only passes the check: a cover
        # sings the words of the audio itself). The uploaded clip is added once Suno has taken the audio.
        # Without a title the file's name is one, cut to fit: a long name is no reason to refuse what they typed.
        named = shorten(audio.filename.rsplit(".", 1)[0], MAX_TITLE) or None
        checked = suno_request(lyrics="-", style=style, title=title or named, model=model)
        request = dataclasses.replace(checked, lyrics="")
        await start_job(interaction, self.bot, lambda who: cover_job(audio.url, audio.filename, request, mode, who))


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(Cover(bot))
