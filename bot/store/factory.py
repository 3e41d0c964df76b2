"""The one place that turns DATABASE_URL into a JobStore; nothing outside this package names a backend."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .base import JobStore
from .sqlite import SqliteJobStore

SQLITE_PREFIX = "sqlite:///"


def sqlite_path(url: str) -> Path:
    """The SQLite file a DATABASE_URL names (`sqlite:///relative`, `sqlite:////absolute` or a plain path).

    Raises ValueError, with a sentence an admin can act on, for a URL no backend serves.
    """
    url = url.strip()
    if url.startswith(SQLITE_PREFIX):
        return Path(url.removeprefix(SQLITE_PREFIX))
    if "://" in url:
        raise ValueError(f"unsupported database URL scheme {url.split('://', 1)[0]!r} (use sqlite:///path)")
    if not url:
        raise ValueError("must not be empty")
    return Path(url)


def check_database_url(url: str) -> None:
    """Raise ValueError if no backend can serve `url` (used when settings are loaded, before anything starts)."""
    sqlite_path(url)


async def open_store(url: str, *, now: Callable[[], float] = time.time) -> JobStore:
    """Open (creating and migrating) the database that `url` names."""
    return await SqliteJobStore.open(sqlite_path(url), now=now)


def describe_url(url: str) -> str:
    """The database for a log line: the SQLite file (URLs of server databases may carry passwords)."""
    return str(sqlite_path(url))
