"""Persistent jobs, guild settings, personas and the community tables, on SQLite or PostgreSQL.

Callers get the store from `open_store(DATABASE_URL)` and type it as `JobStore`: the one store class, whose queries
(`job_queries.py`, `community_queries.py`) serve both backends. There is one implementation, so no protocol stands in
front of it. The records it reads and writes are `bot.domain`'s.
"""

from __future__ import annotations

from .database import DatabaseUnavailableError, database_outage
from .factory import open_store
from .job_queries import SqlStore as JobStore

# The community half of the same store, by the name the community engine uses.
CommunityStore = JobStore

__all__ = ["CommunityStore", "DatabaseUnavailableError", "JobStore", "database_outage", "open_store"]
