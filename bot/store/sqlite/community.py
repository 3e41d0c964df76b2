"""The CommunityStore half of the SQLite store: likes, charts, battles, challenges, jams, song of the day.

A mixin of SqliteJobStore: it shares the connection, the write lock and the clock. Votes and likes are single
statements on a primary key per (thing, member); the checks that go with them (is voting still open?) run inside
the same write transaction, so two presses at the same instant count once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiosqlite

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

# A delivered song that was not deleted: what charts, profiles and song of the day count.
_LIVE_SONG = (
    "jobs.state = 'succeeded' AND jobs.action = 'MUSIC' AND jobs.delivery = 'delivered'"
    " AND NOT EXISTS (SELECT 1 FROM removed_songs AS r WHERE r.job_id = jobs.id)"
)


class CommunityMixin:
    """CommunityStore on SQLite (mixed into SqliteJobStore, which provides the connection and transactions)."""

    _conn: aiosqlite.Connection
    _now: Callable[[], float]
    _transaction: Callable[[], AbstractAsyncContextManager[aiosqlite.Connection]]

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def _scalar(self, sql: str, params: Sequence[Any] = (), conn: aiosqlite.Connection | None = None) -> Any:
        async with (conn or self._conn).execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return row[0] if row is not None else None

    # ---- likes, removed songs, charts ---------------------------------------------------------------------

    async def toggle_like(self, job_id: int, user_id: int, guild_id: int | None, *, debounce: float) -> LikeToggle:
        """Like, or take back a like older than `debounce` seconds; a press within the window changes nothing."""
        now = self._now()
        async with self._transaction() as conn:
            async with conn.execute(
                "INSERT INTO likes (job_id, user_id, guild_id, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (job_id, user_id) DO NOTHING RETURNING job_id",
                (job_id, user_id, guild_id, now),
            ) as cursor:
                liked_now = await cursor.fetchone() is not None
            changed, liked = liked_now, True
            if not liked_now:
                async with conn.execute(
                    "DELETE FROM likes WHERE job_id = ? AND user_id = ? AND created_at <= ? RETURNING job_id",
                    (job_id, user_id, now - debounce),
                ) as cursor:
                    took_back = await cursor.fetchone() is not None
                changed, liked = took_back, not took_back
            likes = int(await self._scalar("SELECT COUNT(*) FROM likes WHERE job_id = ?", (job_id,), conn) or 0)
        return LikeToggle(liked=liked, likes=likes, changed=changed)

    async def like_count(self, job_id: int) -> int:
        """How many members like the song."""
        return int(await self._scalar("SELECT COUNT(*) FROM likes WHERE job_id = ?", (job_id,)) or 0)

    async def remove_song(self, job_id: int, *, by: int | None) -> bool:
        """Mark a song deleted; False if it was already."""
        async with self._transaction() as conn, conn.execute(
            "INSERT INTO removed_songs (job_id, removed_by, removed_at) VALUES (?, ?, ?)"
            " ON CONFLICT (job_id) DO NOTHING RETURNING job_id",
            (job_id, by, self._now()),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def removed_songs(self, job_ids: Collection[int]) -> set[int]:
        """Which of these songs were deleted."""
        ids = [int(job_id) for job_id in job_ids]
        if not ids:
            return set()
        rows = await self._rows(
            f"SELECT job_id FROM removed_songs WHERE job_id IN ({', '.join('?' * len(ids))})",  # noqa: S608
            ids,
        )
        return {row[0] for row in rows}

    async def chart(
        self, guild_id: int, *, since: float | None, until: float | None = None, provider: str | None = None,
        limit: int = 10,
    ) -> list[ChartRow]:
        """Most liked songs made in [since, until), ties broken by the earlier first like."""
        rows = await self._rows(
            "SELECT jobs.*, COUNT(likes.user_id) AS chart_likes, MIN(likes.created_at) AS first_like"  # noqa: S608
            f" FROM jobs JOIN likes ON likes.job_id = jobs.id WHERE jobs.guild_id = ? AND {_LIVE_SONG}"
            " AND jobs.created_at >= ? AND jobs.created_at < ? AND (? IS NULL OR jobs.provider = ?)"
            " GROUP BY jobs.id ORDER BY chart_likes DESC, first_like, jobs.id LIMIT ?",
            (guild_id, since if since is not None else 0.0, until if until is not None else 1e18, provider,
             provider, limit),
        )
        chart = []
        for row in rows:
            values = dict(row)
            likes = int(values.pop("chart_likes"))
            values.pop("first_like")
            chart.append(ChartRow(Job.from_row(values), likes))
        return chart

    async def member_stats(self, guild_id: int, user_id: int) -> MemberStats:
        """A member's songs, likes received and likes given on a server."""
        songs = await self._scalar(
            f"SELECT COUNT(*) FROM jobs WHERE guild_id = ? AND user_id = ? AND {_LIVE_SONG}",  # noqa: S608
            (guild_id, user_id),
        )
        received = await self._scalar(
            f"SELECT COUNT(*) FROM likes JOIN jobs ON jobs.id = likes.job_id WHERE jobs.guild_id = ?"  # noqa: S608
            f" AND jobs.user_id = ? AND {_LIVE_SONG}",
            (guild_id, user_id),
        )
        given = await self._scalar("SELECT COUNT(*) FROM likes WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
        return MemberStats(int(songs or 0), int(received or 0), int(given or 0))

    async def member_songs(self, guild_id: int, user_id: int, *, limit: int) -> list[Job]:
        """A member's delivered, not deleted songs, newest first."""
        rows = await self._rows(
            f"SELECT * FROM jobs WHERE guild_id = ? AND user_id = ? AND {_LIVE_SONG}"  # noqa: S608
            " ORDER BY created_at DESC, id DESC LIMIT ?",
            (guild_id, user_id, limit),
        )
        return [Job.from_row(dict(row)) for row in rows]

    # ---- battles ----------------------------------------------------------------------------------------------

    async def create_battle(self, new: NewBattle) -> Battle:
        """Record a battle in state `making`."""
        async with self._transaction() as conn, conn.execute(
            "INSERT INTO battles (guild_id, channel_id, starter_id, prompt, mode, job_a, job_b, state, voting_seconds,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'making', ?, ?) RETURNING *",
            (new.guild_id, new.channel_id, new.starter_id, new.prompt, new.mode, new.job_a, new.job_b,
             new.voting_seconds, self._now()),
        ) as cursor:
            row = await cursor.fetchone()
        battle: Battle = row_to(Battle, row)
        return battle

    async def get_battle(self, battle_id: int) -> Battle | None:
        """One battle."""
        rows = await self._rows("SELECT * FROM battles WHERE id = ?", (battle_id,))
        return row_to(Battle, rows[0]) if rows else None

    async def battles_in(self, state: BattleState) -> list[Battle]:
        """Battles in a state, oldest first."""
        return [row_to(Battle, r) for r in await self._rows("SELECT * FROM battles WHERE state = ? ORDER BY id",
                                                             (state,))]

    async def battles_due(self, now: float) -> list[Battle]:
        """Open battles whose voting time is over."""
        rows = await self._rows("SELECT * FROM battles WHERE state = 'open' AND closes_at <= ? ORDER BY closes_at, id",
                                (now,))
        return [row_to(Battle, r) for r in rows]

    async def open_battle(self, battle_id: int, *, opened_at: float, closes_at: float) -> bool:
        """`making` → `open`."""
        async with self._transaction() as conn, conn.execute(
            "UPDATE battles SET state = 'open', opened_at = ?, closes_at = ? WHERE id = ? AND state = 'making'"
            " RETURNING id",
            (opened_at, closes_at, battle_id),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def set_battle_message(self, battle_id: int, message_id: int) -> None:
        """Record the face-off post."""
        async with self._transaction() as conn:
            await conn.execute("UPDATE battles SET message_id = ? WHERE id = ?", (message_id, battle_id))

    async def finish_battle(
        self, battle_id: int, *, state: BattleState, winner: str | None, votes: tuple[int, int] | None,
        note: str | None, result_message_id: int | None,
    ) -> bool:
        """`making`/`open` → `closed` or `called_off`."""
        votes_a, votes_b = votes if votes is not None else (None, None)
        async with self._transaction() as conn, conn.execute(
            "UPDATE battles SET state = ?, winner = ?, votes_a = ?, votes_b = ?, note = ?, result_message_id = ?,"
            " closed_at = ? WHERE id = ? AND state IN ('making', 'open') RETURNING id",
            (state, winner, votes_a, votes_b, note, result_message_id, self._now(), battle_id),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def vote_battle(self, battle_id: int, user_id: int, choice: Choice) -> VoteOutcome:
        """Record or change a vote while the battle is open; one row per member."""
        now = self._now()
        async with self._transaction() as conn:
            open_now = await self._scalar(
                "SELECT 1 FROM battles WHERE id = ? AND state = 'open' AND closes_at > ?", (battle_id, now), conn
            )
            if not open_now:
                return VoteOutcome(accepted=False)
            previous = await self._scalar(
                "SELECT choice FROM battle_votes WHERE battle_id = ? AND user_id = ?", (battle_id, user_id), conn
            )
            await conn.execute(
                "INSERT INTO battle_votes (battle_id, user_id, choice, voted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (battle_id, user_id)"
                " DO UPDATE SET choice = excluded.choice, voted_at = excluded.voted_at",
                (battle_id, user_id, choice, now),
            )
        return VoteOutcome(accepted=True, previous=previous)

    async def battle_tally(self, battle_id: int) -> tuple[int, int]:
        """Votes for A and for B."""
        rows = await self._rows(
            "SELECT choice, COUNT(*) FROM battle_votes WHERE battle_id = ? GROUP BY choice", (battle_id,)
        )
        counts = {row[0]: int(row[1]) for row in rows}
        return counts.get("a", 0), counts.get("b", 0)

    # ---- challenges -------------------------------------------------------------------------------------------

    async def create_challenge(self, new: NewChallenge) -> Challenge | None:
        """Start a challenge unless the guild has one open or voting (checked under the same write lock)."""
        async with self._transaction() as conn:
            busy = await self._scalar(
                "SELECT 1 FROM challenges WHERE guild_id = ? AND state IN ('open', 'voting')", (new.guild_id,), conn
            )
            if busy:
                return None
            async with conn.execute(
                "INSERT INTO challenges (guild_id, channel_id, theme, started_by, state, started_at, submit_ends_at,"
                " voting_seconds) VALUES (?, ?, ?, ?, 'open', ?, ?, ?) RETURNING *",
                (new.guild_id, new.channel_id, new.theme, new.started_by, self._now(), new.submit_ends_at,
                 new.voting_seconds),
            ) as cursor:
                row = await cursor.fetchone()
        challenge: Challenge = row_to(Challenge, row)
        return challenge

    async def get_challenge(self, challenge_id: int) -> Challenge | None:
        """One challenge."""
        rows = await self._rows("SELECT * FROM challenges WHERE id = ?", (challenge_id,))
        return row_to(Challenge, rows[0]) if rows else None

    async def current_challenge(self, guild_id: int) -> Challenge | None:
        """The guild's running challenge, else its latest one."""
        rows = await self._rows(
            "SELECT * FROM challenges WHERE guild_id = ? ORDER BY state IN ('open', 'voting') DESC, id DESC LIMIT 1",
            (guild_id,),
        )
        return row_to(Challenge, rows[0]) if rows else None

    async def challenges_due(self, now: float) -> list[Challenge]:
        """Challenges whose current phase is over."""
        rows = await self._rows(
            "SELECT * FROM challenges WHERE (state = 'open' AND submit_ends_at <= ?)"
            " OR (state = 'voting' AND vote_ends_at <= ?) ORDER BY id",
            (now, now),
        )
        return [row_to(Challenge, r) for r in rows]

    async def submit_entry(self, challenge_id: int, user_id: int, job_id: int) -> EntryOutcome:
        """Enter or replace a member's song while the challenge is open."""
        now = self._now()
        async with self._transaction() as conn:
            if not await self._scalar(
                "SELECT 1 FROM challenges WHERE id = ? AND state = 'open' AND submit_ends_at > ?",
                (challenge_id, now), conn,
            ):
                return EntryOutcome(accepted=False)
            previous = await self._scalar(
                "SELECT job_id FROM challenge_entries WHERE challenge_id = ? AND user_id = ? AND removed_by IS NULL",
                (challenge_id, user_id), conn,
            )
            await conn.execute(
                "INSERT INTO challenge_entries (challenge_id, user_id, job_id, submitted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (challenge_id, user_id) DO UPDATE SET job_id = excluded.job_id,"
                " submitted_at = excluded.submitted_at, removed_by = NULL",
                (challenge_id, user_id, job_id, now),
            )
        return EntryOutcome(accepted=True, replaced_job_id=previous if previous != job_id else None)

    async def remove_entry(self, challenge_id: int, user_id: int, *, by: int) -> bool:
        """Take an entry out."""
        async with self._transaction() as conn, conn.execute(
            "UPDATE challenge_entries SET removed_by = ? WHERE challenge_id = ? AND user_id = ? AND removed_by IS NULL"
            " RETURNING user_id",
            (by, challenge_id, user_id),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def challenge_entries(self, challenge_id: int) -> list[ChallengeEntry]:
        """Entries still in, in order of submission."""
        rows = await self._rows(
            "SELECT challenge_id, user_id, job_id, submitted_at FROM challenge_entries AS e"
            " WHERE challenge_id = ? AND removed_by IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM removed_songs AS r WHERE r.job_id = e.job_id)"
            " ORDER BY submitted_at, user_id",
            (challenge_id,),
        )
        return [row_to(ChallengeEntry, r) for r in rows]

    async def start_challenge_voting(self, challenge_id: int, *, vote_ends_at: float) -> bool:
        """`open` → `voting`."""
        async with self._transaction() as conn, conn.execute(
            "UPDATE challenges SET state = 'voting', vote_ends_at = ? WHERE id = ? AND state = 'open' RETURNING id",
            (vote_ends_at, challenge_id),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def challenges_voting(self) -> list[Challenge]:
        """Challenges in their voting phase."""
        return [row_to(Challenge, r) for r in await self._rows("SELECT * FROM challenges WHERE state = 'voting'")]

    async def set_challenge_vote_message(self, challenge_id: int, message_id: int) -> None:
        """Record the vote post."""
        async with self._transaction() as conn:
            await conn.execute("UPDATE challenges SET vote_message_id = ? WHERE id = ?", (message_id, challenge_id))

    async def finish_challenge(
        self, challenge_id: int, *, state: ChallengeState, result_message_id: int | None
    ) -> bool:
        """`open`/`voting` → `closed` or `cancelled`."""
        async with self._transaction() as conn, conn.execute(
            "UPDATE challenges SET state = ?, result_message_id = ?, closed_at = ?"
            " WHERE id = ? AND state IN ('open', 'voting') RETURNING id",
            (state, result_message_id, self._now(), challenge_id),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def vote_challenge(self, challenge_id: int, voter_id: int, entry_user_id: int) -> VoteOutcome:
        """Record or change a member's one vote while voting is open."""
        now = self._now()
        async with self._transaction() as conn:
            if not await self._scalar(
                "SELECT 1 FROM challenges WHERE id = ? AND state = 'voting' AND vote_ends_at > ?",
                (challenge_id, now), conn,
            ):
                return VoteOutcome(accepted=False)
            previous = await self._scalar(
                "SELECT entry_user_id FROM challenge_votes WHERE challenge_id = ? AND voter_id = ?",
                (challenge_id, voter_id), conn,
            )
            await conn.execute(
                "INSERT INTO challenge_votes (challenge_id, voter_id, entry_user_id, voted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (challenge_id, voter_id) DO UPDATE SET entry_user_id = excluded.entry_user_id,"
                " voted_at = excluded.voted_at",
                (challenge_id, voter_id, entry_user_id, now),
            )
        return VoteOutcome(accepted=True, previous=previous)

    async def challenge_tally(self, challenge_id: int) -> dict[int, int]:
        """Votes per entrant, for entries still in."""
        rows = await self._rows(
            "SELECT v.entry_user_id, COUNT(*) FROM challenge_votes AS v JOIN challenge_entries AS e"
            " ON e.challenge_id = v.challenge_id AND e.user_id = v.entry_user_id"
            " WHERE v.challenge_id = ? AND e.removed_by IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM removed_songs AS r WHERE r.job_id = e.job_id)"
            " GROUP BY v.entry_user_id",
            (challenge_id,),
        )
        return {int(row[0]): int(row[1]) for row in rows}

    # ---- jams -------------------------------------------------------------------------------------------------

    async def create_jam(self, new: NewJam) -> Jam:
        """Record a jam thread."""
        async with self._transaction() as conn, conn.execute(
            "INSERT INTO jams (guild_id, channel_id, thread_id, starter_id, theme, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
            (new.guild_id, new.channel_id, new.thread_id, new.starter_id, new.theme, self._now()),
        ) as cursor:
            row = await cursor.fetchone()
        jam: Jam = row_to(Jam, row)
        return jam

    async def get_jam(self, jam_id: int) -> Jam | None:
        """One jam."""
        rows = await self._rows("SELECT * FROM jams WHERE id = ?", (jam_id,))
        return row_to(Jam, rows[0]) if rows else None

    async def add_jam_line(self, jam_id: int, user_id: int, line: str) -> JamLine:
        """Add a lyric line."""
        async with self._transaction() as conn, conn.execute(
            "INSERT INTO jam_lines (jam_id, user_id, line, added_at) VALUES (?, ?, ?, ?) RETURNING *",
            (jam_id, user_id, line, self._now()),
        ) as cursor:
            row = await cursor.fetchone()
        added: JamLine = row_to(JamLine, row)
        return added

    async def jam_lines(self, jam_id: int) -> list[JamLine]:
        """A jam's lines in order."""
        return [row_to(JamLine, r) for r in await self._rows("SELECT * FROM jam_lines WHERE jam_id = ? ORDER BY id",
                                                              (jam_id,))]

    async def record_jam_song(self, jam_id: int, job_id: int, credits: Sequence[int]) -> None:
        """Remember a song made from a jam and whom it credits."""
        async with self._transaction() as conn:
            await conn.execute("INSERT INTO jam_songs (job_id, jam_id, credits) VALUES (?, ?, ?)",
                               (job_id, jam_id, json.dumps([int(user) for user in credits])))

    async def jam_credits(self, job_id: int) -> list[int] | None:
        """Whom a jam song credits."""
        raw = await self._scalar("SELECT credits FROM jam_songs WHERE job_id = ?", (job_id,))
        return [int(user) for user in json.loads(raw)] if raw is not None else None

    # ---- song of the day and timers ---------------------------------------------------------------------------

    async def song_of_day_guilds(self) -> list[SongOfDayGuild]:
        """Guilds with a song-of-the-day channel."""
        rows = await self._rows(
            "SELECT guild_id, song_of_day_channel_id FROM guild_settings WHERE song_of_day_channel_id IS NOT NULL"
        )
        return [SongOfDayGuild(int(row[0]), int(row[1])) for row in rows]

    async def claim_song_of_day(self, guild_id: int, day: float, job_id: int | None, channel_id: int) -> bool:
        """Claim a day's feature once."""
        async with self._transaction() as conn, conn.execute(
            "INSERT INTO song_of_day (guild_id, day, job_id, channel_id, posted_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id, day) DO NOTHING RETURNING guild_id",
            (guild_id, day, job_id, channel_id, self._now()),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def set_song_of_day_message(self, guild_id: int, day: float, message_id: int) -> None:
        """Record the post of a day's feature."""
        async with self._transaction() as conn:
            await conn.execute("UPDATE song_of_day SET message_id = ? WHERE guild_id = ? AND day = ?",
                               (message_id, guild_id, day))

    async def release_song_of_day(self, guild_id: int, day: float) -> None:
        """Forget a claim whose post failed."""
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM song_of_day WHERE guild_id = ? AND day = ? AND message_id IS NULL",
                               (guild_id, day))

    async def song_of_day_done(self, guild_id: int, day: float) -> bool:
        """Whether a day's feature was claimed."""
        return bool(await self._scalar("SELECT 1 FROM song_of_day WHERE guild_id = ? AND day = ?", (guild_id, day)))

    async def next_community_due(self) -> float | None:
        """The earliest pending battle close or challenge phase change."""
        value = await self._scalar(
            "SELECT MIN(due) FROM ("
            " SELECT MIN(closes_at) AS due FROM battles WHERE state = 'open'"
            " UNION ALL SELECT MIN(submit_ends_at) FROM challenges WHERE state = 'open'"
            " UNION ALL SELECT MIN(vote_ends_at) FROM challenges WHERE state = 'voting') AS pending"
        )
        return float(value) if value is not None else None
