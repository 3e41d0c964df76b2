"""render.py: pure job → message functions, within Discord's limits."""

from __future__ import annotations

import dataclasses
import time

from bot.cometapi import Clip, Lyrics, TaskResult
from bot.domain import Job
from bot.ui import post, render, song_files


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


def payload(view):
    """What discord.py sends for a LayoutView."""
    return view.to_components()


def walk(components):
    from tests.fakes.discord.limits import walk_all

    return list(walk_all(components))


def texts(view) -> str:
    return "\n".join(c["content"] for c in walk(payload(view)) if c["type"] == 10)


def test_a_song_post_is_compact_one_row_of_actions_and_one_menu():
    """Two takes: beside one cover, a heading that mentions the member once and the style once; the attached MP3s
    under distinct names and the lyrics as one file (the takes sing the same words), then exactly one row of buttons
    and one More menu; no lyrics spelled out in the channel's text."""
    result = TaskResult("t", "succeeded", clips=(clip(1, "la la la"), clip(2, "la la la")))
    job = job_with(result)
    (lyrics,) = song_files.lyrics_files(job)
    assert (lyrics.filename, lyrics.takes) == ("Song 1 Song 2 - Lyrics.txt", (1, 2))
    assert lyrics.text == "Song 1 / Song 2\n\nla la la\n"
    view = post.song_post(job, attached={"c1": "Song 1 - Take A.mp3", "c2": "Song 2 - Take B.mp3"}, lyrics=[lyrics])
    components = walk(payload(view))
    text = texts(view)
    assert text.count("<@42>") == 1 and text.count("pop") == 1
    assert "**Take A** · Song 1" in text and "**Take B** · Song 2" in text and "la la la" not in text  # titles differ
    assert [c["file"]["url"] for c in components if c["type"] == 13] == [
        "attachment://Song 1 - Take A.mp3", "attachment://Song 2 - Take B.mp3",
        "attachment://Song 1 Song 2 - Lyrics.txt",
    ]
    assert len([c for c in components if c["type"] == 11]) == 1  # one cover for the song
    rows = [c for c in components if c["type"] == 1]
    assert len(rows) == 2
    assert [b["label"] for b in rows[0]["components"]] == ["Like", "Extend A", "Extend B", "Again", "Edit"]
    (menu,) = rows[1]["components"]
    assert menu["type"] == 3 and menu["custom_id"] == "chorus:more:7"
    values = {o["value"] for o in menu["options"]}
    assert {"cover", "info", "delete"} <= values  # full covers are in there too
    assert not [v for v in values if v.startswith("lyrics")]  # the lyrics are in the post
    bare = post.song_post(job, attached={})  # the post could not carry the lyrics file: More offers them
    (bare_menu,) = [c for c in walk(payload(bare)) if c.get("custom_id") == "chorus:more:7"]
    assert "lyrics" in {o["value"] for o in bare_menu["options"]}
    assert len(components) <= 40 and len(text) <= 4000


def test_takes_with_different_words_get_a_lyrics_file_each_and_an_instrumental_none():
    """Each take's own words in its own file, named after the song and the take; an instrumental has no file."""
    result = TaskResult("t", "succeeded", clips=(clip(1, "one"), clip(2, "two")))
    job = job_with(result, params={"mv": "chirp-crow", "description": "a song", "title": "Mine"})
    files = song_files.lyrics_files(job)
    assert [(f.filename, f.text) for f in files] == [
        ("Mine - Take A - Lyrics.txt", "Mine (take A)\n\none\n"),
        ("Mine - Take B - Lyrics.txt", "Mine (take B)\n\ntwo\n"),
    ]
    silent = job_with(TaskResult("t", "succeeded", clips=(clip(1, ""), clip(2, ""))),
                      params={"mv": "chirp-crow", "description": "rain", "instrumental": True})
    assert song_files.lyrics_files(silent) == []
    assert "Instrumental" in texts(post.song_post(silent, attached={"c1": "a.mp3", "c2": "b.mp3"}))


def test_a_take_too_large_to_attach_is_a_link():
    """An MP3 that did not fit the upload limit is linked instead, and the post says why."""
    result = TaskResult("t", "succeeded", clips=(clip(1, "x"),))
    view = post.song_post(job_with(result), attached={})
    assert not [c for c in walk(payload(view)) if c["type"] == 13]
    assert "[▶ Listen](https://cdn.example/1.mp3)" in texts(view)
    assert "Too large to attach" in texts(view)


