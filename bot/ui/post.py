"""The one public post a finished job leaves in its channel: compact, in Discord's Components V2.

A song post is one container, about 400 px tall for two takes: beside one cover for the song, a heading with the
title the member typed (else the model's), the member mentioned once, their prompt on one short line and the style
(once, when the takes share it); then each take's MP3 playing inline (or a link when it is too large to attach), the
lyrics as a text file Discord previews (one file when the takes sing the same words, else one per take), one row
of actions (Like, Extend, Again, Edit) and one "More" menu for the rest (full-size covers, video, whole song, Info,
Delete). Technical notes (description mode folding style and title) stay on the status card and in Info.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.cometapi import Clip, TaskResult
from bot.core.community.songs import asked_title, title_of
from bot.core.jobs import may_have_started
from bot.domain import Job, Persona
from bot.ui import render
from bot.ui.items.item_base import ChorusButton
from bot.ui.items.like_button import LikeButton
from bot.ui.items.lyrics_buttons import EditLyricsSongButton, MakeSongButton
from bot.ui.items.more import ROW_EXTENDS, MoreSelect
from bot.ui.items.song_buttons import EditButton, ExtendButton, InfoButton, RerollButton, take_letter
from bot.ui.song_files import MAX_TAKES, LyricsFile, lyrics_files

# A Components V2 message holds at most 4,000 characters of text; lyrics shown in a lyrics post stop here.
LYRICS_PREVIEW_LINES = 12
LYRICS_PREVIEW_CHARS = 1200
# The member's prompt and the style share one small line under the heading, cut here (both are whole in Info).
PROMPT_LINE_CHARS = 60
STYLE_LINE_CHARS = 60
# Why a take's MP3 is a link on a delivered post.
TOO_LARGE = "Too large to attach here: play it from the link."
Container = discord.ui.Container[discord.ui.LayoutView]


def cover_of(job: Job, *, asked_only: bool = False) -> str:
    """What a cover sings: `A cover of their file “demo.mp3”` (or `Carries on …` for an extension of it)."""
    file = job.params.get("file")
    what = "Carries on" if job.params.get("mode") == "extend" else "A cover of"
    said = f"{what} their file “{_plain(render.shorten(file, 100))}”" if isinstance(file, str) and file else (
        f"{what} their own recording")
    return f"Asked as: {said[0].lower()}{said[1:]}" if asked_only else said


def sung_by(persona: Persona | None, *, asked_only: bool = False) -> str:
    """Whose voice a persona song is in: `Sung by **Captain**, a persona by @alice` (mentioned, never pinged)."""
    if persona is None:
        said = "Sung by one of the server's personas"
    else:
        said = f"Sung by **{_plain(persona.name)}**, a persona by <@{persona.created_by}>"
    return f"Asked to be {said[0].lower()}{said[1:]}" if asked_only else said


@dataclass(frozen=True, slots=True)
class Lineage:
    """What a continuation or a whole song comes from, said in one small line."""

    parent_job_id: int
    take: int | None = None
    at: float | None = None
    title: str = ""  # the parent's (stems are named after it)

    def describe(self, kind: str) -> str:
        """`extends #12 take A from 1:00`, `the whole song of #12 take A`, or `stems of “Title”, take A`."""
        take = f" take {take_letter(self.take)}" if self.take else ""
        if kind == "stems" and self.title:
            return f"stems of “{_plain(render.shorten(self.title, 100))}”{',' if take else ''}{take}"
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
    job: Job, *, attached: Mapping[str, str], lyrics: Sequence[LyricsFile] = (), lineage: Lineage | None = None,
    note: str | None = None, likes: int = 0, credits: Sequence[int] | None = None, also: Collection[str] = (),
    linked: str | None = TOO_LARGE,
) -> discord.ui.LayoutView:
    """The post of a finished song job. `attached` maps clip id → the file name its MP3 is attached under; `lyrics`
    are the lyrics files attached with it (see lyrics_files); `note` is one more small line (e.g. why it came by
    DM); `likes` is the Like button's count; `credits` are the members a jam song is by (each mentioned once,
    instead of the requester); `also` the More menu's offers made on request (`enter`: a challenge is open);
    `linked` says why a take's MP3 is a link rather than a file (None: nothing to say, as on a /show repost)."""
    result = render.result_of(job)
    clips = result.complete_clips[:MAX_TAKES] if result is not None else ()
    container: Container = discord.ui.Container(accent_colour=render.COLOURS["ok"])
    heading = _heading(job, clips, result, lineage, credits, lyrics)
    if linked and any(clip.id not in attached for clip in clips):
        heading += f"\n-# {linked}"
    heading += f"\n-# {note}" if note else ""
    container.add_item(_with_cover(heading, clips))
    for take, clip in enumerate(clips, 1):
        line = _take(job, take, clip, clips, attached=clip.id in attached)
        if line:
            container.add_item(discord.ui.TextDisplay(line))
        filename = attached.get(clip.id)
        if filename is not None:
            container.add_item(discord.ui.File(f"attachment://{filename}"))
    for words in lyrics:
        container.add_item(discord.ui.File(f"attachment://{words.filename}"))
    container.add_item(discord.ui.ActionRow(*_actions(job, clips, likes)))
    if not lyrics and lyrics_files(job):
        also = [*also, "lyrics"]  # the post could not carry the lyrics: More hands them out
    container.add_item(discord.ui.ActionRow(MoreSelect.for_job(job, also=also)))
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
    heading = f"### 🎚️ {what[0].upper()}{what[1:]}\n<@{job.user_id}> · {len(stems)} tracks · song #{job.id}"
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
        f"### ✍️ {_plain(title)}\n<@{job.user_id}> · {render.model_label(job)} · song #{job.id}"
        + (f"\n-# {note}" if note else "")
    ))
    body = ">>> " + _plain(preview) if preview else "*(no lyrics came back)*"
    if cut:
        body += "\n-# …the rest under **More → Lyrics**."
    container.add_item(discord.ui.TextDisplay(body))
    container.add_item(discord.ui.ActionRow(MakeSongButton(job.id), EditLyricsSongButton(job.id)))
    container.add_item(discord.ui.ActionRow(MoreSelect.for_job(job, also=["lyrics"])))
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(container)
    return view


