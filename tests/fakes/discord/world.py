"""The fake's world: one application, its bot user, a guild with roles, channels and members.

Tests reach the default entities as ``fake.guild``, ``fake.general``, ``fake.alice`` … and add more
with the ``add_*`` builders. Changing the world after the bot connected does not reach the bot's
cache by itself; use the async helpers on ``FakeDiscord`` that also dispatch the gateway event.
"""

from __future__ import annotations

from .models import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    ATTACH_FILES,
    CREATE_PUBLIC_THREADS,
    DM,
    EMBED_LINKS,
    EVERYONE_PERMISSIONS,
    GUILD_TEXT,
    MANAGE_GUILD,
    OVERWRITE_MEMBER,
    OVERWRITE_ROLE,
    PUBLIC_THREAD,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Overwrite,
    SnowflakeFactory,
)

MIB = 1024 * 1024
# Per-guild upload limits by boost tier, as discord.py 2.7's Guild.filesize_limit reports them
# (10 MiB is Discord's current free limit). Keeping the fake in step with what the bot is told
# means a bot that trusts guild.filesize_limit never meets a surprise 413.
UPLOAD_LIMITS = {0: 10 * MIB, 1: 10 * MIB, 2: 50 * MIB, 3: 100 * MIB}
DEFAULT_UPLOAD_LIMIT = UPLOAD_LIMITS[0]

BOT_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)


