"""A take's tools: WAV, video, synced lyrics, MIDI, stems, a persona. More offers them (`use_tool`): the downloads
per take, stems and a persona once for the song, asking for the take in the step they take anyway.

Links and files come back privately to whoever asked, with a small line saying CometAPI may charge for them (it
publishes no price for these routes, so nothing here tells a member they are free); stems are a new job of theirs
(they go through their limits), chosen in a small private menu that says what each kind counts as (and of which
take); a persona is made by the song's requester or a moderator, in a form that names it (and asks whose voice).
ToolsSelect is that private menu, and the "Tools for take A" menu posts made before still open.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import discord

from bot.cometapi import Clip, ModelUnavailableError, TaskFailedError
from bot.core.community.songs import asked_title
from bot.core.jobs import stems_job
from bot.core.specs import StemKind
from bot.core.take_exports import Exported
from bot.core.wording import clause, plural
from bot.domain import Job
from bot.ui import render
from bot.ui.forms import PersonaForm
from bot.ui.items.item_base import ChorusSelect, bot_of, may_act
from bot.ui.items.song_buttons import take_letter, take_of
from bot.ui.launcher import requester_of, start_job
from bot.ui.midi import midi_file
from bot.ui.replies import safe_reply

TOOL_NAMES = {"wav": "The WAV", "mp4": "The video", "lrc": "Synced lyrics", "midi": "MIDI"}
# Per link tool: its emoji, the link's label, and how a sentence names it.
MEDIA_LINKS = {"wav": ("💿", "WAV", "the WAV"), "mp4": ("🎬", "Video", "the video")}
# Under what a paid-or-maybe-paid route answered (shared/api §4.3: CometAPI publishes no price for these routes).
MAY_CHARGE = "\n-# CometAPI may charge the server for this; its price is not published."


class ToolsSelect(ChorusSelect, action="tools", fields=("job", "take")):
    """A private menu of a take's tools: which stems (More → Stems), or all (older posts' "Tools for take A"). Take 0:
    a menu for every take, whose values name the take (`stems:two@2`)."""

    def __init__(self, job_id: int, take: int, options: list[discord.SelectOption] | None = None,
                 placeholder: str | None = None) -> None:
        super().__init__(job_id, take, placeholder=placeholder or f"Tools for take {take_letter(take)}",
                         options=options)

    @classmethod
    def for_stems(cls, job: Job, takes: Sequence[int], full_cost: int) -> ToolsSelect:
        """Which stems of which take: each kind with what it counts as against the member's limits (for one take,
        the kinds alone)."""
        several = len(takes) > 1
        options = [
            discord.SelectOption(label=(f"{take_letter(take)} · " if several else "") + label,
                                 value=value + (f"@{take}" if several else ""), emoji=emoji, description=description)
            for take in takes
            for label, value, emoji, description in (
                ("Vocals + instrumental", "stems:two", "🎚️", "2 tracks · counts as 1 song"),
                ("Every track", "stems:twelve", "🎛️", f"Up to 12 tracks · counts as {plural(full_cost, 'song')}"),
            )
        ]
        return cls(job.id, 0 if several else takes[0], options=options,
                   placeholder="Which take, and which stems?" if several else "Which stems?")

    @classmethod
    def for_take(cls, job: Job, take: int) -> ToolsSelect:
        """Every tool of this take, as older posts' More → "Tools for take A" opened them."""
        name = take_letter(take)
        options = [
            discord.SelectOption(label="WAV (lossless)", value="wav", emoji="💿", description="A download link"),
            discord.SelectOption(label="Video (MP4)", value="mp4", emoji="🎬", description="A link to the video"),
            discord.SelectOption(label="Synced lyrics (.lrc)", value="lrc", emoji="🎤",
                                 description="For players that show lyrics in time"),
            discord.SelectOption(label="MIDI", value="midi", emoji="🎹", description="The notes, for your DAW"),
            discord.SelectOption(label="Stems: vocals + instrumental", value="stems:two", emoji="🎚️",
                                 description="A new song of yours: counts as 1 song"),
            discord.SelectOption(label="Stems: every track", value="stems:twelve", emoji="🎛️",
                                 description="A new song of yours: counts as several songs"),
            discord.SelectOption(label=f"Make a persona from take {name}", value="persona", emoji="🗣️",
                                 description="This voice, for the server's songs (asker or moderators)"),
        ]
        return cls(job.id, take, options=options)

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Do what was picked (of the take the value names, in a menu for every take)."""
        what, take = self.value, self.ids["take"]
        if not take:
            what, _, take_text = what.rpartition("@")
            take = int(take_text) if take_text.isdigit() else 0
        await use_tool(interaction, job, take, what)


def takes_of(job: Job) -> list[tuple[int, Clip]]:
    """A song's finished takes, numbered from 1."""
    result = render.result_of(job)
    return list(enumerate(result.complete_clips, 1)) if result is not None else []


