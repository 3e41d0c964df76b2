"""The community posts stay within Discord's limits however many entries, and member text never becomes markup."""

from __future__ import annotations

import dataclasses
import time

import pytest

from bot.cometapi import TaskResult
from bot.core.community.battles import BattleResult, Contender
from bot.core.community.challenges import Entry, standings
from bot.domain import Battle, Challenge, ChallengeEntry
from bot.ui.community import posts
from tests.test_render import clip, job_with, payload, texts, walk


def song(n: int):
    result = TaskResult("t", "succeeded", clips=(clip(1, "la"), clip(2, "la")))
    return dataclasses.replace(job_with(result), id=n, user_id=1000 + n, delivered_channel_id=2,
                               delivered_message_id=5000 + n)


def within_limits(view):
    components = walk(payload(view))
    assert len(components) <= 40 and len(texts(view)) <= 4000
    return components


@pytest.mark.parametrize("count", [2, 25, 26, 120])
def test_a_challenge_vote_post_fits_any_number_of_entries(count):
    """Up to 4 menus of 25 entries; the list is cut to fit; the post stays a valid Components V2 message."""
    now = time.time()
    challenge = Challenge(1, 1, 2, "the sea **loud** <@&1> @everyone", 9, "voting", now, now, 60.0, now + 60)
    entries = [Entry(ChallengeEntry(1, 1000 + n, n, now + n), song(n)) for n in range(1, count + 1)]
    components = within_limits(posts.challenge_voting(challenge, entries, now + 60))
    menus = [c for c in components if c["type"] == 3]
    assert len(menus) == min((count + 24) // 25, 4)
    assert all(len(menu["options"]) <= 25 for menu in menus)
    assert "\\*\\*loud\\*\\*" in texts(posts.challenge_voting(challenge, entries, now + 60))
    board = standings(entries, {1001: 3, 1002: 3})
    assert [s.place for s in board[:3]] == [1, 1, 3][:len(board)]
    within_limits(posts.challenge_results(challenge, board))


@pytest.mark.parametrize("count", [2, 10, 11, 120])
def test_a_challenge_vote_post_plays_up_to_ten_entries(count):
    """Every attached entry plays on the vote post (Discord's 10 files at most); the rest get a link to play."""
    now = time.time()
    challenge = Challenge(1, 1, 2, "the sea", 9, "voting", now, now, 60.0, now + 60)
    entries = [Entry(ChallengeEntry(1, 1000 + n, n, now + n), song(n)) for n in range(1, count + 1)]
    attached = {"c1": "1. Song.mp3"}  # every entry's first take is clip c1 here: each plays once attached
    components = within_limits(posts.challenge_voting(challenge, entries, now + 60, attached=attached))
    assert len([c for c in components if c["type"] == 13]) == min(count, posts.MAX_PLAYERS)
    links = texts(posts.challenge_voting(challenge, entries, now + 60, attached=attached)).count("▶ Listen")
    assert links == 0 if count <= posts.MAX_PLAYERS else links >= 1  # a long list is cut to fit the text limit


def test_a_face_off_and_its_result_fit_and_name_the_sides():
    """The face-off plays both sides (the attached ones) with their vote buttons; the result is one short line."""
    now = time.time()
    job = song(1)
    battle = Battle(3, 1, 2, 42, "a *duel*", "takes", 1, None, "open", 60.0, now, now, now + 60, 77)
    sides = (Contender("a", "Take A", job, 1, clip(1, "la")), Contender("b", "Take B", job, 2, clip(2, "la")))
    components = within_limits(posts.face_off(battle, sides, now + 60, attached={"c1": "la - Take A.mp3"}))
    assert [c["custom_id"] for c in components if c["type"] == 2] == ["chorus:battle:3:1", "chorus:battle:3:2"]
    assert [c["file"]["url"] for c in components if c["type"] == 13] == ["attachment://la - Take A.mp3"]
    assert texts(posts.face_off(battle, sides, now + 60)).count("▶ Listen") == 2  # nothing attached: links
    result = posts.battle_result(battle, sides, BattleResult("a", (2, 1)))
    assert texts(result) == "🏆 <@42> Battle #3 is over: Take A wins! 2 votes to 1."
    tie = posts.battle_result(battle, sides, BattleResult("tie", (1, 1)))
    assert "a tie, 1 to 1" in texts(tie)
    off = posts.battle_result(battle, None, BattleResult(None, None, "a song in it was deleted"))
    assert texts(off) == "⚔️ Battle #3 is called off: a song in it was deleted."
