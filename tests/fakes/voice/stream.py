"""What a listener in a guild's voice channel would hear: the bot's decrypted Opus frames, in arrival order.

Each frame is 20 ms of audio (discord.py sends one Opus frame a packet, timestamps 960 samples apart at 48 kHz).
discord.py sends five silence frames (``F8 FF FE``) whenever it stops sending: when a source ends, on pause and
on stop. So the audio between two runs of silence is one uninterrupted stretch of one song: a *burst*. A queue of
three songs played to the end shows as three bursts; a pause splits a song's burst in two; a skip cuts one short.
"""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .rtp import RtpPacket

FRAME_SECONDS = 0.02
SAMPLES_PER_FRAME = 960


@dataclass(frozen=True, slots=True)
class Frame:
    """One received voice packet's frame."""

    ssrc: int
    sequence: int
    timestamp: int
    payload: bytes
    silence: bool
    ogg_header: bool  # OpusHead/OpusTags: discord.py sends them first from FFmpegOpusAudio; listeners hear nothing
    dave: bool  # end-to-end encrypted (only when a session negotiated DAVE; the fake declines it)
    received_at: float  # time.monotonic()
    heard: bool  # False when the sender lacked Speak there: Discord forwards nothing to listeners

    @classmethod
    def of(cls, packet: RtpPacket, *, heard: bool) -> Frame:
        return cls(packet.ssrc, packet.sequence, packet.timestamp, packet.payload, packet.silence,
                   packet.ogg_header, packet.dave, time.monotonic(), heard)


@dataclass(frozen=True, slots=True)
class SpeakingEvent:
    """An op 5 SPEAKING from the bot, and how many frames had arrived when it came (its place in the stream)."""

    speaking: int  # bit flags: 1 microphone, 2 soundshare, 4 priority; 0 stopped
    ssrc: int
    at_frame: int
    received_at: float


@dataclass(frozen=True, slots=True)
class Burst:
    """A run of audio frames with no silence frame inside: one uninterrupted stretch of playback."""

    frames: tuple[Frame, ...]

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def seconds(self) -> float:
        """Playing time: 20 ms a frame."""
        return len(self.frames) * FRAME_SECONDS

    @property
    def in_order(self) -> bool:
        """Sequence numbers step by one and timestamps by 960 samples (modulo wrap-around), within each SSRC."""
        return all(
            a.ssrc != b.ssrc
            or ((b.sequence - a.sequence) % 65536 == 1 and (b.timestamp - a.timestamp) % 2**32 == SAMPLES_PER_FRAME)
            for a, b in zip(self.frames, self.frames[1:], strict=False)
        )

    def pitch_hz(self) -> float:
        """The dominant frequency of a pure tone, from zero crossings of the decoded audio (needs libopus).

        Lets a test tell songs apart when each is a sine of its own pitch (``tests.fakes.voice.audio.tone_mp3``)."""
        return estimate_hz(frame.payload for frame in self.frames)


@dataclass(slots=True)
class VoiceStream:
    """Everything the bot sent to one guild's voice server, across its voice connections (SSRCs)."""

    guild_id: int
    frames: list[Frame] = field(default_factory=list)  # heard frames, in arrival order
    unheard: list[Frame] = field(default_factory=list)  # sent while the bot lacked Speak
    speaking: list[SpeakingEvent] = field(default_factory=list)
    undecryptable: int = 0  # packets that failed transport decryption (wrong key, mode or additional data)
    on_change: Callable[[], None] | None = None

    def add(self, frame: Frame) -> None:
        (self.frames if frame.heard else self.unheard).append(frame)
        self._changed()

    def add_speaking(self, speaking: int, ssrc: int) -> None:
        self.speaking.append(SpeakingEvent(speaking, ssrc, len(self.frames), time.monotonic()))
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    @property
    def audio(self) -> list[Frame]:
        """Heard Opus frames of audio: neither silence frames nor Ogg header packets."""
        return [f for f in self.frames if not f.silence and not f.ogg_header]

    @property
    def ogg_headers(self) -> list[Frame]:
        """Ogg Opus header packets sent as if they were frames (two at the start of each FFmpegOpusAudio)."""
        return [f for f in self.frames if f.ogg_header]

    @property
    def silence(self) -> list[Frame]:
        """Silence frames (five follow every stop in sending)."""
        return [f for f in self.frames if f.silence]

    def bursts(self) -> list[Burst]:
        """Runs of audio frames split by silence frames (Ogg header packets left out); see the module docstring."""
        runs: list[list[Frame]] = [[]]
        for frame in self.frames:
            if frame.ogg_header:
                continue
            if frame.silence:
                if runs[-1]:
                    runs.append([])
            else:
                runs[-1].append(frame)
        return [Burst(tuple(run)) for run in runs if run]

    def since(self, mark: int) -> list[Frame]:
        """Frames after ``mark`` (an earlier ``len(stream.frames)``): what played since a step of the test."""
        return self.frames[mark:]


def estimate_hz(payloads: Iterable[bytes]) -> float:
    """Decode Opus frames (48 kHz stereo) with libopus and estimate a pure tone's frequency from zero crossings."""
    from discord.opus import Decoder  # loads the system libopus on first use

    decoder = Decoder()
    crossings = samples = 0
    previous = 0
    for payload in payloads:
        pcm = decoder.decode(payload, fec=False)
        left = struct.unpack(f"<{len(pcm) // 2}h", pcm)[::2]
        for sample in left:
            if (sample >= 0) != (previous >= 0):
                crossings += 1
            previous = sample
        samples += len(left)
    return 0.0 if samples == 0 else crossings / 2 / (samples / 48_000)


def expected_frames(seconds: float) -> int:
    """How many 20 ms frames ``seconds`` of audio makes."""
    return math.ceil(seconds / FRAME_SECONDS)
