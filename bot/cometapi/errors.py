"""The CometAPI error tree: callers catch these types to tell members what happened."""

from __future__ import annotations

import re

# A key, or the fragment of one that the relay names in its errors ("[sk-abc***xyz] 该令牌额度已用尽", shared/api §8).
# Not preceded by a letter, digit, `_` or `-`, so words such as "task-1" are left alone.
_KEY_TEXT = re.compile(r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_*.-]*")
KEY_PLACEHOLDER = "sk-***"


def scrub_key(text: str) -> str:
    """The text with every API key or key fragment in it replaced, so that no copy is logged, stored or shown."""
    return _KEY_TEXT.sub(KEY_PLACEHOLDER, text)


class CometAPIError(Exception):
    """Base of every CometAPI failure. `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, request_id: str | None = None) -> None:
        # Every message may be a gateway's own words, which can name the key: scrubbed here, once for all errors.
        message = scrub_key(message)
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"(HTTP {self.status})")
        if self.request_id:
            parts.append(f"[request id {self.request_id}]")
        return " ".join(parts)


class AuthError(CometAPIError):
    """The key was refused (401) or access is blocked (403), for a reason other than credit."""


class InsufficientBalanceError(CometAPIError):
    """The account or key has no credit left: 402, a quota code, or a 401/403 that says so (e.g. 该令牌额度已用尽)."""


class RateLimitedError(CometAPIError):
    """429: slow down; `retry_after` is the server's hint in seconds, when it gave one."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, status: int | None = 429, request_id: str | None = None
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.retry_after = retry_after


class ServerError(CometAPIError):
    """5xx: the platform or the upstream model failed."""


class UpstreamRejectedError(ServerError):
    """A 500 carrying the task relay's `{code, message}`: the upstream refused the job (its words are logged)."""

    def __init__(self, message: str, *, code: str, status: int | None = 500, request_id: str | None = None) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.code = code


class InvalidRequestError(CometAPIError):
    """400-class: the request itself was refused; retrying the same request cannot help."""

    def __init__(
        self, message: str, *, code: str | None = None, status: int | None = 400, request_id: str | None = None
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.code = code


class TaskNotFoundError(InvalidRequestError):
    """The task id is unknown to CometAPI (or belongs to another account)."""


class APITimeoutError(CometAPIError):
    """No answer in time. For a submit, the job may or may not have been accepted."""


class NetworkError(CometAPIError):
    """The connection failed. `reached_server` is False only when the request provably never left."""

    def __init__(self, message: str, *, reached_server: bool) -> None:
        super().__init__(message)
        self.reached_server = reached_server


class BadResponseError(CometAPIError):
    """The answer was not what the API promises (not JSON, HTML, missing fields)."""


class SubmitUnconfirmedError(BadResponseError):
    """A paid submit was answered 2xx, but with nothing the bot can follow: no task id (CometAPI's stems page shows a
    raw `{id, clips}` answer), or a body it cannot read. CometAPI may have started it, and charged for it: it must
    never be sent again blindly."""


class ModelUnavailableError(CometAPIError):
    """A 200 with a web page instead of JSON: the relay's catch-all, so the route or model is switched off.

    Asking again at once cannot help (a poll waits for its next cycle), and a submit was not accepted.
    """


class TaskFailedError(CometAPIError):
    """The generation itself failed; `reason` is CometAPI's explanation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
