"""Pure functions from jobs to what Discord shows: status cards, delivered songs, /status pages. No I/O."""

from __future__ import annotations

import math
import re

import discord

from bot.cometapi import Balance, TaskResult
from bot.core.admin import UsageReport
from bot.core.catalog import DEFAULT_SUNO_MODEL, DEFAULT_UDIO_MODEL, SUNO_MODELS, UDIO_MODELS, Prices
from bot.core.community.songs import title_of
from bot.core.jobs import ProgressHints, may_have_started
from bot.core.poller import TIMED_OUT_REASON, UNKNOWN_TASK_REASON, PollerConfig
from bot.core.specs import came_back_ordinary
from bot.core.wording import clause, plural, span
from bot.domain import FAILED_MID_SUBMIT, INTERRUPTED_SUBMIT, MAYBE_ACCEPTED, UNCONFIRMED, GuildSettings, Job

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
CANCELLED_NOTE = "It will not be posted. A song cannot be stopped once started, so it still counts against your limits."


# A submit that timed out, was cut off, was answered without a task id, or was interrupted by a crash: CometAPI may
# have accepted (and charged) it although the bot cannot follow it, so it must never read "Not started".
MAY_HAVE_STARTED_LABEL = "⚠️ May have started"
MAY_HAVE_STARTED_NOTE = ("This song may have started (and been charged for), but I cannot follow it. "
                         "Trying again is charged again.")
RETRY_CHARGED_LABEL = "Try again (charged again)"


def state_label(job: Job) -> str:
    """`🎶 Generating`, `✅ Done`, …; a cancelled job reads cancelled even while CometAPI finishes it."""
    if job.cancelled:
        return STATE_LABELS["cancelled"]
    if may_have_started(job):
        return MAY_HAVE_STARTED_LABEL
    return STATE_LABELS.get(job.state, job.state)


# What a member reads when a stems, cover or persona job came back reading as an ordinary song (the upstream ignored
# what was asked): it is posted as the song it is, with this word.
ORDINARY_NOTES = {
    "stems": "You asked for stems, but Suno sent back an ordinary song, not separated tracks: here it is as one.",
    "cover": "Suno's answer does not say this is a cover of your audio: it may be an ordinary song.",
    "upload_extend": "Suno's answer does not say this continues your audio: it may be an ordinary song.",
    "persona": "Suno's answer does not say the persona sang this: it may be an ordinary song in another voice.",
}


def ordinary_note(job: Job) -> str | None:
    """Why a stems, cover or persona job's post is an ordinary song's, when its result reads as one; else None."""
    result = result_of(job)
    asked = came_back_ordinary(job, result) if result is not None else None
    return ORDINARY_NOTES[asked] if asked is not None else None


def retry_label(job: Job) -> str:
    """The Try again button of a failure: it says so when the first try may have been charged already."""
    return RETRY_CHARGED_LABEL if may_have_started(job) else "Try again"


# Words Suno's and Udio's refusals of a request's own content use (moderation, a named artist, copyrighted lyrics):
# asked again unchanged, such a song fails the same way, so its failure offers Edit rather than Try again.
CONTENT_REFUSAL = re.compile(
    r"moderat|flagged|inappropriate|polic(y|ies)|violat|copyright|artist name|sensitive|prohibited|banned",
    re.IGNORECASE,
)


def refused_for_its_words(job: Job) -> bool:
    """A failure CometAPI gave for what was asked (its words), not for a hiccup a second try may get past."""
    return job.state != "timed_out" and not may_have_started(job) and bool(CONTENT_REFUSAL.search(job.error or ""))


