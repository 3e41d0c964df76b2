"""The one map from error to friendly sentence, and safe_reply(), which gives an interaction its one answer."""

from __future__ import annotations

import contextlib
import logging

import discord
from discord import app_commands

from bot.cometapi import (
    APITimeoutError,
    AuthError,
    BadResponseError,
    CometAPIError,
    InsufficientBalanceError,
    InvalidRequestError,
    ModelUnavailableError,
    NetworkError,
    RateLimitedError,
    ServerError,
    SubmitUnconfirmedError,
    UpstreamRejectedError,
)
from bot.core.limits import LimitReachedError, NotAllowedError
from bot.core.validation import InvalidInputError
from bot.store import database_outage

log = logging.getLogger(__name__)

PROVIDER_NAMES = {"suno": "Suno", "udio": "Udio"}
APOLOGY = "Something went wrong on my side. The admins can find the details in the bot's logs."
# The database went away mid-request (a restart) and did not come back in the time a command waits for it.
DATABASE_RESTARTING = "My database is restarting, so this did not go through. Please try again in a moment."
# interaction.extras key: its public "thinking…" was sent only because the store was slow, before the bot knew its
# answer (bot/ui/acknowledgement.py). A private answer (a refusal) must not take its place: it cannot turn private.
PUBLIC_STAND_IN = "chorus:public-stand-in"
# What the public "thinking…" says for the moment a private answer replaces it.
ANSWERED_PRIVATELY = "Answered privately."


class Refusal(app_commands.CheckFailure):
    """A check said no; `message` tells the member why (raised from interaction checks, answered privately)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def describe(error: BaseException, *, provider: str | None = None) -> str:
    """A sentence a member can act on. Never includes secrets or tracebacks."""
    name = PROVIDER_NAMES.get(provider or "", "CometAPI")
    if isinstance(error, InvalidInputError | LimitReachedError | NotAllowedError | Refusal):
        return error.message
    if isinstance(error, InsufficientBalanceError):
        return ("The server's CometAPI credit ran out, so nothing was started or charged. The admins are told in "
                "their alert channel, if they set one; please tell one too.")
    if isinstance(error, AuthError):
        return "CometAPI refused the bot's API key, so nothing was started. Please tell a server admin."
    if isinstance(error, ModelUnavailableError):
        if provider == "udio":
            return "Udio is not available on CometAPI right now, so nothing was started. Try `/suno`, or Udio later."
        if provider == "suno":
            return (
                "This Suno model is not available on CometAPI right now, so nothing was started. "
                "Try another model, or again later."
            )
        return "This is not available on CometAPI right now, so nothing was started. Please try again later."
    if isinstance(error, RateLimitedError):
        wait = f" in about {max(round(error.retry_after), 1)} seconds" if error.retry_after else " in a minute"
        return f"{name} is busy right now and asked us to slow down. Please try again{wait}."
    if isinstance(error, UpstreamRejectedError):
        return "CometAPI refused the request, so nothing was started. Please try again later, or with other words."
    if isinstance(error, ServerError):
        if provider == "udio":
            return "Udio is unavailable on CometAPI right now. Try `/suno`, or Udio again later."
        return f"{name} had a problem on its side (HTTP {error.status}). Please try again in a minute."
    if isinstance(error, APITimeoutError) or (isinstance(error, NetworkError) and error.reached_server):
        return (
            f"{name} did not confirm in time, so the song may or may not have started. "
            "Check `/status` in a few minutes before asking again."
        )
    if isinstance(error, NetworkError):
        return "The bot could not reach CometAPI, so nothing was started. Please try again in a minute."
    if isinstance(error, SubmitUnconfirmedError):
        return (
            f"{name} accepted the request but its answer could not be read, so it may have started (and been "
            "charged) without my being able to follow it. Check `/status`, or ask an admin, before trying again."
        )
    if isinstance(error, BadResponseError):
        return "CometAPI sent an answer the bot could not read. Please try again in a minute."
    if isinstance(error, InvalidRequestError):
        return f"{name} refused this request: {error.message}"
    if isinstance(error, CometAPIError):
        return f"{name} failed: {error.message}"
    if isinstance(error, app_commands.TransformerError):
        return "One of the options is not something I can use here. Please pick it again from the list."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This works in a server channel, not in DMs."
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use this here."
    if isinstance(error, discord.Forbidden):
        return "I am missing a permission in this channel (I need to send messages, embed links and attach files)."
    if database_outage(error):
        return DATABASE_RESTARTING
    return APOLOGY


async def safe_reply(
    interaction: discord.Interaction, text: str, *, ephemeral: bool = True, view: discord.ui.View | None = None
) -> bool:
    """Give the interaction its one answer: the first response, or the text in place of a "thinking…" defer.

    An interaction that already shows an answer (a message, a form, an edit) gets nothing more, so no code
    path can answer twice; the text is logged instead. Returns whether the text reached the member.
    """
    mentions = discord.AllowedMentions.none()
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(
                text, ephemeral=ephemeral, allowed_mentions=mentions, view=view or discord.utils.MISSING
            )
            return True
        deferred = (discord.InteractionResponseType.deferred_channel_message,
                    discord.InteractionResponseType.deferred_message_update)
        if interaction.response.type not in deferred:
            log.warning("interaction %s was already answered; not sending: %s", interaction.id, text)
            return False
        if interaction.is_expired():
            log.warning("interaction %s expired before the bot could answer: %s", interaction.id, text)
            return False
        if interaction.response.type == discord.InteractionResponseType.deferred_message_update:
            # A press acknowledged as an update of its message while the store was slow: that message is not the
            # answer's to replace, so the text follows on its own.
            await interaction.followup.send(text, ephemeral=ephemeral, view=view or discord.utils.MISSING,
                                            allowed_mentions=mentions)
            return True
        if ephemeral and interaction.extras.pop(PUBLIC_STAND_IN, False):
            return await _replace_privately(interaction, text, view)
        await interaction.edit_original_response(content=text, embed=None, view=view, allowed_mentions=mentions)
        return True
    except discord.HTTPException:
        log.exception("could not answer interaction %s", interaction.id)
        return False


async def _replace_privately(interaction: discord.Interaction, text: str, view: discord.ui.View | None) -> bool:
    """A private answer in place of a public "thinking…". Discord keeps an acknowledgement's visibility, and the
    first followup after it is an edit of it; so the stand-in becomes a neutral line, the answer a private followup,
    and then the stand-in goes."""
    mentions = discord.AllowedMentions.none()
    await interaction.edit_original_response(content=ANSWERED_PRIVATELY, embed=None, view=None,
                                             allowed_mentions=mentions)
    sent = True
    try:
        await interaction.followup.send(text, ephemeral=True, view=view or discord.utils.MISSING,
                                        allowed_mentions=mentions)
    except discord.HTTPException:
        log.exception("could not answer interaction %s privately", interaction.id)
        sent = False
    with contextlib.suppress(discord.HTTPException):
        await interaction.delete_original_response()
    return sent
