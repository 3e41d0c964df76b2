"""The fake voice server's UDP port: answers IP discovery and hands every other datagram on as RTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

from .rtp import discovery_response, is_discovery_request


class VoiceUdp(asyncio.DatagramProtocol):
    """One UDP socket on 127.0.0.1 for every voice session; packets are told apart by their SSRC."""

    def __init__(self, on_discovery: Callable[[bytes, tuple[str, int]], None],
                 on_rtp: Callable[[bytes, tuple[str, int]], None]) -> None:
        self._on_discovery = on_discovery
        self._on_rtp = on_rtp
        self.transport: asyncio.DatagramTransport | None = None
        self.datagrams = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # what create_datagram_endpoint hands over

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.datagrams += 1
        if is_discovery_request(data):
            # Answer with the address and port the packet came from, as Discord does for clients behind NAT.
            self._on_discovery(data, addr)
            if self.transport is not None:
                self.transport.sendto(discovery_response(data, addr[0], addr[1]), addr)
            return
        self._on_rtp(data, addr)
