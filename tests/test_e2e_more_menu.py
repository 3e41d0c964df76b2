"""The More menu of a song post and the admins' one-line answers, through the fake Discord.

More is one short list with no second-level Tools menu: first what is about the song as a whole (its cover art, its
video, stems and a persona, which ask for the take in the step they need anyway), then each take's downloads (WAV,
MIDI, synced lyrics) grouped by take, then Info and Delete. The lyrics are in the post; More offers them only when
the post could not carry them. Every option answers exactly once; menus on posts made before keep answering.
/chorus changes answer in one line.
"""

from __future__ import annotations

import asyncio

from bot.ui.song_files import lyrics_files
from tests.e2e import answers, buttons, components, text_of, wait_delivery

# The More menus of posts made before (a two-take Suno song): these values must keep answering.
OLD_MENU = ["lyrics:1", "cover:1", "video:1", "tools:1", "lyrics:2", "cover:2", "video:2", "tools:2", "info", "delete"]
BY_TAKE_MENU = [f"{key}:{take}" for take in (1, 2) for key in ("lyrics", "video", "wav", "midi", "lrc", "stems",
                                                                 "persona")] + ["info"]


async def first_song(fake, prompt="a song with a menu"):
    await fake.slash_command("suno", {"prompt": prompt}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    return message


def menu_of(message):
    (menu,) = [b for b in buttons(message) if b.get("custom_id", "").startswith("chorus:more:")]
    return menu


async def settled(fake, it):
    """The interaction's answers, once nothing more is on its way."""
    await it.wait_response()
    await asyncio.sleep(0.3)
    return answers(fake, it)


async def final_answer(fake, it):
    """The answer that replaced "thinking…" (or the first answer, when there was no thinking)."""
    response = await it.wait_response()
    if response["type"] != 5:
        return response["data"]
    await fake.wait_for(lambda: (it.original() or {}).get("content") or (it.original() or {}).get("attachments")
                        or (it.original() or {}).get("embeds") or None)
    return it.original()


async def test_more_is_one_short_level_grouped_by_take(harness):
    """One level, no "Tools for take A": the song's own options first (cover art, video, stems, persona: one each
    for both takes), then each take's downloads together (A's, then B's), then Info and Delete; no Lyrics (they are
    in the post); at most 12 options for a two-take song (the menu had 16), short labels, and a placeholder that
    names what this post offers."""
    message = await first_song(harness.fake)
    assert [a["filename"] for a in message["attachments"] if a["filename"].endswith(".txt")]  # the lyrics are here
    menu = menu_of(message)
    values = [o["value"] for o in menu["options"]]
    assert not [v for v in values if v.startswith(("tools", "lyrics", "cover:", "stems:", "persona:"))], values
    assert values[:4] == ["cover", "video", "stems", "persona"]
    assert {"wav:1", "midi:1", "lrc:1", "wav:2", "midi:2", "lrc:2"} <= set(values)
    takes = [int(v.split(":")[1]) for v in values if ":" in v]
    assert takes == sorted(takes)  # grouped by take: A's options, then B's
    assert values[-2:] == ["info", "delete"]
    # Play in voice (issue 20, one per take) is counted by its own tests; everything else fits in 12.
    assert len([v for v in values if not v.startswith("voice")]) <= 12, values
    assert all(len(o["label"]) <= 20 for o in menu["options"]), [o["label"] for o in menu["options"]]
    labels = [o["label"] for o in menu["options"]]
    assert "A · WAV" in labels and "B · WAV" in labels and "Cover art" in labels
    placeholder = menu["placeholder"]
    assert "WAV" in placeholder and "stems" in placeholder and "cover" in placeholder.lower()
    assert "lyrics" not in placeholder.replace("synced lyrics", "")
    assert len(placeholder) <= 150


async def test_lyrics_are_in_more_only_when_the_post_could_not_carry_them(harness):
    """A post that could not attach files (the channel refused them) has no lyrics file: its More offers Lyrics,
    which answers privately with the same file the post would have carried, once."""
    fake = harness.fake
    fake.faults.forbid("POST", rf"/channels/{fake.music.id}/messages", code=50013, times=1)  # no attachments here
    message = await first_song(fake)
    assert message["attachments"] == []
    assert "lyrics" in [o["value"] for o in menu_of(message)["options"]]
    it = await fake.select(message, "chorus:more:1", ["lyrics"], user=fake.bob)
    answer = await final_answer(fake, it)
    assert it.response["data"]["flags"] & 64
    (carried,) = lyrics_files(await harness.bot.jobs.get(1))  # the takes sing the same words: one file
    assert [a["filename"] for a in answer["attachments"]] == [carried.filename]
    assert len(await settled(fake, it)) == 1




async def test_cover_art_shows_every_takes_full_cover_at_once(harness):
    """Cover art answers privately with each take's full-size cover, one picture per take, in one answer."""
    fake = harness.fake
    message = await first_song(fake)
    it = await fake.select(message, "chorus:more:1", ["cover"], user=fake.bob)
    answer = await final_answer(fake, it)
    assert it.response["data"]["flags"] & 64
    assert [e["title"].rsplit(" · ", 1)[-1] for e in answer["embeds"]] == ["take A", "take B"]
    assert all(e["image"]["url"].startswith("http") for e in answer["embeds"])
    assert len({e["image"]["url"] for e in answer["embeds"]}) == 2
    assert len(await settled(fake, it)) == 1


async def test_a_tool_answers_privately_once_from_the_first_menu(harness):
    """B · WAV, picked on the post itself, asks CometAPI once for take B and answers that member privately, once."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    it = await fake.select(message, "chorus:more:1", ["wav:2"], user=fake.bob)
    answer = await final_answer(fake, it)
    assert ".wav)" in answer["content"] and "take B" in answer["content"]
    assert it.response["data"]["flags"] & 64
    assert len(await settled(fake, it)) == 1
    take_b = (await harness.bot.jobs.get(1)).result["clips"][1]["id"]
    assert [r.path.rsplit("/", 1)[-1] for r in sim.requests_to("wav")] == [take_b]
    assert "may charge" in answer["content"] or "may be charged" in answer["content"]


async def test_stems_ask_which_take_and_kind_before_anything_is_paid(harness):
    """Stems answers privately with each take's two kinds and what each counts as (one option on the post, the take
    picked in the step that was there anyway); nothing is submitted until one is picked, then exactly one stems
    job of that take starts, its card naming it "Suno stems"."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    it = await fake.select(message, "chorus:more:1", ["stems"], user=fake.bob)
    choice = await final_answer(fake, it)
    assert it.response["data"]["flags"] & 64 and len(await settled(fake, it)) == 1
    options = {o["value"]: o for b in buttons(choice) for o in b.get("options", [])}
    assert list(options) == ["stems:two@1", "stems:twelve@1", "stems:two@2", "stems:twelve@2"]
    assert [o["label"] for o in options.values()] == ["A · Vocals + instrumental", "A · Every track",
                                                      "B · Vocals + instrumental", "B · Every track"]
    assert "1 song" in options["stems:two@1"]["description"]
    assert "5 songs" in options["stems:twelve@2"]["description"]
    assert not [r for r in sim.requests_to("submit_music") if r.body.get("task") == "gen_stem"]
    picked = await fake.select(it.original(), "chorus:tools:1:0", ["stems:two@2"], user=fake.bob)
    card = await picked.wait_original(lambda m: bool(m.get("embeds")))
    assert "Suno stems" in card["embeds"][0]["title"] and "?" not in card["embeds"][0]["title"]
    await wait_delivery(fake, 2)
    (submit,) = [r for r in sim.requests_to("submit_music") if r.body.get("task") == "gen_stem"]
    take_b = (await harness.bot.jobs.get(1)).result["clips"][1]["id"]
    assert take_b in str(submit.body)
    assert (await harness.bot.jobs.get(2)).params["take"] == 2
    assert len(answers(fake, picked)) == 1


