"""Charts and profiles: the server's most liked songs in a period, and what a member made and how it was liked."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from bot.core.community.songs import takes
from bot.domain import ChartRow, Job, MemberStats
from bot.store import JobStore

Period = Literal["week", "month", "all"]
PERIOD_SECONDS: dict[str, float] = {"week": 7 * 86400.0, "month": 30 * 86400.0}
CHART_SIZE = 10
# Styles are read from a member's most recent songs.
STYLE_SAMPLE = 200


@dataclass(frozen=True, slots=True)
class Profile:
    """A member on a server: their numbers, favourite styles and most liked songs."""

    user_id: int
    stats: MemberStats
    styles: list[str]
    best: list[ChartRow]


class ChartService:
    """Reads charts and profiles."""

    def __init__(self, store: JobStore, *, now: Callable[[], float] = time.time) -> None:
        self._store = store
        self._now = now

    async def top(self, guild_id: int, period: Period = "week", provider: str | None = None) -> list[ChartRow]:
        """The most liked songs made in the period (deleted songs never chart)."""
        seconds = PERIOD_SECONDS.get(period)
        since = self._now() - seconds if seconds is not None else None
        return await self._store.chart(guild_id, since=since, provider=provider, limit=CHART_SIZE)

    async def profile(self, guild_id: int, user_id: int) -> Profile:
        """Songs made, likes received and given, favourite styles and best songs of a member."""
        stats = await self._store.member_stats(guild_id, user_id)
        songs = await self._store.member_songs(guild_id, user_id, limit=STYLE_SAMPLE)
        best = [row for row in await self._store.chart(guild_id, since=None, limit=50) if row.job.user_id == user_id]
        return Profile(user_id, stats, favourite_styles(songs), best[:3])


def favourite_styles(songs: Iterable[Job], *, count: int = 3) -> list[str]:
    """The styles a member uses most, each counted once per song: the style they asked for, or (when they asked for
    none) the styles the takes came back with."""
    tally: Counter[str] = Counter()
    for job in songs:
        asked = str(job.params.get("tags") or "")
        raw = [asked] if asked.strip() else [clip.tags for clip in takes(job)]
        styles = {part.strip().lower() for text in raw for part in text.replace(";", ",").split(",")}
        tally.update(style for style in styles if style and len(style) <= 40)
    return [style for style, _ in sorted(tally.items(), key=lambda item: (-item[1], item[0]))[:count]]
