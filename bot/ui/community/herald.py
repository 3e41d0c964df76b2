"""The Herald: posts what the community timers decide (bot.core.community.timers.Herald), in the right channel,
with a nonce of its own so a retried post is not doubled, pinging only whom a post is for."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.core.community.battles import BattleResult, Contender
from bot.core.community.challenges import Entry, Standing
from bot.store import Battle, Challenge, ChartRow, SongOfDayGuild
from bot.ui.community import posts
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
    ) -> int | None:
        """Post in the channel; None when it refuses for good (gone, or no permission): nothing to retry."""
        try:
            channel = self._bot.get_channel(channel_id) or await self._bot.fetch_channel(channel_id)
            if not isinstance(channel, discord.abc.Messageable):
                return None
            allowed = mentions or discord.AllowedMentions.none()
            if reply_to:
                reference = discord.MessageReference(message_id=reply_to, channel_id=channel_id,
                                                     fail_if_not_exists=False)
                message = await channel.send(view=view, nonce=nonce, allowed_mentions=allowed, reference=reference)
            else:
                message = await channel.send(view=view, nonce=nonce, allowed_mentions=allowed)
        except (discord.Forbidden, discord.NotFound) as exc:
            log.warning("cannot post %s in channel %d (%s %s); giving it up", nonce, channel_id, exc.status, exc.text)
            return None
        return message.id

    async def _edit(self, channel_id: int, message_id: int, view: discord.ui.LayoutView) -> None:
        """Replace an earlier post's view (its vote buttons go once voting closed); a failure is only logged."""
        try:
            channel = self._bot.get_channel(channel_id) or await self._bot.fetch_channel(channel_id)
            if isinstance(channel, discord.abc.Messageable):
                partial = discord.PartialMessage(channel=channel, id=message_id)
                await partial.edit(view=view, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.warning("could not close the votes of message %d (%s %s)", message_id, exc.status, exc.text)

    async def face_off(self, battle: Battle, sides: tuple[Contender, Contender], closes_at: float) -> int | None:
        """Post the face-off (nobody is pinged: the starter sees their song posted already)."""
        return await self._send(battle.channel_id, posts.face_off(battle, sides, closes_at),
                                nonce=f"chorus-battle-{battle.id}")

    async def battle_result(
        self, battle: Battle, sides: tuple[Contender, Contender] | None, result: BattleResult
    ) -> int | None:
        """Post the result as a reply to the face-off, pinging only the battle's starter (nobody if called off)."""
        mentions = only_users([battle.starter_id]) if result.winner is not None else None
        posted = await self._send(battle.channel_id, posts.battle_result(battle, sides, result),
                                  nonce=f"chorus-battle-end-{battle.id}", mentions=mentions, reply_to=battle.message_id)
        if battle.message_id and sides is not None and result.votes is not None:
            # The face-off keeps its songs but trades its vote buttons for the votes.
            await self._edit(battle.channel_id, battle.message_id,
                             posts.face_off(battle, sides, battle.closes_at or 0, result=result))
        return posted

    async def challenge_voting(self, challenge: Challenge, entries: list[Entry], ends_at: float) -> int | None:
        """Post the entries and the vote menu (nobody is pinged)."""
        return await self._send(challenge.channel_id, posts.challenge_voting(challenge, entries, ends_at),
                                nonce=f"chorus-vote-{challenge.id}")

    async def challenge_results(self, challenge: Challenge, board: list[Standing]) -> int | None:
        """Post the results and leaderboard (nobody is pinged)."""
        posted = await self._send(challenge.channel_id, posts.challenge_results(challenge, board),
                                  nonce=f"chorus-results-{challenge.id}", reply_to=challenge.vote_message_id)
        if challenge.vote_message_id:
            entries = sorted((standing.entry for standing in board), key=lambda e: e.entry.submitted_at)
            await self._edit(challenge.channel_id, challenge.vote_message_id,
                             posts.challenge_voting(challenge, entries, challenge.vote_ends_at or 0, closed=True))
        return posted

    async def song_of_day(self, where: SongOfDayGuild, day: float, song: ChartRow) -> int | None:
        """Feature the song (nobody is pinged)."""
        return await self._send(where.channel_id, posts.song_of_day(day, song),
                                nonce=f"chorus-sotd-{int(day) // 86400}-{where.guild_id % 10**6}")
