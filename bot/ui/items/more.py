"""The "More" menu of a post: one level, short, grouped by take; then Info and Delete.

One select instead of a wall of buttons, and no menu behind it. First what is about the song as a whole, once
however many takes it has: its cover art (every take's full-size cover in one answer), its video (every take's,
when the takes came with one), stems and a persona (Suno; the take is picked in the step each needs anyway: the
stems menu, the persona form). Then each take's own downloads, grouped by take (`A · WAV`, MIDI, synced lyrics;
`A · Video` when the take came without one, as asking for it may be charged). Then Info and Delete. The lyrics are in
the post itself; More offers them only when the post could not carry the file. Everything answers privately to
whoever picks it, except what starts a new song of theirs (stems, whole song) and Delete (the requester or
moderators only).

To offer something new, add an `Offer` to OFFERS: its key (the option's value; `key:<take>` for a take's), a short
label, an emoji, when it is offered and the coroutine that answers it. Posts in channels keep the options they were
posted with, so a key is never reused for something else, and LEGACY answers what older posts still offer.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

import discord

from bot.cometapi import Clip
from bot.core.community.songs import asked_title, title_of
from bot.core.jobs import concat_job
from bot.domain import Job
from bot.ui import render
from bot.ui.items.challenge_vote import enter
from bot.ui.items.item_base import ChorusSelect, bot_of, may_act
from bot.ui.items.song_buttons import delete_post, open_extend_form, send_lyrics, take_letter, take_of
from bot.ui.items.take_tools import ToolsSelect, use_tool
from bot.ui.launcher import start_job
from bot.ui.listening.party_start import play_in_voice, voice_offered
from bot.ui.replies import safe_reply
from bot.ui.song_files import lyrics_files, take_title

MAX_OPTIONS = 25  # Discord's limit per select
MAX_EMBEDS = 10  # and embeds per message
PLACEHOLDER = 150  # Discord's limit on a select's placeholder
# A row holds at most 5 buttons: Like, Again and Edit leave room for two Extends on the post (bot.ui.post); a
# third take is extended from this menu.
ROW_EXTENDS = 2

# How an offer answers: (the interaction, the job, the take from 1, or 0 for the whole post).
Answer = Callable[[discord.Interaction, Job, int], Awaitable[None]]
# Whether an offer is on this post: (the job, the take from 1 or 0, that take's clip or None).
Offered = Callable[[Job, int, Clip | None], bool]


@dataclass(frozen=True, slots=True)
class Offer:
    """One thing the menu offers: for each take (value `key:<take>`, label `A · <label>` when there are several
    takes) or once for the post (value `key`)."""

    key: str
    label: str
    emoji: str
    answer: Answer
    offered: Offered
    per_take: bool = True
    description: str | None = None
    word: str = ""  # how the placeholder names it ("" leaves it out)
    # Offered only when whoever builds the post asks for it by key (something that depends on more than the job,
    # such as a challenge being open where the song is posted).
    on_request: bool = False
    # A post's offer about the song as a whole (its cover art, stems): listed before the takes' own options.
    first: bool = False


# ---- what each option does --------------------------------------------------------------------------------------


async def _words_and_cover(interaction: discord.Interaction, job: Job, take: int) -> None:
    """A take's full lyrics and full-size cover, privately, in one embed (the lyrics as a file when too long)."""
    clip = take_of(job, take)
    if clip is None:
        await safe_reply(interaction, "That take is not available.")
        return
    title = render.shorten(f"{asked_title(job) or clip.title or 'Untitled'} · take {take_letter(take)}",
                           render.EMBED_TITLE)
    embed = discord.Embed(title=title, colour=render.COLOURS["ok"])
    cover = render.safe_url(clip.image_large_url) or render.safe_url(clip.image_url)
    if cover:
        embed.set_image(url=cover)
    words = clip.lyrics.strip() or "*(instrumental: no lyrics)*"
    if len(words) <= render.EMBED_DESCRIPTION:
        embed.description = words
        await interaction.response.send_message(embed=embed, ephemeral=True)
        return
    filename = f"{render.file_stem(title)} - Lyrics.txt"
    file = discord.File(io.BytesIO(words.encode()), filename=filename)
    await interaction.response.send_message(embed=embed, file=file, ephemeral=True)


