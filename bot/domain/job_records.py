"""Jobs and the records around them (who asked, settings, personas, usage, processes), and the job state machine."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from bot.cometapi.models import Action, Provider

JobState = Literal["submitting", "submit_failed", "queued", "running", "succeeded", "failed", "timed_out", "cancelled"]
DeliveryState = Literal["none", "pending", "claimed", "delivered", "abandoned"]
# What a failed delivery's wait holds: the job, or its channel's waiting songs too (a per-route 429). A global limit
# is a hold of its own in the store (`hold_off`), which covers songs finishing during it as well.
DeliveryHold = Literal["job", "channel"]

# Why a job left in `submitting` by a crash was failed (both backends write the same sentence).
INTERRUPTED_SUBMIT = "the bot restarted while this job was being submitted, so it may not have started"
MAYBE_ACCEPTED = "CometAPI did not confirm the submission in time; it may or may not have started"
# A 2xx without a task id (or with a body the bot cannot read): CometAPI may have started it and charged for it.
UNCONFIRMED = "CometAPI answered without a task id, so it may have started (and been charged) but cannot be followed"
FAILED_MID_SUBMIT = "the bot failed while submitting this job"
# Why a submit_failed job may still have been started and charged by CometAPI: its member must not read "not
# started", and it counts against the limits like a song (money is real; CometAPI may have taken it).
MAY_HAVE_STARTED: frozenset[str] = frozenset({MAYBE_ACCEPTED, UNCONFIRMED, FAILED_MID_SUBMIT, INTERRUPTED_SUBMIT})

ALL_STATES: frozenset[str] = frozenset(get_args(JobState))
IN_FLIGHT: frozenset[JobState] = frozenset({"queued", "running"})
# Terminal states that members must hear about; submit_failed is answered on the spot instead.
DELIVERABLE: frozenset[JobState] = frozenset({"succeeded", "failed", "timed_out"})
TERMINAL: frozenset[JobState] = DELIVERABLE | {"submit_failed", "cancelled"}
# What counts against limits: every job that reached (or may be reaching) CometAPI, because CometAPI charges
# for it. Only failures CometAPI reported (the gateway refunds them) and submits that never got through are
# free. A cancelled job counts: CometAPI has no cancel, it still runs and costs.
COUNTED: frozenset[JobState] = frozenset({"submitting", "queued", "running", "succeeded", "timed_out", "cancelled"})

# The only legal moves. "running → running" records progress.
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    "submitting": frozenset({"queued", "submit_failed"}),
    "queued": frozenset({"running", "succeeded", "failed", "timed_out", "cancelled"}),
    "running": frozenset({"running", "succeeded", "failed", "timed_out", "cancelled"}),
    "submit_failed": frozenset(),
    "succeeded": frozenset(),
    "failed": frozenset(),
    "timed_out": frozenset({"succeeded", "failed"}),  # CometAPI finished after we gave up: a late song
    "cancelled": frozenset(),
}


def sources_of(target: JobState) -> frozenset[JobState]:
    """The states from which `target` may be entered."""
    return frozenset(state for state, targets in TRANSITIONS.items() if target in targets)


class IllegalTransitionError(Exception):
    """A job was asked to move to a state its current state does not lead to."""


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked, and where the answer goes."""

    user_id: int
    channel_id: int
    guild_id: int | None = None
    interaction_token: str | None = None
    interaction_expires_at: float | None = None
    # The member's roles, for the "required role" setting; not stored.
    role_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job about to be submitted: recorded before CometAPI is called, so a crash never loses a paid job."""

    requester: Requester
    provider: Provider
    action: Action
    params: dict[str, Any]
    kind: str = "generate"
    parent_job_id: int | None = None
    cost: int = 1  # in songs: what limits and budgets count


@dataclass(frozen=True, slots=True)
class Job:
    """A full row of the jobs table."""

    id: int
    user_id: int
    guild_id: int | None
    channel_id: int
    provider: Provider
    action: Action
    kind: str
    state: JobState
    created_at: float
    updated_at: float
    params: dict[str, Any] = field(default_factory=dict)
    task_id: str | None = None
    parent_job_id: int | None = None
    status_message_id: int | None = None
    interaction_token: str | None = field(default=None, repr=False)
    interaction_expires_at: float | None = None
    progress: int | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    submitted_at: float | None = None
    finished_at: float | None = None
    delivery: DeliveryState = "none"
    delivery_claimed_at: float | None = None
    delivery_attempts: int = 0
    delivered_at: float | None = None
    delivery_owner: str | None = None
    delivered_channel_id: int | None = None
    delivered_message_id: int | None = None
    delivery_error: str | None = None
    # Set when a member cancelled: the job still runs on CometAPI (and counts) but is never posted.
    cancel_requested_at: float | None = None
    # The song finished after the job had been reported as timed out, and is posted late.
    late: bool = False
    # The process that recorded the job and makes its paid call: only it (or, once it is gone, any other)
    # may call an unfinished submit interrupted.
    submit_owner: str | None = None
    # What the job costs, in songs (limits, budgets and usage count this).
    cost: int = 1

    @property
    def nonce(self) -> str:
        """Discord message nonce for this job's delivery: a retried post with it is deduplicated by Discord.

        A late song gets its own, since the time-out notice already used the first one.
        """
        return f"chorus-job-{self.id}" + ("-late" if self.late else "")  # ≤ 25 characters for ids below 10^9

    @property
    def cancelled(self) -> bool:
        """A member cancelled the job (it may still be finishing on CometAPI)."""
        return self.cancel_requested_at is not None or self.state == "cancelled"

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Job:
        """Build a Job from a database row (params and result already decoded by the schema's Document type)."""
        values = dict(row)
        values["params"] = values.get("params") or {}
        values["result"] = values.get("result") or None
        values["late"] = bool(values.get("late"))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class PendingJob:
    """The few columns the poller needs for each in-flight job (it may hold tens of thousands)."""

    id: int
    provider: Provider
    action: Action
    task_id: str
    state: JobState
    progress: int | None
    created_at: float


@dataclass(frozen=True, slots=True)
class JobUpdate:
    """A state change the poller learned from CometAPI."""

    job_id: int
    state: JobState
    progress: int | None = None
    result: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Persona:
    """A server's reusable Suno voice, made from one of its songs."""

    guild_id: int
    name: str
    description: str
    persona_id: str
    root_clip_id: str
    created_by: int
    source_job_id: int | None = None


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One member's use of one provider and action in a period: what counted (in songs: a job's cost), and failures
    (free)."""

    user_id: int
    provider: str
    action: str
    counted: int
    failed: int


@dataclass(frozen=True, slots=True)
class Worker:
    """A bot process that delivers: who it is, where it runs, and when it last said it was alive."""

    owner: str
    host: str
    pid: int
    started_at: float
    heartbeat_at: float


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """What a server admin controls. The defaults make a fresh install work with no setup."""

    guild_id: int
    allowed_channels: frozenset[int] = frozenset()  # empty: every channel
    required_role_id: int | None = None
    # None: the catalog's default model, so a new default reaches every server that never chose one.
    default_suno_model: str | None = None
    default_udio_model: str | None = None
    suno_enabled: bool = True
    udio_enabled: bool = True
    max_concurrent: int = 2  # per member; 0 means no limit (same for the next three)
    daily_quota: int = 20  # songs per member per UTC day
    daily_budget: int = 200  # songs per guild per UTC day
    cooldown_seconds: int = 10  # between two jobs of one member
    # Where admins hear that CometAPI's credit runs low, and below what balance (None: no alerts).
    alert_channel_id: int | None = None
    credit_alert_below: float | None = None
    credit_warned_at: float | None = None  # the warning of the current low spell was posted then
    song_of_day_channel_id: int | None = None  # where the previous day's most liked song is featured (None: off)
    battle_minutes: int = 24 * 60  # how long a song battle takes votes
    song_of_day_since: float | None = None  # when song of the day was switched on (None: before this was kept)
    voice_enabled: bool = True  # whether /listen may host a listening party in this server's voice channels

    def replace(self, **changes: object) -> GuildSettings:
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Usage:
    """What already counts against the limits, read in the same transaction as the new job's insert."""

    member_in_flight: int = 0
    member_today: int = 0  # songs since 00:00 UTC, each job counted at its cost
    member_last_at: float | None = None
    guild_today: int = 0  # likewise, at cost
    guild_in_flight: int = 0
    total_in_flight: int = 0


def utc_day_start(now: float) -> float:
    """Midnight UTC of the day containing `now`: the store counts "today" from here, and quotas reset then."""
    moment = datetime.fromtimestamp(now, UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


# Decides whether a job may be admitted, given what already counts and the store's clock; raises to refuse.
# The store calls it inside the transaction that inserts the job, so two requests cannot both slip under a limit.
Admit = Callable[[Usage, float], None]
# Turns a guild's current settings into the new ones (raising refuses the change); run inside one transaction.
SettingsChange = Callable[[GuildSettings], GuildSettings]
