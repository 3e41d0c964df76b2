"""Everything that crossed the wire to the fake, and a way to wait for it without sleeping."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
POLL_INTERVAL = 0.02


@dataclass(frozen=True, slots=True)
class RecordedFile:
    """One uploaded file from a multipart request (``files[n]`` part)."""

    name: str
    size: int
    content_type: str
    data: bytes
    field: str = ""


@dataclass(frozen=True, slots=True)
class Recorded:
    """One HTTP request to the fake REST API and the answer it got.

    ``path`` is relative to the API base (``/channels/1/messages``). ``json`` is the JSON body, or the
    parsed ``payload_json`` part of a multipart body. The Authorization header is kept apart in
    ``authorization`` so that ``headers`` can be grepped for leaked secrets.
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[RecordedFile]
    headers: dict[str, str]
    authorization: str | None
    status: int
    response: Any
    body_text: str
    at: float = 0.0

    def __repr__(self) -> str:
        return f"<Recorded {self.method} {self.path} -> {self.status}>"


@dataclass(slots=True)
class Recorder:
    """The request log plus a change signal. Anything that changes fake state calls :meth:`notify`."""

    requests: list[Recorded] = field(default_factory=list)
    gateway_frames: list[dict[str, Any]] = field(default_factory=list)  # from the client, token redacted
    _changed: asyncio.Event | None = None

    def add(self, record: Recorded) -> None:
        self.requests.append(record)
        self.notify()

    def add_gateway_frame(self, frame: dict[str, Any]) -> None:
        self.gateway_frames.append(frame)
        self.notify()

    def notify(self) -> None:
        """Wake every waiter; each gets a fresh event so a notify never goes unseen."""
        if self._changed is not None:
            self._changed.set()
        self._changed = None

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0, *, what: str = "") -> T:  # noqa: ASYNC109 - explicit per-call timeouts are this API's point
        """Return the first truthy ``predicate()`` value, re-checking whenever the fake records something."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._event()
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._timeout_message(what or getattr(predicate, "__name__", "condition"), timeout))
            # Wake on the fake's own changes at once; poll too, because predicates may read bot-side
            # state (caches, database rows) that changes without any request reaching the fake.
            try:
                await asyncio.wait_for(event.wait(), min(remaining, POLL_INTERVAL))
            except TimeoutError:
                continue

    def _timeout_message(self, what: str, timeout: float) -> str:
        recent = "\n".join(f"  {r.method} {r.path} -> {r.status}" for r in self.requests[-10:]) or "  (none)"
        return f"{what} not met within {timeout:.1f}s. Last requests to the fake Discord:\n{recent}"

    def find(self, method: str | None = None, path_prefix: str = "", status: int | None = None) -> list[Recorded]:
        """Requests filtered by method, path prefix and response status."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method)
            and r.path.startswith(path_prefix)
            and (status is None or r.status == status)
        ]

    def all_outgoing_text(self) -> str:
        """Every path, query, header value (minus Authorization), body and gateway frame the bot sent."""
        parts: list[str] = []
        for r in self.requests:
            parts.append(f"{r.method} {r.path}")
            parts.extend(f"{k}={v}" for k, v in r.query.items())
            parts.extend(f"{k}: {v}" for k, v in r.headers.items())
            parts.append(r.body_text)
        parts.extend(json.dumps(frame) for frame in self.gateway_frames)
        return "\n".join(parts)

    def authorization_values(self) -> list[str]:
        """The Authorization header of every request that had one."""
        return [r.authorization for r in self.requests if r.authorization is not None]
