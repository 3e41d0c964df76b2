"""SimulatorServer: run the simulated CometAPI on a real socket, for tests, benchmarks and admins."""

from __future__ import annotations

import logging
import socket
from types import TracebackType

from aiohttp import web
from aiohttp.log import access_logger

from .app import RecordedRequest, SimContext, create_app
from .faults import Faults
from .media import DEFAULT_AUDIO_BYTES, MediaStore
from .relay import Relay
from .state import Clock, SimState, Timings

log = logging.getLogger(__name__)

DEFAULT_API_KEY = "sk-simulator"


class SimulatorServer:
    """A fake CometAPI on `host:port` (port 0 picks a free one); use `async with` or start()/stop().

    `relay` switches on behaviours of the live relay that the docs understate (see relay.py); `True` means all
    of them (`Relay.live()`), the default none.
    """

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        timings: Timings | None = None,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        audio_bytes: int = DEFAULT_AUDIO_BYTES,
        seed: int | None = None,
        record_requests: bool = True,
        access_log: bool = False,
        shutdown_timeout: float = 1.0,
        relay: Relay | bool | None = None,
    ) -> None:
        self.api_key = api_key
        self.host, self.port = host, port
        chosen = Relay.live() if relay is True else (relay or None)
        self.state = SimState(timings, clock, seed, relay=chosen)
        self.faults = Faults()
        self.media = MediaStore(self.state.clips.__contains__, audio_bytes)
        self._ctx = SimContext(api_key, self.state, self.faults, self.media, record=record_requests)
        self.app = create_app(self._ctx)
        self._access_log = access_log
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def relay(self) -> Relay:
        """The relay behaviours in force; tests may change them while the server runs."""
        return self.state.relay

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request seen so far, oldest first (clear it with `reset_log`)."""
        return self._ctx.requests

    def count(self, endpoint: str) -> int:
        """How many requests reached `endpoint` (faulted ones included)."""
        return sum(1 for r in self._ctx.requests if r.endpoint == endpoint)

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        """The recorded requests to one endpoint."""
        return [r for r in self._ctx.requests if r.endpoint == endpoint]

    def reset_log(self) -> None:
        """Forget the recorded requests."""
        self._ctx.requests.clear()

    async def start(self) -> SimulatorServer:
        """Listen and set `url`, e.g. "http://127.0.0.1:54321"."""
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        runner = web.AppRunner(
            self.app,
            shutdown_timeout=self._shutdown_timeout,
            access_log=access_logger if self._access_log else None,
        )
        await runner.setup()
        try:
            sock = socket.create_server((self.host, self.port), family=_family(self.host))
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = sock.getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{self.port}"
        log.info("CometAPI simulator listening on %s", self.url)
        return self

    async def stop(self) -> None:
        """Stop listening; requests stuck in a "hang" fault are cut off."""
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        self._ctx.closing.set()
        await runner.cleanup()
        log.info("CometAPI simulator on %s stopped", self.url)

    async def __aenter__(self) -> SimulatorServer:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
