"""Can this bot host a listening party? ffmpeg and discord.py's voice libraries, checked once per process.

Voice needs three things on the host: the `ffmpeg` program (it encodes each song to Opus for FFmpegOpusAudio, so
the libopus library is not needed), PyNaCl (the voice transport's encryption) and `davey` (DAVE, the end-to-end
encryption Discord requires for voice). discord.py itself records whether the two libraries imported
(`discord.voice_client.has_nacl`, `discord.voice_state.has_dave`) and refuses to connect without them. When
something is missing, voice is off: one warning line in the log tells the operator what to install, and members get
a plain sentence instead of a traceback.
"""

from __future__ import annotations

import logging
import os
import shutil

import discord.voice_client
import discord.voice_state

log = logging.getLogger(__name__)

UNAVAILABLE = "Voice is not available on this bot: "
NO_FFMPEG = "its host has no ffmpeg"
NO_LIBRARIES = "it is missing discord.py's voice support ({})"

# The answer for each PATH the check ran with: the host does not change under a running bot, but a test may run
# the check with another PATH (one without ffmpeg) and must get that PATH's answer.
_answers: dict[str | None, str | None] = {}


def voice_missing() -> str | None:
    """None when this bot can play in voice; otherwise the sentence to tell a member why it cannot.

    Checked once (per PATH) and cached; the first time something is missing, one warning is logged naming it and
    how to fix it."""
    path = os.environ.get("PATH")
    if path not in _answers:
        _answers[path] = _check(path)
    return _answers[path]


def reset() -> None:
    """Forget the cached answers, so the next call checks again (and logs again if something is missing)."""
    _answers.clear()


def _check(path: str | None) -> str | None:
    """Look for ffmpeg and the voice libraries; log once and word the answer when something is missing."""
    has_ffmpeg = shutil.which("ffmpeg", path=path) is not None
    libraries = [name for name, present in (("PyNaCl", getattr(discord.voice_client, "has_nacl", False)),
                                            ("davey", getattr(discord.voice_state, "has_dave", False)))
                 if not present]
    if has_ffmpeg and not libraries:
        return None
    reasons, fixes = [], []
    if not has_ffmpeg:
        reasons.append(NO_FFMPEG)
        fixes.append("ffmpeg is not on PATH (install it: apt install ffmpeg)")
    if libraries:
        reasons.append(NO_LIBRARIES.format(" and ".join(libraries)))
        fixes.append(f"{', '.join(libraries)} not installed (install: pip install 'discord.py[voice]')")
    log.warning("Voice is off: %s", "; ".join(fixes))
    return UNAVAILABLE + ", and ".join(reasons) + "."
