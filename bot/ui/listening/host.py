"""Hosting listening parties in voice channels: at most one per guild, in the memory of this process.

Every interaction and voice event of a guild reaches the one process that runs its shard, so that process hosts the
guild's party and nothing about it is shared; the songs come from the one store (a live party asks it every few
seconds for songs posted in its channel, wherever they were posted from).

A party joins the voice channel with discord.py's voice support and plays its queue song by song: each song is
streamed from its audio link by ffmpeg (`FFmpegOpusAudio`: ffmpeg reads the link as it plays, reconnecting when the
connection drops, and encodes Opus; nothing is loaded whole into memory). discord.py's player calls back from its own
thread when a song ends (or is skipped or stopped); the call is handed to the event loop, which starts the next one.
The party leaves when its queue ends (a live party waits for the next song instead), when it is stopped, when
everyone else has left (after `alone_grace` seconds), when the bot is disconnected, and when the bot shuts down
(before anything else closes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import subprocess
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

from bot.core.listening import ListeningConfig, ListeningService, Party, Song
from bot.ui.listening.now_playing import NowPlaying

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)

# ffmpeg reads each song from its link: reconnect when the connection drops (a long pause, a CDN hiccup), and give
# up on a link that sends nothing for 15 s (microseconds), so a stalled CDN cannot hold the party forever (Skip and
# Stop cut a song off at once: SongStream.interrupt).
BEFORE_OPTIONS = "-reconnect 1 -reconnect_streamed 1 -reconnect_delay_max 5 -rw_timeout 15000000"
OPTIONS = "-vn"  # audio only: a song link may carry a cover picture as a video stream
QUEUE_ENDED = "The queue has ended."
ALONE = "Everyone else left the voice channel, so Chorus left too."
DISCONNECTED = "Chorus was disconnected from the voice channel."
RESTARTING = "Chorus is restarting."
SKIP_WAIT = 1.0  # seconds a Skip waits for the next song to come up, to show it in the press's answer
BROKEN = "Something went wrong on my side, so the party ended. The admins can find the details in the bot's logs."
# Makes the audio source of a song: `FFmpegOpusAudio` streaming from its link.
SourceMaker = Callable[[Song], discord.AudioSource]


class JoinError(Exception):
    """The party could not begin; `message` says why, for the member who started it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SongStream(discord.FFmpegOpusAudio):
    """A song's audio, streamed from its link through ffmpeg and encoded to Opus, that can be cut off at once."""

    def interrupt(self) -> None:
        """End the song now, even while its link is stalled: stopping discord.py's player alone waits for its read
        of ffmpeg's output, which a silent link holds until ffmpeg gives up on it (`-rw_timeout`). ffmpeg is killed,
        so that read ends at once; marked stopped first (discord.py's own flag), so the player reports no error."""
        process = getattr(self, "_process", None)  # discord.py's FFmpegAudio keeps its ffmpeg process here
        if isinstance(process, subprocess.Popen) and process.poll() is None:
            self._stopped = True
            process.kill()


def stream(song: Song) -> discord.AudioSource:
    """The song's audio, streamed from its link through ffmpeg and encoded to Opus."""
    return SongStream(song.audio_url, before_options=BEFORE_OPTIONS, options=OPTIONS)


