"""The song post as the channel sees it (issue 19, items 1 to 3): its lyrics, one cover, the member's own words."""

from __future__ import annotations

import asyncio

from bot.cometapi import TaskResult
from tests.e2e import buttons, components, eventually, posts, text_of, wait_delivery


async def delivered_job(harness, job_id=1):
    """The job once its post is recorded."""

    async def check():
        job = await harness.bot.jobs.get(job_id)
        return job if job is not None and job.delivery == "delivered" else None

    return await eventually(check)


async def test_a_song_is_posted_once_with_one_cover_its_audio_and_its_lyrics(harness):
    """One POST per song: both takes' MP3s and the lyrics as a text file ride in it, each shown by a File component,
    under one cover for the song; no plumbing ("job #", the description-mode note) on the public post."""
    fake = harness.fake
    await fake.slash_command("suno", {"prompt": "a sea shanty about rubber ducks", "style": "folk"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    job = await delivered_job(harness)
    await asyncio.sleep(0.3)  # a few more courier rounds: nothing more may be posted
    (sent,) = posts(fake)
    names = [f.name for f in sent.files]
    assert names == ["A Sea Shanty About - Take A.mp3", "A Sea Shanty About - Take B.mp3",
                     "A Sea Shanty About - Lyrics.txt"]
    (clip, _other) = TaskResult.from_dict(job.result).complete_clips
    assert clip.lyrics and clip.lyrics == _other.lyrics  # both takes sing the same words: one file says so
    lyrics = sent.files[2].data.decode()
    assert lyrics.startswith("A Sea Shanty About\n") and clip.lyrics in lyrics
    shown = [c["file"]["url"] for c in components(message) if c["type"] == 13]
    assert shown == [f"attachment://{name}" for name in names]  # Components V2 shows only what a component names
    assert len([c for c in components(message) if c["type"] == 11]) == 1  # one cover for the song
    text = text_of(message)
    assert f"<@{fake.alice.id}> · Suno v5 · song #1" in text and "job #" not in text
    assert "ignores style and title" not in text  # that note is the card's (and Info's), not the channel's
    assert text.count(clip.tags) == 1  # the style once: both takes share it


async def test_the_heading_and_files_keep_the_title_the_member_typed(harness):
    """`title:` wins over the model's title in the heading, the file names, /history and the charts; the prompt
    stays, on one short line, with mentions disabled."""
    fake = harness.fake
    prompt = f"a shanty for @everyone and <@{fake.bob.id}>, " + "with a very long chorus " * 10 + "\nand a second line"
    options = {"prompt": prompt, "style": "emotional punk", "title": "Quack Attack"}
    await fake.slash_command("suno", options, user=fake.alice)
    (message,) = await wait_delivery(fake)
    job = await delivered_job(harness)
    model_title = TaskResult.from_dict(job.result).complete_clips[0].title
    assert model_title and model_title != "Quack Attack"  # Suno made up its own (description mode ignores it)
    text = text_of(message)
    assert text.startswith("### 🎶 Quack Attack\n")
    assert model_title not in text
    assert [a["filename"] for a in message["attachments"]] == [
        "Quack Attack - Take A.mp3", "Quack Attack - Take B.mp3", "Quack Attack - Lyrics.txt"]
    (line,) = [line for line in text.splitlines() if "“" in line]  # one short line, under the heading
    said = line.split("“", 1)[1].split("”", 1)[0]
    assert said.startswith("a shanty for @\u200beveryone and <@\u200b") and said.endswith("…")
    assert len(said) <= 64 and "second line" not in text
    sent = posts(fake)[0].json["allowed_mentions"]
    assert sent["parse"] == [] and sent["users"] == [fake.alice.id]  # only the member the song is for
    info = await fake.select(message, "chorus:more:1", ["info"], user=fake.bob)
    details = (await info.wait_response())["data"]["embeds"][0]["description"]
    assert f"Suno called it:** {model_title}" in details  # the model's title, told in Info
    assert "ignores style and title" in details  # the technical note, off the public post

    history = await fake.slash_command("history", {}, user=fake.alice)
    page = (await history.wait_response())["data"]["embeds"][0]["description"]
    assert "Quack Attack" in page and model_title not in page
    like = next(b for b in buttons(message) if str(b.get("custom_id", "")).startswith("chorus:like:"))
    await (await fake.click_button(message, like["custom_id"], user=fake.bob)).wait_response()
    top = await fake.slash_command("top", {"period": "all"}, user=fake.alice)
    chart = (await top.wait_response())["data"]["embeds"][0]["description"]
    assert "Quack Attack" in chart and model_title not in chart


async def test_an_instrumental_says_so_and_attaches_no_lyrics(harness):
    """An instrumental has no words to attach: the post says it is one."""
    fake = harness.fake
    await fake.slash_command("suno", {"prompt": "rain on a tin roof", "instrumental": True}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    assert [a["filename"].rsplit(".", 1)[1] for a in message["attachments"]] == ["mp3", "mp3"]
    assert "Instrumental" in text_of(message)



async def test_an_extension_keeps_the_title_the_member_gave_the_song(harness):
    """Extend on a song the member named: Suno is asked to keep that title, and the extension's post shows it."""
    fake, sim = harness.fake, harness.sim
    await fake.slash_command("suno", {"prompt": "a sea shanty", "title": "Quack Attack"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    extend = next(b for b in buttons(message) if str(b.get("custom_id", "")).startswith("chorus:extend:"))
    click = await fake.click_button(message, extend["custom_id"], user=fake.bob)
    opened = await click.wait_response()
    assert "Quack Attack" in opened["data"]["title"]
    submit = await fake.submit_modal(opened["data"]["custom_id"], {"continue_at": "0:30"}, user=fake.bob,
                                     interaction_from=click)
    await submit.wait_response()
    extended = (await wait_delivery(fake, 2))[1]
    assert sim.requests_to("submit_music")[1].body["title"] == "Quack Attack"
    assert text_of(extended).startswith("### 🎶 Quack Attack\n")
    assert "extends #1 take A from 0:30" in text_of(extended)


async def test_show_carries_the_lyrics_files_of_the_post(harness):
    """/show posts a song again with the same lyrics file(s) as its post (same names, same words, each shown by a
    File component), so the repost needs no More → Lyrics; it answers once."""
    from tests.e2e import answers

    fake = harness.fake
    await fake.slash_command("suno", {"prompt": "a song worth showing twice"}, user=fake.alice)
    await wait_delivery(fake)
    (delivered,) = posts(fake)
    carried = {f.name: f.data for f in delivered.files if f.name.endswith(".txt")}
    assert carried
    it = await fake.slash_command("show", {"job": 1}, user=fake.bob)
    shown = await it.wait_original()
    (callback,) = [r for r in fake.find_requests("POST") if r.path.endswith(f"/{it.id}/{it.token}/callback")]
    assert {f.name: f.data for f in callback.files} == carried
    assert [a["filename"] for a in shown["attachments"]] == list(carried)
    files = [c["file"]["url"] for c in components(shown) if c["type"] == 13]
    assert [f"attachment://{name}" for name in carried] == [url for url in files if url.endswith(".txt")]
    assert "under **More**" not in text_of(shown)
    (menu,) = [b for b in buttons(shown) if b.get("custom_id", "").startswith("chorus:more:")]
    assert "lyrics" not in [o["value"] for o in menu["options"]]
    await asyncio.sleep(0.3)
    assert len(answers(fake, it)) == 1
