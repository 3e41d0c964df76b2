"""Follow-up buttons on delivered songs and status cards: extend, whole song, reroll, edit, info, delete,
cancel. Each is a DynamicItem whose custom_id carries the job (and take), so it works after a restart.

Generation buttons may be pressed by the requester or members with Manage Messages; Info and links by
anyone. Every button that submits goes through the same reserve → limits → submit flow as a command.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot import render
from bot.cometapi import Clip
from bot.flow import start_job
from bot.jobs import concat_job, rerun_job, suno_job
from bot.modals import EditModal, ExtendModal
from bot.replies import safe_reply
from bot.store import Job

if TYPE_CHECKING:
    from bot.chorus import Chorus

Button = discord.ui.Button[Any]


def client_of(interaction: discord.Interaction) -> Chorus:
    return cast("Chorus", interaction.client)


async def find_job(interaction: discord.Interaction, job_id: int) -> Job | None:
    job = await client_of(interaction).jobs.get(job_id)
    if job is None:
        await safe_reply(interaction, "I cannot find that job any more.")
    return job


async def _may_act(interaction: discord.Interaction, job: Job, action: str) -> bool:
    """The requester, or a member who may manage messages here; others are told who can."""
    if interaction.user.id == job.user_id or interaction.permissions.manage_messages:
        return True
    await safe_reply(interaction, f"Only <@{job.user_id}> (or a moderator) can {action} this song.")
    return False


def _take(job: Job, take: int) -> Clip | None:
    result = render.result_of(job)
    clips = result.complete_clips if result else ()
    return clips[take - 1] if 1 <= take <= len(clips) else None


def _button(label: str, emoji: str, custom_id: str, style: discord.ButtonStyle) -> Button:
    return discord.ui.Button(label=label, emoji=emoji, custom_id=custom_id, style=style)


class ExtendButton(discord.ui.DynamicItem[Button], template=r"chorus:extend:(?P<job>\d+):(?P<take>\d+)"):
    """Continue a Suno take from a point in it (a modal asks where, and for lyrics and style)."""

    def __init__(self, job_id: int, take: int) -> None:
        super().__init__(_button(f"Extend {take}", "⏩", f"chorus:extend:{job_id}:{take}", discord.ButtonStyle.primary))
        self.job_id, self.take = job_id, take

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> ExtendButton:
        return cls(int(match["job"]), int(match["take"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        job = await find_job(interaction, self.job_id)
        if job is None or not await _may_act(interaction, job, "extend"):
            return
        clip = _take(job, self.take)
        if clip is None or not job.task_id:
            await safe_reply(interaction, "That take cannot be extended.")
            return
        parent, task_id = job, job.task_id

        async def submit(modal_interaction: discord.Interaction, request: Any) -> None:
            await start_job(modal_interaction, client_of(modal_interaction),
                            lambda who: suno_job(request, who, parent_job_id=parent.id))

        await interaction.response.send_modal(ExtendModal(parent.params, clip, task_id, on_done=submit))


class WholeSongButton(discord.ui.DynamicItem[Button], template=r"chorus:whole:(?P<job>\d+):(?P<take>\d+)"):
    """Join an extended take with the parts it continues into one song."""

    def __init__(self, job_id: int, take: int) -> None:
        super().__init__(_button(f"Whole song {take}", "🧩", f"chorus:whole:{job_id}:{take}",
                                 discord.ButtonStyle.secondary))
        self.job_id, self.take = job_id, take

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> WholeSongButton:
        return cls(int(match["job"]), int(match["take"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        job = await find_job(interaction, self.job_id)
        if job is None or not await _may_act(interaction, job, "join"):
            return
        clip = _take(job, self.take)
        if clip is None:
            await safe_reply(interaction, "That take is not available.")
            return
        parent = job
        await start_job(interaction, client_of(interaction), lambda who: concat_job(parent, clip.id, who))


class RerollButton(discord.ui.DynamicItem[Button], template=r"chorus:reroll:(?P<job>\d+)"):
    """The same request again."""

    def __init__(self, job_id: int) -> None:
        super().__init__(_button("Reroll", "🎲", f"chorus:reroll:{job_id}", discord.ButtonStyle.secondary))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> RerollButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        job = await find_job(interaction, self.job_id)
        if job is None or not await _may_act(interaction, job, "reroll"):
            return
        parent = job
        await start_job(interaction, client_of(interaction), lambda who: rerun_job(parent, who))


class EditButton(discord.ui.DynamicItem[Button], template=r"chorus:edit:(?P<job>\d+)"):
    """A form prefilled with the original request, to change and run again."""

    def __init__(self, job_id: int) -> None:
        super().__init__(_button("Edit & rerun", "✏️", f"chorus:edit:{job_id}", discord.ButtonStyle.secondary))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> EditButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        job = await find_job(interaction, self.job_id)
        if job is None or not await _may_act(interaction, job, "edit"):
            return
        parent = job

        async def submit(modal_interaction: discord.Interaction, params: dict[str, Any]) -> None:
            await start_job(modal_interaction, client_of(modal_interaction), lambda who: rerun_job(parent, who, params))

        await interaction.response.send_modal(EditModal(parent, on_done=submit))


class InfoButton(discord.ui.DynamicItem[Button], template=r"chorus:info:(?P<job>\d+)"):
    """Every parameter of the job, its model, CometAPI task id and clip ids, privately, for anyone."""

    def __init__(self, job_id: int) -> None:
        info = "\N{INFORMATION SOURCE}"
        super().__init__(_button("Info", info, f"chorus:info:{job_id}", discord.ButtonStyle.secondary))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> InfoButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        job = await find_job(interaction, self.job_id)
        if job is None:
            return
        await interaction.response.send_message(embed=info_embed(job), ephemeral=True)


class DeleteButton(discord.ui.DynamicItem[Button], template=r"chorus:delete:(?P<job>\d+)"):
    """Remove the delivered message (the requester or members with Manage Messages)."""

    def __init__(self, job_id: int) -> None:
        super().__init__(_button("Delete", "🗑️", f"chorus:delete:{job_id}", discord.ButtonStyle.danger))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> DeleteButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        job = await find_job(interaction, self.job_id)
        if job is None or not await _may_act(interaction, job, "delete"):
            return
        await interaction.response.send_message("Deleted.", ephemeral=True)
        if interaction.message is not None:
            try:
                await interaction.message.delete()
            except discord.HTTPException as exc:
                await interaction.followup.send(f"I could not delete it ({exc.status}).", ephemeral=True)


class CancelButton(discord.ui.DynamicItem[Button], template=r"chorus:cancel:(?P<job>\d+)"):
    """On a status card: stop a queued or running job (it then costs no quota)."""

    def __init__(self, job_id: int) -> None:
        super().__init__(_button("Cancel", "✖️", f"chorus:cancel:{job_id}", discord.ButtonStyle.danger))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> CancelButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        job = await find_job(interaction, self.job_id)
        if job is None or not await _may_act(interaction, job, "cancel"):
            return
        bot = client_of(interaction)
        if not await bot.jobs.cancel(job):
            await safe_reply(interaction, "That job has already finished.")
            return
        cancelled = await bot.jobs.get(job.id)
        assert cancelled is not None  # noqa: S101 - it was just updated
        await interaction.response.edit_message(embed=render.status_card(cancelled), view=None)


def info_embed(job: Job) -> discord.Embed:
    """All there is to know about a job, for the Info button."""
    embed = discord.Embed(title=f"Job #{job.id} · {render.model_label(job)}", colour=render.COLOURS["busy"])
    params = json.dumps(job.params, ensure_ascii=False, indent=1)
    # A zero-width space inside any ``` keeps member text from closing the code block early.
    embed.description = "```json\n" + render.shorten(params, 3500).replace("```", "`\u200b``") + "\n```"
    embed.add_field(name="Asked by", value=f"<@{job.user_id}>")
    embed.add_field(name="Kind", value=job.kind)
    if job.parent_job_id:
        embed.add_field(name="Follows", value=f"job #{job.parent_job_id}")
    embed.add_field(name="CometAPI task", value=f"`{job.task_id or '-'}`", inline=False)
    result = render.result_of(job)
    if result is not None and result.clips:
        clips = "\n".join(f"take {i}: `{clip.id}` ({clip.status})" for i, clip in enumerate(result.clips, 1))
        embed.add_field(name="Clips", value=render.shorten(clips, 1024), inline=False)
    return embed


def cancel_view(job: Job) -> discord.ui.View:
    """The status card's buttons: Cancel while the job is queued or running, nothing after."""
    view = discord.ui.View(timeout=None)
    if job.state in {"submitting", "queued", "running"}:
        view.add_item(CancelButton(job.id))
    return view


FOLLOW_UP_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ExtendButton, WholeSongButton, RerollButton, EditButton, InfoButton, DeleteButton, CancelButton,
)
