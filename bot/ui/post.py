"""The one public post a finished job leaves in its channel: compact, in Discord's Components V2.

A song post is one container: a heading that names the song and mentions its member once, then per take a
line with a small cover, its style and length, and the MP3 playing inline (or a link when it is too large to
attach), then one row of actions (Like, Extend, Again, Edit) and one "More" menu for the rest (lyrics, full-size
cover, video, whole song, Info, Delete). Lyrics never fill the channel: they are one press away, in full.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.cometapi import Clip, TaskResult
from bot.core.jobs import may_have_started
from bot.store import Job
from bot.ui import render
from bot.ui.items.item_base import ChorusButton
from bot.ui.items.like_button import LikeButton
from bot.ui.items.lyrics_buttons import EditLyricsSongButton, MakeSongButton
from bot.ui.items.more import ROW_EXTENDS, MoreSelect
from bot.ui.items.song_buttons import EditButton, ExtendButton, RerollButton, take_letter

# A Components V2 message holds at most 4,000 characters of text; lyrics shown in a lyrics post stop here.
LYRICS_PREVIEW_LINES = 12
LYRICS_PREVIEW_CHARS = 1200
MAX_TAKES = 4
Container = discord.ui.Container[discord.ui.LayoutView]




def audio_filename(title: str, take: int) -> str:
    """A distinct, readable file name per take: `Electric Dance Party - Take A.mp3`."""
    return f"{render.file_stem(title)} - Take {take_letter(take)}.mp3"


@dataclass(frozen=True, slots=True)
class Lineage:
    """What a continuation or a whole song comes from, said in one small line."""

    parent_job_id: int
    take: int | None = None
    at: float | None = None

    def describe(self, kind: str) -> str:
        """`extends #12 take A from 1:00`, or `the whole song of #12 take A`."""
        take = f" take {take_letter(self.take)}" if self.take else ""
        if kind == "stems":
            return f"stems of #{self.parent_job_id}{take}"
        if kind == "concat":
            return f"the whole song, from #{self.parent_job_id}{take} and what it extends"
        at = f" from {render.duration(self.at)}" if self.at is not None else ""
        return f"extends #{self.parent_job_id}{take}{at}"


def post_marker(job: Job) -> str:
    """A custom_id that only this job's post (in its current state) carries, to find it in channel history.

    Message history does not return nonces, so a post is recognised by its own components: a finished song or
    lyrics post has the job's More menu, a failure post only its Try again button. A late song is therefore
    told apart from an earlier failure notice of the same job.
    """
    return MoreSelect(job.id).custom_id if job.state == "succeeded" else RerollButton(job.id).custom_id


def song_post(
    job: Job, *, attached: Mapping[str, str], lineage: Lineage | None = None, note: str | None = None,
    likes: int = 0, credits: Sequence[int] | None = None,
) -> discord.ui.LayoutView:
    """The post of a finished song job. `attached` maps clip id → the file name its MP3 is attached under; `note`
    is one more small line (e.g. why it came by DM); `likes` is the Like button's count; `credits` are the members
    a jam song is by (each mentioned once, instead of the requester)."""
    result = render.result_of(job)
    clips = result.complete_clips[:MAX_TAKES] if result is not None else ()
    container: Container = discord.ui.Container(accent_colour=render.COLOURS["ok"])
    heading = _heading(job, clips, result, lineage, attached, credits) + (f"\n-# {note}" if note else "")
    container.add_item(discord.ui.TextDisplay(heading))
    shared_title = len({clip.title for clip in clips}) == 1
    for take, clip in enumerate(clips, 1):
        container.add_item(_take(take, clip, attached=clip.id in attached, shared_title=shared_title))
        filename = attached.get(clip.id)
        if filename is not None:
            container.add_item(discord.ui.File(f"attachment://{filename}"))
    container.add_item(discord.ui.ActionRow(*_actions(job, clips, likes)))
    container.add_item(discord.ui.ActionRow(MoreSelect.for_job(job)))
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(container)
    return view


def stems_post(
    job: Job, *, attached: Mapping[str, str], lineage: Lineage | None = None, note: str | None = None
) -> discord.ui.LayoutView:
    """The stems of a take: one line per stem with its download link, the ones that fit attached to play."""
    result = render.result_of(job)
    stems = result.complete_clips if result is not None else ()
    container: Container = discord.ui.Container(accent_colour=render.COLOURS["ok"])
    what = lineage.describe("stems") if lineage else "stems"
    heading = f"### 🎚️ {what[0].upper()}{what[1:]}\n<@{job.user_id}> · {len(stems)} tracks · job #{job.id}"
    if any(stem.id not in attached for stem in stems):
        heading += "\n-# Not every track fits the upload limit: the links download them all."
    container.add_item(discord.ui.TextDisplay(heading + (f"\n-# {note}" if note else "")))
    for stem in stems:
        link = render.safe_url(stem.audio_url)
        line = f"**{_plain(stem.title or 'Track')}** · ⏱ {render.duration(stem.duration)}"
        container.add_item(discord.ui.TextDisplay(line + (f" · [⬇ MP3]({link})" if link else "")))
        filename = attached.get(stem.id)
        if filename is not None:
            container.add_item(discord.ui.File(f"attachment://{filename}"))
    container.add_item(discord.ui.ActionRow(MoreSelect.for_job(job)))
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(container)
    return view


def lyrics_post(job: Job, *, note: str | None = None) -> discord.ui.LayoutView:
    """The post of finished lyrics: a preview (never a wall of text), Make it a song, and More."""
    result = render.result_of(job)
    lyrics = result.lyrics if result is not None else None
    title = (lyrics.title if lyrics else "") or "Untitled"
    text = lyrics.text if lyrics else ""
    lines = text.splitlines()
    preview = "\n".join(lines[:LYRICS_PREVIEW_LINES])
    cut = len(lines) > LYRICS_PREVIEW_LINES or len(preview) > LYRICS_PREVIEW_CHARS
    preview = render.shorten(preview, LYRICS_PREVIEW_CHARS)
    container: Container = discord.ui.Container(accent_colour=render.COLOURS["ok"])
    container.add_item(discord.ui.TextDisplay(
        f"### ✍️ {_plain(title)}\n<@{job.user_id}> · {render.model_label(job)} · job #{job.id}"
        + (f"\n-# {note}" if note else "")
    ))
    body = ">>> " + _plain(preview) if preview else "*(no lyrics came back)*"
    if cut:
        body += "\n-# …the rest under **More → Lyrics**."
    container.add_item(discord.ui.TextDisplay(body))
    container.add_item(discord.ui.ActionRow(MakeSongButton(job.id), EditLyricsSongButton(job.id)))
    container.add_item(discord.ui.ActionRow(MoreSelect.for_job(job)))
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(container)
    return view


def failure_post(job: Job, *, note: str | None = None) -> discord.ui.LayoutView:
    """A failure told in the channel, for a job whose status card is gone: the reason, the prompt, Try again."""
    container: Container = discord.ui.Container(accent_colour=render.COLOURS["bad"])
    container.add_item(discord.ui.TextDisplay(failure_text(job, mention=True) + (f"\n-# {note}" if note else "")))
    container.add_item(discord.ui.ActionRow(RerollButton(job.id, label=render.retry_label(job))))
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(container)
    return view


def failure_headline(job: Job) -> str:
    """`your Suno v5 job #3 failed.` (or took too long, or could not be started, or may have started unseen)."""
    if may_have_started(job):
        return f"your {render.model_label(job)} job #{job.id} may have started, but I could not follow it."
    what = {"timed_out": "took too long, so I gave up on it", "submit_failed": "could not be started"}
    return f"your {render.model_label(job)} job #{job.id} {what.get(job.state, 'failed')}."


def failure_text(job: Job, *, mention: bool) -> str:
    """What went wrong, and what was asked (to try again)."""
    headline = f"❌ {'<@' + str(job.user_id) + '> ' if mention else ''}{failure_headline(job)}"
    reason = render.shorten(job.error or "CometAPI gave no reason", 500)
    charge = f"\n-# {render.MAY_HAVE_STARTED_NOTE}" if may_have_started(job) else ""
    prompt = render.shorten(render.prompt_of(job) or "(no prompt)", 1500)
    return f"{headline}\n-# {_plain(reason)}{charge}\n>>> {_plain(prompt)}"


def _heading(
    job: Job, clips: tuple[Clip, ...], result: TaskResult | None, lineage: Lineage | None, attached: Mapping[str, str],
    credits: Sequence[int] | None = None,
) -> str:
    titles = list(dict.fromkeys(clip.title or "Untitled" for clip in clips)) or ["Untitled"]
    by = f"<@{job.user_id}>"
    if credits:
        by = "A jam by " + ", ".join(f"<@{user}>" for user in dict.fromkeys(credits))
    lines = [f"### 🎶 {_plain(render.shorten(' / '.join(titles), 200))}",
             f"{by} · {render.model_label(job)} · job #{job.id}"]
    ordinary = render.ordinary_note(job)
    if lineage is not None:
        lines.append(f"-# {'asked as ' if ordinary else ''}{lineage.describe(job.kind)}")
    if render.folds_style_and_title(job):
        lines.append(f"-# {render.FOLDED_NOTE}")
    if ordinary is not None:
        lines.append(f"-# {ordinary}")
    if job.late:
        lines.append("-# This finished after I gave up waiting for it (see the time-out note), so it comes late.")
    if result is not None and len(result.clips) > len(result.complete_clips):
        for take, clip in enumerate(result.clips, 1):
            if not clip.is_complete:
                reason = _plain(render.shorten(clip.error_message or "CometAPI gave no reason", 200))
                lines.append(f"-# Take {take_letter(take)} failed: {reason}. Here is what worked.")
    if any(clip.id not in attached for clip in clips):
        lines.append("-# Too large to attach here: play it from the link.")
    return "\n".join(lines)


def _take(take: int, clip: Clip, *, attached: bool, shared_title: bool) -> discord.ui.Item[Any]:
    """One take: its name (and title, when the takes differ), length, style; a link when the MP3 is not attached."""
    heading = f"**Take {take_letter(take)}**"
    if not shared_title:
        heading += f" · {_plain(render.shorten(clip.title or 'Untitled', 100))}"
    heading += f" · ⏱ {render.duration(clip.duration)}"
    audio = render.safe_url(clip.audio_url)
    if audio and not attached:
        heading += f" · [▶ Listen]({audio})"
    details = [heading]
    if clip.tags:
        details.append(f"-# {_plain(render.shorten(clip.tags, 200))}")
    text: discord.ui.TextDisplay[discord.ui.LayoutView] = discord.ui.TextDisplay("\n".join(details))
    cover = render.safe_url(clip.image_url) or render.safe_url(clip.image_large_url)
    if cover is None:
        return text
    thumbnail = discord.ui.Thumbnail[discord.ui.LayoutView](cover, description=f"Cover of take {take_letter(take)}")
    return discord.ui.Section(text, accessory=thumbnail)


def _actions(job: Job, clips: tuple[Clip, ...], likes: int) -> list[ChorusButton]:
    """One row: Like, Extend per take (Suno), Again and Edit; a whole song offers only Like (joining again changes
    nothing)."""
    items: list[ChorusButton] = [LikeButton(job.id, likes)]
    if job.kind == "concat":
        return items
    if job.provider == "suno":
        items += [ExtendButton(job.id, take) for take in range(1, min(len(clips), ROW_EXTENDS) + 1)]
    items += [RerollButton(job.id), EditButton(job.id)]
    return items


def _plain(text: str) -> str:
    """Member text shown as typed: no headings, links or mentions sneak in through markdown."""
    return discord.utils.escape_markdown(discord.utils.escape_mentions(text))
