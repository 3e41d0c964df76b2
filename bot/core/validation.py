"""Turn what a member typed into a CometAPI request, or say precisely what is wrong. Pure: no I/O."""

from __future__ import annotations

from bot.cometapi import SunoMusicRequest, UdioRequest
from bot.cometapi.models import UdioLyricsType, description_with_style_and_title
from bot.core.catalog import (
    DEFAULT_UDIO_MODEL,
    MAX_LYRICS_PROMPT,
    MAX_SUNO_DESCRIPTION,
    MAX_TITLE,
    MAX_UDIO_LYRICS,
    MAX_UDIO_PROMPT,
    SUNO_MODELS,
    UDIO_MODELS,
    suno_model,
)


class InvalidInputError(Exception):
    """What the member typed cannot be submitted; the message is safe to show them as is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _text(field: str, value: str | None, *, limit: int, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInputError(field, f"The {field} is empty: write a few words, e.g. *a cheerful sea shanty*.")
    if len(text) > limit:
        raise InvalidInputError(field, f"The {field} is {len(text):,} characters long; the limit is {limit:,}.")
    return text


def suno_request(
    *,
    prompt: str | None = None,
    lyrics: str | None = None,
    model: str | None = None,
    instrumental: bool = False,
    style: str | None = None,
    title: str | None = None,
    negative_style: str | None = None,
) -> SunoMusicRequest:
    """Inspiration mode from a description, or custom mode when the member wrote their own lyrics."""
    chosen = suno_model(model)
    if chosen is None:
        names = ", ".join(m.name for m in SUNO_MODELS)
        raise InvalidInputError("model", f"Unknown Suno model `{model}`. Pick one of: {names}.")
    tags = _text("style", style, limit=chosen.max_tags)
    title_text = _text("title", title, limit=MAX_TITLE)
    negative = _text("excluded styles", negative_style, limit=chosen.max_tags)
    if lyrics is not None:  # the member chose to write lyrics: blank ones are an error, not a fallback
        words = _text("lyrics", lyrics, limit=chosen.max_lyrics, required=True)
        return SunoMusicRequest(
            mv=chosen.mv,
            lyrics=words,
            tags=tags or _text("description", prompt, limit=chosen.max_tags),
            title=title_text,
            negative_tags=negative,
            instrumental=instrumental,
        )
    description = _text("description", prompt, limit=MAX_SUNO_DESCRIPTION, required=True)
    # Description mode sends style and title inside the description (the relay drops them otherwise), so
    # together they must fit the description's limit.
    folded = len(description_with_style_and_title(description, tags, title_text))
    if folded > MAX_SUNO_DESCRIPTION:
        raise InvalidInputError(
            "style",
            f"With a description, Suno ignores style and title, so I add them to the description: together they "
            f"come to {folded:,} characters; the limit is {MAX_SUNO_DESCRIPTION:,}. Shorten them, or use "
            "`lyrics:True` to give your own lyrics with a separate style and title.",
        )
    return SunoMusicRequest(
        mv=chosen.mv, description=description, instrumental=instrumental, tags=tags, title=title_text
    )


def udio_request(
    *, prompt: str | None, model: str | None = None, lyrics: str | None = None, instrumental: bool = False
) -> UdioRequest:
    """A Udio generation: Udio writes the lyrics unless the member gave some or asked for none."""
    model_type = (model or DEFAULT_UDIO_MODEL).strip()
    if model_type not in UDIO_MODELS:
        raise InvalidInputError("model", f"Unknown Udio model `{model}`. Pick one of: {', '.join(UDIO_MODELS)}.")
    description = _text("description", prompt, limit=MAX_UDIO_PROMPT, required=True)
    words = _text("lyrics", lyrics, limit=MAX_UDIO_LYRICS, required=lyrics is not None)
    if instrumental and words:
        raise InvalidInputError("lyrics", "An instrumental cannot have lyrics: drop one of the two.")
    lyrics_type: UdioLyricsType = "instrumental" if instrumental else ("user" if words else "generate")
    return UdioRequest(prompt=description, model_type=model_type, lyrics=words, lyrics_type=lyrics_type)


def lyrics_prompt(prompt: str | None) -> str:
    """The theme for a Suno lyrics task."""
    return _text("theme", prompt, limit=MAX_LYRICS_PROMPT, required=True)


def parse_time(text: str) -> float:
    """Seconds from `m:ss` (or `h:mm:ss`, or plain seconds); InvalidInputError for anything else."""
    text = text.strip()
    try:
        parts = [float(part) for part in text.split(":")]
    except ValueError:
        raise InvalidInputError("continue_at", f"`{text}` is not a time: write it like 1:05.") from None
    if not 1 <= len(parts) <= 3 or any(part < 0 for part in parts) or any(part >= 60 for part in parts[1:]):
        raise InvalidInputError("continue_at", f"`{text}` is not a time: write it like 1:05.")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def clock_time(seconds: float) -> str:
    """`2:44` for 164.6 s (whole seconds, rounded down, so it never points past the end)."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def extend_request(
    parent: dict[str, object], *, clip_id: str, clip_title: str, clip_duration: float | None, task_id: str,
    continue_at: str, lyrics: str | None, style: str | None,
) -> SunoMusicRequest:
    """Continue `clip_id` (of task `task_id`) from `continue_at` seconds with optional lyrics and style."""
    chosen = suno_model(str(parent.get("mv") or "")) or suno_model(None)
    assert chosen is not None  # noqa: S101 - the default always exists
    at = parse_time(continue_at) if continue_at.strip() else (clip_duration or 0.0)
    if clip_duration is not None and clip_duration < at < clip_duration + 1:
        at = clip_duration  # the form shows whole seconds: the take's last second means "from the end"
    if at < 0 or (clip_duration is not None and at > clip_duration):
        end = clock_time(clip_duration) if clip_duration is not None else "the end"
        raise InvalidInputError("continue_at", f"Continue from a point between 0:00 and {end}.")
    return SunoMusicRequest(
        mv=chosen.mv,
        lyrics=_text("lyrics", lyrics, limit=chosen.max_lyrics),
        tags=_text("style", style, limit=chosen.max_tags),
        title=_text("title", clip_title, limit=MAX_TITLE),
        continue_clip_id=clip_id,
        continue_at=at,
        task_id=task_id,
    )
