"""Run the real Chorus bot against the fake Discord and the CometAPI simulator, on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.app.chorus import Chorus
from bot.config import Settings
from bot.core.community.timers import TimersConfig
from bot.core.courier import CourierConfig
from bot.core.listening import ListeningConfig
from bot.core.poller import PollerConfig
from bot.simulator import SimulatorServer
from tests.conftest import API_KEY, FAST_RETRY, relax_limits
from tests.fakes.discord import FakeDiscord


class BotHarness:
    """Starts and stops (and restarts) the real bot; everything it talks to is on 127.0.0.1."""

    def __init__(
        self,
        fake: FakeDiscord,
        sim: SimulatorServer,
        db_path: Path | str,
        *,
        poller: PollerConfig | None = None,
        now: Callable[[], float] | None = time.time,
        relaxed_limits: bool = True,
        overrides: dict[str, Any] | None = None,
        listening: ListeningConfig | None = None,
    ) -> None:
        self.now = now
        self.relaxed_limits = relaxed_limits
        self.fake = fake
        self.sim = sim
        values: dict[str, Any] = {
            "discord_token": SecretStr(fake.token),
            "cometapi_key": SecretStr(API_KEY),
            "cometapi_base_url": sim.url,
            "cometapi_quota_url": sim.url,
            "discord_api_base": fake.api_base,
            "database_url": str(db_path),
            "poll_interval": 0.05,
            "discord_guild_id": fake.guild.id,
            "health_port": 0,  # a free port; the tests read it from bot.health.port
            "credit_check_interval": 3600.0,  # tests read the balance themselves (credit.check()) or set a short one
        }
        self.settings = Settings(**{**values, **(overrides or {})}, _env_file=None)  # type: ignore[call-arg]
        self.poller_config = poller or PollerConfig(interval=0.05, batch_size=50, deadline=600)
        # Deliveries looked for often; a claim's lease of a few seconds, as tests restart the bot mid-post.
        self.courier_config = CourierConfig(interval=0.05, lease=5.0, renew_every=1.0, heartbeat_every=1.0,
                                            heartbeat_timeout=3.0)
        # Community timers look often (battles close, challenges move on, song of the day), with no pause floor.
        self.timers_config = TimersConfig(interval=0.05, min_pause=0.02)
        # Listening parties: the default waits unless a test shortens them (the grace when alone, live looks).
        self.listening_config = listening
        self.bot: Chorus | None = None
        self._runner: asyncio.Task[None] | None = None

    async def start(self) -> Chorus:
        bot = Chorus(
            self.settings, retry=FAST_RETRY, poller_config=self.poller_config, courier_config=self.courier_config,
            guild_ready_timeout=0.05, now=self.now,
            tool_poll_interval=0.02, timers_config=self.timers_config, listening_config=self.listening_config,
        )
        self.bot = bot
        self._runner = asyncio.create_task(bot.start(self.settings.discord_token.get_secret_value()))
        await asyncio.wait_for(self._ready(bot), 10)
        if self.relaxed_limits:
            # Most tests fire several commands at once; the limit tests switch this off and use /chorus.
            await relax_limits(bot.store, self.fake.guild.id)
        return bot

    async def _ready(self, bot: Chorus) -> None:
        while not bot.is_ready():
            if self._runner is not None and self._runner.done():
                self._runner.result()  # surface the start-up error
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)
        self.bot, self._runner = None, None

    async def restart(self) -> Chorus:
        await self.stop()
        return await self.start()
