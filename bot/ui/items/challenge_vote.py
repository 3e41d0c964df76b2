"""The vote menu of a challenge: one vote per member (changeable), never for one's own entry, counts hidden.
A vote makes no job: it never costs quota."""

from __future__ import annotations

import discord

from bot.ui.items.item_base import ChorusSelect, bot_of
from bot.ui.replies import safe_reply

PER_MENU = 25  # Discord's limit of options per select


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