async def _cover_art(interaction: discord.Interaction, job: Job, take: int) -> None:
    """Every take's full-size cover, privately, one picture each, in one answer."""
    embeds = []
    for number, clip in enumerate(_takes(job), 1):
        cover = render.safe_url(clip.image_large_url) or render.safe_url(clip.image_url)
        if cover:
            title = render.shorten(f"{take_title(job, clip)} · take {take_letter(number)}", render.EMBED_TITLE)
            embeds.append(discord.Embed(title=title, colour=render.COLOURS["ok"]).set_image(url=cover))
    if not embeds:
        await safe_reply(interaction, "This song came without cover art.")
        return
    await interaction.response.send_message(embeds=embeds[:MAX_EMBEDS], ephemeral=True)


async def _videos(interaction: discord.Interaction, job: Job, take: int) -> None:
    """Every take's video, the ones the song came with (no call, nothing charged), privately."""
    links = [f"[Video of take {take_letter(number)}]({url})" for number, clip in enumerate(_takes(job), 1)
             if (url := render.safe_url(clip.video_url))]
    await safe_reply(interaction, "🎬 " + " · ".join(links) if links else "This song came without a video.")


async def _lyrics(interaction: discord.Interaction, job: Job, take: int) -> None:
    """The lyrics, privately: a lyrics post's in full; a song's as the text files its post carries when it can (one
    per take, or one when the takes sing the same words)."""
    if job.action == "LYRICS":
        await _lyrics_sheet(interaction, job, take)
        return
    files = lyrics_files(job)
    if not files:
        await safe_reply(interaction, "This song has no lyrics: it is an instrumental.")
        return
    title = discord.utils.escape_markdown(render.shorten(title_of(job), 200))
    await interaction.response.send_message(f"📝 The lyrics of “{title}”", files=[f.upload() for f in files],
                                            ephemeral=True, allowed_mentions=discord.AllowedMentions.none())


async def _video(interaction: discord.Interaction, job: Job, take: int) -> None:
    """The video the take came with (free); a Suno take without one asks CometAPI's video route."""
    clip = take_of(job, take)
    url = render.safe_url(clip.video_url) if clip is not None else None
    if url is None and job.provider == "suno":
        await use_tool(interaction, job, take, "mp4")
    elif url is None:
        await safe_reply(interaction, "That take has no video.")
    else:
        await safe_reply(interaction, f"🎬 [Video of take {take_letter(take)}]({url})")


def _tool(what: str) -> Answer:
    """An answer that runs one of the take's tools (bot.ui.items.take_tools)."""

    async def answer(interaction: discord.Interaction, job: Job, take: int) -> None:
        await use_tool(interaction, job, take, what)

    return answer


async def _tools_menu(interaction: discord.Interaction, job: Job, take: int) -> None:
    """Older posts' "Tools for take A": the take's tools in a private menu."""
    clip = take_of(job, take)
    if clip is None or job.provider != "suno":
        await safe_reply(interaction, "That take has no tools.")
        return
    menu = discord.ui.View(timeout=None).add_item(ToolsSelect.for_take(job, take))
    await safe_reply(interaction, f"🧰 Tools for take {take_letter(take)} of “{clip.title or 'Untitled'}”:\n"
                     "-# CometAPI may charge the server for each of these; its prices for them are not published.",
                     view=menu)


async def _extend(interaction: discord.Interaction, job: Job, take: int) -> None:
    await open_extend_form(interaction, job, take)


async def _whole(interaction: discord.Interaction, job: Job, take: int) -> None:
    """Join an extended take with the parts it continues, as a new song of whoever asked."""
    clip = take_of(job, take)
    if clip is None:
        await safe_reply(interaction, "That take is not available.")
        return
    await start_job(interaction, bot_of(interaction), lambda who: concat_job(job, clip.id, who))


async def _lyrics_sheet(interaction: discord.Interaction, job: Job, take: int) -> None:
    """All of a lyrics post's lyrics, privately."""
    result = render.result_of(job)
    lyrics = result.lyrics if result is not None else None
    if lyrics is None:
        await safe_reply(interaction, "Those lyrics are not ready yet.")
        return
    await send_lyrics(interaction, lyrics.title, lyrics.text)


