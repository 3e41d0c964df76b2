"""Benchmark scaling out: 1 bot process on SQLite, 1 and 3 processes on one PostgreSQL database, each run against the
simulator and the fake Discord on loopback with the same load.

Run: `python bench/scale.py` (needs a PostgreSQL server: --postgres URL or $CHORUS_TEST_POSTGRES_URL; a fresh database
is created and dropped per run). Options: --songs 1000 --rate 200 --interval 1 --batch 10; --runs picks the runs
(sqlite,postgres1,postgres3).

Each run asks for `--songs` songs over six guilds at `--rate` per second (as many members would) and reports: songs
delivered per minute (first request to last post), the bots' CPU time per song, the CometAPI fetch calls per poll
cycle against the budget ⌈n/batch⌉ per provider and action, the calls of all processes per poll interval against the
ideal ⌈in flight/batch⌉ per provider (as they crossed the wire), tasks fetched twice within half an interval, and
duplicates (posts per nonce and submits per song, as they crossed the wire).

Two more things it can measure:
- A memory soak, `--rss-every N` (e.g. `--runs sqlite --songs 5000 --rate 20 --rss-every 500`): the resident memory
  (VmRSS) of each bot process every N delivered songs, and its growth after `--warmup` songs.
- A database restart, `--restart-db-at SECONDS --down 4 [--late-process]` (e.g. `--runs postgres3 --songs 300 --rate
  15`): the PostgreSQL cluster of `.ci/postgres.sh` is crashed (`pg_ctl stop -m immediate`) that many seconds into the
  burst and started again `--down` seconds later; with --late-process one more bot process (a shard of its own, with
  no guild) is started while it is down. The run's database commits durably, as in production (the test cluster's
  synchronous_commit=off would lose the last commits in a crash; --lossy-commits keeps it). Reports the commands
  answered with an error, those not acknowledged within Discord's 3 s, accepted (submitted) songs never posted,
  duplicates, and whether the late process waited and served.

Not a test: figures, not assertions.
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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._outage import Answers, PostgresCluster, sort_answers  # noqa: E402
from bot.simulator import SimulatorServer, Timings  # noqa: E402
from bot.store import open_store  # noqa: E402
from tests.conftest import relax_limits, with_database  # noqa: E402
from tests.fakes.discord import FakeDiscord  # noqa: E402
from tests.fakes.discord.interactions import FakeInteraction  # noqa: E402
from tests.scale import (  # noqa: E402
    SONG,
    BotProcesses,
    calls_per_interval,
    cycles_over_budget,
    posts_per_nonce,
    refetched_within,
    submits_per_song,
)

API_KEY = "sk-bench"
GUILDS = 6
RUNS = {"sqlite": ("sqlite x1", 1), "postgres1": ("postgres x1", 1), "postgres3": ("postgres x3", 3)}


async def fresh_postgres(admin_url: str, *, durable: bool = False) -> tuple[str, str]:
    """A new database on the server (its URL and name). `durable`: its commits are on disk before they return, as
    on a production server (the test cluster turns synchronous_commit off, so a crash there also loses the last
    commits the bots were told were made)."""
    name = f"chorus_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        if durable:
            await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO on')
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


async def wait(check: Any, within: float, every: float = 0.1) -> bool:
    """Whether `check()` came true within `within` seconds, looking every `every` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(every)
    return False


