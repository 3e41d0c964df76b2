"""The Herald: posts what the community timers decide (bot.core.community.timers.Herald), in the right channel,
with a nonce of its own so a retried post is not doubled, pinging only whom a post is for."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import discord

from bot.core.community.battles import BattleResult, Contender
from bot.core.community.challenges import Entry, Standing
from bot.domain import Battle, Challenge, ChartRow, SongOfDayGuild
from bot.ui.community import posts
from bot.ui.community.players import Player, Track, fetch_players, upload_budget
from bot.ui.delivery import only_users

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)


class DiscordHerald:
    """Posts face-offs, results, challenge votes and the song of the day."""

    def __init__(self, bot: Chorus) -> None:
        self._bot = bot

    async def _send(
        self, channel_id: int, view: discord.ui.LayoutView, *, nonce: str,
        mentions: discord.AllowedMentions | None = None, reply_to: int | None = None,
        players: Sequence[Player] = (),
    ) -> int | None:
        """Post in the channel (with `players`' files); None when it refuses for good (gone, or no permission):
        nothing to retry."""
        try:
            channel = await self._channel(channel_id)
            if channel is None:
                return None
            allowed = mentions or discord.AllowedMentions.none()
            files = [player.file() for player in players]
            if reply_to:
                reference = discord.MessageReference(message_id=reply_to, channel_id=channel_id,
                                                     fail_if_not_exists=False)
                message = await channel.send(view=view, nonce=nonce, allowed_mentions=allowed, reference=reference,
                                             files=files)
            else:
                message = await channel.send(view=view, nonce=nonce, allowed_mentions=allowed, files=files)
        except (discord.Forbidden, discord.NotFound) as exc:
            log.warning("cannot post %s in channel %d (%s %s); giving it up", nonce, channel_id, exc.status, exc.text)
            return None
        return message.id

    async def _send_playing(
        self, channel_id: int, view: Callable[[Mapping[str, str]], discord.ui.LayoutView], players: list[Player], *,
        nonce: str,
    ) -> int | None:
        """Post a view that plays `players` (`view` makes it from clip id → attached file name); when Discord finds
        the files over its upload limit after all, post it again with links instead."""
        try:
            return await self._send(channel_id, view({p.clip_id: p.filename for p in players}), nonce=nonce,
                                    players=players)
        except discord.HTTPException as exc:
            if exc.status != 413 or not players:
                raise
            log.warning("%s: the songs were over the upload limit; posting links instead", nonce)
        return await self._send(channel_id, view({}), nonce=nonce)

    async def _channel(self, channel_id: int) -> discord.abc.Messageable | None:
        channel = self._bot.get_channel(channel_id) or await self._bot.fetch_channel(channel_id)
        return channel if isinstance(channel, discord.abc.Messageable) else None

    async def _players(self, channel_id: int, tracks: list[Track], folder: Path) -> list[Player]:
        """The tracks that fit the channel's upload limit, downloaded into `folder` to attach (none for a channel
        that is gone: posting there is given up)."""
        try:
            channel = await self._channel(channel_id)
        except (discord.Forbidden, discord.NotFound):
            return []
        return await fetch_players(self._bot.http_session, tracks, folder, budget=upload_budget(channel))

    async def _close(
        self, channel_id: int, message_id: int, closed: Callable[[discord.Message], discord.ui.LayoutView]
    ) -> None:
        """Edit a post members voted on into its closed form (read back from Discord, so everything else on it stays
        as it is); a failure (the post was deleted, say) is only logged."""
        try:
            channel = await self._channel(channel_id)
            if channel is not None:
                post = await channel.fetch_message(message_id)
                await post.edit(view=closed(post), allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.warning("could not close the votes of message %d (%s %s)", message_id, exc.status, exc.text)

    async def face_off(self, battle: Battle, sides: tuple[Contender, Contender], closes_at: float) -> int | None:
        """Open the voting where members listen: a battle of takes on its song's own post (both takes play there),
        Suno against Udio on a face-off that plays both songs. Nobody is pinged (the starter saw their song
        posted)."""
        song = sides[0].job
        if battle.mode == "takes" and song.delivered_message_id and song.delivered_channel_id == battle.channel_id:
            return await self._on_song(battle, sides, closes_at, song.delivered_message_id)
        with tempfile.TemporaryDirectory(prefix="chorus-battle-") as folder:
            tracks = [Track(side.clip.id, side.clip.audio_url, posts.side_filename(side)) for side in sides]
            players = await self._players(battle.channel_id, tracks, Path(folder))
            return await self._send_playing(
                battle.channel_id, lambda attached: posts.face_off(battle, sides, closes_at, attached=attached),
                players, nonce=f"chorus-battle-{battle.id}",
            )

    async def _on_song(
        self, battle: Battle, sides: tuple[Contender, Contender], closes_at: float, message_id: int
    ) -> int | None:
        """Add the battle's vote buttons to its song's post; None when that post is gone (the battle is called
        off)."""
        try:
            channel = await self._channel(battle.channel_id)
            if channel is None:
                return None
            song = await channel.fetch_message(message_id)
            await song.edit(view=posts.battle_on_song(song, battle, sides, closes_at),
                            allowed_mentions=discord.AllowedMentions.none())
        except (discord.Forbidden, discord.NotFound) as exc:
            log.warning("cannot open battle %d on its song's post %d (%s %s)", battle.id, message_id, exc.status,
                        exc.text)
            return None
        return message_id

    async def battle_result(
        self, battle: Battle, sides: tuple[Contender, Contender] | None, result: BattleResult
    ) -> int | None:
        """Show the votes on the battle's post instead of its buttons, and say the result in one short line replying
        to it, pinging only the battle's starter (nobody if called off)."""
        if battle.message_id:
            await self._close(battle.channel_id, battle.message_id,
                              lambda post: posts.battle_closed(post, sides, result))
        mentions = only_users([battle.starter_id]) if result.votes is not None else None
        return await self._send(battle.channel_id, posts.battle_result(battle, sides, result),
                                nonce=f"chorus-battle-end-{battle.id}", mentions=mentions, reply_to=battle.message_id)

    async def challenge_voting(self, challenge: Challenge, entries: list[Entry], ends_at: float) -> int | None:
        """Post the entries, playing (as many as the upload limit takes), and the vote menu (nobody is pinged)."""
        with tempfile.TemporaryDirectory(prefix="chorus-vote-") as folder:
            tracks = [Track(clip.id, clip.audio_url, posts.entry_filename(number, entry))
                      for number, entry in enumerate(entries, 1) if (clip := posts.entry_track(entry)) is not None]
            players = await self._players(challenge.channel_id, tracks[:posts.MAX_PLAYERS], Path(folder))
            return await self._send_playing(
                challenge.channel_id,
                lambda attached: posts.challenge_voting(challenge, entries, ends_at, attached=attached),
                players, nonce=f"chorus-vote-{challenge.id}",
            )

    async def challenge_results(self, challenge: Challenge, board: list[Standing]) -> int | None:
        """Post the results and leaderboard (nobody is pinged); the vote post loses its menus."""
        posted = await self._send(challenge.channel_id, posts.challenge_results(challenge, board),
                                  nonce=f"chorus-results-{challenge.id}", reply_to=challenge.vote_message_id)
        if challenge.vote_message_id:
            await self._close(challenge.channel_id, challenge.vote_message_id, posts.voting_closed)
        return posted

    async def song_of_day(self, where: SongOfDayGuild, day: float, song: ChartRow) -> int | None:
        """Feature the song (nobody is pinged)."""
        return await self._send(where.channel_id, posts.song_of_day(day, song),
                                nonce=f"chorus-sotd-{int(day) // 86400}-{where.guild_id % 10**6}")