def failure_post(job: Job, *, note: str | None = None) -> discord.ui.LayoutView:
    """A failure told in the channel, for a job whose status card is gone: the reason, the prompt, Try again."""
    container: Container = discord.ui.Container(accent_colour=render.COLOURS["bad"])
    container.add_item(discord.ui.TextDisplay(failure_text(job, mention=True) + (f"\n-# {note}" if note else "")))
    again = RerollButton(job.id, label=render.retry_label(job))
    container.add_item(discord.ui.ActionRow(again, InfoButton(job.id)))
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(container)
    return view


def failure_headline(job: Job) -> str:
    """`your Suno v5 song #3 failed.` (or took too long, or could not be started, or may have started unseen)."""
    if may_have_started(job):
        return f"your {render.model_label(job)} song #{job.id} may have started, but I could not follow it."
    what = {"timed_out": "took too long, so I gave up on it", "submit_failed": "could not be started"}
    return f"your {render.model_label(job)} song #{job.id} {what.get(job.state, 'failed')}."


def failure_text(job: Job, *, mention: bool) -> str:
    """What went wrong, and what was asked (to try again)."""
    headline = f"❌ {'<@' + str(job.user_id) + '> ' if mention else ''}{failure_headline(job)}"
    reason = render.shorten(render.failure_reason(job), 500)
    charge = f"\n-# {render.MAY_HAVE_STARTED_NOTE}" if may_have_started(job) else ""
    prompt = render.shorten(render.prompt_of(job) or "(no prompt)", 1500)
    return f"{headline}\n-# {_plain(reason)}{charge}\n>>> {_plain(prompt)}"


