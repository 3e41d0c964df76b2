"""One bot process for the multi-process test and the scale benchmark: what `python -m bot` runs, plus a trace of
its poll cycles (one JSON line per cycle that fetched anything) in the file CHORUS_CYCLE_TRACE names.

Run as `python -m tests.scale_bot` with the bot's usual environment variables. For a look inside a burst:
CHORUS_PROFILE=DIR writes the process's cProfile there at its end, CHORUS_SQL_COUNT=DIR its SQL statements counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from bot.__main__ import run
from bot.config import load_settings
from bot.core.poller import CycleReport, Poller
from bot.logs import setup_logging


def trace_cycles(path: str) -> None:
    """Append each poll cycle's report to `path`: when, calls, errors and jobs fetched per provider/action."""
    original = Poller.run_cycle

    async def traced(self: Poller) -> CycleReport:
        report = await original(self)
        if report.fetched:
            line = {"at": time.time(), "pid": os.getpid(), "calls": report.calls, "errors": report.errors,
                    "fetched": report.fetched, "batch": self.config.batch_size}
            with open(path, "a", encoding="utf-8") as trace:  # noqa: ASYNC230 - one short line per cycle
                trace.write(json.dumps(line) + "\n")
        return report

    Poller.run_cycle = traced  # type: ignore[method-assign]


def count_statements(folder: str) -> None:
    """Count every SQL statement the process sends, by its text, and write the counts to `folder` at exit (where a
    burst's database round trips go: `CHORUS_SQL_COUNT=DIR python bench/scale.py`)."""
    import atexit
    from collections import Counter

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    counts: Counter[str] = Counter()

    @event.listens_for(Engine, "before_cursor_execute")
    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        counts[" ".join(statement.split())[:160]] += 1

    def write() -> None:
        with open(os.path.join(folder, f"sql-{os.getpid()}.txt"), "w", encoding="utf-8") as out:
            out.writelines(f"{n}\t{text}\n" for text, n in counts.most_common())

    atexit.register(write)


def main() -> int:
    """Settings from the environment only, logging, the cycle trace, then the bot until SIGTERM (or SIGKILL)."""
    settings = load_settings(None)
    setup_logging(settings.log_level, [settings.discord_token.get_secret_value(),
                                       settings.cometapi_key.get_secret_value()])
    if os.environ.get("CHORUS_CYCLE_TRACE"):
        trace_cycles(os.environ["CHORUS_CYCLE_TRACE"])
    if os.environ.get("CHORUS_SQL_COUNT"):
        count_statements(os.environ["CHORUS_SQL_COUNT"])
    if os.environ.get("CHORUS_PROFILE"):  # a folder: the process's profile (cProfile) is written there at its end
        import cProfile

        with cProfile.Profile() as profile:
            code = asyncio.run(run(settings))
        profile.dump_stats(os.path.join(os.environ["CHORUS_PROFILE"], f"bot-{os.getpid()}.prof"))
        return code
    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
