"""The PostgreSQL backend: one database shared by several bot processes (asyncpg, advisory locks, SKIP LOCKED)."""

from __future__ import annotations

from .store import PostgresJobStore

__all__ = ["PostgresJobStore"]
