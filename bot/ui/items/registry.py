"""Every persistent button and select class, registered with the bot in setup_hook so old messages keep working."""

from __future__ import annotations

from typing import Any

import discord

from bot.ui.listening.party_buttons import LikeSongButton, PauseButton, SkipButton, StopButton

from .battle_vote import BattleVoteButton
from .card import CancelButton
from .challenge_vote import ChallengeVoteSelect
from .history_pages import HistoryPageButton
from .jam_buttons import JamAgainButton, JamLineButton, JamSongButton
from .jam_cuts import JamCutButton, JamCutSelect
from .like_button import LikeButton
from .lyrics_buttons import EditLyricsSongButton, MakeSongButton
from .more import MoreSelect
from .retry import RetryButton
from .song_buttons import (
    DeleteButton,
    EditButton,
    ExtendButton,
    InfoButton,
    LyricsButton,
    RerollButton,
    WholeSongButton,
)
from .take_tools import ToolsSelect

ALL_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ExtendButton, WholeSongButton, RerollButton, EditButton, InfoButton, DeleteButton, LyricsButton,
    MakeSongButton, EditLyricsSongButton, CancelButton, HistoryPageButton, MoreSelect,
    RetryButton, ToolsSelect, LikeButton, BattleVoteButton, ChallengeVoteSelect, JamLineButton, JamSongButton,
    JamAgainButton, JamCutButton, JamCutSelect, SkipButton, PauseButton, StopButton, LikeSongButton,
)
