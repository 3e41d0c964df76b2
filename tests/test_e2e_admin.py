"""/chorus admin controls and the limits every submit checks, end to end."""

from __future__ import annotations

import asyncio

import pytest

from bot.simulator import ManualClock, SimulatorServer, Timings
from tests.conftest import API_KEY
from tests.e2e import eventually, wait_delivery
from tests.harness import BotHarness


@pytest.fixture
async def strict(fake_discord, simulator, tmp_path):
    """The bot with the limits a fresh install has (the other e2e tests relax them)."""
    running = BotHarness(fake_discord, simulator, tmp_path / "chorus.db", relaxed_limits=False)
    await running.start()
    yield running
    await running.stop()


async def admin_says(fake, command, options=None):
    it = await fake.slash_command(f"chorus {command}", options or {}, user=fake.admin)
    return (await it.wait_response())["data"]


async def refused(fake, command, options, user):
    it = await fake.slash_command(command, options, user=user)
    response = await it.wait_response()
    assert response["type"] == 4, response
    assert response["data"]["flags"] & 64
    return response["data"]["content"]


async def test_chorus_group_is_for_managers_only(strict):
    """The group defaults to Manage Server; a member without it is refused even if Discord shows it."""
    fake = strict.fake
    (group,) = [c for c in fake.application_commands(fake.guild) if c["name"] == "chorus"]
    assert int(group["default_member_permissions"]) == 1 << 5
    it = await fake.slash_command("chorus limits", {"concurrent": 9}, user=fake.bob)
    reply = (await it.wait_response())["data"]
    assert "Manage Server" in reply["content"]
    settings = await admin_says(fake, "settings")
    assert "Songs at once per member: 2 songs" in settings["embeds"][0]["fields"][-1]["value"]


async def test_fresh_install_defaults_are_shown(strict):
    """With no setup, every channel is open to everyone, both providers on, sensible limits."""
    data = await admin_says(strict.fake, "settings")
    fields = {f["name"]: f["value"] for f in data["embeds"][0]["fields"]}
    assert fields["Channels"] == "every channel"
    assert fields["Who may generate"] == "anyone"
    assert fields["Suno"] == "on · default Suno v5"  # models by their friendly names
    assert fields["Udio"] == "on · default Udio v1.5, ~32 s clip"


async def test_concurrent_limit_holds_when_two_commands_arrive_at_once(fake_discord, tmp_path):
    """Two /suno at the same instant with a limit of one: exactly one is submitted, the other told why."""
    sim_clock = ManualClock()
    async with SimulatorServer(api_key=API_KEY, timings=Timings(), clock=sim_clock, shutdown_timeout=0.2) as sim:
        running = BotHarness(fake_discord, sim, tmp_path / "c.db", relaxed_limits=False)
        await running.start()
        try:
            fake = fake_discord
            await admin_says(fake, "limits", {"concurrent": 1, "cooldown": 0})
            first, second = await asyncio.gather(
                fake.slash_command("suno", {"prompt": "one"}, user=fake.alice),
                fake.slash_command("suno", {"prompt": "two"}, user=fake.alice),
            )
            responses = [await first.wait_response(), await second.wait_response()]
            assert sorted(r["type"] for r in responses) == [4, 5]
            (refusal,) = [r for r in responses if r["type"] == 4]
            assert "limit here is 1" in refusal["data"]["content"]
            assert refusal["data"]["flags"] & 64
            await fake.wait_for(lambda: sim.count("submit_music") == 1 or None)
            await asyncio.sleep(0.2)
            assert sim.count("submit_music") == 1
        finally:
            await running.stop()


async def test_daily_quota_says_when_it_resets_and_failures_do_not_count(strict):
    """A member over the daily quota is told when it resets; a failed job did not use the quota."""
    fake, sim = strict.fake, strict.sim
    await admin_says(fake, "limits", {"daily": 1, "cooldown": 0, "concurrent": 0})
    await fake.slash_command("suno", {"prompt": "[fail] nope"}, user=fake.alice)

    async def failed():
        job = await strict.bot.jobs.get(1)
        return job is not None and job.state == "failed" and job.delivery == "delivered"

    await eventually(failed)
    await fake.slash_command("suno", {"prompt": "counts"}, user=fake.alice)
    await wait_delivery(fake)
    content = await refused(fake, "suno", {"prompt": "one too many"}, fake.alice)
    assert "daily limit" in content
    assert "<t:" in content and ":R>" in content
    assert sim.count("submit_music") == 2


async def test_cooldown(strict):
    """Two jobs in quick succession: the second is asked to wait."""
    fake = strict.fake
    await admin_says(fake, "limits", {"cooldown": 600, "concurrent": 0})
    await fake.slash_command("suno", {"prompt": "first"}, user=fake.alice)
    await wait_delivery(fake)
    content = await refused(fake, "suno", {"prompt": "second"}, fake.alice)
    assert "wait 10 minutes" in content


async def test_server_budget(strict):
    """The guild's daily budget stops everyone once spent."""
    fake = strict.fake
    await admin_says(fake, "limits", {"budget": 1, "cooldown": 0})
    await fake.slash_command("suno", {"prompt": "first"}, user=fake.alice)
    await wait_delivery(fake)
    content = await refused(fake, "suno", {"prompt": "second"}, fake.bob)
    assert "This server has used its 1 song for today" in content


