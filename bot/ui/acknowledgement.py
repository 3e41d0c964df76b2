"""Acknowledging an interaction in time while the store is slow (the database restarting).

What an interaction reads or writes before it answers takes milliseconds; while PostgreSQL restarts, the store waits
for it (bot/store/database.py), longer than the 3 s Discord allows before an interaction must be acknowledged. So
that store work runs through `in_time`, which acknowledges the interaction once it has taken PATIENCE (counted from
the interaction's first such work, so a settings read and then a reservation share one budget), in the way the
answer that will follow allows:

- "public": the answer is public (a song's status card, a chart). A public "thinking…" stands in for it; a refusal
  that turns up instead still reaches the member privately (safe_reply replaces the stand-in).
- "private": the answer is private (/status); a private "thinking…" stands in for it.
- "update": the answer edits the message whose button was pressed (a /history page); the press is acknowledged as
  an update of that message, which the answer then edits.
- "direct": the answer must be the interaction's first response (a form, or a reply sent without a defer), which no
  acknowledgement can precede. If the work is still not done at DIRECT_PATIENCE it is given up, and the member is
  told privately, in time, to try again in a moment (nothing was started).

Only store work runs inside `in_time`, never an answer: the acknowledgement cannot race the answer. Answers that may
follow a "thinking…" go through `send_answer` (or safe_reply), which edit it instead of answering a second time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, Literal, TypeVar

import discord

from bot.ui.replies import PUBLIC_STAND_IN, Refusal

log = logging.getLogger(__name__)

T = TypeVar("T")
Answer = Literal["public", "private", "update", "direct"]

# The store answers in milliseconds; past this it is waiting for the database, and the interaction is acknowledged.
PATIENCE = 1.5
# Where no acknowledgement may come first: how long to wait before giving up, leaving time to say so within 3 s.
DIRECT_PATIENCE = 2.2
_SINCE = "chorus:store-work-since"  # interaction.extras key: when the interaction's first store work began


class StoreSlowError(Refusal):
    """The store stayed slow for longer than an answer that cannot be deferred (a form) may wait."""

    def __init__(self) -> None:
        super().__init__(
            "My database is not answering right now (it may be restarting), so nothing was started. "
            "Please try again in a few seconds."
        )


async def in_time(interaction: discord.Interaction, work: Awaitable[T], *, answer: Answer) -> T:
    """The result of `work` (store work, done before the interaction answers), acknowledging the interaction first
    (as `answer` allows) if it is slow. Whatever `work` raises is raised; StoreSlowError when a "direct" answer
    could not wait any longer."""
    loop = asyncio.get_running_loop()
    since: float = interaction.extras.setdefault(_SINCE, loop.time())
    task = asyncio.ensure_future(work)
    if interaction.response.is_done():
        return await task  # acknowledged already: Discord's clock no longer runs
    patience = DIRECT_PATIENCE if answer == "direct" else PATIENCE
    try:
        done, _ = await asyncio.wait({task}, timeout=max(since + patience - loop.time(), 0.0))
    except BaseException:
        # Cancelled (shutdown): the work must not finish behind the caller's back.
        await _cancel(task)
        raise
    if done:
        return task.result()
    if answer == "direct":
        await _cancel(task)
        log.warning("the store is slow to answer (the database may be restarting): interaction %s cannot be"
                    " acknowledged before its answer, so the member is asked to try again", interaction.id)
        raise StoreSlowError
    try:
        if answer == "update":
            await interaction.response.defer()  # a component's press: "deferred update" of its message
        else:
            await interaction.response.defer(thinking=True, ephemeral=answer == "private")
    except discord.HTTPException:
        log.warning("could not acknowledge interaction %s while the store was slow", interaction.id)
    else:
        if answer == "public":
            interaction.extras[PUBLIC_STAND_IN] = True
        log.warning("the store is slow to answer (the database may be restarting): acknowledged interaction %s first",
                    interaction.id)
    return await task


def answered_publicly(interaction: discord.Interaction) -> None:
    """From here on the interaction's answer is public (a job was accepted): a public "thinking…" standing in for
    it is replaced by whatever follows, as usual."""
    interaction.extras.pop(PUBLIC_STAND_IN, None)


async def send_answer(interaction: discord.Interaction, *, ephemeral: bool = False, **message: Any) -> None:
    """Answer with `message` (content, embed, view, files, …): as the first response, or in place of the
    "thinking…" that `in_time` sent while the store was slow (its visibility was chosen then)."""
    if interaction.response.is_done():
        if "files" in message:  # an edit names its new files as attachments
            message["attachments"] = message.pop("files")
        await interaction.edit_original_response(**message)
    else:
        await interaction.response.send_message(ephemeral=ephemeral, **message)


async def update_answer(interaction: discord.Interaction, **message: Any) -> None:
    """Answer a press by editing the message pressed (content, embed, view, …): at once, or after `in_time`
    acknowledged it as an update while the store was slow."""
    if interaction.response.is_done():
        await interaction.edit_original_response(**message)
    else:
        await interaction.response.edit_message(**message)


async def _cancel(task: asyncio.Future[Any]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
