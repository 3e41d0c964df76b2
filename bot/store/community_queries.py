"""CommunityStore on SQLAlchemy Core (a mixin of SqlStore): likes, charts, battles, challenges, jams, song of the day.

How the promises hold when presses race, on either backend:
- a like, vote or entry is one row per (thing, member) under a primary key; its read-then-write (liked already? the
  member's earlier vote?) is one transaction holding the write lock (SQLite) or an advisory lock on that (thing,
  member) (PostgreSQL): a member's presses take turns, count once, and each reports what the one before did;
- a vote or entry share-locks its battle's or challenge's row while checking that voting is open, so a close (an
  UPDATE of that row) waits for it, and a vote after the close is refused;
- challenge starts take turns on the guild's lock (and a unique index); song of the day is claimed by one insert
  keyed by guild and day; every time written or compared is the store's clock (`Backend.now`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from bot.domain.community_records import (
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
)
from bot.domain.job_records import Job
from bot.store.database import Database
from bot.store.dialects import COMMUNITY, Backend
from bot.store.schema import (
    battle_votes,
    battles,
    challenge_entries,
    challenge_votes,
    challenges,
    guild_settings,
    is_one_of,
    jam_lines,
    jam_songs,
    jams,
    jobs,
    likes,
    removed_songs,
    song_of_day,
)

T = TypeVar("T")
RUNNING = ("open", "voting")  # a challenge before its end: at most one per guild (`challenges_one_running`)
POSTED_WITHIN = 2 * 86400.0  # seconds from asking for a song to its post, at most (late songs: within a day)
entries = challenge_entries


def columns_of(table: sa.Table, record: Any) -> list[sa.Column[Any]]:
    """The table's columns named like the record's fields, in their order."""
    return [table.c[field.name] for field in dataclasses.fields(record)]


def _kept(job_id: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """The song was not deleted."""
    return ~sa.exists().where(removed_songs.c.job_id == job_id)


BATTLE, CHALLENGE = columns_of(battles, Battle), columns_of(challenges, Challenge)
ENTRY = columns_of(entries, ChallengeEntry)
JAM, JAM_LINE, JOB = columns_of(jams, Jam), columns_of(jam_lines, JamLine), columns_of(jobs, Job)
# A delivered song that was not deleted: what charts and profiles count.
LIVE_SONG = sa.and_(jobs.c.state == "succeeded", jobs.c.action == "MUSIC", jobs.c.delivery == "delivered",
                    _kept(jobs.c.id))


class CommunityQueries:
    """CommunityStore on either backend (mixed into SqlStore, which provides the database and the helpers)."""

    _db: Database
    _b: Backend
    _rows: Callable[[sa.Executable], Awaitable[list[sa.Row[Any]]]]
    _scalar: Callable[[sa.Executable], Awaitable[Any]]
    _write: Callable[[sa.Executable], Awaitable[sa.Row[Any] | None]]
    _jobs: Callable[[sa.Executable], Awaitable[list[Job]]]

    async def _records(self, record: Callable[..., T], statement: sa.Executable) -> list[T]:
        return [record(**row._mapping) for row in await self._rows(statement)]

    async def _found(self, record: Callable[..., T], statement: sa.Executable) -> T | None:
        return next(iter(await self._records(record, statement)), None)

    async def _created(self, record: Callable[..., T], statement: sa.Executable) -> T:
        """Run an INSERT … RETURNING the record's columns."""
        async with self._db.transaction() as conn:
            return record(**(await conn.execute(statement)).one()._mapping)

    async def _touched(self, statement: sa.Executable) -> bool:
        """Run one write … RETURNING; whether it touched a row."""
        return await self._write(statement) is not None

    async def _advance(self, table: sa.Table, row_id: int, sources: tuple[str, ...], **values: Any) -> bool:
        """Move a battle or challenge on, only from one of `sources` (one guarded UPDATE: one caller wins)."""
        return await self._touched(sa.update(table).where(table.c.id == row_id, is_one_of(table.c.state, sources))
                                   .values(**values).returning(table.c.id))

    # ---- likes, removed songs, charts ---------------------------------------------------------------------

    async def toggle_like(self, job_id: int, user_id: int, guild_id: int | None, *, debounce: float) -> LikeToggle:
        """Like, or take back a like older than `debounce` seconds; a press within the window changes nothing.
        The member's presses of this song take turns, so each sees what the one before did."""
        async with self._db.transaction() as conn:
            await self._b.lock(conn, COMMUNITY, f"like:{job_id}:{user_id}")
            now = self._b.now()
            added = await conn.execute(self._b.insert(likes).on_conflict_do_nothing().returning(likes.c.job_id)
                                       .values(job_id=job_id, user_id=user_id, guild_id=guild_id, created_at=now))
            liked = changed = added.first() is not None
            if not liked:  # liked already: take it back, unless that like is within the window
                taken_back = await conn.execute(sa.delete(likes).returning(likes.c.job_id).where(
                    likes.c.job_id == job_id, likes.c.user_id == user_id, likes.c.created_at <= now - debounce))
                changed = taken_back.first() is not None
                liked = not changed
            count = (await conn.execute(sa.select(sa.func.count()).where(likes.c.job_id == job_id))).scalar_one()
        return LikeToggle(liked=liked, likes=int(count), changed=changed)

    async def like_count(self, job_id: int) -> int:
        """How many members like the song."""
        return int(await self._scalar(sa.select(sa.func.count()).where(likes.c.job_id == job_id)))

    async def remove_song(self, job_id: int, *, by: int | None) -> bool:
        """Mark a song deleted; False if it was already."""
        return await self._touched(self._b.insert(removed_songs).on_conflict_do_nothing()
                                   .values(job_id=job_id, removed_by=by, removed_at=self._b.now())
                                   .returning(removed_songs.c.job_id))

    async def songs_posted_as(self, message_ids: Collection[int]) -> list[int]:
        """The songs (MUSIC jobs) whose post is one of these messages, by job id (a copy shown again is no post)."""
        found: list[int] = []
        for chunk in self._b.ids_in(jobs.c.delivered_message_id, sorted({int(m) for m in message_ids})):
            found.extend(row[0] for row in await self._rows(
                sa.select(jobs.c.id).where(chunk, jobs.c.action == "MUSIC").order_by(jobs.c.id)))
        return found

    async def removed_songs(self, job_ids: Collection[int]) -> set[int]:
        """Which of these songs were deleted."""
        removed: set[int] = set()
        for chunk in self._b.ids_in(removed_songs.c.job_id, sorted({int(job_id) for job_id in job_ids})):
            removed.update(row[0] for row in await self._rows(sa.select(removed_songs.c.job_id).where(chunk)))
        return removed

    async def chart(self, guild_id: int, *, since: float | None, until: float | None = None,
                    provider: str | None = None, limit: int = 10) -> list[ChartRow]:
        """Most liked songs made in [since, until), ties broken by the earlier first like."""
        tally = sa.func.count(likes.c.user_id).label("chart_likes")
        query = (sa.select(*JOB, tally).join_from(jobs, likes, likes.c.job_id == jobs.c.id)
                 .where(jobs.c.guild_id == guild_id, LIVE_SONG, jobs.c.created_at >= (since or 0.0),
                        jobs.c.created_at < (1e18 if until is None else until)).group_by(jobs.c.id)
                 .order_by(tally.desc(), sa.func.min(likes.c.created_at), jobs.c.id).limit(limit))
        if provider is not None:
            query = query.where(jobs.c.provider == provider)
        return [ChartRow(Job.from_row({column.name: row._mapping[column] for column in JOB}), row._mapping[tally])
                for row in await self._rows(query)]

    async def member_stats(self, guild_id: int, user_id: int) -> MemberStats:
        """A member's songs, likes received and likes given on a server."""
        theirs, count = (jobs.c.guild_id == guild_id, jobs.c.user_id == user_id, LIVE_SONG), sa.func.count()
        row = (await self._rows(sa.select(
            sa.select(count).where(*theirs).scalar_subquery(),
            sa.select(count).join_from(likes, jobs, jobs.c.id == likes.c.job_id).where(*theirs).scalar_subquery(),
            sa.select(count).where(likes.c.guild_id == guild_id, likes.c.user_id == user_id).scalar_subquery(),
        )))[0]
        return MemberStats(*(int(value) for value in row))

    async def member_songs(self, guild_id: int, user_id: int, *, limit: int) -> list[Job]:
        """A member's delivered, not deleted songs, newest first."""
        return await self._jobs(sa.select(*JOB).where(jobs.c.guild_id == guild_id, jobs.c.user_id == user_id, LIVE_SONG)
                                .order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit))

    async def songs_posted_in(self, guild_id: int, channel_id: int, *, since: float, limit: int) -> list[Job]:
        """Delivered, not deleted songs posted in a channel at or after `since` (the store's clock), oldest first.
        A song is posted within about a day of being asked for, so only songs asked for in the two days before
        `since` are read: the guild's (guild, created_at) index bounds the scan of a busy server."""
        return await self._jobs(sa.select(*JOB).where(
            jobs.c.guild_id == guild_id, jobs.c.created_at >= since - POSTED_WITHIN, LIVE_SONG,
            jobs.c.delivered_channel_id == channel_id, jobs.c.delivered_at >= since,
        ).order_by(jobs.c.delivered_at, jobs.c.id).limit(limit))

    # ---- votes and entries ------------------------------------------------------------------------------------

    async def _cast(self, still_open: sa.Select[Any], answer: sa.ColumnElement[Any], table: sa.Table,
                    **values: Any) -> tuple[bool, Any]:
        """Write a member's vote or entry (`values`, one row per member: a second press replaces it) if `still_open`
        finds its battle or challenge open; whether it did, and the member's `answer` before."""
        key = {column: values[column.name] for column in table.primary_key}
        async with self._db.transaction() as conn:
            # The member's presses on this battle or challenge take turns: the lock's key is the row's.
            await self._b.lock(conn, COMMUNITY, ":".join(map(str, [table.name, *key.values()])))
            # FOR SHARE on PostgreSQL: a close (an UPDATE of the battle's or challenge's row) waits for this vote.
            if (await conn.execute(still_open.with_for_update(read=True))).first() is None:
                return False, None
            previous = (await conn.execute(sa.select(answer).where(*(c == v for c, v in key.items())))).scalar()
            insert = self._b.insert(table).values(**values)
            await conn.execute(insert.on_conflict_do_update(
                index_elements=list(table.primary_key),
                set_={column.name: insert.excluded[column.name] for column in table.c if not column.primary_key},
            ))
        return True, previous

    # ---- battles ----------------------------------------------------------------------------------------------

    async def create_battle(self, new: NewBattle) -> Battle:
        """Record a battle in state `making`."""
        return await self._created(Battle, sa.insert(battles).returning(*BATTLE)
                                   .values(**dataclasses.asdict(new), state="making", created_at=self._b.now()))

    async def get_battle(self, battle_id: int) -> Battle | None:
        """One battle."""
        return await self._found(Battle, sa.select(*BATTLE).where(battles.c.id == battle_id))

    async def battles_in(self, state: BattleState) -> list[Battle]:
        """Battles in a state, oldest first."""
        return await self._records(Battle, sa.select(*BATTLE).where(battles.c.state == state).order_by(battles.c.id))

    async def battles_due(self, now: float) -> list[Battle]:
        """Open battles whose voting time is over."""
        return await self._records(Battle, sa.select(*BATTLE).where(battles.c.state == "open",
                                   battles.c.closes_at <= now).order_by(battles.c.closes_at, battles.c.id))

    async def open_battle(self, battle_id: int, *, opened_at: float, closes_at: float) -> bool:
        """`making` → `open`."""
        return await self._advance(battles, battle_id, ("making",), state="open", opened_at=opened_at,
                                   closes_at=closes_at)

    async def set_battle_message(self, battle_id: int, message_id: int) -> None:
        """Record the face-off post."""
        await self._write(sa.update(battles).where(battles.c.id == battle_id).values(message_id=message_id))

    async def finish_battle(self, battle_id: int, *, state: BattleState, winner: str | None,
                            votes: tuple[int, int] | None, note: str | None, result_message_id: int | None) -> bool:
        """`making`/`open` → `closed` or `called_off` (after the votes being recorded at this instant)."""
        votes_a, votes_b = votes if votes is not None else (None, None)
        return await self._advance(battles, battle_id, ("making", "open"), state=state, winner=winner,
                                   votes_a=votes_a, votes_b=votes_b, note=note, result_message_id=result_message_id,
                                   closed_at=self._b.now())

    async def vote_battle(self, battle_id: int, user_id: int, choice: Choice) -> VoteOutcome:
        """Record or change a vote while the battle is open; one row per member, the member's votes one at a time."""
        now = self._b.now()
        accepted, previous = await self._cast(
            sa.select(battles.c.id).where(battles.c.id == battle_id, battles.c.state == "open",
                                          battles.c.closes_at > now),
            battle_votes.c.choice, battle_votes, battle_id=battle_id, user_id=user_id, choice=choice, voted_at=now,
        )
        return VoteOutcome(accepted=accepted, previous=previous)

    async def battle_tally(self, battle_id: int) -> tuple[int, int]:
        """Votes for A and for B."""
        count = sa.func.count().filter
        row = (await self._rows(sa.select(count(battle_votes.c.choice == "a"), count(battle_votes.c.choice == "b"))
                                .where(battle_votes.c.battle_id == battle_id)))[0]
        a, b = (int(value) for value in row)
        return a, b

    # ---- challenges -------------------------------------------------------------------------------------------

    async def create_challenge(self, new: NewChallenge) -> Challenge | None:
        """Start a challenge unless the guild has one open or voting (checked under the guild's lock)."""
        async with self._db.transaction() as conn:
            await self._b.lock(conn, COMMUNITY, f"challenge:{new.guild_id}")
            if (await conn.execute(sa.select(challenges.c.id).where(
                challenges.c.guild_id == new.guild_id, is_one_of(challenges.c.state, RUNNING)
            ))).first() is not None:
                return None
            row = (await conn.execute(sa.insert(challenges).returning(*CHALLENGE)
                                      .values(**dataclasses.asdict(new), state="open", started_at=self._b.now()))).one()
        return Challenge(**row._mapping)

    async def get_challenge(self, challenge_id: int) -> Challenge | None:
        """One challenge."""
        return await self._found(Challenge, sa.select(*CHALLENGE).where(challenges.c.id == challenge_id))

    async def current_challenge(self, guild_id: int) -> Challenge | None:
        """The guild's running challenge, else its latest one."""
        return await self._found(Challenge, sa.select(*CHALLENGE).where(challenges.c.guild_id == guild_id)
                                 .order_by(is_one_of(challenges.c.state, RUNNING).desc(), challenges.c.id.desc())
                                 .limit(1))

    async def challenges_due(self, now: float) -> list[Challenge]:
        """Challenges whose current phase is over."""
        return await self._records(Challenge, sa.select(*CHALLENGE).where(sa.or_(
            sa.and_(challenges.c.state == "open", challenges.c.submit_ends_at <= now),
            sa.and_(challenges.c.state == "voting", challenges.c.vote_ends_at <= now),
        )).order_by(challenges.c.id))

    async def submit_entry(self, challenge_id: int, user_id: int, job_id: int) -> EntryOutcome:
        """Enter or replace a member's song while the challenge is open (the member's entries one at a time); an
        entry a moderator took out is back in if the member submits again."""
        now = self._b.now()
        is_open = sa.and_(challenges.c.state == "open", challenges.c.submit_ends_at > now)
        accepted, previous = await self._cast(
            sa.select(challenges.c.id).where(challenges.c.id == challenge_id, is_open),
            # The song that stays in the challenge is replaced; one taken out is not.
            sa.case((entries.c.removed_by.is_(None), entries.c.job_id)), entries,
            challenge_id=challenge_id, user_id=user_id, job_id=job_id, submitted_at=now, removed_by=None,
        )
        return EntryOutcome(accepted=accepted, replaced_job_id=previous if previous != job_id else None)

    async def remove_entry(self, challenge_id: int, user_id: int, *, by: int) -> bool:
        """Take an entry out."""
        return await self._touched(sa.update(entries).values(removed_by=by).returning(entries.c.user_id).where(
            entries.c.challenge_id == challenge_id, entries.c.user_id == user_id, entries.c.removed_by.is_(None)))

    async def challenge_entries(self, challenge_id: int) -> list[ChallengeEntry]:
        """Entries still in, in order of submission."""
        return await self._records(ChallengeEntry, sa.select(*ENTRY).where(
            entries.c.challenge_id == challenge_id, entries.c.removed_by.is_(None), _kept(entries.c.job_id)
        ).order_by(entries.c.submitted_at, entries.c.user_id))

    async def start_challenge_voting(self, challenge_id: int, *, vote_ends_at: float) -> bool:
        """`open` → `voting` (after the entries being recorded at this instant)."""
        return await self._advance(challenges, challenge_id, ("open",), state="voting", vote_ends_at=vote_ends_at)

    async def challenges_voting(self) -> list[Challenge]:
        """Challenges in their voting phase."""
        return await self._records(Challenge, sa.select(*CHALLENGE).where(challenges.c.state == "voting")
                                   .order_by(challenges.c.id))

    async def set_challenge_vote_message(self, challenge_id: int, message_id: int) -> None:
        """Record the vote post."""
        await self._write(sa.update(challenges).where(challenges.c.id == challenge_id)
                          .values(vote_message_id=message_id))

    async def finish_challenge(self, challenge_id: int, *, state: ChallengeState,
                               result_message_id: int | None) -> bool:
        """`open`/`voting` → `closed` or `cancelled`."""
        return await self._advance(challenges, challenge_id, RUNNING, state=state,
                                   result_message_id=result_message_id, closed_at=self._b.now())

    async def vote_challenge(self, challenge_id: int, voter_id: int, entry_user_id: int) -> VoteOutcome:
        """Record or change a member's one vote while voting is open (the member's votes one at a time)."""
        now, votes = self._b.now(), challenge_votes
        is_open = sa.and_(challenges.c.state == "voting", challenges.c.vote_ends_at > now)
        accepted, previous = await self._cast(
            sa.select(challenges.c.id).where(challenges.c.id == challenge_id, is_open), votes.c.entry_user_id, votes,
            challenge_id=challenge_id, voter_id=voter_id, entry_user_id=entry_user_id, voted_at=now,
        )
        return VoteOutcome(accepted=accepted, previous=previous)

    async def challenge_tally(self, challenge_id: int) -> dict[int, int]:
        """Votes per entrant, for entries still in."""
        votes = challenge_votes
        entry = sa.and_(entries.c.challenge_id == votes.c.challenge_id, entries.c.user_id == votes.c.entry_user_id)
        rows = await self._rows(
            sa.select(votes.c.entry_user_id, sa.func.count()).join_from(votes, entries, entry)
            .where(votes.c.challenge_id == challenge_id, entries.c.removed_by.is_(None), _kept(entries.c.job_id))
            .group_by(votes.c.entry_user_id)
        )
        return {int(user): int(count) for user, count in (tuple(row) for row in rows)}

    # ---- jams -------------------------------------------------------------------------------------------------

    async def create_jam(self, new: NewJam) -> Jam:
        """Record a jam thread."""
        return await self._created(Jam, sa.insert(jams).returning(*JAM)
                                   .values(**dataclasses.asdict(new), created_at=self._b.now()))

    async def get_jam(self, jam_id: int) -> Jam | None:
        """One jam."""
        return await self._found(Jam, sa.select(*JAM).where(jams.c.id == jam_id))

    async def add_jam_line(self, jam_id: int, user_id: int, line: str, *, max_lines: int,
                           max_chars: int) -> JamLine | None:
        """Add a line if the jam then has at most `max_lines` lines of at most `max_chars` characters together (one
        line break between two lines); None if it would not. Additions to one jam take turns, so two lines at once
        cannot both slip in."""
        async with self._db.transaction() as conn:
            await self._b.lock(conn, COMMUNITY, f"jam:{jam_id}")
            count, chars = (await conn.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.func.length(jam_lines.c.line)), 0))
                .where(jam_lines.c.jam_id == jam_id)
            )).one()
            if count >= max_lines or int(chars) + int(count) + len(line) > max_chars:
                return None
            row = (await conn.execute(sa.insert(jam_lines).returning(*JAM_LINE).values(
                jam_id=jam_id, user_id=user_id, line=line, added_at=self._b.now()))).one()
        return JamLine(**row._mapping)

    async def remove_jam_lines(self, jam_id: int, line_ids: Collection[int]) -> list[JamLine]:
        """Take lines out of a jam (ids of other jams' lines are ignored); the lines taken out, in order."""
        async with self._db.transaction() as conn:
            rows = (await conn.execute(sa.delete(jam_lines).returning(*JAM_LINE).where(
                jam_lines.c.jam_id == jam_id, jam_lines.c.id.in_([int(i) for i in line_ids])))).all()
        return sorted((JamLine(**row._mapping) for row in rows), key=lambda line: line.id)

    async def jam_songs_of(self, jam_id: int) -> list[int]:
        """The jobs made from a jam, oldest first."""
        return [int(row[0]) for row in await self._rows(
            sa.select(jam_songs.c.job_id).where(jam_songs.c.jam_id == jam_id).order_by(jam_songs.c.job_id))]

    async def jam_lines(self, jam_id: int) -> list[JamLine]:
        """A jam's lines in order."""
        return await self._records(JamLine, sa.select(*JAM_LINE).where(jam_lines.c.jam_id == jam_id)
                                   .order_by(jam_lines.c.id))

    async def record_jam_song(self, jam_id: int, job_id: int, credits: Sequence[int]) -> None:
        """Remember a song made from a jam and whom it credits."""
        await self._write(sa.insert(jam_songs).values(job_id=job_id, jam_id=jam_id, credits=[int(u) for u in credits]))

    async def jam_credits(self, job_id: int) -> list[int] | None:
        """Whom a jam song credits."""
        credits = await self._scalar(sa.select(jam_songs.c.credits).where(jam_songs.c.job_id == job_id))
        return [int(user) for user in credits] if credits is not None else None

    # ---- song of the day and timers ---------------------------------------------------------------------------

    async def song_of_day_guilds(self) -> list[SongOfDayGuild]:
        """Guilds with a song-of-the-day channel, and since when."""
        channel = guild_settings.c.song_of_day_channel_id
        rows = await self._rows(sa.select(guild_settings.c.guild_id, channel, guild_settings.c.song_of_day_since)
                                .where(channel.is_not(None)).order_by(guild_settings.c.guild_id))
        return [SongOfDayGuild(int(guild), int(where), None if since is None else float(since))
                for guild, where, since in (tuple(row) for row in rows)]

    async def claim_song_of_day(self, guild_id: int, day: float, job_id: int | None, channel_id: int) -> bool:
        """Claim a day's feature once, across processes: one insert keyed by guild and day."""
        return await self._touched(self._b.insert(song_of_day).on_conflict_do_nothing()
                                   .values(guild_id=guild_id, day=day, job_id=job_id, channel_id=channel_id,
                                           posted_at=self._b.now())
                                   .returning(song_of_day.c.guild_id))

    def _day(self, guild_id: int, day: float) -> sa.ColumnElement[bool]:
        return sa.and_(song_of_day.c.guild_id == guild_id, song_of_day.c.day == day)

    async def set_song_of_day_message(self, guild_id: int, day: float, message_id: int) -> None:
        """Record the post of a day's feature."""
        await self._write(sa.update(song_of_day).where(self._day(guild_id, day)).values(message_id=message_id))

    async def release_song_of_day(self, guild_id: int, day: float) -> None:
        """Forget a claim whose post failed (never one that was posted)."""
        await self._write(sa.delete(song_of_day).where(self._day(guild_id, day), song_of_day.c.message_id.is_(None)))

    async def song_of_day_done(self, guild_id: int, day: float) -> bool:
        """Whether a day's feature was claimed."""
        return await self._scalar(sa.select(song_of_day.c.guild_id).where(self._day(guild_id, day))) is not None

    async def next_community_due(self) -> float | None:
        """The earliest pending battle close or challenge phase change."""
        pending = sa.union_all(
            sa.select(sa.func.min(battles.c.closes_at).label("due")).where(battles.c.state == "open"),
            sa.select(sa.func.min(challenges.c.submit_ends_at)).where(challenges.c.state == "open"),
            sa.select(sa.func.min(challenges.c.vote_ends_at)).where(challenges.c.state == "voting"),
        ).subquery()
        due = await self._scalar(sa.select(sa.func.min(pending.c.due)))
        return float(due) if due is not None else None
