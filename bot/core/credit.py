"""Credit: the balance of the bot's CometAPI account, and alerts to admins when it runs low or out.

Admins choose a channel and a threshold (/chorus credit-alert). The watch reads the balance every few minutes;
the first reading under a guild's threshold posts one warning there, and nothing more until the balance has
been above it again (the "low spell" is recorded in the guild's settings, so restarts do not repeat it). A
submit that CometAPI refuses for lack of credit alerts the same way, once per spell.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.cometapi import Account, Balance, CometAPIError
from bot.store import GuildSettings, JobStore

log = logging.getLogger(__name__)

# Posts a warning in the guild's alert channel: with the balance read, or None when a submit was refused.
Warn = Callable[[GuildSettings, Balance | None], Awaitable[None]]


class _AlreadyWarned(Exception):
    """The current low spell was announced already."""


class CreditWatch:
    """Reads the balance now and then, and warns each guild that asked, once per low spell."""

    def __init__(
        self, store: JobStore, account: Account, warn: Warn, *, interval: float = 900.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._account = account
        self._warn = warn
        self.interval = interval
        self._now = now
        self._task: asyncio.Task[None] | None = None
        self.last: Balance | None = None

    async def balance(self) -> Balance:
        """The balance now (for /chorus balance); raises a CometAPIError when it cannot be read."""
        self.last = await self._account.balance()
        return self.last

    async def check(self) -> None:
        """Read the balance and warn (or clear) every guild with an alert."""
        balance = await self.balance()
        for settings in await self._store.credit_alert_guilds():
            threshold = settings.credit_alert_below or 0.0
            if balance.account < threshold:
                await self._warn_once(settings.guild_id, balance)
            elif settings.credit_warned_at is not None:
                await self._store.change_guild_settings(
                    settings.guild_id, lambda current: current.replace(credit_warned_at=None), by=None
                )

    async def out_of_credit(self, guild_id: int | None) -> None:
        """A submit was refused for lack of credit: warn the guild's admins, once per spell."""
        if guild_id is not None:
            await self._warn_once(guild_id, None)

    async def _warn_once(self, guild_id: int, balance: Balance | None) -> None:
        now = self._now()

        def claim(current: GuildSettings) -> GuildSettings:
            if current.alert_channel_id is None or current.credit_warned_at is not None:
                raise _AlreadyWarned
            return current.replace(credit_warned_at=now)

        try:
            # Claimed in one transaction: two refusals at the same instant post one warning.
            settings = await self._store.change_guild_settings(guild_id, claim, by=None)
        except _AlreadyWarned:
            return
        try:
            await self._warn(settings, balance)
        except Exception:
            log.exception("could not post the credit warning of guild %d", guild_id)

    def start(self) -> None:
        """Check in the background every `interval` seconds."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="chorus-credit-watch")

    async def stop(self) -> None:
        """Stop checking."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except CometAPIError as exc:
                log.warning("could not read CometAPI's balance: %s", exc)
            except Exception:
                log.exception("credit check failed")
            await asyncio.sleep(self.interval)
