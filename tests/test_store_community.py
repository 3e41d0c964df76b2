"""The community half of the store, on both backends (a real SQLite file, and a fresh PostgreSQL database when the
tests have a cluster): likes, votes and claims count once, charts and profiles count what they should."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.community.challenges import parse_duration
from bot.core.validation import InvalidInputError
from bot.domain import (
    Battle,
    Challenge,
    EntryOutcome,
    Jam,
    JamLine,
    JobUpdate,
    LikeToggle,
    MemberStats,
    NewBattle,
    NewChallenge,
    NewJam,
    NewJob,
    Requester,
    SongOfDayGuild,
    VoteOutcome,
)
from bot.store import open_store
from tests.conftest import ALICE, jam_line, new_job

GUILD = 3001  # ALICE's guild
BOB = Requester(user_id=1002, channel_id=2001, guild_id=GUILD)


@pytest.fixture
def store(store_on_both):
    """The store under test: on SQLite, and on PostgreSQL when the tests have a cluster."""
    return store_on_both


async def a_song(store, provider="suno"):
    job = await store.create(new_job(provider))
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


# ---- what each method keeps and counts, beyond the races above ------------------------------------------------------

OWNER = "host:1:courier"


async def a_posted_song(store, who=ALICE, provider="suno", **params):
    """A song made, finished and posted (what charts, profiles and song of the day count)."""
    job = await store.create(NewJob(who, provider, "MUSIC", params={"description": "a song", **params}))
    await store.mark_submitted(job.id, f"task-{job.id}")
    await store.apply([JobUpdate(job.id, "succeeded", 100, {"clips": []})])
    await store.beat(OWNER, host="host", pid=1)
    assert await store.claim_delivery(job.id, owner=OWNER, lease_seconds=60) is not None
    assert await store.mark_delivered(job.id, 2001, 9000 + job.id, owner=OWNER)
    return job.id




async def test_concurrent_likes_and_votes_from_two_processes_count_once(store_url, clock):
    """Two processes (two stores on one database) taking the same member's presses at once: one like, one vote, and
    every press but the first reports that it changed nothing or what the vote was before."""
    first = await open_store(store_url, now=clock)
    second = await open_store(store_url, now=clock)
    try:
        song = await a_song(first)
        presses = await asyncio.gather(*(s.toggle_like(song, 7, GUILD, debounce=2.0)
                                         for s in (first, second) * 3))
        assert sorted(p.changed for p in presses) == [False] * 5 + [True]
        assert all(p.liked and p.likes == 1 for p in presses)
        clock.advance(3)  # two presses after the window: one takes the like back, the other likes again
        again = await asyncio.gather(first.toggle_like(song, 7, GUILD, debounce=2.0),
                                     second.toggle_like(song, 7, GUILD, debounce=2.0))
        assert sorted(again, key=lambda p: p.liked) == [LikeToggle(False, 0, True), LikeToggle(True, 1, True)]
        assert await first.like_count(song) == 1
        battle = await first.create_battle(NewBattle(GUILD, 2, ALICE.user_id, "p", "takes", song, None, 60.0))
        await first.open_battle(battle.id, opened_at=clock(), closes_at=clock() + 60)
        votes = await asyncio.gather(*(s.vote_battle(battle.id, 7, "a") for s in (first, second) * 3))
        assert sorted(v.previous or "" for v in votes) == ["", "a", "a", "a", "a", "a"]
        assert await second.battle_tally(battle.id) == (1, 0)
    finally:
        await first.close()
        await second.close()


async def test_a_like_is_counted_per_song_and_taken_back_after_the_window(store, clock):
    """Likes count per song; a like older than the window is taken back, a fresh one stays."""
    song, other = await a_song(store), await a_song(store)
    assert (await store.toggle_like(song, 7, GUILD, debounce=2.0)) == LikeToggle(True, 1, True)
    assert (await store.toggle_like(song, 8, GUILD, debounce=2.0)) == LikeToggle(True, 2, True)
    assert (await store.toggle_like(song, 8, GUILD, debounce=2.0)) == LikeToggle(True, 2, False)  # within 2 s
    assert (await store.toggle_like(other, 7, GUILD, debounce=2.0)).likes == 1
    clock.advance(2)
    assert (await store.toggle_like(song, 8, GUILD, debounce=2.0)) == LikeToggle(False, 1, True)
    assert (await store.like_count(song), await store.like_count(other)) == (1, 1)


async def test_a_song_is_removed_once(store):
    """Deleting marks a song once; removed_songs says which of some songs were deleted."""
    song, kept = await a_song(store), await a_song(store)
    assert await store.remove_song(song, by=7)
    assert not await store.remove_song(song, by=8)
    assert await store.removed_songs([song, kept, 999]) == {song}
    assert await store.removed_songs([]) == set()


async def test_charts_count_likes_of_posted_songs_that_were_not_deleted(store, clock):
    """Most liked first, a tie going to the song liked first; only posted, not deleted songs of the guild made in
    [since, until), with at least one like, of the provider asked for."""
    old = await a_posted_song(store)
    clock.advance(100)
    since = clock()
    tie_late, top, tie_early, udio = (await a_posted_song(store), await a_posted_song(store, BOB),
                                      await a_posted_song(store), await a_posted_song(store, provider="udio"))
    unposted, deleted, unliked = await a_song(store), await a_posted_song(store), await a_posted_song(store)
    elsewhere = await a_posted_song(store, Requester(user_id=5, channel_id=6, guild_id=GUILD + 1))
    for song, members in ((old, 5), (top, 3), (tie_early, 2), (udio, 1), (unposted, 4), (deleted, 4),
                          (elsewhere, 4)):
        for member in range(members):
            await store.toggle_like(song, 100 + member, GUILD, debounce=2.0)
            clock.advance(1)
    for member in range(2):
        await store.toggle_like(tie_late, 200 + member, GUILD, debounce=2.0)
    await store.remove_song(deleted, by=None)
    assert unliked
    chart = await store.chart(GUILD, since=since)
    assert [(row.job.id, row.likes) for row in chart] == [(top, 3), (tie_early, 2), (tie_late, 2), (udio, 1)]
    assert chart[0].job == await store.get(top)
    assert [row.job.id for row in await store.chart(GUILD, since=None, limit=2)] == [old, top]
    assert [row.job.id for row in await store.chart(GUILD, since=None, until=since)] == [old]
    assert [row.job.id for row in await store.chart(GUILD, since=since, provider="udio")] == [udio]
    assert await store.chart(GUILD + 2, since=None) == []


async def test_a_members_stats_and_songs(store, clock):
    """Songs: posted and not deleted; likes received on those; likes given on this server; songs newest first."""
    first = await a_posted_song(store)
    clock.advance(1)
    second = await a_posted_song(store)
    clock.advance(1)
    deleted = await a_posted_song(store)
    await a_song(store)  # not posted
    bobs = await a_posted_song(store, BOB)
    for song in (first, second, deleted):
        await store.toggle_like(song, BOB.user_id, GUILD, debounce=2.0)
    await store.toggle_like(first, 9, GUILD, debounce=2.0)
    await store.toggle_like(bobs, ALICE.user_id, GUILD, debounce=2.0)
    await store.toggle_like(bobs, ALICE.user_id, GUILD + 1, debounce=2.0)  # a second press: nothing new
    await store.remove_song(deleted, by=ALICE.user_id)
    assert await store.member_stats(GUILD, ALICE.user_id) == MemberStats(songs=2, likes_received=3, likes_given=1)
    assert await store.member_stats(GUILD, BOB.user_id) == MemberStats(songs=1, likes_received=1, likes_given=3)
    assert await store.member_stats(GUILD + 1, ALICE.user_id) == MemberStats(0, 0, 0)
    assert [job.id for job in await store.member_songs(GUILD, ALICE.user_id, limit=5)] == [second, first]
    assert [job.id for job in await store.member_songs(GUILD, ALICE.user_id, limit=1)] == [second]


async def test_a_battle_goes_from_making_to_open_to_closed_once(store, clock):
    """A battle is recorded as making, opens once, is listed by state and when due, and finishes once with its
    result; the earliest due time counts open battles only."""
    song_a, song_b = await a_song(store), await a_song(store, "udio")
    battle = await store.create_battle(NewBattle(GUILD, 2, ALICE.user_id, "sea shanty", "versus", song_a, song_b,
                                                 90.0))
    assert battle == Battle(battle.id, GUILD, 2, ALICE.user_id, "sea shanty", "versus", song_a, song_b, "making",
                            90.0, clock())
    assert battle.job_ids == (song_a, song_b)
    assert await store.get_battle(battle.id) == battle
    assert await store.get_battle(battle.id + 1) is None
    assert [b.id for b in await store.battles_in("making")] == [battle.id]
    assert await store.next_community_due() is None
    assert await store.open_battle(battle.id, opened_at=clock(), closes_at=clock() + 90)
    assert not await store.open_battle(battle.id, opened_at=clock(), closes_at=clock() + 900)
    await store.set_battle_message(battle.id, 555)
    assert await store.next_community_due() == clock() + 90
    assert await store.battles_due(clock() + 89) == []
    (due,) = await store.battles_due(clock() + 90)
    assert (due.state, due.message_id, due.opened_at, due.closes_at) == ("open", 555, clock(), clock() + 90)
    await store.vote_battle(battle.id, 7, "b")
    clock.advance(91)
    assert await store.finish_battle(battle.id, state="closed", winner="b", votes=(0, 1), note=None,
                                     result_message_id=556)
    assert not await store.finish_battle(battle.id, state="called_off", winner=None, votes=None, note="late",
                                         result_message_id=None)
    closed = await store.get_battle(battle.id)
    assert (closed.state, closed.winner, closed.votes_a, closed.votes_b, closed.result_message_id, closed.closed_at,
            closed.note) == ("closed", "b", 0, 1, 556, clock(), None)
    assert await store.battles_in("open") == []
    assert await store.next_community_due() is None
    assert not (await store.vote_battle(battle.id, 8, "a")).accepted


async def test_a_battle_called_off_before_it_opens_takes_no_votes(store, clock):
    """A battle called off while making records why and never opens."""
    battle = await store.create_battle(NewBattle(GUILD, 2, ALICE.user_id, "p", "takes", await a_song(store), None,
                                                 60.0))
    assert await store.finish_battle(battle.id, state="called_off", winner=None, votes=None, note="song failed",
                                     result_message_id=None)
    assert not await store.open_battle(battle.id, opened_at=clock(), closes_at=clock() + 60)
    called_off = await store.get_battle(battle.id)
    assert (called_off.state, called_off.note, called_off.votes_a) == ("called_off", "song failed", None)
    assert not (await store.vote_battle(battle.id, 7, "a")).accepted


async def test_a_challenge_takes_entries_then_votes_then_closes(store, clock):
    """Entries while open (one per member, replacing, a moderator may take one out, a deleted song drops out), votes
    while voting (one per member, changeable, tallied for entries still in), then closed once."""
    start = clock()
    challenge = await store.create_challenge(NewChallenge(GUILD, 6, "sea", ALICE.user_id, start + 100, 50.0))
    assert challenge == Challenge(challenge.id, GUILD, 6, "sea", ALICE.user_id, "open", start, start + 100, 50.0)
    assert await store.get_challenge(challenge.id) == challenge
    assert await store.current_challenge(GUILD) == challenge
    assert await store.current_challenge(GUILD + 1) is None
    assert await store.next_community_due() == start + 100
    alice_1, alice_2, bob, carol, dave = [await a_song(store) for _ in range(5)]
    assert await store.submit_entry(challenge.id, ALICE.user_id, alice_1) == EntryOutcome(True, None)
    clock.advance(1)
    assert await store.submit_entry(challenge.id, BOB.user_id, bob) == EntryOutcome(True, None)
    clock.advance(1)
    assert await store.submit_entry(challenge.id, ALICE.user_id, alice_2) == EntryOutcome(True, alice_1)
    assert await store.submit_entry(challenge.id, ALICE.user_id, alice_2) == EntryOutcome(True, None)
    await store.submit_entry(challenge.id, 3, carol)
    await store.submit_entry(challenge.id, 4, dave)
    assert await store.remove_entry(challenge.id, 3, by=ALICE.user_id)
    assert not await store.remove_entry(challenge.id, 3, by=ALICE.user_id)
    await store.remove_song(dave, by=4)
    entries = await store.challenge_entries(challenge.id)
    assert [(e.user_id, e.job_id, e.submitted_at) for e in entries] == [(BOB.user_id, bob, start + 1),
                                                                       (ALICE.user_id, alice_2, start + 2)]
    assert await store.challenges_due(start + 99) == []
    assert [c.id for c in await store.challenges_due(start + 100)] == [challenge.id]
    assert not (await store.vote_challenge(challenge.id, 9, BOB.user_id)).accepted  # not voting yet
    assert await store.start_challenge_voting(challenge.id, vote_ends_at=clock() + 50)
    assert not await store.start_challenge_voting(challenge.id, vote_ends_at=clock() + 500)
    assert not (await store.submit_entry(challenge.id, 5, await a_song(store))).accepted
    await store.set_challenge_vote_message(challenge.id, 777)
    (voting,) = await store.challenges_voting()
    assert (voting.state, voting.vote_ends_at, voting.vote_message_id) == ("voting", clock() + 50, 777)
    assert await store.next_community_due() == clock() + 50
    assert await store.vote_challenge(challenge.id, 9, ALICE.user_id) == VoteOutcome(True, None)
    assert await store.vote_challenge(challenge.id, 9, BOB.user_id) == VoteOutcome(True, ALICE.user_id)
    await store.vote_challenge(challenge.id, 10, ALICE.user_id)
    await store.vote_challenge(challenge.id, 11, BOB.user_id)
    await store.vote_challenge(challenge.id, 12, 3)  # for an entry taken out: not tallied
    assert await store.challenge_tally(challenge.id) == {BOB.user_id: 2, ALICE.user_id: 1}
    clock.advance(50)
    assert not (await store.vote_challenge(challenge.id, 13, BOB.user_id)).accepted
    assert [c.id for c in await store.challenges_due(clock())] == [challenge.id]
    assert await store.finish_challenge(challenge.id, state="closed", result_message_id=778)
    assert not await store.finish_challenge(challenge.id, state="cancelled", result_message_id=None)
    closed = await store.current_challenge(GUILD)
    assert (closed.state, closed.result_message_id, closed.closed_at) == ("closed", 778, clock())
    assert await store.challenges_voting() == []
    assert await store.next_community_due() is None
    again = await store.create_challenge(NewChallenge(GUILD, 6, "land", ALICE.user_id, clock() + 10, 10.0))
    assert again is not None and await store.current_challenge(GUILD) == again


async def test_a_running_challenge_is_current_over_a_later_closed_one(store, clock):
    """The current challenge is the running one, else the latest; other guilds' challenges do not interfere."""
    first = await store.create_challenge(NewChallenge(GUILD, 6, "a", 1, clock() + 10, 10.0))
    other = await store.create_challenge(NewChallenge(GUILD + 1, 6, "b", 1, clock() + 10, 10.0))
    assert other is not None
    assert await store.finish_challenge(first.id, state="cancelled", result_message_id=None)
    running = await store.create_challenge(NewChallenge(GUILD, 6, "c", 1, clock() + 10, 10.0))
    assert (await store.current_challenge(GUILD)).id == running.id
    assert (await store.current_challenge(GUILD + 1)).id == other.id


