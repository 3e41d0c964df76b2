"""A listening party's rules (bot/core/listening.py), and where its songs come from, on both store backends."""

from __future__ import annotations

import pytest

from bot.cometapi import Clip, TaskResult
from bot.core.community import Community
from bot.core.limits import NotAllowedError
from bot.core.listening import MAX_QUEUE, ListeningService, Party, Playback, Song, song_of, votes_needed
from bot.domain import JobUpdate, NewChallenge, NewJob, Requester
from tests.conftest import ALICE

GUILD, MUSIC, OTHER = 3001, ALICE.channel_id, 2002  # ALICE's guild
BOB = Requester(user_id=1002, channel_id=MUSIC, guild_id=GUILD)
OWNER = "host:1:courier"


def song(job_id: int, take: int = 1) -> Song:
    return Song(job_id, take, f"Song {job_id}", 1001, 120.0, f"https://cdn.example/{job_id}-{take}.mp3")


def a_party(**changes) -> Party:
    return Party(id=1, guild_id=GUILD, channel_id=77, text_channel_id=MUSIC, starter_id=1001, started_at=0.0,
                 **changes)


# ---- the rules ------------------------------------------------------------------------------------------------------


def test_songs_play_in_order_and_the_queue_ends():
    """Songs play in the order they were queued; after the last, nothing plays."""
    party = a_party()
    party.add([song(1), song(2)])
    assert [party.advance(), party.advance(), party.advance()] == [song(1), song(2), None]
    assert party.played == 2


def test_a_song_queued_or_playing_is_not_queued_again():
    """Adding the same songs again (a second /listen) queues only what is new; another take is another song."""
    party = a_party()
    assert party.add([song(1), song(2), song(1)]) == [song(1), song(2)]
    party.advance()  # song 1 plays
    assert party.add([song(1), song(2), song(3), song(1, take=2)]) == [song(3), song(1, take=2)]
    assert [s.key for s in party.upcoming(5)] == [(2, 1), (3, 1), (1, 2)]


def test_the_queue_holds_at_most_max_queue_songs():
    """A party never holds more than MAX_QUEUE songs waiting."""
    party = a_party()
    assert len(party.add(song(n) for n in range(1, MAX_QUEUE + 10))) == MAX_QUEUE


def test_a_live_party_queues_each_posted_song_once():
    """Songs posted in the channel join the queue once, however often the store reports them."""
    party = a_party(live_channel_id=MUSIC)
    assert party.add_posted([song(5)]) == [song(5)]
    party.advance()
    party.advance()  # song 5 played and is gone from the queue
    assert party.add_posted([song(5), song(6)]) == [song(6)]


@pytest.mark.parametrize(("listeners", "needed"), [(0, 1), (1, 1), (2, 2), (3, 2), (4, 3), (5, 3)])
def test_a_skip_needs_a_majority_of_the_listeners(listeners, needed):
    """More than half of the members listening (the bot is not one of them)."""
    assert votes_needed(listeners) == needed


def test_skip_votes_count_listeners_once_each_and_start_again_with_the_next_song():
    """Three listeners: the first vote is not enough, a repeated vote counts once, the second listener's skips;
    votes do not carry over to the next song."""
    party = a_party()
    party.add([song(1), song(2)])
    party.advance()
    listeners = {1001, 1002, 1003}
    first = party.vote_skip(1002, listeners, alone=False)
    assert (first.skipped, first.votes, first.needed) == (False, 1, 2)
    assert party.vote_skip(1002, listeners, alone=False).already
    assert party.vote_skip(1003, listeners, alone=False).skipped
    party.advance()
    assert party.skip_votes == set()


def test_votes_of_members_who_left_do_not_count():
    """A vote by a member who has left the channel since is dropped when the next vote is counted."""
    party = a_party()
    party.add([song(1)])
    party.advance()
    party.vote_skip(1002, {1001, 1002, 1003}, alone=False)
    outcome = party.vote_skip(1003, {1001, 1003, 1004, 1005}, alone=False)
    assert (outcome.skipped, outcome.votes, outcome.needed) == (False, 1, 3)


def test_the_starter_or_a_moderator_skips_and_stops_alone():
    """The starter and moderators need no vote; anyone else may not stop the party."""
    party = a_party()
    assert party.may_skip_alone(1001, moderator=False) and party.may_stop(1001, moderator=False)
    assert party.may_skip_alone(1002, moderator=True) and party.may_stop(1002, moderator=True)
    assert not party.may_skip_alone(1002, moderator=False) and not party.may_stop(1002, moderator=False)
    party.add([song(1)])
    party.advance()
    assert party.vote_skip(1001, {1001, 1002, 1003}, alone=True).skipped


def test_an_ended_party_plays_nothing_more_and_keeps_its_first_reason():
    """Ending empties the queue; the reason first given is the one shown."""
    party = a_party()
    party.add([song(1), song(2)])
    party.advance()
    assert party.end("Stopped by @alice.") and not party.end("Everyone left.")
    assert party.advance() is None and party.end_reason == "Stopped by @alice."