async def _enter(interaction: discord.Interaction, job: Job, take: int) -> None:
    await enter(interaction, job.id)


async def _info(interaction: discord.Interaction, job: Job, take: int) -> None:
    await interaction.response.send_message(embed=render.info(job), ephemeral=True)


async def _delete(interaction: discord.Interaction, job: Job, take: int) -> None:
    if not may_act(interaction, job):
        await safe_reply(interaction, f"Only <@{job.user_id}> (or a moderator) can delete this post.")
        return
    await delete_post(interaction, job)


# ---- when each is offered ---------------------------------------------------------------------------------------


def _takes(job: Job) -> tuple[Clip, ...]:
    """The takes a post's menu is about (none for stems: their tracks are not takes)."""
    result = render.result_of(job)
    return result.complete_clips if result is not None and job.kind != "stems" else ()


def _suno_song(job: Job, take: int, clip: Clip | None) -> bool:
    return job.provider == "suno" and job.action == "MUSIC"


def _song_tools(job: Job, take: int, clip: Clip | None) -> bool:
    return _suno_song(job, take, clip) and bool(_takes(job))


def _has_words(job: Job, take: int, clip: Clip | None) -> bool:
    return clip is not None and bool(clip.lyrics.strip())


def _any_cover(job: Job, take: int, clip: Clip | None) -> bool:
    return any(render.safe_url(c.image_large_url) or render.safe_url(c.image_url) for c in _takes(job))


def _videos_came(job: Job, take: int, clip: Clip | None) -> bool:
    takes = _takes(job)
    return bool(takes) and all(render.safe_url(c.video_url) for c in takes)


def _video_offered(job: Job, take: int, clip: Clip | None) -> bool:
    """Per take, when not every take came with its video (then Video answers for all of them at once)."""
    carried = clip is not None and render.safe_url(clip.video_url) is not None
    return not _videos_came(job, take, clip) and (_suno_song(job, take, clip) or carried)


def _lyrics_offered(job: Job, take: int, clip: Clip | None) -> bool:
    return job.action == "LYRICS" or bool(lyrics_files(job))


def _synced(job: Job, take: int, clip: Clip | None) -> bool:
    return _suno_song(job, take, clip) and _has_words(job, take, clip)


def _third_extend(job: Job, take: int, clip: Clip | None) -> bool:
    return take > ROW_EXTENDS and _suno_song(job, take, clip) and job.kind != "concat"


def _extension(job: Job, take: int, clip: Clip | None) -> bool:
    return job.kind == "extend" and job.provider == "suno"


def _always(job: Job, take: int, clip: Clip | None) -> bool:
    return True


def _never(job: Job, take: int, clip: Clip | None) -> bool:
    return False


# In menu order: the song's own options (`first`), then each take's together, then the post's. Labels stay short:
# a take's letter comes first. A description only where a label alone could surprise: what costs the member, who may.
OFFERS: tuple[Offer, ...] = (
    # Offered by the post (`also`) only when it could not carry the lyrics files; a lyrics post always offers it.
    Offer("lyrics", "Lyrics", "📝", _lyrics, _lyrics_offered, per_take=False, on_request=True, first=True,
          word="lyrics"),
    Offer("cover", "Cover art", "🖼️", _cover_art, _any_cover, per_take=False, first=True, word="cover art"),
    Offer("video", "Video", "🎬", _videos, _videos_came, per_take=False, first=True, word="video"),
    Offer("stems", "Stems", "🎚️", _tool("stems"), _song_tools, per_take=False, first=True,
          description="A new song of yours (you pick which)", word="stems"),
    Offer("persona", "Persona", "🗣️", _tool("persona"), _song_tools, per_take=False, first=True,
          description="This voice for new songs (asker or moderators)", word="persona"),
    Offer("voice", "Play in voice", "🔊", play_in_voice, voice_offered, per_take=False, first=True,
          description="Every take, in the voice channel you are in", word="play in voice"),
    Offer("video", "Video", "🎬", _video, _video_offered, word="video"),
    Offer("wav", "WAV", "💿", _tool("wav"), _suno_song, word="WAV"),
    Offer("midi", "MIDI", "🎹", _tool("midi"), _suno_song, word="MIDI"),
    Offer("lrc", "Synced lyrics", "🎤", _tool("lrc"), _synced, word="synced lyrics"),
    Offer("extend", "Extend", "⏩", _extend, _third_extend, word="extend"),
    Offer("whole", "Whole song", "🧩", _whole, _extension, description="Joined with what it extends: a new song",
          word="whole song"),
    Offer("enter", "Enter in the challenge", "🎯", _enter, _always, per_take=False, on_request=True,
          description="Your song, in the challenge running here", word="enter in the challenge"),
    Offer("info", "Info", "ℹ️", _info, _always, per_take=False,  # noqa: RUF001 - the emoji
          description="Prompt, model, lengths, a command to copy", word="info"),
    Offer("delete", "Delete", "🗑️", _delete, _always, per_take=False, description="Asker or moderators"),
)
# Values that older posts offer and this menu no longer does: they keep answering as they did.
LEGACY: tuple[Offer, ...] = (
    Offer("tools", "Tools", "🧰", _tools_menu, _never),  # "Tools for take A"
    Offer("lyrics", "Lyrics & cover", "📝", _words_and_cover, _never),  # a take's lyrics and full-size cover
    Offer("cover", "Cover", "🖼️", _words_and_cover, _never),
    Offer("stems", "Stems", "🎚️", _tool("stems"), _never),  # that take's stems menu
    Offer("persona", "Persona", "🗣️", _tool("persona"), _never),  # that take's persona form
)
ANSWERS: dict[tuple[str, bool], Answer] = {(offer.key, offer.per_take): offer.answer for offer in LEGACY + OFFERS}


