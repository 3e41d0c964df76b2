"""Song battles: two takes of one song (or Suno against Udio on one prompt) face off; members vote, once each and
changeably, with the counts hidden until the battle closes.

The battle's jobs are ordinary jobs (started through the limits, posted as songs). Once they are posted, the
community timers open the battle where members listen (the song's own post for two takes, a face-off playing both
songs for Suno against Udio) and, when its time is up, close it (the votes on that post, and one result line).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.cometapi import Clip
from bot.core.community.songs import takes
from bot.core.limits import NotAllowedError
from bot.domain import Battle, BattleMode, Choice, Job, NewBattle, VoteOutcome
from bot.store import JobStore

# Jobs in these states will never give the battle a song.
HOPELESS = frozenset({"failed", "submit_failed", "cancelled"})


@dataclass(frozen=True, slots=True)
class Contender:
    """One side of a battle: which job and take, and what members call it (`Take A`, `Suno`)."""

    side: Choice
    name: str
    job: Job
    take: int
    clip: Clip


@dataclass(frozen=True, slots=True)
class BattleResult:
    """How a battle ended: the winning side (`tie`, or None when called off), the votes, and why if called off."""

    winner: str | None
    votes: tuple[int, int] | None
    note: str | None = None


def contenders(battle: Battle, jobs: dict[int, Job]) -> tuple[Contender, Contender] | None:
    """The two sides, or None when the songs do not give two complete takes."""
    first = jobs.get(battle.job_a)
    if first is None:
        return None
    if battle.mode == "takes":
        clips = takes(first)
        if len(clips) < 2:
            return None
        return (Contender("a", "Take A", first, 1, clips[0]), Contender("b", "Take B", first, 2, clips[1]))
    second = jobs.get(battle.job_b or 0)
    if second is None or not takes(first) or not takes(second):
        return None
    return (Contender("a", first.provider.capitalize(), first, 1, takes(first)[0]),
            Contender("b", second.provider.capitalize(), second, 1, takes(second)[0]))


def winner_of(votes: tuple[int, int]) -> str:
    """`a`, `b` or `tie`."""
    a, b = votes
    return "a" if a > b else "b" if b > a else "tie"


class BattleService:
    """Starts battles and takes votes."""

    def __init__(self, store: JobStore, *, now: Callable[[], float] = time.time) -> None:
        self._store = store
        self._now = now

    async def start(
        self, *, guild_id: int, channel_id: int, starter_id: int, prompt: str, mode: BattleMode, jobs: list[Job]
    ) -> Battle:
        """Record a battle for jobs just reserved; it opens when they are posted."""
        settings = await self._store.guild_settings(guild_id)
        return await self._store.create_battle(NewBattle(
            guild_id=guild_id, channel_id=channel_id, starter_id=starter_id, prompt=prompt, mode=mode,
            job_a=jobs[0].id, job_b=jobs[1].id if len(jobs) > 1 else None,
            voting_seconds=settings.battle_minutes * 60.0,
        ))

    async def get(self, battle_id: int) -> Battle | None:
        """One battle."""
        return await self._store.get_battle(battle_id)

    async def vote(self, battle_id: int, user_id: int, choice: Choice) -> tuple[Battle, VoteOutcome]:
        """Vote for a side (or change one's vote); NotAllowedError when the battle is not taking votes."""
        battle = await self._store.get_battle(battle_id)
        if battle is None:
            raise NotAllowedError("I cannot find that battle any more.")
        if battle.state == "making":
            raise NotAllowedError("This battle has not started yet.")
        if await self._store.removed_songs(battle.job_ids):
            raise NotAllowedError("This battle is called off: a song in it was deleted.")
        outcome = await self._store.vote_battle(battle_id, user_id, choice)
        if not outcome.accepted:
            raise NotAllowedError("This battle is over: voting has closed.")
        return battle, outcome

    async def jobs_of(self, battle: Battle) -> dict[int, Job]:
        """The battle's jobs by id (those that still exist)."""
        found = {}
        for job_id in battle.job_ids:
            job = await self._store.get(job_id)
            if job is not None:
                found[job_id] = job
        return found
