"""/suno: make a song with Suno, from a description or from the member's own lyrics (via a modal)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.catalog import SUNO_MODELS, suno_model
from bot.core.jobs import suno_job
from bot.core.validation import InvalidInputError, suno_request
from bot.ui.acknowledgement import Answer, in_time
from bot.ui.forms import LyricsForm, LyricsFormValues
from bot.ui.launcher import requester_of, start_job

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

MODEL_CHOICES = [
    app_commands.Choice(name=m.name + (" (newest)" if i == 0 else ""), value=m.name) for i, m in enumerate(SUNO_MODELS)
]


class Suno(commands.Cog):
    """Suno songs."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot

    @app_commands.command(name="suno")
    @app_commands.guild_only()
    @app_commands.describe(
        prompt="What the song is about, e.g. a sea shanty about our server's cat",
        instrumental="No vocals",
        model="Suno version (default: the newest)",
        style="Styles, e.g. indie folk, female vocals",
        title="The song's title",
        lyrics="Write your own lyrics in a form (the prompt then describes the style)",
        persona="Sing in one of this server's personas (you write the lyrics in a form)",
    )
    @app_commands.choices(model=MODEL_CHOICES)
    async def suno(
        self,
        interaction: discord.Interaction,
        prompt: str,
        instrumental: bool = False,
        model: str | None = None,
        style: str | None = None,
        title: str | None = None,
        lyrics: bool = False,
        persona: str | None = None,
    ) -> None:
        """Make a song with Suno from a description."""
        # What the server chose, read before the answer: a form, or the song's public card (acknowledged if slow).
        answer: Answer = "direct" if lyrics or persona else "public"
        settings = await in_time(interaction, self.bot.jobs.guild_settings(interaction.guild_id), answer=answer)
        model = model or (settings.default_suno_model if settings else None)
        # Bad input raises InvalidInputError, answered privately by the tree's error path; nothing is charged.
        request = suno_request(prompt=prompt, model=model, instrumental=instrumental, style=style, title=title)
        voice = None
        if persona:
            finding = self.bot.personas.find(interaction.guild_id or 0, persona)
            voice = await in_time(interaction, finding, answer=answer)
            if voice is None:
                missing = f"This server has no persona called “{persona}” (see /persona list)."
                raise InvalidInputError("persona", missing)
        if lyrics or voice is not None:  # a persona sings lyrics: the relay drops it from a description
            chosen = suno_model(model)
            assert chosen is not None  # noqa: S101 - suno_request accepted the model

            async def submit_custom(modal_interaction: discord.Interaction, form: LyricsFormValues) -> None:
                custom = suno_request(
                    lyrics=form.lyrics, prompt=prompt, style=form.style, title=form.title, model=model,
                    instrumental=instrumental,
                )
                if voice is not None:
                    custom = dataclasses.replace(custom, persona_id=voice.persona_id, artist_clip_id=voice.root_clip_id)
                await start_job(modal_interaction, self.bot, lambda who: suno_job(custom, who))

            modal = LyricsForm(
                interaction,
                heading=f"Lyrics for {voice.name[:30]} to sing" if voice else "Your lyrics for Suno",
                style=style or prompt, title=title or "",
                max_lyrics=chosen.max_lyrics, on_done=submit_custom,
            )
            await interaction.response.send_modal(modal)
            return
        await start_job(interaction, self.bot, lambda who: suno_job(request, who))

    @suno.autocomplete("persona")
    async def _personas(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        personas = await self.bot.personas.list(interaction.guild_id or 0)
        wanted = current.lower()
        return [app_commands.Choice(name=p.name, value=p.name) for p in personas if wanted in p.name.lower()][:25]

    @suno.autocomplete("style")
    async def _styles(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        async def allowed() -> bool:  # the server's rules, read only when Suno would be asked
            return await self.bot.jobs.allows("suno", requester_of(interaction))

        styles = await self.bot.styles.suggest(current, member=interaction.user.id, allowed=allowed)
        return [app_commands.Choice(name=tag, value=tag) for tag in styles]


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(Suno(bot))