def failure_reason(job: Job) -> str:
    """Why a song failed, as its member reads it: Suno's (or Udio's) own words, or what the bot's reason means for
    their song. The bot's own reasons name its plumbing (CometAPI, tasks, jobs): they stay in the logs and in Info's
    small print (`technical_reason`)."""
    name = provider_name(job)
    said = (job.error or "").strip()
    meant = {
        TIMED_OUT_REASON: f"{name} did not finish this song in time. If it still finishes within "
                          f"{span(PollerConfig().late_grace)}, I post it here then.",
        UNKNOWN_TASK_REASON: f"{name} has no record of this song, so nothing will come of it.",
        MAYBE_ACCEPTED: f"{name} did not confirm in time that it had started this song.",
        UNCONFIRMED: f"{name} answered in a way I could not read, so I cannot follow this song.",
        FAILED_MID_SUBMIT: "Something went wrong on my side while I was starting this song.",
        INTERRUPTED_SUBMIT: "I restarted while I was starting this song.",
    }
    return meant.get(said) or said or f"{name} gave no reason"


def technical_reason(job: Job) -> str | None:
    """The bot's own reason for a failure, when members are told it in other words (for Info's small print)."""
    said = (job.error or "").strip()
    return said if said and failure_reason(job) != said else None


def code_safe(text: str) -> str:
    """Member text that can sit in a ``` block without closing it: no two backticks stay side by side."""
    return text.replace("`", "`\u200b")


def file_stem(title: str, fallback: str = "song") -> str:
    """A title as a file name: letters, digits, spaces, dashes and underscores, at most 60 characters."""
    return re.sub(r"[^\w\- ]+", "", title).strip()[:60] or fallback


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
    """`Suno v5`, `Suno lyrics`, `Suno stems`, `Udio v1.5, ~32 s clip`: never a bare `?` or the provider twice."""
    if job.provider == "udio":
        model_type = str(job.params.get("model_type", ""))
        return UDIO_MODELS.get(model_type, "Udio")
    if job.action == "LYRICS":
        return "Suno lyrics"
    if job.kind == "stems":
        return "Suno stems"  # a separation names no model
    mv = job.params.get("mv")
    name = next((m.name for m in SUNO_MODELS if m.mv == mv), None)
    return f"Suno {name}" if name else "Suno"


def provider_name(job: Job) -> str:
    """`Suno` or `Udio`: who makes the song, as members know it (CometAPI is only how the bot reaches them)."""
    return "Udio" if job.provider == "udio" else "Suno"


def song_number(job_id: int) -> str:
    """`song #12`: how members name a song (never "job #12")."""
    return f"song #{job_id}"


# What kind of song a job is, in the words Info uses (the stored kind is the engine's word).
KIND_WORDS = {
    "inspiration": "a song from a description",
    "custom": "a song from lyrics",
    "generate": "a song",
    "extend": "an extension",
    "concat": "a whole song",
    "stems": "stems",
    "cover": "a cover",
    "lyrics": "lyrics",
}


def kind_words(job: Job) -> str:
    """What the job made, in words: `a song from a description`, `an extension`, `lyrics`."""
    if job.action == "LYRICS":
        return "lyrics"
    if job.kind == "cover" and job.params.get("mode") == "extend":
        return "an extension of your audio"
    return KIND_WORDS.get(job.kind, "a song")


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


def safe_url(url: str) -> str | None:
    """The URL when it is a web link Discord will accept, else None."""
    return url if url.startswith(("http://", "https://")) and len(url) <= LINK_URL else None


# ---- the status card: the public answer to the slash command, edited as the job moves ------------------------


