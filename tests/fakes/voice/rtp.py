"""The voice UDP wire format as Discord documents it: IP discovery packets and transport-encrypted RTP.

Decryption mirrors discord.py 2.7's ``VoiceClient._encrypt_aead_xchacha20_poly1305_rtpsize`` exactly: the RTP
header (12 bytes, plus CSRCs and the 4-byte extension preamble when present: the "rtpsize" rule, as in SRTP) is
the AEAD's additional data and travels in clear; the 32-bit nonce counter is appended to the packet, big-endian,
and is the first 4 bytes of the 24-byte XChaCha20 nonce (the rest zeros); the extension body, if any, is inside
the ciphertext and is stripped after decryption.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt

XCHACHA_RTPSIZE: Final = "aead_xchacha20_poly1305_rtpsize"
DISCOVERY_SIZE: Final = 74  # type (2) + length (2) + SSRC (4) + address (64) + port (2)
DISCOVERY_REQUEST, DISCOVERY_RESPONSE = 1, 2
RTP_HEADER: Final = 12
OPUS_PAYLOAD_TYPE: Final = 0x78  # 120, what Discord documents and discord.py sends
OPUS_SILENCE: Final = b"\xf8\xff\xfe"  # the frame Discord asks for five of before a pause in sending
DAVE_MAGIC: Final = b"\xfa\xfa"  # the last two bytes of a DAVE (end-to-end encrypted) frame
# discord.py's FFmpegOpusAudio sends every Ogg packet, the stream's two header packets too; they are not audio.
OGG_OPUS_HEADERS: Final = (b"OpusHead", b"OpusTags")


class RtpError(ValueError):
    """A packet that is not RTP, or that does not decrypt with the session's key."""


def is_discovery_request(packet: bytes) -> bool:
    """Whether ``packet`` is an IP discovery request (type 1, length 70)."""
    return len(packet) == DISCOVERY_SIZE and struct.unpack_from(">HH", packet) == (DISCOVERY_REQUEST, 70)


def discovery_response(request: bytes, address: str, port: int) -> bytes:
    """The 74-byte answer: type 2, length 70, the request's SSRC, the address seen (NUL-padded) and the port."""
    (ssrc,) = struct.unpack_from(">I", request, 4)
    return struct.pack(">HHI64sH", DISCOVERY_RESPONSE, 70, ssrc, address.encode("ascii"), port)


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One decrypted voice packet."""

    ssrc: int
    sequence: int
    timestamp: int
    payload_type: int
    nonce: int  # the appended 32-bit counter
    payload: bytes  # the Opus frame (or a DAVE frame wrapping one)

    @property
    def silence(self) -> bool:
        return self.payload == OPUS_SILENCE

    @property
    def ogg_header(self) -> bool:
        """Whether the payload is an Ogg Opus header packet (OpusHead, OpusTags) rather than an Opus frame."""
        return self.payload.startswith(OGG_OPUS_HEADERS)

    @property
    def dave(self) -> bool:
        """Whether the payload is end-to-end encrypted (DAVE's magic marker ends it)."""
        return self.payload.endswith(DAVE_MAGIC)


def decrypt_xchacha_rtpsize(packet: bytes, secret_key: bytes) -> RtpPacket:
    """Parse and decrypt one ``aead_xchacha20_poly1305_rtpsize`` packet; raise :class:`RtpError` if it is not one."""
    if len(packet) < RTP_HEADER + 16 + 4 or packet[0] >> 6 != 2:
        raise RtpError(f"not an RTP packet ({len(packet)} bytes, first byte {packet[:1].hex()})")
    csrc_count, has_extension = packet[0] & 0x0F, bool(packet[0] & 0x10)
    header_size = RTP_HEADER + 4 * csrc_count
    extension_words = 0
    if has_extension:
        header_size += 4  # the preamble (profile, length) is in clear; the body is encrypted
        (extension_words,) = struct.unpack_from(">H", packet, header_size - 2)
    header, ciphertext, nonce_tail = packet[:header_size], packet[header_size:-4], packet[-4:]
    nonce = nonce_tail + bytes(20)
    try:
        plain = crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, header, nonce, secret_key)
    except Exception as exc:  # nacl.exceptions.CryptoError: wrong key, nonce or additional data
        raise RtpError(f"packet does not decrypt with the session key: {exc}") from exc
    sequence, timestamp, ssrc = struct.unpack_from(">HII", packet, 2)
    return RtpPacket(
        ssrc=ssrc,
        sequence=sequence,
        timestamp=timestamp,
        payload_type=packet[1] & 0x7F,
        nonce=int.from_bytes(nonce_tail, "big"),
        payload=plain[4 * extension_words :],
    )
