"""The rest of Suno through the fake Discord: a take's tools, stems, personas, style suggestions and credit."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from tests.e2e import answers, buttons, posts, private_answer, text_of, wait_delivery

FIXTURES = Path(__file__).parent / "fixtures"


async def first_song(fake, prompt="a song with tools"):
    await fake.slash_command("suno", {"prompt": prompt}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    return message


async def tools_of(fake, message, user, take=1):
    """A take's tools are in the post's More menu itself (`wav:1`, …; Stems and Persona once for the song, the take
    picked in their next step): the post and the take."""
    return message, take


async def use_tool(fake, opened, value, user):
    """Pick one tool of the take in the post's More menu (`mp4` is its Video; `stems:two` picks Stems, then that
    take's kind in the private menu that answers; `persona` opens the form, take A picked as it opens); return the
    interaction that runs the tool."""
    message, take = opened
    what, _, stem = value.partition(":")
    picked = await fake.select(message, "chorus:more:1", [{"mp4": f"video:{take}", "stems": "stems",
                                                           "persona": "persona"}.get(what, f"{what}:{take}")],
                               user=user)
    if not stem:
        return picked
    choice = await picked.wait_response()
    assert choice["data"]["flags"] & 64
    return await fake.select(picked.original(), "chorus:tools:1:0", [f"{value}@{take}"], user=user)


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


async def test_the_tools_never_tell_members_they_are_free(harness):
    """CometAPI publishes no price for a take's tools: what they answer says CometAPI may charge for them, stems claim
    no made-up multiple of a song, and a tool that is not available does not claim that nothing was charged."""
    fake, sim = harness.fake, harness.sim
    sim.state.relay.switched_off.add("wav")
    message = await first_song(fake)
    opened = await tools_of(fake, message, fake.alice)
    midi = await final_answer(fake, await use_tool(fake, opened, "midi", fake.alice))
    assert "may charge" in midi["content"] and "not published" in midi["content"]
    stems = await fake.select(message, "chorus:more:1", ["stems"], user=fake.alice)
    await stems.wait_response()
    descriptions = [o.get("description", "") for menu in (message, stems.original()) for b in buttons(menu)
                    for o in b.get("options", [])]
    assert not [d for d in descriptions if "five songs" in d or "free" in d.lower()]
    it = await use_tool(fake, opened, "wav", fake.alice)
    answer = await final_answer(fake, it)
    assert "not available on CometAPI right now" in answer["content"]
    assert "charged" not in answer["content"]


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
    assert "Stems of “A Song With Tools”, take A" in text and "Vocals" in text and "Instrumental" in text
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
    ready = await made.wait_original(lambda m: "Captain Shanty" in m["content"])
    assert ready["flags"] & 64  # tools answer privately
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


async def test_the_persona_form_answers_first_and_privately(harness):
    """Making a persona asks CometAPI, which may take longer than Discord's 3 seconds: the form is acknowledged
    (privately) before CometAPI answers, and "is ready" reaches only the member who made it, as one answer; nothing
    is posted in the channel."""
    from bot.simulator.faults import Fault

    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    opened = await tools_of(fake, message, fake.alice)
    click = await use_tool(fake, opened, "persona", fake.alice)
    form = await click.wait_response()
    sim.faults.script("persona", [Fault("hang", hang_seconds=4.0)])  # CometAPI answers after Discord's 3 s
    made = await fake.submit_modal(form["data"]["custom_id"], {"name": "Captain Slow"}, user=fake.alice,
                                   interaction_from=click)
    first = await made.wait_response()
    assert first["type"] == 5 and first["data"]["flags"] & 64
    assert await harness.bot.personas.list(fake.guild.id) == []  # acknowledged before CometAPI answered
    ready = await made.wait_original(lambda m: "Captain Slow" in m["content"], timeout=15)
    assert ready["flags"] & 64 and "is ready" in ready["content"]
    assert len(answers(fake, made)) == 1
    assert [m for m in fake.messages_in(fake.music) if "Captain Slow" in text_of(m) and not m["flags"] & 64] == []


async def test_style_suggestions_come_from_the_list_then_suno(harness):
    """Typing a style suggests the built-in styles first, then Suno's richer take (tag upsampling); where CometAPI
    does not serve upsampling, the built-in list alone."""
    fake, sim = harness.fake, harness.sim
    it = await fake.autocomplete("suno", {"prompt": "x", "style": "sea shanty"}, "style", user=fake.alice)
    names = [c["name"] for c in (await it.wait_response())["data"]["choices"]]
    assert names[0] == "sea shanty" and names[1].startswith("sea shanty, warm analog")
    sim.state.relay.switched_off.add("tags")
    again = await fake.autocomplete("suno", {"prompt": "x", "style": "jaz"}, "style", user=fake.bob)
    assert [c["name"] for c in (await again.wait_response())["data"]["choices"]] == ["jaz", "jazz ballad"]
    assert [r.body["original_tags"] for r in sim.requests_to("tags")] == ["sea shanty", "jaz"]


async def test_style_suggestions_ask_suno_only_for_members_the_servers_rules_let_in(harness):
    """Suno's tag upsampling is a call of unknown price: a member the server's rules keep from Suno (here: a role they
    lack) gets the built-in list, answered once, and Suno is not asked; a member with the role gets Suno's take."""
    fake, sim = harness.fake, harness.sim
    admin = await fake.slash_command("chorus role", {"role": fake.admin_role}, user=fake.admin)
    await admin.wait_response()
    kept_out = await fake.autocomplete("suno", {"prompt": "x", "style": "sea shanty"}, "style", user=fake.alice)
    names = [c["name"] for c in (await kept_out.wait_response())["data"]["choices"]]
    assert names == ["sea shanty"] and len(answers(fake, kept_out)) == 1
    assert sim.count("tags") == 0
    let_in = await fake.autocomplete("suno", {"prompt": "x", "style": "sea shanty"}, "style", user=fake.admin)
    names = [c["name"] for c in (await let_in.wait_response())["data"]["choices"]]
    assert names[1].startswith("sea shanty, warm analog")
    assert sim.count("tags") == 1


