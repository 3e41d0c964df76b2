"""The community part of the store: likes, charts, battles, challenges, jams and song of the day.

`CommunityStore` is a protocol of its own that every JobStore also implements (JobStore extends it), so the app
still sees one store. Votes and likes are one row per (thing, member) under a primary key, written by one atomic
statement: two presses at the same instant count once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .records import Job

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
    """A guild that features a song of the day, and where."""

    guild_id: int
    channel_id: int


def row_to(cls: Any, row: Any) -> Any:
    """A record from a database row whose columns are the record's fields."""
    return cls(**dict(row))


class CommunityStore(Protocol):
    """Likes, removed songs, battles, challenges, jams and song of the day."""

    # ---- likes, removed songs, charts ---------------------------------------------------------------------

    async def toggle_like(self, job_id: int, user_id: int, guild_id: int | None, *, debounce: float) -> LikeToggle:
        """Like the song, or take the like back if the member liked it more than `debounce` seconds ago (a second
        press within that window changes nothing); in one transaction, keyed by (song, member)."""
        ...

    async def like_count(self, job_id: int) -> int:
        """How many members like the song."""
        ...

    async def remove_song(self, job_id: int, *, by: int | None) -> bool:
        """Mark a song deleted (it drops out of charts, battles, challenges); False if it was already."""
        ...

    async def removed_songs(self, job_ids: Collection[int]) -> set[int]:
        """Which of these songs were deleted."""
        ...

    async def chart(
        self, guild_id: int, *, since: float | None, until: float | None = None, provider: str | None = None,
        limit: int = 10,
    ) -> list[ChartRow]:
        """The guild's delivered, not deleted songs made in [since, until), with at least one like, most liked
        first (ties: the earlier liked first)."""
        ...

    async def member_stats(self, guild_id: int, user_id: int) -> MemberStats:
        """A member's songs, likes received and likes given on a server."""
        ...

    async def member_songs(self, guild_id: int, user_id: int, *, limit: int) -> list[Job]:
        """A member's delivered, not deleted songs on a server, newest first."""
        ...

    # ---- battles ----------------------------------------------------------------------------------------------

    async def create_battle(self, new: NewBattle) -> Battle:
        """Record a battle in state `making`."""
        ...

    async def get_battle(self, battle_id: int) -> Battle | None:
        """One battle."""
        ...

    async def battles_in(self, state: BattleState) -> list[Battle]:
        """Battles in a state, oldest first."""
        ...

    async def battles_due(self, now: float) -> list[Battle]:
        """Open battles whose voting time is over."""
        ...

    async def open_battle(self, battle_id: int, *, opened_at: float, closes_at: float) -> bool:
        """`making` → `open`: votes are taken from now on (the face-off is posted next); False if it was not making
        any more."""
        ...

    async def set_battle_message(self, battle_id: int, message_id: int) -> None:
        """Record the battle's face-off post."""
        ...

    async def finish_battle(
        self, battle_id: int, *, state: BattleState, winner: str | None, votes: tuple[int, int] | None,
        note: str | None, result_message_id: int | None,
    ) -> bool:
        """`making`/`open` → `closed` or `called_off`, with the result; False if it had finished already."""
        ...

    async def vote_battle(self, battle_id: int, user_id: int, choice: Choice) -> VoteOutcome:
        """Record or change a member's vote while the battle is open (one row per member); refused once closed."""
        ...

    async def battle_tally(self, battle_id: int) -> tuple[int, int]:
        """Votes for A and for B."""
        ...

    # ---- challenges -------------------------------------------------------------------------------------------

    async def create_challenge(self, new: NewChallenge) -> Challenge | None:
        """Start a challenge; None if the guild already has one open or voting (checked in the same transaction)."""
        ...

    async def get_challenge(self, challenge_id: int) -> Challenge | None:
        """One challenge."""
        ...

    async def current_challenge(self, guild_id: int) -> Challenge | None:
        """The guild's challenge that is open or voting, else its latest one."""
        ...

    async def challenges_due(self, now: float) -> list[Challenge]:
        """Open challenges whose submissions ended, and voting ones whose voting ended."""
        ...

    async def submit_entry(self, challenge_id: int, user_id: int, job_id: int) -> EntryOutcome:
        """Enter (or replace) a member's song while the challenge is open; one entry per member."""
        ...

    async def remove_entry(self, challenge_id: int, user_id: int, *, by: int) -> bool:
        """A moderator takes an entry out; False if there was none."""
        ...

    async def challenge_entries(self, challenge_id: int) -> list[ChallengeEntry]:
        """Entries still in (not taken out, their song not deleted), in order of submission."""
        ...

    async def start_challenge_voting(self, challenge_id: int, *, vote_ends_at: float) -> bool:
        """`open` → `voting` (the vote post comes next); False if it was not open any more."""
        ...

    async def challenges_voting(self) -> list[Challenge]:
        """Challenges in their voting phase."""
        ...

    async def set_challenge_vote_message(self, challenge_id: int, message_id: int) -> None:
        """Record a challenge's vote post."""
        ...

    async def finish_challenge(
        self, challenge_id: int, *, state: ChallengeState, result_message_id: int | None
    ) -> bool:
        """`open`/`voting` → `closed` or `cancelled`; False if it had finished already."""
        ...

    async def vote_challenge(self, challenge_id: int, voter_id: int, entry_user_id: int) -> VoteOutcome:
        """Record or change a member's one vote while voting is open; refused otherwise."""
        ...

    async def challenge_tally(self, challenge_id: int) -> dict[int, int]:
        """Votes per entry (by the entrant's user id) for entries still in."""
        ...

    # ---- jams -------------------------------------------------------------------------------------------------

    async def create_jam(self, new: NewJam) -> Jam:
        """Record a jam thread."""
        ...

    async def get_jam(self, jam_id: int) -> Jam | None:
        """One jam."""
        ...

    async def add_jam_line(self, jam_id: int, user_id: int, line: str) -> JamLine:
        """Add a member's lyric line to a jam."""
        ...

    async def jam_lines(self, jam_id: int) -> list[JamLine]:
        """A jam's lines, in the order they were added."""
        ...

    async def record_jam_song(self, jam_id: int, job_id: int, credits: Sequence[int]) -> None:
        """Remember that a job was made from a jam, and whom it credits."""
        ...

    async def jam_credits(self, job_id: int) -> list[int] | None:
        """Whom a song made from a jam credits (None: not a jam song)."""
        ...

    # ---- song of the day and timers ---------------------------------------------------------------------------

    async def song_of_day_guilds(self) -> list[SongOfDayGuild]:
        """Guilds with a song-of-the-day channel."""
        ...

    async def claim_song_of_day(self, guild_id: int, day: float, job_id: int | None, channel_id: int) -> bool:
        """Claim the guild's feature for a UTC day (once: keyed by guild and day); False if already done."""
        ...

    async def set_song_of_day_message(self, guild_id: int, day: float, message_id: int) -> None:
        """Record the post of a day's feature."""
        ...

    async def release_song_of_day(self, guild_id: int, day: float) -> None:
        """Forget a claim whose post failed, so that it is tried again."""
        ...

    async def song_of_day_done(self, guild_id: int, day: float) -> bool:
        """Whether the guild's feature for a UTC day was claimed."""
        ...

    async def next_community_due(self) -> float | None:
        """The earliest time a battle closes or a challenge changes phase (None: nothing pending)."""
        ...
