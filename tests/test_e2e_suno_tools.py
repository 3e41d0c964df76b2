"""The rest of Suno through the fake Discord: a take's tools, stems, personas, style suggestions and credit."""

from __future__ import annotations

import asyncio

from tests.e2e import answers, buttons, posts, text_of, wait_delivery


async def first_song(fake, prompt="a song with tools"):
    await fake.slash_command("suno", {"prompt": prompt}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    return message


async def tools_of(fake, message, user, take=1):
    """More → Tools for take N: the private menu of that take's tools."""
    it = await fake.select(message, "chorus:more:1", [f"tools:{take}"], user=user)
    reply = await it.wait_response()
    assert reply["data"]["flags"] & 64
    return it


async def use_tool(fake, opened, value, user):
    """Pick one tool from the private tools menu; return the interaction."""
    menu = opened.original()
    return await fake.select(menu, "chorus:tools:1:1", [value], user=user)


async def final_answer(fake, it):
    """The answer that replaced "thinking…"."""
    await fake.wait_for(lambda: (it.original() or {}).get("content") or (it.original() or {}).get("attachments")
                        or None)
    return it.original()


async def test_wav_and_video_links_come_privately(harness):
    """WAV and MP4 are links from CometAPI's routes, answered once and privately to whoever asked."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    opened = await tools_of(fake, message, fake.bob)
    wav = await use_tool(fake, opened, "wav", fake.bob)
    answer = await final_answer(fake, wav)
    assert ".wav)" in answer["content"] and wav.response["type"] == 5
    assert len(answers(fake, wav)) == 1
    take_a = (await harness.bot.jobs.get(1)).result["clips"][0]["id"]
    assert [r.path.rsplit("/", 1)[-1] for r in sim.requests_to("wav")] == [take_a]


async def test_synced_lyrics_come_as_an_lrc_file(harness):
    """Synced lyrics are an .lrc file with timed lines, plus a readable preview."""
    fake = harness.fake
    message = await first_song(fake)
    opened = await tools_of(fake, message, fake.alice)
    it = await use_tool(fake, opened, "lrc", fake.alice)
    answer = await final_answer(fake, it)
    (file,) = answer["attachments"]
    assert file["filename"].endswith(" - Take A.lrc")
    assert "[00:" in answer["content"]


async def test_midi_waits_for_the_transcription_then_sends_a_midi_file(harness):
    """MIDI answers "running" for a while; the bot keeps asking, then sends a real Standard MIDI File."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    opened = await tools_of(fake, message, fake.alice)
    it = await use_tool(fake, opened, "midi", fake.alice)
    answer = await final_answer(fake, it)
    (file,) = answer["attachments"]
    assert file["filename"].endswith(".mid")
    data = fake.state.messages.blobs[int(file["id"])].data
    assert data[:4] == b"MThd"
    assert sim.count("midi") == 3  # running, running, complete


async def test_a_switched_off_tool_says_so(harness):
    """A tool CometAPI does not serve (a web page) is "not available right now", once, and nothing breaks."""
    fake, sim = harness.fake, harness.sim
    sim.state.relay.switched_off.add("wav")
    message = await first_song(fake)
    opened = await tools_of(fake, message, fake.alice)
    it = await use_tool(fake, opened, "wav", fake.alice)
    answer = await final_answer(fake, it)
    assert "not available on CometAPI right now" in answer["content"]
    assert len(answers(fake, it)) == 1


async def test_stems_are_a_job_of_their_own_through_the_limits(harness):
    """Stems are a paid job of whoever asked: submitted once with the take, delivered as a stems post."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    opened = await tools_of(fake, message, fake.bob)
    it = await use_tool(fake, opened, "stems:two", fake.bob)
    assert (await it.wait_response())["type"] == 5
    (_, stems) = await wait_delivery(fake, 2)
    (body,) = [r.body for r in sim.requests_to("submit_music") if r.body.get("task") == "gen_stem"]
    assert (body["stem_task"], body["stem_type_group_name"]) == ("two", "Two")
    text = text_of(stems)
    assert "Stems of #1 take A" in text and "Vocals" in text and "Instrumental" in text
    assert f"<@{fake.bob.id}>" in text
    job = await harness.bot.jobs.get(2)
    assert (job.user_id, job.kind, job.parent_job_id) == (fake.bob.id, "stems", 1)


async def test_stems_obey_the_members_limits(harness):
    """Over the daily quota, stems are refused privately with Try again, and nothing is submitted."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    await harness.bot.admin.set_limits(fake.guild.id, by=fake.admin.id, daily_quota=1)
    opened = await tools_of(fake, message, fake.alice)
    it = await use_tool(fake, opened, "stems:twelve", fake.alice)
    reply = await it.wait_response()
    assert reply["data"]["flags"] & 64 and "daily limit" in reply["data"]["content"]
    assert not [r for r in sim.requests_to("submit_music") if r.body.get("task") == "gen_stem"]


async def test_a_persona_is_made_by_the_requester_and_sings_a_new_song(harness):
    """The song's requester makes a persona from a take; anyone can then sing in it with /suno persona:,
    which asks for lyrics (a persona sings lyrics) and submits them in that voice."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    stranger = await use_tool(fake, await tools_of(fake, message, fake.bob), "persona", fake.bob)
    assert "Only" in (await stranger.wait_response())["data"]["content"]
    opened = await tools_of(fake, message, fake.alice)
    click = await use_tool(fake, opened, "persona", fake.alice)
    form = await click.wait_response()
    assert form["type"] == 9
    made = await fake.submit_modal(form["data"]["custom_id"], {"name": "Captain Shanty", "description": "salty"},
                                   user=fake.alice, interaction_from=click)
    assert "Captain Shanty" in (await made.wait_response())["data"]["content"]
    (persona_request,) = sim.requests_to("persona")
    choices = await fake.autocomplete("suno", {"prompt": "x", "persona": "capt"}, "persona", user=fake.bob)
    assert [c["value"] for c in (await choices.wait_response())["data"]["choices"]] == ["Captain Shanty"]
    it = await fake.slash_command("suno", {"prompt": "a song in that voice", "persona": "Captain Shanty"},
                                  user=fake.bob)
    lyrics_form = await it.wait_response()
    assert lyrics_form["type"] == 9
    sent = await fake.submit_modal(lyrics_form["data"]["custom_id"], {"lyrics": "yo ho, a new song"}, user=fake.bob,
                                   interaction_from=it)
    assert (await sent.wait_response())["type"] == 5
    await fake.wait_for(lambda: sim.count("submit_music") == 2 or None)
    body = sim.requests_to("submit_music")[1].body
    assert (body["task"], body["artist_clip_id"]) == ("artist_consistency", persona_request.body["root_clip_id"])
    assert body["persona_id"] and body["prompt"] == "yo ho, a new song"
    listed = await fake.slash_command("persona list", {}, user=fake.bob)
    assert "Captain Shanty" in (await listed.wait_response())["data"]["content"]


async def test_style_suggestions_come_from_suno_or_a_list(harness):
    """Typing a style suggests Suno's richer take (tag upsampling) first, then popular styles."""
    fake, sim = harness.fake, harness.sim
    it = await fake.autocomplete("suno", {"prompt": "x", "style": "sea shanty"}, "style", user=fake.alice)
    names = [c["name"] for c in (await it.wait_response())["data"]["choices"]]
    assert names[0].startswith("sea shanty, warm analog") and "sea shanty" in names
    sim.state.relay.switched_off.add("tags")
    harness.bot.styles._cache.clear()
    again = await fake.autocomplete("suno", {"prompt": "x", "style": "jaz"}, "style", user=fake.alice)
    assert [c["name"] for c in (await again.wait_response())["data"]["choices"]] == ["jaz", "jazz ballad"]


async def test_balance_and_one_warning_per_low_spell(harness):
    """/chorus balance shows the credit; under the admin's threshold one warning is posted, not two; back above,
    the next low spell warns again."""
    fake, sim = harness.fake, harness.sim
    admin = await fake.slash_command("chorus credit-alert", {"channel": fake.general, "below": 5}, user=fake.admin)
    await admin.wait_response()
    sim.state.balance = 3.5
    shown = await fake.slash_command("chorus balance", {}, user=fake.admin)
    await fake.wait_for(lambda: (shown.original() and shown.original()["embeds"]) or None)
    assert "$3.50" in shown.original()["embeds"][0]["description"]
    for _ in range(2):
        await harness.bot.credit.check()
    warnings = [m for m in fake.messages_in(fake.general) if "credit is low" in m["content"]]
    assert len(warnings) == 1 and "$3.50" in warnings[0]["content"]
    sim.state.balance = 50
    await harness.bot.credit.check()
    sim.state.balance = 1
    await harness.bot.credit.check()
    assert len([m for m in fake.messages_in(fake.general) if "credit is low" in m["content"]]) == 2


async def test_running_out_of_credit_tells_members_and_alerts_admins_once(harness):
    """A submit refused for lack of credit tells the member the server's credit ran out, and admins once."""
    fake, sim = harness.fake, harness.sim
    admin = await fake.slash_command("chorus credit-alert", {"channel": fake.general, "below": 1}, user=fake.admin)
    await admin.wait_response()
    sim.state.balance = 0.1
    for prompt in ("one", "two"):
        it = await fake.slash_command("suno", {"prompt": prompt}, user=fake.alice)
        original = await it.wait_original(lambda m: m["content"].startswith("❌"))
        assert "credit ran out" in original["content"]
    await asyncio.sleep(0.2)
    alerts = [m for m in fake.messages_in(fake.general) if "credit ran out" in m["content"]]
    assert len(alerts) == 1
    assert posts(fake) == []


async def test_tools_menu_answers_once_and_buttons_survive_a_restart(harness):
    """The tools menu works after a restart (its custom_id carries the job and take)."""
    fake = harness.fake
    message = await first_song(fake)
    opened = await tools_of(fake, message, fake.alice)
    await harness.restart()
    it = await use_tool(fake, opened, "mp4", fake.alice)
    answer = await final_answer(fake, it)
    assert ".mp4)" in answer["content"]
    assert buttons(opened.original())


async def test_a_cover_of_your_own_audio_uploads_then_sings_once(harness):
    """/cover uploads the member's attachment to Suno, then submits one cover of the uploaded clip (custom
    fields, the upload's task id), delivers it once, and counts one song."""
    from tests.fakes.discord import Upload

    fake, sim = harness.fake, harness.sim
    upload = Upload("my demo.mp3", b"ID3" + bytes(2048), "audio/mpeg")
    it = await fake.slash_command("cover", {"audio": upload, "style": "bossa nova"}, user=fake.alice)
    assert (await it.wait_response())["type"] == 5
    (song,) = await wait_delivery(fake)
    (sent,) = sim.requests_to("upload")
    assert sent.body["url"].startswith("http") and "my demo.mp3" in sent.body["url"].replace("%20", " ")
    covers = [r.body for r in sim.requests_to("submit_music")]
    assert len(covers) == 1
    uploaded_task = sim.requests_to("batch_fetch")[0].body["ids"][0]
    uploaded_clip = sim.state.tasks[uploaded_task].clips[0].id
    assert (covers[0]["task"], covers[0]["continue_clip_id"], covers[0]["task_id"], covers[0]["tags"]) == (
        "cover", uploaded_clip, uploaded_task, "bossa nova",
    )
    assert "continue_at" not in covers[0]
    await asyncio.sleep(0.3)
    assert len(posts(fake)) == 1 and f"<@{fake.alice.id}>" in text_of(song)
    job = await harness.bot.jobs.get(1)
    assert (job.kind, job.state, job.params["stage"]) == ("cover", "succeeded", "cover")


async def test_a_cover_refuses_what_is_not_audio(harness):
    """A file that is not audio is refused privately and nothing reaches Suno."""
    from tests.fakes.discord import Upload

    fake, sim = harness.fake, harness.sim
    it = await fake.slash_command("cover", {"audio": Upload("notes.txt", b"hello", "text/plain"), "style": "x"},
                                  user=fake.alice)
    reply = await it.wait_response()
    assert reply["data"]["flags"] & 64 and "not audio" in reply["data"]["content"]
    assert sim.requests_to("upload") == []


async def test_an_upload_is_restaged_only_once(harness):
    """Two processes (or two rounds) finding the same finished upload restage it once: the cover is paid once."""
    fake = harness.fake
    from tests.fakes.discord import Upload

    await fake.slash_command("cover", {"audio": Upload("a.mp3", b"ID3" + bytes(64), "audio/mpeg"), "style": "x"},
                             user=fake.alice)
    await wait_delivery(fake)
    job = await harness.bot.jobs.get(1)
    assert await harness.bot.store.restage(job.id, task_id="the upload task", params=job.params) is None


async def test_a_cover_that_cannot_start_after_its_upload_is_told_to_the_member(harness):
    """When CometAPI refuses the cover after taking the audio, the member is told (the card turns into the
    failure) instead of waiting on a card that never moves."""
    from tests.fakes.discord import Upload

    fake, sim = harness.fake, harness.sim
    sim.faults.script("submit_music", [500])
    it = await fake.slash_command("cover", {"audio": Upload("b.mp3", b"ID3" + bytes(64), "audio/mpeg"),
                                            "style": "punk"}, user=fake.alice)
    card = await it.wait_original(lambda m: bool(m["embeds"]) and "Not started" in m["embeds"][0]["title"])
    assert "Try again" in [b.get("label") for b in buttons(card)]
    (private,) = await fake.wait_for(lambda: it.followups() or None)
    assert "could not be started" in private["content"]
    assert sim.count("submit_music") == 1
