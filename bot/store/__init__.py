"""Persistent jobs. Callers depend on the JobStore protocol; SqliteJobStore is today's backend."""

from __future__ import annotations

from .base import JobStore
from .guilds import GuildStore, SqliteGuildStore
from .records import (
    DELIVERABLE,
    IN_FLIGHT,
    TERMINAL,
    TRANSITIONS,
    DeliveryState,
    IllegalTransitionError,
    Job,
    JobState,
    JobUpdate,
    NewJob,
    PendingJob,
    Requester,
)
from .sqlite import SqliteJobStore

__all__ = [
    "DELIVERABLE",
    "IN_FLIGHT",
    "TERMINAL",
    "TRANSITIONS",
    "DeliveryState",
    "GuildStore",
    "IllegalTransitionError",
    "Job",
    "JobState",
    "JobStore",
    "JobUpdate",
    "NewJob",
    "PendingJob",
    "Requester",
    "SqliteGuildStore",
    "SqliteJobStore",
]
