"""What the store keeps for the features around a job, on both backends (a real SQLite file, and a fresh PostgreSQL
database when the tests have a cluster): every guild setting."""

from __future__ import annotations

import pytest

from bot.store import GuildSettings, open_store

GUILD = 3001  # ALICE's guild


@pytest.fixture
def store(store_on_both):
    """The store under test: on SQLite, and on PostgreSQL when the tests have a cluster."""
    return store_on_both


# ---- guild settings ---------------------------------------------------------------------------------------------

EVERY_SETTING = GuildSettings(
    GUILD, allowed_channels=frozenset({11, 12}), required_role_id=13, default_suno_model="chirp-v4",
    default_udio_model="udio130", suno_enabled=False, udio_enabled=False, max_concurrent=3, daily_quota=4,
    daily_budget=5, cooldown_seconds=6, alert_channel_id=14, credit_alert_below=2.5, credit_warned_at=1_750_000_123.5,
    song_of_day_channel_id=15, battle_minutes=90,
)


def test_every_setting_differs_from_its_default():
    """The round-trip below would miss a column that is never written if that setting kept its default."""
    import dataclasses

    defaults = GuildSettings(GUILD)
    same = [f.name for f in dataclasses.fields(GuildSettings)
            if f.name != "guild_id" and getattr(EVERY_SETTING, f.name) == getattr(defaults, f.name)]
    assert same == []


async def test_every_setting_is_written_and_read_back(store_url, clock):
    """A guild's settings, every one changed, come back as they were written, also after a restart; writing the
    defaults back over them changes every column again (nothing of the old row survives)."""
    store = await open_store(store_url, now=clock)
    try:
        assert await store.change_guild_settings(GUILD, lambda _: EVERY_SETTING, by=42) == EVERY_SETTING
    finally:
        await store.close()
    store = await open_store(store_url, now=clock)
    try:
        assert await store.guild_settings(GUILD) == EVERY_SETTING
        await store.change_guild_settings(GUILD, lambda _: GuildSettings(GUILD), by=42)
        assert await store.guild_settings(GUILD) == GuildSettings(GUILD)
    finally:
        await store.close()
