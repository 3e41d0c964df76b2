"""JobStore on PostgreSQL through asyncpg: the backend several bot processes share.

Semantics are those of the SQLite backend (its store.py is the reference); what differs is how they hold
across processes:
- every time is the database's (`now()`), never a process's, wherever a lease, deadline, quota or
  heartbeat is compared (tests may inject a clock: it then replaces `now()` in the very same SQL);
- claims (polls, deliveries) are row-locked updates; the poller's share is picked with `FOR UPDATE SKIP
  LOCKED`, so processes claiming at once never wait for, nor get, each other's rows;
- admission (limit check and insert) and guild settings changes hold transaction-scoped advisory locks;
- the community half (likes, votes, challenges, song of the day) is CommunityMixin in community.py, with its own
  locks for a member's presses and a guild's challenge starts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from typing import Any

import asyncpg

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
from .db import ADMIT_NAMESPACE, NOW, SETTINGS_NAMESPACE, TURN_NAMESPACE, Connection, connect

log = logging.getLogger(__name__)

Clock = Callable[[], float]

JOB_COLUMNS = ", ".join(f.name for f in dataclasses.fields(Job))
PENDING_COLUMNS = "id, provider, action, task_id, state, progress, created_at"
LIVE = "('submitting', 'queued', 'running')"


def _in(states: frozenset[JobState]) -> str:
    # State names are our own constants, never user input, so inlining them is safe.
    return "(" + ", ".join(f"'{state}'" for state in sorted(states)) + ")"


_COUNTED = _in(COUNTED)
# A draft refused by a limit (submit_failed, with jobs.NOT_STARTED as its error) is not a failure. ILIKE: SQLite's
# LIKE ignores ASCII case, and both backends count alike.
_FAILED = "state = 'failed' OR (state = 'submit_failed' AND error NOT ILIKE 'not started because of a limit%')"
_STALE_CLAIM = (
    # A claim may be taken over when its lease ran out or its owner is gone (no heartbeat row, or known dead).
    f"(delivery_claimed_at < {NOW} - $2 OR delivery_owner IS NULL"
    " OR delivery_owner NOT IN (SELECT owner FROM workers) OR delivery_owner = ANY($3::text[]))"
)


def _job(row: asyncpg.Record | None) -> Job | None:
    return Job.from_row(dict(row)) if row is not None else None


def _pending(row: asyncpg.Record) -> PendingJob:
    return PendingJob(*row)


async def _row(conn: Connection, sql: str, *args: Any) -> asyncpg.Record:
    """The one row an aggregate query always returns."""
    row = await conn.fetchrow(sql, *args)
    assert row is not None  # noqa: S101 - aggregates without GROUP BY return exactly one row
    return row


class PostgresJobStore(CommunityMixin):
    """JobStore on a PostgreSQL database; any number of bot processes may share it (the community half, likes to
    song of the day, comes from CommunityMixin)."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], *, now: Clock | None = None) -> None:
        self._pool = pool
        self._now = now

    @classmethod
    async def open(cls, dsn: str, *, now: Clock | None = None, max_size: int = 10) -> PostgresJobStore:
        """Connect (a pool of up to `max_size` connections) and migrate; `now` replaces the database clock
        (tests only)."""
        return cls(await connect(dsn, max_size=max_size), now=now)

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()

    def _t(self) -> float | None:
        """The value of $1: the injected clock, or NULL for the database's own."""
        return self._now() if self._now is not None else None

    async def clock(self) -> float:
        """The database's time (or the injected clock)."""
        value = await self._pool.fetchval(f"SELECT {NOW}", self._t())
        return float(value)

    # ---- jobs -----------------------------------------------------------------------------------------------

    async def create(self, new: NewJob, admit: Admit | None = None, *, owner: str | None = None) -> Job:
        """Record the job as `submitting`; with `admit`, judge usage under this guild's (and the bot-wide)
        advisory lock, so two processes admitting the same member at once cannot both pass a limit."""
        who = new.requester
        async with self._pool.acquire() as conn, conn.transaction():
            now = float(await conn.fetchval(f"SELECT {NOW}", self._t()))
            if admit is not None:
                # Guild first, then bot-wide, always in this order (no deadlock). The guild lock covers the member
                # and server limits; the bot-wide one the MAX_JOBS_IN_FLIGHT cap, which counts every guild.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock($1, hashtext($2)), pg_advisory_xact_lock($1, 0)",
                    ADMIT_NAMESPACE, str(who.guild_id),
                )
                admit(await self._usage(conn, who, now), now)
            row = await conn.fetchrow(
                "INSERT INTO jobs (user_id, guild_id, channel_id, interaction_token, interaction_expires_at, provider,"
                " action, kind, parent_job_id, params, state, created_at, updated_at, submit_owner)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, 'submitting', $11, $11, $12)"
                f" RETURNING {JOB_COLUMNS}",
                who.user_id, who.guild_id, who.channel_id, who.interaction_token, who.interaction_expires_at,
                new.provider, new.action, new.kind, new.parent_job_id, json.dumps(new.params), now, owner,
            )
        job = _job(row)
        assert job is not None  # noqa: S101 - INSERT … RETURNING always yields the row
        return job

    async def _usage(self, conn: Connection, who: Requester, now: float) -> Usage:
        live = await _row(conn,
            "SELECT count(*), count(*) FILTER (WHERE guild_id IS NOT DISTINCT FROM $1),"
            " count(*) FILTER (WHERE guild_id IS NOT DISTINCT FROM $1 AND user_id = $2)"
            f" FROM jobs WHERE state IN {LIVE}",
            who.guild_id, who.user_id,
        )
        today = await _row(conn,
            "SELECT count(*), count(*) FILTER (WHERE user_id = $1) FROM jobs"
            " WHERE guild_id IS NOT DISTINCT FROM $2 AND created_at >= $3 AND action = 'MUSIC'"
            f" AND state IN {_COUNTED}",
            who.user_id, who.guild_id, utc_day_start(now),
        )
        last = await conn.fetchval(
            "SELECT max(created_at) FROM jobs WHERE user_id = $1"
            f" AND guild_id IS NOT DISTINCT FROM $2 AND state IN {_COUNTED}",
            who.user_id, who.guild_id,
        )
        return Usage(
            member_in_flight=live[2],
            member_today=today[1],
            member_last_at=last,
            guild_today=today[0],
            guild_in_flight=live[1],
            total_in_flight=live[0],
        )

    async def _move(self, job_id: int, target: JobState, assignments: str, *values: Any) -> Job:
        row = await self._pool.fetchrow(
            f"UPDATE jobs SET state = '{target}', updated_at = {NOW}, {assignments}"
            f" WHERE id = $2 AND state IN {_in(sources_of(target))} RETURNING {JOB_COLUMNS}",
            self._t(), job_id, *values,
        )
        if row is None:
            current = await self.get(job_id)
            raise IllegalTransitionError(
                f"job {job_id} cannot move to {target} from {current.state if current else 'nowhere (no such job)'}"
            )
        job = _job(row)
        assert job is not None  # noqa: S101
        return job

    async def mark_submitted(self, job_id: int, task_id: str) -> Job:
        """CometAPI accepted the job: store its task id (state `queued`)."""
        return await self._move(job_id, "queued", f"task_id = $3, submitted_at = {NOW}", task_id)

    async def mark_submit_failed(self, job_id: int, error: str, *, notify: bool = False) -> Job:
        """The submit failed or was refused; with `notify`, queue the notice for delivery."""
        delivery = ", delivery = 'pending'" if notify else ""
        return await self._move(job_id, "submit_failed", f"error = $3, finished_at = {NOW}{delivery}", error)

    async def request_cancel(self, job_id: int) -> Job | None:
        """Mark a job the member cancelled (it keeps running on CometAPI); None if it is finished or already
        cancelled."""
        return _job(await self._pool.fetchrow(
            f"UPDATE jobs SET cancel_requested_at = {NOW}, updated_at = {NOW} WHERE id = $2"
            f" AND state IN {LIVE} AND cancel_requested_at IS NULL RETURNING {JOB_COLUMNS}",
            self._t(), job_id,
        ))

    async def set_status_message(self, job_id: int, channel_id: int, message_id: int) -> None:
        """Remember the message that shows this job's progress."""
        await self._pool.execute(
            f"UPDATE jobs SET status_message_id = $2, updated_at = {NOW} WHERE id = $3 AND channel_id = $4",
            self._t(), message_id, job_id, channel_id,
        )

    async def get(self, job_id: int) -> Job | None:
        """One job by its id, or None."""
        return _job(await self._pool.fetchrow(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1", job_id))

    async def recent_for_user(self, user_id: int, *, guild_id: int | None = None, limit: int = 10) -> list[Job]:
        """A member's newest jobs (in one guild, when given)."""
        rows = await self._pool.fetch(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = $1 AND ($2::bigint IS NULL OR guild_id = $2)"
            " ORDER BY created_at DESC, id DESC LIMIT $3",
            user_id, guild_id, limit,
        )
        return [Job.from_row(dict(row)) for row in rows]

    async def delivered_for_user(
        self, user_id: int, *, guild_id: int | None, offset: int, limit: int
    ) -> tuple[list[Job], int]:
        """A member's delivered songs in a guild, newest first, one page, with the total count."""
        where = "user_id = $1 AND guild_id IS NOT DISTINCT FROM $2 AND delivery = 'delivered' AND state = 'succeeded'"
        total = await self._pool.fetchval(f"SELECT count(*) FROM jobs WHERE {where}", user_id, guild_id)
        rows = await self._pool.fetch(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE {where}"
            " ORDER BY delivered_at DESC NULLS LAST, id DESC LIMIT $3 OFFSET $4",
            user_id, guild_id, limit, offset,
        )
        return [Job.from_row(dict(row)) for row in rows], int(total)

    # ---- polling --------------------------------------------------------------------------------------------

    async def in_flight(self) -> list[PendingJob]:
        """Every job CometAPI is still working on, oldest first."""
        rows = await self._pool.fetch(
            f"SELECT {PENDING_COLUMNS} FROM jobs WHERE state IN ('queued', 'running') ORDER BY id"
        )
        return [_pending(row) for row in rows]

    async def typical_duration(
        self, provider: str, action: str, model: str | None, *, sample: int = 20
    ) -> float | None:
        """Median submit → finish time of the last `sample` succeeded jobs of this provider, action and model."""
        value = await self._pool.fetchval(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY took) FROM (SELECT finished_at - submitted_at AS took"
            " FROM jobs WHERE state = 'succeeded' AND provider = $1 AND action = $2 AND kind NOT IN ('concat')"
            " AND submitted_at IS NOT NULL AND finished_at IS NOT NULL AND ($3::text IS NULL OR params ->> $4 = $3)"
            " ORDER BY finished_at DESC LIMIT $5) AS recent WHERE took >= 0",
            provider, action, model, "model_type" if provider == "udio" else "mv", sample,
        )
        return float(value) if value is not None else None

    async def queue_position(self, job_id: int) -> int:
        """1 + the bot's queued jobs of the same provider submitted before this one."""
        ahead = await self._pool.fetchval(
            "SELECT count(*) FROM jobs AS ahead, jobs AS me WHERE me.id = $1 AND ahead.state = 'queued'"
            " AND ahead.provider = me.provider AND ahead.id < me.id",
            job_id,
        )
        return 1 + int(ahead or 0)

    async def uploads_ready(self) -> list[Job]:
        """Covers whose upload stage finished (they were not queued for delivery)."""
        rows = await self._pool.fetch(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE kind = 'cover' AND state = 'succeeded' AND delivery = 'none'"
            " AND params->>'stage' = 'upload' ORDER BY id"
        )
        return [job for job in (_job(row) for row in rows) if job is not None]

    async def restage(
        self, job_id: int, *, task_id: str, params: dict[str, Any], owner: str | None = None
    ) -> Job | None:
        """Back to `submitting` for the next stage, guarded by the finished stage's task id (one process wins)."""
        return _job(await self._pool.fetchrow(
            f"UPDATE jobs SET state = 'submitting', task_id = NULL, params = $2::jsonb, result = NULL,"
            f" progress = NULL, submitted_at = NULL, finished_at = NULL, updated_at = {NOW}, submit_owner = $5"
            " WHERE id = $3 AND task_id = $4 AND state = 'succeeded' AND delivery = 'none'"
            f" RETURNING {JOB_COLUMNS}",
            self._t(), json.dumps(params), job_id, task_id, owner,
        ))

    async def claim_polls(
        self, owner: str, *, every: float, peers_within: float, dead_owners: Collection[str] = ()
    ) -> list[PendingJob]:
        """Claim this process's share of the in-flight jobs not handed to anyone in the last `every` seconds.

        The share is ⌈in flight ÷ live processes⌉ (a process known dead no longer counts, even before its
        heartbeat is stale), least recently polled first; rows another process is
        claiming at this instant are skipped (`SKIP LOCKED`), never waited for or taken twice.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            counts = await _row(conn,
                "SELECT (SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')),"
                f" (SELECT count(*) FROM workers WHERE heartbeat_at >= {NOW} - $2 AND owner <> ALL($3::text[]))",
                self._t(), peers_within, sorted(dead_owners),
            )
            share = math.ceil(counts[0] / max(counts[1], 1))
            if not share:
                return []
            rows = await conn.fetch(
                "WITH due AS (SELECT id FROM jobs WHERE state IN ('queued', 'running')"
                f" AND (polled_at IS NULL OR polled_at <= {NOW} - $2)"
                " ORDER BY polled_at NULLS FIRST, id LIMIT $3 FOR UPDATE SKIP LOCKED)"
                f" UPDATE jobs SET polled_at = {NOW}, poll_owner = $4 FROM due WHERE jobs.id = due.id"
                f" RETURNING {', '.join('jobs.' + c for c in PENDING_COLUMNS.split(', '))}",
                self._t(), every, share, owner,
            )
        return sorted((_pending(row) for row in rows), key=lambda job: job.id)

    async def overdue(self, *, since: float, owner: str | None = None, every: float = 0.0) -> list[PendingJob]:
        """Timed-out jobs given up on since `since`, oldest first; with `owner`, only (and claiming) those no
        process was handed in the last `every` seconds, so late polls are not repeated by every process."""
        where = "state = 'timed_out' AND task_id IS NOT NULL AND finished_at >= $2"
        if owner is None:
            rows = await self._pool.fetch(
                f"SELECT {PENDING_COLUMNS} FROM jobs WHERE {where} ORDER BY id", self._t(), since
            )
        else:
            rows = await self._pool.fetch(
                f"WITH due AS (SELECT id FROM jobs WHERE {where} AND (polled_at IS NULL OR polled_at <= {NOW} - $3)"
                " ORDER BY id FOR UPDATE SKIP LOCKED)"
                f" UPDATE jobs SET polled_at = {NOW}, poll_owner = $4 FROM due WHERE jobs.id = due.id"
                f" RETURNING {', '.join('jobs.' + c for c in PENDING_COLUMNS.split(', '))}",
                self._t(), since, every, owner,
            )
        return sorted((_pending(row) for row in rows), key=lambda job: job.id)

    async def apply(self, updates: Sequence[JobUpdate]) -> list[int]:
        """Apply the legal updates in one transaction (one UPDATE … FROM unnest(…) per target state); return the
        ids that changed."""
        if not updates:
            return []
        by_target: dict[JobState, list[JobUpdate]] = defaultdict(list)
        for update in updates:
            by_target[update.state].append(update)
        changed: list[int] = []
        async with self._pool.acquire() as conn, conn.transaction():
            for target, group in by_target.items():
                finished = target in DELIVERABLE or target == "cancelled"
                state, delivery, late = f"'{target}'", "jobs.delivery", ""
                if target in DELIVERABLE:
                    # As on SQLite: a cancelled job is never posted, and a late failure is not announced again.
                    if target != "failed":
                        state = f"CASE WHEN jobs.cancel_requested_at IS NULL THEN '{target}' ELSE 'cancelled' END"
                    delivery = (
                        "CASE WHEN jobs.cancel_requested_at IS NOT NULL THEN jobs.delivery"
                        f" WHEN jobs.state = 'timed_out' AND '{target}' = 'failed' THEN jobs.delivery"
                        # A cover's finished upload stage is not posted: the cover is sent next (uploads_ready).
                        f" WHEN '{target}' = 'succeeded' AND jobs.kind = 'cover'"
                        " AND jobs.params->>'stage' = 'upload' THEN jobs.delivery"
                        " ELSE 'pending' END"
                    )
                    if target == "succeeded":
                        late = (
                            ", late = (jobs.late OR jobs.state = 'timed_out'),"
                            " delivery_attempts = CASE WHEN jobs.state = 'timed_out' THEN 0"
                            " ELSE jobs.delivery_attempts END"
                        )
                rows = await conn.fetch(
                    f"UPDATE jobs SET state = {state}, progress = COALESCE(u.progress, jobs.progress),"
                    " result = COALESCE(u.result::jsonb, jobs.result), error = COALESCE(u.error, jobs.error),"
                    f" updated_at = {NOW}, finished_at = {NOW if finished else 'jobs.finished_at'},"
                    f" delivery = {delivery}{late}"
                    " FROM unnest($2::bigint[], $3::integer[], $4::text[], $5::text[])"
                    " AS u(id, progress, result, error)"
                    f" WHERE jobs.id = u.id AND jobs.state IN {_in(sources_of(target))} RETURNING jobs.id",
                    self._t(),
                    [u.job_id for u in group],
                    [u.progress for u in group],
                    [json.dumps(u.result) if u.result is not None else None for u in group],
                    [u.error for u in group],
                )
                changed.extend(row[0] for row in rows)
        return changed

    async def recover_interrupted_submits(
        self,
        older_than: float,
        *,
        exclude: Collection[int] = (),
        owner: str | None = None,
        dead_owners: Collection[str] = (),
    ) -> list[int]:
        """Fail jobs left in `submitting` by a crash of this process or of one that is gone, and queue a notice;
        a submit under way in another live process is never touched."""
        rows = await self._pool.fetch(
            f"UPDATE jobs SET state = 'submit_failed', error = $2, delivery = 'pending', updated_at = {NOW},"
            f" finished_at = {NOW} WHERE state = 'submitting' AND ((created_at < $3 AND NOT (id = ANY($4::bigint[]))"
            " AND (submit_owner IS NULL OR submit_owner = $5 OR submit_owner NOT IN (SELECT owner FROM workers)))"
            # A dead owner is submitting nothing any more: its jobs are failed at once, without the grace period.
            " OR submit_owner = ANY($6::text[])) RETURNING id",
            self._t(), INTERRUPTED_SUBMIT, older_than, list(exclude), owner, sorted(dead_owners),
        )
        ids = sorted(row[0] for row in rows)
        if ids:
            log.warning("marked %d job(s) interrupted mid-submit: %s", len(ids), ids)
        return ids

    # ---- delivery -------------------------------------------------------------------------------------------

    async def deliverable(
        self, *, lease_seconds: float, dead_owners: Collection[str] = (), limit: int = 100
    ) -> list[Job]:
        """Finished jobs not yet delivered, including claims whose lease ran out or whose owner is gone."""
        rows = await self._pool.fetch(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE delivery = 'pending' OR (delivery = 'claimed' AND {_STALE_CLAIM})"
            " ORDER BY finished_at NULLS FIRST, id LIMIT $4",
            self._t(), lease_seconds, sorted(dead_owners), limit,
        )
        return [Job.from_row(dict(row)) for row in rows]

    async def claim_delivery(
        self, job_id: int, *, owner: str, lease_seconds: float, dead_owners: Collection[str] = ()
    ) -> Job | None:
        """Atomically claim a job for delivery; None if a live owner holds it or it is delivered."""
        return _job(await self._pool.fetchrow(
            f"UPDATE jobs SET delivery = 'claimed', delivery_owner = $4, delivery_claimed_at = {NOW},"
            " delivery_attempts = delivery_attempts + 1"
            f" WHERE id = $5 AND (delivery = 'pending' OR (delivery = 'claimed' AND {_STALE_CLAIM}))"
            f" RETURNING {JOB_COLUMNS}",
            self._t(), lease_seconds, sorted(dead_owners), owner, job_id,
        ))

    async def renew_claim(self, job_id: int, *, owner: str) -> bool:
        """Extend the lease of a claim this owner holds; False if the claim was lost."""
        row = await self._pool.fetchrow(
            f"UPDATE jobs SET delivery_claimed_at = {NOW} WHERE id = $2 AND delivery = 'claimed'"
            " AND delivery_owner = $3 RETURNING id",
            self._t(), job_id, owner,
        )
        return row is not None

    async def mark_delivered(
        self, job_id: int, channel_id: int, message_id: int, *, owner: str, note: str | None = None
    ) -> bool:
        """Record the delivered message; False if the claim had been lost to another owner."""
        row = await self._pool.fetchrow(
            f"UPDATE jobs SET delivery = 'delivered', delivered_at = {NOW}, delivered_channel_id = $2,"
            f" delivered_message_id = $3, delivery_error = $4, updated_at = {NOW}"
            " WHERE id = $5 AND delivery = 'claimed' AND delivery_owner = $6 RETURNING id",
            self._t(), channel_id, message_id, note, job_id, owner,
        )
        return row is not None

    async def release_delivery(self, job_id: int, error: str, *, owner: str, give_up: bool) -> None:
        """Release a failed delivery's claim to retry later, or give up and record why (only the owner may)."""
        await self._pool.execute(
            "UPDATE jobs SET delivery = $2, delivery_error = $3, delivery_claimed_at = NULL, delivery_owner = NULL,"
            f" updated_at = {NOW} WHERE id = $4 AND delivery = 'claimed' AND delivery_owner = $5",
            self._t(), "abandoned" if give_up else "pending", error, job_id, owner,
        )

    # ---- processes ------------------------------------------------------------------------------------------

    async def beat(self, owner: str, *, host: str, pid: int) -> None:
        """Say this process is alive (registering it on its first beat), on the database's clock."""
        await self._pool.execute(
            f"INSERT INTO workers (owner, host, pid, started_at, heartbeat_at) VALUES ($2, $3, $4, {NOW}, {NOW})"
            " ON CONFLICT (owner) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at",
            self._t(), owner, host, pid,
        )

    async def workers(self) -> list[Worker]:
        """Every process that has a heartbeat row."""
        rows = await self._pool.fetch("SELECT owner, host, pid, started_at, heartbeat_at FROM workers ORDER BY owner")
        return [Worker(*row) for row in rows]

    async def retire(self, owner: str) -> None:
        """Forget a process that stopped cleanly."""
        await self._pool.execute("DELETE FROM workers WHERE owner = $1", owner)

    async def take_turn(self, key: str, *, spacing: float) -> None:
        """Wait under an advisory lock until `spacing` s after the key's last turn (any process's), take it.

        Real time (`clock_timestamp()`), whatever clock a test injected: the wait is a real one.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", TURN_NAMESPACE, key)
            wait = await conn.fetchval(
                "SELECT extract(epoch FROM taken_at - clock_timestamp())::float8 + $2 FROM turns WHERE key = $1",
                key, spacing,
            )
            if wait is not None and wait > 0:
                await asyncio.sleep(wait)  # holding the lock: the next process waits its own turn after ours
            await conn.execute(
                "INSERT INTO turns (key, taken_at) VALUES ($1, clock_timestamp())"
                " ON CONFLICT (key) DO UPDATE SET taken_at = EXCLUDED.taken_at",
                key,
            )

    # ---- reports and settings -------------------------------------------------------------------------------

    async def usage_by_member(self, guild_id: int, since: float) -> list[UsageRow]:
        """What each member used since `since`, per provider and action (jobs that counted, and failures), busiest
        first."""
        rows = await self._pool.fetch(
            f"SELECT user_id, provider, action, count(*) FILTER (WHERE state IN {_COUNTED}) AS n,"
            f" count(*) FILTER (WHERE {_FAILED}) FROM jobs WHERE guild_id = $1 AND created_at >= $2"
            " GROUP BY user_id, provider, action ORDER BY n DESC, user_id, provider, action",
            guild_id, since,
        )
        return [UsageRow(row[0], row[1], row[2], int(row[3]), int(row[4])) for row in rows]

    async def count_by_state(self) -> list[tuple[str, str, int]]:
        """(state, provider, jobs) over every job, for the metrics endpoint."""
        rows = await self._pool.fetch("SELECT state, provider, count(*) FROM jobs GROUP BY state, provider")
        return [(row[0], row[1], row[2]) for row in rows]

    async def check_writable(self) -> None:
        """Raise if the database cannot take writes (a read-only standby, or read-only transactions)."""
        read_only = await self._pool.fetchval(
            "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'"
        )
        if read_only:
            raise RuntimeError("the database is read-only")

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's settings, or the defaults."""
        return await guilds.read(self._pool, guild_id)

    async def change_guild_settings(self, guild_id: int, change: SettingsChange, *, by: int | None) -> GuildSettings:
        """Read, change and write under the guild's advisory lock: two admins' changes (in any processes) both
        stick."""
        async with self._pool.acquire() as conn, conn.transaction():
            now = float(await conn.fetchval(
                f"SELECT {NOW} FROM (SELECT pg_advisory_xact_lock($2, hashtext($3))) AS locked",
                self._t(), SETTINGS_NAMESPACE, str(guild_id),
            ))
            settings = change(await guilds.read(conn, guild_id))
            await guilds.write(conn, settings, now=now, by=by)
        return settings

    async def credit_alert_guilds(self) -> list[GuildSettings]:
        """Settings of every guild with a credit alert (a channel and a threshold)."""
        rows = await self._pool.fetch(
            f"{guilds.SELECT_SETTINGS} WHERE credit_alert_below IS NOT NULL AND alert_channel_id IS NOT NULL"
            " ORDER BY guild_id"
        )
        return [guilds.from_row(row) for row in rows]

    # ---- personas -------------------------------------------------------------------------------------------

    async def add_persona(self, persona: Persona) -> bool:
        """Insert the persona unless the guild has one of that name (one statement: `ON CONFLICT`)."""
        row = await self._pool.fetchrow(
            "INSERT INTO personas (guild_id, name, description, persona_id, root_clip_id, source_job_id, created_by,"
            f" created_at) VALUES ($2, $3, $4, $5, $6, $7, $8, {NOW}) ON CONFLICT (guild_id, name) DO NOTHING"
            " RETURNING id",
            self._t(), persona.guild_id, persona.name, persona.description, persona.persona_id,
            persona.root_clip_id, persona.source_job_id, persona.created_by,
        )
        return row is not None

    async def personas(self, guild_id: int) -> list[Persona]:
        """The guild's personas, by name regardless of case (as SQLite's NOCASE sorts them)."""
        rows = await self._pool.fetch(
            "SELECT guild_id, name, description, persona_id, root_clip_id, created_by, source_job_id FROM personas"
            ' WHERE guild_id = $1 ORDER BY lower(name) COLLATE "C", name COLLATE "C", id',
            guild_id,
        )
        return [Persona(*row) for row in rows]

    async def remove_persona(self, guild_id: int, name: str) -> bool:
        """Delete the guild's persona of that name (case-insensitive)."""
        rows = await self._pool.fetch(
            "DELETE FROM personas WHERE guild_id = $1 AND lower(name) = lower($2) RETURNING id", guild_id, name
        )
        return bool(rows)
