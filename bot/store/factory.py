"""`open_store(DATABASE_URL)`: the database the URL names, opened and migrated, and the store on it."""

from __future__ import annotations

from collections.abc import Callable

from bot.database_url import is_postgres, sqlite_path

from .database import Database
from .job_queries import SqlStore


async def open_store(url: str, *, now: Callable[[], float] | None = None) -> SqlStore:
    """Open (creating and migrating) the database that `url` names.

    `now` replaces the store's clock (tests). Without it SQLite uses this process's clock and PostgreSQL the
    database server's, which every process sharing it then agrees on.
    """
    if is_postgres(url):
        return SqlStore(await Database.open_postgres(engine_url(url), now=now))
    return SqlStore(await Database.open_sqlite(sqlite_path(url), now=now))


def engine_url(url: str) -> str:
    """The SQLAlchemy URL (with its async driver) of a DATABASE_URL."""
    if is_postgres(url):
        return "postgresql+asyncpg://" + url.strip().split("://", 1)[1]
    return f"sqlite+aiosqlite:///{sqlite_path(url)}"
