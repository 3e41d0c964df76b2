"""Live status cards: edit each job's public card as it moves, without flooding Discord.

The poller reports changes; edits are coalesced per job and sent by one background worker, so a busy
cycle never waits on Discord's rate limits. While the interaction token is valid (15 minutes) the card
is edited through the interaction webhook; after that through the channel message the bot owns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.core.jobs import may_have_started
from bot.core.loop import Loop, Next, Timer
from bot.domain import Job, JobUpdate
from bot.ui import render
from bot.ui.items.card import card_view
from bot.ui.items.retry import failure_actions
from bot.ui.items.song_buttons import EditButton, RerollButton
from bot.ui.post import failure_headline

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)

# Discord's JSON error code for a message that does not exist (or that this route cannot reach).
UNKNOWN_MESSAGE = 10008
# Jobs whose card shows live progress.
LIVE = frozenset({"submitting", "queued", "running"})


class StatusCards:
    """Coalescing editor of status cards."""

    def __init__(
        self, bot: Chorus, *, min_interval: float = 2.0, now: Callable[[], float] = time.time,
        yield_to: Callable[[int], bool] = lambda _channel_id: False, timer: Timer | None = None,
    ) -> None:
        self._bot = bot
        # Songs first: while a song is being posted in a channel, its cards' edits wait (Discord allows about
        # five messages per five seconds per channel, edits included).
        self._yield_to = yield_to
        self._min_interval = min_interval
        self._now = now
        self._dirty: set[int] = set()  # jobs whose card is stale
        # Jobs whose card Discord says is gone (deleted by someone, or a private card the token no longer reaches): not
        # edited again, since each try would spend the channel's share of the rate limit its songs need. Bounded by
        # the jobs in flight: an entry goes when its job is done.
        self._gone: set[int] = set()
        # Idle until progress arrives; then at most one round of edits per `min_interval` (held against wakes).
        self._loop = Loop("status-cards", self._round, interval=min_interval, grace=5.0, timer=timer)

    def start(self) -> None:
        """Start the background editor (idempotent); it waits for the first progress."""
        self._loop.start(first_in=math.inf)

    async def stop(self) -> None:
        """Let a round of edits under way finish, flush what is still pending (briefly), then stop."""
        if not self._loop.running:
            return
        await self._loop.stop()
        if self._dirty:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._flush(), timeout=5)

    async def on_progress(self, updates: Sequence[JobUpdate]) -> None:
        """The poller's progress listener: remember which cards are stale."""
        for update in updates:
            self._dirty.add(update.job_id)
        self._loop.wake()

    async def remove(self, job: Job, *, moved_to: str | None = None) -> None:
        """The song is posted: the card goes, so one public message of the job remains. When the song went
        elsewhere (by DM), the card stays as one line saying where, without buttons."""
        self._dirty.discard(job.id)
        if job.status_message_id is None or job.id in self._gone:
            self._gone.discard(job.id)
            return  # nothing left to remove
        if moved_to is not None:
            line = discord.Embed(description=f"✅ Song #{job.id} is done: {moved_to}", colour=render.COLOURS["ok"])
            await self.edit(job, line, None)
            return
        try:
            if self._token(job) and self._bot.application_id is not None:
                await self._webhook(job).delete_message(job.status_message_id)
            else:
                channel = self._bot.get_partial_messageable(job.channel_id)
                await channel.get_partial_message(job.status_message_id).delete()
        except discord.NotFound:
            pass  # already gone
        except discord.HTTPException as exc:
            log.warning("could not remove the status card of job %d: %s", job.id, exc)

    async def report_failure(self, job: Job) -> int | None:
        """Tell the member their job failed, leaving the channel tidy. While the interaction token lives they are
        told privately (why, what they asked, and Edit or Try again) and the public card shrinks to one line without
        buttons. After that, the card shows the failure with its button, and one short reply to it pings only them.
        Returns the id of the message that told them, or None without a card (the caller posts the failure)."""
        self._dirty.discard(job.id)
        if job.status_message_id is None:
            return None
        try:
            return await self._report_failure(job, job.status_message_id)
        finally:
            self._gone.discard(job.id)  # the job is done with its card

    async def _report_failure(self, job: Job, card_id: int) -> int | None:
        button, info = failure_actions(job)
        if self._token(job) and await self._tell_privately(job, failure_notice(job, button),
                                                           _view_of(button, info)):
            # The member has it all: the card stays only as a line saying the song did not work out. If the card is
            # gone (deleted), the member was told all the same, so nothing more is posted.
            await self.edit(job, failure_line(job), None)
            return card_id
        if not await self.edit(job, render.status_card(job), _view_of(button, info)):
            return None
        headline = failure_headline(job)
        what = f"**{button.item.label}**"
        channel = self._bot.get_partial_messageable(job.channel_id)
        reply = await channel.send(
            f"<@{job.user_id}> {headline} Your prompt and {what} are on the card above.",
            reference=discord.MessageReference(message_id=card_id, channel_id=job.channel_id,
                                               fail_if_not_exists=False),
            nonce=job.nonce,
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, replied_user=False,
                                                     users=[discord.Object(id=job.user_id)]),
        )
        return reply.id

    async def _tell_privately(self, job: Job, text: str, view: discord.ui.View) -> bool:
        """An ephemeral followup on the job's interaction (only while its token lives)."""
        try:
            followup = discord.Webhook.from_state(
                {"id": self._bot.application_id, "type": 3, "token": job.interaction_token},  # type: ignore[typeddict-item]
                state=self._bot._connection,
            )
            await followup.send(text, ephemeral=True, view=view, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.warning("could not tell the member of job %d privately: %s", job.id, exc)
            return False
        return True

    def _webhook(self, job: Job) -> discord.Webhook:
        """The interaction's webhook, which can edit and delete the card while the token lives."""
        return discord.Webhook.partial(self._bot.application_id or 0, job.interaction_token or "", client=self._bot)

    def _token(self, job: Job) -> bool:
        return bool(job.interaction_token) and (job.interaction_expires_at or 0) > self._now()

    async def _round(self) -> Next:
        await self._flush()
        return Next(after=math.inf, hold=self._min_interval)  # at most one round of edits per interval

    async def _flush(self) -> None:
        batch, self._dirty = self._dirty, set()
        for job_id in batch:
            try:
                job = await self._bot.jobs.get(job_id)
                if job is None or job.status_message_id is None or job.state not in LIVE:
                    self._gone.discard(job_id)
                    continue  # finished jobs' cards are removed or turned into the failure by delivery
                if self._yield_to(job.channel_id):
                    self._dirty.add(job_id)  # next round: the song being posted there goes first
                    self._loop.wake()
                    continue
                hints = await self._bot.jobs.progress_hints(job)
                await self.edit(job, render.status_card(job, hints=hints), card_view(job))
            except Exception:
                log.exception("updating the status card of job %d failed", job_id)

    async def edit(self, job: Job, embed: discord.Embed, view: discord.ui.View | None = None) -> bool:
        """Edit the job's card: through the interaction while its token is valid, else as a channel message.
        Returns whether the card was edited."""
        message_id = job.status_message_id
        if message_id is None or job.id in self._gone:
            return False
        none = discord.AllowedMentions.none()
        try:
            if self._token(job) and self._bot.application_id is not None:
                await self._webhook(job).edit_message(
                    message_id, embed=embed, view=view or discord.ui.View(), allowed_mentions=none
                )
            else:
                channel = self._bot.get_partial_messageable(job.channel_id)
                await channel.get_partial_message(message_id).edit(
                    embed=embed, view=view or discord.ui.View(), allowed_mentions=none
                )
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_MESSAGE:
                self._gone.add(job.id)  # not edited again
            log.info("the status card of job %d is gone (deleted?)", job.id)
            return False
        except discord.HTTPException as exc:
            log.warning("could not edit the status card of job %d: %s", job.id, exc)
            return False
        return True


def failure_line(job: Job) -> discord.Embed:
    """The one line a failed song's card shrinks to once its member was told privately: no reason, no prompt (they
    are the member's business), no buttons; mentions inside embeds ping nobody."""
    line = f"❌ Song #{job.id} for <@{job.user_id}> did not work out ({render.model_label(job)}); they were told why."
    return discord.Embed(description=line, colour=render.COLOURS["bad"])


def failure_notice(job: Job, button: EditButton | RerollButton) -> str:
    """What the member reads privately: what went wrong, what to press next, and what they asked for."""
    headline = failure_headline(job)
    reason = render.shorten(render.failure_reason(job), 500)
    lines = [f"❌ {headline[0].upper()}{headline[1:]}", f"-# {_plain(reason)}"]
    if may_have_started(job):
        lines.append(f"-# {render.MAY_HAVE_STARTED_NOTE}")
    if isinstance(button, EditButton):
        lines.append("Asked again as it is, it would fail the same way: **Edit** opens your request to change it.")
    else:
        lines.append(f"**{button.item.label}** asks for it once more, as it was.")
    prompt = render.prompt_of(job)
    if prompt:
        lines.append(">>> " + _plain(render.shorten(prompt, 1200)))  # last: >>> quotes the rest
    return render.shorten("\n".join(lines), render.CONTENT)


def _plain(text: str) -> str:
    """Member or CometAPI text shown as written: no markdown or mentions sneak in."""
    return discord.utils.escape_markdown(discord.utils.escape_mentions(text))


def _view_of(*items: discord.ui.Item[Any]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view
