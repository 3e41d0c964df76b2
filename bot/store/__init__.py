"""Persistent jobs, guild settings, personas and the community tables, on SQLite or PostgreSQL.

Callers get the store from `open_store(DATABASE_URL)` and type it as `JobStore`: the one store class, whose queries
serve both backends (`bot/store/sql`). There is one implementation, so no protocol stands in front of it.
"""

from __future__ import annotations

from .community import (
    Battle,
    BattleMode,
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
from .database import DatabaseUnavailableError, database_outage
from .factory import check_database_url, describe_url, open_store
from .records import (
    DELIVERABLE,
    FAILED_MID_SUBMIT,
    IN_FLIGHT,
    INTERRUPTED_SUBMIT,
    MAY_HAVE_STARTED,
    MAYBE_ACCEPTED,
    TERMINAL,
    TRANSITIONS,
    UNCONFIRMED,
    Admit,
    DeliveryState,
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
    utc_day_start,
)
from .sql import SqlStore as JobStore

# The community half of the same store, by the name the community engine uses.
CommunityStore = JobStore

__all__ = [
    "DELIVERABLE", "FAILED_MID_SUBMIT", "INTERRUPTED_SUBMIT", "IN_FLIGHT", "MAYBE_ACCEPTED", "MAY_HAVE_STARTED",
    "TERMINAL", "TRANSITIONS", "UNCONFIRMED", "Admit", "Battle", "BattleMode", "BattleState", "Challenge",
    "ChallengeEntry", "ChallengeState", "ChartRow", "Choice", "CommunityStore", "DatabaseUnavailableError",
    "DeliveryState", "EntryOutcome",
    "GuildSettings", "IllegalTransitionError", "Jam", "JamLine", "Job", "JobState", "JobStore", "JobUpdate",
    "LikeToggle", "MemberStats", "NewBattle", "NewChallenge", "NewJam", "NewJob", "PendingJob", "Persona", "Requester",
    "SettingsChange", "SongOfDayGuild", "Usage", "UsageRow", "VoteOutcome", "Worker", "check_database_url",
    "database_outage", "describe_url", "open_store", "utc_day_start",
]
