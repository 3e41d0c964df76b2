"""Chorus, the bot: the wiring. setup_hook builds session, store, client, services, poller and UI; close() undoes it."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from types import TracebackType

import aiohttp
import discord
import yarl
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bot.app.health import HealthServer
from bot.app.metrics import Metrics
from bot.cometapi import Account, CometAPI, RetryPolicy
from bot.config import Settings
from bot.core.admin import AdminService
from bot.core.community import Community
from bot.core.community.timers import CommunityTimers, TimersConfig
from bot.core.courier import Courier, CourierConfig
from bot.core.credit import CreditWatch
from bot.core.jobs import JobService
from bot.core.limits import Caps
from bot.core.listening import ListeningConfig, ListeningService
from bot.core.personas import PersonaService
from bot.core.poller import Poller, PollerConfig
from bot.core.specs import Costs
from bot.core.styles import StyleSuggestions
from bot.core.take_exports import TakeExports
from bot.database_url import describe_url
from bot.store import JobStore, open_store
from bot.ui.alerts import warn_credit
from bot.ui.community.herald import DiscordHerald
from bot.ui.delivery import Deliverer
from bot.ui.forms import answer_stale_form
from bot.ui.items.registry import ALL_ITEMS
from bot.ui.listening.host import ListeningHost
from bot.ui.post_deletes import PostDeletes
from bot.ui.status_cards import StatusCards
from bot.ui.tree import ChorusTree
from bot.ui.voice_support import voice_missing

log = logging.getLogger(__name__)

# Discord allows one IDENTIFY per 5 seconds per bucket (shard id % max_concurrency), per bot token.
IDENTIFY_SPACING = 5.0

EXTENSIONS: tuple[str, ...] = (
    "cogs.suno_commands", "cogs.udio_commands", "cogs.lyrics_commands", "cogs.status_commands",
    "cogs.history_commands", "cogs.context_menu_commands", "cogs.admin_commands", "cogs.persona_commands",
    "cogs.cover_commands", "cogs.charts_commands", "cogs.battle_commands", "cogs.challenge_commands",
    "cogs.jam_commands", "cogs.listen_commands",
)


class Chorus(commands.AutoShardedBot):
    """AutoShardedBot running SHARD_IDS of SHARD_COUNT shards (all of Discord's recommended count when unset); several
    processes share one database and take turns to IDENTIFY."""

    user: discord.ClientUser
    http_session: aiohttp.ClientSession
    store: JobStore
    cometapi: CometAPI
    jobs: JobService
    admin: AdminService
    poller: Poller
    courier: Courier
    credit: CreditWatch
    personas: PersonaService
    exports: TakeExports
    styles: StyleSuggestions
    community: Community
    timers: CommunityTimers
    listening: ListeningHost

    def __init__(
        self,
        settings: Settings,
        *,
        retry: RetryPolicy | None = None,
        poller_config: PollerConfig | None = None,
        courier_config: CourierConfig | None = None,
        tool_poll_interval: float = 2.0,
        timers_config: TimersConfig | None = None,
        now: Callable[[], float] | None = None,
        guild_ready_timeout: float = 2.0,
        listening_config: ListeningConfig | None = None,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # slash commands need no message content or member lists
        intents.guild_messages = True  # not privileged: it brings MESSAGE_DELETE, so a deleted song post is heard of
        intents.voice_states = True  # not privileged: who is in which voice channel, and joining one (/listen)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            max_messages=None,  # raw delete events need no cache, and every guild message would fill it
            # Nobody is pinged unless a send names them explicitly: member text can never @everyone.
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=ChorusTree,
            guild_ready_timeout=guild_ready_timeout,
            shard_count=settings.shard_count,
        )
        if settings.shard_ids is not None:
            self.shard_ids = list(settings.shard_ids)  # this process's slice (settings checked it against the count)
        self.settings = settings
        self._retry = retry
        self._courier_config = courier_config or CourierConfig()
        self._timers_config = timers_config or TimersConfig()
        self._listening_config = listening_config or ListeningConfig()
        self._poller_config = poller_config or PollerConfig(
            interval=settings.poll_interval,
            batch_size=settings.poll_batch_size,
            deadline=settings.job_deadline_minutes * 60.0,
        )
        # An injected clock (tests) also replaces the store's; without one, a shared database keeps its own.
        self._store_clock = now
        self.now = now or time.time
        self.closing = False
        # How long take tools (MIDI) wait between asking CometAPI whether they are ready.
        self.tool_poll_interval = tool_poll_interval
        self._shutdown: asyncio.Future[None] | None = None
        self.metrics = Metrics()
        self.health: HealthServer | None = None
        self._identify_buckets = 1

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Answer a form that was open across a restart (discord.py would drop it silently)."""
        # discord.py keeps open forms in its view store and offers no public way to ask: this is the one place that
        # reads it, and only to give an interaction that would otherwise get no answer its one answer.
        open_forms = self._connection._view_store._modals
        await answer_stale_form(interaction, open_forms)

    async def login(self, token: str) -> None:
        """Point discord.py's REST traffic at DISCORD_API_BASE, then log in."""
        # Every REST call (interactions and webhooks included) is built from Route.BASE, so this one
        # assignment sends all Discord traffic to DISCORD_API_BASE: a rate-limit proxy or a local fake.
        discord.http.Route.BASE = self.settings.discord_api_base
        await super().login(token)

    async def launch_shards(self) -> None:
        """Take the gateway URL (and, without SHARD_COUNT, the shard count) from DISCORD_API_BASE's GET /gateway/bot,
        then connect this process's shards."""
        shards, url, limits = await self.http.get_bot_gateway()
        # With shard_count given discord.py skips /gateway/bot and dials DEFAULT_GATEWAY, which it also falls back to
        # after an invalidated session: aim it at the answer, so a REST proxy or a fake keeps the websocket too.
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        self._identify_buckets = max(1, int(limits.get("max_concurrency") or 1))
        if self.settings.shard_count is None:
            self.shard_count = shards
        await super().launch_shards()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait for this shard's IDENTIFY turn: one per 5 s per bucket across every process sharing the database."""
        bucket = (shard_id or 0) % self._identify_buckets
        try:
            await self.store.take_turn(f"identify:{bucket}", spacing=IDENTIFY_SPACING)
        except Exception:
            log.exception("could not take an IDENTIFY turn from the database; waiting %.0f s instead", IDENTIFY_SPACING)
            await asyncio.sleep(IDENTIFY_SPACING)

    async def setup_hook(self) -> None:
        """Build everything the bot owns, in dependency order, then start the background loops."""
        self.http_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        self.store = await open_store(self.settings.database_url, now=self._store_clock)
        self.cometapi = CometAPI(
            self.http_session,
            self.settings.cometapi_key,
            base_url=self.settings.cometapi_base_url,
            retry=self._retry,
            observer=self.metrics.observe_call,
        )
        self.status_cards = StatusCards(self, now=self.now, yield_to=lambda channel: self.courier.busy_in(channel))
        self.deliverer = Deliverer(self, self.http_session, self.status_cards)
        self.courier = Courier(self.store, self.deliverer, self._courier_config, metrics=self.metrics, now=self.now,
                               on_delivered=lambda: self.timers.wake())
        caps = Caps(total_in_flight=self.settings.max_jobs_in_flight,
                    guild_in_flight=self.settings.max_guild_jobs_in_flight)
        self.account = Account(self.http_session, self.settings.cometapi_key, base_url=self.settings.cometapi_quota_url)
        self.credit = CreditWatch(
            self.store, self.account, lambda settings, balance: warn_credit(self, settings, balance),
            interval=self.settings.credit_check_interval, now=self.now,
        )
        costs = Costs(full_stems=self.settings.stems_cost_songs)
        self.jobs = JobService(self.store, self.cometapi, caps=caps, costs=costs,
                               on_submitted=lambda _job: self.poller.submitted(),
                               on_out_of_credit=lambda job: self.credit.out_of_credit(job.guild_id),
                               owner=self.courier.owner)
        self.personas = PersonaService(self.store, self.cometapi, self.jobs)
        self.exports = TakeExports(self.cometapi, self.jobs, poll_interval=self.tool_poll_interval)
        self.styles = StyleSuggestions(self.cometapi)
        self.poller = Poller(
            self.store,
            self.cometapi,
            dataclasses.replace(self._poller_config, peer_timeout=self._courier_config.heartbeat_timeout),
            on_finished=self.courier.wake,
            after_finish=self.jobs.continue_uploads,
            on_progress=self.status_cards.on_progress,
            metrics=self.metrics,
            now=self.now,
            busy_submits=lambda: self.jobs.submitting,
            # One owner name per process (the courier's): polls, submits and delivery claims all carry it.
            owner=self.courier.owner,
            dead_owners=self.courier.dead_owners,
        )
        self.admin = AdminService(self.store, prices=self.settings.prices, now=self.now)
        self.community = Community(self.store, now=self.now)
        self.timers = CommunityTimers(self.store, DiscordHerald(self), self.community.battles,
                                      self.community.challenges, self._timers_config, now=self.now)
        self.listening = ListeningHost(
            self, ListeningService(self.store, self.community.charts, self.community.challenges),
            self._listening_config,
        )
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(*ALL_ITEMS)
        deletes = PostDeletes(self)
        self.add_listener(deletes.on_raw_message_delete)
        self.add_listener(deletes.on_raw_bulk_message_delete)
        await self._sync_commands()
        self.status_cards.start()
        await self.courier.start()
        self.poller.start()
        self.credit.start()
        self.timers.start()
        if self.settings.health_port is not None:
            self.health = HealthServer(self, self.settings.health_host, self.settings.health_port)
            await self.health.start()
        log.info("set up: CometAPI at %s, database %s", self.settings.cometapi_base_url,
                 describe_url(self.settings.database_url))
        voice_missing()  # checked now: a host without ffmpeg or the voice libraries says so in the log at start

    async def _sync_commands(self) -> None:
        guild_id = self.settings.discord_guild_id
        if guild_id is None:
            synced = await self.tree.sync()
        else:
            guild = discord.Object(id=guild_id)
            # Guild commands appear at once, which is what a test server wants.
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        log.info("synced %d application command(s)%s", len(synced), f" to guild {guild_id}" if guild_id else "")

    async def close(self) -> None:
        """Stop taking commands, finish the poll cycle under way, then close Discord, HTTP and the database."""
        # Every caller (a signal handler, `async with`, discord.py) waits for the same single shutdown: if a
        # second caller returned early, asyncio.run() would cancel the first one half-way.
        if self._shutdown is None:
            self.closing = True
            self._shutdown = asyncio.ensure_future(self._close())
        await asyncio.shield(self._shutdown)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # discord.py skips close() once the gateway is closed, but our shutdown may still be closing HTTP and
        # the database: always wait for it, or asyncio.run() cancels it and the database thread is left open.
        await self.close()

    async def _close(self) -> None:
        log.info("shutting down: no new commands; finishing the current poll cycle")
        if hasattr(self, "listening"):
            await self.listening.close()  # listening parties leave their voice channels first, saying why
            log.debug("listening parties ended")
        # The poll cycle under way may be delivering, which needs the gateway and HTTP client: stop it first.
        if hasattr(self, "credit"):
            await self.credit.stop()
        if hasattr(self, "poller"):
            await self.poller.stop()
            log.debug("poller stopped")
        if hasattr(self, "timers"):
            await self.timers.stop()
            log.debug("community timers stopped")
        if hasattr(self, "courier"):
            await self.courier.stop()  # lets the posts under way finish
            log.debug("courier stopped")
        if hasattr(self, "status_cards"):
            await self.status_cards.stop()
            log.debug("status cards stopped")
        await super().close()
        log.debug("discord connection closed")
        if self.health is not None:
            await self.health.stop()
            log.debug("health endpoint stopped")
        if hasattr(self, "http_session"):
            await self.http_session.close()
            log.debug("HTTP session closed")
        if hasattr(self, "store"):
            await self.store.close()
            log.debug("database closed")
        log.info("shut down cleanly")
