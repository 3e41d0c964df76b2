"""Pure functions from jobs to what Discord shows: status cards, delivered songs, /status pages. No I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass

import discord

from bot.cometapi import Clip, TaskResult
from bot.core.admin import UsageReport
from bot.core.catalog import DEFAULT_SUNO_MODEL, DEFAULT_UDIO_MODEL, SUNO_MODELS, UDIO_MODELS
from bot.store import GuildSettings, Job

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELD_VALUE = 1024
EMBED_TOTAL = 6000
CONTENT = 2000
LINK_URL = 512

FOLDED_NOTE = "Suno's description mode ignores style and title, so I added them to the description."
COLOURS = {"ok": discord.Colour.green(), "busy": discord.Colour.blurple(), "bad": discord.Colour.red()}
STATE_LABELS = {
    "submitting": "⏳ Submitting",
    "queued": "🕒 Queued",
    "running": "🎶 Generating",
    "succeeded": "✅ Done",
    "failed": "❌ Failed",
    "timed_out": "⌛ Timed out",
    "submit_failed": "❌ Not started",
    "cancelled": "🚫 Cancelled",
}


# CometAPI has no cancel: say plainly what cancelling does and does not do.
CANCELLED_NOTE = "It will not be posted. CometAPI cannot stop it, so it still counts against your limits."


def state_label(job: Job) -> str:
    """`🎶 Generating`, `✅ Done`, …; a cancelled job reads cancelled even while CometAPI finishes it."""
    return STATE_LABELS["cancelled"] if job.cancelled else STATE_LABELS.get(job.state, job.state)


def shorten(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, marking the cut with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def prompt_of(job: Job) -> str:
    """What the member asked for, as they typed it."""
    params = job.params
    for key in ("description", "prompt", "lyrics"):
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def model_label(job: Job) -> str:
    """`Suno v5`, `Suno lyrics`, `Udio v1.5 (~32 s clip)`."""
    if job.provider == "udio":
        model_type = str(job.params.get("model_type", ""))
        return f"Udio ({UDIO_MODELS.get(model_type, model_type)})"
    if job.action == "LYRICS":
        return "Suno lyrics"
    mv = job.params.get("mv")
    name = next((m.name for m in SUNO_MODELS if m.mv == mv), str(mv or "?"))
    return f"Suno {name}"


def jump_url(guild_id: int | None, channel_id: int, message_id: int) -> str:
    """The link that opens a message in Discord."""
    return f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}"


def duration(seconds: float | None) -> str:
    """`2:44`, or `?` when unknown."""
    if seconds is None or seconds <= 0:
        return "?"
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"


def age(seconds: float) -> str:
    """A rough age: `42s`, `5 min`, `3 h`, `2 d`."""
    seconds = max(int(seconds), 0)
    if seconds < 90:
        return f"{seconds}s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} d"


def progress_bar(percent: int | None) -> str:
    """`▰▰▰▱▱▱▱▱▱▱ 30%`, or nothing when unknown."""
    if percent is None:
        return ""
    filled = max(0, min(10, round(percent / 10)))
    return "▰" * filled + "▱" * (10 - filled) + f" {percent}%"


def progress_line(job: Job) -> str:
    """A bar when CometAPI reports real progress, else how long the job has been generating.

    The relay says "0%" until "100%" (§8), and a bar stuck at 0 % is not progress. The card is edited only when
    something changes, which "0%" never does, so the time is a Discord timestamp the client keeps counting.
    """
    if job.progress is not None and 0 < job.progress < 100:
        return progress_bar(job.progress)
    return f"Generating, started <t:{int(job.submitted_at or job.created_at)}:R>"


def result_of(job: Job) -> TaskResult | None:
    """The job's stored CometAPI result, parsed, or None before there is one."""
    return TaskResult.from_dict(job.result) if job.result else None


def _safe_url(url: str) -> str | None:
    return url if url.startswith(("http://", "https://")) and len(url) <= LINK_URL else None


# ---- the status card: the public answer to the slash command, edited as the job moves ------------------------


