"""The transport under the Suno and Udio resources: one ClientSession, timeouts, retries, status → error."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from pydantic import SecretStr
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from .errors import (
    APITimeoutError,
    AuthError,
    BadResponseError,
    CometAPIError,
    InsufficientBalanceError,
    InvalidRequestError,
    ModelUnavailableError,
    NetworkError,
    RateLimitedError,
    ServerError,
    TaskNotFoundError,
    UpstreamRejectedError,
    scrub_key,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.cometapi.com"
_REQUEST_ID = re.compile(r"\(request id: ([^)]+)\)")
_QUOTA_CODES = {"quota_not_enough", "insufficient_quota", "insufficient_user_quota", "pre_consume_token_quota_failed"}
# How a 401/403 says the key or account has no credit left. The relay answers a used-up key with 401
# "该令牌额度已用尽" ("this token's quota is used up"), without the English word (§8); 额度 is quota, 余额 balance.
_NO_CREDIT = re.compile(r"额度|余额|quota|balance|credit|insufficient funds", re.IGNORECASE)

Sleep = Callable[[float], Awaitable[None]]
# What a call observer sees: endpoint name, outcome ("ok" or the error class name), seconds taken.
CallObserver = Callable[[str, str, float], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Capped exponential backoff with jitter: min(max_delay, base * 2^n) + U(0, jitter)."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    jitter: float = 1.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry `attempt`: the server's Retry-After as asked, else capped backoff with jitter."""
        if retry_after is not None:
            # The server said how long: honour it in full. A longer ask than `max_delay` is never retried here at all
            # (Transport hands it to the caller, who can wait without holding a call open), so none is cut short.
            return max(retry_after, 0.0)
        backoff: float = min(self.max_delay, self.base_delay * 2.0 ** max(attempt - 1, 0))
        return backoff + random.uniform(0, self.jitter)  # noqa: S311 - jitter, not cryptography


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed per call: fetches are cheap to retry, submits get longer before we give up."""

    fetch: float = 30.0
    submit: float = 60.0
    connect: float = 10.0


class Transport:
    """Sends one JSON request to CometAPI and turns every failure into a CometAPIError subclass."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: SecretStr,
        *,
        base_url: str = DEFAULT_BASE_URL,
        retry: RetryPolicy | None = None,
        timeouts: Timeouts | None = None,
        sleep: Sleep = asyncio.sleep,
        observer: CallObserver | None = None,
    ) -> None:
        self._session = session
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeouts = timeouts or Timeouts()
        self._sleep = sleep
        self._observer = observer

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r})"

    async def request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        idempotent: bool,
        json_body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        """Send a request and return the parsed JSON body.

        Idempotent calls (fetches) are retried on network errors, timeouts, 429, 5xx and garbled bodies. A submit
        costs the member money and has no idempotency key, so it is retried only when it provably never left.
        """

        def should_retry(exc: BaseException) -> bool:
            if isinstance(exc, NetworkError) and not exc.reached_server:
                return True
            if isinstance(exc, RateLimitedError) and (exc.retry_after or 0.0) > self.retry.max_delay:
                # Longer than a call should sit waiting: retrying sooner would ignore what CometAPI asked, so the
                # caller gets the error with the Retry-After intact (the poller holds its next cycle until then).
                return False
            # A garbled body on a read is usually a cut-off transfer: reading again is harmless.
            transient = NetworkError | APITimeoutError | RateLimitedError | ServerError | BadResponseError
            return idempotent and isinstance(exc, transient)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
            return self.retry.delay(state.attempt_number, retry_after)

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            log.warning("CometAPI %s failed (%s); retry %d in %.2fs", endpoint, exc, state.attempt_number, delay)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=wait,
            retry=retry_if_exception(should_retry),
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send_once(method, path, endpoint, idempotent, json_body, params)
        raise AssertionError("unreachable: tenacity either returns or reraises")  # pragma: no cover

    async def _send_once(
        self,
        method: str,
        path: str,
        endpoint: str,
        idempotent: bool,
        json_body: dict[str, Any] | None,
        params: dict[str, str] | None,
    ) -> Any:
        seconds = self.timeouts.fetch if idempotent else self.timeouts.submit
        timeout = aiohttp.ClientTimeout(total=seconds, connect=min(self.timeouts.connect, seconds))
        # The key goes only on requests to CometAPI, never into the session: the same session downloads media.
        headers = {"Authorization": f"Bearer {self._api_key.get_secret_value()}", "Accept": "application/json"}
        started = time.perf_counter()
        outcome = "ok"
        try:
            async with self._session.request(
                method, self.base_url + path, json=json_body, params=params, headers=headers, timeout=timeout
            ) as response:
                text = await response.text(errors="replace")
                return _parse(response.status, response.headers, text)
        except CometAPIError as exc:
            outcome = type(exc).__name__
            raise
        except TimeoutError:
            outcome = "APITimeoutError"
            raise APITimeoutError(f"CometAPI did not answer {endpoint} within {seconds:g}s") from None
        except aiohttp.ClientConnectorError as exc:
            # Failed while connecting: nothing was sent, so even a submit may be retried.
            outcome = "NetworkError"
            raise NetworkError(f"could not connect to CometAPI: {exc.os_error}", reached_server=False) from None
        except aiohttp.ClientError as exc:
            outcome = "NetworkError"
            raise NetworkError(f"connection to CometAPI failed during {endpoint}: {exc}", reached_server=True) from None
        finally:
            if self._observer is not None:
                self._observer(endpoint, outcome, time.perf_counter() - started)


