"""Messages to a server's admins in the channel they chose: CometAPI's credit running low or out."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.cometapi import Balance
from bot.core.catalog import Prices
from bot.domain import GuildSettings
from bot.ui.render import key_limit, songs_left

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)


def credit_warning(settings: GuildSettings, balance: Balance | None, prices: Prices) -> str:
    """The warning's text: how much is left (or that a song could not start), and what to do."""
    if balance is None:
        return ("⚠️ A member's song could not start: the bot's **CometAPI credit ran out**. Top up the account "
                "at cometapi.com; songs start again as soon as there is credit. (One warning per low spell.)")
    below = f"alerts below ${settings.credit_alert_below or 0:,.2f}"
    if balance.key_remaining is not None and balance.key_remaining < balance.account:
        # The key's own quota runs out first: topping up the account would not help, raising the key's limit does.
        parts = [f"⚠️ The bot's CometAPI credit is low: its key may spend **${balance.key_remaining:,.2f}** more by "
                 f"its own limit (the account has ${balance.account:,.2f}; {below}). Raise the key's quota in "
                 "CometAPI's console so members' songs keep coming."]
    else:
        parts = [f"⚠️ The bot's CometAPI credit is low: **${balance.account:,.2f}** left ({below}). Top up at "
                 "cometapi.com so members' songs keep coming."]
    parts.append(songs_left(balance, prices) or "")
    if balance.key_unlimited:
        parts.append(key_limit(balance) or "")
    parts.append("(One warning per low spell; `/chorus balance` shows it any time.)")
    return " ".join(part for part in parts if part)


async def warn_credit(bot: Chorus, settings: GuildSettings, balance: Balance | None) -> None:
    """Post the credit warning in the guild's alert channel, pinging nobody."""
    if settings.alert_channel_id is None:
        return
    channel = bot.get_partial_messageable(settings.alert_channel_id, guild_id=settings.guild_id)
    text = credit_warning(settings, balance, bot.settings.prices)
    await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
    log.info("posted a credit warning in guild %d", settings.guild_id)
