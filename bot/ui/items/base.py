"""The one base class of Chorus's buttons: a DynamicItem whose custom_id carries the ids it needs.

A subclass names its action and the integer fields of its custom_id (`chorus:<action>:<field>:…`); the base
builds and parses the template once, refuses presses while the bot shuts down, loads the job (when the first
field is `job`), checks who may press, and runs the subclass's work inside the one error path, so every press
gets exactly one answer. Items keep no state in memory, so they work after a restart.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

import discord

from bot.store import Job
from bot.ui.errors import answer_error
from bot.ui.replies import safe_reply
from bot.ui.tree import RESTARTING

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

# "anyone" may press; "owner": only the member who asked for the job, or a member who may manage messages.
Who = Literal["anyone", "owner"]
NOT_FOUND = "I cannot find that job any more."


def bot_of(interaction: discord.Interaction) -> Chorus:
    """The Chorus bot an interaction arrived at."""
    return cast("Chorus", interaction.client)


def may_act(interaction: discord.Interaction, job: Job) -> bool:
    """The requester, or a member who may manage messages in this channel."""
    return interaction.user.id == job.user_id or interaction.permissions.manage_messages


class ChorusButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"(?!)"):
    """Base of every Chorus button (the base's own template matches nothing: only subclasses are registered)."""

    action: ClassVar[str]
    fields: ClassVar[tuple[str, ...]]
    who: ClassVar[Who] = "anyone"
    verb: ClassVar[str] = "use"  # "Only @alice (or a moderator) can <verb> this song."

    def __init_subclass__(cls, *, action: str, fields: tuple[str, ...] = ("job",), **kwargs: Any) -> None:
        template = "chorus:" + re.escape(action) + "".join(rf":(?P<{name}>\d+)" for name in fields)
        super().__init_subclass__(template=f"^{template}$", **kwargs)
        cls.action, cls.fields = action, fields

    def __init__(
        self, *ids: int, label: str = "", emoji: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        custom_id = ":".join(("chorus", self.action, *map(str, ids)))
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=custom_id))
        self.ids = dict(zip(self.fields, ids, strict=True))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ChorusButton:
        """Rebuild the button from its custom_id (called by discord.py on every press)."""
        return cls(*(int(match[name]) for name in cls.fields))

    @property
    def job_id(self) -> int | None:
        """The job this button belongs to, if it belongs to one."""
        return self.ids.get("job")

    async def callback(self, interaction: discord.Interaction) -> None:
        """Check, then act; any failure goes down the one error path."""
        try:
            await self._checked(interaction)
        except Exception as exc:
            await answer_error(interaction, exc, what=f"button {self.custom_id}", job_id=self.job_id)

    async def _checked(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        if bot.closing:
            await safe_reply(interaction, RESTARTING)
            return
        if self.job_id is None:
            await self.on_press(interaction)
            return
        job = await bot.jobs.get(self.job_id)
        if job is None:
            await safe_reply(interaction, NOT_FOUND)
            return
        if self.who == "owner" and not may_act(interaction, job):
            await safe_reply(interaction, f"Only <@{job.user_id}> (or a moderator) can {self.verb} this song.")
            return
        await self.on_job(interaction, job)

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """The work of a button that belongs to a job (found, and the presser allowed)."""
        raise NotImplementedError

    async def on_press(self, interaction: discord.Interaction) -> None:
        """The work of a button that belongs to no job."""
        raise NotImplementedError
