"""Optional HTTP endpoint (HEALTH_PORT): /healthz for orchestrators, /metrics for Prometheus."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.app.metrics import CONTENT_TYPE
from bot.core.loop import Loop

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)


class HealthServer:
    """aiohttp server on HEALTH_HOST:HEALTH_PORT, started in setup_hook and stopped in close()."""

    def __init__(self, bot: Chorus, host: str, port: int) -> None:
        self._bot = bot
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        """Listen on HEALTH_HOST:HEALTH_PORT (port 0 picks a free one, kept in `port`)."""
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1]) if runner.addresses else self._port
        log.info("health and metrics on http://%s:%s/healthz and /metrics", self._host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def healthz(self, request: web.Request) -> web.Response:
        """200 when every check passes, else 503; the body says which check failed."""
        checks = {
            "accepting_commands": {"ok": not self._bot.closing},
            "gateway": self._gateway_ok(),
            "database": await self._database_ok(),
            "poller": self._poller_ok(),
            "courier": self._courier_ok(),
            "community_timers": self._timers_ok(),
        }
        healthy = all(check["ok"] for check in checks.values())
        return web.json_response({"status": "ok" if healthy else "unhealthy", "checks": checks},
                                 status=200 if healthy else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        """The Prometheus text exposition of the bot's metrics."""
        body = await self._bot.metrics.render(self._bot.store)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    def _gateway_ok(self) -> dict[str, Any]:
        bot = self._bot
        shards = {shard_id: not shard.is_closed() for shard_id, shard in bot.shards.items()}
        ok = bot.is_ready() and not bot.is_closed() and bool(shards) and all(shards.values())
        return {"ok": ok, "shards": shards, "latency": None if not ok else round(bot.latency, 3)}

    async def _database_ok(self) -> dict[str, Any]:
        try:
            await asyncio.wait_for(self._bot.store.check_writable(), timeout=3)
        except Exception as exc:
            return {"ok": False, "error": type(exc).__name__}
        return {"ok": True}

    def _courier_ok(self) -> dict[str, Any]:
        loop = self._bot.courier.loop
        # A round may take long (large files, rate limits), but the loop itself must be alive.
        return {"ok": loop.running, "seconds_since_last_round": _age(loop)}

    def _timers_ok(self) -> dict[str, Any]:
        loop = self._bot.timers.loop
        # Battles close and challenges move on only while this loop runs.
        return {"ok": loop.running, "seconds_since_last_round": _age(loop)}

    def _poller_ok(self) -> dict[str, Any]:
        loop = self._bot.poller.loop
        # Alive means a cycle ended within a few of its own waits (which grow while backing off or waiting out
        # CometAPI's Retry-After): the loop's heartbeat.
        return {"ok": loop.alive(), "seconds_since_last_cycle": _age(loop)}


def _age(loop: Loop) -> float | None:
    """Seconds since the loop's last round ended, for the body of /healthz."""
    age = loop.seconds_since_round()
    return None if age is None else round(age, 1)
