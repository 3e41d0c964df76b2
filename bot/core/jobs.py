"""JobService: check the guild's rules and limits → record → submit → record. The one door for paid work.

Cogs and buttons call only this; it calls the CometAPI client and the store. A job is reserved (its row
written, limits checked in the same transaction) before the interaction is deferred, so a refusal can
still be answered privately; the paid CometAPI call comes after. Every paid call goes through `send`, which pays
only for a `Reservation`, and only `reserve` (the admission) makes one: a submit without an admission is a
programming error (UnadmittedSubmitError), never a paid call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.cometapi import (
    Action,
    APITimeoutError,
    BadResponseError,
    CometAPI,
    CometAPIError,
    InsufficientBalanceError,
    NetworkError,
    Provider,
    SubmitUnconfirmedError,
    SunoMusicRequest,
    UdioRequest,
)
from bot.core.limits import Admission, Caps, LimitReachedError, NotAllowedError
from bot.core.specs import (
    ConcatSpec,
    Costs,
    CoverMode,
    CoverSpec,
    JobSpec,
    LyricsSpec,
    StemKind,
    StemsSpec,
    UdioSongSpec,
    music_spec,
    spec_of,
)
from bot.domain import (
    FAILED_MID_SUBMIT,
    MAY_HAVE_STARTED,
    MAYBE_ACCEPTED,
    UNCONFIRMED,
    GuildSettings,
    IllegalTransitionError,
    Job,
    NewJob,
    Requester,
)
from bot.store import JobStore, database_outage

log = logging.getLogger(__name__)

# Between two attempts to record a paid call's task id while the database is away (each waits for it a while first).
RECORD_RETRY_SECONDS = 1.0

# Recent songs' typical duration changes slowly: ask the store at most once a minute per model.
TYPICAL_CACHE_SECONDS = 60.0
NOT_STARTED = "not started because of a limit"
OUTSIDE_A_SERVER = ("This song belongs to no server, so I cannot tell whose limits it would count against. "
                    "Please ask in a server channel.")


def may_have_started(job: Job) -> bool:
    """A job that failed to submit in a way that leaves it unknown whether CometAPI started (and charged) it: the
    submit timed out or was cut off, was answered without a task id, or the bot stopped mid-submit."""
    return job.state == "submit_failed" and job.error in MAY_HAVE_STARTED


class UnadmittedSubmitError(RuntimeError):
    """A programming error: something asked JobService to pay CometAPI for a job that did not pass admission (a
    refused draft, a job read back from the store), or for one that was sent or withdrawn already."""


@dataclass(frozen=True, slots=True)
class Order:
    """One paid job someone asked for: who, what (a typed spec), how it is listed, and what it comes from.

    `origin` is the job whose button was pressed (the parent, or the refused draft being tried again): a press
    outside any server (in a DM, where a song went when its channel refused it) is charged to that job's server,
    through that server's limits.
    """

    requester: Requester
    spec: JobSpec
    kind: str
    parent_job_id: int | None = None
    origin: Job | None = None


_ADMITTED = object()  # only JobService.reserve holds it: a Reservation made anywhere else is refused by send


class Reservation:
    """A job admitted through its server's limits, with its spec: the only thing `JobService.send` pays for, once."""

    __slots__ = ("_spent", "job", "spec")

    def __init__(self, job: Job, spec: JobSpec, *, admitted: object) -> None:
        if admitted is not _ADMITTED:
            raise UnadmittedSubmitError("a Reservation is made only by JobService.reserve, through admission")
        self.job = job
        self.spec = spec
        self._spent = False

    def __repr__(self) -> str:
        return f"Reservation(job {self.job.id}, {self.spec.name}{', spent' if self._spent else ''})"

    def spend(self) -> Job:
        """Use the reservation up (it pays for one call, or is withdrawn); UnadmittedSubmitError the second time."""
        if self._spent:
            raise UnadmittedSubmitError(f"job {self.job.id} was sent or withdrawn already: it is never paid twice")
        self._spent = True
        return self.job


def suno_job(request: SunoMusicRequest, requester: Requester, *, parent: Job | None = None) -> Order:
    """A Suno song (a new song, a persona song, or an extension when the request continues a clip)."""
    spec = music_spec(request)
    return Order(requester, spec, spec.kind, parent.id if parent else None, parent)


