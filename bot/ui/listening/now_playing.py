"""A party's one "now playing" message: posted once, then edited in place (never a new message per song).

It shows the song playing beside its cover (its title, who made it, mentioned without a ping, and a progress line),
what comes next, who started the party, and the buttons Skip, Pause/Resume, Stop and ❤️ Like. Discord allows a
channel about five messages (edits included) in five seconds, so the party's own edits are coalesced: a change (a
new song, a pause, a song added) is shown at once unless the message was edited less than `edit_gap` ago, and the
progress line is brought up to date at most every `progress_every` seconds while a song plays. A press of a button
answers by editing the message itself (Discord's interaction update, which is not counted against the channel), so
the presser sees the change at once; edits take turns under one lock, so an older picture never lands last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.core.listening import ListeningConfig, Party, Song, votes_needed
from bot.core.wording import plural
from bot.ui import render
from bot.ui.items.like_button import like_label
from bot.ui.listening.party_buttons import LikeSongButton, PauseButton, SkipButton, StopButton

log = logging.getLogger(__name__)

Container = discord.ui.Container[discord.ui.LayoutView]
BAR = 12  # characters of the progress bar
NEXT_SHOWN = 3  # songs named under "Next"
TITLE_CHARS = 80
ANSWER_WAIT = 1.5  # seconds a press waits for the party's own edit before it is acknowledged without the picture
# Reads the likes of the song playing (the store), for the Like button's label.
LikeCount = Callable[[int], Awaitable[int]]


def plain(text: str) -> str:
    """A member's words shown as typed: no markdown or mentions sneak in."""
    return discord.utils.escape_markdown(discord.utils.escape_mentions(text))


def named(song: Song) -> str:
    """`**Sea Song** by @alice`: the title (as typed) and its maker, mentioned (never pinged: see AllowedMentions)."""
    return f"**{plain(render.shorten(song.title, TITLE_CHARS))}** by <@{song.maker_id}>"


def progress(position: float, duration: float | None, *, paused: bool) -> str:
    """`▶ 0:42 ━━━━●─────── 2:10`, or `⏸ Paused at 0:42 / 2:10`; the bar is left out when the length is unknown."""
    if paused:
        return f"⏸ Paused at {render.duration(position) if position >= 1 else '0:00'} / {render.duration(duration)}"
    played = render.duration(position) if position >= 1 else "0:00"
    if not duration:
        return f"▶ {played}"
    done = max(0, min(BAR - 1, int(position / duration * BAR)))
    return f"▶ {played} {'━' * done}●{'─' * (BAR - 1 - done)} {render.duration(duration)}"


def coming(party: Party) -> str:
    """`**Next:** A by @alice · B by @bob · and 4 more`, or what happens when the queue is empty."""
    upcoming = party.upcoming(NEXT_SHOWN)
    if upcoming:
        more = len(party.queue) - len(upcoming)
        return "**Next:** " + " · ".join(named(song) for song in upcoming) + (f" · and {more} more" if more else "")
    if party.live_channel_id is not None:
        return f"**Next:** the next song posted in <#{party.live_channel_id}>"
    return "**Next:** nothing: the party ends after this song"


def small_print(party: Party, listeners: int) -> str:
    """Who started the party, where posted songs come from, and the skip votes so far."""
    parts = [f"Started by <@{party.starter_id}>"]
    if party.live_channel_id is not None:
        parts.append(f"songs posted in <#{party.live_channel_id}> join the queue")
    if party.skip_votes:
        parts.append(f"skip: {len(party.skip_votes)} of {votes_needed(listeners)} votes")
    return "-# " + " · ".join(parts)


def playing_view(party: Party, *, likes: int, listeners: int) -> discord.ui.LayoutView:
    """The message while the party is on: the song playing (or, live, the wait for the next), next, the buttons."""
    container: Container = discord.ui.Container(accent_colour=discord.Colour.blurple())
    song = party.current
    if song is None:
        where = f"<#{party.live_channel_id}>" if party.live_channel_id is not None else "this channel"
        container.add_item(discord.ui.TextDisplay(
            f"### 🎧 Listening in <#{party.channel_id}>\nWaiting for the next song posted in {where}…"))
    else:
        heading = (f"### 🎧 Now playing in <#{party.channel_id}>\n{named(song)}\n"
                   f"{progress(party.playback.position(), song.duration, paused=party.playback.paused)}")
        text: discord.ui.TextDisplay[discord.ui.LayoutView] = discord.ui.TextDisplay(heading)
        cover = render.safe_url(song.cover_url)
        container.add_item(discord.ui.Section(
            text, accessory=discord.ui.Thumbnail[discord.ui.LayoutView](cover, description="Cover")) if cover else text)
        container.add_item(discord.ui.TextDisplay(coming(party)))
    container.add_item(discord.ui.TextDisplay(small_print(party, listeners)))
    buttons: list[discord.ui.Item[Any]] = [SkipButton(party.id), PauseButton(party.id, paused=party.playback.paused),
                                           StopButton(party.id)]
    if song is not None:
        buttons.append(LikeSongButton(party.id, song.job_id, label=like_label(likes)))
    container.add_item(discord.ui.ActionRow(*buttons))
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(container)
    return view