async def test_typing_a_style_letter_by_letter_asks_suno_once(harness):
    """Discord asks for suggestions on every keystroke; CometAPI's tags route (whose price is not published) is asked
    once, for what the member settled on, and one style is cached, not one per letter. Every keystroke is answered
    once, the early ones from the built-in list."""
    fake, sim = harness.fake, harness.sim
    style = "sea shanty with a banjo"
    typed = []
    for end in range(1, len(style) + 1):
        typed.append(await fake.autocomplete("suno", {"prompt": "x", "style": style[:end]}, "style", user=fake.alice))
        await asyncio.sleep(0.02)  # a quick typist
    replies = [await it.wait_response() for it in typed]
    assert all(len(answers(fake, it)) == 1 for it in typed)
    assert [r.body["original_tags"] for r in sim.requests_to("tags")] == [style]
    assert harness.bot.styles.cache_size == 1
    assert [c["name"] for c in replies[2]["data"]["choices"]][:2] == ["sea", "sea shanty"]
    assert replies[-1]["data"]["choices"][-1]["name"].startswith(f"{style}, warm analog")
    # Typing on a moment later is still one call per member per few seconds, and a known style costs no call.
    more = await fake.autocomplete("suno", {"prompt": "x", "style": style + "s"}, "style", user=fake.alice)
    await more.wait_response()
    known = await fake.autocomplete("suno", {"prompt": "x", "style": style}, "style", user=fake.bob)
    assert (await known.wait_response())["data"]["choices"][-1]["name"].startswith(f"{style}, warm analog")
    assert sim.count("tags") == 1


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


def quota_key(name):
    """One key of the balance host's fixture answer (shared/api/fixtures/user_quota_ok_2026-12.json)."""
    body = json.loads((FIXTURES / "user_quota_ok_2026-12.json").read_text(encoding="utf-8"))
    return next(key for key in body["keys"] if key["name"] == name)


async def balance_shown(fake):
    shown = await fake.slash_command("chorus balance", {}, user=fake.admin)
    await fake.wait_for(lambda: (shown.original() and shown.original()["embeds"]) or None)
    return shown.original()["embeds"][0]["description"]


