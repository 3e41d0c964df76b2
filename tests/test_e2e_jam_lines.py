"""A jam that can always be sung, through the real bot, the fake Discord and the simulator: a line that would take
the lyrics past what Suno sings is refused, the starter or a moderator removes lines, and pressing "Make it a song"
again says the song was made and asks before another take."""

from __future__ import annotations

from tests.e2e import answers, buttons, custom_id, text_of, wait_delivery
from tests.fakes.discord import pinged_user_ids
from tests.test_e2e_jams import add_line, open_jam

LONG = "la " * 99 + "la!"  # 300 characters: the longest line the form takes


async def try_line(fake, panel, user, line):
    """Submit a line through the form; the submit's answer."""
    click = await fake.click_button(panel, custom_id(panel, "chorus:jamline:"), user=user)
    opened = await click.wait_response()
    submit = await fake.submit_modal(opened["data"]["custom_id"], {"line": line}, user=user, interaction_from=click)
    reply = await submit.wait_response()
    assert len(answers(fake, submit)) == 1
    return reply["data"]


def added_messages(fake, thread):
    return [m for m in fake.messages_in(thread) if "added:" in (m.get("content") or "")]


async def test_a_line_that_would_take_the_jam_past_what_suno_sings_is_refused(harness):
    """Suno (v5) sings at most 5,000 characters of lyrics: a line that would overflow them is refused privately,
    saying how much room is left; a shorter one that fits is taken, and the song is made of every line."""
    fake, sim = harness.fake, harness.sim
    thread, panel = await open_jam(fake)
    for _ in range(16):
        await add_line(fake, panel, fake.bob, LONG)  # 16 lines of 300 and 15 line breaks = 4,815 characters
    refused = await try_line(fake, panel, fake.admin, LONG)
    assert refused["flags"] & 64
    assert "5,000" in refused["content"] and "184" in refused["content"]  # room left after a line break
    assert len(added_messages(fake, thread)) == 16
    taken = await try_line(fake, panel, fake.admin, "x" * 184)
    assert "added:" in taken["content"]
    make = await fake.click_button(panel, custom_id(panel, "chorus:jamsong:"), user=fake.alice)
    assert (await make.wait_response())["type"] == 5
    await wait_delivery(fake, channel=thread)
    (sent,) = sim.requests_to("submit_music")
    assert len(sent.body["prompt"]) == 5000


async def test_an_older_model_has_less_room(harness):
    """With v4 as the server's Suno model (3,000 characters), the tenth long line is refused."""
    fake, bot = harness.fake, harness.bot
    await bot.admin.set_default_model(fake.guild.id, "suno", "v4", by=fake.admin.id)
    thread, panel = await open_jam(fake)
    for _ in range(9):
        await add_line(fake, panel, fake.bob, LONG)
    refused = await try_line(fake, panel, fake.bob, LONG)
    assert refused["flags"] & 64 and "3,000" in refused["content"]
    assert len(added_messages(fake, thread)) == 9


async def test_the_starter_or_a_moderator_removes_lines(harness):
    """Remove a line: others are refused privately; the starter picks lines privately and they leave the song
    (the thread is told, pinging nobody); a moderator may too."""
    fake, sim = harness.fake, harness.sim
    thread, panel = await open_jam(fake)
    assert [b.get("label") for b in buttons(panel)] == ["Add a line", "Remove a line", "Make it a song"]
    for user, line in ((fake.bob, "first line"), (fake.admin, "a line nobody wants"), (fake.bob, "last line")):
        await add_line(fake, panel, user, line)
    remove = custom_id(panel, "chorus:jamcut:")

    refused = await fake.click_button(panel, remove, user=fake.bob)
    reply = (await refused.wait_response())["data"]
    assert reply["flags"] & 64 and "Only" in reply["content"]

    click = await fake.click_button(panel, remove, user=fake.alice)
    picker = (await click.wait_response())["data"]
    assert picker["flags"] & 64
    (menu,) = [c for c in buttons(picker) if c.get("type") == 3]
    assert [o["label"] for o in menu["options"]] == ["1. first line", "2. a line nobody wants", "3. last line"]
    unwanted = menu["options"][1]["value"]
    shown = click.original()
    pick = await fake.select(shown, menu["custom_id"], [unwanted], user=fake.alice)
    done = await pick.wait_response()
    assert done["type"] == 7 and "a line nobody wants" in done["data"]["content"]
    assert len(answers(fake, click)) == 1 and len(answers(fake, pick)) == 1
    note = await fake.wait_for(lambda: next((m for m in fake.messages_in(thread) if "took out" in m["content"]), None))
    assert f"<@{fake.admin.id}>" in note["content"] and "~~a line nobody wants~~" in note["content"]
    assert pinged_user_ids(note) == set() and fake.message(int(note["id"])).allowed_mentions[0]["parse"] == []

    moderator = await fake.click_button(panel, remove, user=fake.admin)
    assert "first line" in text_of_options(await moderator.wait_response())

    make = await fake.click_button(panel, custom_id(panel, "chorus:jamsong:"), user=fake.alice)
    await make.wait_response()
    (song,) = await wait_delivery(fake, channel=thread)
    assert sim.requests_to("submit_music")[0].body["prompt"].splitlines() == ["first line", "last line"]
    assert f"<@{fake.admin.id}>" not in text_of(song)  # their only line was taken out: no credit


def text_of_options(response):
    return " ".join(o["label"] for c in buttons(response["data"]) if c.get("type") == 3 for o in c["options"])


async def test_making_it_a_song_again_says_it_was_made_and_asks_before_another_take(harness):
    """A second press of Make it a song makes nothing: it says song #n was made and offers another take behind
    a button of its own; that button makes it."""
    fake, sim = harness.fake, harness.sim
    thread, panel = await open_jam(fake)
    await add_line(fake, panel, fake.bob, "one line to sing")
    make = custom_id(panel, "chorus:jamsong:")
    await (await fake.click_button(panel, make, user=fake.alice)).wait_response()
    await wait_delivery(fake, channel=thread)

    again = await fake.click_button(panel, make, user=fake.alice)
    offer = (await again.wait_response())["data"]
    assert offer["flags"] & 64 and "song #1" in offer["content"]
    assert [b.get("label") for b in buttons(offer)] == ["Make another take"]
    assert sim.count("submit_music") == 1 and len(answers(fake, again)) == 1

    confirm = await fake.click_button(again.original(), buttons(offer)[0]["custom_id"], user=fake.alice)
    assert (await confirm.wait_response())["type"] == 5
    await wait_delivery(fake, 2, channel=thread)
    assert sim.count("submit_music") == 2
