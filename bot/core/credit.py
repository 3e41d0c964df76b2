"""Credit: the balance of the bot's CometAPI account, and alerts to admins when it runs low or out.

Admins choose a channel and a threshold (/chorus credit-alert). The watch reads the balance every
CREDIT_CHECK_INTERVAL seconds, and at once when an admin switches an alert on (so an alert set while the credit is
already low fires within seconds, not at the next reading). The first reading under a guild's threshold posts one
warning there, and nothing more until the balance has been above it again (the "low spell" is recorded in the
guild's settings, so restarts do not repeat it). What counts is what the bot can spend: the account's balance, or
its key's own quota when that is smaller (an unlimited key has none). A submit that CometAPI refuses for lack of
credit alerts the same way, once per spell.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from bot.cometapi import Account, Balance, CometAPIError
from bot.core.loop import Loop, Timer
from bot.domain import GuildSettings
from bot.store import JobStore

log = logging.getLogger(__name__)

# Posts a warning in the guild's alert channel: with the balance read, or None when a submit was refused.
Warn = Callable[[GuildSettings, Balance | None], Awaitable[None]]


# Readings asked for by admins (switching an alert on) are at least this many seconds apart.
WAKE_GAP = 10.0


class _AlreadyWarned(Exception):
    """The current low spell was announced already."""


class CreditWatch:
    """Reads the balance now and then, and warns each guild that asked, once per low spell."""

    def __init__(
        self, store: JobStore, account: Account, warn: Warn, *, interval: float = 900.0,
        wake_gap: float = WAKE_GAP, now: Callable[[], float] = time.time, timer: Timer | None = None,
    ) -> None:
        self._store = store
        self._account = account
        self._warn = warn
        self.interval = interval
        self.wake_gap = wake_gap
        self._now = now
        self._loop = Loop("credit-watch", self._round, interval=interval, grace=5.0, timer=timer)
        # When the last reading an admin asked for was (or is to be) taken, on the loop's timer.
        self._woken_reading: float | None = None
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
            if balance.spendable < threshold:
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

    def wake(self) -> None:
        """Read the balance soon (an alert was switched on), not at the next regular reading; but no more often than
        `wake_gap`, so repeated commands (from many guilds) cannot turn into a stream of calls to the balance host."""
        now = self._loop.timer.now()
        if self._woken_reading is not None and self._woken_reading > now:
            return  # a reading is coming, after this change: it answers this wake too
        at = now if self._woken_reading is None else max(now, self._woken_reading + self.wake_gap)
        self._woken_reading = at
        # A wake during a reading brings another one (the change may have come after the settings were read).
        self._loop.wake(at - now)

    def start(self) -> None:
        """Check in the background every `interval` seconds."""
        self._loop.start()

    async def stop(self) -> None:
        """Stop checking (a reading under way is given a few seconds to finish)."""
        await self._loop.stop()

    @property
    def loop(self) -> Loop:
        """The loop the watch runs on."""
        return self._loop

    async def _round(self) -> None:
        # Errors are logged and the next reading comes at the usual interval: it is 15 minutes away already.
        try:
            await self.check()
        except CometAPIError as exc:
            log.warning("could not read CometAPI's balance: %s", exc)
        except Exception:
            log.exception("credit check failed")
