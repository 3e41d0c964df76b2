"""Buttons on a delivered song: Extend, Again, Edit (and, on older posts, whole song, info, delete, lyrics).

Anyone may press Extend, Again or Edit on anyone's song: it starts their *own* job, under their own name and
limits (remix as mine). Delete stays with the requester and moderators. Every button that submits goes through
the same reserve → limits → submit flow as a command.
"""

from __future__ import annotations

import dataclasses
import io

import discord

from bot.cometapi import Clip, SunoMusicRequest
from bot.core.community.songs import asked_title
from bot.core.jobs import concat_job, rerun_job, suno_job
from bot.core.specs import JobSpec
from bot.domain import Job
from bot.ui import render
from bot.ui.forms import EditForm, ExtendForm
from bot.ui.items.item_base import ChorusButton, bot_of
from bot.ui.launcher import start_job
from bot.ui.replies import safe_reply


def take_of(job: Job, take: int) -> Clip | None:
    """The job's complete clip number `take` (from 1), or None."""
    result = render.result_of(job)
    clips = result.complete_clips if result else ()
    return clips[take - 1] if 1 <= take <= len(clips) else None


class ExtendButton(ChorusButton, action="extend", fields=("job", "take")):
    """Continue a Suno take from a point in it, as the presser's own job (a form asks where, lyrics and style)."""

    def __init__(self, job_id: int, take: int) -> None:
        super().__init__(job_id, take, label=f"Extend {take_letter(take)}", emoji="⏩",
                         style=discord.ButtonStyle.primary)

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Open the extend form for this take."""
        await open_extend_form(interaction, job, self.ids["take"])


async def open_extend_form(interaction: discord.Interaction, job: Job, take: int) -> None:
    """The form that continues one of the job's takes as the presser's own job."""
    clip = take_of(job, take)
    if clip is None or not job.task_id or job.provider != "suno":
        await safe_reply(interaction, "That take cannot be extended.")
        return
    parent = job

    async def submit(form_interaction: discord.Interaction, request: SunoMusicRequest) -> None:
        await start_job(form_interaction, bot_of(form_interaction), lambda who: suno_job(request, who, parent=parent))

    # The extension keeps the title the member gave the song (Suno's own title for it is in Info).
    named = dataclasses.replace(clip, title=asked_title(job) or clip.title)
    await interaction.response.send_modal(ExtendForm(interaction, parent.params, named, job.task_id, on_done=submit))


class WholeSongButton(ChorusButton, action="whole", fields=("job", "take")):
    """Join an extended take with the parts it continues into one song (on posts from before the More menu)."""

    answer = "public"  # the new job's card (a refusal still reaches the member privately)

    def __init__(self, job_id: int, take: int) -> None:
        super().__init__(job_id, take, label=f"Whole song {take}", emoji="🧩")

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Submit a concat job for this take."""
        clip = take_of(job, self.ids["take"])
        if clip is None:
            await safe_reply(interaction, "That take is not available.")
            return
        await start_job(interaction, bot_of(interaction), lambda who: concat_job(job, clip.id, who))


class RerollButton(ChorusButton, action="reroll"):
    """The same request again, as the presser's own job ("Again" on a song, "Try again" on a failure)."""

    answer = "public"  # the new job's card (a refusal still reaches the member privately)

    def __init__(self, job_id: int, label: str = "Again") -> None:
        super().__init__(job_id, label=label, emoji="🔁")

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Submit the job's request again as a child job of the presser's."""
        await start_job(interaction, bot_of(interaction), lambda who: rerun_job(job, who))


class EditButton(ChorusButton, action="edit"):
    """A form prefilled with the original request, to change and run as the presser's own job."""

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id, label="Edit", emoji="✏️")

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Open the edit form."""

        async def submit(form_interaction: discord.Interaction, spec: JobSpec) -> None:
            await start_job(form_interaction, bot_of(form_interaction), lambda who: rerun_job(job, who, spec))

        await interaction.response.send_modal(EditForm(interaction, job, on_done=submit))


class InfoButton(ChorusButton, action="info"):
    """The job's details, privately, for anyone (on posts from before the More menu)."""

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id, label="Info", emoji="\N{INFORMATION SOURCE}")

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Show the job's details privately."""
        await interaction.response.send_message(embed=render.info(job), ephemeral=True)


class DeleteButton(ChorusButton, action="delete"):
    """Remove the delivered message (the requester or moderators; on posts from before the More menu)."""

    who, verb = "owner", "delete"

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id, label="Delete", emoji="🗑️", style=discord.ButtonStyle.danger)

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Delete the message, then say whether it worked (one answer either way)."""
        await delete_post(interaction, job)


class LyricsButton(ChorusButton, action="lyrics", fields=("job", "take")):
    """Shows one take's full lyrics, privately, to whoever presses it (on posts from before the More menu)."""

    def __init__(self, job_id: int, take: int) -> None:
        super().__init__(job_id, take, label=f"Lyrics {take}", emoji="📝")

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Send the take's lyrics as an embed, or as lyrics.txt when they are too long for one."""
        clip = take_of(job, self.ids["take"])
        if clip is None:
            await safe_reply(interaction, "That take has no lyrics.")
            return
        await send_lyrics(interaction, clip.title, clip.lyrics or "(instrumental: no lyrics)")


def take_letter(take: int) -> str:
    """`A`, `B`, … for takes 1, 2, …: what members call them."""
    return chr(ord("A") + take - 1) if 1 <= take <= 26 else str(take)


async def send_lyrics(interaction: discord.Interaction, title: str, text: str) -> None:
    """Lyrics in full, privately: in an embed when they fit, else as lyrics.txt."""
    heading = render.shorten(title or "Untitled", render.EMBED_TITLE)
    if len(text) <= render.EMBED_DESCRIPTION:
        await interaction.response.send_message(embed=discord.Embed(title=heading, description=text), ephemeral=True)
    else:
        file = discord.File(io.BytesIO(text.encode()), filename="lyrics.txt")
        await interaction.response.send_message(f"**{heading}**", file=file, ephemeral=True)


async def delete_post(interaction: discord.Interaction, job: Job) -> None:
    """Delete the message the interaction came from, then say whether it worked (one answer either way).

    Deleting the song's own post (not a copy shown again with /show) deletes the song for the community too: it
    drops out of charts, battles, challenges and song of the day.
    """
    if interaction.message is None:
        await safe_reply(interaction, "I cannot find that message any more.")
        return
    try:
        await interaction.message.delete()
    except discord.HTTPException as exc:
        await safe_reply(interaction, f"I could not delete it (Discord said {exc.status}).")
        return
    if interaction.message.id == job.delivered_message_id and job.action == "MUSIC":
        await bot_of(interaction).community.remove_song(job.id, by=interaction.user.id)
    await safe_reply(interaction, "Deleted.")
