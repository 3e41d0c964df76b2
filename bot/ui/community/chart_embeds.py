"""/top and /profile as embeds, and /challenge status. Member text and mentions inside embeds never ping."""

from __future__ import annotations

import discord

from bot.core.community.challenges import Entry
from bot.core.community.rankings import Profile
from bot.core.community.songs import title_of
from bot.domain import Challenge, ChartRow
from bot.ui import render
from bot.ui.community.posts import song_link
from bot.ui.items.jam_buttons import plain

PERIOD_NAMES = {"week": "this week", "month": "the last 30 days", "all": "all time"}


def chart(rows: list[ChartRow], *, period: str, provider: str | None) -> discord.Embed:
    """The server's most liked songs, with jump links."""
    scope = PERIOD_NAMES.get(period, period) + (f" · {provider.capitalize()} only" if provider else "")
    embed = discord.Embed(title=f"🏆 Top songs · {scope}", colour=discord.Colour.gold())
    if not rows:
        embed.description = "No liked songs yet. Press ❤️ on a song you enjoy!"
        return embed
    lines = [
        f"**{n}.** ❤️ {row.likes} · {plain(render.shorten(title_of(row.job), 60))} by <@{row.job.user_id}> · "
        f"{render.model_label(row.job)} · {song_link(row.job)}"
        for n, row in enumerate(rows, 1)
    ]
    embed.description = render.shorten("\n".join(lines), render.EMBED_DESCRIPTION)
    return embed


def profile(found: Profile) -> discord.Embed:
    """A member's songs, likes and favourite styles."""
    stats = found.stats
    embed = discord.Embed(title="🎧 Profile", colour=discord.Colour.blurple())
    embed.description = f"<@{found.user_id}>"
    embed.add_field(name="Songs made", value=str(stats.songs))
    embed.add_field(name="Likes received", value=f"❤️ {stats.likes_received}")
    embed.add_field(name="Likes given", value=str(stats.likes_given))
    styles = ", ".join(plain(style) for style in found.styles) or "none yet"
    embed.add_field(name="Favourite styles", value=render.shorten(styles, render.EMBED_FIELD_VALUE), inline=False)
    if found.best:
        best = "\n".join(f"❤️ {row.likes} · {plain(render.shorten(title_of(row.job), 60))} · {song_link(row.job)}"
                         for row in found.best)
        embed.add_field(name="Most liked", value=render.shorten(best, render.EMBED_FIELD_VALUE), inline=False)
    return embed


def challenge_status(challenge: Challenge | None, entries: list[Entry], user_id: int) -> discord.Embed:
    """The running (or latest) challenge: theme, phase and its end, entries, and the member's own entry."""
    embed = discord.Embed(title="🎯 Challenge", colour=discord.Colour.gold())
    if challenge is None:
        embed.description = "No challenge yet. Admins start one with `/challenge start`."
        return embed
    phase = {
        "open": f"Entries open, until <t:{int(challenge.submit_ends_at)}:f> (<t:{int(challenge.submit_ends_at)}:R>)",
        "voting": f"Voting, until <t:{int(challenge.vote_ends_at or 0)}:f> (<t:{int(challenge.vote_ends_at or 0)}:R>)",
        "closed": "Over: the results are posted",
        "cancelled": "Cancelled",
    }[challenge.state]
    count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
    embed.description = f"**{plain(challenge.theme)}**\n{phase}\n{count}"
    mine = next((e for e in entries if e.entry.user_id == user_id), None)
    if mine is not None:
        embed.add_field(name="Your entry", value=f"{plain(title_of(mine.job))} · {song_link(mine.job)}")
    elif challenge.state == "open":
        embed.add_field(name="Your entry", value="none yet: make a song, then `/challenge submit job:<number>`")
    return embed
