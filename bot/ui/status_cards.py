"""Live status cards: edit each job's public card as it moves, without flooding Discord.

The poller reports changes; edits are coalesced per job and sent by one background worker, so a busy
cycle never waits on Discord's rate limits. While the interaction token is valid (15 minutes) the card
is edited through the interaction webhook; after that through the channel message the bot owns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import discord

from bot.store import Job, JobUpdate
from bot.ui import render
from bot.ui.items.card import card_view

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)


class StatusCards:
    """Coalescing editor of status cards."""

    def __init__(
        self, bot: Chorus, *, min_interval: float = 2.0, now: Callable[[], float] = time.time,
        yield_to: Callable[[int], bool] = lambda _channel_id: False,
    ) -> None:
        self._bot = bot
        # Songs first: while a song is being posted in a channel, its cards' edits wait (Discord allows about
        # five messages per five seconds per channel, edits included).
        self._yield_to = yield_to
        self._min_interval = min_interval
        self._now = now
        self._dirty: dict[int, str | None] = {}  # job id → jump URL of the delivered song, once there is one
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the background editor (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="chorus-status-cards")

    async def stop(self) -> None:
        """Flush what is pending (briefly), then stop."""
        if self._task is None:
            return
        task, self._task = self._task, None
        if self._dirty:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._flush(), timeout=5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def on_progress(self, updates: Sequence[JobUpdate]) -> None:
        """The poller's progress listener: remember which cards are stale."""
        for update in updates:
            self._dirty.setdefault(update.job_id, None)
        self._wake.set()

    def delivered(self, job: Job, url: str) -> None:
        """Show the final state on the card with a link to the delivered song."""
        self._dirty[job.id] = url
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()
            await asyncio.sleep(self._min_interval)  # at most one round of edits per interval

    async def _flush(self) -> None:
        batch, self._dirty = self._dirty, {}
        for job_id, url in batch.items():
            try:
                job = await self._bot.jobs.get(job_id)
                if job is not None and self._yield_to(job.channel_id):
                    self._dirty.setdefault(job_id, url)  # next round
                    self._wake.set()
                    continue
                if job is not None and job.status_message_id is not None:
                    await self.edit(job, render.status_card(job, delivered_url=url), card_view(job))
            except Exception:
                log.exception("updating the status card of job %d failed", job_id)

    async def edit(self, job: Job, embed: discord.Embed, view: discord.ui.View | None = None) -> None:
        """Edit the job's card: through the interaction while its token is valid, else as a channel message."""
        message_id = job.status_message_id
        if message_id is None:
            return
        none = discord.AllowedMentions.none()
        try:
            token = job.interaction_token if (job.interaction_expires_at or 0) > self._now() else None
            if token and self._bot.application_id is not None:
                webhook = discord.Webhook.partial(self._bot.application_id, token, client=self._bot)
                await webhook.edit_message(
                    message_id, embed=embed, view=view or discord.ui.View(), allowed_mentions=none
                )
            else:
                channel = self._bot.get_partial_messageable(job.channel_id)
                await channel.get_partial_message(message_id).edit(
                    embed=embed, view=view or discord.ui.View(), allowed_mentions=none
                )
        except discord.NotFound:
            log.info("the status card of job %d is gone (deleted?)", job.id)
        except discord.HTTPException as exc:
            log.warning("could not edit the status card of job %d: %s", job.id, exc)
