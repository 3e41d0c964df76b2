"""Every interaction gets exactly one answer, counted as requests on the wire: commands, buttons and forms,
including when something unexpected breaks inside them."""

from __future__ import annotations

import asyncio
import logging

from tests.e2e import answers, corrupt, custom_id, wait_delivery

APOLOGY = "Something went wrong on my side"


async def first_song(fake):
    await fake.slash_command("suno", {"prompt": "a song to press buttons on"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    return message


async def settle(seconds: float = 0.3) -> None:
    """Give a second (wrong) answer the time to arrive, if the bot were to send one."""
    await asyncio.sleep(seconds)


async def test_a_button_that_breaks_answers_once_and_logs_the_job(harness, caplog):
    """An unexpected error inside a button (here a damaged row) gets one private apology and a logged traceback
    naming the job, guild and button; discord.py alone would leave the click unanswered."""
    fake = harness.fake
    message = await first_song(fake)
    await corrupt(harness.settings.database_url, "UPDATE jobs SET params = 'not json' WHERE id = 1")
    caplog.set_level(logging.INFO)
    click = await fake.click_button(message, custom_id(message, "chorus:reroll:"), user=fake.bob)
    reply = await click.wait_response()
    await settle()
    assert len(answers(fake, click)) == 1
    assert reply["type"] == 4 and reply["data"]["flags"] & 64
    assert APOLOGY in reply["data"]["content"]
    assert "Traceback" not in reply["data"]["content"]
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and "chorus:reroll:1" in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert f"guild {fake.guild.id}" in logged[0].getMessage() and "(job 1)" in logged[0].getMessage()


async def test_a_form_that_breaks_answers_once(harness):
    """An unexpected error while a form is submitted (the Extend form; the guild's settings row is damaged)
    gets one apology; nothing is sent to CometAPI."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    click = await fake.click_button(message, custom_id(message, "chorus:extend:"), user=fake.alice)
    opened = await click.wait_response()
    await corrupt(harness.settings.database_url, "UPDATE guild_settings SET allowed_channels = 'not json'")
    submit = await fake.submit_modal(opened["data"]["custom_id"], {"continue_at": "30"}, user=fake.alice,
                                     interaction_from=click)
    reply = await submit.wait_response()
    await settle()
    assert len(answers(fake, submit)) == 1
    assert APOLOGY in reply["data"]["content"] and reply["data"]["flags"] & 64
    assert sim.count("submit_music") == 1


async def test_a_refused_admin_command_gets_one_refusal(harness):
    """A member without Manage Server running /chorus settings is refused once, not refused and then apologised to."""
    fake = harness.fake
    it = await fake.slash_command("chorus settings", {}, user=fake.bob)
    reply = await it.wait_response()
    await settle()
    assert len(answers(fake, it)) == 1
    assert "Manage Server" in reply["data"]["content"] and reply["data"]["flags"] & 64
    assert APOLOGY not in reply["data"]["content"]


async def test_a_menu_that_breaks_answers_once(harness, caplog):
    """An unexpected error behind the More menu is answered once, with the apology, and logged."""
    fake = harness.fake
    message = await first_song(fake)
    await corrupt(harness.settings.database_url, "UPDATE jobs SET result = 'not json' WHERE id = 1")
    click = await fake.select(message, "chorus:more:1", ["info"], user=fake.bob)
    reply = await click.wait_response()
    await settle()
    assert len(answers(fake, click)) == 1
    assert APOLOGY in reply["data"]["content"] and reply["data"]["flags"] & 64


async def test_more_of_a_missing_job_answers_once(harness):
    """More → Cover art of a job that no longer exists says so once (not also "that take is not available")."""
    fake = harness.fake
    message = await first_song(fake)
    await corrupt(harness.settings.database_url, "DELETE FROM jobs WHERE id = 1")
    click = await fake.select(message, "chorus:more:1", ["cover"], user=fake.bob)
    reply = await click.wait_response()
    await settle()
    assert len(answers(fake, click)) == 1
    assert reply["data"]["content"] == "I cannot find that job any more."


async def test_bad_input_in_a_command_is_answered_once_privately(harness):
    """An empty prompt is refused privately, once, and nothing reaches CometAPI."""
    fake, sim = harness.fake, harness.sim
    it = await fake.slash_command("suno", {"prompt": "   "}, user=fake.alice)
    reply = await it.wait_response()
    await settle()
    assert len(answers(fake, it)) == 1
    assert reply["data"]["flags"] & 64 and "empty" in reply["data"]["content"]
    assert sim.count("submit_music") == 0


async def test_a_failed_delete_answers_once(harness):
    """Delete that Discord refuses says so in the one answer (not "Deleted." and then an error)."""
    fake = harness.fake
    message = await first_song(fake)
    fake.faults.forbid("DELETE", r"/channels/\d+/messages/\d+$")
    click = await fake.select(message, "chorus:more:1", ["delete"], user=fake.alice)
    reply = await click.wait_response()
    await settle()
    assert len(answers(fake, click)) == 1
    assert "could not delete" in reply["data"]["content"]
