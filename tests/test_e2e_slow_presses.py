"""Buttons that read the store before they answer ride out a database restart (issue 19's leftovers): a jam's
Make it a song, Add a line and Remove a line, and /history's page buttons. The real bot on PostgreSQL through the
loopback proxy of test_e2e_outage.py, closed for longer than Discord's 3 s and reopened.

Each press must be acknowledged in time (the fake refuses a later callback, as Discord does), in the way its answer
allows (a public or private "thinking…", an update of the message pressed, or, for a form, a private "try again"),
then answered exactly once.
"""

from __future__ import annotations

import asyncio

from tests.e2e import answers, custom_id, text_of, wait_delivery
from tests.test_e2e_jams import add_line, open_jam
from tests.test_e2e_outage import (  # noqa: F401 - the fixtures are used by name
    DEFERRED,
    EPHEMERAL,
    MESSAGE,
    bot_on_proxy,
    during_outage,
    flags_of,
    proxy,
)

DEFERRED_UPDATE = 6  # DEFERRED_UPDATE_MESSAGE: the message pressed is edited later


async def test_make_it_a_song_pressed_while_the_database_restarts_is_acknowledged_and_sung_once(
    proxy, bot_on_proxy, fake_discord, simulator  # noqa: F811
):
    """The jam is read before anything is answered: a public "thinking…" stands in for the song's card in time,
    and the song is made and posted once when the database is back."""
    fake = fake_discord
    thread, panel = await open_jam(fake, "a jam through a restart")
    await add_line(fake, panel, fake.bob, "The lights went out and we kept singing")
    press = await during_outage(
        proxy, lambda: fake.click_button(panel, custom_id(panel, "chorus:jamsong:"), user=fake.alice)
    )
    assert press.callbacks, "the press was never acknowledged: the member saw 'This interaction failed'"
    assert press.callbacks[0]["type"] == DEFERRED
    assert not flags_of(press.callbacks[0].get("data")) & EPHEMERAL
    (song,) = await wait_delivery(fake, channel=thread, within=30)
    await asyncio.sleep(0.5)  # a second answer or post, if the bot were to make one
    assert len(answers(fake, press)) == 1
    assert simulator.count("submit_music") == 1
    assert "The lights went out" in simulator.requests_to("submit_music")[0].body["prompt"]
    assert "a jam through a restart" in text_of(song).lower()


async def test_jam_lines_pressed_while_the_database_restarts_answer_once_in_time(
    proxy, bot_on_proxy, fake_discord, simulator  # noqa: F811
):
    """Add a line opens a form, which nothing may precede: told privately, in time, to try again. Remove a line
    answers privately: a private "thinking…" stands in, then the picker."""
    fake = fake_discord
    _thread, panel = await open_jam(fake, "lines through a restart")
    await add_line(fake, panel, fake.bob, "A line to take out")

    async def press_both():
        return await asyncio.gather(
            fake.click_button(panel, custom_id(panel, "chorus:jamline:"), user=fake.bob),
            fake.click_button(panel, custom_id(panel, "chorus:jamcut:"), user=fake.alice),
        )

    add, cut = await during_outage(proxy, press_both)
    assert [callback["type"] for callback in add.callbacks] == [MESSAGE]
    assert flags_of(add.callbacks[0]["data"]) & EPHEMERAL and "try again" in add.callbacks[0]["data"]["content"]
    assert cut.callbacks and cut.callbacks[0]["type"] == DEFERRED
    assert flags_of(cut.callbacks[0].get("data")) & EPHEMERAL
    picker = await cut.wait_original(lambda m: any(c.get("type") == 1 for c in m.get("components") or []), timeout=30)
    assert "A line to take out" in str(picker["components"])
    await asyncio.sleep(0.5)
    assert len(answers(fake, add)) == 1 and len(answers(fake, cut)) == 1
    assert simulator.count("submit_music") == 0


async def test_a_history_page_turned_while_the_database_restarts_is_acknowledged_then_shown(
    proxy, bot_on_proxy, fake_discord  # noqa: F811
):
    """A /history page button reads the page from the store: acknowledged in time as an update of the page it is
    on, which then shows the page asked for, once."""
    fake = fake_discord
    await fake.slash_command("suno", {"prompt": "a song for the history books"}, user=fake.alice)
    await wait_delivery(fake, within=15)
    page = fake.state.messages.create(fake.music, fake.world.bot, {"flags": EPHEMERAL, "components": [
        {"type": 1, "components": [{"type": 2, "style": 2, "label": "◀ Newer", "custom_id": f"chorus:history:"
                                    f"{fake.alice.id}:0"}]}]}, [])
    press = await during_outage(
        proxy, lambda: fake.click_button(page, f"chorus:history:{fake.alice.id}:0", user=fake.alice)
    )
    assert [callback["type"] for callback in press.callbacks] == [DEFERRED_UPDATE]
    shown = await fake.wait_for(lambda: (m := fake.message(page.id)) and m.data.get("embeds") and m, timeout=30)
    assert "Page 1 of 1" in shown.data["embeds"][0]["footer"]["text"]
    await asyncio.sleep(0.5)
    assert len(answers(fake, press)) == 1


async def test_show_while_the_database_restarts_still_carries_the_lyrics(proxy, bot_on_proxy, fake_discord):  # noqa: F811
    """/show acknowledged publicly while the store is slow: the repost then takes the "thinking…"'s place with its
    lyrics file, as an edit (the one answer)."""
    fake = fake_discord
    await fake.slash_command("suno", {"prompt": "a song to show through a restart"}, user=fake.alice)
    (song,) = await wait_delivery(fake, within=15)
    carried = [a["filename"] for a in song["attachments"] if a["filename"].endswith(".txt")]
    assert carried
    show = await during_outage(proxy, lambda: fake.slash_command("show", {"job": 1}, user=fake.bob))
    assert [callback["type"] for callback in show.callbacks] == [DEFERRED]
    shown = await show.wait_original(lambda m: bool(m.get("attachments")), timeout=30)
    assert [a["filename"] for a in shown["attachments"]] == carried
    await asyncio.sleep(0.3)
    assert len(answers(fake, show)) == 1
