"""Persistent jobs and guild settings. Callers depend on the JobStore protocol and get one from open_store()."""

from __future__ import annotations

from .base import Admit, JobStore, SettingsChange
from .factory import check_database_url, describe_url, open_store
from .records import (
    DELIVERABLE,
    IN_FLIGHT,
    INTERRUPTED_SUBMIT,
    TERMINAL,
    TRANSITIONS,
    DeliveryState,
    GuildSettings,
    IllegalTransitionError,
    Job,
    JobState,
    JobUpdate,
    NewJob,
    PendingJob,
    Requester,
    Usage,
    Worker,
    utc_day_start,
)

__all__ = [
    "DELIVERABLE",
    "INTERRUPTED_SUBMIT",
    "IN_FLIGHT",
    "TERMINAL",
    "TRANSITIONS",
    "Admit",
    "DeliveryState",
    "GuildSettings",
    "IllegalTransitionError",
    "Job",
    "JobState",
    "JobStore",
    "JobUpdate",
    "NewJob",
    "PendingJob",
    "Requester",
    "SettingsChange",
    "Usage",
    "Worker",
    "check_database_url",
    "describe_url",
    "open_store",
    "utc_day_start",
]
