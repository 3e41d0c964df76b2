"""Scripted fault responses: per endpoint, a sequence such as [429, 403, PASS] consumed in order."""

from __future__ import annotations

import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

ERROR_MESSAGES = {
    10003: "Unknown Channel",
    10008: "Unknown Message",
    10015: "Unknown Webhook",
    10062: "Unknown interaction",
    40005: "Request entity too large",
    50001: "Missing Access",
    50007: "Cannot send messages to this user",
    50013: "Missing Permissions",
    50027: "Invalid Webhook Token",
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One canned HTTP answer. ``body`` may be a dict (sent as JSON) or text."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering, e.g. to push a callback past 3 s

    @classmethod
    def rate_limited(
        cls,
        retry_after: float = 0.05,
        *,
        is_global: bool = False,
        scope: str = "user",
        bucket: str = "fakebucket",
        cloudflare: bool = False,
    ) -> Fault:
        """A 429 as Discord sends it. discord.py only retries a 429 that carries a ``Via`` header and a
        JSON body; ``cloudflare=True`` drops both, which discord.py treats as a ban and raises."""
        if cloudflare:
            return cls(429, "error code: 1015", {"Retry-After": str(math.ceil(retry_after))})
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": bucket,
            "X-RateLimit-Scope": "global" if is_global else scope,
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
        return cls(429, body, headers)

    @classmethod
    def error(cls, status: int, code: int, message: str | None = None) -> Fault:
        """Any Discord JSON error, e.g. ``Fault.error(404, 10008)``."""
        return cls(status, {"code": code, "message": message or ERROR_MESSAGES.get(code, "Error")})

    @classmethod
    def forbidden(cls, code: int = 50013) -> Fault:
        """403 Missing Permissions (50013), Missing Access (50001) or Cannot DM (50007)."""
        return cls.error(403, code)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """5xx. Note: discord.py retries 500/502/504 after sleeping 1 s, 3 s, 5 s …"""
        return cls(status, {"message": "500: Internal Server Error", "code": 0})


PASS = None  # in a script: let this request through to the normal handler
ScriptEntry = Fault | int | None


def _coerce(entry: ScriptEntry) -> Fault | None:
    if entry is None or isinstance(entry, Fault):
        return entry
    shorthands: dict[int, Callable[[], Fault]] = {
        429: Fault.rate_limited,
        403: Fault.forbidden,
        500: Fault.server_error,
        502: lambda: Fault.server_error(502),
        404: lambda: Fault.error(404, 10003),
        413: lambda: Fault.error(413, 40005),
        401: lambda: Fault(401, {"message": "401: Unauthorized", "code": 0}),
    }
    try:
        return shorthands[entry]()
    except KeyError:
        return Fault(entry, {"message": f"{entry}", "code": 0})


@dataclass(slots=True, eq=False)
class FaultScript:
    """Faults for requests whose method and path (after ``/api/v10``) fully match."""

    method: str
    pattern: re.Pattern[str]
    queue: deque[Fault | None]
    forever: Fault | None = None
    hits: list[str] = field(default_factory=list)  # paths that consumed an entry

    @property
    def exhausted(self) -> bool:
        return not self.queue and self.forever is None

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and self.pattern.fullmatch(path) is not None


class Faults:
    """The fault plan of one fake. Scripts are checked in the order they were added."""

    def __init__(self) -> None:
        self.scripts: list[FaultScript] = []

    def script(self, method: str, path_regex: str, responses: Iterable[ScriptEntry]) -> FaultScript:
        """Answer the next matching requests with ``responses`` in order (``PASS``/None lets one through).

        Entries are :class:`Fault` objects or shorthand statuses (429, 403, 404, 413, 500, 502).
        """
        plan = FaultScript(method.upper(), re.compile(path_regex), deque(_coerce(r) for r in responses))
        self.scripts.append(plan)
        return plan

    def always(self, method: str, path_regex: str, fault: Fault | int) -> FaultScript:
        """Answer every matching request with ``fault`` until :meth:`clear`."""
        plan = self.script(method, path_regex, [])
        plan.forever = _coerce(fault)
        return plan

    def forbid(self, method: str, path_regex: str, *, code: int = 50013, times: int | None = None) -> FaultScript:
        """403 with ``code`` for the next ``times`` matching requests (None: always)."""
        fault = Fault.forbidden(code)
        return (
            self.always(method, path_regex, fault)
            if times is None
            else self.script(method, path_regex, [fault] * times)
        )

    def rate_limit(
        self, method: str, path_regex: str, *, retry_after: float = 0.05, times: int = 1, is_global: bool = False
    ) -> FaultScript:
        """429 with ``retry_after`` for the next ``times`` matching requests."""
        return self.script(method, path_regex, [Fault.rate_limited(retry_after, is_global=is_global)] * times)

    def fail(self, method: str, path_regex: str, *, status: int = 500, times: int = 1) -> FaultScript:
        """5xx for the next ``times`` matching requests."""
        return self.script(method, path_regex, [Fault.server_error(status)] * times)

    def clear(self) -> None:
        self.scripts.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """Consume and return the fault for this request, or None to handle it normally."""
        for plan in self.scripts:
            if plan.exhausted or not plan.matches(method, path):
                continue
            plan.hits.append(path)
            return plan.queue.popleft() if plan.queue else plan.forever
        return None
