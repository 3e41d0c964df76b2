"""A database restart is ridden out by the commands (issue 18, item 6): the real bot on PostgreSQL, whose connection
goes through a loopback proxy the test closes (PostgreSQL "restarting": connections cut and refused) and reopens.

While the store waits for the database, a command must still be acknowledged within Discord's 3 s (the fake answers
a later callback with 404 Unknown interaction, as Discord does), with the visibility its answer will have, then get
exactly one answer; an accepted song is submitted and posted once when the database is back. PostgreSQL only (a
SQLite file does not go away); skipped without CHORUS_TEST_POSTGRES_URL like the other PostgreSQL tests.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.simulator import Fault
from bot.store.database import Database
from bot.store.dialects import ADMIT, lock_key
from tests.e2e import answers, custom_id, posts, text_of, wait_delivery
from tests.harness import BotHarness
from tests.tcp_proxy import TcpProxy

DEFERRED = 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: "Chorus is thinking…"
MESSAGE = 4  # CHANNEL_MESSAGE_WITH_SOURCE
EPHEMERAL = 1 << 6
OUTAGE = 4.0  # seconds the database is away: longer than Discord's 3 s to acknowledge


@pytest.fixture
async def proxy(postgres_url):
    parts = urlsplit(postgres_url)
    running = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    running.url = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{running.port}"))  # type: ignore[attr-defined]
    await running.open()
    yield running
    await running.close()


@pytest.fixture
async def bot_on_proxy(proxy, fake_discord, simulator):
    running = BotHarness(fake_discord, simulator, proxy.url)
    await running.start()
    yield running
    await running.stop()


async def during_outage(proxy, action):
    """Cut the database off, start `action` (a member's command), bring the database back after OUTAGE seconds;
    the interaction the action made."""
    await proxy.close()
    asked = asyncio.create_task(action())
    await asyncio.sleep(OUTAGE)
    await proxy.open()
    return await asyncio.wait_for(asked, 5)


async def test_a_song_asked_for_while_the_database_restarts_is_acknowledged_then_made_and_posted_once(
    proxy, bot_on_proxy, fake_discord, simulator
):
    fake = fake_discord
    interaction = await during_outage(
        proxy, lambda: fake.slash_command("suno", {"prompt": "a song through a restart"}, user=fake.alice)
    )
    # Acknowledged in time (a late callback is refused by the fake), publicly, as the card that replaces it is public.
    assert interaction.callbacks, "the command was never acknowledged: the member saw 'This interaction failed'"
    first = interaction.callbacks[0]
    assert first["type"] == DEFERRED
    assert not int((first.get("data") or {}).get("flags") or 0) & EPHEMERAL
    await wait_delivery(fake, within=30)
    assert len(answers(fake, interaction)) == 1  # the acknowledgement; the card replaced it (an edit, not an answer)
    assert interaction.followups() == []
    assert any(edit.get("embeds") or edit.get("components") for edit in interaction.edits[1:]), "no status card"
    assert simulator.count("submit_music") == 1
    await asyncio.sleep(0.5)  # a second post, if the bot were to make one
    assert len(posts(fake)) == 1


def flags_of(message) -> int:
    return int((message or {}).get("flags") or 0)


@pytest.mark.parametrize("command", ["suno", "lyrics"])  # /lyrics reads nothing before its reservation
async def test_a_refusal_while_the_database_restarts_stays_private(
    command, proxy, bot_on_proxy, fake_discord, simulator
):
    """A member asks again within the cooldown, while the database is away. The public "thinking…" that
    stood in is replaced by a private refusal (with Try again), and nothing of the refusal is ever public."""
    fake, bot = fake_discord, bot_on_proxy.bot
    await fake.slash_command("suno", {"prompt": "the day's one song"}, user=fake.alice)
    await wait_delivery(fake, within=15)
    await bot.admin.set_limits(fake.guild.id, by=fake.admin.id, cooldown_seconds=3600)
    interaction = await during_outage(
        proxy, lambda: fake.slash_command(command, {"prompt": "one song too many"}, user=fake.alice)
    )
    assert interaction.callbacks and interaction.callbacks[0]["type"] == DEFERRED
    refusal = (await fake.wait_for(lambda: interaction.followups() or None, timeout=30))[0]
    assert flags_of(refusal) & EPHEMERAL
    assert "one song too many" in text_of(refusal)  # the request, shown back so nothing is lost
    assert custom_id(refusal, "chorus:retry:")
    original = fake.message(interaction.original_id)
    assert original is not None
    await fake.wait_for(lambda: original.deleted or None)  # the public stand-in goes
    assert not any("one song too many" in text_of(seen) for seen in original.history)
    assert len([a for a in answers(fake, interaction) if "/callback" in str(a.path)]) == 1
    assert simulator.count("submit_music") == 1  # the first song only: nothing was sent or charged


async def test_a_form_command_while_the_database_restarts_is_told_privately_in_time(
    proxy, bot_on_proxy, fake_discord, simulator
):
    """/suno lyrics:True answers with a form, which no acknowledgement may precede: when the store cannot read the
    server's settings in time, the member is told privately to try again, within Discord's 3 s, once."""
    fake = fake_discord
    interaction = await during_outage(
        proxy, lambda: fake.slash_command("suno", {"prompt": "my own words", "lyrics": True}, user=fake.alice)
    )
    assert [callback["type"] for callback in interaction.callbacks] == [MESSAGE]
    told = interaction.callbacks[0]["data"]
    assert flags_of(told) & EPHEMERAL
    assert "try again" in told["content"].lower()
    await asyncio.sleep(0.5)
    assert len(answers(fake, interaction)) == 1
    assert simulator.count("submit_music") == 0


async def test_again_pressed_while_the_database_restarts_makes_the_song_once(
    proxy, bot_on_proxy, fake_discord, simulator
):
    """A button that starts a song (Again) reads the job before anything else: acknowledged publicly in time, its
    song made and posted once the database is back."""
    fake = fake_discord
    await fake.slash_command("suno", {"prompt": "a song to have again"}, user=fake.alice)
    (song,) = await wait_delivery(fake, within=15)
    press = await during_outage(
        proxy, lambda: fake.click_button(song, custom_id(song, "chorus:reroll:"), user=fake.bob)
    )
    assert press.callbacks and press.callbacks[0]["type"] == DEFERRED
    assert not flags_of(press.callbacks[0].get("data")) & EPHEMERAL
    await wait_delivery(fake, 2, within=30)
    await asyncio.sleep(0.5)
    assert len(answers(fake, press)) == 1
    assert simulator.count("submit_music") == 2
    assert len(posts(fake)) == 2


async def test_status_top_and_show_while_the_database_restarts_are_acknowledged_as_they_answer(
    proxy, bot_on_proxy, fake_discord, simulator
):
    """Commands that read the store and answer with a message: /status privately, /top and /show publicly. Each is
    acknowledged in time with its answer's visibility, and its answer then takes the "thinking…"'s place."""
    fake = fake_discord
    await fake.slash_command("suno", {"prompt": "a song to look back on"}, user=fake.alice)
    await wait_delivery(fake, within=15)
    jobs = await bot_on_proxy.bot.jobs.recent(fake.alice.id, guild_id=fake.guild.id)

    async def ask_all():
        return await asyncio.gather(
            fake.slash_command("status", {}, user=fake.alice),
            fake.slash_command("top", {}, user=fake.alice),
            fake.slash_command("show", {"job": jobs[0].id}, user=fake.alice),
        )

    status, top, show = await during_outage(proxy, ask_all)
    for interaction, private in ((status, True), (top, False), (show, False)):
        assert interaction.callbacks and interaction.callbacks[0]["type"] == DEFERRED, interaction
        assert bool(flags_of(interaction.callbacks[0].get("data")) & EPHEMERAL) is private, interaction
        answer = await interaction.wait_original(lambda m: bool(m.get("embeds") or m.get("components")), timeout=30)
        assert bool(flags_of(answer) & EPHEMERAL) is private
        assert len(answers(fake, interaction)) == 1
    assert "a song to look back on" in text_of(await show.wait_original())


async def test_a_song_whose_reservation_the_restart_cut_off_is_made_once(
    proxy, postgres_url, bot_on_proxy, fake_discord, simulator
):
    """The database goes away while the command's reservation is in the middle of a statement (in the 3-process
    restart bench this was answered "Something went wrong"): nothing of it was kept, so the reservation is made again
    once the database is back, and the song is made, carded and posted once."""
    fake = fake_discord
    holder, watcher = await asyncpg.connect(postgres_url), await asyncpg.connect(postgres_url)
    try:
        hold = holder.transaction()
        await hold.start()
        # The server's admission lock, held: the reservation waits for it mid-statement, where the cut finds it.
        await holder.execute("SELECT pg_advisory_xact_lock($1, $2)", ADMIT, lock_key(f"guild:{fake.guild.id}"))
        asked = asyncio.create_task(fake.slash_command("suno", {"prompt": "a song cut mid-reservation"},
                                                       user=fake.alice))
        for _ in range(500):
            if await watcher.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory'"):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the reservation never waited for its lock")
        await proxy.close()
        await hold.rollback()
        await asyncio.sleep(1.0)
        await proxy.open()
        interaction = await asyncio.wait_for(asked, 10)
    finally:
        await holder.close()
        await watcher.close()
    await wait_delivery(fake, within=30)
    assert len(answers(fake, interaction)) == 1
    assert interaction.followups() == []
    assert not any("went wrong" in text_of(edit) for edit in interaction.edits)
    assert any(edit.get("embeds") or edit.get("components") for edit in interaction.edits), "no status card"
    assert simulator.count("submit_music") == 1
    await asyncio.sleep(0.5)  # a second post, if the bot were to make one
    assert len(posts(fake)) == 1


async def test_a_paid_song_whose_task_id_waits_out_a_long_restart_is_recorded_and_posted_once(
    proxy, bot_on_proxy, fake_discord, simulator
):
    """CometAPI accepts the song (and charges for it) just as the database goes away, and the database stays away
    longer than the store waits for a restart (20 s). The task id is kept and recorded once the database is back:
    the member is never told to try again (which would pay twice), and the song is carded and posted once."""
    fake = fake_discord
    simulator.faults.script("submit_music", [Fault("hang", hang_seconds=1.0)])  # the paid call is under way...
    asked = asyncio.create_task(fake.slash_command("suno", {"prompt": "a song through a long restart"},
                                                   user=fake.alice))
    for _ in range(500):
        if simulator.count("submit_music"):
            break
        await asyncio.sleep(0.01)
    await proxy.close()  # ...when the database goes away, for longer than the store waits for it
    await asyncio.sleep(Database.outage_wait + 3)
    await proxy.open()
    interaction = await asyncio.wait_for(asked, 10)
    await wait_delivery(fake, within=30)
    assert simulator.count("submit_music") == 1
    said = [text_of(message) for message in interaction.edits + interaction.followups()]
    assert not any("try again" in text.lower() or "went wrong" in text for text in said), said
    assert any(edit.get("embeds") or edit.get("components") for edit in interaction.edits), "no status card"
    assert len(answers(fake, interaction)) == 1
    await asyncio.sleep(0.5)  # a second post, if the bot were to make one
    assert len(posts(fake)) == 1
