"""The database restart of bench/scale.py (`--restart-db-at`): crash the PostgreSQL cluster that `.ci/postgres.sh`
started and start it again, and sort the commands' answers as they crossed the wire.

The cluster is found by CHORUS_PG_DIR and CHORUS_PG_BIN, which `start_postgres` exports (or --pg-data/--pg-bin).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.discord.interactions import FakeInteraction

# Discord's window to acknowledge an interaction.
ACK_WINDOW = 3.0


@dataclass(frozen=True, slots=True)
class PostgresCluster:
    """A local cluster driven with pg_ctl, as the postgres user when run as root (initdb and the server refuse
    root)."""

    bin: Path
    data: Path

    @classmethod
    def from_env(cls, bin_dir: str | None, data_dir: str | None) -> PostgresCluster:
        """The cluster given, or the one `start_postgres` exported (CHORUS_PG_BIN, CHORUS_PG_DIR/data)."""
        bin_dir = bin_dir or os.environ.get("CHORUS_PG_BIN")
        if data_dir is None and os.environ.get("CHORUS_PG_DIR"):
            data_dir = str(Path(os.environ["CHORUS_PG_DIR"]) / "data")
        if not bin_dir or not data_dir:
            raise SystemExit("--restart-db-at needs the cluster: run `. .ci/postgres.sh; start_postgres` in this shell,"
                             " or give --pg-bin and --pg-data")
        return cls(Path(bin_dir), Path(data_dir))

    async def _ctl(self, *args: str) -> None:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), *args]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        proc = await asyncio.create_subprocess_exec(*command, cwd="/", stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {out.decode(errors='replace')}")

    async def crash(self) -> None:
        """Stop the server at once, as a crash would: no checkpoint, every connection cut."""
        await self._ctl("-m", "immediate", "-w", "stop")

    async def start(self) -> None:
        """Start it again with the options it last ran with (postmaster.opts; pg_ctl restart does that when the
        server is down), logging to server.log beside the data folder, and wait until it accepts connections."""
        await self._ctl("-l", str(self.data.parent / "server.log"), "-w", "-t", "60", "restart")


@dataclass(slots=True)
class Answers:
    """How the commands of a run were answered, from the fake Discord's record of each interaction."""

    cards: int = 0  # a status card: the song was accepted
    errors: Counter[str] = field(default_factory=Counter)  # answered with a sentence instead (what it said)
    unanswered: int = 0  # no callback at all (Discord would have shown "The application did not respond")
    late: int = 0  # acknowledged, but after Discord's 3 s window
    slowest: float = 0.0  # the longest time to acknowledge, seconds

    @property
    def error_count(self) -> int:
        """Commands answered with an error."""
        return sum(self.errors.values())


def sort_answers(interactions: list[FakeInteraction]) -> Answers:
    """Sort the commands by the answer the member ended up seeing: a status card, an error sentence or none."""
    answers = Answers()
    for interaction in interactions:
        if not interaction.acknowledged:
            answers.unanswered += 1
            continue
        latency = interaction.ack_latency or 0.0
        answers.slowest = max(answers.slowest, latency)
        if latency > ACK_WINDOW:
            answers.late += 1
        # The original answer as created and after each edit (a status card is deleted once its song is posted).
        shown = interaction.edits or [(interaction.response or {}).get("data") or {}]
        if any(version.get("embeds") or version.get("components") for version in shown):
            answers.cards += 1
        else:
            # A private answer after a public "thinking…" comes as a followup; a defer never followed by an answer
            # leaves "thinking…" (no text) on the member's screen.
            said = [message.get("content") for message in interaction.followups()] + [shown[-1].get("content")]
            text = str(next((content for content in said if content), "(deferred, then never answered)"))
            answers.errors[re.sub(r"\d+", "N", text)[:90]] += 1
    return answers
