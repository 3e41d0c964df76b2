"""The one error path for every kind of interaction: slash commands, menus, buttons, selects and forms.

discord.py routes failures differently per kind (the tree's on_error, a modal's on_error, and for a
DynamicItem callback only a log line), so each of those hooks calls answer_error(). It answers the member
exactly once (nothing more if they already have an answer), with a sentence for errors we expect and a short
apology for the rest, and logs unknown errors with the traceback, the job, the guild and the command.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.cometapi import CometAPIError
from bot.core.limits import LimitReachedError, NotAllowedError
from bot.core.validation import InvalidInputError
from bot.ui.replies import Refusal, describe, safe_reply

log = logging.getLogger(__name__)

# Errors that are the member's answer, not the bot's fault: said to them, logged at INFO.
EXPECTED = (InvalidInputError, LimitReachedError, NotAllowedError, Refusal, CometAPIError)


def unwrap(error: BaseException) -> BaseException:
    """The exception a command or item really raised (discord.py wraps it once)."""
    return error.original if isinstance(error, app_commands.CommandInvokeError) else error


async def answer_error(
    interaction: discord.Interaction, error: BaseException, *, what: str, job_id: int | None = None,
    provider: str | None = None,
) -> None:
    """Tell the member what went wrong (once) and log it; `what` names the command, button or form."""
    cause = unwrap(error)
    where = f"{what} for user {interaction.user.id} in guild {interaction.guild_id}"
    if job_id is not None:
        where += f" (job {job_id})"
    if isinstance(cause, EXPECTED):
        log.info("%s refused: %s", where, cause)
    elif isinstance(cause, app_commands.CheckFailure | app_commands.TransformerError):
        log.info("%s refused by a check: %s", where, cause)
    else:
        log.error("%s failed", where, exc_info=cause)
    text = describe(cause, provider=provider)
    if isinstance(cause, CometAPIError):
        text = "❌ " + text
    await safe_reply(interaction, text)
