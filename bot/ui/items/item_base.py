"""The base classes of Chorus's buttons and selects: DynamicItems whose custom_id carries the ids they need.

A subclass names its action and the integer fields of its custom_id (`chorus:<action>:<field>:…`); the base
builds and parses the template once, refuses presses while the bot shuts down, loads the job (when a field is
`job`), checks who may press, and runs the subclass's work inside the one error path, so every press gets
exactly one answer. Items keep no state in memory, so they work after a restart.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

import discord

from bot.domain import Job
from bot.ui.acknowledgement import Answer, in_time
from bot.ui.error_handler import answer_error
from bot.ui.replies import safe_reply
from bot.ui.tree import RESTARTING

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

# "anyone" may press; "owner": only the member who asked for the job, or a member who may manage messages.
Who = Literal["anyone", "owner"]
NOT_FOUND = "I cannot find that job any more."


def item_custom_id(action: str, *ids: int) -> str:
    """`chorus:<action>:<id>:…`: the custom_id of an item of that action for those ids."""
    return ":".join(("chorus", action, *map(str, ids)))


def bot_of(interaction: discord.Interaction) -> Chorus:
    """The Chorus bot an interaction arrived at."""
    return cast("Chorus", interaction.client)


def may_act(interaction: discord.Interaction, job: Job) -> bool:
    """The requester, or a member who may manage messages in this channel."""
    return interaction.user.id == job.user_id or interaction.permissions.manage_messages


class _ChorusItem:
    """What every Chorus item shares: integer fields in the custom_id, the checks, and the one error path."""

    action: ClassVar[str]
    fields: ClassVar[tuple[str, ...]]
    who: ClassVar[Who] = "anyone"
    verb: ClassVar[str] = "use"  # "Only @alice (or a moderator) can <verb> this song."
    # How the press is answered, should the job take long to read (the database restarting): see acknowledgement.py.
    # "direct" (a form, a reply of its own) is always safe; items whose answer goes through the launcher or
    # safe_reply may let a "thinking…" stand in for it.
    answer: ClassVar[Answer] = "direct"
    ids: dict[str, int]
    custom_id: str

    @staticmethod
    def template_for(action: str, fields: tuple[str, ...]) -> str:
        """`^chorus:<action>:(?P<field>\\d+)…$`, built once per class."""
        return "^chorus:" + re.escape(action) + "".join(rf":(?P<{name}>\d+)" for name in fields) + "$"

    def custom_id_for(self, ids: tuple[int, ...]) -> str:
        """The custom_id that carries these ids."""
        self.ids = dict(zip(self.fields, ids, strict=True))
        return item_custom_id(self.action, *ids)

    @property
    def job_id(self) -> int | None:
        """The job this item belongs to, if it belongs to one."""
        return self.ids.get("job")

    async def callback(self, interaction: discord.Interaction) -> None:
        """Check, then act; any failure goes down the one error path."""
        try:
            await self._checked(interaction)
        except Exception as exc:
            await answer_error(interaction, exc, what=f"{self.action} {self.custom_id}", job_id=self.job_id)

    async def _checked(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        if bot.closing:
            await safe_reply(interaction, RESTARTING)
            return
        if self.job_id is None:
            await self.on_press(interaction)
            return
        job = await in_time(interaction, bot.jobs.get(self.job_id), answer=self.answer)
        if job is None:
            await safe_reply(interaction, NOT_FOUND)
            return
        if self.who == "owner" and not may_act(interaction, job):
            await safe_reply(interaction, f"Only <@{job.user_id}> (or a moderator) can {self.verb} this song.")
            return
        await self.on_job(interaction, job)

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """The work of an item that belongs to a job (found, and the presser allowed)."""
        raise NotImplementedError

    async def on_press(self, interaction: discord.Interaction) -> None:
        """The work of an item that belongs to no job."""
        raise NotImplementedError


class ChorusButton(_ChorusItem, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"(?!)"):
    """Base of every Chorus button (the base's own template matches nothing: only subclasses are registered)."""

    def __init_subclass__(cls, *, action: str, fields: tuple[str, ...] = ("job",), **kwargs: Any) -> None:
        super().__init_subclass__(template=cls.template_for(action, fields), **kwargs)
        cls.action, cls.fields = action, fields

    def __init__(
        self, *ids: int, label: str = "", emoji: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        custom_id = self.custom_id_for(ids)
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ChorusButton:
        """Rebuild the button from its custom_id (called by discord.py on every press)."""
        return cls(*(int(match[name]) for name in cls.fields))


class ChorusSelect(_ChorusItem, discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"(?!)"):
    """Base of every Chorus select menu; the chosen value is in `self.value` when the work runs."""

    def __init_subclass__(cls, *, action: str, fields: tuple[str, ...] = ("job",), **kwargs: Any) -> None:
        super().__init_subclass__(template=cls.template_for(action, fields), **kwargs)
        cls.action, cls.fields = action, fields

    def __init__(self, *ids: int, placeholder: str = "", options: list[discord.SelectOption] | None = None) -> None:
        custom_id = self.custom_id_for(ids)
        # A rebuilt select (from a press) needs no options: discord.py only reads the chosen values.
        choices = options or [discord.SelectOption(label="…", value="-")]
        super().__init__(discord.ui.Select(custom_id=custom_id, placeholder=placeholder, options=choices))

    @property
    def value(self) -> str:
        """The option the member picked."""
        values = self.item.values
        return values[0] if values else ""

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ChorusSelect:
        """Rebuild the select from its custom_id and the interaction (called by discord.py on every pick)."""
        return cls(*(int(match[name]) for name in cls.fields))  # discord.py then fills in the picked values
