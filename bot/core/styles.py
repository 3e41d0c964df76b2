"""Style suggestions for /suno's `style` option: Suno's tag upsampling where CometAPI serves it, else a list."""

from __future__ import annotations

import asyncio
import logging
import time

from bot.cometapi import CometAPI, CometAPIError

log = logging.getLogger(__name__)

# Popular styles, for the first letters typed and whenever upsampling is unavailable.
POPULAR_STYLES: tuple[str, ...] = (
    "pop", "indie folk", "lo-fi hip hop", "synthwave", "sea shanty", "epic orchestral", "drum and bass",
    "jazz ballad", "bossa nova", "punk rock", "k-pop", "reggaeton", "ambient", "country", "gospel choir",
    "metal", "trap", "chiptune", "acoustic singer-songwriter", "disco funk", "emo rock", "afrobeats",
    "city pop", "dream pop", "cinematic trailer",
)
# Autocomplete must answer within Discord's 3 seconds: never wait on CometAPI longer than this.
UPSAMPLE_TIMEOUT = 1.5
# A failed upsampling is not retried for this long (the route may simply not exist on CometAPI).
BACKOFF_SECONDS = 600.0
CHOICE_MAX = 100  # Discord's limit on a choice's name and value


class StyleSuggestions:
    """Suggests styles for what a member has typed so far."""

    def __init__(self, api: CometAPI) -> None:
        self._api = api
        self._cache: dict[str, str] = {}
        self._down_until = 0.0

    async def suggest(self, typed: str) -> list[str]:
        """Up to 25 styles: Suno's richer take on what was typed (when available), then matching popular ones."""
        typed = typed.strip()
        wanted = typed.lower()
        found = [style for style in POPULAR_STYLES if wanted in style] if wanted else list(POPULAR_STYLES)
        richer = await self._upsample(typed) if len(typed) >= 3 else None
        if richer:
            found.insert(0, richer[:CHOICE_MAX].rsplit(",", 1)[0] if len(richer) > CHOICE_MAX else richer)
        if typed and typed.lower() not in (style.lower() for style in found):
            found.insert(0, typed[:CHOICE_MAX])
        return list(dict.fromkeys(found))[:25]

    async def _upsample(self, typed: str) -> str | None:
        key = typed.lower()
        if key in self._cache:
            return self._cache[key]
        if time.monotonic() < self._down_until:
            return None
        try:
            richer = await asyncio.wait_for(self._api.tools.upsample_tags(typed), UPSAMPLE_TIMEOUT)
        except (CometAPIError, TimeoutError) as exc:
            log.info("style upsampling unavailable (%s); suggesting the built-in list", exc)
            self._down_until = time.monotonic() + BACKOFF_SECONDS
            return None
        self._cache[key] = richer
        return richer
