"""Forms (modals) for what slash options cannot hold: lyrics need line breaks, and follow-ups need several fields.

Every form is a ChorusForm, whose failures go down the one error path: a form validates what was typed and
raises InvalidInputError, which the member reads privately; anything unexpected gets the short apology.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Container, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.cometapi import Clip, SunoMusicRequest
from bot.core.catalog import DEFAULT_SUNO_MODEL, DEFAULT_UDIO_MODEL, SUNO_MODELS, UDIO_MODELS, suno_model
from bot.core.specs import JobSpec, LyricsSpec, UdioSongSpec, music_spec
from bot.core.validation import clock_time, extend_request, lyrics_prompt, suno_request, udio_request
from bot.domain import Job
from bot.ui.error_handler import answer_error
from bot.ui.replies import Refusal, safe_reply

# Discord caps a text input at 4,000 characters.
MAX_TEXT_INPUT = 4000


class ChorusForm(discord.ui.Modal):
    """Base of every Chorus form: it belongs to the member it was opened for, lives 15 minutes, and fails
    down the one error path.

    discord.py routes a submitted form by its custom_id alone, so each opening gets its own
    (`chorus:form:<name>:<the opening interaction's id>`): two members' open forms never cross, and a form is
    only ever submitted by the member it was opened for.
    """

    def __init__(self, opener: discord.Interaction, *, title: str, name: str) -> None:
        super().__init__(title=title, timeout=15 * 60, custom_id=f"chorus:form:{name}:{opener.id}")
        self.owner_id = opener.user.id

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Only the member the form was opened for may submit it (the refusal is answered by on_error)."""
        if interaction.user.id != self.owner_id:
            raise Refusal(f"This form belongs to <@{self.owner_id}>. Open your own from the message's buttons.")
        return True

    async def on_error(  # type: ignore[override]  # Modal calls it without the item that View passes
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        """Answer once (a sentence for bad input, an apology otherwise) and log."""
        await answer_error(interaction, error, what=f"form {self.custom_id}")


@dataclass(frozen=True, slots=True)
class LyricsFormValues:
    """What the member wrote in the lyrics form."""

    lyrics: str
    style: str
    title: str


class LyricsForm(ChorusForm):
    """Own lyrics plus style and title; `on_done` validates and submits (raising InvalidInputError if bad)."""

    def __init__(
        self,
        opener: discord.Interaction,
        *,
        heading: str,
        style: str,
        title: str,
        max_lyrics: int,
        on_done: Callable[[discord.Interaction, LyricsFormValues], Awaitable[None]],
        lyrics: str = "",
    ) -> None:
        super().__init__(opener, title=heading, name="lyrics")
        self._on_done = on_done
        self.lyrics: discord.ui.TextInput[LyricsForm] = discord.ui.TextInput(
            label="Lyrics",
            custom_id="lyrics",
            style=discord.TextStyle.paragraph,
            placeholder="[Verse]\nYour words here…\n\n[Chorus]\n…",
            default=lyrics[:MAX_TEXT_INPUT] or None,
            max_length=min(max_lyrics, MAX_TEXT_INPUT),
        )
        self.style: discord.ui.TextInput[LyricsForm] = discord.ui.TextInput(
            label="Style",
            custom_id="style",
            default=style[:200] or None,
            required=False,
            max_length=200,
            placeholder="e.g. indie folk",
        )
        self.song_title: discord.ui.TextInput[LyricsForm] = discord.ui.TextInput(
            label="Title", custom_id="title", default=title[:80] or None, required=False, max_length=80
        )
        for item in (self.lyrics, self.style, self.song_title):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        """Hand what was typed on; bad input raises and is answered by on_error."""
        await self._on_done(interaction, LyricsFormValues(self.lyrics.value, self.style.value, self.song_title.value))


class ExtendForm(ChorusForm):
    """Where to continue a take from, and optional lyrics and style for the continuation."""

    def __init__(
        self,
        opener: discord.Interaction,
        parent_params: dict[str, Any],
        clip: Clip,
        task_id: str,
        *,
        on_done: Callable[[discord.Interaction, SunoMusicRequest], Awaitable[None]],
    ) -> None:
        super().__init__(opener, title=f"Extend “{(clip.title or 'this take')[:30]}”", name="extend")
        self._parent, self._clip, self._task_id, self._on_done = parent_params, clip, task_id, on_done
        end = clock_time(clip.duration) if clip.duration else ""
        self.at: discord.ui.TextInput[ExtendForm] = discord.ui.TextInput(
            label="Continue from (m:ss)", custom_id="continue_at", default=end or None, required=False,
            max_length=8, placeholder=f"0:00 to {end or 'the end'}; empty: from the end",
        )
        self.lyrics: discord.ui.TextInput[ExtendForm] = discord.ui.TextInput(
            label="Lyrics for the continuation", custom_id="lyrics", style=discord.TextStyle.paragraph,
            required=False, max_length=MAX_TEXT_INPUT,
        )
        self.style: discord.ui.TextInput[ExtendForm] = discord.ui.TextInput(
            label="Style", custom_id="style", default=clip.tags[:200] or None, required=False, max_length=200,
        )
        for item in (self.at, self.lyrics, self.style):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        """Validate the continuation and hand it on."""
        request = extend_request(
            self._parent, clip_id=self._clip.id, clip_title=self._clip.title, clip_duration=self._clip.duration,
            task_id=self._task_id, continue_at=self.at.value, lyrics=self.lyrics.value, style=self.style.value,
        )
        await self._on_done(interaction, request)


class EditForm(ChorusForm):
    """The original request, prefilled, to change and run again."""

    def __init__(
        self, opener: discord.Interaction, job: Job, *,
        on_done: Callable[[discord.Interaction, JobSpec], Awaitable[None]],
    ) -> None:
        super().__init__(opener, title=f"Edit song #{job.id} and run it again", name="edit")
        self._job, self._on_done = job, on_done
        params = job.params
        self.fields: dict[str, discord.ui.TextInput[EditForm]] = {}
        self.model: discord.ui.Select[EditForm] | None = None
        if job.action == "LYRICS":
            self._add("prompt", "Theme", params.get("prompt"), paragraph=False)
        elif job.provider == "udio":
            self._add("prompt", "Description or style", params.get("prompt"), paragraph=True)
            self._add("lyrics", "Lyrics (empty: Udio writes them)", params.get("lyrics"), paragraph=True)
            current = (str(params.get("model_type") or DEFAULT_UDIO_MODEL), params.get("lyrics_type") == "instrumental")
            self._add_model([(value, label) for value, label in UDIO_MODELS.items()], current)
        else:
            self._add("description", "Description (empty: use the lyrics below)", params.get("description"),
                      paragraph=True)
            self._add("lyrics", "Lyrics", params.get("lyrics"), paragraph=True)
            self._add("style", "Style", params.get("tags"), paragraph=False)
            self._add("title", "Title", params.get("title"), paragraph=False)
            current = (_model_name(params.get("mv")) or DEFAULT_SUNO_MODEL.name, bool(params.get("instrumental")))
            self._add_model([(m.name, f"Suno {m.name}") for m in SUNO_MODELS], current)

    def _add_model(self, models: list[tuple[str, str]], current: tuple[str, bool]) -> None:
        """A model list (each with and without vocals) instead of free text: a form can hold a select in a label."""
        options = [
            discord.SelectOption(label=f"{label}" + (" · instrumental" if bare else ""), value=f"{value}|{int(bare)}",
                                 default=(value, bare) == current)
            for value, label in models for bare in (False, True)
        ]
        self.model = discord.ui.Select(custom_id="model", options=options, min_values=1, max_values=1)
        self.add_item(discord.ui.Label(text="Model", component=self.model))

    def _add(self, key: str, label: str, value: object, *, paragraph: bool) -> None:
        text = str(value or "")[:MAX_TEXT_INPUT]
        field = discord.ui.TextInput[EditForm](
            label=label[:45], custom_id=key, default=text or None, required=False, max_length=MAX_TEXT_INPUT,
            style=discord.TextStyle.paragraph if paragraph else discord.TextStyle.short,
        )
        self.fields[key] = field
        self.add_item(field)

    def _value(self, key: str) -> str:
        field = self.fields.get(key)
        return field.value.strip() if field is not None else ""

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        """Validate the edited request and hand it on as a typed spec."""
        job = self._job
        picked = self.model.values[0] if self.model is not None and self.model.values else ""
        model_text, _, bare = picked.partition("|")
        model, instrumental = model_text or None, bare == "1"
        spec: JobSpec
        if job.action == "LYRICS":
            spec = LyricsSpec(lyrics_prompt(self._value("prompt")))
        elif job.provider == "udio":
            words = self._value("lyrics")
            spec = UdioSongSpec(udio_request(
                prompt=self._value("prompt"), model=model, lyrics=words or None,
                instrumental=instrumental and not words,
            ))
        else:
            description, words = self._value("description"), self._value("lyrics")
            spec = music_spec(suno_request(
                prompt=description or self._value("style"), lyrics=None if description else words,
                model=model, instrumental=instrumental, style=self._value("style"),
                title=self._value("title"),
            ))
        await self._on_done(interaction, spec)


def _model_name(mv: object) -> str:
    found = suno_model(str(mv)) if mv else None
    return found.name if found else ""


@dataclass(frozen=True, slots=True)
class SongFromTextValues:
    """What the member made of a message's text: a description, or lyrics (with style and title)."""

    description: str
    lyrics: str
    style: str
    title: str


class SongFromTextForm(ChorusForm):
    """For the "Make it a song" context menu: the message's text as description or lyrics, editable."""

    def __init__(
        self, opener: discord.Interaction, *, description: str, lyrics: str,
        on_done: Callable[[discord.Interaction, SongFromTextValues], Awaitable[None]],
    ) -> None:
        super().__init__(opener, title="Make it a song", name="from-text")
        self._on_done = on_done
        self.description: discord.ui.TextInput[SongFromTextForm] = discord.ui.TextInput(
            label="Description (leave empty to sing the lyrics)", custom_id="description",
            style=discord.TextStyle.paragraph, default=description[:500] or None, required=False, max_length=500,
        )
        self.lyrics: discord.ui.TextInput[SongFromTextForm] = discord.ui.TextInput(
            label="Lyrics (used when there is no description)", custom_id="lyrics",
            style=discord.TextStyle.paragraph, default=lyrics[:MAX_TEXT_INPUT] or None, required=False,
            max_length=MAX_TEXT_INPUT,
        )
        self.style: discord.ui.TextInput[SongFromTextForm] = discord.ui.TextInput(
            label="Style", custom_id="style", required=False, max_length=200, placeholder="e.g. sea shanty",
        )
        self.song_title: discord.ui.TextInput[SongFromTextForm] = discord.ui.TextInput(
            label="Title", custom_id="title", required=False, max_length=80,
        )
        for item in (self.description, self.lyrics, self.style, self.song_title):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        """Check that there is something to sing, then hand it on."""
        form = SongFromTextValues(self.description.value.strip(), self.lyrics.value.strip(), self.style.value.strip(),
                                self.song_title.value.strip())
        if not form.description and not form.lyrics:
            await safe_reply(interaction, "Write a description or some lyrics first.")
            return
        await self._on_done(interaction, form)


class PersonaForm(ChorusForm):
    """A name and a description for a new persona (a reusable voice) made from a take; with several `takes` (take
    number, label), the form also asks whose voice, so picking the take costs no extra step."""

    def __init__(
        self, opener: discord.Interaction, title: str, *, takes: Sequence[tuple[int, str]],
        on_done: Callable[[discord.Interaction, str, str, int], Awaitable[None]],
    ) -> None:
        super().__init__(opener, title="Make a persona from this voice", name="persona")
        self._on_done = on_done
        self._takes = [take for take, _ in takes]
        self.persona_name: discord.ui.TextInput[PersonaForm] = discord.ui.TextInput(
            label="Name", custom_id="name", max_length=40, placeholder="e.g. Captain Shanty",
            default=(title or "")[:40] or None,
        )
        self.description: discord.ui.TextInput[PersonaForm] = discord.ui.TextInput(
            label="Description", custom_id="description", style=discord.TextStyle.paragraph, required=False,
            max_length=200, placeholder="e.g. a raspy baritone with a sea-worn laugh",
        )
        self.take: discord.ui.Select[PersonaForm] | None = None
        self.add_item(self.persona_name)
        if len(takes) > 1:
            options = [discord.SelectOption(label=label, value=str(take), default=index == 0)
                       for index, (take, label) in enumerate(takes)]
            self.take = discord.ui.Select(custom_id="take", options=options, min_values=1, max_values=1)
            self.add_item(discord.ui.Label(text="Whose voice", component=self.take))
        self.add_item(self.description)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        """Acknowledge privately, then make the persona: that asks CometAPI, which may take longer than Discord's
        3 seconds. Bad input raises and is answered by on_error in place of the "thinking…", privately too."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        picked = self.take.values[0] if self.take is not None and self.take.values else ""
        take = int(picked) if picked.isdigit() and int(picked) in self._takes else self._takes[0]
        await self._on_done(interaction, self.persona_name.value, self.description.value, take)


STALE_FORM = "This form was opened before Chorus restarted, so I lost it. Please open it again; nothing was sent."


async def answer_stale_form(interaction: discord.Interaction, open_forms: Container[str]) -> None:
    """Answer the submit of a Chorus form the bot no longer knows (it restarted while the form was open).

    discord.py drops a submitted form whose custom_id it does not know, without a word, so the member would see
    "this interaction failed". Called for every interaction after discord.py has dispatched it: a form it knows
    is answered by the form itself (and is still open, or already answered, when this runs).
    """
    if interaction.type is not discord.InteractionType.modal_submit or interaction.response.is_done():
        return
    data: dict[str, object] = dict(interaction.data or {})
    custom_id = str(data.get("custom_id", ""))
    if custom_id.startswith("chorus:form:") and custom_id not in open_forms:
        await safe_reply(interaction, STALE_FORM)