def test_audio_file_names_are_distinct_per_take():
    """Take A and take B of the same title get different, readable file names."""
    assert song_files.audio_filename("Electric: Dance!", 1) == "Electric Dance - Take A.mp3"
    assert song_files.audio_filename("Electric: Dance!", 2) == "Electric Dance - Take B.mp3"


def test_a_continuation_says_what_it_extends():
    """An extension's post names the job, take and point it continues."""
    result = TaskResult("t", "succeeded", clips=(clip(1, "x"),))
    job = dataclasses.replace(job_with(result), kind="extend", parent_job_id=12)
    view = post.song_post(job, attached={}, lineage=post.Lineage(12, 1, 60.0))
    assert "extends #12 take A from 1:00" in texts(view)


def test_a_failure_post_fits_and_offers_try_again():
    """A failure told in the channel says why and repeats the prompt, within Discord's limits, even for huge texts."""
    job = job_with(None, state="failed", params={"mv": "chirp-crow", "description": "p" * 9000}, error="e" * 5000)
    view = post.failure_post(job)
    assert len(texts(view)) <= 4000
    assert "failed" in texts(view)
    assert [c["label"] for c in walk(payload(view)) if c["type"] == 2] == ["Try again", "Info"]


def test_a_lyrics_post_previews_and_offers_the_rest():
    """Lyrics are previewed (never a wall of text), with Make it a song and the rest under More."""
    long = "\n".join(f"line {n}" for n in range(60))
    result = TaskResult("t", "succeeded", lyrics=Lyrics("Neon", long))
    view = post.lyrics_post(job_with(result, params={"prompt": "rain"}))
    text = texts(view)
    assert "Neon" in text and "line 0" in text and "line 59" not in text
    assert "More → Lyrics" in text
    labels = [c.get("label") for c in walk(payload(view)) if c["type"] == 2]
    assert labels == ["Make it a song", "Edit & make song"]


def test_status_card_progress_and_early_listen():
    """A running card shows real progress as a bar, an estimate from recent songs, and links to the streams."""
    from bot.core.jobs import ProgressHints

    streaming = Clip(id="c", status="streaming", audio_url="https://audiopipe.example/?item_id=c")
    job = job_with(TaskResult("t", "running", progress=40, clips=(streaming,)), state="running")
    job = dataclasses.replace(job, progress=40, submitted_at=1_750_000_000.0)
    card = render.status_card(job, hints=ProgressHints(typical_seconds=150.0))
    assert "40%" in card.description
    assert "usually 2:30, so ready <t:1750000150:R>" in card.description
    assert "audiopipe" in card.description


def test_a_queued_card_says_its_place_in_line():
    """While CometAPI has not started, the card says where the job stands and how long songs like it take."""
    from bot.core.jobs import ProgressHints

    card = render.status_card(job_with(None, state="queued"), hints=ProgressHints(95.0, 3))
    assert "3rd in line" in card.description and "about 1:35" in card.description


def test_info_is_readable_with_a_command_to_copy():
    """Info names the model by its friendly name, shows the prompt and style, and a command to copy."""
    params = {"mv": "chirp-crow", "description": "a sea shanty", "tags": "folk", "title": "Ahoy"}
    embed = render.info(job_with(None, params=params))
    assert "Suno v5" in embed.title
    assert "/suno prompt:a sea shanty style:folk title:Ahoy model:v5" in embed.description
    assert "mv" not in embed.description


def test_status_list_empty_and_full():
    """/status with no jobs suggests commands; with jobs, one line each."""
    assert "/suno" in render.status_list([], now=time.time()).description
    job = job_with(None, state="queued")
    text = render.status_list([job], now=job.created_at + 125).description
    assert "#7" in text and "2 min ago" in text


def test_a_late_song_says_it_is_late():
    """A song that finished after its job was reported timed out says so when it is finally posted."""
    result = TaskResult("t", "succeeded", clips=(clip(1, "la"),))
    on_time = texts(post.song_post(job_with(result), attached={"c1": "a.mp3"}))
    late = texts(post.song_post(dataclasses.replace(job_with(result), late=True), attached={"c1": "a.mp3"}))
    assert "late" not in on_time
    assert "late" in late and "gave up" in late


def test_progress_is_a_bar_only_when_it_says_something():
    """Real progress is a bar; 0 % or unknown progress (the relay's flat "0%") is the time since submit."""
    running = dataclasses.replace(job_with(None, state="running"), submitted_at=1_750_000_000.5)
    assert render.progress_line(dataclasses.replace(running, progress=40)) == render.progress_bar(40)
    for flat in (0, None):
        line = render.progress_line(dataclasses.replace(running, progress=flat))
        assert line == "Generating, started <t:1750000000:R>"