class MoreSelect(ChorusSelect, action="more"):
    """The post's menu of extras; the picked value says what (`wav:1`, `lyrics:2`, `info`, `delete`, …)."""

    def __init__(self, job_id: int, options: list[discord.SelectOption] | None = None,
                 placeholder: str = "More") -> None:
        super().__init__(job_id, placeholder=placeholder, options=options)

    @classmethod
    def for_job(cls, job: Job, *, also: Collection[str] = ()) -> MoreSelect:
        """The menu with the options this job's post offers (`also`: keys of offers made only on request)."""
        offers = offers_for(job, also=also)
        return cls(job.id, options=[option for option, _ in offers], placeholder=placeholder_for(offers))

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Do what was picked."""
        key, _, take_text = self.value.partition(":")
        take = int(take_text) if take_text.isdigit() else 0
        answer = ANSWERS.get((key, bool(take_text)))
        if answer is None:
            await safe_reply(interaction, "That is not available for this song.")
        elif take_text and take_of(job, take) is None:
            await safe_reply(interaction, "That take is not available.")
        else:
            await answer(interaction, job, take)


def offers_for(job: Job, *, also: Collection[str] = ()) -> list[tuple[discord.SelectOption, Offer]]:
    """What the menu offers for this job, in order, each with its option: only what exists (a take without lyrics
    offers no synced lyrics), within Discord's 25 options (the post's own options always fit)."""
    clips = _takes(job)
    wanted = [offer for offer in OFFERS if not offer.on_request or offer.key in also]
    takes: list[tuple[discord.SelectOption, Offer]] = []
    for take, clip in enumerate(clips, 1):
        letter = f"{take_letter(take)} · " if len(clips) > 1 else ""
        takes += [(discord.SelectOption(label=letter + offer.label, value=f"{offer.key}:{take}", emoji=offer.emoji,
                                        description=offer.description), offer)
                  for offer in wanted if offer.per_take and offer.offered(job, take, clip)]
    post = [(discord.SelectOption(label=offer.label, value=offer.key, emoji=offer.emoji,
                                  description=offer.description), offer)
            for offer in wanted if not offer.per_take and offer.offered(job, 0, None)]
    song = [(option, offer) for option, offer in post if offer.first]
    rest = [(option, offer) for option, offer in post if not offer.first]
    return song + takes[:MAX_OPTIONS - len(post)] + rest


def placeholder_for(offers: list[tuple[discord.SelectOption, Offer]]) -> str:
    """What this post's menu offers, in words: `Cover art, video, stems, persona, WAV, MIDI, synced lyrics, info`."""
    words = list(dict.fromkeys(offer.word for _, offer in offers if offer.word))
    text = ", ".join(words) or "delete"
    return render.shorten(text[:1].upper() + text[1:], PLACEHOLDER)
