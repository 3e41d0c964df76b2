"""The CommunityStore half of the PostgreSQL store: likes, charts, battles, challenges, jams, song of the day.

A mixin of PostgresJobStore: it shares the pool and the clock. Semantics are those of the SQLite mixin (its
community.py is the reference); what differs is how they hold when several processes press at once:
- a like, a vote or an entry is one row per (thing, member) under a primary key, and the read-then-write that goes
  with it (is it liked already? what was the member's earlier vote?) runs under a transaction-scoped advisory lock
  on that (thing, member), so concurrent presses of one member count once and report what the one before did;
- a vote or an entry holds a share lock on its battle's or challenge's row while it checks that voting is open, so
  a close (an UPDATE of that row) waits for it, and a vote after the close is refused;
- a guild's challenge starts hold the guild's advisory lock (one running challenge per guild, backed by a unique
  index), and song of the day is claimed by one `INSERT … ON CONFLICT DO NOTHING` keyed by guild and day;
- every time written or compared (a like's debounce, a vote's deadline) is the database's clock, or the clock a
  test injected, as in store.py.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Sequence
from typing import Any

import asyncpg

from bot.store.community import (
    Battle,
    BattleState,
    Challenge,
    ChallengeEntry,
    ChallengeState,
    ChartRow,
    Choice,
    EntryOutcome,
    Jam,
    JamLine,
    LikeToggle,
    MemberStats,
    NewBattle,
    NewChallenge,
    NewJam,
    SongOfDayGuild,
    VoteOutcome,
    row_to,
)
from bot.store.records import Job

from .db import COMMUNITY_NAMESPACE, NOW, Connection


def _columns(cls: Any, table: str | None = None) -> str:
    prefix = f"{table}." if table else ""
    return ", ".join(prefix + f.name for f in dataclasses.fields(cls))


BATTLE = _columns(Battle)
CHALLENGE = _columns(Challenge)
JAM = _columns(Jam)
JAM_LINE = _columns(JamLine)
JOB = _columns(Job, "jobs")
# A delivered song that was not deleted: what charts, profiles and song of the day count.
_LIVE_SONG = (
    "jobs.state = 'succeeded' AND jobs.action = 'MUSIC' AND jobs.delivery = 'delivered'"
    " AND NOT EXISTS (SELECT 1 FROM removed_songs AS r WHERE r.job_id = jobs.id)"
)


async def _lock(conn: Connection, key: str) -> None:
    """Hold the community advisory lock of `key` until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", COMMUNITY_NAMESPACE, key)


