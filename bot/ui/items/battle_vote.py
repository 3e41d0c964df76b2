"""The vote buttons of a song battle's face-off: one vote per member, changeable, the counts hidden until the end.
A vote makes no job: it never costs quota."""

from __future__ import annotations

import discord

from bot.domain import Choice
from bot.ui.items.item_base import ChorusButton, bot_of
from bot.ui.replies import safe_reply

SIDES: dict[int, Choice] = {1: "a", 2: "b"}


class BattleVoteButton(ChorusButton, action="battle", fields=("battle", "side")):
    """Vote for side A (1) or B (2) of a battle; pressing the other side changes the vote."""

    def __init__(self, battle_id: int, side: int, name: str = "") -> None:
        letter = "A" if side == 1 else "B"
        # The emoji shows the letter: the label names the side once ("Vote for Take A", "Vote for Udio").
        super().__init__(battle_id, side, label=f"Vote for {name}" if name else f"Vote {letter}",
                         emoji="🅰️" if side == 1 else "🅱️", style=discord.ButtonStyle.primary)

    async def on_press(self, interaction: discord.Interaction) -> None:
        """Record the vote and say so privately (never the counts)."""
        choice = SIDES.get(self.ids["side"])
        if choice is None:
            await safe_reply(interaction, "That is not a side of this battle.")
            return
        battle, outcome = await bot_of(interaction).community.battles.vote(
            self.ids["battle"], interaction.user.id, choice
        )
        side = choice.upper()
        closes = f"<t:{int(battle.closes_at or 0)}:R>"
        if outcome.previous == choice:
            text = f"You already voted for **{side}**. The result comes {closes}."
        elif outcome.previous is not None:
            text = f"Changed: your vote is now for **{side}**. The result comes {closes}."
        else:
            text = f"Your vote for **{side}** is in; you can change it until voting closes {closes}."
        await safe_reply(interaction, text + " The counts stay hidden until then.")
