"""Udio endpoints: generate, and query many generations in one call."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .client import Transport
from .errors import BadResponseError
from .models import TaskResult, UdioRequest, as_str
from .suno import _task_id


class Udio:
    """The Udio half of CometAPI. CometAPI marks Udio unavailable at times, so its errors must read clearly."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def generate(self, request: UdioRequest) -> str:
        """Start a generation; return its id (what `query` accepts)."""
        body = await self._transport.request(
            "POST", "/udio/generate-proxy", endpoint="udio.generate", idempotent=False, json_body=request.to_json()
        )
        return _task_id(body)

    async def query(self, ids: Sequence[str]) -> dict[str, TaskResult]:
        """Query many generations in one call; return results by the ids asked for."""
        if not ids:
            return {}
        body = await self._transport.request(
            "GET", "/udio/query", endpoint="udio.query", idempotent=True, params={"ids": ",".join(ids)}
        )
        songs: Any = body.get("songs") if isinstance(body, dict) else None
        if songs is None:
            return {}
        if not isinstance(songs, list):
            raise BadResponseError("Udio query returned songs that are not a list")
        by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for song in songs:
            if not isinstance(song, dict):
                continue
            # The generate id may be a generation id or a song id; index the song under both.
            for key in {as_str(song.get("generation_id")), as_str(song.get("id"))} - {""}:
                by_id[key].append(song)
        return {task_id: TaskResult.from_udio_songs(task_id, by_id[task_id]) for task_id in ids if task_id in by_id}