async def wait_async(check: Callable[[], Awaitable[bool]], within: float) -> bool:
    """Whether `await check()` came true within `within` seconds, looking every half second."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.5)
    return False


RssSeries = list[tuple[int, dict[int, float]]]


async def sample_rss(bots: BotProcesses, fake: FakeDiscord, every: int, series: RssSeries) -> None:
    """Append (songs delivered, RSS MiB per process) each time another `every` songs have been delivered."""
    mark = 0
    while True:
        delivered = len(posts_per_nonce(fake))
        if delivered >= mark:
            series.append((delivered, bots.rss_mib()))
            mark = (delivered // every + 1) * every
        await asyncio.sleep(0.5)


def messages_per_nonce(fake: FakeDiscord) -> dict[str, set[str]]:
    """The distinct messages each job's posts made: a POST repeated with the same nonce (discord.py sends
    enforce_nonce) is answered with the message the first one made, so members see it once."""
    made: dict[str, set[str]] = {}
    for request in fake.find_requests("POST", "/channels/", 200):
        nonce = str((request.json or {}).get("nonce") or "")
        if request.path.endswith("/messages") and nonce.startswith("chorus-job-"):
            made.setdefault(nonce, set()).add(str((request.response or {}).get("id")))
    return made


class PostedSongs:
    """Which songs (their number in the prompt) were posted: a post names its job in its nonce (chorus-job-ID), and
    the job's prompt is in the store."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._songs: dict[int, int | None] = {}  # job id → song number (None: not a bench song)

    async def of(self, fake: FakeDiscord) -> set[int]:
        """The songs whose post reached a channel, as it crossed the wire."""
        ids = {int(nonce.removeprefix("chorus-job-").removesuffix("-late")) for nonce in posts_per_nonce(fake)}
        if new := ids - set(self._songs):
            store = await open_store(self._url)
            try:
                for job_id in new:
                    job = await store.get(job_id)
                    match = SONG.search(str(job.params)) if job is not None else None
                    self._songs[job_id] = int(match.group(1)) if match else None
            finally:
                await store.close()
        return {song for job_id in ids if (song := self._songs[job_id]) is not None}


async def restart_database(cluster: PostgresCluster, args: argparse.Namespace, started: float, bots: BotProcesses,
                           late: int | None) -> dict[str, Any]:
    """Crash the cluster `--restart-db-at` seconds after `started` and start it `--down` seconds later; start
    process `late` (if any) while it is down. Returns when (monotonic) it went down and came back, and whether the
    late process was still running when the database came back."""
    await asyncio.sleep(max(0.0, started + args.restart_db_at - time.monotonic()))
    down = time.monotonic()
    await cluster.crash()
    try:
        if late is not None:
            await asyncio.sleep(args.down / 4)
            await bots.start(late)
        await asyncio.sleep(max(0.0, down + args.down - time.monotonic()))
    finally:
        # Never leave the cluster down, even when the run is cut short.
        await asyncio.shield(cluster.start())
    up = time.monotonic()
    survived = late is not None and late in bots.procs and bots.procs[late].returncode is None
    return {"down_at": down, "up_at": up, "late_waited": survived}