def _heading(
    job: Job, clips: tuple[Clip, ...], result: TaskResult | None, lineage: Lineage | None,
    credits: Sequence[int] | None, lyrics: Sequence[LyricsFile],
) -> str:
    """The title, who and what made it, the member's prompt on one line, the style once; notes only when needed."""
    by = f"<@{job.user_id}>"
    if credits:
        by = "A jam by " + ", ".join(f"<@{user}>" for user in dict.fromkeys(credits))
    lines = [f"### 🎶 {_plain(render.shorten(title_of(job), 200))}",
             f"{by} · {render.model_label(job)} · song #{job.id}"]
    about = _about(job, clips, lyrics)
    if about:
        lines.append(f"-# {about}")
    ordinary = render.ordinary_note(job)
    if lineage is not None:
        lines.append(f"-# {'asked as ' if ordinary else ''}{lineage.describe(job.kind)}")
    if job.kind == "cover":
        lines.append(f"-# {cover_of(job, asked_only=ordinary is not None)}")
    if ordinary is not None:
        lines.append(f"-# {ordinary}")
    if job.late:
        lines.append("-# This finished after I gave up waiting for it (see the time-out note), so it comes late.")
    if result is not None and len(result.clips) > len(result.complete_clips):
        for take, clip in enumerate(result.clips, 1):
            if not clip.is_complete:
                reason = render.shorten(clip.error_message or f"{job.provider.capitalize()} gave no reason", 200)
                lines.append(f"-# Take {take_letter(take)} failed: {_plain(reason.rstrip('.'))}. Here is what worked.")
    return "\n".join(lines)


def _asked(job: Job) -> str:
    """What the member described (Suno's description, Udio's prompt); "" for songs from their own lyrics, whose
    words are in the lyrics file and whose style is the style line."""
    if job.kind == "cover":
        return ""  # its stored prompt is made up ("a cover of x.mp3"): the cover's own line says what it is
    for key in ("description", "prompt"):
        value = job.params.get(key)
        if isinstance(value, str) and value.strip() and value != job.params.get("lyrics"):
            return value.strip()
    return ""


def _about(job: Job, clips: tuple[Clip, ...], lyrics: Sequence[LyricsFile]) -> str:
    """One small line: the member's prompt, as typed (cut short), instrumental or not, the style when every take
    shares it, where the lyrics are if not here. Small print, so the post stays as tall as its cover."""
    asked = " ".join(_asked(job).split())
    parts = [f"“{_plain(render.shorten(asked, PROMPT_LINE_CHARS))}”"] if asked else []
    sung = any(clip.lyrics.strip() for clip in clips)
    if job.params.get("instrumental") is True or job.params.get("lyrics_type") == "instrumental":
        parts.append("Instrumental")
    elif clips and not sung:
        parts.append("Instrumental (no lyrics came back)")
    styles = {clip.tags.strip() for clip in clips}
    if len(styles) == 1 and (style := styles.pop()):
        parts.append(_plain(render.shorten(style, STYLE_LINE_CHARS)))
    if sung and not lyrics:
        parts.append("the lyrics are under **More**")
    return " · ".join(parts)


def _with_cover(heading: str, clips: tuple[Clip, ...]) -> discord.ui.Item[Any]:
    """The heading beside one cover for the song (the first take's; every take's full cover is under More)."""
    text: discord.ui.TextDisplay[discord.ui.LayoutView] = discord.ui.TextDisplay(heading)
    covers = [render.safe_url(clip.image_url) or render.safe_url(clip.image_large_url) for clip in clips]
    cover = next((url for url in covers if url), None)
    if cover is None:
        return text
    return discord.ui.Section(text, accessory=discord.ui.Thumbnail[discord.ui.LayoutView](cover, description="Cover"))


def _take(job: Job, take: int, clip: Clip, clips: tuple[Clip, ...], *, attached: bool) -> str | None:
    """What only this take needs said, above its player: its title and style when the takes differ; its length and a
    link when its MP3 is not attached. None when the file's name (`… - Take A.mp3`) says it all."""
    named = [f"**Take {take_letter(take)}**"]
    if not asked_title(job) and len({c.title for c in clips}) > 1:
        named.append(_plain(render.shorten(clip.title or "Untitled", 100)))
    style = _plain(render.shorten(clip.tags.strip(), 150)) if len({c.tags.strip() for c in clips}) > 1 else ""
    if attached:
        parts = named + ([style] if style else [])
        return "-# " + " · ".join(parts) if len(parts) > 1 else None
    named.append(f"⏱ {render.duration(clip.duration)}")
    audio = render.safe_url(clip.audio_url)
    if audio:
        named.append(f"[▶ Listen]({audio})")
    return " · ".join(named) + (f"\n-# {style}" if style else "")


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