async def use_tool(interaction: discord.Interaction, job: Job, take: int, what: str) -> None:
    """Answer one tool of one take, once: `wav`, `mp4`, `lrc`, `midi`, `persona`, `stems` (asks which) or
    `stems:two` / `stems:twelve` (starts them). Take 0 for `stems` and `persona`: of whichever take the member
    picks, in the stems menu or the persona form."""
    if take == 0 and what in {"stems", "persona"} and job.provider == "suno":
        takes = takes_of(job)
        if len(takes) == 1:
            take = takes[0][0]
        elif what == "persona":
            await _persona(interaction, job, [number for number, _ in takes])
            return
        elif takes:
            menu = discord.ui.View(timeout=None).add_item(ToolsSelect.for_stems(
                job, [number for number, _ in takes], bot_of(interaction).settings.stems_cost_songs))
            await safe_reply(interaction, "🎚️ Stems are a new song of yours, counted against your limits. Of which "
                             "take, and which?", view=menu)
            return
    clip = take_of(job, take)
    if clip is None or job.provider != "suno":
        await safe_reply(interaction, "That take has no tools.")
        return
    what, _, stem = what.partition(":")
    bot = bot_of(interaction)
    if what == "stems" and not stem:
        menu = discord.ui.View(timeout=None).add_item(
            ToolsSelect.for_stems(job, [take], bot.settings.stems_cost_songs))
        await safe_reply(interaction, f"🎚️ Stems of take {take_letter(take)} are a new song of yours, counted "
                         "against your limits. Which?", view=menu)
        return
    if what == "stems":
        kind: StemKind = "twelve" if stem == "twelve" else "two"
        # Asked from a private menu: the stems' card is private too (the stems themselves are posted for all).
        await start_job(interaction, bot, lambda who: stems_job(job, clip.id, take, kind, who), private=True)
        return
    if what == "persona":
        await _persona(interaction, job, [take])
        return
    # The rest ask CometAPI, which may take longer than Discord's 3 seconds: acknowledge first.
    await interaction.response.defer(ephemeral=True, thinking=True)
    name = f"take {take_letter(take)} of “{clip.title or 'Untitled'}”"
    try:
        await _ask(interaction, job, what, clip, name, take)
    except ModelUnavailableError:
        # Several of these routes are documented only in CometAPI's navigation (shared/api §2.10 to §2.13).
        # Whether CometAPI charged for the refused call is not known, so the answer does not say.
        await safe_reply(interaction, f"{TOOL_NAMES.get(what, 'That')} is not available on CometAPI right now. "
                         "Please try again later.")
    except TaskFailedError as exc:  # a WAV or MP4 conversion that failed
        thing = MEDIA_LINKS[what][2] if what in MEDIA_LINKS else "that"
        await safe_reply(interaction, f"Suno could not make {thing} of {name}: {clause(exc.reason)}. "
                         "Please try again later.")


