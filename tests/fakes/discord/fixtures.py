"""pytest fixtures for the fake Discord. Import them into tests/conftest.py:

from tests.fakes.discord.fixtures import fake_discord  # noqa: F401
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket

from .server import FakeDiscord


@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord; discord.py's global endpoints are restored after the test.

    The test (or the bot's config) points ``discord.http.Route.BASE`` at ``fake.api_base``; setting it
    to itself here registers the undo, so a later test never talks to a dead port. The fixture also
    aims ``DiscordWebSocket.DEFAULT_GATEWAY`` at the fake: discord.py falls back to it (not to the
    URL from /gateway/bot) when it re-IDENTIFYs after an invalid session.
    """
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    async with FakeDiscord() as fake:
        monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
        yield fake
