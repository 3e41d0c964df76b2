"""Benchmark scaling out: 1 bot process on SQLite, 1 and 3 processes on one PostgreSQL database, each run against the
simulator and the fake Discord on loopback with the same load.

Run: `python bench/scale.py` (needs a PostgreSQL server: --postgres URL or $CHORUS_TEST_POSTGRES_URL; a fresh database
is created and dropped per run). Options: --songs 1000 --rate 200 --interval 1 --batch 10.

Each run asks for `--songs` songs over six guilds at `--rate` per second (as many members would) and reports: songs
delivered per minute (first request to last post), the bots' CPU time per song, the CometAPI fetch calls per poll
cycle against the budget ⌈n/batch⌉ per provider and action, tasks fetched twice within half an interval, and
duplicates (posts per nonce and submits per song, as they crossed the wire). Not a test: figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.simulator import SimulatorServer, Timings  # noqa: E402
from bot.store import open_store  # noqa: E402
from tests.conftest import relax_limits, with_database  # noqa: E402
from tests.fakes.discord import FakeDiscord  # noqa: E402
from tests.scale import (  # noqa: E402
    BotProcesses,
    cycles_over_budget,
    posts_per_nonce,
    refetched_within,
    submits_per_song,
)

API_KEY = "sk-bench"
GUILDS = 6


async def fresh_postgres(admin_url: str) -> tuple[str, str]:
    name = f"chorus_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin_url, name), name


async def drop_postgres(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def wait(check: Any, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.1)
    return False


async def run(label: str, processes: int, database_url: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    shards = processes
    async with FakeDiscord() as fake:
        fake.settings.shard_count = shards
        fake.settings.max_concurrency = shards  # one IDENTIFY bucket per shard: start-up is not what is measured
        fake.ack_deadline = 10.0
        guilds = [fake.world.add_server(f"Guild {n}", shard=n % shards, shard_count=shards) for n in range(GUILDS)]
        music = {g.id: next(c for c in g.channels if c.name == "music") for g in guilds}
        store = await open_store(database_url)
        for guild in guilds:
            await relax_limits(store, guild.id)
        await store.close()
        async with SimulatorServer(api_key=API_KEY, timings=Timings().scaled(0.05), audio_bytes=8 * 1024,
                                   shutdown_timeout=0.2) as sim:
            bots = BotProcesses.against(fake, sim, database_url, processes, workdir / label.replace(" ", "-"),
                                        POLL_INTERVAL=str(args.interval), POLL_BATCH_SIZE=str(args.batch),
                                        LOG_LEVEL="WARNING")
            bots.shards = processes > 1
            cpu_before = _children_cpu()
            await bots.start_all()
            try:
                if not await wait(lambda: fake.gateway.connected_shards() == set(range(shards)), 120):
                    raise RuntimeError(f"{label}: the bots did not connect\n{bots.logs()}")
                started = time.monotonic()
                for song in range(args.songs):
                    guild = guilds[song % GUILDS]
                    await fake.slash_command("suno", {"prompt": f"scale song {song}"}, user=fake.alice,
                                             channel=music[guild.id])
                    await asyncio.sleep(max(0.0, started + (song + 1) / args.rate - time.monotonic()))
                done = await wait(lambda: len(posts_per_nonce(fake)) >= args.songs, args.songs / 2 + 120)
                finished = time.monotonic()
            finally:
                await bots.stop_all()
            bot_cpu = _children_cpu() - cpu_before  # every bot process, start-up included, reaped by stop_all()
            posted = posts_per_nonce(fake)
            cycles = bots.cycles()
            calls = [c["calls"] for c in cycles]
            budget = [sum(math.ceil(n / c["batch"]) for n in c["fetched"].values()) for c in cycles]
            return {
                "label": label,
                "delivered": len(posted),
                "complete": done,
                "per_minute": len(posted) / (finished - started) * 60,
                "cpu_ms_per_song": bot_cpu / max(len(posted), 1) * 1000,
                "cycles": len(cycles),
                "calls_mean": statistics.mean(calls) if calls else 0.0,
                "calls_max": max(calls, default=0),
                "budget_mean": statistics.mean(budget) if budget else 0.0,
                "over_budget": len(cycles_over_budget(cycles)),
                "fetch_calls": sum(calls),
                "refetched": len(refetched_within(sim, args.interval / 2)),
                "posted_twice": sum(1 for n in posted.values() if n > 1),
                "submitted_twice": sum(1 for n in submits_per_song(sim).values() if n > 1),
            }


async def main_async(args: argparse.Namespace) -> None:
    admin = args.postgres or os.environ.get("CHORUS_TEST_POSTGRES_URL")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        results.append(await run("sqlite x1", 1, str(workdir / "bench.db"), args, workdir))
        if admin:
            for processes in (1, 3):
                url, name = await fresh_postgres(admin)
                try:
                    results.append(await run(f"postgres x{processes}", processes, url, args, workdir))
                finally:
                    await drop_postgres(admin, name)
        else:
            print("no PostgreSQL (--postgres URL or $CHORUS_TEST_POSTGRES_URL): SQLite only")
    print(f"{args.songs} songs asked at {args.rate}/s over {GUILDS} guilds; poll interval {args.interval} s, "
          f"batch {args.batch}; songs take ~1.4 s on the simulator")
    print(f"{'run':<12} {'delivered':>9} {'songs/min':>9} {'bot CPU/song':>12} {'cycles':>6} {'calls/cycle':>11} "
          f"{'budget':>6} {'max':>4} {'over':>4} {'refetched':>9} {'posted 2x':>9} {'submitted 2x':>12}")
    for r in results:
        print(f"{r['label']:<12} {r['delivered']:>9} {r['per_minute']:>9.0f} {r['cpu_ms_per_song']:>9.1f} ms "
              f"{r['cycles']:>6} {r['calls_mean']:>11.2f} {r['budget_mean']:>6.2f} {r['calls_max']:>4} "
              f"{r['over_budget']:>4} {r['refetched']:>9} {r['posted_twice']:>9} {r['submitted_twice']:>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=None, help="an admin DSN of a PostgreSQL server (creates a database)")
    parser.add_argument("--songs", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="songs asked for per second")
    parser.add_argument("--interval", type=float, default=1.0, help="POLL_INTERVAL of the bots")
    parser.add_argument("--batch", type=int, default=10, help="POLL_BATCH_SIZE of the bots")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
