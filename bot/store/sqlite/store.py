"""JobStore on SQLite through aiosqlite."""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.base import Admit, SettingsChange
from bot.store.records import (
    COUNTED,
    DELIVERABLE,
    INTERRUPTED_SUBMIT,
    GuildSettings,
    IllegalTransitionError,
    Job,
    JobState,
    JobUpdate,
    NewJob,
    PendingJob,
    Persona,
    Requester,
    Usage,
    UsageRow,
    Worker,
    sources_of,
    utc_day_start,
)

from . import guilds
from .community import CommunityMixin
from .db import connect

log = logging.getLogger(__name__)

Clock = Callable[[], float]


def _in(states: frozenset[JobState]) -> str:
    # State names are our own constants, never user input, so inlining them is safe.
    return "(" + ", ".join(f"'{state}'" for state in sorted(states)) + ")"


_COUNTED = _in(COUNTED)
_TODAY_SQL = (
    "SELECT COUNT(*), COALESCE(SUM(user_id = ?), 0) FROM jobs WHERE guild_id IS ? AND created_at >= ?"  # noqa: S608
    f" AND action = 'MUSIC' AND state IN {_COUNTED}"
)
_LAST_SQL = f"SELECT MAX(created_at) FROM jobs WHERE user_id = ? AND guild_id IS ? AND state IN {_COUNTED}"  # noqa: S608
_USAGE_SQL = (
    f"SELECT user_id, provider, action, SUM(state IN {_COUNTED}) AS n,"  # noqa: S608 - constants only
    " SUM(state = 'failed' OR (state = 'submit_failed' AND error NOT LIKE 'not started because of a limit%'))"
    " FROM jobs WHERE guild_id = ? AND created_at >= ? GROUP BY user_id, provider, action ORDER BY n DESC, user_id"
)