def lyrics_job(prompt: str, requester: Requester) -> Order:
    """A Suno lyrics job on a theme."""
    return Order(requester, LyricsSpec(prompt), "lyrics")


def udio_job(request: UdioRequest, requester: Requester) -> Order:
    """A Udio song job."""
    return Order(requester, UdioSongSpec(request), "generate")


def concat_job(parent: Job, clip_id: str, requester: Requester) -> Order:
    """Join an extended clip with the clips it continues into one song."""
    mv = parent.params.get("mv")
    return Order(requester, ConcatSpec(clip_id, str(mv) if mv else None), "concat", parent.id, parent)


def stems_job(parent: Job, clip_id: str, take: int, stem: StemKind, requester: Requester) -> Order:
    """Separate a take into stems (`two`: vocals and instrumental, a song's cost; `twelve`: every track, several)."""
    return Order(requester, StemsSpec(clip_id, parent.task_id or "", stem, take), "stems", parent.id, parent)


def cover_job(url: str, filename: str, request: SunoMusicRequest, mode: CoverMode, requester: Requester) -> Order:
    """A cover (or extension) of the member's own audio: first uploaded to Suno, then sung (one song's cost)."""
    return Order(requester, CoverSpec(url, filename, mode, request), "cover")


def retry_job(draft: Job, requester: Requester) -> Order:
    """A request that a limit refused, asked again as it was (same kind, same parent, the draft's server)."""
    return Order(requester, spec_of(draft), draft.kind, draft.parent_job_id, draft)


def rerun_job(parent: Job, requester: Requester, spec: JobSpec | None = None) -> Order:
    """The same request again (a reroll), or an edited one. Stems, covers and whole songs keep their kind and
    lineage (they are posted by it); the rest become a reroll or an edit of `parent`."""
    again = spec or spec_of(parent)
    if spec is None and again.keeps_kind:
        return Order(requester, again, parent.kind, parent.parent_job_id, parent)
    return Order(requester, again, "reroll" if spec is None else "edit", parent.id, parent)


@dataclass(frozen=True, slots=True)
class ProgressHints:
    """What a status card can say beyond the state: the usual time for songs of this model, the queue position."""

    typical_seconds: float | None = None
    queue_position: int | None = None


def model_key(job: Job) -> str | None:
    """The model a job's timing is compared by: Suno's `mv`, Udio's model type."""
    value = job.params.get("model_type" if job.provider == "udio" else "mv")
    return str(value) if value else None


def describe_job(job: Job) -> str:
    """How log lines name a job: id, provider, kind and guild."""
    return f"job {job.id} ({job.provider} {job.kind}, guild {job.guild_id}, user {job.user_id})"


