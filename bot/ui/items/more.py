"""The "More" menu of a post: per take lyrics, full-size cover, video and whole song; Info; Delete.

One select instead of a wall of buttons. Everything is private to whoever picks it, except Whole song (a new
job of their own) and Delete (the requester or moderators only, and the option says so).
"""

from __future__ import annotations

import discord

from bot.core.jobs import concat_job
from bot.store import Job
from bot.ui import render
from bot.ui.items.item_base import ChorusSelect, bot_of, may_act
from bot.ui.items.song_buttons import delete_post, open_extend_form, send_lyrics, take_letter, take_of
from bot.ui.items.take_tools import ToolsSelect
from bot.ui.launcher import start_job
from bot.ui.replies import safe_reply

MAX_OPTIONS = 25  # Discord's limit per select
# A row holds at most 5 buttons: Like, Again and Edit leave room for two Extends on the post (bot.ui.post); a
# third take is extended from this menu.
ROW_EXTENDS = 2


class MoreSelect(ChorusSelect, action="more"):
    """The post's menu of extras; the picked value says what (`lyrics:1`, `cover:2`, `info`, `delete`, …)."""

    def __init__(self, job_id: int, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(job_id, placeholder="More: lyrics, cover, video, info…", options=options)

    @classmethod
    def for_job(cls, job: Job) -> MoreSelect:
        """The menu with the options this job's post offers."""
        return cls(job.id, options=options_for(job))

    async def on_job(self, interaction: discord.Interaction, job: Job) -> None:
        """Do what was picked."""
        what, _, take_text = self.value.partition(":")
        take = int(take_text) if take_text.isdigit() else 0
        if what == "info":
            await interaction.response.send_message(embed=render.info(job), ephemeral=True)
        elif what == "delete":
            if not may_act(interaction, job):
                await safe_reply(interaction, f"Only <@{job.user_id}> (or a moderator) can delete this post.")
                return
            await delete_post(interaction, job)
        elif what == "lyrics" and job.action == "LYRICS":
            result = render.result_of(job)
            lyrics = result.lyrics if result is not None else None
            if lyrics is None:
                await safe_reply(interaction, "Those lyrics are not ready yet.")
                return
            await send_lyrics(interaction, lyrics.title, lyrics.text)
        else:
            await self._take_extra(interaction, job, what, take)

    async def _take_extra(self, interaction: discord.Interaction, job: Job, what: str, take: int) -> None:
        clip = take_of(job, take)
        if clip is None:
            await safe_reply(interaction, "That take is not available.")
            return
        name = f"take {take_letter(take)}"
        if what == "lyrics":
            await send_lyrics(interaction, f"{clip.title or 'Untitled'} ({name})", clip.lyrics or "(instrumental)")
        elif what == "cover" and (url := render.safe_url(clip.image_large_url) or render.safe_url(clip.image_url)):
            cover = discord.Embed(title=f"{clip.title or 'Untitled'} · cover of {name}", url=url)
            await interaction.response.send_message(embed=cover.set_image(url=url), ephemeral=True)
        elif what == "video" and (url := render.safe_url(clip.video_url)):
            await safe_reply(interaction, f"🎬 [Video of {name}]({url})")
        elif what == "extend":
            await open_extend_form(interaction, job, take)
        elif what == "whole":
            await start_job(interaction, bot_of(interaction), lambda who: concat_job(job, clip.id, who))
        elif what == "tools":
            menu = discord.ui.View(timeout=None).add_item(ToolsSelect.for_take(job, take))
            # CometAPI publishes no price for these routes (shared/api §4.3): never let a member think they are free.
            await safe_reply(interaction, f"🧰 Tools for {name} of “{clip.title or 'Untitled'}”:\n-# CometAPI may "
                             "charge the server for each of these; its prices for them are not published.", view=menu)
        else:
            await safe_reply(interaction, "That is not available for this song.")


def options_for(job: Job) -> list[discord.SelectOption]:
    """What the menu offers for this job: only what exists (a take without video offers no video)."""
    result = render.result_of(job)
    options: list[discord.SelectOption] = []
    if job.action == "LYRICS":
        options.append(discord.SelectOption(label="Lyrics (all of them)", value="lyrics", emoji="📝"))
    elif job.kind != "stems":
        for take, clip in enumerate(result.complete_clips if result else (), 1):
            name = take_letter(take)
            if clip.lyrics:
                options.append(discord.SelectOption(label=f"Lyrics {name}", value=f"lyrics:{take}", emoji="📝"))
            if render.safe_url(clip.image_large_url) or render.safe_url(clip.image_url):
                options.append(discord.SelectOption(label=f"Cover {name}", value=f"cover:{take}", emoji="🖼️"))
            if render.safe_url(clip.video_url):
                options.append(discord.SelectOption(label=f"Video {name}", value=f"video:{take}", emoji="🎬"))
            if job.provider == "suno" and job.kind != "stems":
                options.append(discord.SelectOption(
                    label=f"Tools for take {name}", value=f"tools:{take}", emoji="🧰",
                    description="WAV, video, synced lyrics, MIDI, stems, persona",
                ))
            if take > ROW_EXTENDS and job.provider == "suno" and job.kind != "concat":
                options.append(discord.SelectOption(label=f"Extend {name}", value=f"extend:{take}", emoji="⏩"))
            if job.kind == "extend" and job.provider == "suno":
                options.append(discord.SelectOption(
                    label=f"Whole song {name}", value=f"whole:{take}", emoji="🧩",
                    description="Join this take with the parts it extends (a new job of yours)",
                ))
    options.append(discord.SelectOption(label="Info", value="info", emoji="ℹ️",  # noqa: RUF001 - the emoji
                                        description="Prompt, style, model, lengths, a command to copy"))
    options.append(discord.SelectOption(label="Delete (asker or moderators)", value="delete", emoji="🗑️"))
    return options[-MAX_OPTIONS:] if len(options) > MAX_OPTIONS else options