def status_card(job: Job, *, delivered_url: str | None = None) -> discord.Embed:
    """The card that shows a job's state; mentions inside embeds never ping anyone."""
    label = state_label(job)
    colour = COLOURS["bad"] if job.state in {"failed", "timed_out", "submit_failed"} else COLOURS["busy"]
    if job.state == "succeeded":
        colour = COLOURS["ok"]
    embed = discord.Embed(title=f"{label} · {model_label(job)}", colour=colour)
    prompt = prompt_of(job)
    if prompt:
        embed.description = ">>> " + shorten(prompt, 400)
    embed.add_field(name="Asked by", value=f"<@{job.user_id}>")
    embed.add_field(name="Job", value=f"#{job.id}")
    notes = _card_notes(job)
    if notes:
        embed.add_field(name="Note", value=shorten("\n".join(notes), EMBED_FIELD_VALUE), inline=False)
    if job.state == "running":
        embed.add_field(name="Progress", value=progress_line(job), inline=False)
    result = result_of(job)
    if job.state == "running" and result is not None:
        streams = [clip for clip in result.clips if clip.is_streaming and _safe_url(clip.audio_url)]
        if streams:
            links = " · ".join(f"[take {i}]({clip.audio_url})" for i, clip in enumerate(streams, 1))
            embed.add_field(name="Listen while it is made", value=shorten(links, EMBED_FIELD_VALUE), inline=False)
    if job.cancelled:
        embed.add_field(name="Cancelled", value=CANCELLED_NOTE, inline=False)
    if job.error and job.state in {"failed", "timed_out", "submit_failed"}:
        embed.add_field(name="Why", value=shorten(job.error, EMBED_FIELD_VALUE), inline=False)
    if delivered_url:
        embed.add_field(name="Result", value=f"[Jump to the song]({delivered_url})", inline=False)
    return embed


def _card_notes(job: Job) -> list[str]:
    """What the member should know beyond the state: a folded style or title, a take that failed."""
    notes = [FOLDED_NOTE] if _folds_style_and_title(job) else []
    result = result_of(job) if job.state == "succeeded" else None
    if result is not None and result.clips and len(result.complete_clips) < len(result.clips):
        for index, clip in enumerate(result.clips, 1):
            if not clip.is_complete:
                notes.append(f"Take {index} failed: {clip.error_message or 'CometAPI gave no reason'}")
    return notes


def _folds_style_and_title(job: Job) -> bool:
    """A Suno description-mode job with a style or title, which were sent inside the description."""
    params = job.params
    described = bool(params.get("description")) and not params.get("continue_clip_id")
    return job.provider == "suno" and described and bool(params.get("tags") or params.get("title"))


# ---- the delivered message -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to post: text, embeds, and an optional lyrics text file; files of audio are added by the caller."""

    content: str
    embeds: list[discord.Embed]
    lyrics_file: tuple[str, str] | None = None


def delivery(job: Job, *, attached_audio: frozenset[str] = frozenset()) -> Outgoing:
    """The message for a finished job. `attached_audio` holds the clip ids whose MP3 is attached."""
    mention = f"<@{job.user_id}>"
    result = result_of(job)
    if job.state == "succeeded" and result is not None and result.lyrics is not None:
        return _lyrics_delivery(job, mention, result)
    clips = result.complete_clips if result is not None else ()
    if job.state != "succeeded" or not clips:
        return _failure(job, mention)
    return _songs(job, mention, clips, result, attached_audio)


def _failure(job: Job, mention: str) -> Outgoing:
    if job.state == "timed_out":
        headline = f"{mention} your {model_label(job)} job #{job.id} took too long, so I gave up on it."
    elif job.state == "submit_failed":
        headline = f"{mention} your {model_label(job)} job #{job.id} could not be started."
    else:
        headline = f"{mention} your {model_label(job)} job #{job.id} failed."
    embed = discord.Embed(title="Here is what you asked for, to try again", colour=COLOURS["bad"])
    embed.description = ">>> " + shorten(prompt_of(job) or "(no prompt)", 1500)
    embed.add_field(name="Why", value=shorten(job.error or "CometAPI gave no reason", EMBED_FIELD_VALUE), inline=False)
    return Outgoing(content=headline, embeds=[embed])


def _songs(
    job: Job, mention: str, clips: tuple[Clip, ...], result: TaskResult | None, attached: frozenset[str]
) -> Outgoing:
    embeds: list[discord.Embed] = []
    for index, clip in enumerate(clips, 1):
        embed = discord.Embed(title=shorten(clip.title or "Untitled", EMBED_TITLE), colour=COLOURS["ok"])
        if _safe_url(clip.audio_url):
            embed.url = clip.audio_url
        if clip.tags:
            embed.add_field(name="Style", value=shorten(clip.tags, EMBED_FIELD_VALUE), inline=False)
        embed.add_field(name="Model", value=model_label(job))
        embed.add_field(name="Duration", value=duration(clip.duration))
        cover = _safe_url(clip.image_large_url) or _safe_url(clip.image_url)
        if cover:
            embed.set_image(url=cover)
        embed.set_footer(text=f"Job #{job.id} · take {index} of {len(clips)}")
        embeds.append(embed)
    lyrics_file = _place_lyrics(embeds, clips)
    missing = [i for i, clip in enumerate(clips, 1) if clip.id not in attached]
    noun = "song is" if len(clips) == 1 else "songs are"
    content = f"{mention} your {noun} ready! 🎶"
    if job.late:
        content += "\n-# This finished after I gave up waiting for it (see the time-out note above), so it comes late."
    if missing:
        content += "\n-# Too large to attach here: play it with the Audio button" + ("s." if len(missing) > 1 else ".")
    if result is not None and len(result.clips) > len(clips):
        failed = len(result.clips) - len(clips)
        content += f"\n-# {failed} of the {len(result.clips)} takes failed; here is what worked."
    return Outgoing(content=content, embeds=embeds, lyrics_file=lyrics_file)