async def test_persona_asks_whose_voice_in_its_form(harness):
    """Persona is one option for both takes: its form asks for the name and which take's voice (no extra step);
    the persona is made from the take picked. Someone else is told who may, once."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    stranger = await fake.select(message, "chorus:more:1", ["persona"], user=fake.bob)
    assert "Only" in (await stranger.wait_response())["data"]["content"]
    it = await fake.select(message, "chorus:more:1", ["persona"], user=fake.alice)
    form = await it.wait_response()
    assert form["type"] == 9
    (take,) = [c for c in components(form["data"]) if c.get("custom_id") == "take"]
    assert [o["label"] for o in take["options"]] == ["Take A", "Take B"]
    submit = await fake.submit_modal(form["data"]["custom_id"], {"name": "Second Voice", "take": ["2"]},
                                     user=fake.alice, interaction_from=it)
    done = await submit.wait_original(lambda m: "is ready" in (m.get("content") or ""))
    assert done["flags"] & 64 and "Second Voice" in done["content"]
    take_b = (await harness.bot.jobs.get(1)).result["clips"][1]["id"]
    (request,) = sim.requests_to("persona")
    assert take_b in str(request.body)
    assert len(answers(fake, it)) == 1 and len(answers(fake, stranger)) == 1


async def test_every_option_of_the_menu_answers_exactly_once(harness):
    """Each option of a fresh song's More menu gets one answer, never none and never two (Delete last)."""
    fake = harness.fake
    message = await first_song(fake)
    values = [o["value"] for o in menu_of(message)["options"]]
    for value in [v for v in values if v != "delete"] + ["delete"]:
        it = await fake.select(message, "chorus:more:1", [value], user=fake.alice)
        assert len(await settled(fake, it)) == 1, value