def test_playback_counts_playing_time_only():
    """The position leaves pauses out."""
    now = [100.0]
    playback = Playback(now=lambda: now[0])
    playback.start()
    now[0] = 110.0
    playback.pause()
    now[0] = 150.0
    assert playback.position() == 10.0 and playback.paused
    playback.resume()
    now[0] = 155.0
    assert playback.position() == 15.0 and not playback.paused


def clip(clip_id: str, *, audio: bool = True) -> Clip:
    return Clip(id=clip_id, title=f"Take {clip_id}", status="complete", duration=61.5,
                audio_url=f"https://cdn.example/{clip_id}.mp3" if audio else "",
                image_url=f"https://cdn.example/{clip_id}.png")


def result(*clips: Clip) -> dict[str, object]:
    return TaskResult(task_id="t", phase="succeeded", status="SUCCESS", clips=clips).to_dict()


# ---- where the songs come from: the one store, on both backends ----------------------------------------------------


@pytest.fixture
def store(store_on_both):
    return store_on_both


@pytest.fixture
def listening(store, clock):
    community = Community(store, now=clock)
    return ListeningService(store, community.charts, community.challenges)


async def posted(store, who=ALICE, *, channel=MUSIC, title="", clips=None):
    """A song made and posted in `channel`."""
    params = {"description": "a song", **({"title": title} if title else {})}
    job = await store.create(NewJob(who, "suno", "MUSIC", params=params))
    await store.mark_submitted(job.id, f"task-{job.id}")
    await store.apply([JobUpdate(job.id, "succeeded", 100, result(*(clips or (clip(f"a{job.id}"),
                                                                              clip(f"b{job.id}")))))])
    await store.beat(OWNER, host="host", pid=1)
    assert await store.claim_delivery(job.id, owner=OWNER, lease_seconds=60) is not None
    assert await store.mark_delivered(job.id, channel, 9000 + job.id, owner=OWNER)
    return await store.get(job.id)


async def test_a_song_is_a_take_with_its_title_maker_length_and_audio(store):
    """song_of reads a take of a finished song; a take without audio, or past the last, is no song."""
    job = await posted(store, title="Sea Song", clips=[clip("x1"), clip("x2", audio=False)])
    first = song_of(job)
    assert first == Song(job.id, 1, "Sea Song", ALICE.user_id, 61.5, "https://cdn.example/x1.mp3",
                         "https://cdn.example/x1.png")
    assert song_of(job, 2) is None and song_of(job, 3) is None  # take B came back without audio


async def test_a_song_plays_its_takes_but_not_once_deleted_or_in_another_server(store, listening):
    """Play in voice plays every take, in order (a clip that came back without audio is no take, as on the post),
    only while the song is there, and only in its server."""
    job = await posted(store, clips=[clip("y1"), clip("y2", audio=False), clip("y3")])
    played = await listening.song(GUILD, job.id)
    assert [(s.key, s.audio_url) for s in played] == [((job.id, 1), "https://cdn.example/y1.mp3"),
                                                      ((job.id, 2), "https://cdn.example/y3.mp3")]
    with pytest.raises(NotAllowedError):
        await listening.song(GUILD + 1, job.id)
    await store.remove_song(job.id, by=None)
    with pytest.raises(NotAllowedError, match="deleted"):
        await listening.song(GUILD, job.id)


async def test_songs_posted_since_the_party_began_in_its_channel(store, listening, clock):
    """Live: songs posted in the channel at or after the party began, oldest first; not earlier ones, not those of
    another channel, not deleted ones."""
    await posted(store)
    clock.advance(10)
    began = clock()
    first = await posted(store)
    await posted(store, channel=OTHER)
    gone = await posted(store)
    await store.remove_song(gone.id, by=None)
    clock.advance(5)
    second = await posted(store, BOB)
    found = await listening.posted_since(GUILD, MUSIC, began)
    assert [s.job_id for s in found] == [first.id, second.id]
    assert await listening.playable(found[0]) and not await listening.playable(song(gone.id))


async def test_a_members_songs_the_chart_and_a_challenges_entries(store, listening, clock):
    """A member's newest songs first; the chart by likes; the challenge's entries in the order entered."""
    older = await posted(store)
    clock.advance(1)
    newer = await posted(store)
    bobs = await posted(store, BOB)
    assert [s.job_id for s in await listening.member(GUILD, ALICE.user_id)] == [newer.id, older.id]
    await store.toggle_like(bobs.id, 7, GUILD, debounce=0)
    await store.toggle_like(bobs.id, 8, GUILD, debounce=0)
    await store.toggle_like(older.id, 7, GUILD, debounce=0)
    assert [s.job_id for s in await listening.top(GUILD, "all")] == [bobs.id, older.id]

    with pytest.raises(NotAllowedError, match="no challenge"):
        await listening.challenge(GUILD)
    challenge = await store.create_challenge(NewChallenge(GUILD, MUSIC, "sea", 1, clock() + 600, 60.0))
    assert challenge is not None
    clock.advance(1)
    entry_b, entry_a = await posted(store, BOB), await posted(store)
    await store.submit_entry(challenge.id, BOB.user_id, entry_b.id)
    clock.advance(1)
    await store.submit_entry(challenge.id, ALICE.user_id, entry_a.id)
    assert [s.job_id for s in await listening.challenge(GUILD)] == [entry_b.id, entry_a.id]
