"""A fake Discord voice server for the real discord.py voice stack, on loopback, plugged into the fake Discord.

- Main gateway: the bot's op 4 VOICE_STATE_UPDATE is answered with VOICE_STATE_UPDATE (its voice state, with its
  session id) and VOICE_SERVER_UPDATE (token, guild, endpoint ``127.0.0.1:<port>``); members join and leave voice
  channels (GUILD_CREATE ``voice_states``, VOICE_STATE_UPDATE); Connect and Speak are honoured.
- Voice gateway, v8, over TLS with a CA made at test time (:mod:`.tls`): HELLO, IDENTIFY → READY,
  SELECT_PROTOCOL → SESSION_DESCRIPTION (``dave_protocol_version`` 0: the fake declines DAVE), heartbeats with
  ``seq_ack``, SPEAKING, RESUME → RESUMED.
- UDP: IP discovery, RTP decrypted with ``aead_xchacha20_poly1305_rtpsize`` (PyNaCl); Opus frames counted per
  guild in :class:`VoiceStream`.

Typical use::

    async with FakeDiscord() as fake, FakeVoice(fake) as voice:
        lobby = voice.add_voice_channel("Lobby")
        voice.place(fake.alice, lobby)
        ...  # start the bot (it needs the voice_states intent), let it join and play
        session = await voice.wait_connected()
        assert session.max_dave_protocol_version > 0 and session.mode == XCHACHA_RTPSIZE
        await voice.wait_for(lambda: len(voice.stream().bursts()) == 2)
"""

from __future__ import annotations

from .audio import FFMPEG_MISSING, ffmpeg, tone_input, tone_mp3
from .rtp import OPUS_SILENCE, XCHACHA_RTPSIZE, RtpPacket, decrypt_xchacha_rtpsize
from .server import FakeVoice
from .session import VoiceGrant, VoiceMember, VoiceSession
from .stream import FRAME_SECONDS, Burst, Frame, SpeakingEvent, VoiceStream, estimate_hz, expected_frames
from .tls import LoopbackCA, shared_ca

__all__ = [
    "FFMPEG_MISSING",
    "FRAME_SECONDS",
    "OPUS_SILENCE",
    "XCHACHA_RTPSIZE",
    "Burst",
    "FakeVoice",
    "Frame",
    "LoopbackCA",
    "RtpPacket",
    "SpeakingEvent",
    "VoiceGrant",
    "VoiceMember",
    "VoiceSession",
    "VoiceStream",
    "decrypt_xchacha_rtpsize",
    "estimate_hz",
    "expected_frames",
    "ffmpeg",
    "shared_ca",
    "tone_input",
    "tone_mp3",
]
