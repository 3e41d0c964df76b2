"""Personas ("house voices"): a server's reusable Suno voices, each made from one of its songs."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from bot.cometapi import CometAPI
from bot.core.jobs import JobService
from bot.core.validation import InvalidInputError
from bot.domain import Job, Persona, Requester
from bot.store import JobStore

MAX_NAME = 40
MAX_DESCRIPTION = 200


class PersonaService:
    """Makes, lists, finds and removes a guild's personas."""

    def __init__(self, store: JobStore, api: CometAPI, jobs: JobService) -> None:
        self._store = store
        self._api = api
        self._jobs = jobs
        # One create at a time per server, from its checks to its write (see `create`).
        self._creating: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def create(self, job: Job, clip_id: str, *, name: str, description: str, by: Requester) -> Persona:
        """Make a persona from a take of `job`, within the server's rules (NotAllowedError); InvalidInputError for
        a bad or taken name."""
        name, description = name.strip(), description.strip()
        if not name or len(name) > MAX_NAME:
            raise InvalidInputError("name", f"Give the persona a name of 1 to {MAX_NAME} characters.")
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInputError("description", f"Keep the description under {MAX_DESCRIPTION} characters.")
        if job.guild_id is None:
            raise InvalidInputError("persona", "Personas belong to a server: make one from a song posted there.")
        await self._jobs.check_rules(job, by)
        # Two presses at once (one take under two names, or one name from two takes) would both pass the checks and
        # both pay; a server's presses reach one process (its shard), so its creates take turns here.
        async with self._creating[job.guild_id]:
            await self._refuse_known(job.guild_id, name, clip_id)
            # Not through JobService's admission: CometAPI documents no price for /suno/persona/create (shared/api
            # cometapi-music.md §2.8 gives none; §4.3: sibling gateways sell persona routes as separately priced
            # models, CometAPI's prices for them are unknown). It is not a song, so there is no cost in songs to
            # count, and it answers at once with no task to follow. It is not called free either: the client sends it
            # as a paid call (never retried), it passes the server's rules (where, who, Suno switched on:
            # `check_rules` above), only the song's requester or a moderator may make one, and singing in a persona is
            # a song that goes through the limits like any other (docs/admins.md, "Suno's tools: evidence and cost").
            persona_id = await self._api.tools.create_persona(clip_id, name, description or name)
            persona = Persona(job.guild_id, name, description, persona_id, clip_id, by.user_id, job.id)
            if not await self._store.add_persona(persona):
                raise InvalidInputError("name", f"This server already has a persona called “{name}”.")
        return persona

    async def _refuse_known(self, guild_id: int, name: str, clip_id: str) -> None:
        """Checked before CometAPI is asked: never pay for a name that is taken, nor for a voice the server has
        already (one persona per take keeps what these calls of unknown price cost bounded by the songs, which the
        limits count)."""
        known = await self._store.personas(guild_id)
        if _named(known, name) is not None:
            raise InvalidInputError("name", f"This server already has a persona called “{name}”.")
        same_voice = next((persona for persona in known if persona.root_clip_id == clip_id), None)
        if same_voice is not None:
            raise InvalidInputError("persona", f"This take's voice is already the persona “{same_voice.name}”: sing "
                                    f"in it with `/suno persona:{same_voice.name}`.")

    async def list(self, guild_id: int) -> list[Persona]:
        """The guild's personas, by name."""
        return await self._store.personas(guild_id)

    async def find(self, guild_id: int, name: str) -> Persona | None:
        """The guild's persona of that name (case-insensitive), or None."""
        return _named(await self._store.personas(guild_id), name)

    async def remove(self, guild_id: int, name: str) -> bool:
        """Forget a persona (admins)."""
        return await self._store.remove_persona(guild_id, name)


def _named(personas: list[Persona], name: str) -> Persona | None:
    """The persona of that name among `personas`, whatever its case (as the store keeps them unique)."""
    wanted = name.strip().lower()
    return next((persona for persona in personas if persona.name.lower() == wanted), None)