async def run(label: str, processes: int, database_url: str, args: argparse.Namespace, workdir: Path,
              cluster: PostgresCluster | None = None) -> dict[str, Any]:
    """One run of `processes` bot processes on `database_url`; with `cluster`, the database is crashed mid-burst."""
    # The late process of a restart is one more shard, with no guild (it serves its share of polls and posts).
    late = processes if cluster is not None and args.late_process else None
    shards = processes + (late is not None)
    async with FakeDiscord() as fake:
        fake.settings.shard_count = shards
        fake.settings.max_concurrency = shards  # one IDENTIFY bucket per shard: start-up is not what is measured
        fake.ack_deadline = args.ack_deadline
        guilds = [fake.world.add_server(f"Guild {n}", shard=n % processes, shard_count=shards)
                  for n in range(GUILDS)]
        music = {g.id: next(c for c in g.channels if c.name == "music") for g in guilds}
        store = await open_store(database_url)
        for guild in guilds:
            await relax_limits(store, guild.id)
        await store.close()
        async with SimulatorServer(api_key=API_KEY, timings=Timings().scaled(0.05), audio_bytes=8 * 1024,
                                   shutdown_timeout=0.2) as sim:
            bots = BotProcesses.against(fake, sim, database_url, shards, workdir / label.replace(" ", "-"),
                                        POLL_INTERVAL=str(args.interval), POLL_BATCH_SIZE=str(args.batch),
                                        LOG_LEVEL="WARNING")
            bots.shards = shards > 1
            cpu_before = _children_cpu()
            for index in range(processes):
                await bots.start(index)
            interactions: list[FakeInteraction] = []
            rss: RssSeries = []
            outage: dict[str, Any] = {}
            background: list[asyncio.Task[Any]] = []
            restart: asyncio.Task[dict[str, Any]] | None = None
            songs_posted = PostedSongs(database_url)
            # With thousands of songs, counting posts is itself work on these two cores: look less often.
            every = 1.0 if args.songs > 2000 else 0.1
            try:
                if not await wait(lambda: fake.gateway.connected_shards() == set(range(processes)), 120):
                    raise RuntimeError(f"{label}: the bots did not connect\n{bots.logs()}")
                started = time.monotonic()
                if args.rss_every:
                    background.append(asyncio.create_task(sample_rss(bots, fake, args.rss_every, rss)))
                if cluster is not None:
                    restart = asyncio.create_task(restart_database(cluster, args, started, bots, late))
                for song in range(args.songs):
                    guild = guilds[song % GUILDS]
                    interactions.append(await fake.slash_command("suno", {"prompt": f"scale song {song}"},
                                                                 user=fake.alice, channel=music[guild.id]))
                    await asyncio.sleep(max(0.0, started + (song + 1) / args.rate - time.monotonic()))
                if restart is None:
                    done = await wait(lambda: len(posts_per_nonce(fake)) >= args.songs, args.songs / 2 + 120, every)
                else:
                    outage = await restart
                    # Every song CometAPI was asked for (paid) must be posted; the refused ones never will be.
                    async def all_posted() -> bool:
                        return set(submits_per_song(sim)) <= await songs_posted.of(fake)
                    done = await wait_async(all_posted, args.songs / 2 + 120)
                    await asyncio.sleep(10)  # a reservation that waited for the database may still submit
                    done = await wait_async(all_posted, 60)
                finished = time.monotonic()
                if args.rss_every:
                    rss.append((len(posts_per_nonce(fake)), bots.rss_mib()))
                if late is not None:
                    outage["late_connected"] = late in fake.gateway.connected_shards()
                    outage["late_running"] = late in bots.procs and bots.procs[late].returncode is None
                    trace = bots.workdir / f"cycles-{late}.jsonl"
                    outage["late_cycles"] = len(trace.read_text().splitlines()) if trace.exists() else 0
                    outage["late_log"] = [line for path in sorted(bots.workdir.glob(f"bot-{late}-*.log"))
                                          for line in path.read_text(errors="replace").splitlines()
                                          if "database" in line.lower()][:3]
            finally:
                for task in background:
                    task.cancel()
                if restart is not None and not restart.done():
                    restart.cancel()
                    await asyncio.gather(restart, return_exceptions=True)
                await bots.stop_all()
            bot_cpu = _children_cpu() - cpu_before  # every bot process, start-up included, reaped by stop_all()
            posted = posts_per_nonce(fake)
            cycles = bots.cycles()
            calls = [c["calls"] for c in cycles]
            budget = [sum(math.ceil(n / c["batch"]) for n in c["fetched"].values()) for c in cycles]
            windows = calls_per_interval(sim, args.interval, args.batch)
            wire_calls, ideal = sum(c for c, _ in windows), sum(i for _, i in windows)
            submitted = set(submits_per_song(sim))
            result: dict[str, Any] = {
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
                "shown_twice": sum(1 for ids in messages_per_nonce(fake).values() if len(ids) > 1),
                "submitted_twice": sum(1 for n in submits_per_song(sim).values() if n > 1),
                "intervals": len(windows),
                "interval_calls": wire_calls / max(len(windows), 1),
                "interval_ideal": ideal / max(len(windows), 1),
                "interval_ratio": wire_calls / max(ideal, 1),
                "interval_worst": max((c / i for c, i in windows if i), default=0.0),
                "rss": rss,
                "answers": sort_answers(interactions),
                "submitted": len(submitted),
                "never_posted": sorted(submitted - await songs_posted.of(fake)) if outage else [],
                "outage": outage,
            }
            if outage:
                down, up = outage["down_at"], outage["up_at"]
                post_times = [request.at for request in fake.find_requests("POST", "/channels/", 200)
                              if str((request.json or {}).get("nonce") or "").startswith("chorus-job-")]
                outage["last_post_after_up"] = max(post_times, default=up) - up
                # Commands sent while the database was down, or within Discord's 3 s before it went down.
                result["during"] = sort_answers([i for i in interactions if down - 3.0 <= i.sent_at <= up])
            return result