def low_credit_posts(fake):
    return [m for m in fake.messages_in(fake.general) if "credit is low" in m["content"]]


async def test_an_unlimited_key_reads_unlimited_and_raises_no_alert(harness):
    """The balance host's legacy unlimited key (remain_quota 999999999, used_quota -1) reads "unlimited" in /chorus
    balance, never as a $999,999,999 limit, and with a healthy account no low-credit alert is posted."""
    fake, sim = harness.fake, harness.sim
    sim.state.balance = 42.5
    sim.state.quota_keys = [quota_key("legacy-unlimited")]
    admin = await fake.slash_command("chorus credit-alert", {"channel": fake.general, "below": 5}, user=fake.admin)
    await admin.wait_response()
    await harness.bot.credit.check()
    description = await balance_shown(fake)
    assert "$42.50" in description and "unlimited" in description
    # Not the key's placeholder number (a channel's mention may hold the digits: its snowflake is random).
    shown = re.sub(r"<#\d+>", "#channel", description)
    assert "999" not in shown
    assert low_credit_posts(fake) == []


async def test_a_key_near_its_own_limit_alerts_although_the_account_has_plenty(harness):
    """A key with a quota of its own stops songs when that quota is spent, so the alert reads the key's remainder
    too: a healthy account with a nearly spent key warns once, naming the key's limit."""
    fake, sim = harness.fake, harness.sim
    sim.state.balance = 42.5
    sim.state.quota_keys = [{**quota_key("chorus-bot"), "remain_quota": 1.2}]
    admin = await fake.slash_command("chorus credit-alert", {"channel": fake.general, "below": 5}, user=fake.admin)
    await admin.wait_response()
    await harness.bot.credit.check()
    (warning,) = await fake.wait_for(lambda: low_credit_posts(fake) or None)
    assert "$1.20" in warning["content"] and "key" in warning["content"]
    assert "$1.20" in await balance_shown(fake)


async def test_an_alert_switched_on_while_the_credit_is_low_fires_at_once(harness):
    """Switching an alert on while the balance is already under its threshold posts the warning within seconds, not
    at the next regular reading (the harness reads the balance only once an hour)."""
    fake, sim = harness.fake, harness.sim
    await fake.wait_for(lambda: sim.count("quota") or None)  # the reading at start, before any alert was set
    sim.state.balance = 2.0
    admin = await fake.slash_command("chorus credit-alert", {"channel": fake.general, "below": 5}, user=fake.admin)
    await admin.wait_response()
    (warning,) = await fake.wait_for(lambda: low_credit_posts(fake) or None, timeout=3)
    assert "$2.00" in warning["content"] and "about 20 songs at $0.10 a song" in warning["content"]
    await asyncio.sleep(0.2)
    assert len(low_credit_posts(fake)) == 1


async def test_the_balance_is_read_every_credit_check_interval(fake_discord, simulator, tmp_path):
    """CREDIT_CHECK_INTERVAL sets how often the balance is read: a balance that falls later is noticed at the next
    reading, with nobody asking."""
    from tests.harness import BotHarness

    running = BotHarness(fake_discord, simulator, tmp_path / "chorus.db", overrides={"credit_check_interval": 0.1})
    await running.start()
    try:
        fake = fake_discord
        admin = await fake.slash_command("chorus credit-alert", {"channel": fake.general, "below": 5},
                                         user=fake.admin)
        await admin.wait_response()
        await asyncio.sleep(0.3)
        assert low_credit_posts(fake) == []
        simulator.state.balance = 1.5
        (warning,) = await fake.wait_for(lambda: low_credit_posts(fake) or None, timeout=3)
        assert "$1.50" in warning["content"]
    finally:
        await running.stop()


async def test_running_out_of_credit_tells_members_and_alerts_admins_once(harness):
    """A submit refused for lack of credit tells the member privately that the server's credit ran out (nothing
    stays in the channel, once per member who tries), and admins once."""
    fake, sim = harness.fake, harness.sim
    admin = await fake.slash_command("chorus credit-alert", {"channel": fake.general, "below": 0.01}, user=fake.admin)
    await admin.wait_response()
    sim.state.balance = 0.05  # above the alert's threshold, below a song's price (0.1)
    for prompt in ("one", "two"):
        it = await fake.slash_command("suno", {"prompt": prompt}, user=fake.alice)
        original = await private_answer(fake, it)
        assert "credit ran out" in original["content"]
    await asyncio.sleep(0.2)
    alerts = [m for m in fake.messages_in(fake.general) if "credit ran out" in m["content"]]
    assert len(alerts) == 1
    assert posts(fake) == []
    assert [m for m in fake.messages_in(fake.music) if not m["flags"] & 64] == []


