"""Jams: a thread where members add lyric lines; the starter (or a moderator) makes a song of them, credited to
every member who added a line."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.limits import NotAllowedError
from bot.core.validation import InvalidInputError
from bot.store import Jam, JamLine, JobStore, NewJam

MAX_LINE = 300
MAX_LINES = 80
MAX_THEME = 100


@dataclass(frozen=True, slots=True)
class JamSheet:
    """What a jam makes a song of: its lyrics, and its contributors in order of their first line."""

    lyrics: str
    credits: list[int]


class JamService:
    """Opens jams, collects lines and turns them into a song's lyrics and credits."""

    def __init__(self, store: JobStore) -> None:
        self._store = store

    @staticmethod
    def theme(text: str) -> str:
        """The jam's theme, checked (it names the thread and styles the song)."""
        theme = " ".join(text.split())
        if not theme:
            raise InvalidInputError("theme", "Give the jam a theme.")
        if len(theme) > MAX_THEME:
            raise InvalidInputError("theme", f"Keep the theme under {MAX_THEME} characters.")
        return theme

    async def open(self, *, guild_id: int, channel_id: int, thread_id: int, starter_id: int, theme: str) -> Jam:
        """Record a jam whose thread was just opened."""
        return await self._store.create_jam(NewJam(guild_id, channel_id, thread_id, starter_id, theme))

    async def get(self, jam_id: int) -> Jam:
        """One jam; NotAllowedError if it is gone."""
        jam = await self._store.get_jam(jam_id)
        if jam is None:
            raise NotAllowedError("I cannot find that jam any more.")
        return jam

    async def add_line(self, jam_id: int, user_id: int, text: str) -> JamLine:
        """Add a member's line (or a few short lines) to the jam."""
        line = "\n".join(part.strip() for part in text.strip().splitlines() if part.strip())
        if not line:
            raise InvalidInputError("line", "Write a line first.")
        if len(line) > MAX_LINE:
            raise InvalidInputError("line", f"Keep a line under {MAX_LINE} characters.")
        if len(await self._store.jam_lines(jam_id)) >= MAX_LINES:
            raise NotAllowedError(f"This jam has {MAX_LINES} lines already: make it a song!")
        return await self._store.add_jam_line(jam_id, user_id, line)

    async def sheet(self, jam_id: int) -> JamSheet:
        """The lyrics so far and who wrote them; InvalidInputError while there are none."""
        lines = await self._store.jam_lines(jam_id)
        if not lines:
            raise InvalidInputError("lines", "Nobody has added a line yet: press **Add a line** first.")
        credits = list(dict.fromkeys(line.user_id for line in lines))
        return JamSheet("\n".join(line.line for line in lines), credits)

    async def lines(self, jam_id: int) -> list[JamLine]:
        """The jam's lines in order."""
        return await self._store.jam_lines(jam_id)

    async def record_song(self, jam_id: int, job_id: int, credits: list[int]) -> None:
        """Remember that a job is this jam's song and whom it credits (before it is submitted, so its post does)."""
        await self._store.record_jam_song(jam_id, job_id, credits)

    async def credits(self, job_id: int) -> list[int] | None:
        """Whom a song credits when it was made from a jam (None otherwise)."""
        return await self._store.jam_credits(job_id)
