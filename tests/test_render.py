"""render.py: pure job → message functions, within Discord's limits."""

from __future__ import annotations

import dataclasses
import time

from bot.cometapi import Clip, Lyrics, TaskResult
from bot.store import Job
from bot.ui import render


def job_with(result: TaskResult | None, *, state="succeeded", params=None, error=None) -> Job:
    now = time.time()
    return Job(
        id=7, user_id=42, guild_id=1, channel_id=2, provider="suno", action="MUSIC", kind="inspiration",
        state=state, created_at=now, updated_at=now, params=params or {"mv": "chirp-crow", "description": "a song"},
        result=result.to_dict() if result else None, error=error,
    )


def clip(n: int, lyrics: str) -> Clip:
    return Clip(id=f"c{n}", title=f"Song {n}", status="complete", audio_url=f"https://cdn.example/{n}.mp3",
                image_url=f"https://cdn.example/{n}.png", tags="pop", lyrics=lyrics, duration=125.4)


def embeds_total(outgoing: render.Outgoing) -> int:
    return sum(len(embed) for embed in outgoing.embeds)


def test_short_lyrics_go_in_the_embed_once():
    """Shared lyrics are shown once, in the first take's embed."""
    result = TaskResult("t", "succeeded", clips=(clip(1, "la la"), clip(2, "la la")))
    out = render.delivery(job_with(result), attached_audio=frozenset({"c1", "c2"}))
    assert [e.description for e in out.embeds] == ["la la", None]
    assert out.lyrics_file is None
    assert "Too large" not in out.content
    assert out.embeds[0].fields[2].value == "2:05"


def test_long_lyrics_become_a_text_file():
    """Lyrics that would break the 6,000-character embed budget are attached as lyrics.txt."""
    result = TaskResult("t", "succeeded", clips=(clip(1, "a" * 3500), clip(2, "b" * 3500)))
    out = render.delivery(job_with(result))
    assert out.lyrics_file is not None
    name, text = out.lyrics_file
    assert name == "lyrics.txt"
    assert "a" * 3500 in text and "b" * 3500 in text
    assert embeds_total(out) <= render.EMBED_TOTAL


def test_failure_shows_reason_and_prompt_and_fits():
    """A failed job says why and repeats the prompt, within limits, even for huge texts."""
    job = job_with(None, state="failed", params={"mv": "chirp-crow", "description": "p" * 9000}, error="e" * 5000)
    out = render.delivery(job)
    assert "failed" in out.content
    assert len(out.embeds[0].description or "") <= render.EMBED_DESCRIPTION
    assert embeds_total(out) <= render.EMBED_TOTAL


def test_lyrics_job_delivery():
    """A lyrics job shows its title and text."""
    result = TaskResult("t", "succeeded", lyrics=Lyrics("Neon", "[Verse]\nrain"))
    out = render.delivery(job_with(result, params={"prompt": "rain"}))
    assert out.embeds[0].title == "Neon"
    assert out.embeds[0].description == "[Verse]\nrain"


def test_status_card_progress_and_early_listen():
    """A running card shows the progress bar and links to the streams."""
    streaming = Clip(id="c", status="streaming", audio_url="https://audiopipe.example/?item_id=c")
    job = job_with(TaskResult("t", "running", progress=40, clips=(streaming,)), state="running")
    job = Job(**{**{f: getattr(job, f) for f in job.__dataclass_fields__}, "progress": 40})
    card = render.status_card(job)
    fields = {f.name: f.value for f in card.fields}
    assert fields["Progress"].endswith("40%")
    assert "audiopipe" in fields["Listen while it is made"]


def test_status_list_empty_and_full():
    """/status with no jobs suggests commands; with jobs, one line each."""
    assert "/suno" in render.status_list([], now=time.time()).description
    job = job_with(None, state="queued")
    text = render.status_list([job], now=job.created_at + 125).description
    assert "#7" in text and "2 min ago" in text


def test_a_late_song_says_it_is_late():
    """A song that finished after its job was reported timed out says so when it is finally posted."""
    import dataclasses

    result = TaskResult("t", "succeeded", clips=(clip(1, "la"),))
    on_time = render.delivery(job_with(result), attached_audio=frozenset({"c1"}))
    late = render.delivery(dataclasses.replace(job_with(result), late=True), attached_audio=frozenset({"c1"}))
    assert "late" not in on_time.content
    assert "late" in late.content and "gave up" in late.content


def test_progress_is_a_bar_only_when_it_says_something():
    """Real progress is a bar; 0 % or unknown progress (the relay's flat "0%") is the time since submit."""
    running = dataclasses.replace(job_with(None, state="running"), submitted_at=1_750_000_000.5)
    assert render.progress_line(dataclasses.replace(running, progress=40)) == render.progress_bar(40)
    for flat in (0, None):
        line = render.progress_line(dataclasses.replace(running, progress=flat))
        assert line == "Generating, started <t:1750000000:R>"
