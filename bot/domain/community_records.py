"""The community's records: likes, charts, battles, challenges, jams and song of the day.

The queries are `bot.store.community_queries.CommunityQueries`, part of the one store. Votes and likes are one row per
(thing, member) under a primary key, written by one atomic statement: two presses at the same instant count once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .job_records import Job

BattleMode = Literal["takes", "versus"]
BattleState = Literal["making", "open", "closed", "called_off"]
Choice = Literal["a", "b"]
ChallengeState = Literal["open", "voting", "closed", "cancelled"]


@dataclass(frozen=True, slots=True)
class LikeToggle:
    """What a press of Like did: whether the member likes the song now, the song's likes, and whether it changed
    anything (a second press within the debounce window of the first changes nothing)."""

    liked: bool
    likes: int
    changed: bool


@dataclass(frozen=True, slots=True)
class ChartRow:
    """A song and its likes."""

    job: Job
    likes: int


@dataclass(frozen=True, slots=True)
class MemberStats:
    """A member's songs on a server (not deleted), the likes they received, and the likes they gave."""

    songs: int
    likes_received: int
    likes_given: int


@dataclass(frozen=True, slots=True)
class NewBattle:
    """A battle about to start: its jobs were just submitted."""

    guild_id: int
    channel_id: int
    starter_id: int
    prompt: str
    mode: BattleMode
    job_a: int
    job_b: int | None
    voting_seconds: float


@dataclass(frozen=True, slots=True)
class Battle:
    """A full row of the battles table."""

    id: int
    guild_id: int
    channel_id: int
    starter_id: int
    prompt: str
    mode: BattleMode
    job_a: int
    job_b: int | None
    state: BattleState
    voting_seconds: float
    created_at: float
    opened_at: float | None = None
    closes_at: float | None = None
    message_id: int | None = None
    closed_at: float | None = None
    winner: Literal["a", "b", "tie"] | None = None
    votes_a: int | None = None
    votes_b: int | None = None
    note: str | None = None
    result_message_id: int | None = None

    @property
    def job_ids(self) -> tuple[int, ...]:
        """The battle's job or jobs."""
        return (self.job_a,) if self.job_b is None else (self.job_a, self.job_b)


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    """What a vote did: `accepted` (False when voting is closed) and the member's earlier choice, if any."""

    accepted: bool
    previous: str | int | None = None


@dataclass(frozen=True, slots=True)
class NewChallenge:
    """A challenge an admin is starting."""

    guild_id: int
    channel_id: int
    theme: str
    started_by: int
    submit_ends_at: float
    voting_seconds: float


@dataclass(frozen=True, slots=True)
class Challenge:
    """A full row of the challenges table."""

    id: int
    guild_id: int
    channel_id: int
    theme: str
    started_by: int
    state: ChallengeState
    started_at: float
    submit_ends_at: float
    voting_seconds: float
    vote_ends_at: float | None = None
    vote_message_id: int | None = None
    result_message_id: int | None = None
    closed_at: float | None = None


@dataclass(frozen=True, slots=True)
class ChallengeEntry:
    """One member's entry: the song (job) they submitted."""

    challenge_id: int
    user_id: int
    job_id: int
    submitted_at: float


@dataclass(frozen=True, slots=True)
class EntryOutcome:
    """What a submission did: `accepted` (False once submissions closed) and the job it replaced, if any."""

    accepted: bool
    replaced_job_id: int | None = None


@dataclass(frozen=True, slots=True)
class NewJam:
    """A jam thread being opened."""

    guild_id: int
    channel_id: int
    thread_id: int
    starter_id: int
    theme: str


@dataclass(frozen=True, slots=True)
class Jam:
    """A full row of the jams table."""

    id: int
    guild_id: int
    channel_id: int
    thread_id: int
    starter_id: int
    theme: str
    created_at: float


@dataclass(frozen=True, slots=True)
class JamLine:
    """A lyric line a member added to a jam."""

    id: int
    jam_id: int
    user_id: int
    line: str
    added_at: float


@dataclass(frozen=True, slots=True)
class SongOfDayGuild:
    """A guild that features a song of the day, where, and since when (None: since before Chorus kept it)."""

    guild_id: int
    channel_id: int
    since: float | None = None
