"""Starting a listening party, or adding to the one that is on: the one way `/listen` and More → Play in voice go.

The checks come first and answer at once, privately: voice available on this bot (ffmpeg and the voice libraries)
and switched on in this server, the member in a voice channel, Chorus allowed to View Channel, Connect and Speak
there, and no party in another channel of the server (one party per server). Then the interaction is deferred,
privately, before anything slow: reading the songs and joining the voice channel (which takes a few seconds). A
second `/listen` in the channel of the party that is on adds its songs to the queue.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from bot.cometapi import Clip
from bot.core.listening import ListeningService, Song, songs_of
from bot.core.wording import plural
from bot.domain import Job
from bot.ui import render
from bot.ui.acknowledgement import in_time
from bot.ui.items.item_base import bot_of
from bot.ui.listening.host import JoinError, PartyHost
from bot.ui.replies import Refusal, safe_reply
from bot.ui.voice_support import voice_missing

# Reads the songs a party is asked to play, for a guild.
Songs = Callable[[ListeningService, int], Awaitable[list[Song]]]
VOICE_OFF = "Voice is switched off on this server. Admins can switch it on with `/chorus voice enabled:True`."
NOT_IN_VOICE = "Join a voice channel first, then ask again: I play in the voice channel you are in."
VOICE_PERMISSIONS = (("View Channel", "view_channel"), ("Connect", "connect"), ("Speak", "speak"))


def missing_permissions(channel: discord.VoiceChannel | discord.StageChannel) -> list[str]:
    """The permissions Chorus lacks in a voice channel to play there, by their names in Discord."""
    granted = channel.permissions_for(channel.guild.me)
    return [name for name, flag in VOICE_PERMISSIONS if not getattr(granted, flag)]


def may_post(interaction: discord.Interaction) -> bool:
    """Whether Chorus may post the now-playing message where the member asked."""
    granted = interaction.app_permissions
    in_thread = isinstance(interaction.channel, discord.Thread)
    return granted.view_channel and (granted.send_messages_in_threads if in_thread else granted.send_messages)


def elsewhere(host: PartyHost) -> Refusal:
    """The refusal when the server's party is in another voice channel."""
    return Refusal(f"A listening party is already on in <#{host.party.channel_id}> (one at a time per server). "
                   f"Join it there, or ask <@{host.party.starter_id}>, who started it, or a moderator to stop it "
                   "first.")


async def listen(interaction: discord.Interaction, songs: Songs, *, what: str, empty: str,
                 live: bool = False) -> None:
    """Play `songs` (described as `what`, e.g. "this week's chart") in the member's voice channel: a new party, or
    more for the queue of the one on there. `empty`: what to say when there is nothing to play. `live`: songs
    posted in this channel from now on join the queue too."""
    bot = bot_of(interaction)
    guild, member = interaction.guild, interaction.user
    if guild is None or not isinstance(member, discord.Member) or interaction.channel_id is None:
        raise Refusal("Listening parties are in a server's voice channels, not in DMs.")
    missing = voice_missing()
    if missing is not None:
        raise Refusal(missing)
    settings = await in_time(interaction, bot.store.guild_settings(guild.id), answer="private")
    if not settings.voice_enabled:
        raise Refusal(VOICE_OFF)
    channel = member.voice.channel if member.voice is not None else None
    if channel is None:
        raise Refusal(NOT_IN_VOICE)
    party = bot.listening.of_guild(guild.id)
    if party is not None and party.party.channel_id != channel.id:
        raise elsewhere(party)
    if party is None and not may_post(interaction):
        raise Refusal("Chorus cannot post its now-playing message in this channel (it needs View Channel and Send "
                      "Messages here). Ask again in a channel where it may post, or ask an admin.")
    lacking = missing_permissions(channel)
    if party is None and lacking:
        raise Refusal(f"Chorus needs the {' and '.join(lacking)} permission{'s' if len(lacking) > 1 else ''} in "
                      f"{channel.mention} to play there. Ask an admin to allow {'them' if len(lacking) > 1 else 'it'} "
                      "for Chorus in that channel.")
    if not interaction.response.is_done():  # in_time acknowledged it already when the store was slow
        await interaction.response.defer(ephemeral=True, thinking=True)
    found = await songs(bot.listening.service, guild.id)
    started_at = await bot.listening.service.clock()
    # One may have begun while the songs were read; from here to `open` nothing waits, so none can begin meanwhile.
    party = bot.listening.of_guild(guild.id)
    if party is not None:
        await _add(interaction, party, found, what=what, empty=empty, live=live)
        return
    if not found and not live:
        raise Refusal(empty)
    text_channel = interaction.channel or bot.get_partial_messageable(interaction.channel_id, guild_id=guild.id)
    assert isinstance(text_channel, discord.abc.Messageable)  # noqa: S101 - a guild interaction's channel
    party = bot.listening.open(channel, text_channel, text_channel_id=interaction.channel_id,
                               starter_id=member.id, started_at=started_at, live=live)
    party.add(found)
    try:
        await party.begin()
    except JoinError as error:
        raise Refusal(error.message) from error
    playing = f"{plural(len(found), 'song')} from {what}" if found else "the songs posted here"
    later = f" Songs posted in <#{interaction.channel_id}> join the queue as they come." if live else ""
    await safe_reply(interaction, f"🎧 Playing {playing} in {channel.mention}.{later} Skip, pause and stop from the "
                                  f"now-playing message: {_link(party)}")


async def _add(interaction: discord.Interaction, party: PartyHost, found: list[Song], *, what: str, empty: str,
               live: bool) -> None:
    """More for the queue of the party on in the member's channel."""
    if party.party.channel_id != _voice_channel_id(interaction):
        raise elsewhere(party)
    added = party.add(found)
    lines = []
    if added:
        lines.append(f"Added {plural(len(added), 'song')} from {what} to the queue in <#{party.party.channel_id}>.")
    elif found:
        lines.append(f"Every song from {what} is in the queue already.")
    if live and interaction.channel_id is not None:
        if party.party.live_channel_id in (None, interaction.channel_id):
            party.go_live(interaction.channel_id)
            lines.append(f"Songs posted in <#{interaction.channel_id}> join the queue as they come.")
        else:
            lines.append(f"Songs posted in <#{party.party.live_channel_id}> join this party's queue already.")
    if not lines:
        lines.append(empty)
    await safe_reply(interaction, " ".join(lines) + f" Now playing: {_link(party)}")


def _voice_channel_id(interaction: discord.Interaction) -> int | None:
    member = interaction.user
    voice = member.voice if isinstance(member, discord.Member) else None
    return voice.channel.id if voice is not None and voice.channel is not None else None


def _link(party: PartyHost) -> str:
    """A jump link to the now-playing message (or the voice channel while it is not posted)."""
    message = party.now_playing.message
    if message is None:
        return f"<#{party.party.channel_id}>"
    return render.jump_url(message.guild.id if message.guild else None, message.channel.id, message.id)


async def play_in_voice(interaction: discord.Interaction, job: Job, take: int) -> None:
    """More → Play in voice: the song's takes, in order, in the member's voice channel (a new party, or next in
    the queue of the one on there)."""
    await listen(interaction, lambda songs, guild_id: songs.song(guild_id, job.id), what=render.song_number(job.id),
                 empty="That song has nothing to play.")


def voice_offered(job: Job, take: int, clip: Clip | None) -> bool:
    """More offers Play in voice on a server's song with a take to play."""
    return job.guild_id is not None and job.kind != "stems" and bool(songs_of(job))
