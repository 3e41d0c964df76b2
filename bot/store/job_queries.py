"""JobStore on SQLAlchemy Core: one set of queries for SQLite and PostgreSQL.

Every statement is built from `schema`'s tables; what the two backends do differently (the clock, locks, upserts,
whether other processes share the rows) comes from the `Backend` in `dialects.py`. How the promises hold:
- a check and the write it guards (limits and the insert of a job, a settings change) run in one transaction that
  holds the write lock (SQLite) or the guild's advisory lock (PostgreSQL), so two requests cannot both slip through;
- a move of a job's state is one guarded UPDATE: it happens only from a state that leads there (`TRANSITIONS`);
- claims (deliveries, and polls on a shared database) are guarded UPDATEs too; a shared database hands each process
  its share of the polls with `FOR UPDATE SKIP LOCKED`, so processes claiming at once never get each other's rows.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import statistics
import time
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any, TypeAlias

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

from bot.domain.job_records import (
    COUNTED,
    DELIVERABLE,
    IN_FLIGHT,
    INTERRUPTED_SUBMIT,
    MAY_HAVE_STARTED,
    Admit,
    DeliveryHold,
    GuildSettings,
    IllegalTransitionError,
    Job,
    JobState,
    JobUpdate,
    NewJob,
    PendingJob,
    Persona,
    Requester,
    SettingsChange,
    Usage,
    UsageRow,
    Worker,
    sources_of,
    utc_day_start,
)
from bot.store.database import Database
from bot.store.dialects import ADMIT, SETTINGS, TURN
from bot.store.schema import guild_settings, is_one_of, jobs, personas, turns, workers

from .community_queries import JOB, CommunityQueries, columns_of

log = logging.getLogger(__name__)

Row: TypeAlias = "sa.Row[*tuple[Any, ...]]"

PENDING = columns_of(jobs, PendingJob)
SETTINGS_COLUMNS = columns_of(guild_settings, GuildSettings)
LIVE = ("submitting", "queued", "running")
# The reads of every command, built once (building and keying a statement costs more than running it on SQLite).
JOB_BY_ID = sa.select(*JOB).where(jobs.c.id == sa.bindparam("job_id"))
SETTINGS_OF_GUILD = sa.select(*SETTINGS_COLUMNS).where(guild_settings.c.guild_id == sa.bindparam("guild_id"))
# A draft refused by a limit (submit_failed, with this error) is no failure.
REFUSED_BY_LIMIT = "not started because of a limit%"


def job_of(row: Row | None) -> Job | None:
    """A Job from a row of the JOB columns, or None."""
    return Job.from_row(row._mapping) if row is not None else None


def settings_of(row: Row) -> GuildSettings:
    """GuildSettings from a row of the SETTINGS_COLUMNS."""
    values = dict(row._mapping)
    values["allowed_channels"] = frozenset(values["allowed_channels"] or ())
    for flag in ("suno_enabled", "udio_enabled", "voice_enabled"):  # SQLite hands back 0/1
        values[flag] = bool(values[flag])
    return GuildSettings(**values)


class SqlStore(CommunityQueries):
    """JobStore (and, through CommunityQueries, CommunityStore) on either backend."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._b = db.backend
        # take_turn on SQLite: one process per file, so the turns live in memory (on the monotonic clock).
        self._turn_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._turns: dict[str, float] = {}
        self._apply_statements: dict[JobState, SQLCompiler] = {}
        # claim_polls on SQLite: when each in-flight job was last handed out (one process: memory is the truth).
        self._handed: dict[int, float] = {}

    async def close(self) -> None:
        """Close every connection."""
        await self._db.close()

    async def clock(self) -> float:
        """The store's time (the database's on PostgreSQL)."""
        return await self._db.clock()

    # ---- helpers shared with the community queries ------------------------------------------------------------

    # Reads are read again when a database restart cuts them off (Database.read).

    async def _rows(self, statement: sa.Executable, params: dict[str, Any] | None = None) -> list[Row]:
        async def read(conn: AsyncConnection) -> list[Row]:
            return list((await conn.execute(statement, params)).all())

        return await self._db.read(read)

    async def _row(self, statement: sa.Executable, params: dict[str, Any] | None = None) -> Row | None:
        async def read(conn: AsyncConnection) -> Row | None:
            return (await conn.execute(statement, params)).first()

        return await self._db.read(read)

    async def _scalar(self, statement: sa.Executable) -> Any:
        async def read(conn: AsyncConnection) -> Any:
            return (await conn.execute(statement)).scalar()

        return await self._db.read(read)

    async def _write(self, statement: sa.Executable) -> Row | None:
        """Run one write in its own transaction; its first returned row (None if it touched nothing)."""
        async with self._db.transaction() as conn:
            result = await conn.execute(statement)
            return result.first() if result.returns_rows else None

    async def _write_once(self, statement: sa.Executable) -> Row | None:
        """`_write`, riding out a database restart that cuts it off: written again unless it committed
        (Database.run_once), so it takes effect once."""
        async def write(conn: AsyncConnection) -> Row | None:
            result = await conn.execute(statement)
            return result.first() if result.returns_rows else None

        return await self._db.run_once(write)

    async def _jobs(self, statement: sa.Executable) -> list[Job]:
        return [Job.from_row(row._mapping) for row in await self._rows(statement)]

    async def _now_value(self, conn: AsyncConnection) -> float:
        """The store's time as a number, inside a transaction (PostgreSQL: the transaction's start)."""
        local = self._b.local_now()
        if local is not None:
            return local
        return float((await conn.execute(sa.select(self._b.now()))).scalar_one())

    # ---- jobs ---------------------------------------------------------------------------------------------------

    async def create(self, new: NewJob, admit: Admit | None = None, *, owner: str | None = None) -> Job:
        """Record the job as `submitting`; with `admit`, judge usage in the same transaction, under the write lock
        (SQLite) or this guild's and the bot-wide advisory locks (PostgreSQL). A database restart that cuts the
        transaction off is ridden out, and the job is recorded once (Database.run_once)."""
        who = new.requester

        async def record(conn: AsyncConnection) -> Row:
            now = await self._now_value(conn)
            if admit is not None:
                # Guild first, then bot-wide, always in this order (no deadlock): the guild lock covers the member's
                # and the server's limits, the bot-wide one MAX_JOBS_IN_FLIGHT.
                await self._b.lock(conn, ADMIT, f"guild:{who.guild_id}", "bot")
                admit(await self._usage(conn, who, now), now)
            return (await conn.execute(
                sa.insert(jobs).values(
                    user_id=who.user_id, guild_id=who.guild_id, channel_id=who.channel_id,
                    interaction_token=who.interaction_token, interaction_expires_at=who.interaction_expires_at,
                    provider=new.provider, action=new.action, kind=new.kind, parent_job_id=new.parent_job_id,
                    params=new.params, state="submitting", created_at=now, updated_at=now, submit_owner=owner,
                    cost=new.cost,
                ).returning(*JOB)
            )).one()

        return Job.from_row((await self._db.run_once(record))._mapping)

    async def _usage(self, conn: AsyncConnection, who: Requester, now: float) -> Usage:
        row = (await conn.execute(USAGE, {"guild": who.guild_id, "member": who.user_id, "day": utc_day_start(now)}))
        return Usage(**row.one()._mapping)

    async def _move(self, job_id: int, target: JobState, **values: Any) -> Job:
        now = self._b.now()
        values = {name: now if value is _NOW else value for name, value in values.items()}
        # Once, through a database restart: a submit's outcome (its task id above all) must not be lost to one.
        job = job_of(await self._write_once(
            sa.update(jobs).where(jobs.c.id == job_id, is_one_of(jobs.c.state, sources_of(target)))
            .values(state=target, updated_at=now, **values).returning(*JOB)
        ))
        if job is None:
            current = await self.get(job_id)
            raise IllegalTransitionError(
                f"job {job_id} cannot move to {target} from {current.state if current else 'nowhere (no such job)'}"
            )
        return job

    async def mark_submitted(self, job_id: int, task_id: str) -> Job:
        """CometAPI accepted the job: store its task id (state `queued`)."""
        return await self._move(job_id, "queued", task_id=task_id, submitted_at=_NOW)

    async def mark_submitted_after_recovery(self, job_id: int, task_id: str) -> Job | None:
        """Take back a submit that crash recovery failed as interrupted (another process took this one for dead)
        when its task id arrives after all: queued, so the paid song is followed and posted, and the "may have
        started" notice is dropped. Only while that notice is not yet being posted; None otherwise."""
        return job_of(await self._write_once(
            sa.update(jobs).where(jobs.c.id == job_id, jobs.c.state == "submit_failed",
                                  jobs.c.error == INTERRUPTED_SUBMIT, is_one_of(jobs.c.delivery, ("none", "pending")))
            .values(state="queued", task_id=task_id, submitted_at=self._b.now(), updated_at=self._b.now(),
                    error=None, finished_at=None, delivery="none")
            .returning(*JOB)
        ))

    async def mark_submit_failed(self, job_id: int, error: str, *, notify: bool = False) -> Job:
        """The submit failed or was refused; with `notify`, queue the notice for delivery."""
        extra = {"delivery": "pending"} if notify else {}
        return await self._move(job_id, "submit_failed", error=error, finished_at=_NOW, **extra)

    async def request_cancel(self, job_id: int) -> Job | None:
        """Mark a job the member cancelled (it keeps running on CometAPI); None if it is finished or already
        cancelled."""
        now = self._b.now()
        return job_of(await self._write(
            sa.update(jobs)
            .where(jobs.c.id == job_id, is_one_of(jobs.c.state, LIVE), jobs.c.cancel_requested_at.is_(None))
            .values(cancel_requested_at=now, updated_at=now).returning(*JOB)
        ))

    async def set_status_message(self, job_id: int, channel_id: int, message_id: int) -> None:
        """Remember the message that shows this job's progress."""
        await self._write(
            sa.update(jobs).where(jobs.c.id == job_id, jobs.c.channel_id == channel_id)
            .values(status_message_id=message_id, updated_at=self._b.now())
        )

    async def get(self, job_id: int) -> Job | None:
        """One job by its id, or None."""
        return job_of(await self._row(JOB_BY_ID, {"job_id": job_id}))

    async def recent_for_user(self, user_id: int, *, guild_id: int | None = None, limit: int = 10) -> list[Job]:
        """A member's newest jobs (in one guild, when given), without the requests a limit refused: those are kept
        only for their Try again button, never started, and would crowd out the member's songs."""
        where = [jobs.c.user_id == user_id, ~REFUSED_DRAFT]
        where += [jobs.c.guild_id == guild_id] if guild_id is not None else []
        return await self._jobs(
            sa.select(*JOB).where(*where).order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit)
        )

    async def delivered_for_user(
        self, user_id: int, *, guild_id: int | None, offset: int, limit: int
    ) -> tuple[list[Job], int]:
        """A member's delivered songs in a guild, newest first, one page, with the total count."""
        where = (jobs.c.user_id == user_id, jobs.c.guild_id.is_not_distinct_from(guild_id),
                 jobs.c.delivery == "delivered", jobs.c.state == "succeeded")
        total = await self._scalar(sa.select(sa.func.count()).where(*where))
        page = await self._jobs(
            sa.select(*JOB).where(*where).order_by(jobs.c.delivered_at.desc().nulls_last(), jobs.c.id.desc())
            .limit(limit).offset(offset)
        )
        return page, int(total)

    # ---- polling ------------------------------------------------------------------------------------------------

    async def in_flight(self) -> list[PendingJob]:
        """Every job CometAPI is still working on, oldest first, with only the columns the poller needs."""
        rows = await self._rows(sa.select(*PENDING).where(is_one_of(jobs.c.state, IN_FLIGHT)).order_by(jobs.c.id))
        return [PendingJob(**row._mapping) for row in rows]

    async def typical_duration(
        self, provider: str, action: str, model: str | None, *, sample: int = 20
    ) -> float | None:
        """Median submit → finish time of the last `sample` succeeded jobs of this provider, action and model."""
        took = jobs.c.finished_at - jobs.c.submitted_at
        query = sa.select(took).where(
            jobs.c.state == "succeeded", jobs.c.provider == provider, jobs.c.action == action,
            jobs.c.kind != "concat", jobs.c.submitted_at.is_not(None), jobs.c.finished_at.is_not(None),
        )
        if model is not None:
            query = query.where(self._b.json_text(jobs.c.params, "model_type" if provider == "udio" else "mv") == model)
        rows = await self._rows(query.order_by(jobs.c.finished_at.desc()).limit(sample))
        durations = [row[0] for row in rows if row[0] is not None and row[0] >= 0]
        return statistics.median(durations) if durations else None

    async def queue_position(self, job_id: int) -> int:
        """1 + the bot's queued jobs of the same provider submitted before this one."""
        me = jobs.alias("me")
        ahead = await self._scalar(
            sa.select(sa.func.count()).select_from(jobs).join(me, me.c.id == job_id)
            .where(jobs.c.state == "queued", jobs.c.provider == me.c.provider, jobs.c.id < me.c.id)
        )
        return 1 + int(ahead or 0)

    def _upload_stage(self) -> sa.ColumnElement[bool]:
        """A cover's upload stage: not posted when it finishes (the cover is sent next)."""
        return sa.and_(jobs.c.kind == "cover", self._b.json_text(jobs.c.params, "stage") == "upload")

    async def uploads_ready(self) -> list[Job]:
        """Covers whose upload stage finished (they were not queued for delivery)."""
        return await self._jobs(
            sa.select(*JOB).where(self._upload_stage(), jobs.c.state == "succeeded", jobs.c.delivery == "none")
            .order_by(jobs.c.id)
        )

    async def restage(
        self, job_id: int, *, task_id: str, params: dict[str, Any], owner: str | None = None
    ) -> Job | None:
        """Back to `submitting` for the next stage, guarded by the finished stage's task id (one process wins)."""
        return job_of(await self._write(
            sa.update(jobs).where(jobs.c.id == job_id, jobs.c.task_id == task_id, jobs.c.state == "succeeded",
                                  jobs.c.delivery == "none")
            .values(state="submitting", task_id=None, params=params, result=None, progress=None, submitted_at=None,
                    finished_at=None, updated_at=self._b.now(), submit_owner=owner)
            .returning(*JOB)
        ))

    async def claim_polls(
        self, owner: str, *, every: float, peers_within: float, dead_owners: Collection[str] = (), batch: int = 1
    ) -> list[PendingJob]:
        """This process's share of the in-flight jobs not handed to anyone in the last `every` seconds, oldest first.

        So a cycle woken early (by a submit) fetches only what is new, and the steady state stays at one fetch per
        job per interval. On SQLite (one process) the share is every such job, remembered in memory (nothing is
        written). On a shared database each process claims, per provider and action, whole batches of `batch` jobs:
        ⌈⌈in flight ÷ batch⌉ ÷ live processes⌉ of them (a process known dead no longer counts), so only one process
        pays for a partial batch; least recently polled first, skipping rows another process is claiming at this
        instant (`SKIP LOCKED`), never waiting for them or taking them twice.
        """
        if not self._b.shared:
            return self._hand_out(await self.in_flight(), every)
        now = self._b.now()
        group = (jobs.c.provider, jobs.c.action)
        async with self._db.transaction() as conn:
            peers = (await conn.execute(sa.select(sa.func.count()).select_from(workers).where(
                workers.c.heartbeat_at >= now - peers_within, self._b.not_among(workers.c.owner, dead_owners)
            ))).scalar_one()
            sizes = (await conn.execute(
                sa.select(*group, sa.func.count()).where(is_one_of(jobs.c.state, IN_FLIGHT)).group_by(*group)
            )).all()
            rows: list[Row] = []
            for provider, action, size in sizes:
                share = math.ceil(math.ceil(size / batch) / max(peers, 1)) * batch
                mine = sa.and_(is_one_of(jobs.c.state, IN_FLIGHT), jobs.c.provider == provider, jobs.c.action == action)
                rows += await self._claim(conn, mine, owner, every, limit=share)
        return sorted((PendingJob(**row._mapping) for row in rows), key=lambda job: job.id)

    def _hand_out(self, in_flight: list[PendingJob], every: float) -> list[PendingJob]:
        """SQLite's claim: the jobs not handed out in the last `every` s, remembered for the jobs still in flight."""
        now = self._b.local_now() or 0.0
        handed = {job.id: self._handed[job.id] for job in in_flight if job.id in self._handed}
        due = [job for job in in_flight if handed.get(job.id, -math.inf) <= now - every]
        handed.update((job.id, now) for job in due)
        self._handed = handed
        return due

    async def _claim(
        self, conn: AsyncConnection, where: sa.ColumnElement[bool], owner: str, every: float, *, limit: int | None
    ) -> list[Row]:
        """Hand the due rows matching `where` (none handed out in the last `every` s) to `owner` (shared only).

        Due is judged on the transaction's start (the earliest "now" it can mean), the stamp is the time of the
        statement that hands the rows out: a claim held up between its statements (a busy process) must not make
        its rows look polled earlier than their fetch, or another process takes them again within the interval."""
        due = (
            sa.select(jobs.c.id)
            .where(where, sa.or_(jobs.c.polled_at.is_(None), jobs.c.polled_at <= self._b.now() - every))
            .order_by(jobs.c.polled_at.asc().nulls_first(), jobs.c.id).limit(limit)
            .with_for_update(skip_locked=True).cte("due")
        )
        return list((await conn.execute(
            sa.update(jobs).where(jobs.c.id == due.c.id).values(polled_at=self._b.statement_now(), poll_owner=owner)
            .returning(*PENDING)
        )).all())

    async def overdue(self, *, since: float, owner: str | None = None, every: float = 0.0) -> list[PendingJob]:
        """Timed-out jobs given up on since `since`, oldest first; on a shared database with `owner`, only (and
        claiming) those no process was handed in the last `every` seconds, so late polls are not repeated by every
        process."""
        where = sa.and_(jobs.c.state == "timed_out", jobs.c.task_id.is_not(None), jobs.c.finished_at >= since)
        if owner is None or not self._b.shared:
            rows = await self._rows(sa.select(*PENDING).where(where).order_by(jobs.c.id))
        else:
            async with self._db.transaction() as conn:
                rows = await self._claim(conn, where, owner, every, limit=None)
        return sorted((PendingJob(**row._mapping) for row in rows), key=lambda job: job.id)

    async def apply(self, updates: Sequence[JobUpdate]) -> list[int]:
        """Apply the legal updates in one transaction (one executemany per target state); return the ids that
        changed."""
        if not updates:
            return []
        by_target: dict[JobState, list[JobUpdate]] = defaultdict(list)
        for update in updates:
            by_target[update.state].append(update)
        changed: list[int] = []
        async with self._db.transaction() as conn:
            # The database's clock on PostgreSQL (the transaction's start: the same in every statement of it), else a
            # value bound once for the whole transaction.
            local = self._b.local_now() if not self._b.shared or self._b.injected_clock else None
            now = self._b.now() if local is None else sa.bindparam("u_now", type_=sa.Double())
            for target, group in by_target.items():
                statement = self._apply_statements.get(target) or self._compile_apply(conn, target, now)
                rows = [{"u_id": u.job_id, "u_progress": u.progress, "u_error": u.error, "u_now": local,
                         "u_result": json.dumps(u.result) if u.result is not None else None} for u in group]
                if await executemany(conn, statement, rows) == len(group):
                    changed.extend(update.job_id for update in group)
                    continue
                # Some moves were illegal and skipped (or the driver does not count): what moved carries this time.
                ids = [update.job_id for update in group]
                for chunk in self._b.ids_in(jobs.c.id, ids):
                    moved = await conn.execute(sa.select(jobs.c.id).where(
                        chunk, is_one_of(jobs.c.state, (target, "cancelled")), jobs.c.updated_at == now
                    ), {"u_now": local})
                    changed.extend(moved.scalars())
        return changed

    def _compile_apply(self, conn: AsyncConnection, target: JobState, now: sa.ColumnElement[float]) -> SQLCompiler:
        compiled = self._apply_statement(target, now).compile(dialect=conn.dialect)
        self._apply_statements[target] = compiled
        return compiled

    def _apply_statement(self, target: JobState, now: sa.ColumnElement[float]) -> sa.Update:
        finished = target in DELIVERABLE or target == "cancelled"
        values: dict[str, Any] = {
            "state": target,
            "progress": sa.func.coalesce(sa.bindparam("u_progress", type_=sa.Integer), jobs.c.progress),
            # Serialised by `apply` (its rows bypass SQLAlchemy's parameter processing): jsonb reads text.
            "result": sa.func.coalesce(sa.cast(sa.bindparam("u_result", type_=sa.Text), jobs.c.result.type),
                                       jobs.c.result),
            "error": sa.func.coalesce(sa.bindparam("u_error", type_=sa.Text), jobs.c.error),
            "updated_at": now,
            "finished_at": now if finished else jobs.c.finished_at,
        }
        if target in DELIVERABLE:
            cancelled = jobs.c.cancel_requested_at.is_not(None)
            # A job a member cancelled is never posted; once CometAPI is done with it, it is `cancelled` (or `failed`,
            # which CometAPI refunds, so it stops counting).
            if target != "failed":
                values["state"] = sa.case((cancelled, "cancelled"), else_=target)
            # A late failure is not announced again (the member was told of the time-out), and a cover's finished
            # upload stage is not posted (the cover is sent next: uploads_ready).
            unchanged: list[sa.ColumnElement[bool]] = [cancelled]
            if target == "failed":
                unchanged.append(jobs.c.state == "timed_out")
            if target == "succeeded":
                unchanged.append(self._upload_stage())
            values["delivery"] = sa.case((sa.or_(*unchanged), jobs.c.delivery), else_="pending")
            if target == "succeeded":
                was_late = jobs.c.state == "timed_out"
                values["late"] = sa.case((was_late, sa.true()), else_=jobs.c.late)
                values["delivery_attempts"] = sa.case((was_late, 0), else_=jobs.c.delivery_attempts)
        return (
            sa.update(jobs).where(jobs.c.id == sa.bindparam("u_id"), is_one_of(jobs.c.state, sources_of(target)))
            .values(**values)
        )

    async def recover_interrupted_submits(
        self,
        older_than: float,
        *,
        exclude: Collection[int] = (),
        owner: str | None = None,
        dead_owners: Collection[str] = (),
    ) -> list[int]:
        """Fail jobs left in `submitting` by a crash of this process or of one that is gone, and queue a notice; a
        submit under way in another live process is never touched."""
        now = self._b.now()
        ours_or_orphaned = sa.or_(jobs.c.submit_owner.is_(None), jobs.c.submit_owner == owner,
                                  jobs.c.submit_owner.not_in(sa.select(workers.c.owner)))
        async with self._db.transaction() as conn:
            result = await conn.execute(
                sa.update(jobs).where(jobs.c.state == "submitting", sa.or_(
                    sa.and_(jobs.c.created_at < older_than, jobs.c.id.not_in(list(exclude)), ours_or_orphaned),
                    # A dead owner is submitting nothing any more: its jobs are failed at once, without the grace.
                    jobs.c.submit_owner.in_(sorted(dead_owners)),
                ))
                .values(state="submit_failed", error=INTERRUPTED_SUBMIT, delivery="pending", updated_at=now,
                        finished_at=now)
                .returning(jobs.c.id)
            )
            ids = sorted(result.scalars())
        if ids:
            log.warning("marked %d job(s) interrupted mid-submit: %s", len(ids), ids)
        return ids

    # ---- delivery -----------------------------------------------------------------------------------------------

    def _claimable(self, lease_seconds: float, dead_owners: Collection[str]) -> sa.ColumnElement[bool]:
        """Pending, or claimed by an owner whose lease ran out or who is gone (no heartbeat row, or known dead)."""
        stale = sa.or_(
            jobs.c.delivery_claimed_at < self._b.now() - lease_seconds,
            jobs.c.delivery_owner.is_(None),
            jobs.c.delivery_owner.not_in(sa.select(workers.c.owner)),
            jobs.c.delivery_owner.in_(sorted(dead_owners)),
        )
        pending, claimed = is_one_of(jobs.c.delivery, ("pending",)), is_one_of(jobs.c.delivery, ("claimed",))
        due = sa.or_(jobs.c.delivery_not_before.is_(None), jobs.c.delivery_not_before <= self._b.now())
        return sa.or_(sa.and_(pending, due), sa.and_(claimed, stale))

    async def deliverable(
        self, *, lease_seconds: float, dead_owners: Collection[str] = (), limit: int = 100
    ) -> list[Job]:
        """Finished jobs not yet delivered, including claims whose lease ran out or whose owner is gone."""
        return await self._jobs(
            sa.select(*JOB).where(self._claimable(lease_seconds, dead_owners))
            .order_by(jobs.c.finished_at.asc().nulls_first(), jobs.c.id).limit(limit)
        )

    async def claim_delivery(
        self, job_id: int, *, owner: str, lease_seconds: float, dead_owners: Collection[str] = ()
    ) -> Job | None:
        """Atomically claim a job for delivery; None if a live owner holds it or it is delivered."""
        return job_of(await self._write(
            sa.update(jobs).where(jobs.c.id == job_id, self._claimable(lease_seconds, dead_owners))
            .values(delivery="claimed", delivery_owner=owner, delivery_claimed_at=self._b.now(),
                    delivery_attempts=jobs.c.delivery_attempts + 1)
            .returning(*JOB)
        ))

    def _held_by(self, job_id: int, owner: str) -> sa.ColumnElement[bool]:
        return sa.and_(jobs.c.id == job_id, jobs.c.delivery == "claimed", jobs.c.delivery_owner == owner)

    async def renew_claim(self, job_id: int, *, owner: str) -> bool:
        """Extend the lease of a claim this owner holds; False if the claim was lost."""
        return await self._write(
            sa.update(jobs).where(self._held_by(job_id, owner))
            .values(delivery_claimed_at=self._b.now()).returning(jobs.c.id)
        ) is not None

    async def mark_delivered(
        self, job_id: int, channel_id: int, message_id: int, *, owner: str, note: str | None = None
    ) -> bool:
        """Record the delivered message; False if the claim had been lost to another owner."""
        now = self._b.now()
        return await self._write(
            sa.update(jobs).where(self._held_by(job_id, owner))
            .values(delivery="delivered", delivered_at=now, delivered_channel_id=channel_id,
                    delivered_message_id=message_id, delivery_error=note, updated_at=now)
            .returning(jobs.c.id)
        ) is not None

    async def release_delivery(self, job_id: int, error: str, *, owner: str, give_up: bool, retry_in: float = 0.0,
                               hold: DeliveryHold = "job") -> None:
        """Release a failed delivery's claim to retry in `retry_in` s (no process tries it sooner; with `hold`
        "channel", the songs waiting in its channel neither), or give up and record why (only the owner may)."""
        until = self._b.now() + retry_in
        async with self._db.transaction() as conn:
            released = (await conn.execute(
                sa.update(jobs).where(self._held_by(job_id, owner))
                .values(delivery="abandoned" if give_up else "pending", delivery_error=error, delivery_claimed_at=None,
                        delivery_owner=None, updated_at=self._b.now(), delivery_not_before=None if give_up else until)
                .returning(jobs.c.channel_id)
            )).first()
            if released is None or give_up or hold == "job":
                return
            await conn.execute(sa.update(jobs).where(
                jobs.c.delivery == "pending", jobs.c.channel_id == released.channel_id,
                sa.or_(jobs.c.delivery_not_before.is_(None), jobs.c.delivery_not_before < until),
            ).values(delivery_not_before=until))

    # ---- processes ----------------------------------------------------------------------------------------------

    async def beat(self, owner: str, *, host: str, pid: int) -> None:
        """Say this process is alive (registering it on its first beat)."""
        now = self._b.now()
        insert = self._b.insert(workers).values(owner=owner, host=host, pid=pid, started_at=now, heartbeat_at=now)
        await self._write(insert.on_conflict_do_update(
            index_elements=[workers.c.owner], set_={"heartbeat_at": insert.excluded.heartbeat_at}
        ))

    async def workers(self) -> list[Worker]:
        """Every process that has a heartbeat row."""
        return [Worker(**row._mapping) for row in await self._rows(sa.select(workers).order_by(workers.c.owner))]

    async def retire(self, owner: str) -> None:
        """Forget a process that stopped cleanly."""
        await self._write(sa.delete(workers).where(workers.c.owner == owner))

    async def forget_silent_workers(self, *, silent_for: float) -> list[str]:
        """Delete the rows of processes whose last heartbeat is older than `silent_for` seconds (they crashed long
        ago: their claims are free and their submits recovered once their row is gone), and name them."""
        async with self._db.transaction() as conn:
            result = await conn.execute(
                sa.delete(workers).where(workers.c.heartbeat_at < self._b.now() - silent_for).returning(workers.c.owner)
            )
            return sorted(result.scalars())

    async def forget_refused_drafts(self, *, older_than: float) -> int:
        """Delete the requests a limit refused (kept for Try again) more than `older_than` seconds old, unless another
        job refers to them; return how many went."""
        referring = jobs.alias("referring")
        async with self._db.transaction() as conn:
            result = await conn.execute(sa.delete(jobs).where(
                REFUSED_DRAFT, jobs.c.created_at < self._b.now() - older_than,
                ~sa.exists().where(referring.c.parent_job_id == jobs.c.id),
            ).returning(jobs.c.id))
            return len(result.all())

    async def take_turn(self, key: str, *, spacing: float) -> None:
        """Wait until `spacing` s after the key's last turn (any process's), then take it; on real time, whatever
        clock a test injected: the wait is a real one."""
        if not self._b.shared:  # one process: the turns live in memory
            async with self._turn_locks[key]:
                last = self._turns.get(key)
                if last is not None:
                    await asyncio.sleep(max(0.0, last + spacing - time.monotonic()))
                self._turns[key] = time.monotonic()
            return
        async with self._db.transaction() as conn:
            await self._b.lock(conn, TURN, key)  # held while waiting: the next process waits its turn after ours
            wait = (await conn.execute(
                sa.select(sa.extract("epoch", turns.c.taken_at - sa.func.clock_timestamp()) + spacing)
                .where(turns.c.key == key)
            )).scalar()
            if wait is not None and wait > 0:
                await asyncio.sleep(float(wait))
            insert = self._b.insert(turns).values(key=key, taken_at=sa.func.clock_timestamp())
            await conn.execute(insert.on_conflict_do_update(
                index_elements=[turns.c.key], set_={"taken_at": insert.excluded.taken_at}
            ))

    async def hold_off(self, key: str, seconds: float) -> None:
        """No process should do `key` for `seconds` from now (a longer hold already set stays); on real time, as the
        other side counts its Retry-After."""
        if not self._b.shared:  # one process: its own loop keeps the wait (on its own timer)
            return
        until = sa.func.clock_timestamp() + sa.func.make_interval(0, 0, 0, 0, 0, 0, seconds)
        insert = self._b.insert(turns).values(key=key, taken_at=until)
        later = sa.func.greatest(turns.c.taken_at, insert.excluded.taken_at)
        await self._write(insert.on_conflict_do_update(index_elements=[turns.c.key], set_={"taken_at": later}))

    async def held_for(self, key: str) -> float:
        """Seconds left of `key`'s hold, 0.0 when there is none (or it is over; always on SQLite: one process)."""
        if not self._b.shared:
            return 0.0
        left = await self._scalar(
            sa.select(sa.extract("epoch", turns.c.taken_at - sa.func.clock_timestamp())).where(turns.c.key == key)
        )
        return max(0.0, float(left)) if left is not None else 0.0

    # ---- reports and settings -----------------------------------------------------------------------------------

    async def usage_by_member(self, guild_id: int, since: float) -> list[UsageRow]:
        """What each member used since `since`, per provider and action (jobs that counted, and failures), busiest
        first."""
        spent = sa.func.sum(jobs.c.cost).filter(COUNTED_JOB)
        counted = sa.func.coalesce(spent, 0).label("counted")
        failed = sa.func.count().filter(sa.or_(
            jobs.c.state == "failed", sa.and_(jobs.c.state == "submit_failed", ~REFUSED_DRAFT, ~COUNTED_JOB)
        ))
        rows = await self._rows(
            sa.select(jobs.c.user_id, jobs.c.provider, jobs.c.action, counted, failed)
            .where(jobs.c.guild_id == guild_id, jobs.c.created_at >= since)
            .group_by(jobs.c.user_id, jobs.c.provider, jobs.c.action)
            .order_by(counted.desc(), jobs.c.user_id, jobs.c.provider, jobs.c.action)
        )
        return [UsageRow(row[0], row[1], row[2], int(row[3]), int(row[4])) for row in rows]

    async def count_by_state(self) -> list[tuple[str, str, int]]:
        """(state, provider, jobs) over every job, for the metrics endpoint."""
        rows = await self._rows(
            sa.select(jobs.c.state, jobs.c.provider, sa.func.count()).group_by(jobs.c.state, jobs.c.provider)
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def check_writable(self) -> None:
        """Raise if the database cannot take writes (SQLite: take the write lock; PostgreSQL: not a read-only
        standby or session)."""
        if not self._b.shared:
            async with self._db.transaction():
                return
        read_only = await self._scalar(sa.select(
            sa.func.pg_is_in_recovery() | (sa.func.current_setting("transaction_read_only") == "on")
        ))
        if read_only:
            raise RuntimeError("the database is read-only")

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's settings, or the defaults."""
        row = await self._row(SETTINGS_OF_GUILD, {"guild_id": guild_id})
        return settings_of(row) if row is not None else GuildSettings(guild_id)

    async def change_guild_settings(self, guild_id: int, change: SettingsChange, *, by: int | None) -> GuildSettings:
        """Read, change and write in one transaction, under the guild's lock: two admins' changes (in any
        processes) both stick."""
        async with self._db.transaction() as conn:
            await self._b.lock(conn, SETTINGS, guild_id)
            row = (await conn.execute(
                sa.select(*SETTINGS_COLUMNS).where(guild_settings.c.guild_id == guild_id)
            )).first()
            settings = change(settings_of(row) if row is not None else GuildSettings(guild_id))
            values = {field.name: getattr(settings, field.name) for field in dataclasses.fields(settings)}
            values["allowed_channels"] = sorted(settings.allowed_channels)
            insert = self._b.insert(guild_settings).values(
                **values, updated_at=await self._now_value(conn), updated_by=by
            )
            await conn.execute(insert.on_conflict_do_update(
                index_elements=[guild_settings.c.guild_id],
                set_={name: insert.excluded[name] for name in values if name != "guild_id"}
                | {"updated_at": insert.excluded.updated_at, "updated_by": insert.excluded.updated_by},
            ))
        return settings

    async def credit_alert_guilds(self) -> list[GuildSettings]:
        """Settings of every guild with a credit alert (a channel and a threshold)."""
        rows = await self._rows(
            sa.select(*SETTINGS_COLUMNS).where(guild_settings.c.credit_alert_below.is_not(None),
                                               guild_settings.c.alert_channel_id.is_not(None))
            .order_by(guild_settings.c.guild_id)
        )
        return [settings_of(row) for row in rows]

    # ---- personas -----------------------------------------------------------------------------------------------

    async def add_persona(self, persona: Persona) -> bool:
        """Insert the persona unless the guild has one of that name, regardless of case (one statement)."""
        values = dataclasses.asdict(persona)
        return await self._write(
            self._b.insert(personas).values(**values, created_at=self._b.now())
            .on_conflict_do_nothing().returning(personas.c.id)
        ) is not None

    async def personas(self, guild_id: int) -> list[Persona]:
        """The guild's personas, by name regardless of case (then byte order, the same on both backends)."""
        binary = self._b.binary_collation
        rows = await self._rows(
            sa.select(*columns_of(personas, Persona)).where(personas.c.guild_id == guild_id).order_by(
                sa.collate(sa.func.lower(personas.c.name), binary), sa.collate(personas.c.name, binary), personas.c.id
            )
        )
        return [Persona(**row._mapping) for row in rows]

    async def remove_persona(self, guild_id: int, name: str) -> bool:
        """Delete the guild's persona of that name (regardless of case)."""
        return await self._write(
            sa.delete(personas).where(personas.c.guild_id == guild_id,
                                      sa.func.lower(personas.c.name) == sa.func.lower(name))
            .returning(personas.c.id)
        ) is not None


_NOW = object()  # in `_move`'s values: the store's time


# A job that counts against the limits: it reached, or may have reached, CometAPI (which charges for it).
COUNTED_JOB = sa.or_(is_one_of(jobs.c.state, COUNTED),
                     sa.and_(jobs.c.state == "submit_failed", jobs.c.error.in_(sorted(MAY_HAVE_STARTED))))
# A request a limit refused: recorded as never started (no charge), kept only so Try again can send it.
REFUSED_DRAFT = sa.and_(jobs.c.state == "submit_failed", sa.func.coalesce(jobs.c.error, "").ilike(REFUSED_BY_LIMIT))


def _usage_statement() -> sa.Select[Any]:
    """What admission judges, in one statement (one round trip inside the admitting transaction): jobs in progress
    bot-wide, in the guild and the member's; songs counted today in the guild and the member's (in songs, not jobs);
    when the member last asked for one. Built once: binds `guild`, `member` and `day`."""
    in_guild = jobs.c.guild_id.is_not_distinct_from(sa.bindparam("guild", type_=sa.BigInteger))
    mine = sa.and_(in_guild, jobs.c.user_id == sa.bindparam("member", type_=sa.BigInteger))
    live, count = is_one_of(jobs.c.state, LIVE), sa.func.count

    def spent(*where: sa.ColumnElement[bool]) -> sa.ScalarSelect[Any]:
        return sa.select(sa.func.coalesce(sa.func.sum(jobs.c.cost), 0)).where(
            *where, jobs.c.created_at >= sa.bindparam("day", type_=sa.Double), jobs.c.action == "MUSIC", COUNTED_JOB
        ).scalar_subquery()

    return sa.select(
        sa.select(count()).where(live).scalar_subquery().label("total_in_flight"),
        sa.select(count()).where(live, in_guild).scalar_subquery().label("guild_in_flight"),
        sa.select(count()).where(live, mine).scalar_subquery().label("member_in_flight"),
        spent(in_guild).label("guild_today"),
        spent(mine).label("member_today"),
        sa.select(sa.func.max(jobs.c.created_at)).where(mine, COUNTED_JOB).scalar_subquery().label("member_last_at"),
    )


USAGE = _usage_statement()


async def executemany(conn: AsyncConnection, compiled: SQLCompiler, rows: list[dict[str, Any]]) -> int | None:
    """Run a statement compiled once for many parameter sets with the driver's own executemany, the rows passed as
    they are: SQLAlchemy's per-row parameter processing would double the cost of a 10,000-job poll cycle, so the
    values must be what the driver takes (JSON already serialised). Returns the rows changed, where the driver counts
    them (SQLite does; asyncpg does not: None)."""
    names = compiled.positiontup or []
    fixed = compiled.params
    result = await conn.exec_driver_sql(
        compiled.string, [tuple(row[name] if name in row else fixed[name] for name in names) for row in rows]
    )
    return result.rowcount if conn.dialect.supports_sane_multi_rowcount else None
