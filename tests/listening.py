"""What the /listen end-to-end tests share: a voice channel with Alice in it, the real bot, songs that play tones of
their own pitch from the simulator's CDN, and what a listener heard."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.core.listening import ListeningConfig
from bot.simulator import SimulatorServer
from tests.e2e import buttons, eventually, text_of, wait_delivery
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import FakeChannel, FakeUser
from tests.fakes.voice import Burst, FakeVoice, expected_frames, tone_mp3
from tests.harness import BotHarness

# Short waits, so a party left alone leaves and a live party looks for posted songs within the test.
FAST = ListeningConfig(alone_grace=0.3, live_every=0.1, progress_every=0.5, edit_gap=0.1, connect_timeout=5.0)


@dataclass
class Room:
    """The fake Discord with a voice channel (Alice in it), the simulator and the running bot."""

    fake: FakeDiscord
    voice: FakeVoice
    lobby: FakeChannel
    sim: SimulatorServer
    harness: BotHarness
    folder: Path

    def tone(self, hz: int, seconds: float) -> bytes:
        return tone_mp3(self.folder / f"tone-{hz}-{seconds}.mp3", hz, seconds).read_bytes()

    async def song(self, hz: int, seconds: float, *, user: FakeUser | None = None, count: int) -> dict[str, Any]:
        """A song made and posted (the `count`-th delivery in #music) whose takes play a `hz` tone."""
        await self.fake.slash_command("suno", {"prompt": f"a {hz} Hz song"}, user=user or self.fake.alice)
        message: dict[str, Any] = (await wait_delivery(self.fake, count))[count - 1]

        async def recorded() -> Any:
            # Discord has the post; the bot records it as delivered a moment later (a busy machine: longer), and
            # only a delivered song is on the chart, the member's list or the channel's: wait for that too.
            job = await self.bot.jobs.get(count)
            return job if job is not None and job.delivery == "delivered" else None

        job = await eventually(recorded, within=10)
        assert job.result is not None
        for clip in job.result["clips"]:
            self.sim.media.set_audio(self.tone(hz, seconds), clip["id"])
        return message

    @property
    def bot(self) -> Any:
        return self.harness.bot

    async def like(self, job_id: int, *users: FakeUser) -> None:
        for user in users:
            await self.bot.store.toggle_like(job_id, user.id, self.fake.guild.id, debounce=0)

    async def listen(self, command: str, options: dict[str, Any] | None = None, *, user: FakeUser | None = None,
                     channel: FakeChannel | None = None) -> str:
        """Run a /listen command and return the member's private answer."""
        it = await self.fake.slash_command(command, options or {}, user=user or self.fake.alice, channel=channel)
        first = await it.wait_response(timeout=5)
        if first["type"] == 4:
            assert first["data"]["flags"] & 64, "refusals are private"
            return str(first["data"]["content"])
        assert first["type"] == 5 and first["data"]["flags"] & 64, "the answer is deferred, privately"
        answer = await it.wait_original(lambda m: bool(m["content"]), timeout=15)
        return str(answer["content"])

    def now_playing(self) -> dict[str, Any]:
        """The party's message in #music (the one the bot posted without a song's nonce)."""
        (message,) = [m for m in self.fake.messages_in(self.fake.music)
                      if "🎧" in text_of(m) and not m.get("flags", 0) & 64]
        return message

    def posts_to_music(self) -> list[Any]:
        """Every accepted POST of a message to #music that was not a song's delivery."""
        path = f"/channels/{self.fake.music.id}/messages"
        return [r for r in self.fake.find_requests("POST", path)
                if r.status == 200 and not str((r.json or {}).get("nonce") or "").startswith("chorus-job-")]

    def bursts(self) -> list[Burst]:
        return self.voice.stream().bursts()

    async def left(self) -> None:
        """Wait until the bot is out of voice."""
        bot = self.fake.bot_user
        await self.voice.wait_for(lambda: (self.voice.voice_state(bot) is None and bool(self.voice.sessions)) or None,
                                  timeout=20)

    async def ended(self) -> str:
        """Wait until the bot is out of voice and the now-playing message says the party ended; its text."""
        await self.left()
        message = await self.fake.wait_for(lambda: self.now_playing() if "has ended" in text_of(self.now_playing())
                                           else None, timeout=10)
        return text_of(message)

    async def press(self, label: str, *, user: FakeUser | None = None) -> dict[str, Any]:
        """Press a button of the now-playing message; its one answer."""
        message = self.now_playing()
        button = next(b for b in buttons(message) if b.get("label") == label)
        click = await self.fake.click_button(message, button["custom_id"], user=user or self.fake.alice)
        return await click.wait_response(timeout=5)


@pytest.fixture
async def room(fake_discord, simulator, tmp_path):
    async with FakeVoice(fake_discord) as voice:
        lobby = voice.add_voice_channel("Lobby")
        voice.place(fake_discord.alice, lobby)
        harness = BotHarness(fake_discord, simulator, tmp_path / "chorus.db", listening=FAST)
        await harness.start()
        try:
            yield Room(fake_discord, voice, lobby, simulator, harness, tmp_path)
        finally:
            await harness.stop()
        # Every song's player thread (and its ffmpeg) is gone once the bot has stopped.
        await fake_discord.wait_for(lambda: not players() or None, timeout=5)


def players() -> list[threading.Thread]:
    """discord.py's audio player threads still running."""
    return [thread for thread in threading.enumerate() if type(thread).__name__ == "AudioPlayer"]


def heard(burst: Burst, hz: int, seconds: float) -> bool:
    """The burst is that song, whole: its pitch, and about its length in 20 ms frames (MP3 padding aside)."""
    frames = expected_frames(seconds)
    return abs(burst.pitch_hz() - hz) < hz * 0.05 and abs(len(burst) - frames) <= frames * 0.1 + 5 and burst.in_order
