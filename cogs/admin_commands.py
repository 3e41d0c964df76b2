"""/chorus: server settings and usage, for members with Manage Server."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.admin import AdminService
from bot.core.catalog import SUNO_MODELS, UDIO_MODELS
from bot.core.wording import span
from bot.domain import GuildSettings
from bot.ui import render
from bot.ui.replies import Refusal
from bot.ui.voice_support import voice_missing

if TYPE_CHECKING:
    from bot.app.chorus import Chorus


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Admin(commands.GroupCog, group_name="chorus", group_description="Chorus settings for this server"):
    """Admin controls. Discord hides the group from members without Manage Server; we check again anyway."""

    def __init__(self, bot: Chorus) -> None:
        self.bot = bot
        self.admin: AdminService = bot.admin
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Refuse members without Manage Server (the refusal is answered once, by the tree's error path)."""
        # default_permissions is only a default that server owners can change; the rule is enforced here too.
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            raise Refusal("Only members with the Manage Server permission can change Chorus here.")
        return True

    async def _show(
        self, interaction: discord.Interaction, change: Coroutine[Any, Any, GuildSettings],
        note: str | Callable[[GuildSettings], str],
    ) -> None:
        """Make the change, then confirm it in one private line (`/chorus settings` shows everything)."""
        settings = await change  # InvalidInputError is answered privately by the tree's error path
        await interaction.response.send_message(note(settings) if callable(note) else note, ephemeral=True)

    @app_commands.command(name="settings")
    async def settings(self, interaction: discord.Interaction) -> None:
        """Show this server's Chorus settings."""
        assert interaction.guild_id is not None  # noqa: S101 - guild_only
        settings = await self.admin.settings(interaction.guild_id)
        embed = render.guild_settings(settings, voice_missing=voice_missing())
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="allow-channel")
    @app_commands.describe(channel="A channel where members may make songs")
    async def allow_channel(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        """Allow making songs in a channel (once any is listed, only listed channels work)."""
        assert interaction.guild_id is not None  # noqa: S101
        change = self.admin.allow_channel(interaction.guild_id, channel.id, by=interaction.user.id)
        await self._show(interaction, change, f"Songs can now be made in {channel.mention}.")

    @app_commands.command(name="disallow-channel")
    @app_commands.describe(channel="A channel to take off the list")
    async def disallow_channel(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        """Take a channel off the list of channels where songs may be made."""
        assert interaction.guild_id is not None  # noqa: S101
        change = self.admin.disallow_channel(interaction.guild_id, channel.id, by=interaction.user.id)
        await self._show(interaction, change, lambda now: f"{channel.mention} is off the list" + (
            "." if now.allowed_channels else ": the list is empty, so songs can be made in every channel."))

    @app_commands.command(name="all-channels")
    async def all_channels(self, interaction: discord.Interaction) -> None:
        """Allow making songs in every channel again."""
        assert interaction.guild_id is not None  # noqa: S101
        change = self.admin.allow_all_channels(interaction.guild_id, by=interaction.user.id)
        await self._show(interaction, change, "Songs can be made in every channel.")

    @app_commands.command(name="role")
    @app_commands.describe(role="The role members need to make songs (leave empty: anyone may)")
    async def role(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        """Require a role to make songs, or let anyone."""
        assert interaction.guild_id is not None  # noqa: S101
        change = self.admin.require_role(interaction.guild_id, role.id if role else None, by=interaction.user.id)
        await self._show(interaction, change,
                         f"Songs need the {role.mention} role." if role else "Anyone may make songs.")

    @app_commands.command(name="default-model")
    @app_commands.describe(provider="Suno or Udio", model="The model used when a member does not pick one")
    async def default_model(
        self, interaction: discord.Interaction, provider: Literal["suno", "udio"], model: str
    ) -> None:
        """Set the default model of a provider."""
        assert interaction.guild_id is not None  # noqa: S101
        change = self.admin.set_default_model(interaction.guild_id, provider, model, by=interaction.user.id)
        friendly = f"Suno {model}" if provider == "suno" else UDIO_MODELS.get(model, model)
        await self._show(interaction, change, f"The default {provider.capitalize()} model is now {friendly}.")

    @default_model.autocomplete("model")
    async def _models(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        provider = getattr(interaction.namespace, "provider", "suno")
        # Friendly names in the list, the model's own name as the value.
        names = [(f"Suno {m.name}", m.name) for m in SUNO_MODELS] if provider == "suno" else [
            (label, value) for value, label in UDIO_MODELS.items()
        ]
        wanted = current.lower()
        return [app_commands.Choice(name=label, value=value) for label, value in names
                if wanted in label.lower() or wanted in value.lower()][:25]

    @app_commands.command(name="provider")
    @app_commands.describe(provider="Suno or Udio", enabled="On or off")
    async def provider(
        self, interaction: discord.Interaction, provider: Literal["suno", "udio"], enabled: bool
    ) -> None:
        """Switch a provider on or off on this server."""
        assert interaction.guild_id is not None  # noqa: S101
        change = self.admin.enable_provider(interaction.guild_id, provider, enabled, by=interaction.user.id)
        await self._show(interaction, change, f"{provider.capitalize()} is {'on' if enabled else 'off'}.")

    @app_commands.command(name="voice")
    @app_commands.describe(enabled="On: /listen may play songs in this server's voice channels")
    async def voice(self, interaction: discord.Interaction, enabled: bool) -> None:
        """Let Chorus host listening parties in voice channels, or not."""
        assert interaction.guild_id is not None  # noqa: S101
        change = self.admin.enable_voice(interaction.guild_id, enabled, by=interaction.user.id)
        missing = voice_missing() if enabled else None  # the setting is kept either way; say why it cannot play
        if not enabled:
            note = "Voice is off: Chorus will not join voice channels here (/listen says so)."
        elif missing:
            note = f"Voice is on, but {missing[0].lower()}{missing[1:]}"
        else:
            note = "Voice is on: /listen can play songs in this server's voice channels."
        await self._show(interaction, change, note)

    @app_commands.command(name="limits")
    @app_commands.describe(
        concurrent="Songs one member may have in the making at once (0: no limit)",
        daily="Songs one member may make per UTC day (0: no limit)",
        budget="Songs the whole server may make per UTC day (0: no limit)",
        cooldown="Seconds a member waits between two songs (0: none)",
    )
    async def limits(
        self,
        interaction: discord.Interaction,
        concurrent: app_commands.Range[int, 0, 100] | None = None,
        daily: app_commands.Range[int, 0, 10_000] | None = None,
        budget: app_commands.Range[int, 0, 1_000_000] | None = None,
        cooldown: app_commands.Range[int, 0, 86_400] | None = None,
    ) -> None:
        """Set the per-member and per-server limits (leave an option out to keep it)."""
        assert interaction.guild_id is not None  # noqa: S101
        given = {"max_concurrent": concurrent, "daily_quota": daily, "daily_budget": budget,
                 "cooldown_seconds": cooldown}
        change = self.admin.set_limits(interaction.guild_id, by=interaction.user.id, **given)

        def said(now: GuildSettings) -> str:
            names = [name for name, value in given.items() if value is not None]
            phrases = ", ".join(render.limit_phrase(name, getattr(now, name)) for name in names or given)
            return f"Limits now: {phrases}." if names else f"Nothing changed. Limits: {phrases}."

        await self._show(interaction, change, said)

    @app_commands.command(name="balance")
    async def balance(self, interaction: discord.Interaction) -> None:
        """CometAPI credit left on the bot's account (CometAPI errors are answered by the error path)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        balance = await self.bot.credit.balance()
        settings = await self.admin.settings(interaction.guild_id or 0)
        await interaction.edit_original_response(embed=render.balance(balance, settings, self.admin.prices))

    @app_commands.command(name="credit-alert")
    @app_commands.describe(channel="Where to warn admins (leave empty to stop the alerts)",
                           below="Warn once when the balance falls under this many dollars")
    async def credit_alert(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None,
        below: app_commands.Range[float, 0, 1_000_000] = 5.0,
    ) -> None:
        """Warn admins in a channel when CometAPI's credit runs low or out (once per low spell)."""
        assert interaction.guild_id is not None  # noqa: S101
        change = self.admin.set_credit_alert(interaction.guild_id, channel.id if channel else None, below,
                                             by=interaction.user.id)
        note = (f"I will warn in {channel.mention} when the credit falls under ${below:,.2f}, and when a song "
                "cannot start for lack of credit." if channel else "Credit alerts are off.")
        await self._show(interaction, change, note)
        if channel is not None:
            # The credit may be low already: read it now rather than at the next regular reading.
            self.bot.credit.wake()
    @app_commands.command(name="song-of-the-day")
    @app_commands.describe(channel="Where to feature the previous day's most liked song each day (empty: off)")
    async def song_of_the_day(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        """Feature the previous day's most liked song in a channel every day, or stop."""
        assert interaction.guild_id is not None  # noqa: S101
        change = self.admin.set_song_of_day(interaction.guild_id, channel.id if channel else None,
                                            by=interaction.user.id)
        note = (f"Each day, the previous day's most liked song is featured in {channel.mention}." if channel
                else "Song of the day is off.")
        await self._show(interaction, change, note)
        self.bot.timers.wake()

    @app_commands.command(name="battle-length")
    @app_commands.describe(minutes="How long a new song battle takes votes (default 1440: a day)")
    async def battle_length(self, interaction: discord.Interaction, minutes: app_commands.Range[int, 1, 10080]) -> None:
        """Set how long song battles take votes."""
        assert interaction.guild_id is not None  # noqa: S101
        change = self.admin.set_battle_minutes(interaction.guild_id, minutes, by=interaction.user.id)
        await self._show(interaction, change, f"New battles take votes for {span(minutes * 60)}.")

    @app_commands.command(name="usage")
    async def usage(self, interaction: discord.Interaction) -> None:
        """Songs per member and per provider, today and over the last 30 days."""
        assert interaction.guild_id is not None  # noqa: S101
        report = await self.admin.usage(interaction.guild_id)
        await interaction.response.send_message(embed=render.usage(report, self.admin.prices), ephemeral=True)


async def setup(bot: Chorus) -> None:
    """Load this extension's cog into the bot."""
    await bot.add_cog(Admin(bot))
