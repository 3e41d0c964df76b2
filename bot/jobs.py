"""JobService: record → submit → record. Cogs call only this; it calls the CometAPI client and the store."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable

from bot.cometapi import (
    APITimeoutError,
    CometAPI,
    CometAPIError,
    NetworkError,
    SunoMusicRequest,
    UdioRequest,
)
from bot.store import Job, JobStore, NewJob, Requester

log = logging.getLogger(__name__)

MAYBE_ACCEPTED = "CometAPI did not confirm the submission in time; it may or may not have started"


class JobService:
    """Submits jobs so that a crash at any point neither loses a paid job nor charges twice."""

    def __init__(
        self, store: JobStore, cometapi: CometAPI, *, on_submitted: Callable[[Job], None] | None = None
    ) -> None:
        self._store = store
        self._api = cometapi
        self._on_submitted = on_submitted

    async def submit_suno(
        self,
        request: SunoMusicRequest,
        requester: Requester,
        *,
        kind: str | None = None,
        parent_job_id: int | None = None,
    ) -> Job:
        """Submit a Suno music job (already validated) for `requester`."""
        new = NewJob(
            requester,
            "suno",
            "MUSIC",
            params=dataclasses.asdict(request),
            kind=kind or request.mode,
            parent_job_id=parent_job_id,
        )
        return await self._submit(new, lambda: self._api.suno.submit_music(request))

    async def submit_lyrics(self, prompt: str, requester: Requester) -> Job:
        """Submit a Suno lyrics job for `requester`."""
        new = NewJob(requester, "suno", "LYRICS", params={"prompt": prompt}, kind="lyrics")
        return await self._submit(new, lambda: self._api.suno.submit_lyrics(prompt))

    async def submit_udio(self, request: UdioRequest, requester: Requester) -> Job:
        """Submit a Udio job (already validated) for `requester`."""
        new = NewJob(requester, "udio", "MUSIC", params=dataclasses.asdict(request), kind="generate")
        return await self._submit(new, lambda: self._api.udio.generate(request))

    async def get(self, job_id: int) -> Job | None:
        """One job, for buttons and /status."""
        return await self._store.get(job_id)

    async def recent(self, user_id: int, *, guild_id: int | None, limit: int = 10) -> list[Job]:
        """A member's newest jobs (in this guild, when there is one)."""
        return await self._store.recent_for_user(user_id, guild_id=guild_id, limit=limit)

    async def remember_status_message(self, job: Job, message_id: int) -> None:
        """Keep the id of the message that shows the job's progress, for edits after the token expires."""
        await self._store.set_status_message(job.id, job.channel_id, message_id)

    async def _submit(self, new: NewJob, send: Callable[[], Awaitable[str]]) -> Job:
        # The intent is on disk before the paid call, so a crash mid-call is found and reported at restart.
        job = await self._store.create(new)
        context = f"job {job.id} ({new.provider} {new.kind}) for user {new.requester.user_id}"
        try:
            task_id = await send()
        except CometAPIError as exc:
            uncertain = isinstance(exc, APITimeoutError) or (isinstance(exc, NetworkError) and exc.reached_server)
            await self._store.mark_submit_failed(job.id, MAYBE_ACCEPTED if uncertain else str(exc))
            log.warning("submit failed for %s: %s: %s", context, type(exc).__name__, exc)
            raise
        except BaseException:
            await self._store.mark_submit_failed(job.id, "the bot failed while submitting this job")
            raise
        job = await self._store.mark_submitted(job.id, task_id)
        log.info("submitted %s as task %s", context, task_id)
        if self._on_submitted is not None:
            self._on_submitted(job)  # e.g. wake the poller so a quick job is seen at once
        return job
