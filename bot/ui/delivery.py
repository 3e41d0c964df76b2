"""Deliverer: posts a finished job in the channel where it was asked for.

It is the poller's delivery callback, called once per claim. Every post carries the job's nonce, so
a post retried after a crash is deduplicated by Discord. When the channel refuses, it degrades (links
instead of attachments) and, as a last resort, DMs the member; the job is never silently dropped.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.core.courier import Delivered, PermanentDeliveryError
from bot.store import Job
from bot.ui import render
from bot.ui.views import post_marker, song_view

if TYPE_CHECKING:
    from bot.app.chorus import Chorus
    from bot.ui.status_cards import StatusCards

log = logging.getLogger(__name__)

# Room left in the upload budget for the JSON part of a multipart message.
PAYLOAD_MARGIN = 64 * 1024
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10)
# How far back a retried delivery looks for its own post (a busy channel moves on, but not 50 messages in minutes).
HISTORY_LOOKBACK = 50


def only_requester(user_id: int) -> discord.AllowedMentions:
    """Mentions that can ping the requester and nobody else (AllowedMentions' defaults allow @everyone)."""
    return discord.AllowedMentions(everyone=False, roles=False, replied_user=False, users=[discord.Object(id=user_id)])


@dataclass(frozen=True, slots=True)
class Audio:
    """An MP3 downloaded to a temporary file to attach: which clip, under which file name, how large."""

    clip_id: str
    filename: str
    path: Path
    size: int


class Deliverer:
    """Claim → send (nonce) → the poller marks it delivered."""

    def __init__(self, bot: Chorus, session: aiohttp.ClientSession, cards: StatusCards) -> None:
        self._bot = bot
        self._session = session
        self._cards = cards

    async def __call__(self, job: Job) -> Delivered:
        """Post the finished job (degrading to links, then a DM) and say where it went."""
        channel = await self._channel(job.channel_id)
        # Audio is streamed to disk, never held in memory whole: a burst of songs must not balloon the process.
        with tempfile.TemporaryDirectory(prefix="chorus-delivery-") as folder:
            return await self._deliver(job, channel, Path(folder))

    async def _deliver(self, job: Job, channel: discord.abc.Messageable | None, folder: Path) -> Delivered:
        if channel is not None and job.delivery_attempts > 1:
            # A retry may follow a crash after Discord had accepted the post, and Discord remembers the nonce
            # for a few minutes only: look for the job's own post before posting again.
            earlier = await self._find_post(channel, job)
            if earlier is not None:
                log.info("job %d: found its post %d from an earlier attempt; not posting again", job.id, earlier.id)
                return self._done(job, earlier)
        limit = _upload_limit(channel)
        outgoing = render.delivery(job)
        audio = await self._download_audio(job, folder, budget=limit - _lyrics_size(outgoing) - PAYLOAD_MARGIN)
        problem = "the channel is gone"
        if channel is not None:
            try:
                message = await self._post(channel, job, audio, attach=True)
                return self._done(job, message)
            except (discord.Forbidden, discord.NotFound) as exc:
                problem = _why(exc)
            except discord.HTTPException as exc:
                if exc.status != 413:  # 5xx after discord.py's retries, 429 storms: retry the delivery later
                    raise
                problem = "the files were over the upload limit"
            log.warning("job %d: posting with attachments failed (%s); trying links only", job.id, problem)
            try:
                message = await self._post(channel, job, [], attach=False)
                return self._done(job, message, note=f"posted without attachments: {problem}")
            except (discord.Forbidden, discord.NotFound) as exc:
                problem = _why(exc)
        log.warning("job %d: cannot post in channel %d (%s); sending it by DM", job.id, job.channel_id, problem)
        message = await self._dm(job, audio, problem)
        return self._done(job, message, note=f"sent by DM because the channel refused: {problem}")

    def _done(self, job: Job, message: discord.Message, *, note: str | None = None) -> Delivered:
        self._cards.delivered(job, message.jump_url)
        return Delivered(channel_id=message.channel.id, message_id=message.id, note=note)

    async def _post(
        self, channel: discord.abc.Messageable, job: Job, audio: list[Audio], *, attach: bool, preface: str = ""
    ) -> discord.Message:
        outgoing = render.delivery(job, attached_audio=frozenset(a.clip_id for a in audio))
        files = [discord.File(a.path, filename=a.filename) for a in audio]
        if attach and outgoing.lyrics_file is not None:
            name, text = outgoing.lyrics_file
            files.append(discord.File(io.BytesIO(text.encode()), filename=name))
        elif outgoing.lyrics_file is not None:
            outgoing.embeds[0].description = "📝 The lyrics are too long to show here: press a Lyrics button."
        return await channel.send(
            content=render.shorten(preface + outgoing.content, render.CONTENT),
            embeds=outgoing.embeds,
            files=files,
            view=song_view(job),
            nonce=job.nonce,
            allowed_mentions=only_requester(job.user_id),
        )

    async def _find_post(self, channel: discord.abc.Messageable, job: Job) -> discord.Message | None:
        """The job's own post among the channel's recent messages, if an earlier attempt made it."""
        marker = post_marker(job)
        try:
            async for message in channel.history(limit=HISTORY_LOOKBACK):
                if message.author.id == self._bot.user.id and marker in _custom_ids(message):
                    return message
        except discord.HTTPException as exc:
            log.warning("job %d: could not read channel history (%s); relying on the nonce", job.id, _why(exc))
        return None

    async def _dm(self, job: Job, audio: list[Audio], problem: str) -> discord.Message:
        try:
            user = self._bot.get_user(job.user_id) or await self._bot.fetch_user(job.user_id)
            dm = await user.create_dm()
            preface = f"I could not post in <#{job.channel_id}> ({problem}), so here it is.\n"
            fits = sum(a.size for a in audio) <= discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES - PAYLOAD_MARGIN
            return await self._post(dm, job, audio if fits else [], attach=fits, preface=preface)
        except (discord.Forbidden, discord.NotFound) as exc:
            raise PermanentDeliveryError(f"channel refused ({problem}) and the DM failed too ({_why(exc)})") from exc

    async def _channel(self, channel_id: int) -> discord.abc.Messageable | None:
        channel = self._bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self._bot.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden):
                return None
        return channel if isinstance(channel, discord.abc.Messageable) else None

    async def _download_audio(self, job: Job, folder: Path, *, budget: int) -> list[Audio]:
        """Fetch the MP3s that fit the upload budget together; the rest are posted as links."""
        result = render.result_of(job)
        if result is None or job.state != "succeeded":
            return []
        audio: list[Audio] = []
        for take, clip in enumerate(result.complete_clips, 1):
            path = folder / f"take-{take}.mp3"
            size = await self._fetch(clip.audio_url, path, budget)
            if size is None:
                continue
            budget -= size
            audio.append(Audio(clip.id, _filename(clip.title, take), path, size))
        return audio

    async def _fetch(self, url: str, path: Path, budget: int) -> int | None:
        """Stream `url` into `path`; its size, or None when it is missing, too large for `budget`, or unreachable."""
        if budget <= 0 or not url.startswith(("http://", "https://")):
            return None
        try:
            # No CometAPI key here: the session carries no auth, and media hosts are third parties.
            async with self._session.get(url, timeout=DOWNLOAD_TIMEOUT) as response:
                # Content-Length first: a file announced too large is not downloaded at all.
                if response.status != 200 or (response.content_length or 0) > budget:
                    return None
                size = 0
                with path.open("wb") as out:
                    async for chunk in response.content.iter_chunked(64 * 1024):
                        size += len(chunk)
                        if size > budget:  # the header lied, or there was none: stop at the cap
                            return None
                        out.write(chunk)  # 64 KiB into the page cache: far cheaper than a thread hop
                return size
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not download %s for attaching (%s); posting a link", url, exc)
            return None


def _custom_ids(message: discord.Message) -> set[str]:
    ids: set[str] = set()
    for row in message.components:
        for child in getattr(row, "children", ()):
            custom_id = getattr(child, "custom_id", None)
            if custom_id:
                ids.add(custom_id)
    return ids


def _upload_limit(channel: discord.abc.Messageable | None) -> int:
    guild = getattr(channel, "guild", None)
    return guild.filesize_limit if isinstance(guild, discord.Guild) else discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES


def _lyrics_size(outgoing: render.Outgoing) -> int:
    return len(outgoing.lyrics_file[1].encode()) if outgoing.lyrics_file else 0


def _filename(title: str, take: int) -> str:
    stem = re.sub(r"[^\w\- ]+", "", title).strip()[:60] or "song"
    return f"{stem} ({take}).mp3"


def _why(exc: discord.HTTPException) -> str:
    return f"{exc.status} {exc.text or type(exc).__name__}".strip()