def status_card(job: Job, *, hints: ProgressHints | None = None) -> discord.Embed:
    """The compact card that shows a job's state while it is made; mentions inside embeds never ping anyone."""
    colour = COLOURS["bad"] if job.state in {"failed", "timed_out", "submit_failed"} else COLOURS["busy"]
    if job.state == "succeeded":
        colour = COLOURS["ok"]
    embed = discord.Embed(title=f"{state_label(job)} · {model_label(job)}", colour=colour)
    lines = [f"<@{job.user_id}> · {song_number(job.id)}"]
    if job.state in {"queued", "running"} and not job.cancelled:
        lines.append(progress_text(job, hints))
    result = result_of(job)
    if job.state == "running" and result is not None and not job.cancelled:
        streams = [clip for clip in result.clips if clip.is_streaming and safe_url(clip.audio_url)]
        if streams:
            lines.append("🎧 Listen while it is made: " + " · ".join(
                f"[take {chr(ord('A') + i)}]({clip.audio_url})" for i, clip in enumerate(streams)
            ))
    lines += [f"-# {note}" for note in _card_notes(job)]
    if job.cancelled:
        lines.append(f"-# 🚫 {CANCELLED_NOTE}")
    if job.error and job.state in {"failed", "timed_out", "submit_failed"}:
        lines.append(f"**Why:** {discord.utils.escape_markdown(shorten(failure_reason(job), 500))}")
    prompt = prompt_of(job)
    if prompt:
        lines.append(">>> " + discord.utils.escape_markdown(shorten(prompt, 600)))  # last: >>> quotes the rest
    embed.description = shorten("\n".join(lines), EMBED_DESCRIPTION)
    return embed


def progress_text(job: Job, hints: ProgressHints | None) -> str:
    """What the wait looks like: the place in line while Suno (or Udio) has not started, then elapsed time (or a real
    bar) with an estimate from recent songs of the same model."""
    typical = hints.typical_seconds if hints else None
    if job.state == "queued":
        line = f"🕒 Waiting for {provider_name(job)}"
        if hints and hints.queue_position and hints.queue_position > 1:
            line += f" · {_ordinal(hints.queue_position)} in line"
        if typical:
            line += f" · songs like this take about {duration(typical)}"
        return line
    line = "⏳ " + progress_line(job)
    if typical:
        started = job.submitted_at or job.created_at
        line += f" · usually {duration(typical)}, so ready <t:{int(started + typical)}:R>"
    return line


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _card_notes(job: Job) -> list[str]:
    """What the member should know beyond the state: a folded style or title, a take that failed, a charge that
    may have happened."""
    notes = [FOLDED_NOTE] if folds_style_and_title(job) else []
    if may_have_started(job):
        notes.append(MAY_HAVE_STARTED_NOTE)
    if job.kind == "cover":
        notes.append("Suno is taking your audio first; then it sings the new version." if job.params.get("stage")
                     == "upload" else "Suno has your audio and is making the new version.")
    result = result_of(job) if job.state == "succeeded" else None
    if result is not None and result.clips and len(result.complete_clips) < len(result.clips):
        for index, clip in enumerate(result.clips):
            if not clip.is_complete:
                reason = clause(clip.error_message or f"{provider_name(job)} gave no reason")
                notes.append(f"Take {chr(ord('A') + index)} failed: {reason}.")
    return notes


def folds_style_and_title(job: Job) -> bool:
    """A Suno description-mode job with a style or title, which were sent inside the description."""
    params = job.params
    described = bool(params.get("description")) and not params.get("continue_clip_id")
    return job.provider == "suno" and described and bool(params.get("tags") or params.get("title"))


# ---- the Info button --------------------------------------------------------------------------------------------


