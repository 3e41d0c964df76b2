"""The buttons of a party's now-playing message: Skip, Pause/Resume, Stop and ❤️ Like.

Each carries the party's id (`chorus:listen-skip:<party>`); a party lives in this process's memory, so a press on
the message of a party that has ended (or of one from before a restart) is told so, privately. Only a member in the
party's voice channel steers it: Skip is a vote (a majority of the listeners skips at once; the starter or a
moderator skips alone), Pause/Resume is anyone's there, Stop is the starter's or a moderator's (a moderator may stop
it from anywhere). ❤️ Like is anyone's: it likes the song playing, through the same likes as the song's post. Every
press answers once: a change as an update of the message itself, a refusal privately.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.domain import Job
from bot.ui.items.item_base import ChorusButton, bot_of
from bot.ui.items.like_button import relabel_post
from bot.ui.replies import safe_reply

if TYPE_CHECKING:
    from bot.ui.listening.host import PartyHost

ENDED = "This listening party has ended. Start another with `/listen`."
NOT_THERE = "Join the party's voice channel, <#{channel}>, to steer it."


def is_moderator(interaction: discord.Interaction) -> bool:
    """A moderator for parties: may manage messages (the project's moderators) or move members in voice."""
    permissions = interaction.permissions
    return permissions.manage_messages or permissions.move_members


async def party_for(interaction: discord.Interaction, party_id: int, *, steer: bool = True) -> PartyHost | None:
    """The party a press belongs to, or None once the press is answered (the party ended; the presser is not in its
    voice channel and `steer`)."""
    host = bot_of(interaction).listening.find(party_id)
    if host is None:
        await safe_reply(interaction, ENDED)
        return None
    if steer and not host.in_channel(interaction.user.id):
        await safe_reply(interaction, NOT_THERE.format(channel=host.party.channel_id))
        return None
    return host


class SkipButton(ChorusButton, action="listen-skip", fields=("party",)):
    """Vote to skip the song playing (the starter or a moderator skips at once)."""

    def __init__(self, party_id: int) -> None:
        super().__init__(party_id, label="Skip", emoji="⏭️")

    async def on_press(self, interaction: discord.Interaction) -> None:
        """Count the vote; skip when it carries."""
        host = await party_for(interaction, self.ids["party"])
        if host is None:
            return
        party, user_id = host.party, interaction.user.id
        if party.current is None:
            await safe_reply(interaction, "Nothing is playing right now.")
            return
        alone = party.may_skip_alone(user_id, moderator=is_moderator(interaction))
        outcome = party.vote_skip(user_id, host.listeners(), alone=alone)
        if outcome.skipped:
            await host.skip()
            await host.now_playing.answer(interaction)
            return
        host.now_playing.changed()
        again = "You voted already. " if outcome.already else ""
        await safe_reply(interaction, f"⏭️ {again}Votes to skip this song: {outcome.votes} of {outcome.needed}. "
                                      "It is skipped once a majority of the listeners votes for it.")


class PauseButton(ChorusButton, action="listen-pause", fields=("party",)):
    """Pause the party, or resume it (its label says which)."""

    def __init__(self, party_id: int, *, paused: bool = False) -> None:
        super().__init__(party_id, label="Resume" if paused else "Pause", emoji="▶️" if paused else "⏸️")

    async def on_press(self, interaction: discord.Interaction) -> None:
        """Pause or resume, whichever the party is not doing now."""
        host = await party_for(interaction, self.ids["party"])
        if host is None:
            return
        if host.party.current is None:
            await safe_reply(interaction, "Nothing is playing right now.")
            return
        if host.party.playback.paused:
            host.resume()
        else:
            host.pause()
        await host.now_playing.answer(interaction)


class StopButton(ChorusButton, action="listen-stop", fields=("party",)):
    """End the party: the bot leaves the voice channel (the starter or a moderator)."""

    def __init__(self, party_id: int) -> None:
        super().__init__(party_id, label="Stop", emoji="⏹️", style=discord.ButtonStyle.danger)

    async def on_press(self, interaction: discord.Interaction) -> None:
        """Stop, if the presser may."""
        moderator = is_moderator(interaction)
        host = await party_for(interaction, self.ids["party"], steer=not moderator)
        if host is None:
            return
        if not host.party.may_stop(interaction.user.id, moderator=moderator):
            await safe_reply(interaction, f"Only <@{host.party.starter_id}>, who started the party, or a moderator "
                                          "can stop it. Skip votes and Pause are everyone's.")
            return
        host.stop(f"Stopped by <@{interaction.user.id}>.")
        await host.now_playing.answer(interaction)


class LikeSongButton(ChorusButton, action="listen-like", fields=("party", "job")):
    """❤️ Like the song playing (or take the like back), as on its post; anyone may."""

    def __init__(self, party_id: int, job_id: int, *, label: str = "Like") -> None:
        super().__init__(party_id, job_id, label=label, emoji="❤️")

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Toggle the presser's like (the one like service) and show the count."""
        host = await party_for(interaction, self.ids["party"], steer=False)
        if host is None:
            return
        bot = bot_of(interaction)
        toggle = await bot.community.likes.toggle(job, interaction.user.id)
        if not toggle.changed:
            await interaction.response.defer()  # a double click: nothing changed, nothing to show
            return
        await host.now_playing.answer(interaction)
        await relabel_post(bot, job)  # the song's own post shows the same count
