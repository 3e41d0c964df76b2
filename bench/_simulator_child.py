"""Child process of bench/poller.py: a simulator seeded with N never-finishing tasks, kept apart so that the
benchmark's CPU time and memory figures belong to the poller alone."""

from __future__ import annotations

import asyncio
import json
import sys

from bot.simulator import SimulatorServer, Timings


async def main(api_key: str, suno: int, udio: int) -> None:
    async with SimulatorServer(api_key=api_key, timings=Timings(), record_requests=False) as sim:
        ids = {
            "suno": sim.state.seed_tasks(suno, outcome="hang"),
            "udio": sim.state.seed_tasks(udio, provider="udio", outcome="hang"),
        }
        sys.stdout.write(json.dumps({"url": sim.url, "ids": ids}) + "\n")
        sys.stdout.flush()
        # Serve until the parent closes our stdin.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
