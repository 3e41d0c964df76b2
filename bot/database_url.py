"""What DATABASE_URL may name: a SQLite file (the default) or a PostgreSQL database.

Read when the settings are loaded (a URL nothing serves stops the bot before it starts), by the store when it opens
the database, and by the logs, which name the database without its password.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")


def sqlite_path(url: str) -> Path:
    """The SQLite file a DATABASE_URL names (`sqlite:///relative`, `sqlite:////absolute` or a plain path).

    Raises ValueError, with a sentence an admin can act on, for a URL no backend serves.
    """
    url = url.strip()
    if url.startswith(SQLITE_PREFIX):
        return Path(url.removeprefix(SQLITE_PREFIX))
    if "://" in url:
        raise ValueError(
            f"unsupported database URL scheme {url.split('://', 1)[0]!r} (use sqlite:///path or postgresql://…)"
        )
    if not url:
        raise ValueError("must not be empty")
    return Path(url)


def is_postgres(url: str) -> bool:
    """Whether `url` names a PostgreSQL database (`postgresql://…` or `postgres://…`)."""
    return url.strip().split("://", 1)[0].lower() in POSTGRES_SCHEMES and "://" in url


def check_database_url(url: str) -> None:
    """Raise ValueError if no backend can serve `url` (used when settings are loaded, before anything starts)."""
    if is_postgres(url):
        parts = urlsplit(url.strip())
        if not parts.hostname and "host=" not in parts.query:
            raise ValueError("a postgresql:// URL needs a host (postgresql://user:password@host:5432/database)")
        try:
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise ValueError("the port in the postgresql:// URL is not a number") from None
        return
    sqlite_path(url)


def describe_url(url: str) -> str:
    """The database for a log line, never with a password: the SQLite file, or PostgreSQL's user@host:port/db."""
    if is_postgres(url):
        parts = urlsplit(url.strip())
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        return f"postgresql://{user}{parts.hostname or ''}{port}{parts.path}"
    return str(sqlite_path(url))
