"""The one interface the poller, courier and services see; the SQLite and PostgreSQL backends implement it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, Protocol

from .community import CommunityStore
from .records import GuildSettings, Job, JobUpdate, NewJob, PendingJob, Persona, Usage, UsageRow, Worker

# Decides whether a job may be admitted, given what already counts and the store's clock; raises to refuse.
# The store calls it inside the transaction that inserts the job, so two requests cannot both slip under a limit.
Admit = Callable[[Usage, float], None]
# Turns a guild's current settings into the new ones (raising refuses the change); run inside one transaction.
SettingsChange = Callable[[GuildSettings], GuildSettings]


class JobStore(CommunityStore, Protocol):
    """Persistent jobs with a legal-transitions-only state machine and exactly-once delivery claims (and, through
    CommunityStore, likes, battles, challenges, jams and song of the day)."""

    async def create(self, new: NewJob, admit: Admit | None = None, *, owner: str | None = None) -> Job:
        """Record a job in state `submitting`, before anything is sent to CometAPI, as submitted by `owner`.

        With `admit`, the requester's usage is counted and judged in the same transaction as the insert (and,
        on a shared database, while no other process admits a job in the same guild); whatever `admit` raises
        propagates and nothing is recorded. `admit` gets the store's clock, as `clock()` does.
        """
        ...

    async def clock(self) -> float:
        """The store's time (unix seconds): the database server's clock on a shared database, so that every
        process compares leases, deadlines and heartbeats on one clock."""
        ...

    async def mark_submitted(self, job_id: int, task_id: str) -> Job:
        """CometAPI accepted the job: store its task id (state `queued`)."""
        ...

    async def mark_submit_failed(self, job_id: int, error: str, *, notify: bool = False) -> Job:
        """CometAPI refused the job or the submit failed. The command that sent it answers the member; with
        `notify` (a submit no interaction waits for, e.g. a cover after its upload) the failure is queued for
        delivery instead, so the member is told."""
        ...

    async def request_cancel(self, job_id: int) -> Job | None:
        """Mark a job cancelled by its member: it stays in flight (CometAPI has no cancel) and counts against the
        limits, but is never delivered; once CometAPI finishes it, it ends `cancelled` (or `failed`). Returns the
        job, or None if it had finished or was already cancelled."""
        ...

    async def set_status_message(self, job_id: int, channel_id: int, message_id: int) -> None:
        """Remember the message that shows this job's progress."""
        ...

    async def get(self, job_id: int) -> Job | None:
        """One job by its id, or None."""
        ...

    async def recent_for_user(self, user_id: int, *, guild_id: int | None = None, limit: int = 10) -> list[Job]:
        """A member's newest jobs (in one guild, when given)."""
        ...

    async def delivered_for_user(
        self, user_id: int, *, guild_id: int | None, offset: int, limit: int
    ) -> tuple[list[Job], int]:
        """A member's delivered songs, newest first: one page and the total."""
        ...

    async def in_flight(self) -> list[PendingJob]:
        """Every job CometAPI is still working on, oldest first."""
        ...

    async def typical_duration(
        self, provider: str, action: str, model: str | None, *, sample: int = 20
    ) -> float | None:
        """Median seconds from submit to finish of the last `sample` songs of this model (None without any)."""
        ...

    async def queue_position(self, job_id: int) -> int:
        """1 + how many of the bot's jobs of the same provider wait at CometAPI (queued) ahead of this one."""
        ...

    async def uploads_ready(self) -> list[Job]:
        """Covers whose upload stage has finished and whose cover is not sent yet."""
        ...

    async def restage(
        self, job_id: int, *, task_id: str, params: dict[str, Any], owner: str | None = None
    ) -> Job | None:
        """Move a finished upload stage back to `submitting` with the next stage's parameters; None if the job is
        no longer that finished stage (someone else took it)."""
        ...

    async def claim_polls(
        self, owner: str, *, every: float, peers_within: float, dead_owners: Collection[str] = ()
    ) -> list[PendingJob]:
        """This process's share of the in-flight jobs for one poll cycle, oldest first.

        Across every process sharing the store, a job is handed out at most once per `every` seconds, and each
        process takes about its share (the in-flight jobs divided by the processes whose heartbeat is younger
        than `peers_within` seconds and that are not among `dead_owners`), so each job is fetched by one process
        per cycle. A backend that serves one process returns every in-flight job.
        """
        ...

    async def overdue(self, *, since: float, owner: str | None = None, every: float = 0.0) -> list[PendingJob]:
        """Timed-out jobs (given up on since `since`) that CometAPI may still finish, for late polling; on a
        shared database, only those no process (`owner` included) was handed in the last `every` seconds."""
        ...

    async def apply(self, updates: Sequence[JobUpdate]) -> list[int]:
        """Apply updates whose transition is legal, in one transaction; return the ids that changed."""
        ...

    async def recover_interrupted_submits(
        self,
        older_than: float,
        *,
        exclude: Collection[int] = (),
        owner: str | None = None,
        dead_owners: Collection[str] = (),
    ) -> list[int]:
        """Jobs left in `submitting` by a crash: fail them and queue a notice to their members.

        Jobs of `dead_owners` (their process is gone, so nothing of theirs is under way) at once; others only when
        recorded before `older_than` and submitted by `owner` (this process; `exclude` lists the ones it is
        submitting right now), by a process without a heartbeat row (retired), or by no known process. A submit
        under way in another live process is never failed.
        """
        ...

    async def deliverable(
        self, *, lease_seconds: float, dead_owners: Collection[str] = (), limit: int = 100
    ) -> list[Job]:
        """Finished jobs not yet delivered, including claims whose lease ran out or whose owner is gone."""
        ...

    async def claim_delivery(
        self, job_id: int, *, owner: str, lease_seconds: float, dead_owners: Collection[str] = ()
    ) -> Job | None:
        """Atomically claim a job for delivery by `owner`; None if a live owner holds it or it is delivered."""
        ...

    async def renew_claim(self, job_id: int, *, owner: str) -> bool:
        """Extend the lease of a claim `owner` holds (while a slow delivery runs); False if it was lost."""
        ...

    async def mark_delivered(
        self, job_id: int, channel_id: int, message_id: int, *, owner: str, note: str | None = None
    ) -> bool:
        """Record the delivered message (and why it went elsewhere, if it did); False if the claim was lost."""
        ...

    async def release_delivery(self, job_id: int, error: str, *, owner: str, give_up: bool) -> None:
        """A delivery attempt failed: release the claim to retry later, or give up and record why."""
        ...

    async def beat(self, owner: str, *, host: str, pid: int) -> None:
        """Record that process `owner` is alive (registering it on its first beat)."""
        ...

    async def workers(self) -> list[Worker]:
        """Every process with a heartbeat row, alive or not."""
        ...

    async def retire(self, owner: str) -> None:
        """Forget a process that stopped cleanly."""
        ...

    async def take_turn(self, key: str, *, spacing: float) -> None:
        """Wait until `spacing` seconds have passed since the last turn of `key` taken by any process sharing the
        store, and take it (e.g. Discord's one IDENTIFY per 5 s per bucket, across every bot process)."""
        ...

    async def usage_by_member(self, guild_id: int, since: float) -> list[UsageRow]:
        """What each member of the guild used since `since`: counted and failed jobs per provider and action."""
        ...

    async def count_by_state(self) -> list[tuple[str, str, int]]:
        """(state, provider, jobs) over all jobs."""
        ...

    async def check_writable(self) -> None:
        """Raise if the database cannot be written."""
        ...

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's settings, or the defaults when it never changed any."""
        ...

    async def change_guild_settings(self, guild_id: int, change: SettingsChange, *, by: int | None) -> GuildSettings:
        """Read, change and write a guild's settings in one transaction (concurrent changes never undo each
        other); return the new settings. Whatever `change` raises propagates and nothing is written."""
        ...

    async def credit_alert_guilds(self) -> list[GuildSettings]:
        """Settings of every guild that asked for low-credit alerts."""
        ...

    async def add_persona(self, persona: Persona) -> bool:
        """Keep a guild's new persona; False if the guild has one of that name already."""
        ...

    async def personas(self, guild_id: int) -> list[Persona]:
        """A guild's personas, by name."""
        ...

    async def remove_persona(self, guild_id: int, name: str) -> bool:
        """Forget a guild's persona; False if there was none of that name."""
        ...

    async def close(self) -> None:
        """Close the connection(s)."""
        ...