class CommunityMixin:
    """CommunityStore on PostgreSQL (mixed into PostgresJobStore, which provides the pool and the clock)."""

    _pool: asyncpg.Pool[asyncpg.Record]
    _t: Callable[[], float | None]  # $1 of a statement that uses NOW: the injected clock, or NULL

    async def _scalar(self, sql: str, *args: Any) -> Any:
        return await self._pool.fetchval(sql, *args)

    async def _updated(self, sql: str, *args: Any) -> bool:
        """Run an `UPDATE … RETURNING` (or `INSERT … RETURNING`); whether it touched a row."""
        return await self._pool.fetchrow(sql, *args) is not None

    # ---- likes, removed songs, charts ---------------------------------------------------------------------

    async def toggle_like(self, job_id: int, user_id: int, guild_id: int | None, *, debounce: float) -> LikeToggle:
        """Like, or take back a like older than `debounce` seconds; a press within the window changes nothing.
        The member's presses of this song take turns (advisory lock), so each sees what the one before did."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock(conn, f"like:{job_id}:{user_id}")
            liked_now = await conn.fetchval(
                f"INSERT INTO likes (job_id, user_id, guild_id, created_at) VALUES ($2, $3, $4, {NOW})"
                " ON CONFLICT (job_id, user_id) DO NOTHING RETURNING job_id",
                self._t(), job_id, user_id, guild_id,
            ) is not None
            changed, liked = liked_now, True
            if not liked_now:
                took_back = await conn.fetchval(
                    f"DELETE FROM likes WHERE job_id = $2 AND user_id = $3 AND created_at <= {NOW} - $4"
                    " RETURNING job_id",
                    self._t(), job_id, user_id, debounce,
                ) is not None
                changed, liked = took_back, not took_back
            likes = await conn.fetchval("SELECT count(*) FROM likes WHERE job_id = $1", job_id)
        return LikeToggle(liked=liked, likes=int(likes), changed=changed)

    async def like_count(self, job_id: int) -> int:
        """How many members like the song."""
        return int(await self._scalar("SELECT count(*) FROM likes WHERE job_id = $1", job_id))

    async def remove_song(self, job_id: int, *, by: int | None) -> bool:
        """Mark a song deleted; False if it was already."""
        return await self._updated(
            f"INSERT INTO removed_songs (job_id, removed_by, removed_at) VALUES ($2, $3, {NOW})"
            " ON CONFLICT (job_id) DO NOTHING RETURNING job_id",
            self._t(), job_id, by,
        )

    async def removed_songs(self, job_ids: Collection[int]) -> set[int]:
        """Which of these songs were deleted."""
        ids = [int(job_id) for job_id in job_ids]
        if not ids:
            return set()
        rows = await self._pool.fetch("SELECT job_id FROM removed_songs WHERE job_id = ANY($1::bigint[])", ids)
        return {row[0] for row in rows}

    async def chart(
        self, guild_id: int, *, since: float | None, until: float | None = None, provider: str | None = None,
        limit: int = 10,
    ) -> list[ChartRow]:
        """Most liked songs made in [since, until), ties broken by the earlier first like."""
        rows = await self._pool.fetch(
            f"SELECT {JOB}, count(likes.user_id) AS chart_likes FROM jobs JOIN likes ON likes.job_id = jobs.id"
            f" WHERE jobs.guild_id = $1 AND {_LIVE_SONG} AND jobs.created_at >= $2 AND jobs.created_at < $3"
            " AND ($4::text IS NULL OR jobs.provider = $4)"
            " GROUP BY jobs.id ORDER BY chart_likes DESC, min(likes.created_at), jobs.id LIMIT $5",
            guild_id, since if since is not None else 0.0, until if until is not None else 1e18, provider, limit,
        )
        chart = []
        for row in rows:
            values = dict(row)
            likes = int(values.pop("chart_likes"))
            chart.append(ChartRow(Job.from_row(values), likes))
        return chart

    async def member_stats(self, guild_id: int, user_id: int) -> MemberStats:
        """A member's songs, likes received and likes given on a server."""
        row = await self._pool.fetchrow(
            f"SELECT (SELECT count(*) FROM jobs WHERE guild_id = $1 AND user_id = $2 AND {_LIVE_SONG}),"
            " (SELECT count(*) FROM likes JOIN jobs ON jobs.id = likes.job_id WHERE jobs.guild_id = $1"
            f" AND jobs.user_id = $2 AND {_LIVE_SONG}),"
            " (SELECT count(*) FROM likes WHERE guild_id = $1 AND user_id = $2)",
            guild_id, user_id,
        )
        assert row is not None  # noqa: S101 - a SELECT without FROM returns exactly one row
        return MemberStats(int(row[0]), int(row[1]), int(row[2]))

    async def member_songs(self, guild_id: int, user_id: int, *, limit: int) -> list[Job]:
        """A member's delivered, not deleted songs, newest first."""
        rows = await self._pool.fetch(
            f"SELECT {JOB} FROM jobs WHERE guild_id = $1 AND user_id = $2 AND {_LIVE_SONG}"
            " ORDER BY created_at DESC, id DESC LIMIT $3",
            guild_id, user_id, limit,
        )
        return [Job.from_row(dict(row)) for row in rows]

    # ---- battles ----------------------------------------------------------------------------------------------

    async def create_battle(self, new: NewBattle) -> Battle:
        """Record a battle in state `making`."""
        row = await self._pool.fetchrow(
            "INSERT INTO battles (guild_id, channel_id, starter_id, prompt, mode, job_a, job_b, state, voting_seconds,"
            f" created_at) VALUES ($2, $3, $4, $5, $6, $7, $8, 'making', $9, {NOW}) RETURNING {BATTLE}",
            self._t(), new.guild_id, new.channel_id, new.starter_id, new.prompt, new.mode, new.job_a, new.job_b,
            new.voting_seconds,
        )
        battle: Battle = row_to(Battle, row)
        return battle

    async def get_battle(self, battle_id: int) -> Battle | None:
        """One battle."""
        row = await self._pool.fetchrow(f"SELECT {BATTLE} FROM battles WHERE id = $1", battle_id)
        return row_to(Battle, row) if row is not None else None

    async def battles_in(self, state: BattleState) -> list[Battle]:
        """Battles in a state, oldest first."""
        rows = await self._pool.fetch(f"SELECT {BATTLE} FROM battles WHERE state = $1 ORDER BY id", state)
        return [row_to(Battle, row) for row in rows]

    async def battles_due(self, now: float) -> list[Battle]:
        """Open battles whose voting time is over."""
        rows = await self._pool.fetch(
            f"SELECT {BATTLE} FROM battles WHERE state = 'open' AND closes_at <= $1 ORDER BY closes_at, id", now
        )
        return [row_to(Battle, row) for row in rows]

    async def open_battle(self, battle_id: int, *, opened_at: float, closes_at: float) -> bool:
        """`making` → `open`."""
        return await self._updated(
            "UPDATE battles SET state = 'open', opened_at = $1, closes_at = $2 WHERE id = $3 AND state = 'making'"
            " RETURNING id",
            opened_at, closes_at, battle_id,
        )

    async def set_battle_message(self, battle_id: int, message_id: int) -> None:
        """Record the face-off post."""
        await self._pool.execute("UPDATE battles SET message_id = $1 WHERE id = $2", message_id, battle_id)

    async def finish_battle(
        self, battle_id: int, *, state: BattleState, winner: str | None, votes: tuple[int, int] | None,
        note: str | None, result_message_id: int | None,
    ) -> bool:
        """`making`/`open` → `closed` or `called_off` (waiting for votes being recorded at this instant)."""
        votes_a, votes_b = votes if votes is not None else (None, None)
        return await self._updated(
            "UPDATE battles SET state = $2, winner = $3, votes_a = $4, votes_b = $5, note = $6,"
            f" result_message_id = $7, closed_at = {NOW} WHERE id = $8 AND state IN ('making', 'open') RETURNING id",
            self._t(), state, winner, votes_a, votes_b, note, result_message_id, battle_id,
        )

    async def vote_battle(self, battle_id: int, user_id: int, choice: Choice) -> VoteOutcome:
        """Record or change a vote while the battle is open; one row per member, the member's votes one at a
        time."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock(conn, f"battle-vote:{battle_id}:{user_id}")
            open_now = await conn.fetchval(
                f"SELECT 1 FROM battles WHERE id = $2 AND state = 'open' AND closes_at > {NOW} FOR SHARE",
                self._t(), battle_id,
            )
            if not open_now:
                return VoteOutcome(accepted=False)
            previous = await conn.fetchval(
                "SELECT choice FROM battle_votes WHERE battle_id = $1 AND user_id = $2", battle_id, user_id
            )
            await conn.execute(
                f"INSERT INTO battle_votes (battle_id, user_id, choice, voted_at) VALUES ($2, $3, $4, {NOW})"
                " ON CONFLICT (battle_id, user_id)"
                " DO UPDATE SET choice = EXCLUDED.choice, voted_at = EXCLUDED.voted_at",
                self._t(), battle_id, user_id, choice,
            )
        return VoteOutcome(accepted=True, previous=previous)

    async def battle_tally(self, battle_id: int) -> tuple[int, int]:
        """Votes for A and for B."""
        row = await self._pool.fetchrow(
            "SELECT count(*) FILTER (WHERE choice = 'a'), count(*) FILTER (WHERE choice = 'b') FROM battle_votes"
            " WHERE battle_id = $1",
            battle_id,
        )
        assert row is not None  # noqa: S101 - an aggregate without GROUP BY returns exactly one row
        return int(row[0]), int(row[1])

    # ---- challenges -------------------------------------------------------------------------------------------

    async def create_challenge(self, new: NewChallenge) -> Challenge | None:
        """Start a challenge unless the guild has one open or voting (checked under the guild's advisory lock)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock(conn, f"challenge:{new.guild_id}")
            busy = await conn.fetchval(
                "SELECT 1 FROM challenges WHERE guild_id = $1 AND state IN ('open', 'voting')", new.guild_id
            )
            if busy:
                return None
            row = await conn.fetchrow(
                "INSERT INTO challenges (guild_id, channel_id, theme, started_by, state, started_at, submit_ends_at,"
                f" voting_seconds) VALUES ($2, $3, $4, $5, 'open', {NOW}, $6, $7) RETURNING {CHALLENGE}",
                self._t(), new.guild_id, new.channel_id, new.theme, new.started_by, new.submit_ends_at,
                new.voting_seconds,
            )
        challenge: Challenge = row_to(Challenge, row)
        return challenge

    async def get_challenge(self, challenge_id: int) -> Challenge | None:
        """One challenge."""
        row = await self._pool.fetchrow(f"SELECT {CHALLENGE} FROM challenges WHERE id = $1", challenge_id)
        return row_to(Challenge, row) if row is not None else None

    async def current_challenge(self, guild_id: int) -> Challenge | None:
        """The guild's running challenge, else its latest one."""
        row = await self._pool.fetchrow(
            f"SELECT {CHALLENGE} FROM challenges WHERE guild_id = $1"
            " ORDER BY state IN ('open', 'voting') DESC, id DESC LIMIT 1",
            guild_id,
        )
        return row_to(Challenge, row) if row is not None else None

    async def challenges_due(self, now: float) -> list[Challenge]:
        """Challenges whose current phase is over."""
        rows = await self._pool.fetch(
            f"SELECT {CHALLENGE} FROM challenges WHERE (state = 'open' AND submit_ends_at <= $1)"
            " OR (state = 'voting' AND vote_ends_at <= $1) ORDER BY id",
            now,
        )
        return [row_to(Challenge, row) for row in rows]

    async def submit_entry(self, challenge_id: int, user_id: int, job_id: int) -> EntryOutcome:
        """Enter or replace a member's song while the challenge is open (the member's entries one at a time)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock(conn, f"entry:{challenge_id}:{user_id}")
            if not await conn.fetchval(
                f"SELECT 1 FROM challenges WHERE id = $2 AND state = 'open' AND submit_ends_at > {NOW} FOR SHARE",
                self._t(), challenge_id,
            ):
                return EntryOutcome(accepted=False)
            previous = await conn.fetchval(
                "SELECT job_id FROM challenge_entries WHERE challenge_id = $1 AND user_id = $2 AND removed_by IS NULL",
                challenge_id, user_id,
            )
            await conn.execute(
                "INSERT INTO challenge_entries (challenge_id, user_id, job_id, submitted_at)"
                f" VALUES ($2, $3, $4, {NOW})"
                " ON CONFLICT (challenge_id, user_id) DO UPDATE SET job_id = EXCLUDED.job_id,"
                " submitted_at = EXCLUDED.submitted_at, removed_by = NULL",
                self._t(), challenge_id, user_id, job_id,
            )
        return EntryOutcome(accepted=True, replaced_job_id=previous if previous != job_id else None)

    async def remove_entry(self, challenge_id: int, user_id: int, *, by: int) -> bool:
        """Take an entry out."""
        return await self._updated(
            "UPDATE challenge_entries SET removed_by = $1 WHERE challenge_id = $2 AND user_id = $3"
            " AND removed_by IS NULL RETURNING user_id",
            by, challenge_id, user_id,
        )

    async def challenge_entries(self, challenge_id: int) -> list[ChallengeEntry]:
        """Entries still in, in order of submission."""
        rows = await self._pool.fetch(
            "SELECT challenge_id, user_id, job_id, submitted_at FROM challenge_entries AS e"
            " WHERE challenge_id = $1 AND removed_by IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM removed_songs AS r WHERE r.job_id = e.job_id)"
            " ORDER BY submitted_at, user_id",
            challenge_id,
        )
        return [row_to(ChallengeEntry, row) for row in rows]

    async def start_challenge_voting(self, challenge_id: int, *, vote_ends_at: float) -> bool:
        """`open` → `voting` (waiting for entries being recorded at this instant)."""
        return await self._updated(
            "UPDATE challenges SET state = 'voting', vote_ends_at = $1 WHERE id = $2 AND state = 'open' RETURNING id",
            vote_ends_at, challenge_id,
        )

    async def challenges_voting(self) -> list[Challenge]:
        """Challenges in their voting phase."""
        rows = await self._pool.fetch(f"SELECT {CHALLENGE} FROM challenges WHERE state = 'voting' ORDER BY id")
        return [row_to(Challenge, row) for row in rows]

    async def set_challenge_vote_message(self, challenge_id: int, message_id: int) -> None:
        """Record the vote post."""
        await self._pool.execute("UPDATE challenges SET vote_message_id = $1 WHERE id = $2", message_id, challenge_id)

    async def finish_challenge(
        self, challenge_id: int, *, state: ChallengeState, result_message_id: int | None
    ) -> bool:
        """`open`/`voting` → `closed` or `cancelled`."""
        return await self._updated(
            f"UPDATE challenges SET state = $2, result_message_id = $3, closed_at = {NOW}"
            " WHERE id = $4 AND state IN ('open', 'voting') RETURNING id",
            self._t(), state, result_message_id, challenge_id,
        )

    async def vote_challenge(self, challenge_id: int, voter_id: int, entry_user_id: int) -> VoteOutcome:
        """Record or change a member's one vote while voting is open (the member's votes one at a time)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock(conn, f"challenge-vote:{challenge_id}:{voter_id}")
            if not await conn.fetchval(
                f"SELECT 1 FROM challenges WHERE id = $2 AND state = 'voting' AND vote_ends_at > {NOW} FOR SHARE",
                self._t(), challenge_id,
            ):
                return VoteOutcome(accepted=False)
            previous = await conn.fetchval(
                "SELECT entry_user_id FROM challenge_votes WHERE challenge_id = $1 AND voter_id = $2",
                challenge_id, voter_id,
            )
            await conn.execute(
                "INSERT INTO challenge_votes (challenge_id, voter_id, entry_user_id, voted_at)"
                f" VALUES ($2, $3, $4, {NOW}) ON CONFLICT (challenge_id, voter_id)"
                " DO UPDATE SET entry_user_id = EXCLUDED.entry_user_id, voted_at = EXCLUDED.voted_at",
                self._t(), challenge_id, voter_id, entry_user_id,
            )
        return VoteOutcome(accepted=True, previous=previous)

    async def challenge_tally(self, challenge_id: int) -> dict[int, int]:
        """Votes per entrant, for entries still in."""
        rows = await self._pool.fetch(
            "SELECT v.entry_user_id, count(*) FROM challenge_votes AS v JOIN challenge_entries AS e"
            " ON e.challenge_id = v.challenge_id AND e.user_id = v.entry_user_id"
            " WHERE v.challenge_id = $1 AND e.removed_by IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM removed_songs AS r WHERE r.job_id = e.job_id)"
            " GROUP BY v.entry_user_id",
            challenge_id,
        )
        return {int(row[0]): int(row[1]) for row in rows}

    # ---- jams -------------------------------------------------------------------------------------------------

    async def create_jam(self, new: NewJam) -> Jam:
        """Record a jam thread."""
        row = await self._pool.fetchrow(
            "INSERT INTO jams (guild_id, channel_id, thread_id, starter_id, theme, created_at)"
            f" VALUES ($2, $3, $4, $5, $6, {NOW}) RETURNING {JAM}",
            self._t(), new.guild_id, new.channel_id, new.thread_id, new.starter_id, new.theme,
        )
        jam: Jam = row_to(Jam, row)
        return jam

    async def get_jam(self, jam_id: int) -> Jam | None:
        """One jam."""
        row = await self._pool.fetchrow(f"SELECT {JAM} FROM jams WHERE id = $1", jam_id)
        return row_to(Jam, row) if row is not None else None

    async def add_jam_line(self, jam_id: int, user_id: int, line: str) -> JamLine:
        """Add a lyric line."""
        row = await self._pool.fetchrow(
            f"INSERT INTO jam_lines (jam_id, user_id, line, added_at) VALUES ($2, $3, $4, {NOW}) RETURNING {JAM_LINE}",
            self._t(), jam_id, user_id, line,
        )
        added: JamLine = row_to(JamLine, row)
        return added

    async def jam_lines(self, jam_id: int) -> list[JamLine]:
        """A jam's lines in order."""
        rows = await self._pool.fetch(f"SELECT {JAM_LINE} FROM jam_lines WHERE jam_id = $1 ORDER BY id", jam_id)
        return [row_to(JamLine, row) for row in rows]

    async def record_jam_song(self, jam_id: int, job_id: int, credits: Sequence[int]) -> None:
        """Remember a song made from a jam and whom it credits."""
        await self._pool.execute(
            "INSERT INTO jam_songs (job_id, jam_id, credits) VALUES ($1, $2, $3::jsonb)",
            job_id, jam_id, json.dumps([int(user) for user in credits]),
        )

    async def jam_credits(self, job_id: int) -> list[int] | None:
        """Whom a jam song credits."""
        raw = await self._scalar("SELECT credits FROM jam_songs WHERE job_id = $1", job_id)
        return [int(user) for user in json.loads(raw)] if raw is not None else None

    # ---- song of the day and timers ---------------------------------------------------------------------------

    async def song_of_day_guilds(self) -> list[SongOfDayGuild]:
        """Guilds with a song-of-the-day channel."""
        rows = await self._pool.fetch(
            "SELECT guild_id, song_of_day_channel_id FROM guild_settings WHERE song_of_day_channel_id IS NOT NULL"
            " ORDER BY guild_id"
        )
        return [SongOfDayGuild(int(row[0]), int(row[1])) for row in rows]

    async def claim_song_of_day(self, guild_id: int, day: float, job_id: int | None, channel_id: int) -> bool:
        """Claim a day's feature once, across processes: one insert keyed by guild and day."""
        return await self._updated(
            "INSERT INTO song_of_day (guild_id, day, job_id, channel_id, posted_at)"
            f" VALUES ($2, $3, $4, $5, {NOW}) ON CONFLICT (guild_id, day) DO NOTHING RETURNING guild_id",
            self._t(), guild_id, day, job_id, channel_id,
        )

    async def set_song_of_day_message(self, guild_id: int, day: float, message_id: int) -> None:
        """Record the post of a day's feature."""
        await self._pool.execute(
            "UPDATE song_of_day SET message_id = $1 WHERE guild_id = $2 AND day = $3", message_id, guild_id, day
        )

    async def release_song_of_day(self, guild_id: int, day: float) -> None:
        """Forget a claim whose post failed."""
        await self._pool.execute(
            "DELETE FROM song_of_day WHERE guild_id = $1 AND day = $2 AND message_id IS NULL", guild_id, day
        )

    async def song_of_day_done(self, guild_id: int, day: float) -> bool:
        """Whether a day's feature was claimed."""
        return bool(await self._scalar("SELECT 1 FROM song_of_day WHERE guild_id = $1 AND day = $2", guild_id, day))

    async def next_community_due(self) -> float | None:
        """The earliest pending battle close or challenge phase change."""
        value = await self._scalar(
            "SELECT min(due) FROM ("
            " SELECT min(closes_at) AS due FROM battles WHERE state = 'open'"
            " UNION ALL SELECT min(submit_ends_at) FROM challenges WHERE state = 'open'"
            " UNION ALL SELECT min(vote_ends_at) FROM challenges WHERE state = 'voting') AS pending"
        )
        return float(value) if value is not None else None
