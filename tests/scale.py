"""Several real bot processes (`python -m tests.scale_bot`) against one fake Discord, one simulator and one database:
start, SIGKILL and restart them, and read what crossed the wire. Shared by tests/test_e2e_scale.py and
bench/scale.py."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import re
import signal
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.simulator import SimulatorServer
from tests.fakes.discord import FakeDiscord

ROOT = Path(__file__).resolve().parent.parent
SONG = re.compile(r"scale song (\d+)")


@dataclass
class BotProcesses:
    """N bot processes, process i running SHARD_IDS=i of SHARD_COUNT=N (or all shards when `shards` is False)."""

    env: dict[str, str]
    count: int
    workdir: Path
    shards: bool = True
    procs: dict[int, asyncio.subprocess.Process] = field(default_factory=dict)
    starts: Counter[int] = field(default_factory=Counter)
    kills: int = 0

    @classmethod
    def against(cls, fake: FakeDiscord, sim: SimulatorServer, database_url: str, count: int, workdir: Path,
                **settings: str) -> BotProcesses:
        """Processes pointed at the fake Discord, the simulator and the database, with extra env `settings`."""
        passed_on = {"PATH", "HOME", "LANG", "TMPDIR", "CHORUS_PROFILE", "CHORUS_SQL_COUNT"}  # the last two: scale_bot
        inherited = {k: v for k, v in os.environ.items() if k in passed_on}
        env = {
            **inherited,
            "PYTHONPATH": str(ROOT),
            "DISCORD_TOKEN": fake.token,
            "COMETAPI_KEY": sim.api_key,
            "COMETAPI_BASE_URL": sim.url,
            "DISCORD_API_BASE": fake.api_base,
            "DATABASE_URL": database_url,
            "MAX_JOBS_IN_FLIGHT": "0",
            "MAX_GUILD_JOBS_IN_FLIGHT": "0",
            **settings,
        }
        workdir.mkdir(parents=True, exist_ok=True)
        return cls(env, count, workdir)

    async def start(self, index: int) -> None:
        """Start process `index` (its log and cycle trace go to the work folder)."""
        self.starts[index] += 1
        env = dict(self.env)
        if self.shards:
            env.update(SHARD_COUNT=str(self.count), SHARD_IDS=str(index))
        env["CHORUS_CYCLE_TRACE"] = str(self.workdir / f"cycles-{index}.jsonl")
        log = (self.workdir / f"bot-{index}-{self.starts[index]}.log").open("w")
        try:
            self.procs[index] = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.scale_bot", cwd=self.workdir, env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )
        finally:
            log.close()

    async def start_all(self) -> None:
        """Start every process."""
        for index in range(self.count):
            await self.start(index)

    async def kill(self, index: int) -> None:
        """SIGKILL process `index`: no shutdown, no goodbye, as when a machine dies."""
        proc = self.procs.pop(index)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        self.kills += 1

    async def stop_all(self, grace: float = 30.0) -> None:
        """SIGTERM every process and wait (SIGKILL after `grace` seconds)."""
        for proc in self.procs.values():
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        self.procs.clear()

    def rss_mib(self) -> dict[int, float]:
        """Resident memory (VmRSS in /proc) of each running process, MiB; a process that just exited is left out."""
        found = {}
        for index, proc in self.procs.items():
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text(encoding="utf-8")
            except OSError:
                continue
            kib = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), None)
            if kib is not None:
                found[index] = kib / 1024
        return found

    def crashed(self) -> list[int]:
        """Processes that exited by themselves (a bug: only the test stops them)."""
        return [index for index, proc in self.procs.items() if proc.returncode is not None]

    def cycles(self) -> list[dict[str, Any]]:
        """Every traced poll cycle of every process (killed ones included)."""
        found = []
        for path in sorted(self.workdir.glob("cycles-*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.endswith("}"):  # a process killed mid-write leaves half a line
                    found.append(json.loads(line))
        return found

    def logs(self) -> str:
        """The tail of every process's log, for a failing test's message."""
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.workdir.glob("bot-*.log")))


def cycles_over_budget(cycles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cycles that made more CometAPI calls than ⌈n/batch⌉ per provider and action for the n jobs they fetched (at
    most one partial chunk per group per process); cycles with errors (a throttled provider calls less) excepted."""
    def budget(cycle: dict[str, Any]) -> int:
        return sum(math.ceil(n / cycle["batch"]) for n in cycle["fetched"].values())

    return [cycle for cycle in cycles if not cycle["errors"] and cycle["calls"] != budget(cycle)]


def fetch_times(sim: SimulatorServer) -> dict[str, list[float]]:
    """When each task id was fetched (batch fetch or Udio query), per task, in order."""
    times: dict[str, list[float]] = defaultdict(list)
    for request in sim.requests:
        if request.endpoint == "batch_fetch":
            ids = request.body["ids"]
        elif request.endpoint == "udio_query":
            ids = request.query["ids"].split(",")
        else:
            continue
        for task_id in ids:
            times[task_id].append(request.at)
    return times


def refetched_within(sim: SimulatorServer, seconds: float) -> dict[str, float]:
    """Task ids fetched twice less than `seconds` apart (by any processes), with the shortest gap."""
    close = {}
    for task_id, times in fetch_times(sim).items():
        gaps = [b - a for a, b in itertools.pairwise(times)]
        if gaps and min(gaps) < seconds:
            close[task_id] = min(gaps)
    return close


def calls_per_interval(sim: SimulatorServer, interval: float, batch: int) -> list[tuple[int, int]]:
    """Per window of `interval` seconds (from the first fetch), the batch fetch calls of all processes together and
    the ideal ⌈n/batch⌉ per provider for the n distinct tasks fetched in that window, as they crossed the wire. The
    ideal is what one poller fetching every job in flight once per interval would pay: a woken cycle that fetches a
    partial batch of new jobs, or several processes each paying a partial batch, show up as calls above it."""
    calls: Counter[tuple[int, str]] = Counter()
    tasks: dict[tuple[int, str], set[str]] = defaultdict(set)
    fetches = [r for r in sim.requests if r.endpoint in ("batch_fetch", "udio_query")]
    if not fetches:
        return []
    start = fetches[0].at
    for request in fetches:
        window = int((request.at - start) // interval)
        ids = request.body["ids"] if request.endpoint == "batch_fetch" else request.query["ids"].split(",")
        calls[window, request.endpoint] += 1
        tasks[window, request.endpoint].update(ids)
    windows = sorted({window for window, _ in calls})
    return [
        (sum(n for (w, _), n in calls.items() if w == window),
         sum(math.ceil(len(ids) / batch) for (w, _), ids in tasks.items() if w == window))
        for window in windows
    ]


def submits_per_song(sim: SimulatorServer) -> Counter[int]:
    """How many times each song (its number in the prompt) was submitted to CometAPI."""
    songs: Counter[int] = Counter()
    for request in sim.requests_to("submit_music"):
        match = SONG.search(str((request.body or {}).get("gpt_description_prompt") or ""))
        if match:
            songs[int(match.group(1))] += 1
    return songs


def posts_per_nonce(fake: FakeDiscord) -> Counter[str]:
    """Accepted POSTs of a job's message (nonce chorus-job-…) to any channel, as they crossed the wire."""
    nonces: Counter[str] = Counter()
    for request in fake.find_requests("POST", "/channels/"):
        nonce = str((request.json or {}).get("nonce") or "")
        if request.status == 200 and request.path.endswith("/messages") and nonce.startswith("chorus-job-"):
            nonces[nonce] += 1
    return nonces
