"""A song post deleted with Discord's own Delete (one message, or a moderator's bulk delete) is a deleted song: the
real bot hears MESSAGE_DELETE / MESSAGE_DELETE_BULK from the fake Discord and the song leaves the charts, profiles,
challenges and song of the day."""

from __future__ import annotations

import asyncio

from bot.domain import utc_day_start
from tests.e2e import buttons, eventually, wait_delivery
from tests.fakes.discord.state import GUILD_MESSAGES, PRIVILEGED_INTENTS


async def song(fake, prompt, *, user=None, count=1):
    await fake.slash_command("suno", {"prompt": prompt}, user=user or fake.alice)
    return (await wait_delivery(fake, count))[count - 1]


async def like(fake, message, user):
    cid = next(b["custom_id"] for b in buttons(message) if b.get("custom_id", "").startswith("chorus:like:"))
    await (await fake.click_button(message, cid, user=user)).wait_response()


async def reply(fake, command, options=None, *, user=None):
    it = await fake.slash_command(command, options or {}, user=user or fake.alice)
    return (await it.wait_response())["data"]


def chart_lines(data):
    return data["embeds"][0]["description"].splitlines()


async def removed(bot, *job_ids):
    async def check():
        return await bot.store.removed_songs(job_ids) == set(job_ids)

    await eventually(check)


async def test_the_bot_asks_for_the_guild_messages_intent_and_no_privileged_one(harness):
    """MESSAGE_DELETE reaches a bot only with the (non-privileged) guild messages intent: Chorus asks for it, and
    still for no privileged intent."""
    intents = harness.fake.gateway.intents
    assert intents is not None and intents & GUILD_MESSAGES and not intents & PRIVILEGED_INTENTS


async def test_a_song_post_deleted_in_discord_leaves_the_chart_and_profiles(harness):
    """A moderator deletes a song's post with Discord's own Delete: /top and /profile no longer count it."""
    fake, bot = harness.fake, harness.bot
    kept = await song(fake, "a song that stays")
    gone = await song(fake, "a song that goes", user=fake.bob, count=2)
    for message in (kept, gone):
        await like(fake, message, fake.admin)
    assert len(chart_lines(await reply(fake, "top"))) == 2

    await fake.delete_message(gone, user=fake.admin)
    await removed(bot, 2)
    lines = chart_lines(await reply(fake, "top"))
    assert len(lines) == 1 and f"/{kept['id']})" in lines[0]
    profile = await reply(fake, "profile", {"member": fake.bob}, user=fake.alice)
    fields = {f["name"]: f["value"] for f in profile["embeds"][0]["fields"]}
    assert fields["Songs made"] == "0"
    assert await bot.store.removed_songs([1]) == set()


async def test_a_bulk_delete_removes_every_song_in_it_and_nothing_else(shifted_harness):
    """A purge (MESSAGE_DELETE_BULK) of two song posts and a member's message deletes both songs, not the song
    shown again with /show elsewhere; neither is song of the day nor stays in a challenge."""
    fake, bot = shifted_harness.fake, shifted_harness.bot
    await bot.admin.set_song_of_day(fake.guild.id, fake.general.id, by=fake.admin.id)
    challenge = await bot.community.challenges.start(guild_id=fake.guild.id, channel_id=fake.music.id,
                                                     theme="songs about the sea", by=fake.admin.id, ends_in=86400)
    first = await song(fake, "first")
    second = await song(fake, "second", count=2)
    third = await song(fake, "third", count=3)
    for message in (first, second, third):
        await like(fake, message, fake.bob)
    await bot.community.challenges.submit(fake.guild.id, fake.alice.id, 2)
    chatter = await fake.user_message(fake.music, "nice songs", user=fake.bob)
    shown = await fake.slash_command("show", {"job": 3}, user=fake.alice)
    await shown.wait_response()
    copy = fake.messages_in(fake.music)[-1]

    await fake.delete_message(copy, user=fake.admin)  # a copy shown again is not the song's post
    await fake.bulk_delete(fake.music, [first, second, chatter], user=fake.admin)
    await removed(bot, 1, 2)  # (the copy's MESSAGE_DELETE came first)
    lines = chart_lines(await reply(fake, "top"))
    assert len(lines) == 1 and f"/{third['id']})" in lines[0]
    assert await bot.community.challenges.entries(challenge.id) == []
    assert await bot.store.removed_songs([3]) == set()

    shifted_harness.clock.advance(utc_day_start(shifted_harness.clock()) + 86400 + 60 - shifted_harness.clock())
    await bot.timers.run_once()

    def featured() -> list[dict[str, object]]:
        return [m for m in fake.messages_in(fake.general) if str(m.get("nonce") or "").startswith("chorus-sotd-")]

    # The bot's own timers loop may have claimed the day first and be posting it still (a busy machine): wait for it.
    await fake.wait_for(lambda: featured() or None, timeout=10)
    await asyncio.sleep(0.3)  # a second feature, if the bot were to make one
    assert len(featured()) == 1 and f"/{third['id']})" in str(featured()[0])
