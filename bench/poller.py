"""Benchmark the batch poller against the simulator with 10, 1,000 and 10,000 pending jobs.

Run: `python bench/poller.py` (options: --sizes 10,1000,10000 --batch-size 50 --cycles 3; --postgres DSN measures the
PostgreSQL backend's poll claims on a fresh database instead of SQLite; --baseline DIR measures another checkout's
bench (e.g. `git worktree add /tmp/before <commit>`) and this one side by side, alternating, --rounds times, and prints
the ratio of their CPU per cycle).
Prints, per size: CometAPI calls per cycle, wall and CPU time per cycle, and the peak RSS of this process.
The simulator runs in a child process so its work is not counted. Not a test: figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cometapi import CometAPI  # noqa: E402
from bot.core.poller import Poller, PollerConfig  # noqa: E402
from bot.domain import NewJob, Requester  # noqa: E402
from bot.store import JobStore, open_store  # noqa: E402

API_KEY = "sk-bench"


def finished_too_soon() -> None:
    raise AssertionError("a job finished, but benchmark jobs never should")


async def seed_store(store: JobStore, ids: dict[str, list[str]]) -> None:
    requester = Requester(user_id=1, channel_id=2, guild_id=3)
    for provider, task_ids in ids.items():
        for task_id in task_ids:
            job = await store.create(NewJob(requester, provider, "MUSIC", params={}))  # type: ignore[arg-type]
            await store.mark_submitted(job.id, task_id)


class SteppedClock:
    """The store's clock, moved one poll interval per cycle: cycles here run back to back, and a shared database
    hands a job out at most once per interval."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def open_bench_store(tmp: str, postgres: str | None, clock: SteppedClock) -> tuple[JobStore, str | None]:
    """A SQLite file in `tmp`, or a fresh database on the `postgres` server (and its name, to drop)."""
    if postgres is None:
        return await open_store(str(Path(tmp) / "bench.db"), now=clock), None
    import asyncpg

    from tests.conftest import with_database

    name = f"chorus_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return await open_store(with_database(postgres, name), now=clock), name


async def drop_bench_database(postgres: str, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(postgres)
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def bench_size(size: int, batch_size: int, cycles: int, postgres: str | None = None) -> dict[str, float]:
    udio = size // 10  # a tenth of the traffic on Udio, as a mixed server would have
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "_simulator_child.py"), API_KEY, str(size - udio), str(udio)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        hello = json.loads(child.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            clock = SteppedClock()
            store, database = await open_bench_store(tmp, postgres, clock)
            await seed_store(store, hello["ids"])
            async with aiohttp.ClientSession() as session:
                api = CometAPI(session, SecretStr(API_KEY), base_url=hello["url"])
                config = PollerConfig(batch_size=batch_size, deadline=10**9)
                # Wired as the bot wires it: an owner (its share of a shared database; everything on SQLite) and the
                # courier's look at the workers table for dead owners, every cycle.
                await store.beat("bench", host="bench", pid=1)

                async def dead_owners() -> set[str]:
                    return {worker.owner for worker in await store.workers() if worker.owner != "bench"}

                poller = Poller(store, api, config, on_finished=finished_too_soon, owner="bench",
                                dead_owners=dead_owners)
                walls, cpus, calls = [], [], []
                for _ in range(cycles + 1):
                    clock.now += config.interval
                    wall, cpu = time.perf_counter(), time.process_time()
                    report = await poller.run_cycle()
                    walls.append(time.perf_counter() - wall)
                    cpus.append(time.process_time() - cpu)
                    calls.append(report.calls)
                    assert report.errors == 0, "the simulator should not fail in a benchmark"
            await store.close()
            if postgres is not None and database is not None:
                await drop_bench_database(postgres, database)
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=30)
    # The first cycle also records every job's move to "running"; the later ones are the steady state.
    return {
        "size": size,
        "expected_calls": math.ceil((size - udio) / batch_size) + math.ceil(udio / batch_size),
        "calls": statistics.median(calls[1:]),
        "first_wall": walls[0],
        "first_cpu": cpus[0],
        "wall": statistics.median(walls[1:]),
        "cpu": statistics.median(cpus[1:]),
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def side_by_side(baseline: Path, args: argparse.Namespace) -> None:
    """Run the baseline checkout's bench and this one alternately, each in a fresh process, and compare."""
    extra = ["--batch-size", str(args.batch_size), "--cycles", str(args.cycles)]
    extra += ["--postgres", args.postgres] if args.postgres else []
    print(f"{'pending':>8} {'checkout':>9} {'calls/cycle':>11} {'cpu/cycle':>9} {'1st cpu':>8} {'peak RSS':>9}"
          f"  (medians of {args.rounds} runs each)")
    for size in (int(s) for s in args.sizes.split(",")):
        figures: dict[str, list[list[float]]] = {"baseline": [], "this": []}
        for _ in range(args.rounds):
            for name, root in (("baseline", baseline), ("this", ROOT)):
                out = subprocess.run(
                    [sys.executable, str(root / "bench" / "poller.py"), "--sizes", str(size), *extra],
                    capture_output=True, text=True, check=True, cwd=root,
                ).stdout.splitlines()[-1].split()
                # pending, calls, expected, wall, cpu, 1st wall, 1st cpu, RSS, "MiB"
                figures[name].append([float(out[1]), float(out[4].rstrip("s")), float(out[6].rstrip("s")),
                                      float(out[7])])
        medians = {name: [statistics.median(column) for column in zip(*rows, strict=True)]
                   for name, rows in figures.items()}
        for name, (calls, cpu, first, rss) in medians.items():
            print(f"{size:>8,} {name:>9} {calls:>11.0f} {cpu:>8.3f}s {first:>7.2f}s {rss:>6.1f} MiB")
        print(f"{'':>8} {'ratio':>9} {'':>11} {medians['this'][1] / medians['baseline'][1]:>8.2f}x"
              f" {medians['this'][2] / medians['baseline'][2]:>7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--postgres", default=None,
                        help="an admin DSN: measure the PostgreSQL backend (its claims) instead of SQLite")
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout to measure side by side")
    parser.add_argument("--rounds", type=int, default=3, help="with --baseline: runs of each, alternating")
    args = parser.parse_args()
    if args.baseline is not None:
        side_by_side(args.baseline.resolve(), args)
        return
    backend = "PostgreSQL (one process claiming its share)" if args.postgres else "SQLite"
    print(f"{backend}; batch size {args.batch_size}; steady-state figures are medians of {args.cycles} cycles")
    print(
        f"{'pending':>8} {'calls/cycle':>11} {'expected':>8} {'wall/cycle':>10} {'cpu/cycle':>9} "
        f"{'1st wall':>8} {'1st cpu':>8} {'peak RSS':>9}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        r = asyncio.run(bench_size(size, args.batch_size, args.cycles, args.postgres))
        print(
            f"{r['size']:>8,} {r['calls']:>11.0f} {r['expected_calls']:>8} {r['wall']:>9.3f}s {r['cpu']:>8.3f}s "
            f"{r['first_wall']:>7.2f}s {r['first_cpu']:>7.2f}s {r['rss_mib']:>6.1f} MiB"
        )


if __name__ == "__main__":
    main()
