"""The More menu of a song post and the admins' one-line answers, through the fake Discord.

More offers each take's things (lyrics and cover, video, WAV, MIDI, synced lyrics, stems, a persona) in one list
grouped by take, with no second-level Tools menu; every option answers exactly once; menus on posts made before
keep answering. /chorus changes answer in one line.
"""

from __future__ import annotations

import asyncio

from tests.e2e import answers, buttons, text_of, wait_delivery

# The More menu as posts made before this change carry it (a two-take Suno song): these values must keep answering.
OLD_MENU = ["lyrics:1", "cover:1", "video:1", "tools:1", "lyrics:2", "cover:2", "video:2", "tools:2", "info", "delete"]


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


async def test_more_groups_each_takes_tools_in_one_short_menu(harness):
    """One level: no "Tools for take A"; each take's options together (A's, then B's), short labels, fewer options
    than the old menu plus its Tools menus, and a placeholder that names what this post offers."""
    message = await first_song(harness.fake)
    menu = menu_of(message)
    values = [o["value"] for o in menu["options"]]
    assert not [v for v in values if v.startswith("tools")]
    assert {"wav:1", "midi:1", "stems:1", "persona:1", "video:1", "lyrics:1", "wav:2", "stems:2"} <= set(values)
    takes = [int(v.split(":")[1]) for v in values if ":" in v]
    assert takes == sorted(takes)  # grouped by take: A's options, then B's
    assert len(values) < 10 + 7  # the old menu had 10 options plus 7 in each take's Tools menu
    assert all(len(o["label"]) <= 20 for o in menu["options"]), [o["label"] for o in menu["options"]]
    labels = [o["label"] for o in menu["options"]]
    assert "A · WAV" in labels and "B · WAV" in labels
    placeholder = menu["placeholder"]
    assert "WAV" in placeholder and "stems" in placeholder and "cover" in placeholder
    assert len(placeholder) <= 150


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


async def test_stems_ask_which_and_what_they_count_before_anything_is_paid(harness):
    """A · Stems answers privately with the two kinds and what each counts as; nothing is submitted until one is
    picked, then exactly one stems job starts, its card naming it "Suno stems"."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    it = await fake.select(message, "chorus:more:1", ["stems:1"], user=fake.bob)
    choice = await final_answer(fake, it)
    assert it.response["data"]["flags"] & 64 and len(await settled(fake, it)) == 1
    options = {o["value"]: o for b in buttons(choice) for o in b.get("options", [])}
    assert set(options) == {"stems:two", "stems:twelve"}
    assert "1 song" in options["stems:two"]["description"] and "5 songs" in options["stems:twelve"]["description"]
    assert not [r for r in sim.requests_to("submit_music") if r.body.get("task") == "gen_stem"]
    picked = await fake.select(it.original(), "chorus:tools:1:1", ["stems:two"], user=fake.bob)
    card = await picked.wait_original(lambda m: bool(m.get("embeds")))
    assert "Suno stems" in card["embeds"][0]["title"] and "?" not in card["embeds"][0]["title"]
    await wait_delivery(fake, 2)
    assert len([r for r in sim.requests_to("submit_music") if r.body.get("task") == "gen_stem"]) == 1
    assert len(answers(fake, picked)) == 1


async def test_every_option_of_the_menu_answers_exactly_once(harness):
    """Each option of a fresh song's More menu gets one answer, never none and never two (Delete last)."""
    fake = harness.fake
    message = await first_song(fake)
    values = [o["value"] for o in menu_of(message)["options"]]
    for value in [v for v in values if v != "delete"] + ["delete"]:
        it = await fake.select(message, "chorus:more:1", [value], user=fake.alice)
        assert len(await settled(fake, it)) == 1, value


async def test_an_old_posts_menu_keeps_answering(harness):
    """A post made before the menu changed (Lyrics A, Cover A, Video A, Tools for take A, …) still answers each
    of its options once; its Tools menu still works."""
    fake = harness.fake
    await first_song(fake)
    old = fake.state.messages.create(fake.music, fake.world.bot, {"flags": 1 << 15, "components": [{
        "type": 17, "components": [{"type": 10, "content": "### 🎶 An old post"}, {"type": 1, "components": [{
            "type": 3, "custom_id": "chorus:more:1", "placeholder": "More: lyrics, cover, video, info…",
            "options": [{"label": value, "value": value} for value in OLD_MENU]}]}]}]}, [])
    for value in [v for v in OLD_MENU if v != "delete"]:
        it = await fake.select(old, "chorus:more:1", [value], user=fake.bob)
        assert len(await settled(fake, it)) == 1, value
    tools = await fake.select(old, "chorus:more:1", ["tools:1"], user=fake.bob)
    await tools.wait_response()
    picked = await fake.select(tools.original(), "chorus:tools:1:1", ["mp4"], user=fake.bob)
    assert ".mp4)" in (await final_answer(fake, picked))["content"]


async def test_video_comes_from_the_song_without_a_paid_call(harness):
    """A · Video links the video the song came with: no call to CometAPI's video route."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    it = await fake.select(message, "chorus:more:1", ["video:1"], user=fake.bob)
    answer = await final_answer(fake, it)
    assert ".mp4)" in answer["content"] and sim.count("mp4") == 0


async def test_lyrics_and_cover_come_together(harness):
    """A · Lyrics & cover shows that take's full lyrics with its full-size cover, privately."""
    fake = harness.fake
    message = await first_song(fake)
    it = await fake.select(message, "chorus:more:1", ["lyrics:1"], user=fake.bob)
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
