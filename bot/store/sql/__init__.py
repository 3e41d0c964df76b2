"""The one store implementation: SQLAlchemy Core queries that serve SQLite and PostgreSQL alike."""

from __future__ import annotations

from .store import SqlStore

__all__ = ["SqlStore"]
