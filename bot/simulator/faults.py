"""Scripted faults per endpoint, consumed in order, plus the error bodies CometAPI sends."""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

log = logging.getLogger(__name__)

ENDPOINTS: Final = frozenset(
    {
        "submit_music",
        "submit_lyrics",
        "submit_concat",
        "fetch",
        "batch_fetch",
        "udio_generate",
        "udio_query",
        "media",
        # Suno's take tools and the balance host
        "wav",
        "mp4",
        "timing",
        "midi",
        "tags",
        "persona",
        "upload",
        "quota",
    }
)
FAULT_NAMES: Final = frozenset({"ok", "hang", "malformed", "html", "reset", "null_data", "relay_429"})
DEFAULT_HANG_SECONDS: Final = 3600.0

_GATEWAY_MESSAGES: Final = {
    400: ("invalid_request", "invalid request body"),
    401: ("", "invalid token"),
    404: ("", "invalid url"),
    429: ("", "rate limit exceeded, please retry later"),
    500: ("", "upstream request failed"),
    502: ("", "bad gateway"),
    503: ("", "service temporarily unavailable"),
    504: ("", "upstream timeout"),
}
_QUOTA: Final = {"code": "quota_not_enough", "message": "user quota is not enough", "data": None}
# new-api's fixed text ("the group's upstream load is saturated, try again later"), full-width comma included.
RELAY_429: Final = {"code": "fail_to_fetch_task", "message": "当前分组上游负载已饱和，请稍后再试", "data": None}  # noqa: RUF001
MALFORMED_BODY: Final = '{"code":"success","message":"","data":{"task_id":"'
HTML_BODY: Final = (
    "<!DOCTYPE html>\n<html><head><title>CometAPI</title></head>"
    "<body><h1>Welcome to CometAPI</h1><p>Please sign in.</p></body></html>\n"
)


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted answer: an HTTP status (int) or a named misbehaviour (see FAULT_NAMES)."""

    kind: int | str
    retry_after: float | None = 1.0  # Retry-After header of an int 429; None leaves it out
    hang_seconds: float = DEFAULT_HANG_SECONDS  # a "hang" then answers normally, unless the server stops
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.kind, bool) or not isinstance(self.kind, int | str):
            raise TypeError(f"fault kind must be an int status or a name, not {self.kind!r}")
        if isinstance(self.kind, int) and not 100 <= self.kind <= 599:
            raise ValueError(f"not an HTTP status: {self.kind}")
        if isinstance(self.kind, str) and self.kind not in FAULT_NAMES:
            raise ValueError(f"unknown fault {self.kind!r}; expected one of {sorted(FAULT_NAMES)}")

    @classmethod
    def of(cls, spec: int | str | Fault) -> Fault:
        """Accept the shorthand forms: 503, "reset", Fault(429, retry_after=0.05)."""
        return spec if isinstance(spec, Fault) else cls(spec)

    @property
    def is_ok(self) -> bool:
        """This entry lets the request through normally."""
        return self.kind == "ok"


FaultSpec: TypeAlias = int | str | Fault


class Faults:
    """Per-endpoint fault queues (consumed one per request), then an optional persistent fault."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[Fault]] = {name: deque() for name in ENDPOINTS}
        self._always: dict[str, Fault] = {}

    def script(self, endpoint: str, entries: Iterable[FaultSpec]) -> None:
        """Queue faults for the next requests to `endpoint`, in order ("ok" = answer normally)."""
        self._queues[_check(endpoint)].extend(Fault.of(e) for e in entries)

    def always(self, endpoint: str, fault: FaultSpec) -> None:
        """Answer every request to `endpoint` with `fault` once its script is used up."""
        self._always[_check(endpoint)] = Fault.of(fault)

    def clear(self, endpoint: str | None = None) -> None:
        """Drop scripted and persistent faults for one endpoint, or for all."""
        names = ENDPOINTS if endpoint is None else {_check(endpoint)}
        for name in names:
            self._queues[name].clear()
            self._always.pop(name, None)

    def pending(self, endpoint: str) -> int:
        """How many scripted faults are left for `endpoint`."""
        return len(self._queues[_check(endpoint)])

    def take(self, endpoint: str) -> Fault | None:
        """Consume the fault for this request; None means behave normally."""
        queue = self._queues[_check(endpoint)]
        fault = queue.popleft() if queue else self._always.get(endpoint)
        if fault is None or fault.is_ok:
            return None
        log.debug("fault %r on %s", fault.kind, endpoint)
        return fault


def _check(endpoint: str) -> str:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {sorted(ENDPOINTS)}")
    return endpoint


def request_id() -> str:
    """A 32-digit id shaped like the ones CometAPI appends to error messages."""
    return time.strftime("%Y%m%d%H%M%S") + "".join(random.choices("0123456789", k=18))


def gateway_error(code: str, message: str) -> dict[str, Any]:
    """The `{"error": {...}}` envelope of auth, validation and platform errors."""
    return {"error": {"code": code, "message": f"{message} (request id: {request_id()})", "type": "comet_api_error"}}


def relay_error(code: str, message: str) -> dict[str, Any]:
    """The `{"code", "message", "data": null}` body of errors raised inside the task relay."""
    return {"code": code, "message": message, "data": None}


def status_body(status: int) -> dict[str, Any]:
    """The body CometAPI sends with an error status."""
    if status in (402, 403):
        return dict(_QUOTA)
    code, message = _GATEWAY_MESSAGES.get(status, ("", f"request failed with status {status}"))
    return gateway_error(code, message)


def format_retry_after(seconds: float) -> str:
    """Whole seconds as an integer ("1"), fractions as a decimal ("0.05")."""
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))