async def test_a_jam_keeps_its_lines_in_order_and_credits_its_songs(store, clock):
    """A jam records its thread, its lines in order, and whom each song made from it credits."""
    jam = await store.create_jam(NewJam(GUILD, 2, 3, ALICE.user_id, "rain"))
    assert jam == Jam(jam.id, GUILD, 2, 3, ALICE.user_id, "rain", clock())
    assert await store.get_jam(jam.id) == jam
    assert await store.get_jam(jam.id + 1) is None
    other = await store.create_jam(NewJam(GUILD, 2, 4, BOB.user_id, "sun"))
    first = await jam_line(store, jam.id, BOB.user_id, "drops on the window")
    clock.advance(1)
    await jam_line(store, other.id, BOB.user_id, "elsewhere")
    second = await jam_line(store, jam.id, ALICE.user_id, "and on my mind")
    assert first == JamLine(first.id, jam.id, BOB.user_id, "drops on the window", clock() - 1)
    assert await store.jam_lines(jam.id) == [first, second]
    song = await a_song(store)
    await store.record_jam_song(jam.id, song, [BOB.user_id, ALICE.user_id])
    assert await store.jam_credits(song) == [BOB.user_id, ALICE.user_id]
    assert await store.jam_credits(await a_song(store)) is None


async def test_song_of_the_day_goes_where_each_guild_asked_and_keeps_its_post(store):
    """Guilds with a channel are listed; a posted feature is done and is not released by a late failure."""
    await store.change_guild_settings(2, lambda s: s.replace(song_of_day_channel_id=20), by=None)
    await store.change_guild_settings(1, lambda s: s.replace(song_of_day_channel_id=10), by=None)
    await store.change_guild_settings(3, lambda s: s.replace(daily_quota=1), by=None)
    assert sorted(await store.song_of_day_guilds(), key=lambda g: g.guild_id) == [SongOfDayGuild(1, 10),
                                                                                 SongOfDayGuild(2, 20)]
    day = 1_749_945_600.0
    song = await a_song(store)
    assert not await store.song_of_day_done(1, day)
    assert await store.claim_song_of_day(1, day, song, 10)
    assert await store.song_of_day_done(1, day)
    assert not await store.song_of_day_done(1, day + 86400)
    assert not await store.song_of_day_done(2, day)
    await store.set_song_of_day_message(1, day, 42)
    await store.release_song_of_day(1, day)  # posted already: stays claimed
    assert not await store.claim_song_of_day(1, day, song, 10)
    assert await store.claim_song_of_day(2, day, None, 20)  # nothing was liked: claimed all the same


