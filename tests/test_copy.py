"""What members and admins read, word for word: songs not plumbing, counts and lengths in plain English.

Pure rendering (job → message); what crosses the wire for the same copy is in test_e2e_copy.py.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from bot.cometapi import Clip, TaskResult
from bot.core.admin import UsagePeriod, UsageReport, _period
from bot.core.catalog import Prices
from bot.core.community.battles import BattleResult, Contender
from bot.core.community.challenges import Entry, standings
from bot.core.limits import Admission, LimitReachedError, check
from bot.core.wording import clause, plural, span
from bot.domain import Battle, Challenge, ChallengeEntry, GuildSettings, Usage, UsageRow
from bot.ui import post, render
from bot.ui.community import posts
from bot.ui.items.battle_vote import BattleVoteButton
from tests.test_render import clip, job_with, payload, texts, walk


@pytest.mark.parametrize(("count", "noun", "said"), [
    (0, "song", "0 songs"), (1, "song", "1 song"), (2, "song", "2 songs"), (1, "entry", "1 entry"),
    (3, "entry", "3 entries"), (1, "minute", "1 minute"), (1_500, "song", "1,500 songs"),
])
def test_counts_agree_with_their_nouns(count, noun, said):
    """One song, two songs, three entries: a count and its noun always agree."""
    assert plural(count, noun) == said


@pytest.mark.parametrize(("seconds", "said"), [
    (1, "1 second"), (10, "10 seconds"), (60, "1 minute"), (90, "1 minute 30 seconds"), (600, "10 minutes"),
    (3600, "1 hour"), (5400, "1 hour 30 minutes"), (86_400, "1 day"), (129_600, "1 day 12 hours"),
    (7 * 86_400, "7 days"),
])
def test_lengths_of_time_read_as_english(seconds, said):
    """A length of time in words, at most two units: never "1 minutes", never "a moment" for ten minutes."""
    assert span(seconds) == said


def test_a_reason_that_ends_a_sentence_can_be_followed():
    """A reason ending in a full stop loses it, so "clip.. Here is what worked" cannot happen."""
    assert clause("Bad clip.") == "Bad clip"
    assert clause("  Really?! ") == "Really?!"
    assert clause("Wait…") == "Wait…"


# ---- songs, not plumbing -----------------------------------------------------------------------------------------


def test_a_queued_card_waits_for_the_model_not_for_cometapi():
    """A queued card says "Waiting for Suno" and names the song as song #n."""
    card = render.status_card(job_with(None, state="queued"))
    text = card.title + "\n" + card.description
    assert "Waiting for Suno" in text and "song #7" in text
    assert "CometAPI" not in text and "job #" not in text.lower()
    udio = dataclasses.replace(job_with(None, state="queued"), provider="udio", params={"model_type": "udio32-v1.5",
                                                                                         "prompt": "a song"})
    assert "Waiting for Udio" in render.status_card(udio).description


def test_model_labels_never_show_a_question_mark_or_udio_twice():
    """A stems job is "Suno stems" (not "Suno ?"), a Udio model is named once."""
    stems = dataclasses.replace(job_with(None, state="queued", params={"stem_of": "c1", "task_id": "t", "stem": "two"}),
                                kind="stems")
    assert render.model_label(stems) == "Suno stems"
    assert render.status_card(stems).title == "🕒 Queued · Suno stems"
    udio = dataclasses.replace(job_with(None), provider="udio", params={"model_type": "udio130-v1.5"})
    assert render.model_label(udio) == "Udio v1.5, ~130 s song"
    unknown = job_with(None, params={"description": "x"})
    assert "?" not in render.model_label(unknown)


def test_info_speaks_of_songs_and_keeps_ids_in_its_small_print():
    """Info names song #n and what kind of song in words; ids only in the last, small line; no "inspiration"."""
    result = TaskResult("task-123", "succeeded", clips=(clip(1, "la"), clip(2, "la")))
    job = dataclasses.replace(job_with(result), task_id="task-123")
    embed = render.info(job)
    lines = embed.description.splitlines()
    assert embed.title.startswith("Song #7 ")
    assert "inspiration" not in embed.description and "CometAPI" not in embed.description
    assert "from a description" in lines[0]
    assert lines[-1].startswith("-# ") and "task-123" in lines[-1] and "c1" in lines[-1]
    assert not [line for line in lines[:-1] if "task-123" in line]


def test_status_detail_has_no_cometapi_task_field():
    """/status job:<n> shows the song; its task id is in Info's small print only."""
    job = dataclasses.replace(job_with(None, state="running"), task_id="task-123")
    embed = render.status_detail(job, now=time.time())
    assert not [f for f in embed.fields if "CometAPI" in f.name]
    assert "task-123" not in str(embed.to_dict())


def test_history_names_a_song_once_and_counts_in_songs():
    """Two takes with one title are one title, not "Title / Title"; the footer says "1 song"; song #n."""
    result = TaskResult("t", "succeeded", clips=(dataclasses.replace(clip(1, "x"), title="Same"),
                                                dataclasses.replace(clip(2, "x"), title="Same")))
    embed = render.history(42, [job_with(result)], page=0, pages=1, total=1)
    assert "Same / Same" not in embed.description and "**[Same](" in embed.description
    assert "song #7" in embed.description and "job #" not in embed.description
    assert embed.footer.text.endswith("1 song")


def test_status_list_speaks_of_songs():
    """/status lists "Your recent songs", and its footer points at one song."""
    embed = render.status_list([job_with(None, state="queued")], now=time.time())
    assert embed.title == "Your recent songs"
    assert "job" not in embed.footer.text.replace("job:<", "")  # the option keeps its name


# ---- copy that reads right ---------------------------------------------------------------------------------------