def old_post(fake, values):
    """A post as an earlier version of the bot left it, with a More menu of these values."""
    return fake.state.messages.create(fake.music, fake.world.bot, {"flags": 1 << 15, "components": [{
        "type": 17, "components": [{"type": 10, "content": "### 🎶 An old post"}, {"type": 1, "components": [{
            "type": 3, "custom_id": "chorus:more:1", "placeholder": "More: lyrics, cover, video, info…",
            "options": [{"label": value, "value": value} for value in values]}]}]}]}, [])


async def test_an_old_posts_menu_keeps_answering(harness):
    """Posts made before the menu changed (Lyrics A, Cover A, Video A, Tools for take A, …; then A · Lyrics &
    cover, A · Stems, A · Persona, …) still answer each of their options once; the Tools and stems menus work."""
    fake = harness.fake
    await first_song(fake)
    old = old_post(fake, OLD_MENU)
    for value in [v for v in OLD_MENU if v != "delete"]:
        it = await fake.select(old, "chorus:more:1", [value], user=fake.bob)
        assert len(await settled(fake, it)) == 1, value
    tools = await fake.select(old, "chorus:more:1", ["tools:1"], user=fake.bob)
    await tools.wait_response()
    picked = await fake.select(tools.original(), "chorus:tools:1:1", ["mp4"], user=fake.bob)
    assert ".mp4)" in (await final_answer(fake, picked))["content"]
    by_take = old_post(fake, BY_TAKE_MENU)
    for value in BY_TAKE_MENU:
        it = await fake.select(by_take, "chorus:more:1", [value], user=fake.bob)
        assert len(await settled(fake, it)) == 1, value
    stems = await fake.select(by_take, "chorus:more:1", ["stems:2"], user=fake.bob)
    options = [o["value"] for b in buttons(await final_answer(fake, stems)) for o in b.get("options", [])]
    assert options == ["stems:two", "stems:twelve"]  # that take's, as before
    lyrics = await fake.select(by_take, "chorus:more:1", ["lyrics:2"], user=fake.bob)
    assert "take B" in (await final_answer(fake, lyrics))["embeds"][0]["title"]