async def _persona(interaction: discord.Interaction, job: Job, takes: list[int]) -> None:
    """The persona form (the requester or a moderator): a name, and whose voice when there are several `takes`."""
    if not may_act(interaction, job):
        await safe_reply(interaction, f"Only <@{job.user_id}> (or a moderator) can make a persona of this song.")
        return
    bot = bot_of(interaction)

    async def made(form_interaction: discord.Interaction, name: str, description: str, take: int) -> None:
        clip = take_of(job, take)
        if clip is None:
            await safe_reply(form_interaction, "That take is not available.")
            return
        persona = await bot.personas.create(job, clip.id, name=name, description=description,
                                            by=requester_of(form_interaction))
        # Privately, like every tool's answer (the form acknowledged it privately before asking CometAPI).
        await safe_reply(form_interaction, f"🗣️ Persona **{discord.utils.escape_markdown(persona.name)}** is "
                         f"ready: `/suno persona:{persona.name}` sings in this voice.")

    clips = {take: take_of(job, take) for take in takes}
    named = [(take, f"Take {take_letter(take)}") for take in takes]
    title = asked_title(job) or next((clip.title for clip in clips.values() if clip is not None), "")
    await interaction.response.send_modal(PersonaForm(interaction, title, takes=named, on_done=made))


async def _ask(interaction: discord.Interaction, job: Job, what: str, clip: Clip, name: str, take: int) -> None:
    """The WAV or video link, the .lrc file or the MIDI file of a take, in place of the "thinking…"."""
    bot = bot_of(interaction)
    if what in MEDIA_LINKS:
        emoji, label, thing = MEDIA_LINKS[what]
        # A finished take usually carries its video already (shared/api §2.10): no call needed then.
        carried = render.safe_url(clip.video_url) if what == "mp4" else None
        link = Exported(carried, asked=False) if carried else await bot.exports.media_link(
            job, requester_of(interaction), "wav" if what == "wav" else "mp4", clip.id)
        if link.value is None:
            # Converted on demand and not done yet: that is "wait", not "not available".
            await safe_reply(interaction, f"{emoji} Suno is still preparing {thing} of {name}. "
                             "Please ask again in a minute.")
        else:
            await safe_reply(interaction, f"{emoji} [{label} of {name}]({link.value})" + _may_charge(link))
    elif what == "lrc":
        lyrics = await bot.exports.synced_lyrics(job, requester_of(interaction), clip.id, title=clip.title)
        text = lyrics.value
        preview = "\n".join(text.splitlines()[1:9])
        filename = f"{render.file_stem(clip.title)} - Take {take_letter(take)}.lrc"
        file = discord.File(io.BytesIO(text.encode()), filename=filename)
        await interaction.edit_original_response(
            content=f"🎤 Synced lyrics of {name}: load the file in a player that shows lyrics.\n```\n"
                    f"{render.code_safe(preview)}\n```{_may_charge(lyrics)}",
            attachments=[file],
        )
    elif what == "midi":
        await _midi(interaction, job, clip.id, name, clip.title, take)
    else:
        await safe_reply(interaction, "That tool is not available for this take.")


async def _midi(interaction: discord.Interaction, job: Job, clip_id: str, name: str, title: str, take: int) -> None:
    answer = await bot_of(interaction).exports.midi(job, requester_of(interaction), clip_id)
    midi = answer.value
    if midi is None:
        await safe_reply(interaction, "🎹 Suno is still transcribing the MIDI. Please ask again in a minute.")
        return
    data = midi_file(midi.instruments)
    filename = f"{render.file_stem(title)} - Take {take_letter(take)}.mid"
    file = discord.File(io.BytesIO(data), filename=filename)
    instruments = ", ".join(i.name for i in midi.instruments) or "no instruments"
    await interaction.edit_original_response(content=f"🎹 MIDI of {name} ({instruments}).{_may_charge(answer)}",
                                             attachments=[file])


def _may_charge(answer: Exported[object]) -> str:
    """The small print under a tool's answer: CometAPI may charge for a call just made; a remembered (or carried)
    answer asked nothing of it."""
    return MAY_CHARGE if answer.asked else ""
