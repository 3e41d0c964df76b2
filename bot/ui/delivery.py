"""Deliverer: posts a finished job in the channel where it was asked for.

It is the poller's delivery callback, called once per claim. Every post carries the job's nonce, so
a post retried after a crash is deduplicated by Discord. When the channel refuses, it degrades (links
instead of attachments) and, as a last resort, DMs the member; the job is never silently dropped.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.core.courier import Delivered, PermanentDeliveryError, RetryLater
from bot.domain import Job
from bot.ui import render
from bot.ui.community.jam_announcement import announce_jam_song
from bot.ui.downloads import download
from bot.ui.items.song_buttons import take_of
from bot.ui.post import Lineage, failure_post, lyrics_post, post_marker, song_post, stems_post, sung_by
from bot.ui.song_files import LyricsFile, audio_filename, is_stems, lyrics_files, stem_filename, take_title

if TYPE_CHECKING:
    from bot.app.chorus import Chorus
    from bot.ui.status_cards import StatusCards

log = logging.getLogger(__name__)

# Room left in the upload budget for the JSON part of a multipart message.
PAYLOAD_MARGIN = 64 * 1024
# How far back a retried delivery looks for its own post (a busy channel moves on, but not 50 messages in minutes).
HISTORY_LOOKBACK = 50
# Discord takes at most 10 files per message.
MAX_FILES = 10


def only_requester(user_id: int) -> discord.AllowedMentions:
    """Mentions that can ping the requester and nobody else (AllowedMentions' defaults allow @everyone)."""
    return only_users([user_id])


def only_users(user_ids: Sequence[int]) -> discord.AllowedMentions:
    """Mentions that can ping exactly these members, each once, and nobody else."""
    users = [discord.Object(id=user_id) for user_id in dict.fromkeys(user_ids)]
    return discord.AllowedMentions(everyone=False, roles=False, replied_user=False, users=users)


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
        """Post the finished job (degrading to links, then a DM) and say where it went. A refusal for now (429, 5xx,
        no connection to Discord or the proxy) is raised as the courier's RetryLater, with the Retry-After asked."""
        try:
            channel = await self._channel(job.channel_id)
            # Audio is streamed to disk, never held in memory whole: a burst of songs must not balloon the process.
            with tempfile.TemporaryDirectory(prefix="chorus-delivery-") as folder:
                return await self._deliver(job, channel, Path(folder))
        except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, ConnectionError, TimeoutError) as exc:
            later = _for_now(exc)
            if later is None:
                raise
            raise later from exc

    async def _deliver(self, job: Job, channel: discord.abc.Messageable | None, folder: Path) -> Delivered:
        if channel is not None and job.delivery_attempts > 1:
            # A retry may follow a crash after Discord had accepted the post, and Discord remembers the nonce
            # for a few minutes only: look for the job's own post before posting again.
            earlier = await self._find_post(channel, job)
            if earlier is not None:
                log.info("job %d: found its post %d from an earlier attempt; not posting again", job.id, earlier.id)
                return await self._done(job, earlier)
        if job.state != "succeeded":
            told = await self._cards.report_failure(job) if channel is not None else None
            if told is not None:
                return Delivered(channel_id=job.channel_id, message_id=told)
        lyrics = lyrics_files(job)  # none for failures, lyrics jobs, stems and instrumentals
        # The lyrics are a few kilobytes and go first; the MP3s take what is left of the upload limit.
        budget = _upload_limit(channel) - PAYLOAD_MARGIN - sum(len(words.data) for words in lyrics)
        lineage = await self._lineage(job)
        audio = await self._download_audio(job, folder, budget=budget, lineage=lineage)
        problem = "the channel is gone"
        if channel is not None:
            posted = await self._in_channel(channel, job, audio, lyrics, lineage)
            if isinstance(posted, Delivered):
                return posted
            problem = posted
        log.warning("job %d: cannot post in channel %d (%s); sending it by DM", job.id, job.channel_id, problem)
        message = await self._dm(job, audio, lyrics, lineage, problem)
        return await self._done(job, message, note=f"sent by DM because the channel refused: {problem}")

    async def _in_channel(
        self, channel: discord.abc.Messageable, job: Job, audio: list[Audio], lyrics: list[LyricsFile],
        lineage: Lineage | None,
    ) -> Delivered | str:
        """Post in the channel, lighter each time it refuses: every file; over the upload limit, the lyrics alone
        (the MP3s become links); when attaching is refused, no file. What was posted, or why nothing could be."""
        tried: set[tuple[int, int]] = set()
        problem, refused = "", False
        for files, words in ((audio, lyrics), ([], lyrics), ([], [])):
            if (refused and (files or words)) or (len(files), len(words)) in tried:
                continue  # no file once attaching was refused, and never the same post twice
            tried.add((len(files), len(words)))
            try:
                message = await self._post(channel, job, files, lineage, lyrics=words)
            except (discord.Forbidden, discord.NotFound) as exc:
                problem, refused = _why(exc), True
                if not files and not words:
                    return problem
            except discord.HTTPException as exc:
                if exc.status != 413:  # 5xx after discord.py's retries, 429 storms: retry the delivery later
                    raise
                problem = "the files were over the upload limit"
            else:
                dropped = len(files) < len(audio) or len(words) < len(lyrics)
                what = "the audio" if words else "attachments"
                return await self._done(job, message, note=f"posted without {what}: {problem}" if dropped else None)
            log.warning("job %d: posting with attachments failed (%s); trying with fewer", job.id, problem)
        return problem

    async def _done(self, job: Job, message: discord.Message, *, note: str | None = None) -> Delivered:
        if job.state == "succeeded":
            # One public message per job in the end: the song post replaces the status card.
            await self._cards.remove(job, moved_to=None if note is None else message.jump_url)
        return Delivered(channel_id=message.channel.id, message_id=message.id, note=note)

    async def _post(
        self, channel: discord.abc.Messageable, job: Job, audio: list[Audio], lineage: Lineage | None, *,
        lyrics: list[LyricsFile], preface: str | None = None,
    ) -> discord.Message:
        mentions = only_requester(job.user_id)
        uploads = [discord.File(a.path, filename=a.filename) for a in audio]
        credits = None
        if job.state != "succeeded":
            view = failure_post(job, note=preface)
        elif job.action == "LYRICS":
            view = lyrics_post(job, note=preface)
        elif is_stems(job):
            view = stems_post(job, attached={a.clip_id: a.filename for a in audio}, lineage=lineage, note=preface)
        else:
            uploads += [words.upload() for words in lyrics]
            credits = await self._bot.community.jams.credits(job.id) if job.state == "succeeded" else None
            # While a challenge takes entries, a song that may enter it offers More → Enter in the challenge.
            also = ["enter"] if await self._bot.community.challenges.open_for(job) is not None else []
            note = " · ".join(part for part in (await self._voice(job), preface) if part) or None
            view = song_post(job, attached={a.clip_id: a.filename for a in audio}, lyrics=lyrics, lineage=lineage,
                             note=note, credits=credits, also=also)
            if credits:  # a jam song pings every member who wrote a line, and nobody else
                mentions = only_users(credits)
        message = await channel.send(
            view=view,
            files=uploads,
            nonce=job.nonce,
            allowed_mentions=mentions,
        )
        if credits and isinstance(channel, discord.Thread):  # a jam's song: the channel it started in hears of it
            await announce_jam_song(self._bot, channel, job, message, credits)
        return message

    async def _voice(self, job: Job) -> str | None:
        """Whose voice a persona song is in (None for any other song)."""
        persona_id = job.params.get("persona_id")
        if not persona_id or job.guild_id is None:
            return None
        persona = next((p for p in await self._bot.personas.list(job.guild_id) if p.persona_id == persona_id), None)
        return sung_by(persona, asked_only=render.ordinary_note(job) is not None)

    async def _lineage(self, job: Job) -> Lineage | None:
        """What a continuation or a whole song comes from (its parent job and take), for its post."""
        if job.parent_job_id is None or job.kind not in {"extend", "concat", "stems"}:
            return None
        parent = await self._bot.jobs.get(job.parent_job_id)
        if job.kind == "stems":
            take = job.params.get("take") if isinstance(job.params.get("take"), int) else None
            song = take_of(parent, take) if parent is not None and take else None
            return Lineage(job.parent_job_id, take, title=take_title(parent, song) if parent and song else "")
        result = render.result_of(parent) if parent is not None else None
        clip_id = job.params.get("continue_clip_id") or job.params.get("clip_id")
        takes = [clip.id for clip in result.complete_clips] if result is not None else []
        take = takes.index(clip_id) + 1 if clip_id in takes else None
        at = job.params.get("continue_at")
        return Lineage(job.parent_job_id, take, float(at) if isinstance(at, int | float) else None)

    async def _find_post(self, channel: discord.abc.Messageable, job: Job) -> discord.Message | None:
        """The job's own post among the channel's recent messages, if an earlier attempt made it."""
        marker = post_marker(job)
        try:
            async for message in channel.history(limit=HISTORY_LOOKBACK):
                if message.author.id == self._bot.user.id and marker in _custom_ids(message.components):
                    return message
        except discord.HTTPException as exc:
            log.warning("job %d: could not read channel history (%s); relying on the nonce", job.id, _why(exc))
        return None

    async def _dm(
        self, job: Job, audio: list[Audio], lyrics: list[LyricsFile], lineage: Lineage | None, problem: str
    ) -> discord.Message:
        try:
            user = self._bot.get_user(job.user_id) or await self._bot.fetch_user(job.user_id)
            dm = await user.create_dm()
            preface = f"I could not post in <#{job.channel_id}> ({problem}), so here it is."
            room = discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES - PAYLOAD_MARGIN - sum(len(w.data) for w in lyrics)
            fits = sum(a.size for a in audio) <= room
            return await self._post(dm, job, audio if fits else [], lineage, lyrics=lyrics, preface=preface)
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

    async def _download_audio(
        self, job: Job, folder: Path, *, budget: int, lineage: Lineage | None = None
    ) -> list[Audio]:
        """Fetch the MP3s that fit the upload budget together; the rest are posted as links. Stems are named after
        the song and take they come from (`lineage`)."""
        result = render.result_of(job)
        if result is None or job.state != "succeeded":
            return []
        audio: list[Audio] = []
        for take, clip in enumerate(result.complete_clips[:MAX_FILES], 1):
            path = folder / f"take-{take}.mp3"
            size = await download(self._session, clip.audio_url, path, budget, purpose="for attaching")
            if size is None:
                continue
            budget -= size
            if is_stems(job):  # `Song - Take A - Vocals.mp3`
                song = (lineage.title or f"Song {lineage.parent_job_id}") if lineage else "Stems"
                name = stem_filename(song, lineage.take if lineage else None, clip.title)
            else:
                name = audio_filename(take_title(job, clip), take)
            audio.append(Audio(clip.id, name, path, size))
        return audio


