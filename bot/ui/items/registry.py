"""Every persistent button and select class, registered with the bot in setup_hook so old messages keep working."""

from __future__ import annotations

from typing import Any

import discord

from .battle import BattleVoteButton
from .card import CancelButton
from .challenge import ChallengeVoteSelect
from .history import HistoryPageButton
from .jam import JamLineButton, JamSongButton
from .like import LikeButton
from .lyrics import EditLyricsSongButton, MakeSongButton
from .more import MoreSelect
from .retry import RetryButton
from .song import DeleteButton, EditButton, ExtendButton, InfoButton, LyricsButton, RerollButton, WholeSongButton
from .tools import ToolsSelect

ALL_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ExtendButton, WholeSongButton, RerollButton, EditButton, InfoButton, DeleteButton, LyricsButton,
    MakeSongButton, EditLyricsSongButton, CancelButton, HistoryPageButton, MoreSelect,
    RetryButton, ToolsSelect, LikeButton, BattleVoteButton, ChallengeVoteSelect, JamLineButton, JamSongButton,
)
