"""The SQLite backend: the embedded default for one bot process (WAL, versioned migrations)."""

from __future__ import annotations

from bot.store.records import INTERRUPTED_SUBMIT

from .store import SqliteJobStore

__all__ = ["INTERRUPTED_SUBMIT", "SqliteJobStore"]