async def main_async(args: argparse.Namespace) -> None:
    """Run the runs `--runs` names and print their figures."""
    admin = args.postgres or os.environ.get("CHORUS_TEST_POSTGRES_URL")
    cluster = PostgresCluster.from_env(args.pg_bin, args.pg_data) if args.restart_db_at is not None else None
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.keep or tmp)
        for key in args.runs.split(","):
            label, processes = RUNS[key]
            if key == "sqlite":
                results.append(await run(label, processes, str(workdir / "bench.db"), args, workdir))
            elif admin:
                url, name = await fresh_postgres(admin, durable=cluster is not None and not args.lossy_commits)
                try:
                    results.append(await run(label, processes, url, args, workdir, cluster))
                finally:
                    await drop_postgres(admin, name)
            else:
                print(f"no PostgreSQL (--postgres URL or $CHORUS_TEST_POSTGRES_URL): {label} left out")
    print(f"{args.songs} songs asked at {args.rate}/s over {GUILDS} guilds; poll interval {args.interval} s, "
          f"batch {args.batch}; songs take ~1.4 s on the simulator")
    print(f"{'run':<12} {'delivered':>9} {'songs/min':>9} {'bot CPU/song':>12} {'cycles':>6} {'calls/cycle':>11} "
          f"{'budget':>6} {'max':>4} {'over':>4} {'refetched':>9} {'posted 2x':>9} {'submitted 2x':>12}")
    for r in results:
        print(f"{r['label']:<12} {r['delivered']:>9} {r['per_minute']:>9.0f} {r['cpu_ms_per_song']:>9.1f} ms "
              f"{r['cycles']:>6} {r['calls_mean']:>11.2f} {r['budget_mean']:>6.2f} {r['calls_max']:>4} "
              f"{r['over_budget']:>4} {r['refetched']:>9} {r['posted_twice']:>9} {r['submitted_twice']:>12}")
    print(f"\nAll processes together, per poll interval (as the calls crossed the wire; ideal ⌈in flight/batch⌉ per"
          f" provider):\n{'run':<12} {'intervals':>9} {'calls':>6} {'ideal':>6} {'ratio':>6} {'worst interval':>14}")
    for r in results:
        print(f"{r['label']:<12} {r['intervals']:>9} {r['interval_calls']:>6.2f} {r['interval_ideal']:>6.2f} "
              f"{r['interval_ratio']:>5.2f}x {r['interval_worst']:>13.2f}x")
    print(f"\nThe commands' answers (Discord's window to acknowledge is 3 s; the fake's is {args.ack_deadline:g} s):\n"
          f"{'run':<12} {'cards':>6} {'errors':>6} {'unanswered':>10} {'acked > 3 s':>11} {'slowest':>7}")
    for r in results:
        a: Answers = r["answers"]
        print(f"{r['label']:<12} {a.cards:>6} {a.error_count:>6} {a.unanswered:>10} {a.late:>11} {a.slowest:>6.1f}s")
        for text, count in a.errors.most_common(3):
            print(f"  {count} x {text!r}")
    for r in results:
        if r["rss"]:
            print_rss(r["label"], r["rss"], args.warmup)
        if r["outage"]:
            print_outage(r)


def print_rss(label: str, series: RssSeries, warmup: int) -> None:
    """The RSS series of each process, and its growth from the first sample at `warmup` songs to the last."""
    print(f"\n{label}: resident memory (VmRSS, MiB) by songs delivered")
    indexes = sorted({index for _, sample in series for index in sample})
    print(f"{'delivered':>9} " + " ".join(f"{f'process {i}':>10}" for i in indexes))
    for delivered, sample in series:
        print(f"{delivered:>9} " + " ".join(f"{sample.get(i, float('nan')):>10.1f}" for i in indexes))
    warm = next(((d, s) for d, s in series if d >= warmup), None)
    last = series[-1]
    for index in indexes:
        if warm is None or index not in warm[1] or index not in last[1] or last[0] <= warm[0]:
            print(f"process {index}: not enough songs after the warm-up of {warmup} to judge growth")
            continue
        grown = last[1][index] - warm[1][index]
        per_thousand = grown / (last[0] - warm[0]) * 1000
        print(f"process {index}: {warm[1][index]:.1f} MiB at {warm[0]} songs → {last[1][index]:.1f} MiB at "
              f"{last[0]}: {grown:+.1f} MiB ({per_thousand:+.2f} MiB per 1,000 songs)")


