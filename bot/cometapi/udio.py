"""Udio endpoints: generate, and query many generations in one call."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .client import Transport
from .errors import BadResponseError
from .models import TaskResult, UdioRequest, as_str
from .suno import task_id_of


class Udio:
    """The Udio half of CometAPI. CometAPI marks Udio unavailable at times, so its errors must read clearly."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def generate(self, request: UdioRequest) -> str:
        """Start a generation; return its id (what `query` accepts)."""
        body = await self._transport.request(
            "POST", "/udio/generate-proxy", endpoint="udio.generate", idempotent=False, json_body=request.to_json()
        )
        return task_id_of(body)

    async def query(self, ids: Sequence[str]) -> dict[str, TaskResult]:
        """Query many generations in one call; return results by the ids asked for (unknown ones are absent)."""
        if not ids:
            return {}
        body = await self._transport.request(
            "GET", "/udio/query", endpoint="udio.query", idempotent=True, params={"ids": ",".join(ids)}
        )
        by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for keys, songs in _song_groups(body):
            for song in songs:
                # The generate id may be a generation id or a song id, or the id a group is filed under: index
                # the song under each of them.
                for key in keys | {as_str(song.get("generation_id")), as_str(song.get("id"))} - {""}:
                    by_id[key].append(song)
        if len(ids) == 1 and ids[0] not in by_id and by_id:
            # One id asked and songs answered under other ids (a gateway's own task id is not Udio's
            # generation id): they are that id's songs.
            by_id[ids[0]] = list({id(song): song for songs in by_id.values() for song in songs}.values())
        return {task_id: TaskResult.from_udio_songs(task_id, by_id[task_id]) for task_id in ids if task_id in by_id}


def _song_groups(body: Any) -> list[tuple[set[str], list[dict[str, Any]]]]:
    """The songs of a query answer, in groups with the ids each group is filed under.

    Two shapes answer the same URL (shared/api/cometapi-music.md §8): the documented `{"songs": [...]}`, and a
    sibling gateway's `{code, data: {status, data: [{songs: [...]}, ...]}}`. `data: null` means nothing known.
    """
    if not isinstance(body, dict):
        return []
    if "songs" in body or "data" not in body:
        return [(set(), _songs(body.get("songs")))]
    data = body["data"]
    items: Any = data.get("data") if isinstance(data, dict) and "songs" not in data else data
    if items is None:
        return []
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise BadResponseError("Udio query returned data that is not a list")
    groups: list[tuple[set[str], list[dict[str, Any]]]] = []
    for item in items:
        if isinstance(item, dict):
            keys = {as_str(item.get(name)) for name in ("task_id", "id", "generation_id")} - {""}
            groups.append((keys, _songs(item.get("songs"))))
    return groups


def _songs(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadResponseError("Udio query returned songs that are not a list")
    return [song for song in value if isinstance(song, dict)]