def _place_lyrics(embeds: list[discord.Embed], clips: tuple[Clip, ...]) -> tuple[str, str] | None:
    """Lyrics go in the embeds when they fit Discord's limits, else into one lyrics.txt."""
    unique: dict[str, int] = {}
    for index, clip in enumerate(clips):
        if clip.lyrics and clip.lyrics not in unique:
            unique[clip.lyrics] = index
    if not unique:
        return None
    used = sum(len(embed) for embed in embeds)
    if all(len(text) <= EMBED_DESCRIPTION for text in unique) and used + sum(map(len, unique)) <= EMBED_TOTAL:
        for text, index in unique.items():
            embeds[index].description = text
        return None
    embeds[0].description = "📝 The full lyrics are attached as `lyrics.txt`."
    body = "\n\n".join(f"{clips[index].title or 'Untitled'}\n\n{text}" for text, index in unique.items())
    return ("lyrics.txt", body)


def _lyrics_delivery(job: Job, mention: str, result: TaskResult) -> Outgoing:
    lyrics = result.lyrics
    assert lyrics is not None  # noqa: S101 - the caller checked
    embed = discord.Embed(title=shorten(lyrics.title or "Untitled", EMBED_TITLE), colour=COLOURS["ok"])
    embed.set_footer(text=f"Job #{job.id} · {model_label(job)} · press “Make it a song” to hear them")
    if len(lyrics.text) <= EMBED_DESCRIPTION:
        embed.description = lyrics.text
        return Outgoing(content=f"{mention} your lyrics are ready! ✍️", embeds=[embed])
    embed.description = "📝 The full lyrics are attached as `lyrics.txt`."
    return Outgoing(
        content=f"{mention} your lyrics are ready! ✍️", embeds=[embed], lyrics_file=("lyrics.txt", lyrics.text)
    )


# ---- the Info button --------------------------------------------------------------------------------------------


def info(job: Job) -> discord.Embed:
    """All there is to know about a job, for the Info button."""
    embed = discord.Embed(title=f"Job #{job.id} · {model_label(job)}", colour=COLOURS["busy"])
    params = json.dumps(job.params, ensure_ascii=False, indent=1)
    # A zero-width space inside any ``` keeps member text from closing the code block early. Escape first, then
    # cut: escaping adds characters, and the description must stay within Discord's 4,096.
    fence = "```json\n", "\n```"
    room = EMBED_DESCRIPTION - len(fence[0]) - len(fence[1])
    embed.description = fence[0] + shorten(params.replace("```", "`\u200b``"), room) + fence[1]
    embed.add_field(name="Asked by", value=f"<@{job.user_id}>")
    embed.add_field(name="Kind", value=job.kind)
    if job.parent_job_id:
        embed.add_field(name="Follows", value=f"job #{job.parent_job_id}")
    embed.add_field(name="CometAPI task", value=f"`{job.task_id or '-'}`", inline=False)
    result = result_of(job)
    if result is not None and result.clips:
        clips = "\n".join(f"take {i}: `{clip.id}` ({clip.status})" for i, clip in enumerate(result.clips, 1))
        embed.add_field(name="Clips", value=shorten(clips, 1024), inline=False)
    return embed


# ---- /history -----------------------------------------------------------------------------------------------------


def history(user_id: int, jobs: list[Job], *, page: int, pages: int, total: int) -> discord.Embed:
    """One page of a member's delivered songs, newest first, each with a jump link."""
    embed = discord.Embed(title="Songs", colour=COLOURS["busy"])
    embed.description = f"<@{user_id}>'s songs, newest first.\n\n"
    if not jobs:
        embed.description += "No songs yet."
    for job in jobs:
        result = result_of(job)
        titles = " / ".join(clip.title or "Untitled" for clip in (result.complete_clips if result else ()))
        url = jump_url(job.guild_id, job.delivered_channel_id or job.channel_id, job.delivered_message_id or 0)
        embed.description += f"**[{shorten(titles or 'Untitled', 80)}]({url})** · {model_label(job)} · job #{job.id}\n"
    embed.set_footer(text=f"Page {page + 1} of {pages} · {total} song(s)")
    return embed