class SqliteJobStore(CommunityMixin):
    """JobStore backed by one aiosqlite connection. Writes are serialised by a lock and run in transactions."""

    def __init__(self, conn: aiosqlite.Connection, *, now: Clock = time.time) -> None:
        self._conn = conn
        self._now = now
        self._write_lock = asyncio.Lock()
        # take_turn: one process per SQLite file, so the turns live in memory (on the monotonic clock).
        self._turn_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._turns: dict[str, float] = {}

    @classmethod
    async def open(cls, path: Path | str, *, now: Clock = time.time) -> SqliteJobStore:
        """Open (creating and migrating) the database file."""
        return cls(await connect(path), now=now)

    async def close(self) -> None:
        """Close the database connection (and its thread)."""
        await self._conn.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    async def _one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Job | None:
        async with self._conn.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return Job.from_row(dict(row)) if row is not None else None

    async def _many(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Job]:
        async with self._conn.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        return [Job.from_row(dict(row)) for row in rows]

    async def create(self, new: NewJob, admit: Admit | None = None, *, owner: str | None = None) -> Job:
        """Record the job as `submitting`; with `admit`, judge the requester's usage under the same write lock."""
        now = self._now()
        who = new.requester
        async with self._transaction() as conn:
            if admit is not None:
                # Counted and inserted under one write lock: two requests at the same instant cannot both pass.
                admit(await self._usage(conn, who, now), now)
            cursor = await conn.execute(
                "INSERT INTO jobs (user_id, guild_id, channel_id, interaction_token, interaction_expires_at, provider,"
                " action, kind, parent_job_id, params, state, created_at, updated_at, submit_owner)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitting', ?, ?, ?) RETURNING *",
                (
                    who.user_id,
                    who.guild_id,
                    who.channel_id,
                    who.interaction_token,
                    who.interaction_expires_at,
                    new.provider,
                    new.action,
                    new.kind,
                    new.parent_job_id,
                    json.dumps(new.params),
                    now,
                    now,
                    owner,
                ),
            )
            row = await cursor.fetchone()
            await cursor.close()
        assert row is not None  # noqa: S101 - INSERT … RETURNING always yields the row
        return Job.from_row(dict(row))

    async def clock(self) -> float:
        """The store's clock (this process's: one process uses a SQLite file)."""
        return self._now()

    async def _usage(self, conn: aiosqlite.Connection, who: Requester, now: float) -> Usage:
        today = utc_day_start(now)
        async with conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(guild_id IS ?), 0), COALESCE(SUM(guild_id IS ? AND user_id = ?), 0)"
            " FROM jobs WHERE state IN ('submitting', 'queued', 'running')",
            (who.guild_id, who.guild_id, who.user_id),
        ) as cursor:
            total, guild_in_flight, member_in_flight = await cursor.fetchone() or (0, 0, 0)
        async with conn.execute(_TODAY_SQL, (who.user_id, who.guild_id, today)) as cursor:
            guild_today, member_today = await cursor.fetchone() or (0, 0)
        async with conn.execute(_LAST_SQL, (who.user_id, who.guild_id)) as cursor:
            row = await cursor.fetchone()
        return Usage(
            member_in_flight=member_in_flight,
            member_today=member_today,
            member_last_at=row[0] if row else None,
            guild_today=guild_today,
            guild_in_flight=guild_in_flight,
            total_in_flight=total,
        )

    async def usage_by_member(self, guild_id: int, since: float) -> list[UsageRow]:
        """What each member used since `since`, per provider and action, busiest first."""
        async with self._conn.execute(_USAGE_SQL, (guild_id, since)) as cursor:
            return [UsageRow(row[0], row[1], row[2], int(row[3] or 0), int(row[4] or 0))
                    for row in await cursor.fetchall()]

    async def count_by_state(self) -> list[tuple[str, str, int]]:
        """(state, provider, jobs) over every job, for the metrics endpoint."""
        async with self._conn.execute("SELECT state, provider, COUNT(*) FROM jobs GROUP BY state, provider") as cursor:
            return [(row[0], row[1], row[2]) for row in await cursor.fetchall()]

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's settings, or the defaults."""
        return await guilds.read(self._conn, guild_id)

    async def change_guild_settings(self, guild_id: int, change: SettingsChange, *, by: int | None) -> GuildSettings:
        """Read, change and write under the write lock: two admins' changes both stick."""
        async with self._transaction() as conn:
            settings = change(await guilds.read(conn, guild_id))
            await guilds.write(conn, settings, now=self._now(), by=by)
        return settings

    async def credit_alert_guilds(self) -> list[GuildSettings]:
        """Settings of every guild with a credit alert."""
        async with self._conn.execute(
            "SELECT guild_id FROM guild_settings WHERE credit_alert_below IS NOT NULL AND alert_channel_id IS NOT NULL"
        ) as cursor:
            ids = [row[0] for row in await cursor.fetchall()]
        return [await guilds.read(self._conn, guild_id) for guild_id in ids]

    async def add_persona(self, persona: Persona) -> bool:
        """Insert the persona unless the guild has one of that name."""
        async with self._transaction() as conn, conn.execute(
            "INSERT INTO personas (guild_id, name, description, persona_id, root_clip_id, source_job_id, created_by,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, name) DO NOTHING RETURNING id",
            (persona.guild_id, persona.name, persona.description, persona.persona_id, persona.root_clip_id,
             persona.source_job_id, persona.created_by, self._now()),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def personas(self, guild_id: int) -> list[Persona]:
        """The guild's personas, by name."""
        async with self._conn.execute(
            "SELECT guild_id, name, description, persona_id, root_clip_id, created_by, source_job_id FROM personas"
            " WHERE guild_id = ? ORDER BY name COLLATE NOCASE", (guild_id,),
        ) as cursor:
            return [Persona(*row) for row in await cursor.fetchall()]

    async def remove_persona(self, guild_id: int, name: str) -> bool:
        """Delete the guild's persona of that name (case-insensitive)."""
        async with self._transaction() as conn, conn.execute(
            "DELETE FROM personas WHERE guild_id = ? AND name = ? COLLATE NOCASE RETURNING id", (guild_id, name),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def check_writable(self) -> None:
        """Take the write lock and let it go: raises if the database cannot be written."""
        async with self._transaction():
            pass

    async def _move(self, job_id: int, target: JobState, assignments: str, params: dict[str, Any]) -> Job:
        params = {**params, "id": job_id, "now": self._now()}
        async with self._transaction() as conn, conn.execute(
            f"UPDATE jobs SET state = '{target}', updated_at = :now, {assignments}"  # noqa: S608 - constants only
            f" WHERE id = :id AND state IN {_in(sources_of(target))} RETURNING *",
            params,
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            current = await self.get(job_id)
            raise IllegalTransitionError(
                f"job {job_id} cannot move to {target} from {current.state if current else 'nowhere (no such job)'}"
            )
        return Job.from_row(dict(row))

    async def mark_submitted(self, job_id: int, task_id: str) -> Job:
        """CometAPI accepted the job: store its task id (state `queued`)."""
        return await self._move(job_id, "queued", "task_id = :task_id, submitted_at = :now", {"task_id": task_id})

    async def mark_submit_failed(self, job_id: int, error: str, *, notify: bool = False) -> Job:
        """The submit failed or was refused; with `notify`, queue the notice for delivery."""
        delivery = ", delivery = 'pending'" if notify else ""
        return await self._move(job_id, "submit_failed", f"error = :error, finished_at = :now{delivery}",
                                {"error": error})

    async def request_cancel(self, job_id: int) -> Job | None:
        """Mark a job the member cancelled (it keeps running on CometAPI); None if it is finished or already
        cancelled."""
        async with self._transaction() as conn, conn.execute(
            "UPDATE jobs SET cancel_requested_at = :now, updated_at = :now WHERE id = :id"
            " AND state IN ('submitting', 'queued', 'running') AND cancel_requested_at IS NULL RETURNING *",
            {"id": job_id, "now": self._now()},
        ) as cursor:
            row = await cursor.fetchone()
        return Job.from_row(dict(row)) if row is not None else None

    async def set_status_message(self, job_id: int, channel_id: int, message_id: int) -> None:
        """Remember the message that shows this job's progress."""
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE jobs SET status_message_id = ?, updated_at = ? WHERE id = ? AND channel_id = ?",
                (message_id, self._now(), job_id, channel_id),
            )

    async def get(self, job_id: int) -> Job | None:
        """One job by its id, or None."""
        return await self._one("SELECT * FROM jobs WHERE id = ?", (job_id,))

    async def recent_for_user(self, user_id: int, *, guild_id: int | None = None, limit: int = 10) -> list[Job]:
        """A member's newest jobs (in one guild, when given)."""
        if guild_id is None:
            return await self._many(
                "SELECT * FROM jobs WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?", (user_id, limit)
            )
        return await self._many(
            "SELECT * FROM jobs WHERE user_id = ? AND guild_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            (user_id, guild_id, limit),
        )

    async def delivered_for_user(
        self, user_id: int, *, guild_id: int | None, offset: int, limit: int
    ) -> tuple[list[Job], int]:
        """A member's delivered songs in a guild, newest first, one page, with the total count."""
        where = "user_id = ? AND guild_id IS ? AND delivery = 'delivered' AND state = 'succeeded'"
        async with self._conn.execute(f"SELECT COUNT(*) FROM jobs WHERE {where}", (user_id, guild_id)) as cursor:  # noqa: S608
            row = await cursor.fetchone()
        jobs = await self._many(
            f"SELECT * FROM jobs WHERE {where} ORDER BY delivered_at DESC, id DESC LIMIT ? OFFSET ?",  # noqa: S608
            (user_id, guild_id, limit, offset),
        )
        return jobs, int(row[0]) if row else 0

    async def in_flight(self) -> list[PendingJob]:
        """Every job CometAPI is still working on, oldest first, with only the columns the poller needs."""
        async with self._conn.execute(
            "SELECT id, provider, action, task_id, state, progress, created_at FROM jobs"
            " WHERE state IN ('queued', 'running') ORDER BY id"
        ) as cursor:
            rows = await cursor.fetchall()
        return [PendingJob(*row) for row in rows]

    async def typical_duration(
        self, provider: str, action: str, model: str | None, *, sample: int = 20
    ) -> float | None:
        """Median submit → finish time of the last `sample` succeeded jobs of this provider, action and model."""
        key = "$.model_type" if provider == "udio" else "$.mv"
        async with self._conn.execute(
            "SELECT finished_at - submitted_at FROM jobs WHERE state = 'succeeded' AND provider = ? AND action = ?"
            " AND kind NOT IN ('concat') AND submitted_at IS NOT NULL AND finished_at IS NOT NULL"
            " AND (? IS NULL OR json_extract(params, ?) = ?) ORDER BY finished_at DESC LIMIT ?",
            (provider, action, model, key, model, sample),
        ) as cursor:
            durations = sorted(row[0] for row in await cursor.fetchall() if row[0] is not None and row[0] >= 0)
        return statistics.median(durations) if durations else None

    async def queue_position(self, job_id: int) -> int:
        """1 + the bot's queued jobs of the same provider submitted before this one."""
        async with self._conn.execute(
            "SELECT COUNT(*) FROM jobs AS ahead, jobs AS me WHERE me.id = ? AND ahead.state = 'queued'"
            " AND ahead.provider = me.provider AND ahead.id < me.id",
            (job_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return 1 + (int(row[0]) if row else 0)

    async def uploads_ready(self) -> list[Job]:
        """Covers whose upload stage finished (they were not queued for delivery)."""
        return await self._many(
            "SELECT * FROM jobs WHERE kind = 'cover' AND state = 'succeeded' AND delivery = 'none'"
            " AND json_extract(params, '$.stage') = 'upload' ORDER BY id"
        )

    async def restage(
        self, job_id: int, *, task_id: str, params: dict[str, Any], owner: str | None = None
    ) -> Job | None:
        """Back to `submitting` for the next stage, guarded by the finished stage's task id."""
        return await self._one_written(
            "UPDATE jobs SET state = 'submitting', task_id = NULL, params = ?, result = NULL, progress = NULL,"
            " submitted_at = NULL, finished_at = NULL, updated_at = ?, submit_owner = ?"
            " WHERE id = ? AND task_id = ? AND state = 'succeeded' AND delivery = 'none' RETURNING *",
            (json.dumps(params), self._now(), owner, job_id, task_id),
        )

    async def _one_written(self, sql: str, params: Sequence[Any]) -> Job | None:
        async with self._transaction() as conn, conn.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return Job.from_row(dict(row)) if row is not None else None

    async def claim_polls(
        self, owner: str, *, every: float, peers_within: float, dead_owners: Collection[str] = ()
    ) -> list[PendingJob]:
        """Every in-flight job: one process uses a SQLite file, so its share is everything (and nothing is
        written: the poll cycle costs what it did before several processes could share a database)."""
        return await self.in_flight()

    async def overdue(self, *, since: float, owner: str | None = None, every: float = 0.0) -> list[PendingJob]:
        """Timed-out jobs given up on since `since`, oldest first (one process: no one else asks about them)."""
        async with self._conn.execute(
            "SELECT id, provider, action, task_id, state, progress, created_at FROM jobs"
            " WHERE state = 'timed_out' AND task_id IS NOT NULL AND finished_at >= ? ORDER BY id",
            (since,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [PendingJob(*row) for row in rows]

    async def apply(self, updates: Sequence[JobUpdate]) -> list[int]:
        """Apply the legal updates in one transaction (an executemany per target); return the ids that changed."""
        if not updates:
            return []
        now = self._now()
        by_target: dict[JobState, list[JobUpdate]] = defaultdict(list)
        for update in updates:
            by_target[update.state].append(update)
        changed: list[int] = []
        async with self._transaction() as conn:
            for target, group in by_target.items():
                finished = target in DELIVERABLE or target == "cancelled"
                state, delivery, late = f"'{target}'", "delivery", ""
                if target in DELIVERABLE:
                    # A job a member cancelled is never posted; once CometAPI is done with it, it is `cancelled`
                    # (or `failed`, which CometAPI refunds, so it stops counting).
                    if target != "failed":
                        state = f"CASE WHEN cancel_requested_at IS NULL THEN '{target}' ELSE 'cancelled' END"
                    # A late failure is not announced again: the member was told of the time-out already.
                    # A cover's finished upload stage is not posted: the cover is sent next (uploads_ready).
                    delivery = (
                        "CASE WHEN cancel_requested_at IS NOT NULL THEN delivery"
                        f" WHEN state = 'timed_out' AND '{target}' = 'failed' THEN delivery"
                        f" WHEN '{target}' = 'succeeded' AND kind = 'cover'"
                        " AND json_extract(params, '$.stage') = 'upload' THEN delivery ELSE 'pending' END"
                    )
                    if target == "succeeded":
                        late = (
                            ", late = CASE WHEN state = 'timed_out' THEN 1 ELSE late END,"
                            " delivery_attempts = CASE WHEN state = 'timed_out' THEN 0 ELSE delivery_attempts END"
                        )
                sql = (
                    f"UPDATE jobs SET state = {state}, progress = COALESCE(?, progress),"  # noqa: S608 - constants
                    " result = COALESCE(?, result), error = COALESCE(?, error), updated_at = ?,"
                    f" finished_at = {'?' if finished else 'finished_at'}, delivery = {delivery}{late}"
                    f" WHERE id = ? AND state IN {_in(sources_of(target))}"
                )
                rows = []
                for update in group:
                    result = json.dumps(update.result) if update.result is not None else None
                    params: list[Any] = [update.progress, result, update.error, now]
                    if finished:
                        params.append(now)
                    params.append(update.job_id)
                    rows.append(params)
                # One executemany per target: a cycle over 10,000 jobs must not pay a thread hop per row.
                before = conn.total_changes
                await conn.executemany(sql, rows)
                if conn.total_changes - before == len(group):
                    changed.extend(update.job_id for update in group)
                else:
                    changed.extend(await self._applied(conn, target, now, [u.job_id for u in group]))
        return changed

    async def _applied(self, conn: aiosqlite.Connection, target: JobState, now: float, ids: list[int]) -> list[int]:
        """Which of `ids` the update just reached (some moves were illegal and skipped)."""
        applied: list[int] = []
        for start in range(0, len(ids), 500):  # stay far below SQLite's limit on bound variables
            chunk = ids[start : start + 500]
            async with conn.execute(
                f"SELECT id FROM jobs WHERE id IN ({', '.join('?' * len(chunk))})"  # noqa: S608 - placeholders only
                " AND state IN (?, 'cancelled') AND updated_at = ?",
                [*chunk, target, now],
            ) as cursor:
                applied.extend(row[0] for row in await cursor.fetchall())
        return applied

    async def recover_interrupted_submits(
        self,
        older_than: float,
        *,
        exclude: Collection[int] = (),
        owner: str | None = None,
        dead_owners: Collection[str] = (),
    ) -> list[int]:
        """Fail jobs left in `submitting` by a crash (this process's, or a gone process's) and queue a notice."""
        # The ids being submitted are few (one per command in the last minute or two): inline them as integers.
        skip = ", ".join(str(int(job_id)) for job_id in exclude)
        params: dict[str, Any] = {"error": INTERRUPTED_SUBMIT, "now": self._now(), "older": older_than, "me": owner}
        names = []
        for n, dead in enumerate(sorted(dead_owners)):
            params[f"dead{n}"] = dead
            names.append(f":dead{n}")
        # A dead owner is submitting nothing any more: its jobs are failed at once, without the grace period.
        gone = f" OR submit_owner IN ({', '.join(names)})" if names else ""
        sql = (
            "UPDATE jobs SET state = 'submit_failed', error = :error, delivery = 'pending', updated_at = :now,"  # noqa: S608 - integers and placeholders only
            f" finished_at = :now WHERE state = 'submitting' AND ((created_at < :older AND id NOT IN ({skip})"
            " AND (submit_owner IS NULL OR submit_owner = :me OR submit_owner NOT IN (SELECT owner FROM workers)))"
            f"{gone}) RETURNING id"
        )
        async with self._transaction() as conn, conn.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        ids = [row[0] for row in rows]
        if ids:
            log.warning("marked %d job(s) interrupted mid-submit: %s", len(ids), ids)
        return ids

    async def deliverable(
        self, *, lease_seconds: float, dead_owners: Collection[str] = (), limit: int = 100
    ) -> list[Job]:
        """Finished jobs not yet delivered, including claims whose lease ran out or whose owner is gone."""
        stale, params = self._stale_claim(lease_seconds, dead_owners)
        return await self._many(
            f"SELECT * FROM jobs WHERE delivery = 'pending' OR (delivery = 'claimed' AND {stale})"  # noqa: S608
            " ORDER BY finished_at, id LIMIT :limit",
            {**params, "limit": limit},
        )

    def _stale_claim(self, lease_seconds: float, dead_owners: Collection[str]) -> tuple[str, dict[str, Any]]:
        """SQL (and its parameters) for "this claim may be taken over": its lease ran out, or its owner is gone."""
        params: dict[str, Any] = {"expired": self._now() - lease_seconds}
        names = []
        for n, owner in enumerate(sorted(dead_owners)):
            params[f"dead{n}"] = owner
            names.append(f":dead{n}")
        gone = f" OR delivery_owner IN ({', '.join(names)})" if names else ""
        # An owner without a heartbeat row stopped (or never registered): its claims are free at once.
        retired = " OR delivery_owner IS NULL OR delivery_owner NOT IN (SELECT owner FROM workers)"
        return f"(delivery_claimed_at < :expired{retired}{gone})", params

    async def claim_delivery(
        self, job_id: int, *, owner: str, lease_seconds: float, dead_owners: Collection[str] = ()
    ) -> Job | None:
        """Atomically claim a job for delivery; None if a live owner holds it or it is delivered."""
        stale, params = self._stale_claim(lease_seconds, dead_owners)
        async with self._transaction() as conn, conn.execute(
            "UPDATE jobs SET delivery = 'claimed', delivery_owner = :owner, delivery_claimed_at = :now,"  # noqa: S608
            " delivery_attempts = delivery_attempts + 1"
            f" WHERE id = :id AND (delivery = 'pending' OR (delivery = 'claimed' AND {stale})) RETURNING *",
            {**params, "owner": owner, "now": self._now(), "id": job_id},
        ) as cursor:
            row = await cursor.fetchone()
        return Job.from_row(dict(row)) if row is not None else None

    async def renew_claim(self, job_id: int, *, owner: str) -> bool:
        """Extend the lease of a claim this owner holds; False if the claim was lost."""
        async with self._transaction() as conn, conn.execute(
            "UPDATE jobs SET delivery_claimed_at = ? WHERE id = ? AND delivery = 'claimed' AND delivery_owner = ?"
            " RETURNING id",
            (self._now(), job_id, owner),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def mark_delivered(
        self, job_id: int, channel_id: int, message_id: int, *, owner: str, note: str | None = None
    ) -> bool:
        """Record the delivered message; False if the claim had been lost to another owner."""
        now = self._now()
        async with self._transaction() as conn, conn.execute(
            "UPDATE jobs SET delivery = 'delivered', delivered_at = ?, delivered_channel_id = ?,"
            " delivered_message_id = ?, delivery_error = ?, updated_at = ?"
            " WHERE id = ? AND delivery = 'claimed' AND delivery_owner = ? RETURNING id",
            (now, channel_id, message_id, note, now, job_id, owner),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def release_delivery(self, job_id: int, error: str, *, owner: str, give_up: bool) -> None:
        """Release a failed delivery's claim to retry later, or give up and record why (only the owner may)."""
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE jobs SET delivery = ?, delivery_error = ?, delivery_claimed_at = NULL, delivery_owner = NULL,"
                " updated_at = ? WHERE id = ? AND delivery = 'claimed' AND delivery_owner = ?",
                ("abandoned" if give_up else "pending", error, self._now(), job_id, owner),
            )

    async def beat(self, owner: str, *, host: str, pid: int) -> None:
        """Say this process is alive (registering it on its first beat)."""
        now = self._now()
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO workers (owner, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (owner) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
                (owner, host, pid, now, now),
            )

    async def workers(self) -> list[Worker]:
        """Every process that has a heartbeat row."""
        async with self._conn.execute("SELECT owner, host, pid, started_at, heartbeat_at FROM workers") as cursor:
            return [Worker(*row) for row in await cursor.fetchall()]

    async def retire(self, owner: str) -> None:
        """Forget a process that stopped cleanly (its claims are all released or delivered by then)."""
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM workers WHERE owner = ?", (owner,))

    async def take_turn(self, key: str, *, spacing: float) -> None:
        """Wait until `spacing` seconds after this key's last turn in this process (the only one), then take it."""
        async with self._turn_locks[key]:
            last = self._turns.get(key)
            if last is not None:
                await asyncio.sleep(max(0.0, last + spacing - time.monotonic()))
            self._turns[key] = time.monotonic()