class JobService:
    """Submits jobs so that a crash at any point neither loses a paid job nor charges twice, and so that nothing is
    paid for that did not pass its server's limits, counted at its cost."""

    def __init__(
        self,
        store: JobStore,
        cometapi: CometAPI,
        *,
        caps: Caps | None = None,
        costs: Costs | None = None,
        on_submitted: Callable[[Job], None] | None = None,
        on_out_of_credit: Callable[[Job], Awaitable[None]] | None = None,
        owner: str | None = None,
    ) -> None:
        self._store = store
        # This process, recorded on each job it submits: only it (or, once it is gone, another) may recover one.
        self._owner = owner
        self._api = cometapi
        self._caps = caps or Caps()
        self._costs = costs or Costs()
        self._on_submitted = on_submitted
        self._on_out_of_credit = on_out_of_credit
        self._submitting: set[int] = set()
        self._typical: dict[tuple[str, str, str | None], tuple[float, float | None]] = {}

    @property
    def submitting(self) -> frozenset[int]:
        """Jobs whose paid call is under way in this process right now (crash recovery must leave them be)."""
        return frozenset(self._submitting)

    # ---- submitting ------------------------------------------------------------------------------------------

    async def reserve(self, order: Order, *, draft_id: int | None = None) -> Reservation:
        """Check the server's rules and limits (at the job's cost) and record the job (`submitting`), or raise why
        not. Every job belongs to a server: a press outside one is charged to the server of the job it came from,
        or refused (NotAllowedError) when there is none; it is never unlimited.

        A limit never throws the request away: the refused request is kept as a job that never started (it
        costs nothing) and its id rides on the LimitReachedError, so the member can try it again later. A retry
        of such a draft passes `draft_id` and keeps the same draft.
        """
        spec, requester = order.spec, order.requester
        outside = requester.guild_id is None
        guild_id = order.origin.guild_id if outside and order.origin is not None else requester.guild_id
        if guild_id is None:
            raise NotAllowedError(OUTSIDE_A_SERVER)
        requester = dataclasses.replace(requester, guild_id=guild_id)  # the server that pays, and whose limits apply
        new = NewJob(requester, spec.provider, spec.action, spec.to_params(), order.kind, order.parent_job_id,
                     cost=spec.cost(self._costs))
        settings = await self._store.guild_settings(guild_id)
        _check_rules(settings, new, outside=outside)
        admission = Admission(settings, self._caps, counts_towards_quota=spec.counts_towards_quota, cost=new.cost)
        try:
            job = await self._store.create(new, admission, owner=self._owner)
        except LimitReachedError as exc:
            exc.draft_job_id = draft_id if draft_id is not None else await self._keep_draft(new, exc)
            raise
        return Reservation(job, spec, admitted=_ADMITTED)

    async def check_rules(self, job: Job, requester: Requester) -> None:
        """The server's rules (where, who, which provider) for a paid call made from one of its songs that makes no
        job of its own (a take's WAV, video, synced lyrics or MIDI; a persona): the rules a song of the same provider
        passes, so a server that switched Suno off, or keeps songs to a role or to some channels, keeps these calls
        there too. A press outside the server (a DM) answers to the server of the song. NotAllowedError says why not.
        CometAPI publishes no price for these calls, so they are not counted against the limits (shared/api §4.3)."""
        await self._check_call(job.provider, job.action, requester, job.guild_id)

    async def allows(self, provider: Provider, requester: Requester) -> bool:
        """Whether the server's rules let this member ask `provider` for anything here (where, who, switched on):
        for calls made while typing (style suggestions), which have no one to tell why not."""
        try:
            await self._check_call(provider, "MUSIC", requester, None)
        except NotAllowedError:
            return False
        return True

    async def _check_call(self, provider: Provider, action: Action, requester: Requester,
                          song_guild_id: int | None) -> None:
        guild_id = requester.guild_id if requester.guild_id is not None else song_guild_id
        if guild_id is None:
            raise NotAllowedError(OUTSIDE_A_SERVER)
        settings = await self._store.guild_settings(guild_id)
        call = NewJob(dataclasses.replace(requester, guild_id=guild_id), provider, action, {})
        _check_rules(settings, call, outside=requester.guild_id is None)

    async def _keep_draft(self, new: NewJob, refusal: LimitReachedError) -> int:
        # Recorded without limits because it never starts: it is a Job, never a Reservation, so send refuses it;
        # Try again reserves it afresh.
        draft = await self._store.create(new)
        await self._store.mark_submit_failed(draft.id, f"{NOT_STARTED}: {refusal.message}")
        return draft.id

    async def send(self, reservation: Reservation, *, notify: bool = False) -> Job:
        """Make the paid CometAPI call for an admitted job, once, and record its task id (or why it failed). With
        `notify` (no interaction waits for this submit) a failure is queued for delivery, so the member hears of it.

        Anything but an unspent Reservation whose job still awaits its submit is refused with UnadmittedSubmitError
        before CometAPI is called: a refused draft is never sendable, and nothing is paid twice.
        """
        if not isinstance(reservation, Reservation):
            raise UnadmittedSubmitError(f"send pays only for a Reservation from reserve, not {type(reservation)!r}")
        job = reservation.spend()
        current = await self._store.get(job.id)
        if current is None or current.state != "submitting":
            state = current.state if current is not None else "gone"
            raise UnadmittedSubmitError(f"job {job.id} is {state}, not awaiting its submit: it is never paid twice")
        self._submitting.add(job.id)
        try:
            try:
                task_id = await _pay(reservation.spec, self._api)
            except CometAPIError as exc:
                await self._record_failure(job, _why_not_sent(exc), notify=notify)
                log.warning("submit failed for %s: %s: %s", describe_job(job), type(exc).__name__, exc)
                if isinstance(exc, InsufficientBalanceError) and self._on_out_of_credit is not None:
                    await self._on_out_of_credit(job)  # admins hear it once
                raise
            except BaseException:
                await self._record_failure(job, FAILED_MID_SUBMIT, notify=notify)
                raise
            job = await self._record_task_id(job, task_id)
        finally:
            # Only once the task id is stored: crash recovery must never fail a job whose paid call went through.
            self._submitting.discard(job.id)
        log.info("submitted %s as task %s", describe_job(job), task_id)
        if self._on_submitted is not None:
            self._on_submitted(job)  # e.g. tell the poller (it looks at once if it was idle)
        return job

    async def _record_failure(self, job: Job, reason: str, *, notify: bool) -> None:
        """Store why a submit failed. Crash recovery may have failed the job already (another process took this one
        for dead while CometAPI was answering): its member was told then, and the failure at hand is what this
        request answers with, not the state machine's refusal."""
        try:
            await self._store.mark_submit_failed(job.id, reason, notify=notify)
        except IllegalTransitionError:
            log.warning("%s failed to submit (%s) after it had been failed as interrupted", describe_job(job), reason)

    async def _record_task_id(self, job: Job, task_id: str) -> Job:
        """Store the task id of a call CometAPI accepted (and charged for). A database that stays away longer than
        the store waits for a restart is waited for again, as long as it takes: given up, the song would never be
        followed and its member would be told to try again, paying twice. Meanwhile the job stays this process's
        submit under way, and the log names its task id, should the process stop before the database is back."""
        waiting = False
        while True:
            try:
                recorded = await self._store.mark_submitted(job.id, task_id)
            except IllegalTransitionError:
                # Another process took this one for dead (a long outage, a stalled process) and failed the submit as
                # interrupted: the call went through, so the job is taken back while its notice is not out yet.
                taken = await self._store.mark_submitted_after_recovery(job.id, task_id)
                if taken is None:
                    log.error("%s was accepted by CometAPI as task %s, but the job had been given up meanwhile; "
                              "its song is not followed", describe_job(job), task_id)
                    raise
                log.warning("%s was failed as interrupted while CometAPI accepted it as task %s: taken back",
                            describe_job(job), task_id)
                return taken
            except Exception as exc:
                if not database_outage(exc):
                    raise
                if not waiting:
                    log.warning("%s was accepted by CometAPI as task %s while the database is away: its task id is "
                                "recorded once the database is back", describe_job(job), task_id)
                    waiting = True
                await asyncio.sleep(RECORD_RETRY_SECONDS)
                continue
            if waiting:
                log.info("recorded task %s of %s now that the database is back", task_id, describe_job(job))
            return recorded

    async def continue_uploads(self) -> list[Job]:
        """Sing the covers whose audio Suno has taken: each upload is moved back to `submitting` (guarded by its
        upload task, so only once), then the cover is sent like any job: written first, so a crash in between is
        recovered as "may not have started" rather than paid twice."""
        sent = []
        for job in await self._store.uploads_ready():
            spec = spec_of(job)
            staged = spec.staged(job.result or {}, job.task_id) if isinstance(spec, CoverSpec) and job.task_id else None
            if staged is None or not job.task_id:
                continue
            restaged = await self._store.restage(job.id, task_id=job.task_id, params=staged.to_params(),
                                                 owner=self._owner)
            if restaged is None:
                continue  # another process (or an earlier cycle) took it
            # The cover was admitted whole, at its full cost, when its upload stage was reserved: its second paid
            # call is part of that admission, and the guarded restage above hands it out once.
            try:
                sent.append(await self.send(Reservation(restaged, staged, admitted=_ADMITTED), notify=True))
            except CometAPIError:
                log.warning("the cover of %s could not be started", describe_job(job))
        return sent

    async def withdraw(self, reservation: Reservation, reason: str) -> None:
        """Give up a reserved job before anything was sent (e.g. the interaction expired); it can no longer be sent."""
        job = reservation.spend()
        await self._store.mark_submit_failed(job.id, reason)

    async def submit(self, order: Order) -> Job:
        """Reserve and send in one go."""
        return await self.send(await self.reserve(order))

    async def cancel(self, job: Job) -> Job | None:
        """Cancel a job's post; None if it had finished or was cancelled already.

        CometAPI has no cancel: the job keeps running and costing, so it keeps its concurrency slot until CometAPI
        finishes it and then counts against the quota like any song; it is just never posted.
        """
        cancelled = await self._store.request_cancel(job.id)
        if cancelled is not None:
            log.info("cancelled %s (it finishes on CometAPI and still counts)", describe_job(job))
        return cancelled

    # ---- reading ---------------------------------------------------------------------------------------------

    async def get(self, job_id: int) -> Job | None:
        """One job, for buttons and /status."""
        return await self._store.get(job_id)

    async def recent(self, user_id: int, *, guild_id: int | None, limit: int = 10) -> list[Job]:
        """A member's newest jobs (in this guild, when there is one)."""
        return await self._store.recent_for_user(user_id, guild_id=guild_id, limit=limit)

    async def history(self, user_id: int, *, guild_id: int | None, page: int, per_page: int) -> tuple[list[Job], int]:
        """One page of a member's delivered songs, and how many there are."""
        return await self._store.delivered_for_user(user_id, guild_id=guild_id, offset=page * per_page, limit=per_page)

    async def progress_hints(self, job: Job) -> ProgressHints:
        """How long songs of this model usually take (from recent ones; cached a minute) and, while the job waits
        at CometAPI, its place in the bot's line."""
        key = (job.provider, job.action, model_key(job))
        cached = self._typical.get(key)
        now = time.monotonic()
        if cached is None or now - cached[0] > TYPICAL_CACHE_SECONDS:
            cached = (now, await self._store.typical_duration(*key))
            self._typical[key] = cached
        position = await self._store.queue_position(job.id) if job.state == "queued" else None
        return ProgressHints(cached[1], position)

    async def remember_status_message(self, job: Job, message_id: int) -> None:
        """Keep the id of the message that shows the job's progress, for edits after the token expires."""
        await self._store.set_status_message(job.id, job.channel_id, message_id)

    async def guild_settings(self, guild_id: int | None) -> GuildSettings | None:
        """The guild's settings (default models, which providers are on), None outside a guild."""
        return await self._store.guild_settings(guild_id) if guild_id is not None else None


