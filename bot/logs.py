"""Logging setup: one line per event, and secrets scrubbed from every record as a last line of defence."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

REDACTED = "**********"
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Replace any secret value that slipped into a log record (message, args or traceback) with stars."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if len(secret) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace every secret in the record's message and arguments; always keep the record."""
        if not self._secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        scrubbed = self._scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_text:
            record.exc_text = self._scrub(record.exc_text)
        return True

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def setup_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr at `level`, through the secret filter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # discord.py's gateway chatter is noisy at DEBUG; keep it at INFO unless asked for explicitly.
    logging.getLogger("discord.gateway").setLevel(max(root.level, logging.INFO))
    # Alembic names each of its plugins at INFO on every start; what it migrates (and our own line) is enough.
    logging.getLogger("alembic.runtime.plugins").setLevel(max(root.level, logging.WARNING))