async def test_song_of_the_day_is_claimed_by_one_of_two_processes(store_url, clock):
    """Two processes claiming the same guild and day at once: one claim."""
    first = await open_store(store_url, now=clock)
    second = await open_store(store_url, now=clock)
    try:
        claims = await asyncio.gather(*(s.claim_song_of_day(1, 0.0, None, 2) for s in (first, second) * 3))
        assert sorted(claims) == [False] * 5 + [True]
        challenge = NewChallenge(5, 6, "sea", 1, clock() + 60, 60.0)
        started = await asyncio.gather(*(s.create_challenge(challenge) for s in (first, second) * 2))
        assert sum(c is not None for c in started) == 1
    finally:
        await first.close()
        await second.close()


async def test_a_line_goes_into_a_jam_only_while_the_jam_has_room(store):
    """A jam takes a line while its lines (one line break between two) stay within the characters and lines given;
    lines added at once take turns, so together they never overflow; lines taken out leave room again."""
    jam = await store.create_jam(NewJam(GUILD, 2, 3, ALICE.user_id, "rain"))
    first = await store.add_jam_line(jam.id, BOB.user_id, "a" * 10, max_lines=3, max_chars=21)
    assert first is not None
    assert await store.add_jam_line(jam.id, BOB.user_id, "b" * 11, max_lines=3, max_chars=21) is None
    added = await asyncio.gather(*(store.add_jam_line(jam.id, 7, "c" * 4, max_lines=3, max_chars=21)
                                   for _ in range(4)))
    assert sum(line is not None for line in added) == 2  # 10 + 1 + 4 + 1 + 4 = 20: the third would make 25
    assert len("\n".join(line.line for line in await store.jam_lines(jam.id))) == 20
    other = await store.create_jam(NewJam(GUILD, 2, 4, BOB.user_id, "sun"))
    elsewhere = await jam_line(store, other.id, BOB.user_id, "elsewhere")
    assert await store.remove_jam_lines(jam.id, [first.id, elsewhere.id]) == [first]
    assert await store.jam_lines(other.id) == [elsewhere]
    assert await store.remove_jam_lines(jam.id, [first.id]) == []
    assert await store.add_jam_line(jam.id, BOB.user_id, "d" * 10, max_lines=3, max_chars=21) is not None
    assert await store.add_jam_line(jam.id, BOB.user_id, "e", max_lines=3, max_chars=100) is None  # 3 lines


