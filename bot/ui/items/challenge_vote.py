"""A challenge's items: its vote menu (one vote per member, changeable, never for one's own entry, counts hidden; a
vote makes no job, so it never costs quota), and entering a song (from its post's More → Enter in the challenge,
offered while a challenge takes entries, or /challenge submit)."""

from __future__ import annotations

from typing import Any

import discord

from bot.core.community.songs import title_of
from bot.ui import render
from bot.ui.items.item_base import ChorusSelect, bot_of
from bot.ui.replies import safe_reply

PER_MENU = 25  # Discord's limit of options per select


async def enter(interaction: discord.Interaction, job_id: int) -> None:
    """Enter the member's song in the running challenge and tell them privately, naming the song by its title."""
    bot = bot_of(interaction)
    challenge, outcome = await bot.community.challenges.submit(interaction.guild_id or 0, interaction.user.id, job_id)
    song = await bot.jobs.get(job_id)
    text = f"**{_title(song)}** is your entry in **{_plain(challenge.theme)}**."
    if outcome.replaced_job_id is not None:
        text += f" It replaces **{_title(await bot.jobs.get(outcome.replaced_job_id))}** (one entry each)."
    text += f" Entries close <t:{int(challenge.submit_ends_at)}:R>."
    await safe_reply(interaction, text)


def _title(job: Any) -> str:
    return _plain(render.shorten(title_of(job), 100)) if job is not None else "your song"


def _plain(text: str) -> str:
    return discord.utils.escape_markdown(discord.utils.escape_mentions(text))


class ChallengeVoteSelect(ChorusSelect, action="challenge", fields=("challenge", "page")):
    """Pick the entry to vote for (the value is the entrant's user id); entries beyond 25 go in further menus."""

    def __init__(self, challenge_id: int, page: int, options: list[discord.SelectOption] | None = None) -> None:
        placeholder = "Vote for an entry" + (f" ({page * PER_MENU + 1}+)" if page else "")
        super().__init__(challenge_id, page, placeholder=placeholder, options=options)

    async def on_press(self, interaction: discord.Interaction) -> None:
        """Record the vote and say so privately (never the counts)."""
        if not self.value.isdigit():
            await safe_reply(interaction, "Pick an entry from the list.")
            return
        entrant = int(self.value)
        challenge, outcome = await bot_of(interaction).community.challenges.vote(
            self.ids["challenge"], interaction.user.id, entrant
        )
        ends = f"<t:{int(challenge.vote_ends_at or 0)}:R>"
        if outcome.previous == entrant:
            text = "You already voted for that entry."
        elif outcome.previous is not None:
            text = "Changed: your vote now goes to that entry."
        else:
            text = "Your vote is in; you can change it until voting closes."
        await safe_reply(interaction, f"{text} Votes are anonymous; the results come {ends}.")
