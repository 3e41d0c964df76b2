"""The account's credit, from CometAPI's quota host (shared/api §4.4): a different host, the key as a query
parameter. The key never reaches a log line or an error message (the URL that carries it is never printed)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import aiohttp
from pydantic import SecretStr

from .errors import AuthError, BadResponseError, ModelUnavailableError, NetworkError

DEFAULT_QUOTA_URL = "https://query.cometapi.com"


# An unlimited key is shown as `remain_quota: -1` (shared/api §4.4), or, on older keys, as remain_quota 999999999
# with used_quota -1 (fixtures/user_quota_ok_2026-12.json): a sentinel, not a billion dollars to spend.
UNLIMITED_REMAIN_QUOTA = 999_999_999


@dataclass(frozen=True, slots=True)
class Balance:
    """What is left: the account's balance (USD) and this key's own remaining quota.

    `key_remaining` is None when the key has no limit of its own (`key_unlimited`) or when the bot cannot tell
    which of the account's keys is its own.
    """

    account: float
    key_remaining: float | None
    used: float
    key_unlimited: bool = False

    @property
    def spendable(self) -> float:
        """What the bot can still spend: the account's balance, or less when its key's own quota is smaller."""
        if self.key_remaining is None:
            return self.account
        return min(self.account, self.key_remaining)


class Account:
    """Reads the balance of the account behind the bot's key."""

    def __init__(self, session: aiohttp.ClientSession, api_key: SecretStr, *, base_url: str = DEFAULT_QUOTA_URL,
                 key_name: str | None = None) -> None:
        self._session = session
        self._key = api_key
        self.base_url = base_url.rstrip("/")
        self._key_name = key_name

    async def balance(self) -> Balance:
        """The current balance; raises a CometAPIError subclass (never with the key in it) when it cannot."""
        try:
            async with self._session.get(
                f"{self.base_url}/user/quota", params={"key": self._key.get_secret_value()},
                timeout=aiohttp.ClientTimeout(total=15),
            ) as response:
                status, text = response.status, await response.text(errors="replace")
        except (aiohttp.ClientError, TimeoutError):
            raise NetworkError("could not reach CometAPI's balance host", reached_server=False) from None
        if status in (401, 403):
            raise AuthError("the balance host refused the key", status=status)
        if status == 404 or text.lstrip().startswith("<"):
            raise ModelUnavailableError("the balance host is not available", status=status)
        try:
            body = json.loads(text)
        except ValueError:
            raise BadResponseError("the balance host sent something that is not JSON", status=status) from None
        data = body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), dict) else body
        if not isinstance(data, dict) or not isinstance(data.get("total_quota"), int | float):
            raise BadResponseError("the balance host sent no balance", status=status)
        keys = [k for k in data.get("keys") or [] if isinstance(k, dict)]
        named = [k for k in keys if self._key_name and k.get("name") == self._key_name]
        mine = named[0] if named else (keys[0] if len(keys) == 1 else None)
        remaining, unlimited = _key_quota(mine)
        return Balance(float(data["total_quota"]), remaining, float(data.get("total_used_quota") or 0.0), unlimited)


def _key_quota(key: dict[str, object] | None) -> tuple[float | None, bool]:
    """(what the key may still spend, whether it is unlimited); (None, False) when it is unknown."""
    remain = key.get("remain_quota") if key is not None else None
    used = key.get("used_quota") if key is not None else None
    if isinstance(remain, bool) or not isinstance(remain, int | float):
        return None, False
    if remain < 0 or remain >= UNLIMITED_REMAIN_QUOTA or (isinstance(used, int | float) and used < 0):
        return None, True
    return float(remain), False
