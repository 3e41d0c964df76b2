"""Entities of the fake Discord world and the JSON payloads Discord would send for them.

Payload shapes follow what discord.py 2.7 parses (see ``discord/types/*.py``); keys it reads with
``data['...']`` are always present, because a missing one raises ``KeyError`` deep inside the bot.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits used by the fake (values from discord.Permissions).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
MANAGE_MESSAGES = 1 << 13  # delete other members' messages (and bulk delete)
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_APPLICATION_COMMANDS = 1 << 31
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
MANAGE_CHANNELS = 1 << 4  # joins a full voice channel anyway
CONNECT = 1 << 20
SPEAK = 1 << 21
ALL_PERMISSIONS = (1 << 53) - 1

# What @everyone gets in a fresh community server, trimmed to the bits the bot cares about.
EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
    | (1 << 6)  # add reactions
    | (1 << 20)  # connect
    | (1 << 21)  # speak
)

# Channel types.
GUILD_TEXT = 0
DM = 1
GUILD_VOICE = 2
PUBLIC_THREAD = 11
THREAD_TYPES = (10, 11, 12)

# Overwrite target types.
OVERWRITE_ROLE = 0
OVERWRITE_MEMBER = 1


def iso_now() -> str:
    """Return the current time as Discord's ISO-8601 timestamp."""
    return datetime.now(UTC).isoformat()


class SnowflakeFactory:
    """Hand out increasing, time-based snowflakes so discord.py's ``created_at`` is plausible."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._last = 0

    def __call__(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (1 << 17) | (next(self._counter) & 0xFFF)
        # Two ids in the same millisecond with a wrapped counter must still increase.
        value = max(value, self._last + 1)
        self._last = value
        return value


@dataclass(slots=True, eq=False)
class FakeUser:
    """A Discord user (people and the bot alike)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    accepts_dms: bool = True  # False → sending to their DM channel yields 403/50007

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(slots=True, eq=False)
class FakeRole:
    """A guild role; the role whose id equals the guild id is @everyone."""

    id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    managed: bool = False
    mentionable: bool = False

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }


@dataclass(slots=True, eq=False)
class FakeMember:
    """A user's membership in a guild; ``roles`` excludes @everyone, as on Discord."""

    user: FakeUser
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass(slots=True, eq=False)
class Overwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass(slots=True, eq=False)
class FakeChannel:
    """A guild text channel, a thread, or a DM channel."""

    id: int
    name: str | None
    type: int = GUILD_TEXT
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    recipients: list[FakeUser] = field(default_factory=list)  # DMs only
    owner_id: int | None = None  # threads only
    created_at: str = field(default_factory=iso_now)
    auto_archive_duration: int = 1440
    bitrate: int = 64_000  # voice channels only
    user_limit: int = 0  # voice channels only; 0 is no limit

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    def payload(self) -> dict[str, Any]:
        if self.type == DM:
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": None,
                "flags": 0,
                "recipients": [u.payload() for u in self.recipients],
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        if self.is_thread:
            data.update(
                owner_id=str(self.owner_id),
                message_count=0,
                member_count=1,
                total_message_sent=0,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": self.created_at,
                    "locked": False,
                    "create_timestamp": self.created_at,
                },
            )
        else:
            data.update(
                position=self.position,
                topic=self.topic,
                nsfw=False,
                permission_overwrites=[o.payload() for o in self.overwrites],
            )
            if self.type == GUILD_VOICE:
                data.update(bitrate=self.bitrate, user_limit=self.user_limit, rtc_region=None, video_quality_mode=1)
        return data


@dataclass(slots=True, eq=False)
class FakeGuild:
    """A guild with its roles, channels and members."""

    id: int
    name: str
    owner_id: int
    premium_tier: int = 0
    roles: list[FakeRole] = field(default_factory=list)
    channels: list[FakeChannel] = field(default_factory=list)
    members: dict[int, FakeMember] = field(default_factory=dict)
    preferred_locale: str = "en-US"

    @property
    def everyone(self) -> FakeRole:
        return next(r for r in self.roles if r.id == self.id)

    def role(self, role_id: int) -> FakeRole | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def payload(self) -> dict[str, Any]:
        """Return the REST ``GET /guilds/{id}`` shape (no channels or members)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": "us-west",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": self.premium_tier,
            "premium_subscription_count": [0, 2, 7, 14][self.premium_tier],
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.preferred_locale,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "features": [],
            "roles": [r.payload() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "max_members": 500000,
            "approximate_member_count": len(self.members),
            "approximate_presence_count": len(self.members),
        }

    def create_payload(self) -> dict[str, Any]:
        """Return the gateway GUILD_CREATE shape: the REST shape plus channels, members and threads."""
        data = self.payload()
        data.update(
            unavailable=False,
            large=False,
            joined_at=iso_now(),
            member_count=len(self.members),
            channels=[c.payload() for c in self.channels if not c.is_thread],
            threads=[c.payload() for c in self.channels if c.is_thread],
            members=[m.payload() for m in self.members.values()],
            voice_states=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
        return data
