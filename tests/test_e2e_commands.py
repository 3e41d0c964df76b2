"""/udio, /lyrics (and its button), /status and the lyrics modal, end to end."""

from __future__ import annotations

from tests.e2e import action_rows, custom_id, eventually, private_answer, text_of, wait_delivery


async def delivered_in_store(harness, job_id):
    async def check():
        job = await harness.bot.jobs.get(job_id)
        return job if job is not None and job.delivery == "delivered" else None

    return await eventually(check)


async def test_commands_are_synced_with_prompt_first(harness):
    """Every top-level command's first required option is a string named prompt (outside tooling relies on it)."""
    commands = {c["name"]: c for c in harness.fake.application_commands(harness.fake.guild)}
    assert {"suno", "udio", "lyrics", "status"} <= set(commands)
    for name in ("suno", "udio", "lyrics"):
        first = next(o for o in commands[name]["options"] if o.get("required"))
        assert (first["name"], first["type"]) == ("prompt", 3)
        assert commands[name]["options"][0]["name"] == "prompt"
    models = next(o for o in commands["suno"]["options"] if o["name"] == "model")
    assert models["choices"][0]["value"] == "v5"


async def test_udio_song_is_delivered(harness):
    """/udio submits with the chosen model and delivers the songs."""
    fake, sim = harness.fake, harness.sim
    await fake.slash_command("udio", {"prompt": "dreamy shoegaze", "model": "udio130-v1.5"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    params = sim.requests_to("udio_generate")[0].body["gen_params"]
    assert (params["prompt"], params["model_type"], params["lyrics_type"]) == (
        "dreamy shoegaze", "udio130-v1.5", "generate",
    )
    text = text_of(message)
    assert "Udio" in text
    assert [a["filename"].rsplit(" - ", 1)[1] for a in message["attachments"]] == ["Take A.mp3", "Take B.mp3",
                                                                                 "Lyrics.txt"]
    # Udio cannot be extended: the one row of actions is Like, Again and Edit.
    assert [b.get("label") for b in action_rows(message)[0]["components"]] == ["Like", "Again", "Edit"]


async def test_udio_unavailable_is_said_plainly(harness):
    """When CometAPI refuses Udio, the member reads that Udio is unavailable."""
    fake, sim = harness.fake, harness.sim
    sim.faults.always("udio_generate", 503)
    it = await fake.slash_command("udio", {"prompt": "anything"}, user=fake.alice)
    original = await private_answer(fake, it)
    assert "Udio is unavailable" in original["content"]


async def test_lyrics_then_make_it_a_song(harness):
    """/lyrics delivers lyrics with a button; pressing it submits a Suno song with exactly those lyrics."""
    fake, sim = harness.fake, harness.sim
    await fake.slash_command("lyrics", {"prompt": "a rainy night in a neon city"}, user=fake.alice)
    (lyrics_message,) = await wait_delivery(fake)
    lyrics_job = await harness.bot.jobs.get(1)
    text = lyrics_job.result["lyrics"]["text"]
    assert text.splitlines()[0] in text_of(lyrics_message)  # previewed in the post
    assert sim.requests_to("submit_lyrics")[0].body == {"prompt": "a rainy night in a neon city"}
    click = await fake.click_button(lyrics_message, custom_id(lyrics_message, "chorus:makesong:"), user=fake.bob)
    assert (await click.wait_response())["type"] == 5
    messages = await wait_delivery(fake, 2)
    body = sim.requests_to("submit_music")[0].body
    assert body["prompt"] == text
    assert "gpt_description_prompt" not in body
    assert f"<@{fake.bob.id}> · Suno v5" in text_of(messages[1])


async def test_suno_with_own_lyrics_through_the_modal(harness):
    """lyrics:True opens a form; its lyrics, style and title are submitted in custom mode."""
    fake, sim = harness.fake, harness.sim
    it = await fake.slash_command("suno", {"prompt": "sad country", "lyrics": True}, user=fake.alice)
    opened = await it.wait_response()
    assert opened["type"] == 9
    form = {"lyrics": "[Verse]\nMy truck broke down\n[Chorus]\nOh no", "style": "sad country, banjo", "title": "Truck"}
    submit = await fake.submit_modal(opened["data"]["custom_id"], form, user=fake.alice, interaction_from=it)
    assert (await submit.wait_response())["type"] == 5
    await wait_delivery(fake)
    body = sim.requests_to("submit_music")[0].body
    assert (body["prompt"], body["tags"], body["title"]) == (form["lyrics"], form["style"], "Truck")


async def test_modal_with_blank_lyrics_is_refused(harness):
    """Blank lyrics in the form get a friendly private error and nothing is submitted."""
    fake, sim = harness.fake, harness.sim
    it = await fake.slash_command("suno", {"prompt": "x", "lyrics": True}, user=fake.alice)
    opened = await it.wait_response()
    submit = await fake.submit_modal(opened["data"]["custom_id"], {"lyrics": "   ", "style": "", "title": ""},
                                     user=fake.alice, interaction_from=it)
    reply = await submit.wait_response()
    assert reply["data"]["flags"] & 64
    assert sim.count("submit_music") == 0


async def test_status_lists_recent_jobs_privately(harness):
    """/status shows the member's jobs, newest first, with a link to the delivered song; only they see it."""
    fake = harness.fake
    await fake.slash_command("suno", {"prompt": "first tune"}, user=fake.alice)
    (delivered,) = await wait_delivery(fake)
    await delivered_in_store(harness, 1)
    it = await fake.slash_command("status", {}, user=fake.alice)
    reply = await it.wait_response()
    assert reply["data"]["flags"] & 64
    description = reply["data"]["embeds"][0]["description"]
    assert "first tune" in description
    assert delivered["id"] in description


async def test_status_of_one_job(harness):
    """/status job:<n> shows that song in detail; its CometAPI task id is only in Info's small print."""
    fake, sim = harness.fake, harness.sim
    await fake.slash_command("suno", {"prompt": "detail please"}, user=fake.alice)
    await wait_delivery(fake)
    it = await fake.slash_command("status", {"job": 1}, user=fake.alice)
    embed = (await it.wait_response())["data"]["embeds"][0]
    task_id = sim.requests_to("batch_fetch")[0].body["ids"][0]
    assert "song #1" in embed["description"] and task_id not in str(embed)
    info = await fake.select((await wait_delivery(fake))[0], "chorus:more:1", ["info"], user=fake.alice)
    assert task_id in (await info.wait_response())["data"]["embeds"][0]["description"].splitlines()[-1]
    missing = await fake.slash_command("status", {"job": 999}, user=fake.alice)
    assert "no song #999" in (await missing.wait_response())["data"]["content"]
