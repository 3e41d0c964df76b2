"""What voice needs around /listen, end to end through the fake Discord: the gateway intent that tells the bot who
is in which voice channel, and the admin switch `/chorus voice enabled:` with its place in `/chorus settings`."""

from __future__ import annotations

import logging

from tests.fakes.discord.state import PRIVILEGED_INTENTS
from tests.harness import BotHarness

GUILD_VOICE_STATES = 1 << 7  # Discord's intent bit for VOICE_STATE_UPDATE (not privileged)


async def admin_says(fake, command, options=None):
    """Run a /chorus subcommand as the admin; return the interaction once it was answered."""
    it = await fake.slash_command(f"chorus {command}", options or {}, user=fake.admin)
    await it.wait_response()
    return it


def voice_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.ui.voice_support" and r.levelno == logging.WARNING]


def settings_fields(it) -> dict[str, str]:
    return {f["name"]: f["value"] for f in it.response["data"]["embeds"][0]["fields"]}


async def test_the_bot_asks_for_the_voice_states_intent_and_no_privileged_one(harness):
    """Joining a voice channel and knowing who listens needs GUILD_VOICE_STATES: every IDENTIFY asks for it, and
    still for no privileged intent."""
    intents = harness.fake.gateway.intents
    assert intents is not None and intents & GUILD_VOICE_STATES and not intents & PRIVILEGED_INTENTS


async def test_an_admin_switches_voice_off_and_on_in_one_line_each(harness):
    """Voice is on by default; `/chorus voice enabled:False` switches it off with one private line (one answer),
    /chorus settings shows it, the store keeps it; switching it on again says so."""
    fake, bot = harness.fake, harness.bot
    assert settings_fields(await admin_says(fake, "settings"))["Voice (/listen)"] == "on"

    off = await admin_says(fake, "voice", {"enabled": False})
    assert len(off.callbacks) == 1 and off.response["type"] == 4
    data = off.response["data"]
    assert data["flags"] & 64 and "\n" not in data["content"] and not data.get("embeds")
    assert data["content"] == "Voice is off: Chorus will not join voice channels here (/listen says so)."
    assert (await bot.store.guild_settings(fake.guild.id)).voice_enabled is False
    assert settings_fields(await admin_says(fake, "settings"))["Voice (/listen)"] == "off"

    on = await admin_says(fake, "voice", {"enabled": True})
    assert len(on.callbacks) == 1
    assert on.response["data"]["content"] == "Voice is on: /listen can play songs in this server's voice channels."
    assert (await bot.store.guild_settings(fake.guild.id)).voice_enabled is True


async def test_voice_is_for_managers_only(harness):
    """A member without Manage Server is refused privately, and nothing changes."""
    fake, bot = harness.fake, harness.bot
    it = await fake.slash_command("chorus voice", {"enabled": False}, user=fake.bob)
    data = (await it.wait_response())["data"]
    assert "Manage Server" in data["content"] and data["flags"] & 64
    assert (await bot.store.guild_settings(fake.guild.id)).voice_enabled is True


async def test_voice_on_a_host_without_ffmpeg_says_why_it_cannot_play(harness, tmp_path, monkeypatch):
    """The setting is kept, but the admin learns at once (and in /chorus settings) that this bot's host cannot play:
    here a PATH without ffmpeg on it."""
    fake = harness.fake
    monkeypatch.setenv("PATH", str(tmp_path))
    on = await admin_says(fake, "voice", {"enabled": True})
    assert on.response["data"]["content"] == (
        "Voice is on, but voice is not available on this bot: its host has no ffmpeg.")
    shown = settings_fields(await admin_says(fake, "settings"))["Voice (/listen)"]
    assert shown == "on · Voice is not available on this bot: its host has no ffmpeg."


async def test_a_host_without_ffmpeg_says_so_once_in_the_log_at_start(fake_discord, simulator, tmp_path, monkeypatch,
                                                                      caplog):
    """The operator reads why voice is off when the bot starts, in one warning line, and not again when members or
    admins ask for voice."""
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg on it
    running = BotHarness(fake_discord, simulator, tmp_path / "chorus.db")
    await running.start()
    try:
        assert len(voice_warnings(caplog)) == 1
        await admin_says(fake_discord, "voice", {"enabled": True})
        await admin_says(fake_discord, "settings")
    finally:
        await running.stop()
    [line] = voice_warnings(caplog)
    assert line == "Voice is off: ffmpeg is not on PATH (install it: apt install ffmpeg)"
