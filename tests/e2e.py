"""Helpers shared by the end-to-end tests: what a member sees in the fake Discord."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord import FakeDiscord


def deliveries(fake: FakeDiscord, channel: Any = None) -> list[dict[str, Any]]:
    """Messages the bot posted as deliveries (they carry the job's nonce), in a channel (default #music)."""
    return [m for m in fake.messages_in(channel or fake.music) if str(m.get("nonce") or "").startswith("chorus-job-")]


async def wait_delivery(fake: FakeDiscord, count: int = 1, *, channel: Any = None, within: float = 10.0) -> list[Any]:
    def ready() -> list[dict[str, Any]] | None:
        found = deliveries(fake, channel)
        return found if len(found) >= count else None

    return await fake.wait_for(ready, timeout=within)


def components(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every component of a message, however deeply nested (Components V2 containers and sections)."""
    from tests.fakes.discord.limits import walk_all

    return list(walk_all(message.get("components") or []))


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Buttons and selects (everything with a custom_id or a link) of a message."""
    return [c for c in components(message) if c.get("type") in (2, 3)]


def text_of(message: dict[str, Any]) -> str:
    """What a member reads: the content plus every text display of a Components V2 message."""
    texts = [c.get("content") or "" for c in components(message) if c.get("type") == 10]
    return "\n".join([message.get("content") or "", *texts]).strip()


def action_rows(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The action rows of a message (buttons and selects live in them)."""
    return [c for c in components(message) if c.get("type") == 1]


def custom_id(message: dict[str, Any], prefix: str) -> str:
    return str(next(b["custom_id"] for b in buttons(message) if str(b.get("custom_id", "")).startswith(prefix)))


async def eventually(check: Any, *, within: float = 5.0, every: float = 0.02) -> Any:
    """Await `check()` until it returns something truthy (the bot works in the background)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(every)


def posts(fake: FakeDiscord, channel: Any = None) -> list[Any]:
    """Deliveries as they crossed the wire: accepted POSTs of a job's message (nonce `chorus-job-…`) to a channel
    (default #music). Unlike the messages the fake keeps, these are not de-duplicated by nonce."""
    path = f"/channels/{(channel or fake.music).id}/messages"
    return [
        r for r in fake.find_requests("POST", path)
        if r.status == 200 and str((r.json or {}).get("nonce") or "").startswith("chorus-job-")
    ]


def answers(fake: FakeDiscord, interaction: Any) -> list[Any]:
    """Every request by which the bot answered `interaction`, as it crossed the wire: interaction callbacks
    (accepted or refused) and followup messages. Editing a deferred "thinking…" response is not a new answer."""
    callback = f"/interactions/{interaction.id}/{interaction.token}/callback"
    followup = f"/{interaction.token}"

    def answered(r: Any) -> bool:
        path = str(r.path)
        return path.endswith(callback) or (path.startswith("/webhooks/") and path.endswith(followup))

    return [r for r in fake.state.recorder.requests if r.method == "POST" and answered(r)]


async def corrupt(db_path: Any, sql: str) -> None:
    """Change the bot's database behind its back (a damaged row), to drive an unexpected error. In a thread:
    the bot shares this event loop and may be mid-transaction, so blocking the loop would deadlock."""
    import asyncio
    import sqlite3

    def run() -> None:
        conn = sqlite3.connect(db_path, timeout=10, isolation_level=None)
        try:
            conn.execute(sql)
        finally:
            conn.close()

    await asyncio.to_thread(run)


async def private_answer(fake: FakeDiscord, interaction: Any, *, within: float = 5.0) -> dict[str, Any]:
    """The private answer that took the place of a public "thinking…" (a song that could not start): the one
    ephemeral followup of the interaction, once the public stand-in is gone."""

    def answered() -> dict[str, Any] | None:
        private = [m for m in interaction.followups() if m["flags"] & 64]
        return private[0] if len(private) == 1 and interaction.original() is None else None

    return await fake.wait_for(answered, timeout=within)
