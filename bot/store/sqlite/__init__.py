"""The SQLite backend: the embedded default for one bot process (WAL, versioned migrations)."""

from __future__ import annotations

from .store import INTERRUPTED_SUBMIT, SqliteJobStore

__all__ = ["INTERRUPTED_SUBMIT", "SqliteJobStore"]