class PartyHost:
    """One party on Discord: its voice connection, its now-playing message and the task that plays its queue."""

    def __init__(self, host: ListeningHost, party: Party, channel: discord.VoiceChannel | discord.StageChannel,
                 text_channel: discord.abc.Messageable) -> None:
        self.host = host
        self.party = party
        self.channel = channel
        self.voice: discord.VoiceClient | None = None
        self.now_playing = NowPlaying(party, text_channel, host.config, host.likes, lambda: len(self.listeners()))
        self._more = asyncio.Event()  # a live party waiting for songs is woken by this
        self._turned = asyncio.Event()  # set whenever another song comes up, or the party is over
        self._song_done: asyncio.Event | None = None
        self._source: discord.AudioSource | None = None  # the song playing
        self._tasks: list[asyncio.Task[None]] = []
        self._alone: asyncio.Task[None] | None = None
        self._runner: asyncio.Task[None] | None = None

    # ---- what members see and do -----------------------------------------------------------------------------------

    def listeners(self) -> list[int]:
        """Who is listening: the members in the voice channel, bots left out."""
        return [member.id for member in self.channel.members if not member.bot]

    def in_channel(self, user_id: int) -> bool:
        """Whether the member is in the party's voice channel."""
        return user_id in self.listeners()

    def add(self, songs: list[Song]) -> list[Song]:
        """Queue the songs not queued yet; the ones added."""
        added = self.party.add(songs)
        if added:
            self._more.set()
            self.now_playing.changed()
        return added

    def go_live(self, channel_id: int) -> None:
        """From now on, songs posted in that channel join the queue."""
        if self.party.live_channel_id is None:
            self.party.live_channel_id = channel_id
            self._watch()
            self._more.set()
            self.now_playing.changed()

    def _watch(self) -> None:
        self._tasks.append(asyncio.create_task(self._watch_posts(), name=f"party {self.party.id} posts"))

    async def skip(self, *, within: float = SKIP_WAIT) -> None:
        """Stop the song playing; return once the next one is up (or the party is over), or after `within` seconds
        (so the press that skipped can show what plays now)."""
        if self.voice is None:
            return
        self._turned.clear()
        self._cut()  # the player calls back, and the runner moves on
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._turned.wait(), timeout=within)

    def pause(self) -> None:
        """Pause the song playing."""
        if self.voice is not None:
            self.voice.pause()
        self.party.playback.pause()

    def resume(self) -> None:
        """Go on playing."""
        if self.voice is not None:
            self.voice.resume()
        self.party.playback.resume()

    def stop(self, reason: str) -> None:
        """End the party: the song stops and the bot leaves (the runner finishes it)."""
        if self.party.end(reason):
            self._more.set()
            if self.voice is not None:
                # The player calls back once its thread is done with the song; only then does the runner leave
                # (leaving first would keep that thread waiting for the connection to come back).
                self._cut()
            elif self._song_done is not None:
                self._song_done.set()
            self.now_playing.changed()

    def _cut(self) -> None:
        """Stop the song playing at once: the player, and the song's ffmpeg with it."""
        if self.voice is not None:
            self.voice.stop()
        if isinstance(self._source, SongStream):
            self._source.interrupt()

    # ---- the party's life --------------------------------------------------------------------------------------------

    async def begin(self) -> None:
        """Join the voice channel, start playing and post the now-playing message; JoinError if it cannot begin."""
        stale = self.channel.guild.voice_client
        if stale is not None:  # a connection no party owns (one that failed to leave): it would refuse a new one
            await stale.disconnect(force=True)
        try:
            self.voice = await self.channel.connect(timeout=self.host.config.connect_timeout, self_deaf=True)
        except TimeoutError as error:
            self.party.end("Chorus could not join the voice channel.")
            self.host.forget(self)
            raise JoinError(f"Discord did not let me into {self.channel.mention} in time. Check that Chorus may "
                            "View Channel, Connect and Speak there (and that the channel is not full), then try "
                            "again.") from error
        except (discord.ClientException, discord.HTTPException) as error:
            log.warning("party %d could not join voice channel %d: %s", self.party.id, self.channel.id, error)
            self.party.end("Chorus could not join the voice channel.")
            self.host.forget(self)
            message = f"I could not join {self.channel.mention} just now. Please try again in a moment."
            raise JoinError(message) from error
        self.now_playing.start()
        self._runner = asyncio.create_task(self._run(), name=f"party {self.party.id}")
        if self.party.live:
            self._watch()
        self.members_changed()
        await self.now_playing.posted.wait()
        if self.now_playing.message is not None:
            return
        if self.party.ended:
            await self.finished()
            raise JoinError(f"The party ended before its first song: {self.party.end_reason}")
        self.stop("Chorus could not post its now-playing message.")
        await self.finished()
        raise JoinError("I could not post the now-playing message in this channel (I need View Channel and Send "
                        "Messages here), so I left the voice channel again.")

    async def finished(self) -> None:
        """Wait until the party is over and the bot has left."""
        if self._runner is not None:
            await asyncio.shield(self._runner)

    def members_changed(self) -> None:
        """Someone joined or left the voice channel: once nobody but the bot is left, leave after the grace."""
        if self.party.ended:
            return
        if self.listeners():
            if self._alone is not None:
                self._alone.cancel()
                self._alone = None
        elif self._alone is None or self._alone.done():
            self._alone = asyncio.create_task(self._leave_when_alone(), name=f"party {self.party.id} alone")

    async def _leave_when_alone(self) -> None:
        await asyncio.sleep(self.host.config.alone_grace)
        if not self.listeners():
            self.stop(ALONE)

    async def _run(self) -> None:
        """Play the queue, song by song, until the party ends; then leave."""
        try:
            while not self.party.ended:
                song = self.party.advance()
                self._turned.set()
                if song is None:
                    if not self.party.live:
                        self.party.end(QUEUE_ENDED)
                        break
                    self._more.clear()
                    self.now_playing.changed()
                    await self._more.wait()
                    continue
                if not await self._playable(song):
                    log.info("party %d skips song #%d: it was deleted", self.party.id, song.job_id)
                    self.party.current = None  # never played: not counted
                    continue
                await self._play(song)
        except Exception:
            log.exception("listening party %d in guild %d failed", self.party.id, self.party.guild_id)
            self.party.end(BROKEN)
        finally:
            await self._leave()

    async def _playable(self, song: Song) -> bool:
        """Whether the song was not deleted; when the store cannot say (a database restart), it plays."""
        try:
            return await self.host.service.playable(song)
        except Exception:
            log.warning("party %d could not check song #%d; playing it", self.party.id, song.job_id, exc_info=True)
            return True

    async def _play(self, song: Song) -> None:
        """Play one song to its end (or until it is skipped or the party stops)."""
        voice = self.voice
        if self.party.ended:
            return  # stopped while the song was being looked at: it never starts
        if voice is None or not voice.is_connected():
            self.party.end(DISCONNECTED)
            return
        loop = asyncio.get_running_loop()
        done = self._song_done = asyncio.Event()

        def after(error: Exception | None) -> None:
            # discord.py's player thread: hand over to the event loop (gone only if the process is going down).
            if error is not None:
                log.warning("party %d: song #%d stopped with an error: %s", self.party.id, song.job_id, error)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(done.set)

        self._source = self.host.source(song)
        voice.play(self._source, after=after)
        self.now_playing.changed()
        await done.wait()
        self._song_done = self._source = None

    async def _watch_posts(self) -> None:
        """Live: every `live_every` seconds, queue the songs posted in the channel since the party began."""
        party = self.party
        while not party.ended and party.live_channel_id is not None:
            await asyncio.sleep(self.host.config.live_every)
            try:
                posted = await self.host.service.posted_since(party.guild_id, party.live_channel_id, party.started_at)
            except Exception:
                log.warning("party %d could not read the songs posted in channel %d", party.id,
                            party.live_channel_id, exc_info=True)
                continue
            if party.add_posted(posted):
                self._more.set()
                self.now_playing.changed()

    async def _leave(self) -> None:
        """Leave the voice channel, show the party ended, and let the guild have another."""
        for task in [*self._tasks, *([self._alone] if self._alone is not None else [])]:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.voice is not None:
            try:
                await self.voice.disconnect(force=False)
            except Exception:
                log.warning("party %d could not leave voice channel %d cleanly", self.party.id, self.channel.id,
                            exc_info=True)
        self._turned.set()
        await self.now_playing.finish()
        self.host.forget(self)
        log.info("listening party %d in guild %d ended: %s", self.party.id, self.party.guild_id, self.party.end_reason)