def info(job: Job) -> discord.Embed:
    """All there is to know about a job, readable: prompt, style, model, lengths, a command to copy; ids small."""
    params = job.params
    embed = discord.Embed(title=f"Song #{job.id} · {model_label(job)}", colour=COLOURS["busy"])
    of = f" of {song_number(job.parent_job_id)}" if job.parent_job_id else ""
    lines = [f"**Asked by** <@{job.user_id}> · {kind_words(job)}{of}"]
    for label, key in (("Description", "description"), ("Prompt", "prompt"), ("Style", "tags"), ("Title", "title"),
                       ("Avoid", "negative_tags")):
        value = params.get(key)
        if isinstance(value, str) and value.strip() and not (key == "prompt" and params.get("lyrics") == value):
            lines.append(f"**{label}:** {discord.utils.escape_markdown(shorten(value, 300))}")
    if params.get("instrumental") or params.get("lyrics_type") == "instrumental":
        lines.append("**Instrumental** (no vocals)")
    words = params.get("lyrics") or (params.get("prompt") if params.get("continue_clip_id") else None)
    if isinstance(words, str) and words.strip():
        lines.append(f"**Lyrics:** {len(words.splitlines())} lines (More → Lyrics shows them)")
    result = result_of(job)
    if result is not None and result.clips:
        takes = [f"take {chr(ord('A') + i)} {duration(clip.duration)}" + ("" if clip.is_complete else " (failed)")
                 for i, clip in enumerate(result.clips)]
        lines.append("**Takes:** " + ", ".join(takes))
        # The post shows the title the member typed; the one the model gave is told here.
        named = list(dict.fromkeys(clip.title for clip in result.complete_clips if clip.title))
        if params.get("title") and named and named != [params["title"]]:
            called = discord.utils.escape_markdown(shorten(" / ".join(named), 200))
            lines.append(f"**{provider_name(job)} called it:** {called}")
    if folds_style_and_title(job):
        lines.append(f"-# {FOLDED_NOTE}")  # said on the card too; never on the public post
    command = copy_command(job)
    if command:
        lines.append("**Make it again:**\n```\n" + code_safe(command) + "\n```")
    clip_ids = ", ".join(clip.id for clip in result.clips) if result is not None else "-"
    # The ids (and the bot's own reason for a failure) are for admins and bug reports: small print, and only here.
    lines.append(f"-# {provider_name(job)} task {job.task_id or '-'} · clips {clip_ids}")
    technical = technical_reason(job)
    if technical:
        lines.append(f"-# {discord.utils.escape_markdown(shorten(technical, 300))}")
    embed.description = shorten("\n".join(lines), EMBED_DESCRIPTION)
    return embed


def copy_command(job: Job) -> str | None:
    """A slash command that asks for the same song, to copy into the message box (None for follow-ups)."""
    params = job.params
    if job.action == "LYRICS":
        return f"/lyrics prompt:{params.get('prompt', '')}"
    if job.kind in {"extend", "concat", "cover", "stems"}:
        return None
    if job.provider == "udio":
        parts = [f"/udio prompt:{params.get('prompt', '')}", f"model:{params.get('model_type', '')}"]
        if params.get("lyrics_type") == "instrumental":
            parts.append("instrumental:True")
        return " ".join(parts)
    name = next((m.name for m in SUNO_MODELS if m.mv == params.get("mv")), None)
    parts = [f"/suno prompt:{params.get('description') or params.get('tags') or ''}"]
    if params.get("description") and params.get("tags"):
        parts.append(f"style:{params['tags']}")
    if params.get("title"):
        parts.append(f"title:{params['title']}")
    if name:
        parts.append(f"model:{name}")
    if params.get("instrumental"):
        parts.append("instrumental:True")
    if params.get("lyrics"):
        parts.append("lyrics:True")
    return " ".join(parts)


# ---- /history -----------------------------------------------------------------------------------------------------


def history(user_id: int, jobs: list[Job], *, page: int, pages: int, total: int) -> discord.Embed:
    """One page of a member's delivered songs, newest first, each with a jump link."""
    embed = discord.Embed(title="Songs", colour=COLOURS["busy"])
    embed.description = f"<@{user_id}>'s songs, newest first.\n\n"
    if not jobs:
        embed.description += "No songs yet."
    for job in jobs:
        titles = title_of(job)  # the title the member typed, else the model's (once when the takes share it)
        url = jump_url(job.guild_id, job.delivered_channel_id or job.channel_id, job.delivered_message_id or 0)
        embed.description += f"**[{shorten(titles, 80)}]({url})** · {model_label(job)} · {song_number(job.id)}\n"
    embed.set_footer(text=f"Page {page + 1} of {pages} · {plural(total, 'song')}")
    return embed


# ---- /status -----------------------------------------------------------------------------------------------------