def ended_view(party: Party) -> discord.ui.LayoutView:
    """The message once the party is over: why, and how many songs played. No buttons are left to press."""
    container: Container = discord.ui.Container(accent_colour=discord.Colour.dark_grey())
    played = party.played + (1 if party.current is not None else 0)
    container.add_item(discord.ui.TextDisplay(
        f"### 🎧 The listening party in <#{party.channel_id}> has ended\n{party.end_reason}\n"
        f"-# {plural(played, 'song')} played · started by <@{party.starter_id}>"))
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(container)
    return view


class NowPlaying:
    """The party's message: posted when the first song starts, edited as the party goes, finished when it ends."""

    def __init__(self, party: Party, channel: discord.abc.Messageable, config: ListeningConfig,
                 likes: LikeCount, listeners: Callable[[], int]) -> None:
        self.party = party
        self.channel = channel
        self.message: discord.Message | None = None
        self.posted = asyncio.Event()  # set once the message is up, or once it never will be (the party ended first)
        self._config = config
        self._likes = likes
        self._listeners = listeners
        self._changed = asyncio.Event()
        self._lock = asyncio.Lock()
        self._finished = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin keeping the message up to date."""
        self._task = asyncio.create_task(self._keep_up(), name=f"now-playing {self.party.id}")

    def changed(self) -> None:
        """Something members see changed: show it (now, or once the last edit is `edit_gap` old)."""
        self._changed.set()

    async def view(self) -> discord.ui.LayoutView:
        """The message as it should look now."""
        if self.party.ended:
            return ended_view(self.party)
        song = self.party.current
        likes = await self._likes(song.job_id) if song is not None else 0
        return playing_view(self.party, likes=likes, listeners=self._listeners())

    async def answer(self, interaction: discord.Interaction) -> None:
        """A press's one answer: the message, brought up to date, as the interaction's update of it. Should the
        party's own edit hold the message longer than ANSWER_WAIT (Discord slowing it down), the press is
        acknowledged at once instead and the change shown by the next edit."""
        try:
            await asyncio.wait_for(self._lock.acquire(), timeout=ANSWER_WAIT)
        except TimeoutError:
            await interaction.response.defer()
            self.changed()
            return
        try:
            view = await self.view()
            await interaction.response.edit_message(view=view, allowed_mentions=discord.AllowedMentions.none())
            self._finished = self.party.ended
        finally:
            self._lock.release()

    async def finish(self) -> None:
        """The party ended: show it (once), and stop editing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.posted.set()
        if self.message is None or self._finished:
            return
        async with self._lock:
            if not self._finished:
                self._finished = await self._send(ended_view(self.party))

    async def _keep_up(self) -> None:
        """Post the message, then edit it on each change (no more often than `edit_gap`) and, while a song plays,
        every `progress_every` seconds."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=self._config.progress_every)
                ticking = self.party.current is not None and not self.party.playback.paused
                if not self._changed.is_set() and not ticking:
                    continue
                self._changed.clear()
                async with self._lock:
                    if self._finished or (self.party.ended and self.message is None):
                        return  # said already; or ended before its first song, which its starter is told instead
                    try:
                        shown = await self._send(await self.view())
                    except Exception:
                        # The store could not say the likes (a database restart): the next change tries again.
                        log.warning("could not show party %d", self.party.id, exc_info=True)
                        shown = False
                    if shown and self.party.ended:
                        self._finished = True
                        return
                    sent_at = loop.time()
                await asyncio.sleep(max(0.0, sent_at + self._config.edit_gap - loop.time()))
        finally:
            self.posted.set()

    async def _send(self, view: discord.ui.LayoutView) -> bool:
        """Post the message the first time, edit it afterwards; whether Discord took it (a refusal is logged, never
        raised)."""
        mentions = discord.AllowedMentions.none()
        try:
            if self.message is None:
                self.message = await self.channel.send(view=view, allowed_mentions=mentions)
                self.posted.set()
            else:
                self.message = await self.message.edit(view=view, allowed_mentions=mentions)
        except discord.HTTPException as error:
            log.warning("could not %s the now-playing message of party %d: %s",
                        "post" if self.message is None else "edit", self.party.id, error)
            if self.message is None:
                self.posted.set()  # the party stops; its starter is told there is no message to steer it
            return False
        return True
