"""Delivery end to end: upload limits, Discord errors, restarts, partial results, time-outs, progress."""

from __future__ import annotations

import asyncio
import logging

from bot.core.poller import PollerConfig
from bot.simulator import ManualClock, SimulatorServer, Timings
from tests.conftest import API_KEY
from tests.e2e import corrupt, deliveries, eventually, posts, text_of, wait_delivery
from tests.fakes.discord import Fault
from tests.harness import BotHarness


async def job_of(harness, number=0):
    jobs = await harness.bot.jobs.recent(harness.fake.alice.id, guild_id=harness.fake.guild.id, limit=50)
    ordered = sorted(jobs, key=lambda j: j.id)
    return ordered[number] if len(ordered) > number else None


async def settled_job(harness, number=0):
    """The job once its delivery is final (delivered or abandoned)."""

    async def check():
        job = await job_of(harness, number)
        return job if job is not None and job.delivery in {"delivered", "abandoned"} else None

    return await eventually(check, within=10)


async def test_audio_over_the_upload_limit_becomes_links(harness):
    """When the MP3s do not fit the guild's upload limit, the song is posted with links to them instead; its lyrics
    (a few hundred bytes) still ride in the post."""
    fake = harness.fake
    fake.upload_limit = 1_000  # smaller than one simulated MP3
    await fake.slash_command("suno", {"prompt": "a long ballad"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    assert [a["filename"] for a in message["attachments"]] == ["A Long Ballad - Lyrics.txt"]  # a few hundred bytes
    text = text_of(message)
    assert "Too large to attach" in text
    assert text.count("[▶ Listen](") == 2


async def test_missing_attach_permission_degrades_to_links(harness):
    """A 403 on the post with files is retried without them, and the job records why."""
    fake = harness.fake
    fake.faults.forbid("POST", r"/channels/\d+/messages", code=50013, times=1)
    await fake.slash_command("suno", {"prompt": "garage rock"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    assert message["attachments"] == []
    job = await settled_job(harness)
    assert job.delivery == "delivered"
    assert "without attachments" in job.delivery_error


async def test_a_channel_that_refuses_everything_means_a_dm(harness):
    """When the bot cannot post in the channel at all, the member gets the song by DM, and the job says so."""
    fake = harness.fake
    fake.faults.forbid("POST", rf"/channels/{fake.music.id}/messages", code=50013, times=None)
    await fake.slash_command("suno", {"prompt": "synthwave"}, user=fake.alice)
    dm = fake.world.dm_channel(fake.alice)
    (message,) = await wait_delivery(fake, channel=dm)
    assert f"<#{fake.music.id}>" in text_of(message)
    job = await settled_job(harness)
    assert job.delivered_channel_id == dm.id
    assert "sent by DM" in job.delivery_error
    assert deliveries(fake) == []


async def test_no_channel_and_no_dm_is_recorded_not_lost_silently(harness, caplog):
    """With the channel and the DMs closed, the job is marked abandoned with the reason, and it is logged."""
    fake = harness.fake
    fake.alice.accepts_dms = False
    fake.faults.forbid("POST", rf"/channels/{fake.music.id}/messages", code=50013, times=None)
    caplog.set_level(logging.WARNING)
    await fake.slash_command("suno", {"prompt": "doom jazz"}, user=fake.alice)
    job = await settled_job(harness)
    assert job.delivery == "abandoned"
    assert "DM failed" in job.delivery_error
    assert "cannot be delivered" in caplog.text


async def test_rate_limited_post_is_delivered_exactly_once(harness):
    """A 429 from Discord is waited out by discord.py; the song is posted once."""
    fake = harness.fake
    fake.faults.script("POST", rf"/channels/{fake.music.id}/messages", [Fault.rate_limited(0.05)])
    await fake.slash_command("suno", {"prompt": "city pop"}, user=fake.alice)
    await wait_delivery(fake)
    await asyncio.sleep(0.3)  # a few more poll cycles: nothing more may be posted
    assert len(posts(fake)) == 1
    statuses = [r.status for r in fake.find_requests("POST", f"/channels/{fake.music.id}/messages")]
    assert statuses == [429, 200]


async def test_partial_success_delivers_what_worked(harness):
    """If one take fails and the other completes, the completed one is posted with a note."""
    fake = harness.fake
    await fake.slash_command("suno", {"prompt": "[partial] bossa nova"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    text = text_of(message)
    assert [a["filename"] for a in message["attachments"]] == ["Bossa Nova - Take A.mp3", "Bossa Nova - Lyrics.txt"]
    assert "Take B failed" in text


async def test_the_more_menu_works_after_a_restart(harness):
    """More → Cover art on a song delivered before a restart still answers after it, privately."""
    fake = harness.fake
    await fake.slash_command("suno", {"prompt": "a love song for robots"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    await harness.restart()
    click = await fake.select(message, "chorus:more:1", ["cover"], user=fake.bob)
    response = await click.wait_response()
    assert response["type"] == 4
    assert response["data"]["flags"] & 64
    assert response["data"]["embeds"][0]["image"]["url"].startswith("http")


async def test_progress_is_shown_on_the_card(slow_harness):
    """As the job moves from queued to generating, the card is edited, with a link to listen early."""
    fake = slow_harness.fake
    it = await fake.slash_command("suno", {"prompt": "ambient rain"}, user=fake.alice)
    await it.wait_original(lambda m: m["embeds"] and "Queued" in m["embeds"][0]["title"])
    slow_harness.sim_clock.advance(10)
    card = await it.wait_original(lambda m: m["embeds"] and "Generating" in m["embeds"][0]["title"])
    assert "/media/stream/" in card["embeds"][0]["description"]  # listen while it is made
    slow_harness.sim_clock.advance(60)
    await wait_delivery(fake)


async def test_restart_mid_job_delivers_once(slow_harness):
    """A restart while CometAPI is still working loses nothing and posts the song exactly once."""
    fake = slow_harness.fake
    await fake.slash_command("suno", {"prompt": "krautrock"}, user=fake.alice)
    await fake.wait_for(lambda: slow_harness.sim.count("batch_fetch") > 0 or None)
    await slow_harness.stop()
    slow_harness.sim_clock.advance(120)
    await slow_harness.start()
    await wait_delivery(fake)
    await asyncio.sleep(0.3)
    assert len(posts(fake)) == 1


async def test_a_job_that_never_finishes_is_reported_as_timed_out(fake_discord, simulator, tmp_path):
    """Past the deadline the card shrinks to one line, and the member is told privately that it took too long."""
    running = BotHarness(fake_discord, simulator, tmp_path / "c.db",
                         poller=PollerConfig(interval=0.05, deadline=0.3))
    await running.start()
    try:
        it = await fake_discord.slash_command("suno", {"prompt": "[hang] endless"}, user=fake_discord.alice)
        # The public card shrinks to one line; the member alone is told why, with what they asked for.
        card = await it.wait_original(lambda m: bool(m["embeds"]) and not m["embeds"][0].get("title"))
        (private,) = await fake_discord.wait_for(lambda: it.followups() or None)
    finally:
        await running.stop()
    assert "did not work out" in card["embeds"][0]["description"]
    assert "took too long" in private["content"] and private["flags"] & 64
    assert "[hang] endless" in private["content"]


async def test_logs_never_hold_the_secrets(harness, caplog):
    """Through a whole job, with failures, neither the key nor the token is logged."""
    caplog.set_level(logging.DEBUG)
    fake, sim = harness.fake, harness.sim
    sim.faults.script("submit_music", [500])
    await fake.slash_command("suno", {"prompt": "one"}, user=fake.alice)
    await fake.slash_command("suno", {"prompt": "two"}, user=fake.alice)
    await wait_delivery(fake)
    assert caplog.text
    assert API_KEY not in caplog.text
    assert fake.token not in caplog.text


async def test_after_the_token_expires_the_card_is_edited_as_a_channel_message(fake_discord, tmp_path):
    """Interaction tokens last 15 minutes; later progress edits go through the bot's own channel message."""
    import time

    from tests.conftest import FakeClock

    bot_clock = FakeClock(time.time())
    sim_clock = ManualClock()
    async with SimulatorServer(api_key=API_KEY, timings=Timings(), clock=sim_clock, shutdown_timeout=0.2) as sim:
        running = BotHarness(fake_discord, sim, tmp_path / "c.db", now=bot_clock,
                             poller=PollerConfig(interval=0.05, deadline=7200))
        await running.start()
        try:
            fake = fake_discord
            it = await fake.slash_command("suno", {"prompt": "slow burn"}, user=fake.alice)
            card = await it.wait_original(lambda m: m["embeds"] and "Queued" in m["embeds"][0]["title"])
            bot_clock.advance(20 * 60)
            sim_clock.advance(10)
            path = f"/channels/{fake.music.id}/messages/{card['id']}"
            await fake.wait_for(lambda: fake.find_requests("PATCH", path) or None)
            webhook_edits = [r for r in fake.find_requests("PATCH", "/webhooks/") if r.at > 0]
            assert all("Generating" not in str(r.json) for r in webhook_edits)
            assert "Generating" in fake.messages_in(fake.music)[0]["embeds"][0]["title"]
        finally:
            await running.stop()


async def test_a_claim_taken_over_after_discords_nonce_memory_finds_the_post_first(harness):
    """A process that posted a song and died before recording it leaves the claim; if it is taken over after
    Discord has forgotten the nonce, the next delivery finds the job's own post in the channel's recent messages
    (by the job id in its buttons) and records that one instead of posting the song a second time."""
    fake = harness.fake
    await fake.slash_command("suno", {"prompt": "a song that must not double"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    assert len(posts(fake)) == 1
    fake.forget_nonces()  # minutes later…
    # …as if the process had died between Discord's answer and the database write: claimed by a dead owner.
    await corrupt(harness.settings.database_url,
                  "UPDATE jobs SET delivery = 'claimed', delivery_owner = 'gone', delivered_message_id = NULL")

    async def recorded_again():
        job = await harness.bot.jobs.get(1)
        return job if job.delivery == "delivered" else None

    job = await eventually(recorded_again)
    await asyncio.sleep(0.3)
    assert len(posts(fake)) == 1
    assert job.delivered_message_id == int(message["id"])
    assert job.delivery_attempts == 2


async def test_a_taken_over_claim_posts_when_the_first_post_never_arrived(harness):
    """The same take-over, when the dead process had not posted yet: the song is posted, once."""
    fake = harness.fake
    fake.faults.always("POST", rf"/channels/{fake.music.id}/messages", 503)
    await fake.slash_command("suno", {"prompt": "a song stuck at the door"}, user=fake.alice)

    async def failed_once():
        job = await harness.bot.jobs.get(1)
        return job if job is not None and job.delivery_attempts >= 1 and job.delivery != "claimed" else None

    await eventually(failed_once, within=10)
    fake.faults.clear()
    await corrupt(harness.settings.database_url, "UPDATE jobs SET delivery = 'claimed', delivery_owner = 'gone'")
    await wait_delivery(fake)
    await asyncio.sleep(0.3)
    assert len(posts(fake)) == 1


async def test_the_card_estimates_from_recent_songs_of_the_same_model(slow_harness):
    """Once a song of a model has been made, the next one's card says how long such songs usually take and
    when this one should be ready, instead of a bar that says nothing."""
    fake, clock = slow_harness.fake, slow_harness.sim_clock
    await fake.slash_command("suno", {"prompt": "the first of its kind"}, user=fake.alice)
    await fake.wait_for(lambda: slow_harness.sim.count("batch_fetch") > 0 or None)
    clock.advance(400)
    await wait_delivery(fake)
    it = await fake.slash_command("suno", {"prompt": "the second"}, user=fake.alice)
    await fake.wait_for(lambda: slow_harness.sim.count("submit_music") == 2 or None)
    clock.advance(10)
    card = await it.wait_original(lambda m: bool(m["embeds"]) and "Generating" in m["embeds"][0]["title"])
    assert "usually" in card["embeds"][0]["description"] and ":R>" in card["embeds"][0]["description"]
    clock.advance(400)
    await wait_delivery(fake, 2)


async def test_card_edits_wait_while_a_song_is_posted_in_their_channel(slow_harness):
    """While Discord holds a song's post back (rate-limited), the cards of other jobs in that channel are not
    edited: songs go first. The waiting card is edited right after."""
    fake, clock = slow_harness.fake, slow_harness.sim_clock
    sim = slow_harness.sim
    await fake.slash_command("suno", {"prompt": "the song that finishes"}, user=fake.alice)
    await fake.wait_for(lambda: sim.count("submit_music") == 1 or None)
    clock.advance(15)
    waiting = await fake.slash_command("suno", {"prompt": "[hang] the one still being made"}, user=fake.bob)
    await fake.wait_for(lambda: sim.count("submit_music") == 2 or None)
    card = await waiting.wait_original(lambda m: bool(m["embeds"]))
    fake.faults.script("POST", rf"/channels/{fake.music.id}/messages", [Fault.rate_limited(5)])
    clock.advance(12)  # the first song is done; the second is a quarter of the way
    await fake.wait_for(lambda: fake.find_requests("POST", f"/channels/{fake.music.id}/messages") or None)
    for _ in range(9):  # the second job keeps moving while the first is held back (card rounds come every 2 s)
        clock.advance(2)
        await asyncio.sleep(0.5)
    await wait_delivery(fake)
    song_posts = fake.find_requests("POST", f"/channels/{fake.music.id}/messages")
    held_from, posted_at = song_posts[0].at, song_posts[-1].at
    card_edits = lambda: [r for r in fake.state.recorder.requests  # noqa: E731
                          if r.method == "PATCH" and r.path.endswith(f"/messages/{card['id']}")]
    assert not [r for r in card_edits() if held_from < r.at < posted_at]
    # The job keeps moving after the post: its card is edited again (the first edit due may already have been
    # coalesced into the hold, so the clock moves once more rather than the test racing the card round).
    clock.advance(2)
    await fake.wait_for(lambda: [r for r in card_edits() if r.at > posted_at] or None, timeout=15)


async def test_songs_outlive_a_long_outage_of_message_creates_and_are_posted_once(fake_discord, simulator, tmp_path):
    """Ten minutes (on the bot's clock) in which Discord, or the proxy in front of it, refuses every message create
    (503s, then Discord's 429s that discord.py gave up on, a proxy's bare 429, a global 429) end with every song
    posted exactly once and none abandoned: failures for now never count towards giving up, and a 429's Retry-After
    is waited out before the channel is tried again."""
    import dataclasses

    from tests.conftest import RunningClock

    # The store keeps each wait on its clock (for every process): that clock runs, and jumps the ten minutes.
    bot_clock = RunningClock()
    running = BotHarness(fake_discord, simulator, tmp_path / "outage.db", now=bot_clock)
    # Short backoffs, so the test's minutes of outage take a few real seconds; the give-up age stays a day.
    running.courier_config = dataclasses.replace(running.courier_config, retry_base=0.05, retry_cap=0.2)
    await running.start()
    fake = fake_discord
    path = f"/channels/{fake.music.id}/messages"
    try:
        fake.faults.always("POST", path, 503)
        for n in range(3):
            await fake.slash_command("suno", {"prompt": f"a song through the outage {n}"}, user=fake.alice)

        async def failing_a_while():
            jobs = await running.bot.jobs.recent(fake.alice.id, guild_id=fake.guild.id, limit=10)
            return len(jobs) == 3 and all(j.state == "succeeded" for j in jobs) and max(
                j.delivery_attempts for j in jobs) >= 3

        await eventually(failing_a_while, within=10)
        for _ in range(10):  # ten minutes pass on the bot's (and the store's) clock, still refused
            bot_clock.advance(60)
            await asyncio.sleep(0.1)
        fake.faults.clear()
        bare = Fault(429, "error code: 1015", {"Retry-After": "1"})  # a proxy's own limit: no Via, no JSON
        fake.faults.script("POST", path, [Fault.rate_limited(0.02)] * 5 + [bare]
                           + [Fault.rate_limited(0.02, is_global=True)] * 5)
        await wait_delivery(fake, 3, within=30)
        await asyncio.sleep(0.3)  # a few more courier rounds: nothing more may be posted
        jobs = await running.bot.jobs.recent(fake.alice.id, guild_id=fake.guild.id, limit=10)
    finally:
        await running.stop()
    accepted = posts(fake)
    assert len(accepted) == 3
    assert len({r.json["nonce"] for r in accepted}) == 3
    assert {(j.delivery, j.delivery_error) for j in jobs} == {("delivered", None)}
    assert max(j.delivery_attempts for j in jobs) > 5  # more failures than the old count allowed, none given up
    requests = fake.find_requests("POST", path)
    after_bare = next(i for i, r in enumerate(requests) if r.status == 429 and not isinstance(r.response, dict))
    assert requests[after_bare + 1].at - requests[after_bare].at >= 1.0  # the proxy's Retry-After was waited out


async def test_submits_during_a_429_spell_bring_no_fetch_before_the_retry_after(harness):
    """While CometAPI answers every batch fetch with 429 and Retry-After: 2, members keep asking for songs and each
    submit wakes the poller: no fetch comes sooner than 2 s after a refused one (neither a wake nor the client's own
    retry cuts it short); once the spell ends, every song is posted."""
    import itertools
    import time

    from bot.simulator import Fault as CometFault

    fake, sim = harness.fake, harness.sim
    sim.faults.always("batch_fetch", CometFault(429, retry_after=2))
    await fake.slash_command("suno", {"prompt": "the first of the spell"}, user=fake.alice)
    await fake.wait_for(lambda: sim.count("batch_fetch") >= 1 or None)
    for n in range(8):
        await fake.slash_command("suno", {"prompt": f"one more during the spell {n}"}, user=fake.alice)
        await asyncio.sleep(0.4)
    ended = time.monotonic()
    sim.faults.clear()
    await wait_delivery(fake, 9, within=20)
    fetches = [r.at for r in sim.requests_to("batch_fetch")]
    refused = [at for at in fetches if at < ended]
    assert len(refused) >= 2
    gaps = [later - earlier for earlier, later in itertools.pairwise(fetches) if earlier < ended]
    assert min(gaps) >= 2.0, gaps


async def test_a_status_card_deleted_in_discord_is_not_edited_again(fake_discord, tmp_path):
    """A moderator deletes a song's status card while the song is made: the next progress edit learns it is gone
    (404 Unknown Message) and no later one is sent (each would spend the channel's share of Discord's rate limit,
    which the channel's songs need); the song is still posted once."""
    sim_clock = ManualClock()
    async with SimulatorServer(api_key=API_KEY, timings=Timings(), clock=sim_clock, shutdown_timeout=0.2) as sim:
        running = BotHarness(fake_discord, sim, tmp_path / "gone.db", poller=PollerConfig(interval=0.05))
        await running.start()
        try:
            fake = fake_discord
            it = await fake.slash_command("suno", {"prompt": "a card nobody wants"}, user=fake.alice)
            card = await it.wait_original(lambda m: m["embeds"] and "Queued" in m["embeds"][0]["title"])
            await fake.delete_message(card, user=fake.admin)
            for _ in range(10):  # the song moves through its stages: several progress edits' worth
                sim_clock.advance(2.5)
                await asyncio.sleep(0.6)
            edits = [r for r in fake.requests if r.method == "PATCH" and r.path.endswith(f"/messages/{card['id']}")]
            assert len(edits) == 1 and edits[0].status == 404
            sim_clock.advance(60)
            await wait_delivery(fake, within=15)
        finally:
            await running.stop()
    assert len(posts(fake)) == 1