def status_list(jobs: list[Job], *, now: float) -> discord.Embed:
    """A member's recent songs (and lyrics), one line each."""
    embed = discord.Embed(title="Your recent songs", colour=COLOURS["busy"])
    if not jobs:
        embed.description = "You have no songs yet. Try `/suno`, `/udio` or `/lyrics`."
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
    embed.set_footer(text="/status job:<number> shows one song in detail")
    return embed


def status_detail(job: Job, *, now: float) -> discord.Embed:
    """Everything about one job."""
    url = None
    if job.delivered_message_id and job.delivered_channel_id:
        url = jump_url(job.guild_id, job.delivered_channel_id, job.delivered_message_id)
    embed = status_card(job)
    if url:
        embed.add_field(name="Song", value=f"[Jump to it]({url})", inline=False)
    embed.add_field(name="Asked", value=f"{age(now - job.created_at)} ago")
    if job.delivery_error and job.delivery in {"delivered", "abandoned"}:
        embed.add_field(name="Delivery note", value=shorten(job.delivery_error, EMBED_FIELD_VALUE), inline=False)
    return embed


# ---- /chorus -----------------------------------------------------------------------------------------------------


def _limit(value: int, noun: str) -> str:
    return "no limit" if value == 0 else plural(value, noun)


# Each limit as an admin reads it in one phrase (what `/chorus limits` answers): (phrase when set, phrase when 0).
LIMIT_PHRASES = {
    "max_concurrent": ("{} at once per member", "no limit on songs at once per member"),
    "daily_quota": ("{} a day per member", "no daily limit per member"),
    "daily_budget": ("{} a day for the server", "no daily limit for the server"),
    "cooldown_seconds": ("{} between a member's songs", "no cooldown"),
}


def limit_phrase(name: str, value: int) -> str:
    """One limit in words: `5 songs a day per member`, `10 minutes between a member's songs`, `no cooldown`."""
    when_set, when_off = LIMIT_PHRASES[name]
    if value == 0:
        return when_off
    return when_set.format(span(value) if name == "cooldown_seconds" else plural(value, "song"))


def guild_settings(settings: GuildSettings, *, voice_missing: str | None = None) -> discord.Embed:
    """A guild's settings as an admin reads them (`voice_missing`: why this bot's host cannot play in voice)."""
    embed = discord.Embed(title="Chorus settings for this server", colour=COLOURS["busy"])
    channels = ", ".join(f"<#{c}>" for c in sorted(settings.allowed_channels)) or "every channel"
    embed.add_field(name="Channels", value=channels, inline=False)
    role = f"<@&{settings.required_role_id}>" if settings.required_role_id else "anyone"
    embed.add_field(name="Who may generate", value=role, inline=False)
    on = {True: "on", False: "off"}
    suno = f"Suno {settings.default_suno_model or DEFAULT_SUNO_MODEL.name}"
    udio = UDIO_MODELS.get(settings.default_udio_model or DEFAULT_UDIO_MODEL, settings.default_udio_model or "?")
    embed.add_field(name="Suno", value=f"{on[settings.suno_enabled]} · default {suno}")
    embed.add_field(name="Udio", value=f"{on[settings.udio_enabled]} · default {udio}")
    featured = f"<#{settings.song_of_day_channel_id}>" if settings.song_of_day_channel_id else "off"
    embed.add_field(name="Song of the day", value=featured)
    embed.add_field(name="Battles take votes for", value=span(settings.battle_minutes * 60))
    voice = on[settings.voice_enabled] + (f" · {voice_missing}" if settings.voice_enabled and voice_missing else "")
    embed.add_field(name="Voice (/listen)", value=voice)
    cooldown = span(settings.cooldown_seconds) if settings.cooldown_seconds else "none"
    embed.add_field(
        name="Limits",
        value=(
            f"Songs at once per member: {_limit(settings.max_concurrent, 'song')}\n"
            f"Songs per member per day: {_limit(settings.daily_quota, 'song')}\n"
            f"Songs per server per day: {_limit(settings.daily_budget, 'song')}\n"
            f"Cooldown between songs: {cooldown}"
        ),
        inline=False,
    )
    embed.set_footer(text="Days reset at 00:00 UTC. Songs that fail do not count; cancelled ones do.")
    return embed


