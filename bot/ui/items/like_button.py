"""❤️ Like on a song post: one like per member, pressing again takes it back; the count is the button's label.

The press answers by editing the post (the one answer), with only the Like button's label changed: the post is
rebuilt from the message itself, so its text, files and other buttons stay exactly as they were. Presses on one
post are put in order in this process, so the label always ends on the latest count. Likes make no job: they
never cost quota.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import discord

from bot.store import Job
from bot.ui.items.item_base import ChorusButton, bot_of
from bot.ui.replies import safe_reply

# One lock per post being liked right now (dropped when nobody waits), so label edits land in order.
_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)


def like_label(likes: int) -> str:
    """`Like` with no likes yet, else the count."""
    return str(likes) if likes else "Like"


class LikeButton(ChorusButton, action="like"):
    """Like a song (or take the like back); anyone may, and it costs nothing."""

    def __init__(self, job_id: int, likes: int = 0) -> None:
        super().__init__(job_id, label=like_label(likes), emoji="❤️")

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Toggle the presser's like and show the new count on the post."""
        lock = _locks[job.id]
        try:
            async with lock:
                toggle = await bot_of(interaction).community.likes.toggle(job, interaction.user.id)
                if interaction.message is None:
                    await safe_reply(interaction, "❤️ Liked." if toggle.liked else "Like taken back.")
                    return
                if not toggle.changed:
                    await interaction.response.defer()  # a double click: nothing changed, nothing to show
                    return
                view = relabelled(interaction.message, self.custom_id, like_label(toggle.likes))
                await interaction.response.edit_message(view=view, allowed_mentions=discord.AllowedMentions.none())
        finally:
            _forget_idle(job.id)


def _forget_idle(job_id: int) -> None:
    lock = _locks.get(job_id)
    if lock is not None and not lock.locked():
        del _locks[job_id]


def relabelled(message: discord.Message, custom_id: str, label: str) -> discord.ui.LayoutView:
    """The message's own components with one button's label changed (files keep pointing at its attachments)."""
    view = discord.ui.LayoutView.from_message(message, timeout=None)
    by_url = {attachment.url: attachment.filename for attachment in message.attachments}
    files = [item for item in view.walk_children() if isinstance(item, discord.ui.File)]
    for index, item in enumerate(files):
        url = item.media.url
        if not url.startswith("attachment://"):
            # Discord hands back the uploaded file's URL; an edit must name the attachment instead.
            name = by_url.get(url) or (message.attachments[index].filename if index < len(message.attachments) else "")
            item.media = f"attachment://{name}"
    for child in view.walk_children():
        if isinstance(child, discord.ui.Button) and child.custom_id == custom_id:
            child.label = label
    return view