# ---- /status -----------------------------------------------------------------------------------------------------


def status_list(jobs: list[Job], *, now: float) -> discord.Embed:
    """A member's recent jobs, one line each."""
    embed = discord.Embed(title="Your recent jobs", colour=COLOURS["busy"])
    if not jobs:
        embed.description = "You have no jobs yet. Try `/suno`, `/udio` or `/lyrics`."
        return embed
    lines = []
    for job in jobs:
        state = state_label(job)
        # "0%" says nothing (the relay's progress is flat until done)
        if job.state == "running" and not job.cancelled and job.progress:
            state += f" {job.progress}%"
        line = f"`#{job.id}` {model_label(job)} · {state} · {age(now - job.created_at)} ago"
        prompt = prompt_of(job)
        if prompt:
            line += f" · {discord.utils.escape_markdown(shorten(prompt.replace(chr(10), ' '), 40))}"
        if job.delivered_message_id and job.delivered_channel_id:
            line += f" · [song]({jump_url(job.guild_id, job.delivered_channel_id, job.delivered_message_id)})"
        lines.append(line)
    embed.description = shorten("\n".join(lines), EMBED_DESCRIPTION)
    embed.set_footer(text="/status job:<number> shows one job in detail")
    return embed


def status_detail(job: Job, *, now: float) -> discord.Embed:
    """Everything about one job."""
    url = None
    if job.delivered_message_id and job.delivered_channel_id:
        url = jump_url(job.guild_id, job.delivered_channel_id, job.delivered_message_id)
    embed = status_card(job, delivered_url=url)
    embed.add_field(name="Asked", value=f"{age(now - job.created_at)} ago")
    if job.task_id:
        embed.add_field(name="CometAPI task", value=f"`{job.task_id}`", inline=False)
    if job.delivery_error and job.delivery in {"delivered", "abandoned"}:
        embed.add_field(name="Delivery note", value=shorten(job.delivery_error, EMBED_FIELD_VALUE), inline=False)
    return embed


# ---- /chorus -----------------------------------------------------------------------------------------------------


def _limit(value: int, unit: str) -> str:
    return "no limit" if value == 0 else f"{value} {unit}"


def guild_settings(settings: GuildSettings) -> discord.Embed:
    """A guild's settings as an admin reads them."""
    embed = discord.Embed(title="Chorus settings for this server", colour=COLOURS["busy"])
    channels = ", ".join(f"<#{c}>" for c in sorted(settings.allowed_channels)) or "every channel"
    embed.add_field(name="Channels", value=channels, inline=False)
    role = f"<@&{settings.required_role_id}>" if settings.required_role_id else "anyone"
    embed.add_field(name="Who may generate", value=role, inline=False)
    on = {True: "on", False: "off"}
    suno = settings.default_suno_model or DEFAULT_SUNO_MODEL.name
    udio = settings.default_udio_model or DEFAULT_UDIO_MODEL
    embed.add_field(name="Suno", value=f"{on[settings.suno_enabled]} · default {suno}")
    embed.add_field(name="Udio", value=f"{on[settings.udio_enabled]} · default {udio}")
    embed.add_field(
        name="Limits",
        value=(
            f"Jobs at once per member: {_limit(settings.max_concurrent, 'jobs')}\n"
            f"Songs per member per day: {_limit(settings.daily_quota, 'songs')}\n"
            f"Songs per server per day: {_limit(settings.daily_budget, 'songs')}\n"
            f"Cooldown between jobs: {_limit(settings.cooldown_seconds, 's')}"
        ),
        inline=False,
    )
    embed.set_footer(text="Days reset at 00:00 UTC. Jobs CometAPI reports failed do not count; cancelled ones do.")
    return embed


def usage(report: UsageReport) -> discord.Embed:
    """/chorus usage: jobs per member and per provider, today and over 30 days."""
    embed = discord.Embed(title="Chorus usage on this server", colour=COLOURS["busy"])
    for name, period in (("Today (UTC)", report.today), ("Last 30 days", report.month)):
        providers = ", ".join(f"{p.capitalize()}: {n}" for p, n in sorted(period.by_provider.items())) or "none"
        members = "\n".join(f"<@{user}>: {n}" for user, n in list(period.by_member.items())[:15]) or "nobody yet"
        embed.add_field(name=f"{name}: {period.total} jobs", value=shorten(f"{providers}\n{members}", 1024),
                        inline=False)
    return embed
