"""Jams: a thread where members add lyric lines; the starter (or a moderator) makes a song of them, credited to
every member who added a line.

A jam can always be sung: a line that would take the lyrics past what the server's Suno model sings (5,000
characters, 3,000 for older models) is refused, and the starter or a moderator may take lines out."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.core.catalog import DEFAULT_SUNO_MODEL, SunoModel, suno_model
from bot.core.limits import NotAllowedError
from bot.core.validation import InvalidInputError
from bot.domain import Jam, JamLine, Job, NewJam
from bot.store import JobStore

MAX_LINE = 300
MAX_LINES = 80
MAX_THEME = 100
# A jam song in these states was never made: pressing Make it a song again just makes it.
NOT_MADE = ("submit_failed", "failed", "cancelled")


def singer(model: str | None) -> SunoModel:
    """The Suno model a jam's song is made with (the server's default, or the newest)."""
    return suno_model(model) or DEFAULT_SUNO_MODEL


def lyrics_of(lines: Collection[JamLine]) -> str:
    """The jam's lyrics: its lines in order, one per line."""
    return "\n".join(line.line for line in lines)


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

    async def add_line(self, jam: Jam, user_id: int, text: str, *, model: str | None = None) -> JamLine:
        """Add a member's line (or a few short lines) to the jam, if the lyrics then still fit what `model` (the
        server's Suno model) sings; InvalidInputError or NotAllowedError, saying how much room is left, if not."""
        line = "\n".join(part.strip() for part in text.strip().splitlines() if part.strip())
        if not line:
            raise InvalidInputError("line", "Write a line first.")
        if len(line) > MAX_LINE:
            raise InvalidInputError("line", f"Keep a line under {MAX_LINE} characters.")
        chosen = singer(model)
        added = await self._store.add_jam_line(jam.id, user_id, line, max_lines=MAX_LINES,
                                                      max_chars=chosen.max_lyrics)
        if added is not None:
            return added
        lines = await self._store.jam_lines(jam.id)
        ask = f"ask <@{jam.starter_id}> (who started the jam) or a moderator to remove a line"
        if len(lines) >= MAX_LINES:
            raise NotAllowedError(f"This jam has {MAX_LINES} lines already: make it a song, or {ask}.")
        used = len(lyrics_of(lines))
        room = max(0, chosen.max_lyrics - used - 1)  # a line break comes before the new line
        raise InvalidInputError(
            "line",
            f"That line does not fit: Suno {chosen.name} sings at most {chosen.max_lyrics:,} characters of lyrics, "
            f"and this jam has {used:,}, so there is room for {room:,} more. Shorten your line ({len(line):,} "
            f"characters), or {ask}.",
        )

    async def sheet(self, jam_id: int, *, model: str | None = None) -> JamSheet:
        """The lyrics so far and who wrote them; InvalidInputError while there are none, or when they are longer
        than `model` sings (the server changed its model since)."""
        lines = await self._store.jam_lines(jam_id)
        if not lines:
            raise InvalidInputError("lines", "Nobody has added a line yet: press **Add a line** first.")
        lyrics, chosen = lyrics_of(lines), singer(model)
        if len(lyrics) > chosen.max_lyrics:
            raise InvalidInputError(
                "lines", f"The jam's lines are {len(lyrics):,} characters together, and Suno {chosen.name} sings at "
                f"most {chosen.max_lyrics:,}: press **Remove a line** to take some out first.",
            )
        credits = list(dict.fromkeys(line.user_id for line in lines))
        return JamSheet(lyrics, credits)

    async def remove_lines(self, jam_id: int, line_ids: Collection[int]) -> list[JamLine]:
        """Take lines out of the jam (who may is the caller's to check); NotAllowedError if they were gone already."""
        removed = await self._store.remove_jam_lines(jam_id, line_ids)
        if not removed:
            raise NotAllowedError("Those lines were taken out already.")
        return removed

    async def made(self, jam_id: int) -> Job | None:
        """The latest song made from the jam, or on its way (None if none was, or every one failed)."""
        for job_id in reversed(await self._store.jam_songs_of(jam_id)):
            job = await self._store.get(job_id)
            if job is not None and job.state not in NOT_MADE:
                return job
        return None

    async def lines(self, jam_id: int) -> list[JamLine]:
        """The jam's lines in order."""
        return await self._store.jam_lines(jam_id)

    async def record_song(self, jam_id: int, job_id: int, credits: list[int]) -> None:
        """Remember that a job is this jam's song and whom it credits (before it is submitted, so its post does)."""
        await self._store.record_jam_song(jam_id, job_id, credits)

    async def credits(self, job_id: int) -> list[int] | None:
        """Whom a song credits when it was made from a jam (None otherwise)."""
        return await self._store.jam_credits(job_id)