async def test_tools_menu_answers_once_and_buttons_survive_a_restart(harness):
    """The private stems menu works after a restart (its custom_id carries the job and take)."""
    fake = harness.fake
    message = await first_song(fake)
    picked = await fake.select(message, "chorus:more:1", ["stems"], user=fake.alice)
    await picked.wait_response()
    await harness.restart()
    it = await fake.select(picked.original(), "chorus:tools:1:0", ["stems:two@1"], user=fake.alice)
    assert (await it.wait_response())["type"] == 5
    await wait_delivery(fake, 2)
    assert len(answers(fake, it)) == 1


async def test_a_cover_of_your_own_audio_uploads_then_sings_once(harness):
    """/cover uploads the member's attachment to Suno, then submits one cover of the uploaded clip (custom
    fields, the upload named in `cover_clip_id`), delivers it once, and counts one song."""
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
    assert (covers[0]["task"], covers[0]["cover_clip_id"], covers[0]["tags"]) == ("cover", uploaded_clip, "bossa nova")
    assert "continue_clip_id" not in covers[0] and "continue_at" not in covers[0]  # see tests/test_e2e_paid_door.py
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
    (private,) = await fake.wait_for(lambda: it.followups() or None)
    assert private["flags"] & 64 and "could not be started" in private["content"]
    assert [b.get("label") for b in buttons(private)] == ["Try again", "Info"]
    # Told privately, the card stays as one line, without buttons.
    card = await it.wait_original(lambda m: bool(m["embeds"]) and "did not work out" in m["embeds"][0]["description"])
    assert buttons(card) == []
    assert sim.count("submit_music") == 1


async def test_a_cover_of_a_file_with_a_long_name_takes_its_title_from_the_name_trimmed(harness):
    """With no `title:`, a cover is named after the file; a long file name is trimmed to Suno's 80 characters
    instead of refusing a title the member never typed."""
    from tests.fakes.discord import Upload

    fake, sim = harness.fake, harness.sim
    stem = "Live at the community hall - rehearsal take 3 (rough mix, before the second verse was rewritten)"
    assert len(stem) > 80
    it = await fake.slash_command("cover", {"audio": Upload(f"{stem}.mp3", b"ID3" + bytes(64), "audio/mpeg"),
                                            "style": "bossa nova"}, user=fake.alice)
    assert (await it.wait_response())["type"] == 5
    await wait_delivery(fake)
    (cover,) = [r.body for r in sim.requests_to("submit_music")]
    assert len(cover["title"]) <= 80 and cover["title"].startswith("Live at the community hall")


async def test_stems_are_named_after_the_song_and_take_and_their_card_is_private(harness):
    """Stems are asked from a private menu, so their status card is private to whoever asked (nothing public until
    the stems are posted), and each track's file is named after the song and take: `<title> - Take A - Vocals.mp3`."""
    fake = harness.fake
    message = await first_song(fake, "a song with stems")
    opened = await tools_of(fake, message, fake.bob)
    it = await use_tool(fake, opened, "stems:two", fake.bob)
    thinking = await it.wait_response()
    assert thinking["type"] == 5 and (thinking.get("data") or {}).get("flags", 0) & 64
    card = await it.wait_original(lambda m: bool(m.get("embeds")))
    assert card["flags"] & 64
    (_, stems) = await wait_delivery(fake, 2)
    title = (await harness.bot.jobs.get(1)).result["clips"][0]["title"]
    assert sorted(a["filename"] for a in stems["attachments"]) == [f"{title} - Take A - Instrumental.mp3",
                                                                  f"{title} - Take A - Vocals.mp3"]
    assert f"Stems of “{title}”, take A" in text_of(stems)
    public = [m for m in fake.messages_in(fake.music) if not m["flags"] & 64]
    assert [m["id"] for m in public] == [message["id"], stems["id"]]