def test_a_failed_take_reads_as_one_sentence():
    """A take that failed with a reason ending in "." reads "…clip. Here is what worked.", never "clip..",
    and the card names takes by letter."""
    bad = Clip(id="c2", status="error", error_message="Could not make this clip.")
    result = TaskResult("t", "succeeded", clips=(clip(1, "la"), bad))
    text = texts(post.song_post(job_with(result), attached={"c1": "a.mp3"}))
    assert "Take B failed: Could not make this clip. Here is what worked." in text
    assert ".." not in text
    card = render.status_card(job_with(result))
    assert "Take B failed: Could not make this clip" in card.description and ".." not in card.description


def test_settings_say_none_for_no_cooldown_and_count_in_songs():
    """A cooldown of 0 is "none", not "no limit"; 600 s reads "10 minutes"; a limit of 1 reads "1 song"."""
    embed = render.guild_settings(GuildSettings(1, daily_quota=1, cooldown_seconds=0, max_concurrent=1,
                                                battle_minutes=1))
    limits = next(f.value for f in embed.fields if f.name == "Limits")
    assert "Cooldown between songs: none" in limits
    assert "1 song" in limits and "1 songs" not in limits and "jobs" not in limits.lower()
    assert next(f.value for f in embed.fields if f.name == "Battles take votes for") == "1 minute"
    ten = render.guild_settings(GuildSettings(1, cooldown_seconds=600))
    assert "Cooldown between songs: 10 minutes" in next(f.value for f in ten.fields if f.name == "Limits")


def test_usage_counts_songs_in_dollars_like_the_balance():
    """/chorus usage says "1 song" and dollars, as /chorus balance does: no "1 jobs", no "credits"."""
    rows = [UsageRow(1, "suno", "MUSIC", 1, 0), UsageRow(2, "suno", "MUSIC", 0, 1), UsageRow(1, "suno", "LYRICS", 1, 0)]
    period = _period(rows, Prices())
    embed = render.usage(UsageReport(period, UsagePeriod()), Prices())
    today = embed.fields[0]
    assert today.name == "Today (UTC): 1 song, 1 lyrics · 1 failed · ≈$0.11"
    assert "<@1>: 1 song, 1 lyrics · ≈$0.11" in today.value
    assert "<@2>: 0 songs, 1 failed · ≈$0.00" in today.value
    assert "1 jobs" not in str(embed.to_dict()) and "credit" not in str(embed.to_dict()).lower()


def admitted(settings: GuildSettings, usage: Usage, now: float = 1_750_000_000.0) -> str:
    with pytest.raises(LimitReachedError) as refused:
        check(Admission(settings), usage, now)
    return refused.value.message


def test_limit_refusals_count_right_and_say_how_long():
    """A 10-minute cooldown says "10 minutes" (not "a moment"); a limit of 1 says "1 song"; concurrency counts
    songs in the making, not "job(s)"."""
    now = 1_750_000_000.0
    cooldown = admitted(GuildSettings(1, cooldown_seconds=600), Usage(member_last_at=now - 60), now)
    assert "10 minutes" in cooldown and "a moment" not in cooldown
    budget = admitted(GuildSettings(1, daily_budget=1), Usage(guild_today=1))
    assert "its 1 song for today" in budget
    busy = admitted(GuildSettings(1, max_concurrent=1), Usage(member_in_flight=1))
    assert "1 song in the making" in busy and "job" not in busy


def test_a_challenge_gives_no_medal_without_votes():
    """Places with no votes get no medal (no bronze for 0 votes)."""
    now = time.time()
    challenge = Challenge(1, 1, 2, "the sea", 9, "closed", now, now, 60.0, now)
    songs = [dataclasses.replace(job_with(TaskResult("t", "succeeded", clips=(clip(1, "la"),))), id=n)
             for n in (1, 2, 3)]
    entries = [Entry(ChallengeEntry(1, 1000 + n, n, now + n), songs[n - 1]) for n in (1, 2, 3)]
    text = texts(posts.challenge_results(challenge, standings(entries, {1001: 2, 1002: 1})))
    assert "🥇" in text and "🥈" in text and "🥉" not in text
    assert "**3.**" in text and "0 votes" in text


def test_a_battle_names_each_side_once():
    """"Take A" is not "A · Take A": the buttons and the result name a take once; Suno vs Udio keeps its letters."""
    assert BattleVoteButton(3, 1, "Take A").item.label == "Vote for Take A"
    assert BattleVoteButton(3, 2, "Udio").item.label == "Vote for Udio"
    now = time.time()
    job = job_with(TaskResult("t", "succeeded", clips=(clip(1, "la"), clip(2, "la"))))
    battle = Battle(3, 1, 2, 42, "a duel", "takes", 1, None, "open", 60.0, now, now, now + 60, 77)
    sides = (Contender("a", "Take A", job, 1, clip(1, "la")), Contender("b", "Take B", job, 2, clip(2, "la")))
    text = texts(posts.battle_result(battle, sides, BattleResult("a", (2, 1)))) + texts(
        posts.face_off(battle, sides, now + 60))
    assert "A · Take A" not in text and "B · Take B" not in text
    assert "Take A wins!" in text


def test_copy_has_no_job_numbers_on_posts():
    """The song, lyrics and stems posts say song #n."""
    result = TaskResult("t", "succeeded", clips=(clip(1, "la"),))
    song = texts(post.song_post(job_with(result), attached={}))
    failure = texts(post.failure_post(job_with(None, state="failed", error="no")))
    assert "song #7" in song and "song #7" in failure
    assert "job #" not in (song + failure).lower()
    assert [c for c in walk(payload(post.failure_post(job_with(None, state="failed")))) if c["type"] == 1]
