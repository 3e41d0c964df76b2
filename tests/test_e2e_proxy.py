"""Behind a shared REST proxy (DISCORD_API_BASE pointed at nirn-proxy or the like), Discord's 429s reach the bot as the
proxy passes them through: each is waited out, and a song is still posted exactly once."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e import posts, wait_delivery
from tests.fakes.discord import Fault


@pytest.mark.parametrize(("scope", "is_global"), [("shared", False), ("global", True), ("user", False)])
async def test_a_429_passed_through_by_a_proxy_is_waited_out_and_the_song_posted_once(harness, scope, is_global):
    """A 429 with Discord's headers, as a transparent proxy passes it on (per-route, shared or global scope): discord.py
    waits for Retry-After and retries; one POST is accepted."""
    fake = harness.fake
    limited = Fault.rate_limited(0.05, scope=scope, is_global=is_global)
    fake.faults.script("POST", rf"/channels/{fake.music.id}/messages", [limited])
    await fake.slash_command("suno", {"prompt": f"proxy {scope}"}, user=fake.alice)
    await wait_delivery(fake)
    await asyncio.sleep(0.3)  # a few more rounds: nothing more may be posted
    assert len(posts(fake)) == 1
    statuses = [r.status for r in fake.find_requests("POST", f"/channels/{fake.music.id}/messages")]
    assert statuses == [429, 200]


async def test_a_bare_429_from_the_proxy_itself_is_retried_by_the_courier_and_posted_once(harness):
    """A 429 without Discord's headers (a proxy's own answer, or Cloudflare's): discord.py raises instead of waiting, so
    the courier releases the claim and tries again later; the song is still posted once."""
    fake = harness.fake
    fake.faults.script("POST", rf"/channels/{fake.music.id}/messages", [Fault.rate_limited(0.05, cloudflare=True)])
    await fake.slash_command("suno", {"prompt": "proxy bare"}, user=fake.alice)
    await wait_delivery(fake, within=15)
    await asyncio.sleep(0.3)
    assert len(posts(fake)) == 1
    statuses = [r.status for r in fake.find_requests("POST", f"/channels/{fake.music.id}/messages")]
    assert statuses == [429, 200]
    (job,) = await harness.bot.store.recent_for_user(fake.alice.id)
    assert (job.delivery, job.delivery_attempts) == ("delivered", 2)