async def test_a_persona_song_says_whose_voice_it_is(harness):
    """A song sung by a persona says so on its post: the persona's name and who made it."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    opened = await tools_of(fake, message, fake.alice)
    click = await use_tool(fake, opened, "persona", fake.alice)
    form = await click.wait_response()
    made = await fake.submit_modal(form["data"]["custom_id"], {"name": "Captain Shanty", "description": "salty"},
                                   user=fake.alice, interaction_from=click)
    await made.wait_original(lambda m: "Captain Shanty" in m["content"])
    it = await fake.slash_command("suno", {"prompt": "a song in that voice", "persona": "Captain Shanty"},
                                  user=fake.bob)
    lyrics_form = await it.wait_response()
    sent = await fake.submit_modal(lyrics_form["data"]["custom_id"], {"lyrics": "yo ho, a new song"}, user=fake.bob,
                                   interaction_from=it)
    assert (await sent.wait_response())["type"] == 5
    (_, song) = await wait_delivery(fake, 2)
    assert f"Sung by **Captain Shanty**, a persona by <@{fake.alice.id}>" in text_of(song)
    assert "a song in that voice" in text_of(song)  # the prompt they typed stays
    assert sim.count("submit_music") == 2


async def test_a_cover_says_it_is_a_cover_of_the_members_file(harness):
    """A cover's post says what it is: a cover of the member's own file, by its name."""
    from tests.fakes.discord import Upload

    fake = harness.fake
    upload = Upload("my demo.mp3", b"ID3" + bytes(2048), "audio/mpeg")
    it = await fake.slash_command("cover", {"audio": upload, "style": "bossa nova"}, user=fake.alice)
    assert (await it.wait_response())["type"] == 5
    (song,) = await wait_delivery(fake)
    assert "A cover of their file “my demo.mp3”" in text_of(song)


async def test_a_takes_tools_and_personas_keep_the_servers_rules(harness):
    """A take's WAV, synced lyrics and MIDI, and a persona, are paid calls of unknown price: a server that keeps songs
    to a role, or switched Suno off, keeps them there too. Refused privately, once, before CometAPI is asked."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    admin = await fake.slash_command("chorus role", {"role": fake.admin_role}, user=fake.admin)
    await admin.wait_response()
    for tool in ("wav", "lrc", "midi"):
        it = await use_tool(fake, await tools_of(fake, message, fake.bob), tool, fake.bob)
        answer = await final_answer(fake, it)
        assert f"<@&{fake.admin_role.id}>" in answer["content"] and answer["flags"] & 64
        assert len(answers(fake, it)) == 1
    click = await use_tool(fake, await tools_of(fake, message, fake.alice), "persona", fake.alice)
    form = await click.wait_response()
    made = await fake.submit_modal(form["data"]["custom_id"], {"name": "Nobody"}, user=fake.alice,
                                   interaction_from=click)
    refused = await made.wait_original(lambda m: bool(m["content"]))
    assert f"<@&{fake.admin_role.id}>" in refused["content"] and refused["flags"] & 64
    assert len(answers(fake, made)) == 1
    # The role's members may; a server that switched Suno off refuses them too.
    off = await fake.slash_command("chorus provider", {"provider": "suno", "enabled": False}, user=fake.admin)
    await off.wait_response()
    it = await use_tool(fake, await tools_of(fake, message, fake.admin), "wav", fake.admin)
    assert "Suno is switched off" in (await final_answer(fake, it))["content"]
    assert (sim.count("wav"), sim.count("timing"), sim.count("midi"), sim.count("persona")) == (0, 0, 0, 0)
    assert await harness.bot.personas.list(fake.guild.id) == []


