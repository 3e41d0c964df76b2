"""Interactions the fake dispatched, and what the bot answered to each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .messages import MessageStore, StoredMessage
from .recorder import Recorder

# Interaction callback types (what the bot answers with).
PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

# Interaction types (what Discord sends).
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
APPLICATION_COMMAND_AUTOCOMPLETE = 4
MODAL_SUBMIT = 5


class FakeInteraction:
    """One INTERACTION_CREATE sent to the bot. Times use the event loop clock."""

    def __init__(self, payload: dict[str, Any], *, messages: MessageStore, recorder: Recorder) -> None:
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.channel_id = int(payload["channel_id"])
        self.source_message_id: int | None = int(payload["message"]["id"]) if "message" in payload else None
        self.sent_at = 0.0
        self.responded_at: float | None = None
        self.callbacks: list[dict[str, Any]] = []  # callback bodies as the bot sent them
        self.original_id: int | None = None
        self.followup_ids: list[int] = []
        self.expired = False  # tokens last 15 minutes; tests flip this to simulate that
        self._messages = messages
        self._recorder = recorder

    def __repr__(self) -> str:
        return f"<FakeInteraction id={self.id} type={self.type} responses={len(self.callbacks)}>"

    @property
    def acknowledged(self) -> bool:
        return bool(self.callbacks)

    @property
    def response(self) -> dict[str, Any] | None:
        """The callback ``{"type": ..., "data": ...}`` the bot sent, or None yet."""
        return self.callbacks[0] if self.callbacks else None

    @property
    def ack_latency(self) -> float | None:
        return None if self.responded_at is None else self.responded_at - self.sent_at

    async def wait_response(self, timeout: float = 3.0) -> dict[str, Any]:  # noqa: ASYNC109 - explicit per-call timeouts are this API's point
        """Wait for the bot's callback (Discord gives it 3 s) and return ``{"type", "data"}``."""
        return await self._recorder.wait_for(
            lambda: self.response, timeout, what=f"a callback for interaction {self.id} (type {self.type})"
        )

    def _original(self) -> StoredMessage | None:
        return None if self.original_id is None else self._messages.get(self.original_id)

    def original(self) -> dict[str, Any] | None:
        """The current original response message (after edits), or None."""
        stored = self._original()
        return stored.snapshot() if stored else None

    @property
    def edits(self) -> list[dict[str, Any]]:
        """Snapshots of the original response: as created, then after each edit."""
        stored = None if self.original_id is None else self._messages.by_id.get(self.original_id)
        return list(stored.history) if stored else []

    def followups(self) -> list[dict[str, Any]]:
        """Current followup messages, oldest first."""
        found = (self._messages.get(i) for i in self.followup_ids)
        return [m.snapshot() for m in found if m is not None]

    async def wait_original(
        self,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """Wait until the original response exists (and satisfies ``predicate``) and return it."""

        def ready() -> dict[str, Any] | None:
            message = self.original()
            return message if message is not None and (predicate is None or predicate(message)) else None

        return await self._recorder.wait_for(ready, timeout, what=f"original response of interaction {self.id}")


class InteractionStore:
    """Interactions by id and by token."""

    def __init__(self) -> None:
        self.by_id: dict[int, FakeInteraction] = {}
        self.by_token: dict[str, FakeInteraction] = {}

    def add(self, interaction: FakeInteraction) -> None:
        self.by_id[interaction.id] = interaction
        self.by_token[interaction.token] = interaction

    def modal(self, custom_id: str, source: FakeInteraction | None = None) -> tuple[FakeInteraction, dict[str, Any]]:
        """The interaction that opened modal ``custom_id`` (latest first) and the modal's data."""
        candidates = [source] if source is not None else reversed(list(self.by_id.values()))
        for interaction in candidates:
            for callback in interaction.callbacks:
                data = callback.get("data") or {}
                if callback.get("type") == MODAL and data.get("custom_id") == custom_id:
                    return interaction, data
        raise LookupError(f"the bot never opened a modal with custom_id {custom_id!r}")