def _parse(status: int, headers: Any, text: str) -> Any:
    body = _loads(text)
    message, code = _error_details(body)
    request_id = _request_id(message)
    if 200 <= status < 300:
        if body is None and _is_web_page(headers, text):
            # Unknown and switched-off routes fall through to the web UI's catch-all, which answers 200 (§8).
            raise ModelUnavailableError("CometAPI answered with a web page: this route is not available", status=status)
        if body is None:
            raise BadResponseError("CometAPI answered with something that is not JSON", status=status)
        if isinstance(body, dict) and code and code != "success":
            raise _error_for_code(code, message, status, request_id)
        return body
    refused = status in (401, 403)
    if status == 402 or code in _QUOTA_CODES or "quota" in message.lower() or (refused and _NO_CREDIT.search(message)):
        raise _out_of_credit(message or code or "insufficient balance", status, request_id)
    if status == 401:
        raise AuthError(message or "CometAPI refused the API key", status=status, request_id=request_id)
    if status == 403:
        raise AuthError(message or "access denied", status=status, request_id=request_id)
    if status == 429:
        raise RateLimitedError(
            message or "rate limited", retry_after=_retry_after(headers), status=status, request_id=request_id
        )
    if status >= 500 and code and code != "invalid_request" and not isinstance(body.get("error"), dict):
        # The task relay's own body: the upstream refused (§4.1, §8). Its message may be a generic Chinese text
        # ("请求上游地址失败"), so members get a neutral sentence and the raw words go to the log.
        raise UpstreamRejectedError(message or code, code=code, status=status, request_id=request_id)
    if status >= 500 and code != "invalid_request":
        raise ServerError(message or "CometAPI server error", status=status, request_id=request_id)
    if 400 <= status < 600:
        raise _error_for_code(code or "invalid_request", message or "request refused", status, request_id)
    raise BadResponseError(f"unexpected HTTP status {status}", status=status)


def _is_web_page(headers: Any, text: str) -> bool:
    """An HTML page rather than a garbled or cut-off JSON body (which is worth reading again)."""
    content_type = str(headers.get("Content-Type", "")) if headers is not None else ""
    return "html" in content_type.lower() or text.lstrip().startswith("<")


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _error_details(body: Any) -> tuple[str, str]:
    """Message and code from either envelope: {"error": {...}} or the task relay's {"code", "message"}.

    The message is scrubbed of key fragments (the relay's 401 for a used-up key names one) before anything reads it.
    """
    message, code = _raw_error_details(body)
    return scrub_key(message), code


def _raw_error_details(body: Any) -> tuple[str, str]:
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or ""), str(error.get("code") or "")
    if isinstance(error, str):
        return error, ""
    code = body.get("code")
    return str(body.get("message") or ""), (str(code) if code is not None else "")


def _out_of_credit(message: str, status: int, request_id: str | None) -> InsufficientBalanceError:
    # The gateway's own words are what an admin needs to act on (which limit); _error_details has scrubbed the key
    # fragment the relay puts in them.
    log.warning("CometAPI says the bot is out of credit (HTTP %d): %s", status, message)
    return InsufficientBalanceError(message, status=status, request_id=request_id)


def _error_for_code(code: str, message: str, status: int, request_id: str | None) -> CometAPIError:
    if code in _QUOTA_CODES:
        return _out_of_credit(message or code, status, request_id)
    if code == "task_not_exist":
        return TaskNotFoundError(message or code, code=code, status=status, request_id=request_id)
    return InvalidRequestError(message or code, code=code, status=status, request_id=request_id)


def _request_id(message: str) -> str | None:
    match = _REQUEST_ID.search(message)
    return match.group(1) if match else None


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
