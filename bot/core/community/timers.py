"""The community timers: open battles once their songs are posted, close them when their time is up, move
challenges from entries to voting to results, and feature each guild's song of the day.

Every due time lives in the database, and the loop wakes for the next one (or when woken: a song was posted), so
a restart resumes them: a battle whose time ran out while the bot was down is closed as soon as it is back. What
is posted is up to the `Herald` (the ui layer); this module decides what is due. Each post carries a nonce of its
own and the state moves only after it, with a guarded UPDATE, so a post is made once.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.core.community.battles import HOPELESS, BattleResult, BattleService, Contender, contenders, winner_of
from bot.core.community.challenges import ChallengeService, Entry, Standing
from bot.core.loop import Loop, Next, Timer
from bot.domain import Battle, Challenge, ChartRow, SongOfDayGuild, utc_day_start
from bot.store import JobStore

log = logging.getLogger(__name__)

DAY = 86400.0


class Herald(Protocol):
    """Posts what the timers decide (implemented by the ui layer). Each returns the message id, or None when the
    channel refuses for good (nothing to retry); any exception means "try again at the next round"."""

    async def face_off(self, battle: Battle, sides: tuple[Contender, Contender], closes_at: float) -> int | None:
        """Open a battle's voting where members listen to it (a battle of takes on its song's own post, Suno against
        Udio on a face-off playing both), with its vote buttons (voting closes at `closes_at`); the id of that post."""

    async def battle_result(
        self, battle: Battle, sides: tuple[Contender, Contender] | None, result: BattleResult
    ) -> int | None:
        """Say how a battle ended (or why it was called off): on its post, and in one line replying to it."""

    async def challenge_voting(self, challenge: Challenge, entries: list[Entry], ends_at: float) -> int | None:
        """Post a challenge's entries, playing, with the vote menu."""

    async def challenge_results(self, challenge: Challenge, board: list[Standing]) -> int | None:
        """Post a challenge's results and leaderboard."""

    async def song_of_day(self, where: SongOfDayGuild, day: float, song: ChartRow) -> int | None:
        """Feature a day's most liked song."""


@dataclass(frozen=True, slots=True)
class TimersConfig:
    """How often the timers look without being woken, and the shortest pause between two rounds."""

    interval: float = 30.0
    min_pause: float = 1.0


