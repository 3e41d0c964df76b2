"""JobService: check the guild's rules and limits → record → submit → record.

Cogs and buttons call only this; it calls the CometAPI client and the store. A job is reserved (its row
written, limits checked in the same transaction) before the interaction is deferred, so a refusal can
still be answered privately; the paid CometAPI call comes after.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.cometapi import (
    APITimeoutError,
    CometAPI,
    CometAPIError,
    InsufficientBalanceError,
    NetworkError,
    SunoMusicRequest,
    UdioRequest,
)
from bot.core.limits import Admission, Caps, LimitReachedError, NotAllowedError
from bot.store import GuildSettings, Job, JobStore, NewJob, Requester

log = logging.getLogger(__name__)

# Recent songs' typical duration changes slowly: ask the store at most once a minute per model.
TYPICAL_CACHE_SECONDS = 60.0
NOT_STARTED = "not started because of a limit"
MAYBE_ACCEPTED = "CometAPI did not confirm the submission in time; it may or may not have started"


def suno_job(request: SunoMusicRequest, requester: Requester, *, parent_job_id: int | None = None) -> NewJob:
    """A Suno song job (a new song, or an extension when the request continues a clip)."""
    return NewJob(requester, "suno", "MUSIC", dataclasses.asdict(request), request.mode, parent_job_id)


def lyrics_job(prompt: str, requester: Requester) -> NewJob:
    """A Suno lyrics job on a theme."""
    return NewJob(requester, "suno", "LYRICS", {"prompt": prompt}, "lyrics")


def udio_job(request: UdioRequest, requester: Requester) -> NewJob:
    """A Udio song job."""
    return NewJob(requester, "udio", "MUSIC", dataclasses.asdict(request), "generate")


def concat_job(parent: Job, clip_id: str, requester: Requester) -> NewJob:
    """Join an extended clip with the clips it continues into one song."""
    return NewJob(requester, "suno", "MUSIC", {"clip_id": clip_id, "mv": parent.params.get("mv")}, "concat", parent.id)


def stems_job(parent: Job, clip_id: str, take: int, stem: str, requester: Requester) -> NewJob:
    """Separate a take into stems (`two`: vocals and instrumental; `twelve`: every track). Costs like a song."""
    params = {"stem_of": clip_id, "task_id": parent.task_id, "stem": stem, "take": take}
    return NewJob(requester, "suno", "MUSIC", params, "stems", parent.id)


def cover_job(url: str, filename: str, request: SunoMusicRequest, mode: str, requester: Requester) -> NewJob:
    """A cover (or extension) of the member's own audio: first uploaded to Suno, then sung (one song's cost)."""
    params = {"stage": "upload", "url": url, "file": filename, "mode": mode, "mv": request.mv,
              "prompt": f"{'a cover' if mode == 'cover' else 'an extension'} of {filename}"
                        + (f" in {request.tags}" if request.tags else ""),
              "request": dataclasses.asdict(request)}
    return NewJob(requester, "suno", "MUSIC", params, "cover")


def retry_job(draft: Job, requester: Requester) -> NewJob:
    """A request that a limit refused, asked again as it was (same kind, same parent)."""
    return NewJob(requester, draft.provider, draft.action, dict(draft.params), draft.kind, draft.parent_job_id)


def rerun_job(parent: Job, requester: Requester, params: dict[str, Any] | None = None) -> NewJob:
    """The same request again (a reroll), or with edited parameters."""
    kind = "reroll" if params is None else "edit"
    return NewJob(requester, parent.provider, parent.action, params or dict(parent.params), kind, parent.id)


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
    """Submits jobs so that a crash at any point neither loses a paid job nor charges twice."""

    def __init__(
        self,
        store: JobStore,
        cometapi: CometAPI,
        *,
        caps: Caps | None = None,
        on_submitted: Callable[[Job], None] | None = None,
        on_out_of_credit: Callable[[Job], Awaitable[None]] | None = None,
        owner: str | None = None,
    ) -> None:
        self._store = store
        # This process, recorded on each job it submits: only it (or, once it is gone, another) may recover one.
        self._owner = owner
        self._api = cometapi
        self._caps = caps or Caps()
        self._on_submitted = on_submitted
        self._on_out_of_credit = on_out_of_credit
        self._submitting: set[int] = set()
        self._typical: dict[tuple[str, str, str | None], tuple[float, float | None]] = {}

    @property
    def submitting(self) -> frozenset[int]:
        """Jobs whose paid call is under way in this process right now (crash recovery must leave them be)."""
        return frozenset(self._submitting)

    # ---- submitting ------------------------------------------------------------------------------------------

    async def reserve(self, new: NewJob, *, draft_id: int | None = None) -> Job:
        """Check the guild's rules and limits and record the job (`submitting`), or raise why not.

        A limit never throws the request away: the refused request is kept as a job that never started (it
        costs nothing) and its id rides on the LimitReachedError, so the member can try it again later. A retry
        of such a draft passes `draft_id` and keeps the same draft.
        """
        admission = None
        if new.requester.guild_id is not None:
            settings = await self._store.guild_settings(new.requester.guild_id)
            _check_rules(settings, new)
            admission = Admission(settings, self._caps, counts_towards_quota=new.action == "MUSIC")
        try:
            return await self._store.create(new, admission, owner=self._owner)
        except LimitReachedError as exc:
            exc.draft_job_id = draft_id if draft_id is not None else await self._keep_draft(new, exc)
            raise

    async def _keep_draft(self, new: NewJob, refusal: LimitReachedError) -> int:
        draft = await self._store.create(new)  # no limits: it is recorded as never started, and never sent
        await self._store.mark_submit_failed(draft.id, f"{NOT_STARTED}: {refusal.message}")
        return draft.id

    async def send(self, job: Job, *, notify: bool = False) -> Job:
        """Make the paid CometAPI call for a reserved job and record its task id (or why it failed). With `notify`
        (no interaction waits for this submit) a failure is queued for delivery, so the member hears of it."""
        self._submitting.add(job.id)
        try:
            try:
                task_id = await self._call(job)
            except CometAPIError as exc:
                uncertain = isinstance(exc, APITimeoutError) or (isinstance(exc, NetworkError) and exc.reached_server)
                await self._store.mark_submit_failed(job.id, MAYBE_ACCEPTED if uncertain else str(exc), notify=notify)
                log.warning("submit failed for %s: %s: %s", describe_job(job), type(exc).__name__, exc)
                if isinstance(exc, InsufficientBalanceError) and self._on_out_of_credit is not None:
                    await self._on_out_of_credit(job)  # admins hear it once
                raise
            except BaseException:
                await self._store.mark_submit_failed(job.id, "the bot failed while submitting this job", notify=notify)
                raise
            job = await self._store.mark_submitted(job.id, task_id)
        finally:
            # Only once the task id is stored: crash recovery must never fail a job whose paid call went through.
            self._submitting.discard(job.id)
        log.info("submitted %s as task %s", describe_job(job), task_id)
        if self._on_submitted is not None:
            self._on_submitted(job)  # e.g. wake the poller so a quick job is seen at once
        return job

    async def continue_uploads(self) -> list[Job]:
        """Sing the covers whose audio Suno has taken: each upload is moved back to `submitting` (guarded by its
        upload task, so only once), then the cover is sent like any job: written first, so a crash in between is
        recovered as "may not have started" rather than paid twice."""
        sent = []
        for job in await self._store.uploads_ready():
            result = job.result or {}
            clips = [clip for clip in result.get("clips") or [] if isinstance(clip, dict) and clip.get("id")]
            if not clips or not job.task_id:
                continue
            request = dict(job.params["request"])
            mode = job.params.get("mode")
            request.update(continue_clip_id=clips[0]["id"], task_id=job.task_id,
                           cover_task="cover" if mode == "cover" else "upload_extend")
            params = {**job.params, "stage": "cover", "request": request}
            restaged = await self._store.restage(job.id, task_id=job.task_id, params=params, owner=self._owner)
            if restaged is None:
                continue  # another process (or an earlier cycle) took it
            try:
                sent.append(await self.send(restaged, notify=True))
            except CometAPIError:
                log.warning("the cover of %s could not be started", describe_job(job))
        return sent

    async def withdraw(self, job: Job, reason: str) -> None:
        """Give up a reserved job before anything was sent (e.g. the interaction expired)."""
        await self._store.mark_submit_failed(job.id, reason)

    async def submit(self, new: NewJob) -> Job:
        """Reserve and send in one go."""
        return await self.send(await self.reserve(new))

    async def _call(self, job: Job) -> str:
        if job.provider == "udio":
            return await self._api.udio.generate(UdioRequest(**job.params))
        if job.action == "LYRICS":
            return await self._api.suno.submit_lyrics(str(job.params["prompt"]))
        if job.kind == "cover":
            if job.params.get("stage") == "upload":
                return await self._api.tools.upload_audio(str(job.params["url"]))
            return await self._api.suno.submit_music(SunoMusicRequest(**job.params["request"]))
        if job.kind == "stems":
            return await self._api.tools.submit_stems(
                str(job.params["stem_of"]), str(job.params["task_id"]), str(job.params["stem"])
            )
        if job.kind == "concat" or "clip_id" in job.params:  # a concat, however it was started again
            return await self._api.suno.submit_concat(str(job.params["clip_id"]))
        return await self._api.suno.submit_music(SunoMusicRequest(**job.params))

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


def _check_rules(settings: GuildSettings, new: NewJob) -> None:
    who = new.requester
    if settings.allowed_channels and who.channel_id not in settings.allowed_channels:
        places = ", ".join(f"<#{channel}>" for channel in sorted(settings.allowed_channels))
        raise NotAllowedError(f"Songs are made in {places} on this server. Please ask there.")
    if settings.required_role_id is not None and settings.required_role_id not in who.role_ids:
        raise NotAllowedError(f"You need the <@&{settings.required_role_id}> role to make songs here.")
    enabled = settings.suno_enabled if new.provider == "suno" else settings.udio_enabled
    if not enabled:
        name = "Suno" if new.provider == "suno" else "Udio"
        raise NotAllowedError(f"{name} is switched off on this server by its admins.")
