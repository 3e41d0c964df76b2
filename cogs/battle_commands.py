"""/battle: a song made to face off against itself (its two takes), or Suno against Udio on one prompt."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.jobs import Order, suno_job, udio_job
from bot.core.validation import suno_request, udio_request
from bot.domain import Job, Requester
from bot.ui.acknowledgement import in_time
from bot.ui.launcher import start_jobs

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.app.chorus import Chorus


class Battles(commands.Cog):
    """Song battles."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot

    @app_commands.command(name="battle")
    @app_commands.guild_only()
    @app_commands.describe(
        prompt="What the song is about; both sides get the same prompt",
        versus="Suno against Udio instead of Suno's two takes against each other",
    )
    async def battle(self, interaction: discord.Interaction, prompt: str, versus: bool = False) -> None:
        """Make a song and let the server vote between its two takes (or Suno vs Udio)."""
        assert interaction.guild_id is not None and interaction.channel_id is not None  # noqa: S101 - guild_only
        # Read before the answer (the battle's public card), so acknowledged first if the store is slow.
        settings = await in_time(interaction, self.bot.jobs.guild_settings(interaction.guild_id), answer="public")
        suno = suno_request(prompt=prompt, model=settings.default_suno_model if settings else None)
        builds: list[Callable[[Requester], Order]] = [lambda who: suno_job(suno, who)]
        if versus:
            udio = udio_request(prompt=prompt, model=settings.default_udio_model if settings else None)
            builds.append(lambda who: udio_job(udio, who))
        guild_id, channel_id, starter = interaction.guild_id, interaction.channel_id, interaction.user.id

        async def record(jobs: list[Job]) -> None:
            # Recorded before anything is sent: the battle opens once its songs are posted, however fast.
            await self.bot.community.battles.start(
                guild_id=guild_id, channel_id=channel_id, starter_id=starter, prompt=prompt,
                mode="versus" if versus else "takes", jobs=jobs,
            )

        await start_jobs(interaction, self.bot, builds, on_reserved=record)


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(Battles(bot))
