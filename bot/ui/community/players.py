"""The songs a community post plays where members vote (a battle's face-off, a challenge's vote post): their MP3s
downloaded to attach, within the channel's upload limit like a song's post (bot.ui.delivery), so nobody has to
jump away to listen. What does not fit is played from its link instead."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import discord

from bot.ui.delivery import MAX_FILES, PAYLOAD_MARGIN
from bot.ui.downloads import download

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Track:
    """A song to play on a post: which clip, where its MP3 is, and the file name to attach it under."""

    clip_id: str
    url: str
    filename: str


@dataclass(frozen=True, slots=True)
class Player:
    """A track downloaded to attach."""

    clip_id: str
    filename: str
    path: Path
    size: int

    def file(self) -> discord.File:
        """The upload."""
        return discord.File(self.path, filename=self.filename)


def upload_budget(channel: object) -> int:
    """What the files of one post in this channel may weigh together (its server's upload limit, less room for
    the message itself)."""
    guild = getattr(channel, "guild", None)
    limit = guild.filesize_limit if isinstance(guild, discord.Guild) else discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
    return limit - PAYLOAD_MARGIN


async def fetch_players(
    session: aiohttp.ClientSession, tracks: Sequence[Track], folder: Path, *, budget: int
) -> list[Player]:
    """Download the tracks that fit the budget together, in order (at most Discord's 10 files a message); the
    rest are left to their links."""
    players: list[Player] = []
    for index, track in enumerate(tracks):
        if len(players) >= MAX_FILES:
            break
        path = folder / f"track-{index}.mp3"
        size = await download(session, track.url, path, budget, purpose="to play on a post")
        if size is None:
            continue
        budget -= size
        players.append(Player(track.clip_id, track.filename, path, size))
    return players