async def test_video_comes_from_the_song_without_a_paid_call(harness):
    """Video links every take's video, the ones the song came with: no call to CometAPI's video route."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    it = await fake.select(message, "chorus:more:1", ["video"], user=fake.bob)
    answer = await final_answer(fake, it)
    assert answer["content"].count(".mp4)") == 2 and "take A" in answer["content"] and "take B" in answer["content"]
    assert sim.count("mp4") == 0 and it.response["data"]["flags"] & 64


async def test_a_take_without_its_video_offers_it_per_take(harness):
    """When the takes came without their videos (asking Suno's video route may be charged), Video is offered per
    take, so a member asks for the one they want."""
    fake, sim = harness.fake, harness.sim
    sim.relay.clip_videos = False
    message = await first_song(fake)
    values = [o["value"] for o in menu_of(message)["options"]]
    assert "video" not in values and {"video:1", "video:2"} <= set(values)
    it = await fake.select(message, "chorus:more:1", ["video:2"], user=fake.bob)
    assert ".mp4)" in (await final_answer(fake, it))["content"] and sim.count("mp4") == 1


async def test_old_lyrics_and_cover_come_together(harness):
    """An older post's A · Lyrics & cover shows that take's full lyrics with its full-size cover, privately."""
    fake = harness.fake
    await first_song(fake)
    it = await fake.select(old_post(fake, BY_TAKE_MENU), "chorus:more:1", ["lyrics:1"], user=fake.bob)
    answer = await final_answer(fake, it)
    (embed,) = answer["embeds"]
    assert embed["description"] and embed["image"]["url"].startswith("http") and "take A" in embed["title"]
    assert it.response["data"]["flags"] & 64


# ---- /chorus answers in one line ---------------------------------------------------------------------------------


async def admin_says(fake, command, options=None):
    it = await fake.slash_command(f"chorus {command}", options or {}, user=fake.admin)
    return (await it.wait_response())["data"]


async def test_admin_changes_answer_in_one_line(harness):
    """A change is confirmed in one private line saying what it is now, not the whole settings block again."""
    fake = harness.fake
    for command, options, needle in [
        ("limits", {"daily": 5, "cooldown": 600}, "10 minutes"),
        ("limits", {"daily": 1}, "1 song a day"),
        ("limits", {"cooldown": 0}, "no cooldown"),
        ("battle-length", {"minutes": 1}, "1 minute"),
        ("battle-length", {"minutes": 1440}, "1 day"),
        ("provider", {"provider": "udio", "enabled": False}, "Udio is off"),
        ("all-channels", {}, "every channel"),
    ]:
        data = await admin_says(fake, command, options)
        assert data["flags"] & 64
        assert not data.get("embeds"), command
        assert "\n" not in data["content"] and needle in data["content"], data["content"]
        assert "1 minutes" not in data["content"]
    full = await admin_says(fake, "settings")
    assert full["embeds"] and "Cooldown between songs: none" in full["embeds"][0]["fields"][-1]["value"]


async def test_the_song_post_and_card_say_song_not_job(harness):
    """The card, the post and /history say song #n; /status job:<n> shows no CometAPI task."""
    fake = harness.fake
    it = await fake.slash_command("suno", {"prompt": "numbers"}, user=fake.alice)
    card = await it.wait_original(lambda m: bool(m["embeds"]))
    assert "song #1" in card["embeds"][0]["description"] and "job #" not in card["embeds"][0]["description"]
    (song,) = await wait_delivery(fake)
    assert "song #1" in text_of(song) and "job #" not in text_of(song)
    status = await fake.slash_command("status", {"job": 1}, user=fake.alice)
    data = (await status.wait_response())["data"]
    assert not [f for f in data["embeds"][0].get("fields", []) if "CometAPI" in f["name"]]
