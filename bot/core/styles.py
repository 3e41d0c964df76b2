"""Style suggestions for /suno's `style` option: the built-in list first, Suno's tag upsampling now and then.

Discord asks for suggestions on every keystroke. CometAPI's `/suno/act/tags` may be charged (its price is not
published), so it is asked only once a member pauses (a newer keystroke within SETTLE_SECONDS wins), at most once
per member per MEMBER_GAP_SECONDS, and its answers are kept in a small LRU cache. Typing "sea shanty with a banjo"
letter by letter is one call, not one per letter.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from cachetools import LRUCache

from bot.cometapi import CometAPI, CometAPIError

log = logging.getLogger(__name__)

# Popular styles, for the first letters typed and whenever upsampling is unavailable.
POPULAR_STYLES: tuple[str, ...] = (
    "pop", "indie folk", "lo-fi hip hop", "synthwave", "sea shanty", "epic orchestral", "drum and bass",
    "jazz ballad", "bossa nova", "punk rock", "k-pop", "reggaeton", "ambient", "country", "gospel choir",
    "metal", "trap", "chiptune", "acoustic singer-songwriter", "disco funk", "emo rock", "afrobeats",
    "city pop", "dream pop", "cinematic trailer",
)
# Autocomplete must answer within Discord's 3 seconds: SETTLE_SECONDS + UPSAMPLE_TIMEOUT stays well inside it.
UPSAMPLE_TIMEOUT = 1.5
# A keystroke waits this long for the next one before CometAPI is asked about it (people type faster than this).
SETTLE_SECONDS = 0.6
# One member's calls to CometAPI are at least this far apart, however they type.
MEMBER_GAP_SECONDS = 5.0
# Upsampled styles kept (least recently used dropped first), and members whose last call is remembered.
CACHE_SIZE = 256
# A failed upsampling is not retried for this long (the route may simply not exist on CometAPI).
BACKOFF_SECONDS = 600.0
MIN_TYPED = 3  # fewer letters say too little to upsample
CHOICE_MAX = 100  # Discord's limit on a choice's name and value
CHOICES = 25  # Discord's limit on the number of choices

Sleep = Callable[[float], Awaitable[None]]


class StyleSuggestions:
    """Suggests styles for what a member has typed so far."""

    def __init__(
        self, api: CometAPI, *, settle: float = SETTLE_SECONDS, member_gap: float = MEMBER_GAP_SECONDS,
        cache_size: int = CACHE_SIZE, clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._api = api
        self._settle = settle
        self._member_gap = member_gap
        self._clock = clock
        self._sleep = sleep
        self._cache: LRUCache[str, str] = LRUCache(cache_size)
        self._typing: dict[int, int] = {}  # member → number of their latest keystroke (only while it settles)
        self._asked_at: LRUCache[int, float] = LRUCache(cache_size)  # member → when CometAPI was last asked for them
        self._keystrokes = 0
        self._down_until = 0.0

    @property
    def cache_size(self) -> int:
        """How many upsampled styles are kept now (never more than the cache's maximum)."""
        return len(self._cache)

    async def suggest(self, typed: str, *, member: int, allowed: Callable[[], Awaitable[bool]] | None = None
                      ) -> list[str]:
        """Up to 25 styles: what was typed, the popular ones that match, then Suno's richer take when there is one.
        `allowed` is asked (only) before Suno would be: a member the server's rules keep from Suno gets the list."""
        typed = typed.strip()
        wanted = typed.lower()
        found = [style for style in POPULAR_STYLES if wanted in style] if wanted else list(POPULAR_STYLES)
        if typed and wanted not in found:
            found.insert(0, typed[:CHOICE_MAX])
        if len(typed) >= MIN_TYPED:
            richer = self._cached(wanted)
            # While the route is known to fail, nothing waits for it.
            if (richer is None and self._clock() >= self._down_until and await self._settled(member)
                    and await _may_ask(allowed)):
                richer = await self._upsample(typed, member)
            if richer:
                # Last of the ones shown, so the built-in (free, instant) styles are never pushed off the list.
                found = [*found[: CHOICES - 1], _choice(richer)]
        return list(dict.fromkeys(found))[:CHOICES]

    def _cached(self, key: str) -> str | None:
        return self._cache.get(key)

    async def _settled(self, member: int) -> bool:
        """Wait briefly; True when no newer keystroke of this member arrived and their gap since the last call has
        passed (the newest keystroke is the one worth asking about)."""
        last = self._asked_at.get(member)
        if last is not None and self._clock() + self._settle - last < self._member_gap:
            return False  # asked for them moments ago: answer from the list at once, without waiting
        self._keystrokes += 1
        mine = self._typing[member] = self._keystrokes
        try:
            await self._sleep(self._settle)
        finally:
            if self._typing.get(member) == mine:
                del self._typing[member]
        if self._typing.get(member, mine) != mine:
            return False  # superseded: that later keystroke decides
        last = self._asked_at.get(member)
        return last is None or self._clock() - last >= self._member_gap

    async def _upsample(self, typed: str, member: int) -> str | None:
        now = self._clock()
        if now < self._down_until:
            return None
        self._asked_at[member] = now
        try:
            richer = await asyncio.wait_for(self._api.tools.upsample_tags(typed), UPSAMPLE_TIMEOUT)
        except (CometAPIError, TimeoutError) as exc:
            log.info("style upsampling unavailable (%s); suggesting the built-in list", exc)
            self._down_until = self._clock() + BACKOFF_SECONDS
            return None
        self._cache[typed.lower()] = richer
        return richer


def _choice(richer: str) -> str:
    """Suno's text cut to what a choice can hold, at a comma when it is too long."""
    return richer[:CHOICE_MAX].rsplit(",", 1)[0] if len(richer) > CHOICE_MAX else richer


async def _may_ask(allowed: Callable[[], Awaitable[bool]] | None) -> bool:
    """Whether Suno may be asked; when that cannot be told now (the store is away), it is not: the list answers."""
    if allowed is None:
        return True
    try:
        return await allowed()
    except Exception:
        log.warning("could not tell whether Suno may be asked for style suggestions", exc_info=True)
        return False
