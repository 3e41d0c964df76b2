"""Listening parties, with no Discord in it: a party's queue and its rules, and where its songs come from.

A party plays songs one after another in a voice channel: the queue is songs (a job's take, with its title, maker,
length and audio link), each played once in order. What the rules say:

- a song already queued or playing is not queued again (a second `/listen` adds only what is new);
- a skip vote passes when a majority of the listeners (everyone in the voice channel but the bot) voted for it; the
  party's starter or a moderator skips alone; votes are for the song playing and start again with the next one;
- only the starter or a moderator stops the party;
- a song deleted since it was queued is skipped when its turn comes (`ListeningService.playable`);
- a live party also queues each song posted in its text channel after the party began, once.

A party lives in the memory of the process that owns its guild's shard: every interaction and voice event of a guild
reaches that one process, so nothing about a party needs to be shared. Its songs come from the one store, so a song
another process posted (PostgreSQL, several processes) reaches a live party at its next look.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Literal

from bot.core.community.challenges import ChallengeService
from bot.core.community.rankings import ChartService, Period
from bot.core.community.songs import is_song, takes, title_of
from bot.core.limits import NotAllowedError
from bot.domain import Job
from bot.store import JobStore

# What a party plays: one song from its post, the chart, a challenge's entries, a member's songs, or what is posted.
Source = Literal["song", "top", "challenge", "member", "live"]
# The most songs a party holds in its queue (a chart is 10, a member's newest songs are MEMBER_SONGS).
MAX_QUEUE = 50
MEMBER_SONGS = 10
# How many songs a live party reads from the store in one look (more than a channel posts in a few seconds).
LIVE_BATCH = 25


@dataclass(frozen=True, slots=True)
class ListeningConfig:
    """How a party paces itself. Tests shorten the waits; nothing here changes what members hear."""

    alone_grace: float = 30.0  # seconds the bot stays once everyone else has left, in case they come back
    live_every: float = 5.0  # seconds between two looks for songs posted in a live party's channel
    progress_every: float = 15.0  # seconds between two edits of the progress line (Discord: ~5 edits / 5 s)
    edit_gap: float = 2.0  # the least time between two edits of the now-playing message the party makes itself
    connect_timeout: float = 15.0  # how long joining a voice channel may take before the member is told


@dataclass(frozen=True, slots=True)
class Song:
    """One take of a song, as a party plays it."""

    job_id: int
    take: int  # from 1
    title: str
    maker_id: int
    duration: float | None  # seconds, when the model said
    audio_url: str
    cover_url: str = ""

    @property
    def key(self) -> tuple[int, int]:
        """What makes two queue entries the same song."""
        return self.job_id, self.take


def song_of(job: Job, take: int = 1) -> Song | None:
    """The take (from 1) of a finished song as a party plays it, or None when it has no such take or no audio."""
    clips = takes(job)
    if not is_song(job) or not 1 <= take <= len(clips) or not clips[take - 1].audio_url:
        return None
    clip = clips[take - 1]
    return Song(job.id, take, title_of(job), job.user_id, clip.duration, clip.audio_url,
                clip.image_url or clip.image_large_url)


def songs_of(job: Job) -> list[Song]:
    """Every take of a finished song that has audio, in order."""
    return [song for song in (song_of(job, take) for take in range(1, len(takes(job)) + 1)) if song is not None]


def votes_needed(listeners: int) -> int:
    """How many skip votes pass: a majority of the listeners (at least one)."""
    return listeners // 2 + 1 if listeners > 1 else 1


@dataclass(frozen=True, slots=True)
class SkipOutcome:
    """What a press of Skip did: whether the song is skipped now, and the votes for it against those needed."""

    skipped: bool
    votes: int
    needed: int
    already: bool = False  # the member had voted for this song already


@dataclass(slots=True)
class Playback:
    """Where in the current song the party is, from a clock: playing time only, pauses left out."""

    now: Callable[[], float] = time.monotonic
    _started: float | None = None
    _paused_at: float | None = None
    _paused_for: float = 0.0

    def start(self) -> None:
        """A new song begins."""
        self._started, self._paused_at, self._paused_for = self.now(), None, 0.0

    def pause(self) -> None:
        """Playing stops for now."""
        if self._started is not None and self._paused_at is None:
            self._paused_at = self.now()

    def resume(self) -> None:
        """Playing goes on."""
        if self._paused_at is not None:
            self._paused_for += self.now() - self._paused_at
            self._paused_at = None

    @property
    def paused(self) -> bool:
        """Whether playing is paused."""
        return self._paused_at is not None

    def position(self) -> float:
        """Seconds of the current song played so far."""
        if self._started is None:
            return 0.0
        until = self._paused_at if self._paused_at is not None else self.now()
        return max(until - self._started - self._paused_for, 0.0)


@dataclass(slots=True)
class Party:
    """One listening party: where it plays, who started it, its queue and the song playing. Pure memory."""

    id: int
    guild_id: int
    channel_id: int  # the voice channel
    text_channel_id: int  # where its now-playing message is, and (live) where posted songs come from
    starter_id: int
    started_at: float  # the store's clock: a live party queues songs posted from then on
    live_channel_id: int | None = None  # live: songs posted in this text channel join the queue
    queue: deque[Song] = field(default_factory=deque)
    current: Song | None = None
    played: int = 0
    skip_votes: set[int] = field(default_factory=set)
    ended: bool = False
    end_reason: str = ""
    playback: Playback = field(default_factory=Playback)
    _live_seen: set[int] = field(default_factory=set)

    def add(self, songs: Iterable[Song]) -> list[Song]:
        """Queue the songs not already queued or playing, up to MAX_QUEUE; the ones queued now."""
        present = {song.key for song in self.queue} | ({self.current.key} if self.current else set())
        added = []
        for song in songs:
            if song.key in present or len(self.queue) >= MAX_QUEUE:
                continue
            present.add(song.key)
            self.queue.append(song)
            added.append(song)
        return added

    @property
    def live(self) -> bool:
        """Whether songs posted in a channel join the queue (the party then waits for them when its queue is empty)."""
        return self.live_channel_id is not None

    def add_posted(self, songs: Iterable[Song]) -> list[Song]:
        """Live: queue the songs posted in the party's channel that it has not seen yet (each song once)."""
        fresh = [song for song in songs if song.job_id not in self._live_seen]
        self._live_seen.update(song.job_id for song in fresh)
        return self.add(fresh)

    def advance(self) -> Song | None:
        """The next song becomes the one playing (None when the queue is empty); skip votes start again."""
        if self.current is not None:
            self.played += 1
        self.current = self.queue.popleft() if self.queue and not self.ended else None
        self.skip_votes.clear()
        if self.current is not None:
            self.playback.start()
        return self.current

    def upcoming(self, count: int = 3) -> list[Song]:
        """The next songs, in order."""
        return list(self.queue)[:count]

    def vote_skip(self, user_id: int, listeners: Collection[int], *, alone: bool) -> SkipOutcome:
        """A listener votes to skip the song playing; `alone`: the starter or a moderator, whose vote is enough.
        Only votes of members still listening count."""
        present = set(listeners)
        already = user_id in self.skip_votes
        self.skip_votes.add(user_id)
        self.skip_votes &= present | {user_id}
        needed = votes_needed(len(present))
        skipped = alone or len(self.skip_votes) >= needed
        return SkipOutcome(skipped, len(self.skip_votes), needed, already=already and not skipped)

    def may_stop(self, user_id: int, *, moderator: bool) -> bool:
        """The starter or a moderator may stop the party."""
        return moderator or user_id == self.starter_id

    def may_skip_alone(self, user_id: int, *, moderator: bool) -> bool:
        """The starter or a moderator skips without a vote."""
        return moderator or user_id == self.starter_id

    def end(self, reason: str) -> bool:
        """End the party (the first reason given is kept); False if it had ended already."""
        if self.ended:
            return False
        self.ended, self.end_reason = True, reason
        self.queue.clear()
        return True