def key_limit(balance: Balance) -> str | None:
    """What the bot's key may spend by its own limit, in words ("unlimited" for an unlimited key); None if unknown."""
    if balance.key_unlimited:
        return "The bot's key is unlimited: the account's balance is what it can spend."
    if balance.key_remaining is not None:
        return f"The bot's key may spend ${balance.key_remaining:,.2f} more (its own limit)."
    return None


def songs_left(balance: Balance, prices: Prices) -> str | None:
    """Roughly how many songs what is left pays for, at the configured price (None when songs are priced 0)."""
    if prices.song <= 0:
        return None
    # Divided, not floor-divided: 2.0 // 0.1 is 19.0 in binary floating point; the tiny nudge keeps 20 songs 20.
    songs = math.floor(max(balance.spendable, 0.0) / prices.song + 1e-9)
    return f"That is about {plural(songs, 'song')} at ${prices.song:,.2f} a song."


def price_note(prices: Prices) -> str:
    """The small print under credit figures: prices are estimates, and what costs an unknown amount."""
    return (f"Estimates at ${prices.song:,.2f} a song and ${prices.lyrics:,.2f} for lyrics: CometAPI publishes no "
            "prices for these routes. Take tools (WAV, video, synced lyrics, MIDI, style suggestions, personas, "
            "uploads) may be charged too; their price is not known.")


def balance(balance: Balance, settings: GuildSettings, prices: Prices) -> discord.Embed:
    """/chorus balance: what is left on CometAPI, and the alert this server set."""
    embed = discord.Embed(title="CometAPI balance", colour=COLOURS["busy"])
    lines = [f"**${balance.account:,.2f}** left on the account (${balance.used:,.2f} used so far)."]
    lines.extend(line for line in (key_limit(balance), songs_left(balance, prices)) if line)
    if settings.alert_channel_id and settings.credit_alert_below is not None:
        lines.append(f"Admins are warned in <#{settings.alert_channel_id}> below ${settings.credit_alert_below:,.2f}.")
    else:
        lines.append("No alert is set: `/chorus credit-alert` warns admins before songs stop.")
    embed.description = "\n".join(lines)
    embed.set_footer(text=price_note(prices))
    return embed


def _made(songs: int, lyrics: int) -> str:
    """`3 songs`, or `3 songs, 1 lyrics` when lyrics were written too."""
    return plural(songs, "song") + (f", {plural(lyrics, 'lyrics')}" if lyrics else "")


def usage(report: UsageReport, prices: Prices) -> discord.Embed:
    """/chorus usage: songs per member and per provider, today and over 30 days, in dollars like /chorus balance."""
    embed = discord.Embed(title="Chorus usage on this server", colour=COLOURS["busy"])
    for name, period in (("Today (UTC)", report.today), ("Last 30 days", report.month)):
        providers = ", ".join(f"{p.capitalize()}: {n}" for p, n in sorted(period.by_provider.items())) or "none"
        members = "\n".join(
            f"<@{user}>: {_made(use.songs, use.lyrics)}"
            + (f", {use.failed} failed" if use.failed else "") + f" · ≈${use.usd:,.2f}"
            for user, use in list(period.by_member.items())[:15]
        ) or "nobody yet"
        heading = f"{name}: {_made(period.songs, period.lyrics)} · {period.failed} failed · ≈${period.usd:,.2f}"
        embed.add_field(name=heading, value=shorten(f"{providers}\n{members}", 1024), inline=False)
    embed.set_footer(text=f"{price_note(prices)} Songs that fail are refunded and not counted.")
    return embed
