"""A fake Discord (REST + gateway on loopback) that the real discord.py connects to.

Typical use::

    async with FakeDiscord() as fake:
        discord.http.Route.BASE = fake.api_base
        ...  # start the bot with fake.token
        await fake.wait_until_ready()
        it = await fake.slash_command("suno", {"prompt": "lofi"})
        assert (await it.wait_response())["type"] == 5
"""

from __future__ import annotations

from .faults import PASS, Fault, Faults, FaultScript
from .interaction_payloads import Upload
from .interactions import FakeInteraction
from .limits import DiscordError
from .messages import StoredMessage, pinged_user_ids
from .models import (
    ADMINISTRATOR,
    ATTACH_FILES,
    CONNECT,
    EMBED_LINKS,
    MANAGE_GUILD,
    SEND_MESSAGES,
    SPEAK,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Overwrite,
)
from .recorder import Recorded, RecordedFile
from .server import DEFAULT_TOKEN, FakeDiscord
from .world import UPLOAD_LIMITS, World

__all__ = [
    "ADMINISTRATOR",
    "ATTACH_FILES",
    "CONNECT",
    "DEFAULT_TOKEN",
    "EMBED_LINKS",
    "MANAGE_GUILD",
    "PASS",
    "SEND_MESSAGES",
    "SPEAK",
    "UPLOAD_LIMITS",
    "VIEW_CHANNEL",
    "DiscordError",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "Fault",
    "FaultScript",
    "Faults",
    "Overwrite",
    "Recorded",
    "RecordedFile",
    "StoredMessage",
    "Upload",
    "World",
    "pinged_user_ids",
]
