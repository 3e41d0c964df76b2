"""What the store forgets so it never only grows (issue 18): crashed processes' rows, and refused requests once their
Try again has expired; and what a member's /status list leaves out (those refused requests). On both backends."""

from __future__ import annotations

import pytest

from bot.core.jobs import NOT_STARTED
from bot.domain import NewJob
from tests.conftest import ALICE, new_job


@pytest.fixture
def store(store_on_both):
    return store_on_both


async def refused(store, text: str = "the daily limit"):
    """A request a limit refused, kept (never started) for its Try again button, as JobService keeps it."""
    draft = await store.create(new_job())
    return await store.mark_submit_failed(draft.id, f"{NOT_STARTED}: {text}")


async def test_status_lists_leave_out_refused_requests(store, clock):
    """A member's recent jobs are their songs: refused requests (never started, nothing charged) are not listed,
    however many they pressed; the store still has each one for Try again."""
    song = await store.create(new_job())
    clock.advance(1)
    drafts = [await refused(store) for _ in range(12)]
    listed = await store.recent_for_user(ALICE.user_id, guild_id=ALICE.guild_id, limit=10)
    assert [job.id for job in listed] == [song.id]
    assert (await store.get(drafts[-1].id)).state == "submit_failed"


async def test_a_failed_submit_is_still_listed(store):
    """Only limit refusals are left out: a submit CometAPI refused is the member's to see."""
    job = await store.create(new_job())
    await store.mark_submit_failed(job.id, "CometAPI refused the prompt")
    assert [j.id for j in await store.recent_for_user(ALICE.user_id, guild_id=ALICE.guild_id)] == [job.id]


async def test_refused_requests_are_forgotten_once_old(store, clock):
    """Drafts older than the cut-off (an age) go; newer ones, and drafts another job refers to, stay."""
    old = await refused(store)
    kept_by_child = await refused(store)
    await store.create(NewJob(ALICE, "suno", "MUSIC", {"description": "x"}, "edit", kept_by_child.id))
    clock.advance(3600)
    recent = await refused(store)
    assert await store.forget_refused_drafts(older_than=60) == 1
    assert await store.get(old.id) is None
    assert await store.get(kept_by_child.id) is not None
    assert await store.get(recent.id) is not None


async def test_silent_workers_are_forgotten_after_a_grace(store, clock):
    """A process that crashed leaves its heartbeat row behind; after the grace it is deleted, a live one stays."""
    await store.beat("crashed", host="h", pid=1)
    clock.advance(600)
    await store.beat("alive", host="h", pid=2)
    assert await store.forget_silent_workers(silent_for=300) == ["crashed"]
    assert [worker.owner for worker in await store.workers()] == ["alive"]


async def test_the_courier_tidies_up_as_it_beats(store, clock):
    """The bot's own heartbeat loop does the housekeeping: a crashed process's old row and a day-old refused request
    go, a process that is alive and a fresh refused request stay."""
    import asyncio

    from bot.core.courier import Courier, CourierConfig
    from tests.test_poller import Inbox

    await store.beat("crashed long ago", host="h", pid=1)
    old_draft = await refused(store)
    clock.advance(2 * 24 * 3600)
    fresh_draft = await refused(store)
    config = CourierConfig(heartbeat_every=0.05, tidy_every=0.05, forget_workers_after=3600,
                           forget_drafts_after=24 * 3600)
    courier = Courier(store, Inbox(), config, now=clock)
    await courier.start()
    try:
        for _ in range(100):
            if await store.get(old_draft.id) is None:
                break
            await asyncio.sleep(0.05)
    finally:
        await courier.stop()
    assert await store.get(old_draft.id) is None
    assert await store.get(fresh_draft.id) is not None
    assert "crashed long ago" not in [worker.owner for worker in await store.workers()]