async def _pay(spec: JobSpec, api: CometAPI) -> str:
    """The spec's paid call; a 2xx the bot cannot read is "may have started", never a plain failure to retry."""
    try:
        return await spec.submit(api)
    except BadResponseError as exc:
        if isinstance(exc, SubmitUnconfirmedError) or exc.status is None or not 200 <= exc.status < 300:
            raise
        raise SubmitUnconfirmedError(f"CometAPI accepted the request but its answer could not be read: {exc.message}",
                                     status=exc.status, request_id=exc.request_id) from exc


def _why_not_sent(exc: CometAPIError) -> str:
    """What a failed submit records: whether CometAPI may still have started (and charged) it, or why it refused."""
    if isinstance(exc, SubmitUnconfirmedError):
        return UNCONFIRMED
    if isinstance(exc, APITimeoutError) or (isinstance(exc, NetworkError) and exc.reached_server):
        return MAYBE_ACCEPTED
    return str(exc)


def _check_rules(settings: GuildSettings, new: NewJob, *, outside: bool = False) -> None:
    """The server's rules (where, who, which provider). `outside`: pressed outside the server (a DM), where the
    member's roles cannot be seen."""
    who = new.requester
    if settings.allowed_channels and who.channel_id not in settings.allowed_channels:
        places = ", ".join(f"<#{channel}>" for channel in sorted(settings.allowed_channels))
        raise NotAllowedError(f"Songs are made in {places} on this server. Please ask there.")
    if settings.required_role_id is not None and outside:
        raise NotAllowedError(f"Songs of this server need the <@&{settings.required_role_id}> role, which I cannot "
                              "check outside the server. Please ask in one of its channels.")
    if settings.required_role_id is not None and settings.required_role_id not in who.role_ids:
        raise NotAllowedError(f"You need the <@&{settings.required_role_id}> role to make songs here.")
    enabled = settings.suno_enabled if new.provider == "suno" else settings.udio_enabled
    if not enabled:
        name = "Suno" if new.provider == "suno" else "Udio"
        raise NotAllowedError(f"{name} is switched off on this server by its admins.")