class ListeningService:
    """Where a party's songs come from: one song, the chart, a challenge's entries, a member's songs, or the songs
    posted in a channel since a moment; and whether a queued song may still be played."""

    def __init__(self, store: JobStore, charts: ChartService, challenges: ChallengeService) -> None:
        self._store = store
        self._charts = charts
        self._challenges = challenges

    async def clock(self) -> float:
        """The store's clock (a live party counts posted songs from this moment; shared by every process)."""
        return await self._store.clock()

    async def song(self, guild_id: int, job_id: int) -> list[Song]:
        """A song of this server, every take in order; NotAllowedError when it cannot be played."""
        job = await self._store.get(job_id)
        found = songs_of(job) if job is not None and job.guild_id == guild_id else []
        if not found:
            raise NotAllowedError(f"Song #{job_id} has no take to play.")
        if await self._store.removed_songs([job_id]):
            raise NotAllowedError(f"Song #{job_id} was deleted.")
        return found

    async def top(self, guild_id: int, period: Period = "week") -> list[Song]:
        """The server's chart for the period, most liked first (each song's first take)."""
        return _first_takes(row.job for row in await self._charts.top(guild_id, period))

    async def member(self, guild_id: int, user_id: int) -> list[Song]:
        """A member's newest songs on the server, newest first (each song's first take)."""
        return _first_takes(await self._store.member_songs(guild_id, user_id, limit=MEMBER_SONGS))

    async def challenge(self, guild_id: int) -> list[Song]:
        """The entries of the running challenge, else of the last one, in the order they were entered."""
        challenge = await self._challenges.current(guild_id)
        if challenge is None:
            raise NotAllowedError("There has been no challenge here yet. Admins start one with `/challenge start`.")
        entries = await self._challenges.entries(challenge.id)
        removed = await self._store.removed_songs([entry.job.id for entry in entries])
        return _first_takes(entry.job for entry in entries if entry.job.id not in removed)

    async def posted_since(self, guild_id: int, channel_id: int, since: float) -> list[Song]:
        """Songs posted in the channel since `since` (the store's clock), oldest first (each song's first take)."""
        return _first_takes(await self._store.songs_posted_in(guild_id, channel_id, since=since, limit=LIVE_BATCH))

    async def playable(self, song: Song) -> bool:
        """Whether the song may still be played (it was not deleted since it was queued)."""
        return not await self._store.removed_songs([song.job_id])


def _first_takes(jobs: Iterable[Job]) -> list[Song]:
    return [song for song in (song_of(job) for job in jobs) if song is not None]
