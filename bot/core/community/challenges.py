"""Weekly challenges: an admin sets a theme and an end; members enter a song they made since it started (one
entry each, entering again replaces it); then an anonymous vote (one per member, never for one's own entry);
then results and a leaderboard. The phases move on by the community timers, so they survive restarts."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.community.songs import is_song
from bot.core.limits import NotAllowedError
from bot.core.validation import InvalidInputError
from bot.domain import Challenge, ChallengeEntry, EntryOutcome, Job, NewChallenge, VoteOutcome
from bot.store import JobStore

MIN_SECONDS = 60.0
MAX_SECONDS = 60 * 86400.0
DEFAULT_VOTING = 24 * 3600.0
MAX_THEME = 200
# How many of a member's newest songs /challenge submit offers to pick from (Discord shows 25 choices).
ENTERABLE = 25
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([dhm])")
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0}


def parse_duration(text: str, *, field: str = "ends") -> float:
    """Seconds in `7d`, `48h`, `1d12h`, `90m` (a bare number is hours); InvalidInputError otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", cleaned):
        seconds = float(cleaned) * 3600.0
    elif cleaned and _DURATION.sub("", cleaned) == "":
        seconds = sum(float(amount) * _UNITS[unit] for amount, unit in _DURATION.findall(cleaned))
    else:
        raise InvalidInputError(field, f"`{text}` is not a length of time. Write e.g. `7d`, `48h`, `1d12h` or `90m`.")
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise InvalidInputError(field, "Pick a length between 1 minute and 60 days.")
    return seconds


@dataclass(frozen=True, slots=True)
class Entry:
    """An entry with its song."""

    entry: ChallengeEntry
    job: Job


@dataclass(frozen=True, slots=True)
class Standing:
    """A place on the leaderboard (tied entries share it)."""

    place: int
    entry: Entry
    votes: int


def standings(entries: list[Entry], tally: dict[int, int]) -> list[Standing]:
    """Entries by votes, most first (ties share a place; earlier entries first among them)."""
    ordered = sorted(entries, key=lambda e: (-tally.get(e.entry.user_id, 0), e.entry.submitted_at))
    board: list[Standing] = []
    for index, entry in enumerate(ordered):
        votes = tally.get(entry.entry.user_id, 0)
        place = board[-1].place if board and board[-1].votes == votes else index + 1
        board.append(Standing(place, entry, votes))
    return board


class ChallengeService:
    """Starts challenges, takes entries and votes, and reads them back."""

    def __init__(self, store: JobStore, *, now: Callable[[], float] = time.time) -> None:
        self._store = store
        self._now = now

    async def start(
        self, *, guild_id: int, channel_id: int, theme: str, by: int, ends_in: float, voting: float = DEFAULT_VOTING
    ) -> Challenge:
        """Start a challenge; NotAllowedError if one is already running here."""
        theme = " ".join(theme.split())
        if not theme:
            raise InvalidInputError("theme", "Give the challenge a theme.")
        if len(theme) > MAX_THEME:
            raise InvalidInputError("theme", f"Keep the theme under {MAX_THEME} characters.")
        started = await self._store.create_challenge(NewChallenge(
            guild_id=guild_id, channel_id=channel_id, theme=theme, started_by=by,
            # The store's clock (the database's, when processes share it) judges the deadline, so it sets it too.
            submit_ends_at=await self._store.clock() + ends_in, voting_seconds=voting,
        ))
        if started is None:
            raise NotAllowedError("A challenge is already running here: see `/challenge status`.")
        return started

    async def current(self, guild_id: int) -> Challenge | None:
        """The running challenge, else the latest one."""
        return await self._store.current_challenge(guild_id)

    async def running(self, guild_id: int) -> Challenge:
        """The running challenge; NotAllowedError when there is none."""
        challenge = await self._store.current_challenge(guild_id)
        if challenge is None or challenge.state not in ("open", "voting"):
            raise NotAllowedError("There is no challenge running here. Admins start one with `/challenge start`.")
        return challenge

    async def submit(self, guild_id: int, user_id: int, job_id: int) -> tuple[Challenge, EntryOutcome]:
        """Enter a song the member made here since the challenge started (replacing their earlier entry)."""
        challenge = await self.running(guild_id)
        if challenge.state != "open":
            raise NotAllowedError("Entries are closed: the challenge is voting now.")
        job = await self._store.get(job_id)
        if job is None or job.guild_id != guild_id or not is_song(job):
            raise NotAllowedError(f"There is no finished song #{job_id} here.")
        if job.user_id != user_id:
            raise NotAllowedError(f"Song #{job_id} is not yours: enter a song you made.")
        if job.created_at < challenge.started_at:
            raise NotAllowedError(f"Song #{job_id} was made before the challenge started: make a new one for it.")
        if await self._store.removed_songs([job_id]):
            raise NotAllowedError(f"Song #{job_id} was deleted.")
        outcome = await self._store.submit_entry(challenge.id, user_id, job_id)
        if not outcome.accepted:
            raise NotAllowedError("Entries are closed.")
        return challenge, outcome

    async def open_for(self, job: Job) -> Challenge | None:
        """The challenge taking entries that this song may enter (made in its server since the challenge started),
        if any: its post offers to enter it."""
        if job.guild_id is None or not is_song(job):
            return None
        challenge = await self._store.current_challenge(job.guild_id)
        if challenge is None or challenge.state != "open" or job.created_at < challenge.started_at:
            return None
        return challenge

    async def enterable(self, guild_id: int, user_id: int) -> list[Job]:
        """The member's songs that may enter the challenge taking entries here, newest first (none without one)."""
        challenge = await self._store.current_challenge(guild_id)
        if challenge is None or challenge.state != "open":
            return []
        songs = await self._store.member_songs(guild_id, user_id, limit=ENTERABLE)
        return [song for song in songs if song.created_at >= challenge.started_at]

    async def remove(self, guild_id: int, user_id: int, *, by: int) -> Challenge:
        """A moderator takes a member's entry out; NotAllowedError if they have none."""
        challenge = await self.running(guild_id)
        if not await self._store.remove_entry(challenge.id, user_id, by=by):
            raise NotAllowedError(f"<@{user_id}> has no entry in this challenge.")
        return challenge

    async def entries(self, challenge_id: int) -> list[Entry]:
        """Entries still in, with their songs, in order of submission."""
        found = []
        for entry in await self._store.challenge_entries(challenge_id):
            job = await self._store.get(entry.job_id)
            if job is not None:
                found.append(Entry(entry, job))
        return found

    async def vote(self, challenge_id: int, voter_id: int, entry_user_id: int) -> tuple[Challenge, VoteOutcome]:
        """Vote for an entry (changeable; never one's own); NotAllowedError when that is not possible."""
        challenge = await self._store.get_challenge(challenge_id)
        if challenge is None or challenge.state != "voting":
            raise NotAllowedError("This challenge is not voting now.")
        if entry_user_id == voter_id:
            raise NotAllowedError("You cannot vote for your own entry. Pick another one you like!")
        if entry_user_id not in {e.user_id for e in await self._store.challenge_entries(challenge_id)}:
            raise NotAllowedError("That entry is not in the challenge any more.")
        outcome = await self._store.vote_challenge(challenge_id, voter_id, entry_user_id)
        if not outcome.accepted:
            raise NotAllowedError("Voting has closed.")
        return challenge, outcome

    async def leaderboard(self, challenge: Challenge) -> list[Standing]:
        """The entries by votes."""
        return standings(await self.entries(challenge.id), await self._store.challenge_tally(challenge.id))
