"""Holes a live server would hit first: forms that cross members, limits bypassed by cancelling, admin
changes racing, and Discord's limits on what the bot sends. Each test fails on the code before its fix."""

from __future__ import annotations

import asyncio

from tests.e2e import answers, custom_id, eventually, wait_delivery


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


async def test_two_admins_changing_settings_at_once_both_stick(harness):
    """Several /chorus allow-channel commands at the same instant all end up on the list (a whole-row
    read-then-write used to lose all but one)."""
    fake = harness.fake
    channels = [fake.world.add_channel(f"studio-{n}") for n in range(4)]
    for channel in channels:  # the bot learns of new channels from the gateway, as on Discord
        await fake.gateway.dispatch("CHANNEL_CREATE", channel.payload(), guild_id=fake.guild.id)
    await asyncio.sleep(0.1)
    commands = await asyncio.gather(*(
        fake.slash_command("chorus allow-channel", {"channel": channel}, user=fake.admin) for channel in channels
    ))
    for it in commands:
        assert (await it.wait_response())["type"] == 4
    settings = await harness.bot.admin.settings(fake.guild.id)
    assert settings.allowed_channels == {channel.id for channel in channels}


async def test_info_stays_within_discords_embed_limit_after_escaping(harness):
    """Info on a song whose lyrics are full of ``` fences answers with one embed Discord accepts (escaping used
    to push the description past 4,096 characters, so Discord refused it and the click went unanswered)."""
    fake = harness.fake
    it = await fake.slash_command("suno", {"prompt": "code rap", "lyrics": True}, user=fake.alice)
    opened = await it.wait_response()
    fences = {"lyrics": "```" * 1300, "style": "```" * 60, "title": "```" * 26}
    submit = await fake.submit_modal(opened["data"]["custom_id"], fences, user=fake.alice, interaction_from=it)
    await submit.wait_response()
    (message,) = await wait_delivery(fake)
    click = await fake.select(message, "chorus:more:1", ["info"], user=fake.bob)
    reply = await click.wait_response()
    assert reply["type"] == 4
    (embed,) = reply["data"]["embeds"]
    assert len(embed["description"]) <= 4096
    assert embed["description"].count("```") == 2  # the command's own block, never closed early by member text


async def test_the_extend_form_accepts_its_own_default(fake_discord, tmp_path):
    """Submitting the Extend form unchanged continues from the end of the take, even when the take's length
    would round up (a 94.62 s take used to be prefilled "95" and refused; it is now "1:34")."""
    from bot.simulator import SimulatorServer, Timings
    from tests.conftest import API_KEY
    from tests.harness import BotHarness

    async with SimulatorServer(api_key=API_KEY, timings=Timings.instant(), seed=7, shutdown_timeout=0.2) as sim:
        harness = BotHarness(fake_discord, sim, tmp_path / "chorus.db")
        await harness.start()
        try:
            fake = harness.fake
            await fake.slash_command("suno", {"prompt": "a take that ends on a half second"}, user=fake.alice)
            (message,) = await wait_delivery(fake)
            clips = (await harness.bot.jobs.get(1)).result["clips"]
            take = next(n for n, clip in enumerate(clips, 1) if clip["duration"] % 1 >= 0.5)
            click = await fake.click_button(message, f"chorus:extend:1:{take}", user=fake.alice)
            opened = await click.wait_response()
            prefilled = next(c["value"] for row in opened["data"]["components"] for c in row["components"]
                             if c["custom_id"] == "continue_at")
            minutes, seconds = prefilled.split(":")
            assert int(minutes) * 60 + int(seconds) == int(clips[take - 1]["duration"])  # m:ss, never past the end
            submit = await fake.submit_modal(opened["data"]["custom_id"], {"continue_at": prefilled},
                                             user=fake.alice, interaction_from=click)
            assert (await submit.wait_response())["type"] == 5
            await eventually(lambda: _submitted(sim, 2))
            body = sim.requests_to("submit_music")[1].body
            assert body["continue_at"] == int(clips[take - 1]["duration"])
        finally:
            await harness.stop()


async def _submitted(sim, n):
    return sim.count("submit_music") >= n


async def test_a_form_open_across_a_restart_is_answered_once(harness):
    """A form opened before a restart and submitted after it gets one answer asking to open it again, and
    nothing is sent to CometAPI (discord.py alone would drop it, and the member would see it fail)."""
    fake, sim = harness.fake, harness.sim
    it = await fake.slash_command("suno", {"prompt": "before the restart", "lyrics": True}, user=fake.alice)
    opened = await it.wait_response()
    await harness.restart()
    submit = await fake.submit_modal(opened["data"]["custom_id"], {"lyrics": "la la"}, user=fake.alice,
                                     interaction_from=it)
    reply = await submit.wait_response()
    await settle()
    assert len(answers(fake, submit)) == 1
    assert "open it again" in reply["data"]["content"] and reply["data"]["flags"] & 64
    assert sim.count("submit_music") == 0
