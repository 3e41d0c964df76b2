"""The files a song's post attaches, and their names: each take's MP3, stems named after their song and take, and
the lyrics as text files (one per take, or one when the takes sing the same words). Delivery attaches them; /show and
More → Lyrics hand out the same lyrics files.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import discord

from bot.cometapi import Clip
from bot.core.community.songs import asked_title, title_of
from bot.domain import Job
from bot.ui import render
from bot.ui.items.song_buttons import take_letter

# A post shows at most this many takes (Suno makes two; an upstream that sends more does not overflow the post).
MAX_TAKES = 4


def audio_filename(title: str, take: int) -> str:
    """A distinct, readable file name per take: `Electric Dance Party - Take A.mp3`."""
    return f"{render.file_stem(title)} - Take {take_letter(take)}.mp3"


def stem_filename(song: str, take: int | None, track: str) -> str:
    """A stem named after its song, take and track: `Electric Dance Party - Take A - Vocals.mp3`."""
    of_take = f" - Take {take_letter(take)}" if take else ""
    return f"{render.file_stem(song)}{of_take} - {render.file_stem(track, 'Track')}.mp3"


def take_title(job: Job, clip: Clip) -> str:
    """What a take is called on its post and its files: the title the member typed, else the model's for it."""
    return asked_title(job) or clip.title or "Untitled"


@dataclass(frozen=True, slots=True)
class LyricsFile:
    """The words of one or more takes, attached to the song's post as a text file (Discord previews it)."""

    filename: str
    text: str
    takes: tuple[int, ...]

    @property
    def data(self) -> bytes:
        """The file's bytes (UTF-8)."""
        return self.text.encode()

    def upload(self) -> discord.File:
        """The file, ready to attach to a message."""
        return discord.File(io.BytesIO(self.data), filename=self.filename)


def lyrics_files(job: Job) -> list[LyricsFile]:
    """The lyrics a song's post attaches: one file (`Title - Lyrics.txt`) when every take sings the same words, else
    one per take that has words (`Title - Take A - Lyrics.txt`); none for an instrumental."""
    result = render.result_of(job)
    if result is None or job.state != "succeeded" or job.action != "MUSIC" or is_stems(job):
        return []
    clips = result.complete_clips[:MAX_TAKES]
    words = {take: clip.lyrics.strip() for take, clip in enumerate(clips, 1) if clip.lyrics.strip()}
    if not words:
        return []
    if len(words) == len(clips) and len(set(words.values())) == 1:
        title = title_of(job)
        stem = " ".join(render.file_stem(title).split())  # "A / B" (takes named apart) reads "A B"
        return [LyricsFile(f"{stem} - Lyrics.txt", f"{title}\n\n{words[1]}\n", tuple(words))]
    files = []
    for take, text in words.items():
        title, letter = take_title(job, clips[take - 1]), take_letter(take)
        name = f"{render.file_stem(title)} - Take {letter} - Lyrics.txt"
        files.append(LyricsFile(name, f"{title} (take {letter})\n\n{text}\n", (take,)))
    return files


def is_stems(job: Job) -> bool:
    """Stems that came back as stems (posted as tracks, not as a song)."""
    return job.kind == "stems" and render.ordinary_note(job) is None
