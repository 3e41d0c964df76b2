"""Tiny but well-formed media files (MP3, PNG, MP4) for the URLs in task results."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import struct
import zlib
from collections.abc import Callable
from typing import Final

log = logging.getLogger(__name__)

DEFAULT_AUDIO_BYTES: Final = 64 * 1024
_ID3_HEADER: Final = 10
# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo: 144 * 128000 / 44100 = 417 bytes a frame.
_FRAME_HEADER: Final = b"\xff\xfb\x90\x64"
_FRAME_BYTES: Final = 417
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_NAME: Final = re.compile(
    r"^(?:(?P<large>image_large_)|(?P<image>image_))?(?P<id>[A-Za-z0-9][A-Za-z0-9-]*)\.(?P<ext>mp3|png|mp4|wav)$"
)


def mp3(size: int = DEFAULT_AUDIO_BYTES) -> bytes:
    """An ID3v2 tag plus silent MPEG frames, exactly `size` bytes (at least one frame)."""
    frames = max(1, (size - _ID3_HEADER) // _FRAME_BYTES)
    padding = max(0, size - _ID3_HEADER - frames * _FRAME_BYTES)
    # ID3v2 sizes are "syncsafe": 7 bits per byte. The tag body here is just zero padding.
    syncsafe = bytes(((padding >> shift) & 0x7F) for shift in (21, 14, 7, 0))
    frame = _FRAME_HEADER + bytes(_FRAME_BYTES - len(_FRAME_HEADER))
    return b"ID3\x04\x00\x00" + syncsafe + bytes(padding) + frame * frames


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.lru_cache(maxsize=256)
def png(seed: str, side: int = 64) -> bytes:
    """A `side` x `side` RGB gradient PNG whose colours depend on `seed`."""
    r, g, b = hashlib.sha256(seed.encode()).digest()[:3]
    rows = []
    for y in range(side):
        shade = y * 255 // max(1, side - 1)
        pixel = bytes(((r + shade) % 256, (g + shade // 2) % 256, (b + 255 - shade) % 256))
        rows.append(b"\x00" + pixel * side)  # filter byte 0 (None) before each row
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)  # 8-bit truecolour
    idat = zlib.compress(b"".join(rows), 9)
    return _PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


@functools.cache
def mp4() -> bytes:
    """An ISO-BMFF file with an `ftyp` box and a zeroed `mdat`: small, and sniffed as video/mp4."""
    return _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41") + _box(b"mdat", bytes(4096))


class MediaStore:
    """Serve the files task results link to; unknown ids are not found, as on a CDN."""

    def __init__(self, exists: Callable[[str], bool], audio_bytes: int = DEFAULT_AUDIO_BYTES) -> None:
        self.audio_bytes = audio_bytes
        self._exists = exists
        self._audio = mp3(audio_bytes)
        # A clip's own MP3 (by clip id), in place of the silent one every clip shares: tests give songs tones a
        # listener can tell apart (a voice channel's listening party).
        self.audio_of: dict[str, bytes] = {}
        # Clips whose MP3 link stalls, like a CDN that stops sending: this many bytes, then nothing (until the
        # simulator stops), the connection kept open.
        self.stall_after: dict[str, int] = {}

    def set_audio(self, data: bytes, clip_id: str | None = None) -> None:
        """Serve `data` as the MP3 of one clip, or (no clip id) of every clip without one of its own."""
        if clip_id is None:
            self._audio = data
        else:
            self.audio_of[clip_id] = data

    def file(self, name: str) -> tuple[str, bytes] | None:
        """Return (content type, bytes) for a `/media/{name}` file name, or None."""
        match = _NAME.match(name)
        if match is None or not self._exists(match["id"]):
            return None  # includes ".../None.mp3", the link Suno gives errored clips
        media_id, ext = match["id"], match["ext"]
        if ext == "png":
            if not match["image"] and not match["large"]:
                return None
            return "image/png", png(media_id, 256 if match["large"] else 64)
        if match["image"] or match["large"]:
            return None
        if ext == "wav":
            return "audio/wav", b"RIFF" + bytes(4) + b"WAVEfmt " + bytes(64)
        return ("audio/mpeg", self.audio_of.get(media_id, self._audio)) if ext == "mp3" else ("video/mp4", mp4())

    def stalls(self, name: str) -> int | None:
        """How many bytes of `/media/{name}` are sent before the link stalls; None for a link that does not."""
        match = _NAME.match(name)
        if match is None or match["ext"] != "mp3" or match["image"] or match["large"]:
            return None
        return self.stall_after.get(match["id"])

    def stream(self, clip_id: str) -> tuple[str, bytes] | None:
        """The preview stream served while a clip is still generating."""
        return ("audio/mpeg", self._audio) if self._exists(clip_id) else None
