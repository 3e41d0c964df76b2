"""Song of the day through the real bot and the fake Discord: once per UTC day, idempotent across restarts."""

from __future__ import annotations

from bot.domain import utc_day_start
from tests.e2e import buttons, text_of, wait_delivery
from tests.fakes.discord import pinged_user_ids


def features(fake):
    return [m for m in fake.messages_in(fake.general) if str(m.get("nonce") or "").startswith("chorus-sotd-")]


async def like(fake, message, user):
    cid = next(b["custom_id"] for b in buttons(message) if b.get("custom_id", "").startswith("chorus:like:"))
    await (await fake.click_button(message, cid, user=user)).wait_response()


def to_next_day(harness):
    now = harness.clock()
    harness.clock.advance(utc_day_start(now) + 86400 + 60 - now)


async def test_the_previous_days_most_liked_song_is_featured_once(shifted_harness):
    """With a channel set, each day the previous UTC day's most liked song is featured there, once, even across
    restarts (and after a restart past midnight); a day with no liked song features nothing; nobody is pinged."""
    fake, bot = shifted_harness.fake, shifted_harness.bot
    it = await fake.slash_command("chorus song-of-the-day", {"channel": fake.general}, user=fake.admin)
    assert "featured in" in (await it.wait_response())["data"]["content"]
    await fake.slash_command("suno", {"prompt": "liked once"}, user=fake.alice)
    (first,) = await wait_delivery(fake)
    await fake.slash_command("suno", {"prompt": "liked twice"}, user=fake.bob)
    second = (await wait_delivery(fake, 2))[1]
    await like(fake, first, fake.bob)
    await like(fake, second, fake.alice)
    await like(fake, second, fake.admin)
    assert (await bot.jobs.get(2)).delivered_message_id == int(second["id"])
    assert features(fake) == []  # yesterday had no liked song

    await shifted_harness.stop()
    to_next_day(shifted_harness)  # midnight passes while the bot is down
    await shifted_harness.start()
    (featured,) = await fake.wait_for(lambda: features(fake) or None, timeout=10)
    text = text_of(featured)
    assert "Song of the day" in text and f"<@{fake.bob.id}>" in text and "❤️ 2 likes" in text
    assert f"/{fake.music.id}/{second['id']})" in text
    assert pinged_user_ids(featured) == set()

    await shifted_harness.restart()
    await shifted_harness.bot.timers.run_once()
    assert len(features(fake)) == 1  # once per day

    to_next_day(shifted_harness)  # nothing was liked yesterday
    await shifted_harness.bot.timers.run_once()
    assert len(features(fake)) == 1


async def test_a_deleted_song_is_never_featured(shifted_harness):
    """A song whose post was deleted is not the song of the day, however liked."""
    fake, bot = shifted_harness.fake, shifted_harness.bot
    await bot.admin.set_song_of_day(fake.guild.id, fake.general.id, by=fake.admin.id)
    await fake.slash_command("suno", {"prompt": "liked then deleted"}, user=fake.alice)
    (song,) = await wait_delivery(fake)
    await like(fake, song, fake.bob)
    delete = await fake.select(song, "chorus:more:1", ["delete"], user=fake.alice)
    await delete.wait_response()
    to_next_day(shifted_harness)
    await bot.timers.run_once()
    assert features(fake) == []


async def test_song_of_the_day_counts_from_the_day_it_was_switched_on(shifted_harness):
    """Switching song of the day on features nothing from before that day: the first feature, the next day, is
    the most liked song of the day it was switched on."""
    fake, bot = shifted_harness.fake, shifted_harness.bot
    await fake.slash_command("suno", {"prompt": "liked before it was on"}, user=fake.alice)
    (before,) = await wait_delivery(fake)
    await like(fake, before, fake.bob)
    to_next_day(shifted_harness)
    it = await fake.slash_command("chorus song-of-the-day", {"channel": fake.general}, user=fake.admin)
    assert "featured in" in (await it.wait_response())["data"]["content"]
    await bot.timers.run_once()
    assert features(fake) == []  # yesterday's liked song is from before it was switched on
    await fake.slash_command("suno", {"prompt": "liked the day it was on"}, user=fake.bob)
    on_the_day = (await wait_delivery(fake, 2))[1]
    await like(fake, on_the_day, fake.alice)
    to_next_day(shifted_harness)
    (featured,) = await fake.wait_for(lambda: features(fake) or None, timeout=10)
    assert f"/{fake.music.id}/{on_the_day['id']})" in text_of(featured)
    # Switching it again (another channel) while it is on keeps counting from the first day.
    await bot.admin.set_song_of_day(fake.guild.id, fake.music.id, by=fake.admin.id)
    settings = await bot.jobs.guild_settings(fake.guild.id)
    assert settings is not None and settings.song_of_day_since is not None
    assert utc_day_start(settings.song_of_day_since) == utc_day_start(shifted_harness.clock()) - 86400