def print_outage(r: dict[str, Any]) -> None:
    """What the members saw of the database restart, and what became of the songs."""
    outage, answers, during = r["outage"], r["answers"], r["during"]

    def line(name: str, a: Answers) -> str:
        return (f"{name}: {a.cards} status cards, {a.error_count} errors, {a.unanswered} unanswered, {a.late} "
                f"acknowledged after 3 s (slowest {a.slowest:.1f} s)")

    print(f"\n{r['label']}: PostgreSQL down for {outage['up_at'] - outage['down_at']:.1f} s")
    print(line("all commands", answers))
    print(line(f"{sum((during.cards, during.error_count, during.unanswered))} commands sent while it was down (or"
               " 3 s before)", during))
    for text, count in answers.errors.most_common(5):
        print(f"  {count} x {text!r}")
    print(f"last song posted {outage['last_post_after_up']:.1f} s after the database came back")
    print(f"songs submitted to CometAPI: {r['submitted']}; never posted: {len(r['never_posted'])} "
          f"{r['never_posted'][:10]}; posted twice: {r['posted_twice']} (as two messages: {r['shown_twice']}); "
          f"submitted twice: {r['submitted_twice']}")
    if "late_running" in outage:
        print(f"late process: still running when the database came back: {outage['late_waited']}; connected at the "
              f"end: {outage['late_connected']}; running at the end: {outage['late_running']}; "
              f"poll cycles that fetched: {outage['late_cycles']}")
        for text in outage["late_log"]:
            print(f"  log: {text[:160]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=None, help="an admin DSN of a PostgreSQL server (creates a database)")
    parser.add_argument("--songs", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="songs asked for per second")
    parser.add_argument("--interval", type=float, default=1.0, help="POLL_INTERVAL of the bots")
    parser.add_argument("--batch", type=int, default=10, help="POLL_BATCH_SIZE of the bots")
    parser.add_argument("--runs", default="sqlite,postgres1,postgres3",
                        help=f"which runs, comma-separated, of {', '.join(RUNS)}")
    parser.add_argument("--ack-deadline", type=float, default=10.0,
                        help="the fake Discord's window to acknowledge (Discord's is 3 s; later acks are counted)")
    parser.add_argument("--rss-every", type=int, default=0, metavar="N",
                        help="sample each bot process's RSS every N delivered songs (a memory soak)")
    parser.add_argument("--warmup", type=int, default=1000, help="with --rss-every: songs before growth is judged")
    parser.add_argument("--restart-db-at", type=float, default=None, metavar="SECONDS",
                        help="crash PostgreSQL this long into the burst (PostgreSQL runs only)")
    parser.add_argument("--down", type=float, default=4.0, help="with --restart-db-at: seconds before it restarts")
    parser.add_argument("--late-process", action="store_true",
                        help="with --restart-db-at: start one more bot process while the database is down")
    parser.add_argument("--lossy-commits", action="store_true",
                        help="with --restart-db-at: keep the test cluster's synchronous_commit=off (a crash loses the "
                             "last commits), instead of durable commits as in production")
    parser.add_argument("--keep", default=None, metavar="DIR",
                        help="keep the bots' logs and cycle traces in DIR (default: a temporary folder)")
    parser.add_argument("--pg-bin", default=None, help="the cluster's pg_ctl folder (default $CHORUS_PG_BIN)")
    parser.add_argument("--pg-data", default=None, help="the cluster's data folder (default $CHORUS_PG_DIR/data)")
    args = parser.parse_args()
    if unknown := set(args.runs.split(",")) - set(RUNS):
        parser.error(f"unknown runs: {', '.join(sorted(unknown))}")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