async def test_a_jams_songs_and_a_songs_post_are_found(store):
    """A jam's songs, oldest first; the songs whose post is one of some messages (not lyrics, not other jobs)."""
    jam = await store.create_jam(NewJam(GUILD, 2, 3, ALICE.user_id, "rain"))
    assert await store.jam_songs_of(jam.id) == []
    first, second = await a_posted_song(store), await a_posted_song(store)
    for song in (second, first):
        await store.record_jam_song(jam.id, song, [BOB.user_id])
    assert await store.jam_songs_of(jam.id) == [first, second]
    lyrics = await store.create(NewJob(ALICE, "suno", "LYRICS", params={"prompt": "rain"}))
    assert await store.songs_posted_as([9000 + second, 9000 + lyrics.id, 1, 9000 + first]) == [first, second]
    assert await store.songs_posted_as([]) == []


async def test_song_of_the_day_says_since_when_it_is_on(store):
    """The guilds featuring a song of the day carry the time it was switched on (None when it was not kept)."""
    await store.change_guild_settings(1, lambda s: s.replace(song_of_day_channel_id=10, song_of_day_since=5.5),
                                      by=None)
    await store.change_guild_settings(2, lambda s: s.replace(song_of_day_channel_id=20), by=None)
    assert await store.song_of_day_guilds() == [SongOfDayGuild(1, 10, 5.5), SongOfDayGuild(2, 20, None)]
