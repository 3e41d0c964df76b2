"""What counts against a server's limits (issue 17): a job counts at its cost, and a submit that may have reached
CometAPI (timed out, answered without a task id, cut off by a crash) counts like a song: CometAPI may have charged
for it. A refusal by a limit, or a submit CometAPI refused, costs nothing. On both backends."""

from __future__ import annotations

import dataclasses

import pytest

from bot.domain import INTERRUPTED_SUBMIT, MAYBE_ACCEPTED, UNCONFIRMED, Usage
from tests.conftest import ALICE, new_job


@pytest.fixture
def store(store_on_both):
    return store_on_both


async def usage_now(store) -> Usage:
    seen: list[Usage] = []
    job = await store.create(new_job(), lambda usage, now: seen.append(usage))
    await store.mark_submit_failed(job.id, "CometAPI refused the prompt")  # the probe itself costs nothing
    return seen[0]


async def test_a_submit_that_may_have_started_counts_like_a_song(store):
    for reason in (MAYBE_ACCEPTED, UNCONFIRMED, INTERRUPTED_SUBMIT):
        job = await store.create(new_job())
        await store.mark_submit_failed(job.id, reason)
    refused = await store.create(new_job())
    await store.mark_submit_failed(refused.id, "CometAPI refused the prompt")
    usage = await usage_now(store)
    assert (usage.member_today, usage.guild_today) == (3, 3)
    (row,) = await store.usage_by_member(ALICE.guild_id, 0)
    assert (row.counted, row.failed) == (3, 2)  # the refused submit and the probe are free failures


async def test_a_job_counts_at_its_cost(store):
    job = await store.create(dataclasses.replace(new_job(), cost=5))
    await store.mark_submitted(job.id, "stems-1")
    assert (await usage_now(store)).member_today == 5
