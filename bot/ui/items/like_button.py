"""❤️ Like on a song post: one like per member, pressing again takes it back; the count is the button's label.

The press answers by editing the post (the one answer), with only the Like button's label changed: the post is
rebuilt from the message itself, so its text, files and other buttons stay exactly as they were. One press at a time
edits a post; presses arriving meanwhile are answered at once (Discord's "seen", with nothing to wait for) and leave
one more edit to it, whose count is read right before it is sent. So a burst of presses never waits out Discord's
3 s behind the others' edits, and the last edit always shows the true count. Likes make no job: they never cost
quota.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot.domain import Job
from bot.ui.items.item_base import ChorusButton, bot_of
from bot.ui.post_edits import post_view
from bot.ui.replies import safe_reply

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Edit:
    """A post whose label a press is editing right now; `again` once another press changed the count meanwhile."""

    again: bool = False


# Posts being relabelled in this process, by message id (a guild's presses all reach the one process of its shard).
_editing: dict[int, _Edit] = {}


def like_label(likes: int) -> str:
    """`Like` with no likes yet, else the count."""
    return str(likes) if likes else "Like"


class LikeButton(ChorusButton, action="like"):
    """Like a song (or take the like back); anyone may, and it costs nothing."""

    def __init__(self, job_id: int, likes: int = 0) -> None:
        super().__init__(job_id, label=like_label(likes), emoji="❤️")

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Toggle the presser's like and show the new count on the post."""
        bot = bot_of(interaction)
        likes = bot.community.likes
        toggle = await likes.toggle(job, interaction.user.id)
        if toggle.changed:
            bot.listening.song_liked(job.guild_id, job.id)  # a party playing the song shows the count too
        message = interaction.message
        if message is None:
            await safe_reply(interaction, "❤️ Liked." if toggle.liked else "Like taken back.")
            return
        if not toggle.changed:
            await interaction.response.defer()  # a double click: nothing changed, nothing to show
            return
        under_way = _editing.get(message.id)
        if under_way is not None:
            under_way.again = True  # the press editing the post edits it once more, with the count read then
            await interaction.response.defer()
            return
        _editing[message.id] = edit = _Edit()
        try:
            view = relabelled(message, self.custom_id, like_label(toggle.likes))
            await interaction.response.edit_message(view=view, allowed_mentions=discord.AllowedMentions.none())
            while edit.again:
                edit.again = False
                view = relabelled(message, self.custom_id, like_label(await likes.count(job.id)))
                await interaction.edit_original_response(view=view, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException:
            if not interaction.response.is_done():
                raise  # the press itself went unanswered: the one error path says so
            log.warning("could not bring the like count of job %d up to date", job.id, exc_info=True)
        finally:
            del _editing[message.id]


async def relabel_post(bot: Chorus, job: Job) -> None:
    """Bring the count on a song post's Like up to date after a like made elsewhere (a listening party's now-playing
    message): the post is read and edited in place, its text and files kept. An edit already under way for the post
    (a press on it) is asked to go once more instead, so the two never race. Best effort: the like itself counted."""
    if job.delivered_channel_id is None or job.delivered_message_id is None:
        return
    if (under_way := _editing.get(job.delivered_message_id)) is not None:
        under_way.again = True
        return
    _editing[job.delivered_message_id] = edit = _Edit(again=True)
    custom_id = LikeButton(job.id).custom_id
    try:
        message = await bot.get_partial_messageable(job.delivered_channel_id).fetch_message(job.delivered_message_id)
        while edit.again:
            edit.again = False
            label = like_label(await bot.community.likes.count(job.id))
            message = await message.edit(view=relabelled(message, custom_id, label),
                                         allowed_mentions=discord.AllowedMentions.none())
    except Exception:  # Discord refused, or the store could not count (a restart): the post shows it next time
        log.warning("could not show the new like count on the post of job %d", job.id, exc_info=True)
    finally:
        del _editing[job.delivered_message_id]


def relabelled(message: discord.Message, custom_id: str, label: str) -> discord.ui.LayoutView:
    """The message's own components with one button's label changed (files keep pointing at its attachments)."""
    view = post_view(message)
    for child in view.walk_children():
        if isinstance(child, discord.ui.Button) and child.custom_id == custom_id:
            child.label = label
    return view