async def test_a_takes_files_asked_again_come_at_once_without_asking_cometapi(harness):
    """A take's WAV, synced lyrics and MIDI asked a second time (or by a second member) come from what CometAPI
    answered the first time: no second call, which CometAPI may charge for, so the answer no longer says it may; two
    members pressing WAV at the same moment share one call. The server's rules still apply to every ask."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    firsts = {tool: await final_answer(fake, await use_tool(fake, await tools_of(fake, message, fake.alice), tool,
                                                            fake.alice))
              for tool in ("wav", "lrc", "midi")}
    calls = (sim.count("wav"), sim.count("timing"), sim.count("midi"))
    assert calls[0] == 1 and calls[1] == 1 and calls[2] >= 1
    for tool, first in firsts.items():
        it = await use_tool(fake, await tools_of(fake, message, fake.bob), tool, fake.bob)
        again = await final_answer(fake, it)
        assert len(answers(fake, it)) == 1 and again["flags"] & 64
        assert "may charge" in first["content"] and "may charge" not in again["content"]
        assert again["content"].split("\n-#")[0] == first["content"].split("\n-#")[0]
    assert (sim.count("wav"), sim.count("timing"), sim.count("midi")) == calls
    # Take B's WAV, pressed by two members at once: one call to CometAPI, the same link to both.
    from bot.simulator import Fault

    sim.faults.script("wav", [Fault("hang", hang_seconds=0.5)])  # slow to answer: the second press comes meanwhile
    opened = await tools_of(fake, message, fake.alice, take=2)
    both = await asyncio.gather(*(use_tool(fake, opened, "wav", who) for who in (fake.alice, fake.bob)))
    links = [(await final_answer(fake, it))["content"] for it in both]
    assert sim.count("wav") == 2 and links[0].split("\n-#")[0] == links[1].split("\n-#")[0]
    # Kept to the server's rules even when remembered.
    admin = await fake.slash_command("chorus role", {"role": fake.admin_role}, user=fake.admin)
    await admin.wait_response()
    refused = await final_answer(fake, await use_tool(fake, await tools_of(fake, message, fake.bob), "wav", fake.bob))
    assert f"<@&{fake.admin_role.id}>" in refused["content"]


async def test_a_takes_voice_makes_one_persona_only(harness):
    """A second persona from the same take (another name, the same voice) is refused privately, once, before CometAPI
    is asked (each ask may be charged)."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)

    async def make(name: str):
        click = await use_tool(fake, await tools_of(fake, message, fake.alice), "persona", fake.alice)
        form = await click.wait_response()
        made = await fake.submit_modal(form["data"]["custom_id"], {"name": name}, user=fake.alice,
                                       interaction_from=click)
        answer = await made.wait_original(lambda m: bool(m["content"]))
        assert answer["flags"] & 64 and len(answers(fake, made)) == 1
        return answer["content"]

    assert "is ready" in await make("Nova")
    again = await make("Nova Again")
    assert "already the persona “Nova”" in again and "/suno persona:Nova" in again
    assert len(sim.requests_to("persona")) == 1
    assert [p.name for p in await harness.bot.personas.list(fake.guild.id)] == ["Nova"]


async def test_two_persona_forms_sent_at_once_from_one_take_pay_once(harness):
    """Two persona forms for one take, sent while the first is still with CometAPI (a slow answer): the second waits
    its turn, is refused privately as the same voice, and CometAPI is asked once (each ask may be charged)."""
    from bot.simulator.faults import Fault

    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    clicks = [await use_tool(fake, await tools_of(fake, message, fake.alice), "persona", fake.alice) for _ in "ab"]
    forms = [await click.wait_response() for click in clicks]
    sim.faults.script("persona", [Fault("hang", hang_seconds=2.0)])
    made = [await fake.submit_modal(form["data"]["custom_id"], {"name": name}, user=fake.alice, interaction_from=click)
            for form, click, name in zip(forms, clicks, ("Nova", "Vega"), strict=True)]
    finals = [await it.wait_original(lambda m: bool(m["content"]), timeout=15) for it in made]
    (made_one,) = await harness.bot.personas.list(fake.guild.id)  # whichever form was taken first
    assert sorted("is ready" in final["content"] for final in finals) == [False, True]
    refused = next(final["content"] for final in finals if "is ready" not in final["content"])
    assert f"already the persona “{made_one.name}”" in refused
    assert all(final["flags"] & 64 for final in finals)
    assert all(len(answers(fake, it)) == 1 for it in made)
    assert len(sim.requests_to("persona")) == 1
