"""Community deadlines are set on the store's clock, the one that judges them (issue 18): on PostgreSQL that is the
database's, while each bot process has its own, possibly drifting, clock."""

from __future__ import annotations

import pytest

from bot.core.community.challenges import ChallengeService


@pytest.fixture
def store(store_on_both):
    return store_on_both


async def test_a_challenge_deadline_is_set_on_the_store_clock(store, clock):
    """A process whose clock runs an hour ahead still gives a 10-minute challenge 10 minutes on the store's clock
    (which also decides when entries close), not 70."""
    drifting = ChallengeService(store, now=lambda: clock.now + 3600)
    challenge = await drifting.start(guild_id=1, channel_id=2, theme="rain", by=3, ends_in=600)
    assert challenge.submit_ends_at == pytest.approx(clock.now + 600)
    clock.advance(601)
    assert [due.id for due in await store.challenges_due(await store.clock())] == [challenge.id]
