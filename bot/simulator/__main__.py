"""python -m bot.simulator: run a fake CometAPI locally so the bot can be tried without spending credits."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys

from .faults import ENDPOINTS
from .relay import ACT_ANSWERS, UPLOAD_ANSWERS, Relay
from .server import DEFAULT_API_KEY, SimulatorServer
from .state import Timings

log = logging.getLogger(__name__)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bot.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on, 0 for any (default: %(default)s)")
    parser.add_argument(
        "--key",
        default=os.environ.get("COMETAPI_KEY") or DEFAULT_API_KEY,
        help="API key clients must send as a Bearer token (default: $COMETAPI_KEY or sk-simulator)",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="multiply every stage duration by this (0.1 = ten times faster)"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for ids and durations (reproducible runs)")
    parser.add_argument(
        "--relay", action="store_true",
        help="behave like the live relay: description mode drops style and title, one failed take fails the task, "
        "progress stays 0%%, unknown routes answer 200 HTML, nested Udio query, data: null for unknown ids",
    )
    parser.add_argument(
        "--switch-off", action="append", default=[], choices=sorted(ENDPOINTS - {"media"}), metavar="ENDPOINT",
        help="answer this route with the web UI's HTML page, as when CometAPI switches it off (repeatable)",
    )
    parser.add_argument("--used-up-key", action="append", default=[], metavar="KEY",
                        help="a key whose quota is used up: answered 401 该令牌额度已用尽 (repeatable)")
    # Answers the docs list several shapes for, where which one CometAPI serves is not settled (shared/api §8).
    for route in ("wav", "mp4"):
        parser.add_argument(f"--{route}-answer", choices=ACT_ANSWERS, default="url",
                            help=f"how /suno/act/{route} answers: a URL object (default), the same in {{code, data}}, "
                            "a conversion task to fetch, or {} until converted")
    parser.add_argument("--upload-answer", choices=UPLOAD_ANSWERS, default="task",
                        help="what an upload answers: its task id (default), an id no fetch knows, or a task id that "
                        "batch fetch leaves out")
    parser.add_argument("--no-clip-videos", action="store_true",
                        help="finished clips carry no video_url: a take's video comes only from /suno/act/mp4")
    args = parser.parse_args(argv)
    if args.speed < 0:
        parser.error("--speed must be >= 0")
    return args


def relay_of(args: argparse.Namespace) -> Relay:
    """The relay behaviours the command line asks for."""
    relay = Relay.live() if args.relay else Relay()
    relay.switched_off.update(args.switch_off)
    relay.used_up_keys.update(args.used_up_key)
    relay.act_answers.update({route: getattr(args, f"{route}_answer") for route in ("wav", "mp4")
                              if getattr(args, f"{route}_answer") != "url"})
    relay.upload_answer = args.upload_answer
    relay.clip_videos = not args.no_clip_videos
    return relay


async def serve(args: argparse.Namespace) -> None:
    """Run until Ctrl-C or SIGTERM, then shut down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Also overrides an inherited "ignore SIGINT" (background jobs); Windows falls back to KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    sim = SimulatorServer(
        api_key=args.key,
        timings=Timings().scaled(args.speed),
        host=args.host,
        port=args.port,
        seed=args.seed,
        record_requests=False,  # a long-running server would otherwise grow without bound
        access_log=True,
        relay=relay_of(args),
    )
    async with sim:
        # The one line admins (and scripts) look for: where to point COMETAPI_BASE_URL.
        sys.stdout.write(f"CometAPI simulator listening on {sim.url}\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # e.g. the port is taken
        sys.stderr.write(f"cannot start the simulator on {args.host}:{args.port}: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