async def test_channel_allow_list(strict):
    """Once channels are listed, other channels are refused with a pointer to the right ones."""
    fake, sim = strict.fake, strict.sim
    await admin_says(fake, "allow-channel", {"channel": fake.general})
    content = await refused(fake, "suno", {"prompt": "here?"}, fake.alice)
    assert f"<#{fake.general.id}>" in content
    assert sim.count("submit_music") == 0
    it = await fake.slash_command("suno", {"prompt": "here!"}, user=fake.alice, channel=fake.general)
    assert (await it.wait_response())["type"] == 5
    await admin_says(fake, "all-channels")
    it = await fake.slash_command("suno", {"prompt": "anywhere"}, user=fake.bob)
    assert (await it.wait_response())["type"] == 5


async def test_required_role(strict):
    """With a required role, members without it are refused and members with it may generate."""
    fake = strict.fake
    await admin_says(fake, "role", {"role": fake.admin_role})
    content = await refused(fake, "suno", {"prompt": "x"}, fake.alice)
    assert f"<@&{fake.admin_role.id}>" in content
    it = await fake.slash_command("suno", {"prompt": "x"}, user=fake.admin)
    assert (await it.wait_response())["type"] == 5


async def test_provider_switch_and_default_model(strict):
    """An admin can switch Udio off, and change the default Suno model."""
    fake, sim = strict.fake, strict.sim
    await admin_says(fake, "provider", {"provider": "udio", "enabled": False})
    content = await refused(fake, "udio", {"prompt": "x"}, fake.alice)
    assert "Udio is switched off" in content
    await admin_says(fake, "default-model", {"provider": "suno", "model": "v4"})
    await fake.slash_command("suno", {"prompt": "old school"}, user=fake.alice)
    await fake.wait_for(lambda: sim.requests_to("submit_music") or None)
    assert sim.requests_to("submit_music")[0].body["mv"] == "chirp-v4"
    bad = await admin_says(fake, "default-model", {"provider": "suno", "model": "v99"})
    assert "Unknown Suno model" in bad["content"]


async def test_usage_report(strict):
    """/chorus usage counts songs per member and provider, shows failures, and estimates dollars per member."""
    fake = strict.fake
    await admin_says(fake, "limits", {"cooldown": 0})
    await fake.slash_command("suno", {"prompt": "count me"}, user=fake.alice)
    await wait_delivery(fake)
    await fake.slash_command("suno", {"prompt": "[fail] refunded"}, user=fake.bob)

    async def failed():
        job = await strict.bot.jobs.get(2)
        return job is not None and job.state == "failed"

    await eventually(failed)
    data = await admin_says(fake, "usage")
    today = data["embeds"][0]["fields"][0]
    assert today["name"] == "Today (UTC): 1 song · 1 failed · ≈$0.10"  # the relay's default price of a song
    assert f"<@{fake.alice.id}>: 1 song · ≈$0.10" in today["value"]
    assert f"<@{fake.bob.id}>: 0 songs, 1 failed · ≈$0.00" in today["value"]
    assert "Suno: 1" in today["value"]


async def test_usage_and_balance_use_the_configured_prices(fake_discord, simulator, tmp_path, monkeypatch):
    """PRICE_PER_SONG and PRICE_PER_LYRICS (env vars) price /chorus usage's estimate and /chorus balance's songs
    left; the footer says the prices are estimates and that take tools may cost an unknown amount."""
    monkeypatch.setenv("PRICE_PER_SONG", "0.25")
    monkeypatch.setenv("PRICE_PER_LYRICS", "0.05")
    running = BotHarness(fake_discord, simulator, tmp_path / "chorus.db")
    await running.start()
    try:
        fake = fake_discord
        await fake.slash_command("suno", {"prompt": "priced"}, user=fake.alice)
        await wait_delivery(fake)
        lyrics = await fake.slash_command("lyrics", {"prompt": "a priced verse"}, user=fake.bob)
        await lyrics.wait_response()
        await eventually(lambda: _finished(running, 2))
        usage = (await admin_says(fake, "usage"))["embeds"][0]
        assert usage["fields"][0]["name"] == "Today (UTC): 1 song, 1 lyrics · 0 failed · ≈$0.30"
        assert f"<@{fake.alice.id}>: 1 song · ≈$0.25" in usage["fields"][0]["value"]
        assert "$0.25 a song" in usage["footer"]["text"] and "not known" in usage["footer"]["text"]
        simulator.state.balance = 10.0
        shown = await fake.slash_command("chorus balance", {}, user=fake.admin)
        await fake.wait_for(lambda: (shown.original() and shown.original()["embeds"]) or None)
        assert "about 40 songs at $0.25 a song" in shown.original()["embeds"][0]["description"]
    finally:
        await running.stop()


async def _finished(running, job_id):
    job = await running.bot.jobs.get(job_id)
    return job is not None and job.state == "succeeded"


async def test_global_cap_protects_other_servers(fake_discord, tmp_path):
    """The bot-wide cap on jobs in flight refuses new jobs, with a clear message, until some finish."""
    sim_clock = ManualClock()
    async with SimulatorServer(api_key=API_KEY, timings=Timings(), clock=sim_clock, shutdown_timeout=0.2) as sim:
        running = BotHarness(fake_discord, sim, tmp_path / "c.db")
        running.settings = running.settings.model_copy(update={"max_jobs_in_flight": 1})
        await running.start()
        try:
            fake = fake_discord
            it = await fake.slash_command("suno", {"prompt": "one"}, user=fake.alice)
            assert (await it.wait_response())["type"] == 5
            await fake.wait_for(lambda: sim.count("submit_music") == 1 or None)
            content = await refused(fake, "suno", {"prompt": "two"}, fake.bob)
            assert "as many songs as it can" in content
        finally:
            await running.stop()
