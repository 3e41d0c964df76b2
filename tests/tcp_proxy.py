"""A TCP proxy on loopback that a test can close and reopen: a database "restarting" under a running store."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

# PostgreSQL's answer while it recovers after a crash (SQLSTATE 57P03), as an ErrorResponse message.
_FIELDS = b"SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0"
STARTING_UP = b"E" + struct.pack("!i", 4 + len(_FIELDS)) + _FIELDS
_NEGOTIATIONS = (80877103, 80877104)  # SSLRequest, GSSENCRequest: answered "N" (not offered)


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target`; `close()` refuses new connections and cuts the open ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        with socket.socket() as probe:  # a port that is free now, so it can refuse connections until opened
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self.connections = 0
        # Armed by lose_next_commit_answer(): the next COMMIT a client sends reaches the server, then its
        # connection is cut before the answer comes back.
        self._lose_commit_answer = False
        self.commits_cut = 0

    def lose_next_commit_answer(self) -> None:
        """The next COMMIT is forwarded and carried out, but the client never hears: its connection is cut in the
        middle of the commit, as when the database goes away at that instant (the outcome is unknown to it)."""
        self._lose_commit_answer = True

    async def open(self, *, starting_up: bool = False) -> None:
        """Start accepting connections: forwarding them, or (`starting_up`) refusing each as PostgreSQL does while it
        recovers after a crash ("the database system is starting up")."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self._server = await asyncio.start_server(self._starting_up if starting_up else self._serve, "127.0.0.1",
                                                  self.port)

    async def close(self) -> None:
        """Stop accepting, and cut every open connection, as a crashed server would."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        muted = asyncio.Event()  # set: the server's answers are dropped (see lose_next_commit_answer)
        pipes = [asyncio.create_task(self._requests(reader, up_writer, muted)),
                 asyncio.create_task(_pump(up_reader, writer, muted))]
        self._pipes.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
                self._pipes.discard(pipe)
            for w in (writer, up_writer):
                with contextlib.suppress(Exception):
                    w.close()


    async def _requests(self, reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter,
                        muted: asyncio.Event) -> None:
        """Client to server; a COMMIT while `lose_next_commit_answer` is armed goes through with its answer dropped,
        and then the connection is cut."""
        try:
            while data := await reader.read(65536):
                losing = self._lose_commit_answer and b"COMMIT" in data.upper()
                if losing:
                    self._lose_commit_answer = False
                    muted.set()  # nothing more reaches the client
                up_writer.write(data)
                await up_writer.drain()
                if losing:
                    await asyncio.sleep(0.3)  # the server carries the commit out (and answers into the void)
                    self.commits_cut += 1
                    return
        finally:
            with contextlib.suppress(Exception):
                up_writer.close()

    async def _starting_up(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:  # the client's encryption requests, then its startup message
                length, code = struct.unpack("!ii", await reader.readexactly(8))
                await reader.readexactly(length - 8)
                if code not in _NEGOTIATIONS:
                    break
                writer.write(b"N")
            writer.write(STARTING_UP)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, muted: asyncio.Event | None = None) -> None:
    try:
        while data := await reader.read(65536):
            if muted is not None and muted.is_set():
                continue
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()
