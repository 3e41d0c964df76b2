"""What the community features need to know about a song: is it a finished, delivered, not deleted song, and its
takes."""

from __future__ import annotations

from bot.cometapi import Clip, TaskResult
from bot.core.limits import NotAllowedError
from bot.domain import Job
from bot.store import JobStore


def takes(job: Job) -> tuple[Clip, ...]:
    """The job's complete clips (its takes), in order."""
    result = TaskResult.from_dict(job.result) if job.result else None
    return result.complete_clips if result is not None else ()


def is_song(job: Job) -> bool:
    """A song that was made (not lyrics, not a failure); it is posted, or being posted right now."""
    return job.action == "MUSIC" and job.state == "succeeded"


def asked_title(job: Job) -> str:
    """The title the member typed (`title:` or a form's Title), or "" when they left it to the model."""
    title = job.params.get("title")
    return title.strip() if isinstance(title, str) else ""


def title_of(job: Job) -> str:
    """The song's title: the one the member typed, else the model's (its takes' titles joined when they differ), or
    `Untitled`. The member's wins: in description mode Suno makes up its own and ignores theirs."""
    titles = list(dict.fromkeys(clip.title or "Untitled" for clip in takes(job)))
    return asked_title(job) or " / ".join(titles) or "Untitled"


async def require_live_song(store: JobStore, job: Job) -> None:
    """Raise NotAllowedError unless the job is a song whose post was not deleted."""
    if not is_song(job):
        raise NotAllowedError(f"Song #{job.id} is not finished.")
    if await store.removed_songs([job.id]):
        raise NotAllowedError(f"Song #{job.id} was deleted.")