class ListeningHost:
    """The parties this process hosts, one per guild, and the voice events that concern them."""

    def __init__(self, bot: Chorus, service: ListeningService, config: ListeningConfig | None = None, *,
                 source: SourceMaker = stream) -> None:
        self.bot = bot
        self.service = service
        self.config = config or ListeningConfig()
        self.source = source
        self._parties: dict[int, PartyHost] = {}

    async def likes(self, job_id: int) -> int:
        """How many members like a song (for the Like button's label)."""
        return await self.bot.community.likes.count(job_id)

    def of_guild(self, guild_id: int) -> PartyHost | None:
        """The guild's party, while it is on."""
        host = self._parties.get(guild_id)
        return host if host is not None and not host.party.ended else None

    def song_liked(self, guild_id: int | None, job_id: int) -> None:
        """A song's likes changed on its post: the guild's party, if it is playing that song, shows the new count."""
        host = self.of_guild(guild_id) if guild_id is not None else None
        if host is not None and host.party.current is not None and host.party.current.job_id == job_id:
            host.now_playing.changed()

    def find(self, party_id: int) -> PartyHost | None:
        """A party that is on, by its id (a button's)."""
        return next((h for h in self._parties.values() if h.party.id == party_id and not h.party.ended), None)

    def open(self, channel: discord.VoiceChannel | discord.StageChannel, text_channel: discord.abc.Messageable,
             *, text_channel_id: int, starter_id: int, started_at: float, live: bool = False) -> PartyHost:
        """A new party for the channel's guild, held there at once (before it joins), so a second `/listen` arriving
        meanwhile finds it (`live`: songs posted in the text channel join its queue). The caller checked that the
        guild has none."""
        party = Party(id=secrets.randbits(48), guild_id=channel.guild.id, channel_id=channel.id,
                      text_channel_id=text_channel_id, starter_id=starter_id, started_at=started_at,
                      live_channel_id=text_channel_id if live else None)
        host = self._parties[channel.guild.id] = PartyHost(self, party, channel, text_channel)
        return host

    def forget(self, host: PartyHost) -> None:
        """The party is over: its guild may have another."""
        if self._parties.get(host.party.guild_id) is host:
            del self._parties[host.party.guild_id]

    async def on_voice_state_update(self, member: discord.Member, before: discord.VoiceState,
                                    after: discord.VoiceState) -> None:
        """Members come and go: a party left alone leaves after the grace; a bot disconnected ends its party."""
        host = self.of_guild(member.guild.id)
        if host is None:
            return
        if member.id == self.bot.user.id:
            if after.channel is None or after.channel.id != host.party.channel_id:
                host.stop(DISCONNECTED)
            return
        channel_id = host.party.channel_id
        if channel_id in (getattr(before.channel, "id", None), getattr(after.channel, "id", None)):
            host.members_changed()

    async def close(self, *, within: float = 5.0) -> None:
        """Shutting down: every party stops and leaves its voice channel, first."""
        hosts = list(self._parties.values())
        for host in hosts:
            host.stop(RESTARTING)
        waits: list[Awaitable[None]] = [host.finished() for host in hosts]
        if not waits:
            return
        try:
            results = await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), timeout=within)
        except TimeoutError:
            log.warning("listening parties were still leaving after %.0f s; closing anyway", within)
            return
        for result in results:
            if isinstance(result, BaseException):
                log.warning("a listening party did not end cleanly: %s", result)
