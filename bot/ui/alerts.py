"""Messages to a server's admins in the channel they chose: CometAPI's credit running low or out."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.cometapi import Balance
from bot.store import GuildSettings

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)


def credit_warning(settings: GuildSettings, balance: Balance | None) -> str:
    """The warning's text: how much is left (or that a song could not start), and what to do."""
    if balance is None:
        return ("⚠️ A member's song could not start: the bot's **CometAPI credit ran out**. Top up the account "
                "at cometapi.com; songs start again as soon as there is credit. (One warning per low spell.)")
    return (f"⚠️ The bot's CometAPI credit is low: **${balance.account:,.2f}** left (alerts below "
            f"${settings.credit_alert_below or 0:,.2f}). Top up at cometapi.com so members' songs keep coming. "
            "(One warning per low spell; `/chorus balance` shows it any time.)")


async def warn_credit(bot: Chorus, settings: GuildSettings, balance: Balance | None) -> None:
    """Post the credit warning in the guild's alert channel, pinging nobody."""
    if settings.alert_channel_id is None:
        return
    channel = bot.get_partial_messageable(settings.alert_channel_id, guild_id=settings.guild_id)
    await channel.send(credit_warning(settings, balance), allowed_mentions=discord.AllowedMentions.none())
    log.info("posted a credit warning in guild %d", settings.guild_id)
