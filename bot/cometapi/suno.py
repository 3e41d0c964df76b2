"""Suno endpoints: submit music and lyrics, fetch one task, fetch many in one call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .client import Transport
from .errors import BadResponseError, SubmitUnconfirmedError
from .models import Action, SunoMusicRequest, TaskResult


class Suno:
    """The Suno half of CometAPI."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def submit_music(self, request: SunoMusicRequest) -> str:
        """Start a music task (inspiration, custom or extend mode); return its task id."""
        body = await self._transport.request(
            "POST", "/suno/submit/music", endpoint="suno.submit_music", idempotent=False, json_body=request.to_json()
        )
        return task_id_of(body)

    async def submit_lyrics(self, prompt: str) -> str:
        """Start a lyrics task; return its task id."""
        body = await self._transport.request(
            "POST", "/suno/submit/lyrics", endpoint="suno.submit_lyrics", idempotent=False, json_body={"prompt": prompt}
        )
        return task_id_of(body)

    async def submit_concat(self, clip_id: str) -> str:
        """Join an extended clip with its parents into one song; return the task id."""
        body = await self._transport.request(
            "POST",
            "/suno/submit/concat",
            endpoint="suno.submit_concat",
            idempotent=False,
            json_body={"clip_id": clip_id, "is_infill": False},
        )
        return task_id_of(body)

    async def fetch(self, task_id: str) -> TaskResult:
        """Fetch one task."""
        body = await self._transport.request("GET", f"/suno/fetch/{task_id}", endpoint="suno.fetch", idempotent=True)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise BadResponseError(f"fetch of task {task_id} returned no task object")
        return TaskResult.from_suno(data)

    async def fetch_batch(self, task_ids: Sequence[str], action: Action) -> dict[str, TaskResult]:
        """Fetch many tasks in one call; return results by task id (unknown ids are simply absent)."""
        if not task_ids:
            return {}
        body = await self._transport.request(
            "POST",
            "/suno/fetch",
            endpoint="suno.fetch_batch",
            idempotent=True,
            json_body={"ids": list(task_ids), "action": action},
        )
        data: Any = body.get("data") if isinstance(body, dict) else None
        if data is None:
            return {}
        if not isinstance(data, list):
            raise BadResponseError("batch fetch returned data that is not a list")
        wanted = set(task_ids)
        results = (TaskResult.from_suno(item) for item in data if isinstance(item, dict))
        # Order is not guaranteed, so match by id, and ignore anything we did not ask for.
        return {result.task_id: result for result in results if result.task_id in wanted}


def task_id_of(body: Any) -> str:
    """The task id in a submit's answer (`data` as a string, or `data.task_id`)."""
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, str | int) and str(data).strip():
        return str(data).strip()
    if isinstance(data, dict) and data.get("task_id"):
        return str(data["task_id"])
    # A 2xx without a task id (e.g. the raw `{id, clips}` of CometAPI's stems page): it may have started and been
    # charged, but there is nothing to follow.
    raise SubmitUnconfirmedError("CometAPI accepted the request but returned no task id, so it may have started")
