"""An SDK-shaped aiohttp client for CometAPI's Suno and Udio endpoints. Nothing here imports discord."""

from __future__ import annotations

import asyncio

import aiohttp
from pydantic import SecretStr

from .account import Account, Balance
from .client import DEFAULT_BASE_URL, CallObserver, RetryPolicy, Sleep, Timeouts, Transport
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
    SubmitUnconfirmedError,
    TaskFailedError,
    TaskNotFoundError,
    UpstreamRejectedError,
)
from .models import Action, Clip, Lyrics, Phase, Provider, SunoMusicRequest, TaskResult, UdioRequest
from .suno import Suno
from .suno_tools import AlignedWord, Instrument, Midi, Note, SunoTools, lrc
from .udio import Udio

__all__ = [
    "APITimeoutError",
    "Account",
    "Action",
    "AlignedWord",
    "AuthError",
    "BadResponseError",
    "Balance",
    "Clip",
    "CometAPI",
    "CometAPIError",
    "Instrument",
    "InsufficientBalanceError",
    "InvalidRequestError",
    "Lyrics",
    "Midi",
    "ModelUnavailableError",
    "NetworkError",
    "Note",
    "Phase",
    "Provider",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "SubmitUnconfirmedError",
    "SunoMusicRequest",
    "SunoTools",
    "TaskFailedError",
    "TaskNotFoundError",
    "TaskResult",
    "Timeouts",
    "UdioRequest",
    "UpstreamRejectedError",
    "lrc",
]


class CometAPI:
    """Entry point: `CometAPI(session, key).suno.submit_music(...)`, `.udio.query(...)`."""

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
        self.transport = Transport(
            session, api_key, base_url=base_url, retry=retry, timeouts=timeouts, sleep=sleep, observer=observer
        )
        self.suno = Suno(self.transport)
        self.tools = SunoTools(self.transport)
        self.udio = Udio(self.transport)

    def __repr__(self) -> str:
        return f"CometAPI(base_url={self.transport.base_url!r})"
