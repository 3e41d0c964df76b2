"""Holes a live server would hit first: forms that cross members, limits bypassed by cancelling, admin
changes racing, and Discord's limits on what the bot sends. Each test fails on the code before its fix."""

from __future__ import annotations

import asyncio

from tests.e2e import answers, custom_id, wait_delivery


async def settle(seconds: float = 0.3) -> None:
    """Give a second (wrong) answer or request the time to arrive, if the bot were to send one."""
    await asyncio.sleep(seconds)


async def test_two_members_forms_do_not_cross(harness):
    """Alice's /suno lyrics form and Bob's /udio lyrics form, open at once, each make their own member's job."""
    fake, sim = harness.fake, harness.sim
    alice_cmd = await fake.slash_command("suno", {"prompt": "sea shanty", "lyrics": True}, user=fake.alice)
    alice_form = await alice_cmd.wait_response()
    bob_cmd = await fake.slash_command("udio", {"prompt": "lo-fi beats", "lyrics": True}, user=fake.bob)
    bob_form = await bob_cmd.wait_response()
    assert alice_form["data"]["custom_id"] != bob_form["data"]["custom_id"]
    alice_submit = await fake.submit_modal(alice_form["data"]["custom_id"], {"lyrics": "yo ho ho"}, user=fake.alice,
                                           interaction_from=alice_cmd)
    assert (await alice_submit.wait_response())["type"] == 5
    bob_submit = await fake.submit_modal(bob_form["data"]["custom_id"], {"lyrics": "chill chill"}, user=fake.bob,
                                         interaction_from=bob_cmd)
    assert (await bob_submit.wait_response())["type"] == 5
    await wait_delivery(fake, 2)
    assert [r.body["prompt"] for r in sim.requests_to("submit_music")] == ["yo ho ho"]
    assert [r.body["gen_params"]["lyrics"] for r in sim.requests_to("udio_generate")] == ["chill chill"]
    alice_job, bob_job = await harness.bot.jobs.get(1), await harness.bot.jobs.get(2)
    assert (alice_job.user_id, alice_job.provider) == (fake.alice.id, "suno")
    assert (bob_job.user_id, bob_job.provider) == (fake.bob.id, "udio")


async def test_nobody_submits_another_members_extend_form(harness):
    """Bob cannot submit the Extend form the bot opened for Alice: he is told so once, and nothing is charged."""
    fake, sim = harness.fake, harness.sim
    await fake.slash_command("suno", {"prompt": "a song to extend"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    click = await fake.click_button(message, custom_id(message, "chorus:extend:"), user=fake.alice)
    opened = await click.wait_response()
    submit = await fake.submit_modal(opened["data"]["custom_id"], {"continue_at": "10"}, user=fake.bob,
                                     interaction_from=click)
    reply = await submit.wait_response()
    await settle()
    assert len(answers(fake, submit)) == 1
    assert reply["type"] == 4 and reply["data"]["flags"] & 64
    assert f"<@{fake.alice.id}>" in reply["data"]["content"]
    assert sim.count("submit_music") == 1