class CommunityTimers:
    """The loop behind battles, challenges and song of the day."""

    def __init__(
        self,
        store: JobStore,
        herald: Herald,
        battles: BattleService,
        challenges: ChallengeService,
        config: TimersConfig | None = None,
        *,
        now: Callable[[], float] = time.time,
        timer: Timer | None = None,
    ) -> None:
        self._store = store
        self._herald = herald
        self._battles = battles
        self._challenges = challenges
        self.config = config or TimersConfig()
        self._now = now
        self._loop = Loop("community-timers", self._round, interval=self.config.interval, grace=10.0, timer=timer)

    def start(self) -> None:
        """Run rounds in the background until stopped."""
        self._loop.start()

    async def stop(self, grace: float = 10.0) -> None:
        """Let a round under way finish (cancel it after `grace` s: a post cut off is made again at the next start,
        and its nonce keeps Discord from doubling it), then stop."""
        await self._loop.stop(grace)

    def wake(self) -> None:
        """Look now (a song was posted: a battle may be ready to open), though not within `min_pause` of the last
        round."""
        self._loop.wake()

    @property
    def running(self) -> bool:
        """The loop is running."""
        return self._loop.running

    @property
    def loop(self) -> Loop:
        """The loop these timers run on (its heartbeat is what /healthz reads)."""
        return self._loop

    async def _round(self) -> Next:
        try:
            await self.run_once()
        except Exception:
            # Logged, and the next round comes as usual: a due battle must not wait out a growing backoff.
            log.exception("community timers round crashed")
        try:
            pause = await self._pause()
        except Exception:
            log.exception("could not read the next community due time")
            pause = self.config.interval
        # The minimum pause is held against wakes too (each posted song wakes us), so a failing post is never
        # retried in a tight loop.
        return Next(after=pause, hold=self.config.min_pause)

    async def _pause(self) -> float:
        """Until the next due time, at most the interval (`_round` holds `min_pause` against it and wakes alike)."""
        now = await self._store.clock()
        candidates = [self.config.interval, utc_day_start(now) + DAY - now]
        due = await self._store.next_community_due()
        if due is not None:
            candidates.append(due - now)
        return min(candidates)

    async def run_once(self) -> None:
        """Do everything that is due now; one failing battle, challenge or guild never holds up the others."""
        # Deadlines are set and judged on the store's clock: the database's when processes share it, so a process
        # whose own clock drifts neither closes a vote early nor keeps it open late.
        now = await self._store.clock()
        for battle in await self._store.battles_in("making"):
            await self._guarded(self._maybe_open, battle, what=f"opening battle {battle.id}")
        for battle in await self._store.battles_in("open"):
            if battle.message_id is None and (battle.closes_at or 0) > now:
                await self._guarded(self._face_off, battle, what=f"posting the face-off of battle {battle.id}")
        for battle in await self._store.battles_due(now):
            await self._guarded(self._close, battle, what=f"closing battle {battle.id}")
        for challenge in await self._store.challenges_voting():
            if challenge.vote_message_id is None and (challenge.vote_ends_at or 0) > now:
                await self._guarded(self._vote_post, challenge, what=f"posting the vote of challenge {challenge.id}")
        for challenge in await self._store.challenges_due(now):
            await self._guarded(self._advance, challenge, what=f"moving challenge {challenge.id} on")
        for where in await self._store.song_of_day_guilds():
            await self._guarded(self._song_of_day, where, what=f"song of the day in guild {where.guild_id}")

    async def _guarded(self, step: Callable[..., object], item: object, *, what: str) -> None:
        try:
            await step(item)  # type: ignore[misc]
        except Exception:
            log.exception("%s failed; trying again at the next round", what)

    # ---- battles ----------------------------------------------------------------------------------------------

    async def _maybe_open(self, battle: Battle) -> None:
        jobs = await self._battles.jobs_of(battle)
        if len(jobs) < len(battle.job_ids) or any(job.state in HOPELESS or job.delivery == "abandoned"
                                                  for job in jobs.values()):
            await self._call_off(battle, None, "a song in it could not be made")
            return
        if not all(job.state == "succeeded" and job.delivery == "delivered" for job in jobs.values()):
            return  # still being made or posted (a timed-out job may still come late)
        if await self._store.removed_songs(battle.job_ids):
            await self._call_off(battle, None, "a song in it was deleted")
            return
        if contenders(battle, jobs) is None:
            await self._call_off(battle, None, "the songs did not come back with two complete takes")
            return
        # Open first, then post: a vote pressed the instant the face-off appears is already taken.
        now = await self._store.clock()
        closes_at = now + battle.voting_seconds
        if await self._store.open_battle(battle.id, opened_at=now, closes_at=closes_at):
            log.info("battle %d is open until %.0f", battle.id, closes_at)
            await self._face_off(dataclasses.replace(battle, state="open", opened_at=now, closes_at=closes_at))

    async def _face_off(self, battle: Battle) -> None:
        """Post an open battle's face-off (again after a crash: its nonce keeps Discord from doubling it)."""
        sides = contenders(battle, await self._battles.jobs_of(battle))
        if sides is None:
            await self._call_off(battle, None, "a song in it is gone")
            return
        message_id = await self._herald.face_off(battle, sides, battle.closes_at or self._now())
        if message_id is None:
            await self._call_off(battle, None, "the face-off could not be posted")
            return
        await self._store.set_battle_message(battle.id, message_id)

    async def _call_off(self, battle: Battle, sides: tuple[Contender, Contender] | None, note: str) -> None:
        """End a battle with no winner; said in the channel only when its face-off was posted (before that, the
        starter already saw their song fail or vanish, and nobody else knew of the battle)."""
        result = BattleResult(None, None, note)
        message_id = None
        if battle.message_id:
            message_id = await self._herald.battle_result(battle, sides, result)
        await self._store.finish_battle(battle.id, state="called_off", winner=None, votes=None, note=note,
                                        result_message_id=message_id)
        log.info("battle %d called off: %s", battle.id, note)

    async def _close(self, battle: Battle) -> None:
        jobs = await self._battles.jobs_of(battle)
        sides = contenders(battle, jobs)
        if await self._store.removed_songs(battle.job_ids) or sides is None:
            await self._call_off(battle, sides, "a song in it was deleted")
            return
        votes = await self._store.battle_tally(battle.id)
        result = BattleResult(winner_of(votes), votes)
        message_id = await self._herald.battle_result(battle, sides, result)
        await self._store.finish_battle(battle.id, state="closed", winner=result.winner, votes=votes, note=None,
                                        result_message_id=message_id)
        log.info("battle %d closed: %s (%d-%d)", battle.id, result.winner, *votes)

    # ---- challenges -------------------------------------------------------------------------------------------

    async def _advance(self, challenge: Challenge) -> None:
        if challenge.state == "open":
            entries = await self._challenges.entries(challenge.id)
            if len(entries) >= 2:
                # Voting opens first, then the post: a vote picked the instant it appears is already taken.
                ends_at = await self._store.clock() + challenge.voting_seconds
                if await self._store.start_challenge_voting(challenge.id, vote_ends_at=ends_at):
                    log.info("challenge %d is voting until %.0f", challenge.id, ends_at)
                    await self._vote_post(dataclasses.replace(challenge, state="voting", vote_ends_at=ends_at))
                return
            # Nothing to vote on: straight to the results (one entry wins unopposed, none means no winner).
        board = await self._challenges.leaderboard(challenge)
        message_id = await self._herald.challenge_results(challenge, board)
        await self._store.finish_challenge(challenge.id, state="closed", result_message_id=message_id)
        log.info("challenge %d closed with %d entries", challenge.id, len(board))

    async def _vote_post(self, challenge: Challenge) -> None:
        """Post a voting challenge's entries and menu (again after a crash: its nonce keeps it single)."""
        entries = await self._challenges.entries(challenge.id)
        message_id = await self._herald.challenge_voting(challenge, entries, challenge.vote_ends_at or self._now())
        # 0: the channel refused for good; voting still ends on time and the results are tried there.
        await self._store.set_challenge_vote_message(challenge.id, message_id or 0)

    # ---- song of the day --------------------------------------------------------------------------------------

    async def _song_of_day(self, where: SongOfDayGuild) -> None:
        day = utc_day_start(await self._store.clock()) - DAY
        if where.since is not None and day < utc_day_start(where.since):
            return  # a day before it was switched on: the first feature is of the day it was switched on
        if await self._store.song_of_day_done(where.guild_id, day):
            return
        top = await self._store.chart(where.guild_id, since=day, until=day + DAY, limit=1)
        song = top[0] if top else None
        if not await self._store.claim_song_of_day(where.guild_id, day, song.job.id if song else None,
                                                   where.channel_id):
            return
        if song is None:
            return  # nothing was liked that day: nothing to feature
        try:
            message_id = await self._herald.song_of_day(where, day, song)
        except Exception:
            await self._store.release_song_of_day(where.guild_id, day)  # try again at the next round
            raise
        if message_id is not None:
            await self._store.set_song_of_day_message(where.guild_id, day, message_id)
        log.info("featured job %d as the song of the day in guild %d", song.job.id, where.guild_id)