class World:
    """Everything the fake knows about: users, guilds, channels (including DMs and threads)."""

    def __init__(self, *, bot_name: str = "Chorus") -> None:
        self.snowflake = SnowflakeFactory()
        self.application_id = self.snowflake()
        self.application_name = bot_name
        self.users: dict[int, FakeUser] = {}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self._dm_by_user: dict[int, FakeChannel] = {}

        # The bot user shares the application's id, as it does for every modern Discord app.
        self.bot = FakeUser(id=self.application_id, username=bot_name, bot=True)
        self.users[self.bot.id] = self.bot
        self.admin = self.add_user("admin", global_name="Admin")
        self.alice = self.add_user("alice", global_name="Alice")
        self.bob = self.add_user("bob", global_name="Bob")

        self.guild = self.add_guild("Chorus Test Server", owner=self.admin)
        self.admin_role = self.add_role("Admin", permissions=MANAGE_GUILD, position=2)
        self.bot_role = self.add_role(bot_name, permissions=BOT_PERMISSIONS, position=1, managed=True)
        self.general = self.add_channel("general")
        self.music = self.add_channel("music")
        self.add_member(self.bot, roles=[self.bot_role])
        self.add_member(self.admin, roles=[self.admin_role])
        self.add_member(self.alice)
        self.add_member(self.bob)

    # Builders ---------------------------------------------------------------------------------

    def add_server(self, name: str, *, shard: int | None = None, shard_count: int = 1) -> FakeGuild:
        """A guild set up like the default one (the bot with its role, #general and #music, the admin as owner,
        alice and bob as members); with ``shard``, its id is drawn until Discord would route it to that shard."""
        guild = self.add_guild(name, owner=self.admin)
        while shard is not None and (guild.id >> 22) % shard_count != shard:
            del self.guilds[guild.id]
            guild = self.add_guild(name, owner=self.admin)
        admin_role = self.add_role("Admin", permissions=MANAGE_GUILD, position=2, guild=guild)
        bot_role = self.add_role(self.bot.username, permissions=BOT_PERMISSIONS, position=1, managed=True,
                                 guild=guild)
        self.add_channel("general", guild=guild)
        self.add_channel("music", guild=guild)
        self.add_member(self.bot, roles=[bot_role], guild=guild)
        self.add_member(self.admin, roles=[admin_role], guild=guild)
        self.add_member(self.alice, guild=guild)
        self.add_member(self.bob, guild=guild)
        return guild

    def add_user(self, username: str, *, global_name: str | None = None, bot: bool = False) -> FakeUser:
        """Create a user that is not (yet) in any guild."""
        user = FakeUser(id=self.snowflake(), username=username, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, *, owner: FakeUser, premium_tier: int = 0) -> FakeGuild:
        """Create a guild with only an @everyone role; the bot is not a member until added."""
        guild = FakeGuild(id=self.snowflake(), name=name, owner_id=owner.id, premium_tier=premium_tier)
        guild.roles.append(FakeRole(id=guild.id, name="@everyone", permissions=EVERYONE_PERMISSIONS))
        self.guilds[guild.id] = guild
        return guild

    def add_role(
        self,
        name: str,
        *,
        permissions: int = 0,
        position: int = 1,
        managed: bool = False,
        guild: FakeGuild | None = None,
    ) -> FakeRole:
        """Create a role in ``guild`` (default: the default guild)."""
        target = guild or self.guild
        role = FakeRole(id=self.snowflake(), name=name, permissions=permissions, position=position, managed=managed)
        target.roles.append(role)
        return role

    def add_channel(
        self,
        name: str,
        *,
        guild: FakeGuild | None = None,
        topic: str | None = None,
        overwrites: list[Overwrite] | None = None,
    ) -> FakeChannel:
        """Create a text channel in ``guild`` (default: the default guild)."""
        target = guild or self.guild
        position = sum(1 for c in target.channels if not c.is_thread)
        channel = FakeChannel(
            id=self.snowflake(),
            name=name,
            type=GUILD_TEXT,
            guild_id=target.id,
            position=position,
            topic=topic,
            overwrites=list(overwrites or []),
        )
        target.channels.append(channel)
        self.channels[channel.id] = channel
        return channel

    def add_thread(self, parent: FakeChannel, name: str, *, thread_id: int | None = None) -> FakeChannel:
        """Create a public thread under ``parent``; a thread started from a message shares its id."""
        guild = self.guild_of(parent)
        if guild is None:
            raise ValueError("threads need a guild channel as parent")
        thread = FakeChannel(
            id=thread_id or self.snowflake(),
            name=name,
            type=PUBLIC_THREAD,
            guild_id=guild.id,
            parent_id=parent.id,
            owner_id=self.bot.id,
        )
        guild.channels.append(thread)
        self.channels[thread.id] = thread
        return thread

    def add_member(
        self,
        user: FakeUser | str,
        *,
        roles: list[FakeRole] | None = None,
        nick: str | None = None,
        guild: FakeGuild | None = None,
    ) -> FakeMember:
        """Add ``user`` (or a new user with that username) to ``guild``."""
        if isinstance(user, str):
            user = self.add_user(user)
        target = guild or self.guild
        member = FakeMember(user=user, roles=[r.id for r in roles or []], nick=nick)
        target.members[user.id] = member
        return member

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """Return the bot's DM channel with ``user``, creating it on first use (as Discord does)."""
        channel = self._dm_by_user.get(user.id)
        if channel is None:
            channel = FakeChannel(id=self.snowflake(), name=None, type=DM, recipients=[user])
            self._dm_by_user[user.id] = channel
            self.channels[channel.id] = channel
        return channel

    # Look-ups ---------------------------------------------------------------------------------

    def guild_of(self, channel: FakeChannel) -> FakeGuild | None:
        return self.guilds.get(channel.guild_id) if channel.guild_id is not None else None

    def member(self, user_id: int, guild: FakeGuild | None = None) -> FakeMember | None:
        return (guild or self.guild).members.get(user_id)

    def upload_limit(self, channel: FakeChannel | None) -> int:
        """Return the upload limit in bytes for ``channel`` from its guild's boost tier."""
        guild = self.guild_of(channel) if channel is not None else None
        return UPLOAD_LIMITS.get(guild.premium_tier, DEFAULT_UPLOAD_LIMIT) if guild else DEFAULT_UPLOAD_LIMIT

    def permissions(self, user_id: int, channel: FakeChannel) -> int:
        """Compute a user's permissions in ``channel`` with Discord's overwrite algorithm."""
        if channel.type == DM:
            return VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY
        guild = self.guild_of(channel)
        member = guild.members.get(user_id) if guild else None
        if guild is None or member is None:
            return 0
        if channel.is_thread and channel.parent_id is not None:
            # Threads inherit the parent's overwrites; posting needs "send messages in threads".
            perms = self.permissions(user_id, self.channels[channel.parent_id])
            return perms | SEND_MESSAGES if perms & SEND_MESSAGES_IN_THREADS else perms & ~SEND_MESSAGES
        if guild.owner_id == user_id:
            return ALL_PERMISSIONS
        perms = guild.everyone.permissions
        for role_id in member.roles:
            role = guild.role(role_id)
            perms |= role.permissions if role else 0
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        by_target = {(o.type, o.id): o for o in channel.overwrites}
        everyone = by_target.get((OVERWRITE_ROLE, guild.id))
        if everyone:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles:
            ow = by_target.get((OVERWRITE_ROLE, role_id))
            if ow:
                allow, deny = allow | ow.allow, deny | ow.deny
        perms = (perms & ~deny) | allow
        own = by_target.get((OVERWRITE_MEMBER, user_id))
        if own:
            perms = (perms & ~own.deny) | own.allow
        return perms if perms & VIEW_CHANNEL else 0

    def set_member_overwrite(self, channel: FakeChannel, user: FakeUser, *, allow: int = 0, deny: int = 0) -> None:
        """Replace ``user``'s overwrite on ``channel`` (both 0 removes it)."""
        channel.overwrites = [o for o in channel.overwrites if not (o.type == OVERWRITE_MEMBER and o.id == user.id)]
        if allow or deny:
            channel.overwrites.append(Overwrite(id=user.id, type=OVERWRITE_MEMBER, allow=allow, deny=deny))
