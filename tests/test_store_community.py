"""The community half of the store on a real SQLite file: likes, votes and claims count once."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.community.challenges import parse_duration
from bot.core.validation import InvalidInputError
from bot.store import JobUpdate, NewBattle, NewChallenge
from tests.conftest import ALICE, new_job


async def a_song(store):
    job = await store.create(new_job())
    await store.mark_submitted(job.id, f"task-{job.id}")
    await store.apply([JobUpdate(job.id, "succeeded", 100, {"clips": []})])
    return job.id


async def test_a_like_is_one_row_per_member_and_a_double_press_changes_nothing(store, clock):
    """Concurrent presses of one member count once; a press after the debounce window takes the like back."""
    song = await a_song(store)
    results = await asyncio.gather(*(store.toggle_like(song, 7, 1, debounce=2.0) for _ in range(5)))
    assert [r.changed for r in results].count(True) == 1
    assert await store.like_count(song) == 1
    clock.advance(3)
    taken_back = await store.toggle_like(song, 7, 1, debounce=2.0)
    assert (taken_back.liked, taken_back.likes, taken_back.changed) == (False, 0, True)


async def test_a_battle_vote_is_changeable_and_refused_once_closed(store, clock):
    """One row per member: a second vote replaces the first; after closes_at no vote is taken."""
    song = await a_song(store)
    battle = await store.create_battle(NewBattle(1, 2, ALICE.user_id, "p", "takes", song, None, 60.0))
    assert not (await store.vote_battle(battle.id, 7, "a")).accepted  # not open yet
    assert await store.open_battle(battle.id, opened_at=clock(), closes_at=clock() + 60)
    assert (await store.vote_battle(battle.id, 7, "a")).previous is None
    assert (await store.vote_battle(battle.id, 7, "b")).previous == "a"
    await asyncio.gather(*(store.vote_battle(battle.id, 8, "b") for _ in range(3)))
    assert await store.battle_tally(battle.id) == (0, 2)
    clock.advance(61)
    assert not (await store.vote_battle(battle.id, 9, "a")).accepted
    assert await store.next_community_due() == pytest.approx(clock() - 1)


async def test_one_running_challenge_per_guild(store, clock):
    """A second challenge cannot start while one is open or voting."""
    new = NewChallenge(guild_id=5, channel_id=6, theme="sea", started_by=1, submit_ends_at=clock() + 60,
                       voting_seconds=60)
    first, second = await asyncio.gather(store.create_challenge(new), store.create_challenge(new))
    assert (first is None) != (second is None)


async def test_song_of_the_day_is_claimed_once(store):
    """The claim is keyed by guild and day; a released claim can be made again."""
    assert await store.claim_song_of_day(1, 0.0, None, 2)
    assert not await store.claim_song_of_day(1, 0.0, None, 2)
    await store.release_song_of_day(1, 0.0)
    assert await store.claim_song_of_day(1, 0.0, None, 2)


@pytest.mark.parametrize(("text", "seconds"), [("7d", 7 * 86400), ("48h", 48 * 3600), ("1d12h", 36 * 3600),
                                               ("90m", 5400), ("2", 7200), ("1.5h", 5400)])
def test_durations(text, seconds):
    """Challenge lengths are read as days, hours and minutes (a bare number is hours)."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "", "0m", "90d", "3x"])
def test_bad_durations_are_refused(text):
    """Anything else is a friendly error."""
    with pytest.raises(InvalidInputError):
        parse_duration(text)
