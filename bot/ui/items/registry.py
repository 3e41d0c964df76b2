"""Every persistent button class, registered with the bot in setup_hook so old messages keep working."""

from __future__ import annotations

from .base import ChorusButton
from .card import CancelButton
from .history import HistoryPageButton
from .lyrics import EditLyricsSongButton, MakeSongButton
from .song import DeleteButton, EditButton, ExtendButton, InfoButton, LyricsButton, RerollButton, WholeSongButton

ALL_ITEMS: tuple[type[ChorusButton], ...] = (
    ExtendButton, WholeSongButton, RerollButton, EditButton, InfoButton, DeleteButton, LyricsButton,
    MakeSongButton, EditLyricsSongButton, CancelButton, HistoryPageButton,
)