def _for_now(exc: Exception) -> RetryLater | None:
    """The courier's RetryLater for a failure that may pass (None for one that will not: a 400, a 403 left over).

    discord.py has already waited out the 429s that carry Discord's headers (five tries); what reaches here is a
    429 it gave up on, a proxy's own 429 without those headers (a Cloudflare ban), a 5xx, or no connection."""
    if isinstance(exc, discord.RateLimited):
        return RetryLater(f"rate limited for {exc.retry_after:.1f}s", retry_after=exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            headers = getattr(exc.response, "headers", None) or {}
            everywhere = headers.get("X-RateLimit-Global") == "true" or headers.get("X-RateLimit-Scope") == "global"
            asked = _seconds(headers.get("Retry-After")) or _seconds(headers.get("X-RateLimit-Reset-After"))
            return RetryLater(_why(exc), retry_after=asked, everywhere=everywhere)
        return RetryLater(_why(exc)) if exc.status >= 500 else None
    return RetryLater(f"{type(exc).__name__}: {exc}")


def _seconds(value: str | None) -> float | None:
    """A Retry-After (or reset-after) header in seconds; None when absent or not a number."""
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def _custom_ids(components: Sequence[Any]) -> set[str]:
    """Every custom_id in a message's components, however deeply nested (Components V2 containers)."""
    ids: set[str] = set()
    for component in components:
        custom_id = getattr(component, "custom_id", None)
        if custom_id:
            ids.add(custom_id)
        ids |= _custom_ids(getattr(component, "children", ()))
        accessory = getattr(component, "accessory", None)
        if accessory is not None:
            ids |= _custom_ids([accessory])
    return ids


def _upload_limit(channel: discord.abc.Messageable | None) -> int:
    guild = getattr(channel, "guild", None)
    return guild.filesize_limit if isinstance(guild, discord.Guild) else discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES


def _why(exc: discord.HTTPException) -> str:
    return f"{exc.status} {exc.text or type(exc).__name__}".strip()
