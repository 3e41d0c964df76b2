"""Posts of the community features, in Components V2 like the song post: battle face-offs and results, challenge
votes and results, song of the day, and a jam's panel. Pure: records in, views out. Member text never pings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import discord

from bot.core.community.battles import BattleResult, Contender
from bot.core.community.challenges import Entry, Standing
from bot.core.community.songs import title_of
from bot.store import Battle, Challenge, ChartRow, Jam, Job
from bot.ui import render
from bot.ui.items.battle_vote import BattleVoteButton
from bot.ui.items.challenge_vote import PER_MENU, ChallengeVoteSelect
from bot.ui.items.jam_buttons import JamLineButton, JamSongButton, plain
from bot.ui.items.like_button import LikeButton

Container = discord.ui.Container[discord.ui.LayoutView]
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
MAX_VOTE_MENUS = 4  # 100 entries; more than that are listed but not offered (a V2 post has at most 40 components)


def _view(container: Container) -> discord.ui.LayoutView:
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(container)
    return view


def song_link(job: Job) -> str:
    """A jump link to the song's post, or its job number when it has none."""
    if job.delivered_channel_id and job.delivered_message_id:
        return f"[song #{job.id}]({render.jump_url(job.guild_id, job.delivered_channel_id, job.delivered_message_id)})"
    return f"song #{job.id}"


def _side(side: Contender) -> discord.ui.Item[Any]:
    clip = side.clip
    line = f"**{side.side.upper()} · {side.name}** · ⏱ {render.duration(clip.duration)}"
    audio = render.safe_url(clip.audio_url)
    if audio:
        line += f" · [▶ Listen]({audio})"
    line += f" · {song_link(side.job)}"
    if clip.tags:
        line += f"\n-# {plain(render.shorten(clip.tags, 150))}"
    text: discord.ui.TextDisplay[discord.ui.LayoutView] = discord.ui.TextDisplay(line)
    cover = render.safe_url(clip.image_url) or render.safe_url(clip.image_large_url)
    if cover is None:
        return text
    return discord.ui.Section(text, accessory=discord.ui.Thumbnail[discord.ui.LayoutView](cover))


def face_off(
    battle: Battle, sides: tuple[Contender, Contender], closes_at: float, *, result: BattleResult | None = None
) -> discord.ui.LayoutView:
    """The battle's face-off: the prompt, both sides to listen to, and the vote buttons; once it has a `result`, the
    votes instead of the buttons."""
    container: Container = discord.ui.Container(accent_colour=discord.Colour.orange())
    what = "two takes of one song" if battle.mode == "takes" else "Suno against Udio on one prompt"
    container.add_item(discord.ui.TextDisplay(
        f"### ⚔️ Song battle #{battle.id}\n>>> {plain(render.shorten(battle.prompt, 500))}"
    ))
    container.add_item(discord.ui.TextDisplay(f"-# Started by <@{battle.starter_id}>: {what}."))
    for side in sides:
        container.add_item(_side(side))
    if result is not None and result.votes is not None:
        a, b = result.votes
        verdict = "a tie" if result.winner == "tie" else f"{(result.winner or '').upper()} wins"
        container.add_item(discord.ui.TextDisplay(f"Voting closed: **A** {a} · **B** {b}, {verdict}."))
        return _view(container)
    container.add_item(discord.ui.TextDisplay(
        f"Voting closes <t:{int(closes_at)}:R>. One vote each (press the other side to change it); "
        "the counts stay hidden until the end."
    ))
    container.add_item(discord.ui.ActionRow(BattleVoteButton(battle.id, 1, sides[0].name),
                                            BattleVoteButton(battle.id, 2, sides[1].name)))
    return _view(container)


def battle_result(
    battle: Battle, sides: tuple[Contender, Contender] | None, result: BattleResult
) -> discord.ui.LayoutView:
    """How a battle ended: the winner and the votes (mentioning the starter), or why it was called off."""
    if result.winner is None or result.votes is None:
        container: Container = discord.ui.Container(accent_colour=render.COLOURS["bad"])
        container.add_item(discord.ui.TextDisplay(
            f"### ⚔️ Battle #{battle.id} is called off\n-# {plain(result.note or 'no result')}."
        ))
        return _view(container)
    votes = dict(zip("ab", result.votes, strict=True))
    names: dict[str, str] = {side.side: side.name for side in sides} if sides else {"a": "A", "b": "B"}

    def count(side: str) -> str:
        return f"{votes[side]} vote" + ("" if votes[side] == 1 else "s")

    if result.winner == "tie":
        heading = f"### 🤝 Battle #{battle.id}: a tie, {votes['a']} to {votes['b']}"
    else:
        loser = "b" if result.winner == "a" else "a"
        heading = (f"### 🏆 Battle #{battle.id}: {result.winner.upper()} · {names[result.winner]} wins!\n"
                   f"**{names[result.winner]}** {count(result.winner)} · {names[loser]} {count(loser)}")
    container = discord.ui.Container(accent_colour=render.COLOURS["ok"])
    container.add_item(discord.ui.TextDisplay(
        f"{heading}\n>>> {plain(render.shorten(battle.prompt, 300))}"
    ))
    links = " · ".join(f"{side.side.upper()}: {song_link(side.job)}" for side in sides) if sides else ""
    container.add_item(discord.ui.TextDisplay(f"<@{battle.starter_id}>, your battle is over." +
                                              (f"\n-# {links}" if links else "")))
    return _view(container)


def challenge_voting(
    challenge: Challenge, entries: list[Entry], ends_at: float, *, closed: bool = False
) -> discord.ui.LayoutView:
    """The entries of a challenge, with links, and the vote menu(s) (none once `closed`)."""
    container: Container = discord.ui.Container(accent_colour=discord.Colour.gold())
    how = (f"Listen, then pick your favourite below: one vote each (you can change it), never for your own. Votes "
           f"are anonymous and the counts stay hidden until the results <t:{int(ends_at)}:R>.")
    if closed:
        how = "Voting is closed: the results are in the reply below."
    container.add_item(discord.ui.TextDisplay(
        f"### 🗳️ Vote: {plain(challenge.theme)}\n{len(entries)} entries. {how}"
    ))
    lines = [f"**{n}.** {plain(render.shorten(title_of(e.job), 80))} by <@{e.entry.user_id}> · {song_link(e.job)}"
             for n, e in enumerate(entries, 1)]
    container.add_item(discord.ui.TextDisplay(render.shorten("\n".join(lines), 3000)))
    pages = 0 if closed else min((len(entries) + PER_MENU - 1) // PER_MENU, MAX_VOTE_MENUS)
    for page in range(pages):
        chunk = entries[page * PER_MENU:(page + 1) * PER_MENU]
        options = [discord.SelectOption(label=render.shorten(f"{page * PER_MENU + n}. {title_of(e.job)}", 100),
                                        value=str(e.entry.user_id), description=f"song #{e.job.id}")
                   for n, e in enumerate(chunk, 1)]
        container.add_item(discord.ui.ActionRow(ChallengeVoteSelect(challenge.id, page, options)))
    return _view(container)


def challenge_results(challenge: Challenge, board: list[Standing]) -> discord.ui.LayoutView:
    """The results and leaderboard of a challenge (nobody is pinged)."""
    container: Container = discord.ui.Container(accent_colour=discord.Colour.gold())
    if not board:
        container.add_item(discord.ui.TextDisplay(
            f"### 🏁 Challenge over: {plain(challenge.theme)}\nNobody entered this time."
        ))
        return _view(container)
    lines = []
    for standing in board[:20]:
        entry = standing.entry
        votes = f"{standing.votes} vote" + ("" if standing.votes == 1 else "s")
        lines.append(f"{MEDALS.get(standing.place, f'**{standing.place}.**')} "
                     f"{plain(render.shorten(title_of(entry.job), 80))} by <@{entry.entry.user_id}> · {votes} · "
                     f"{song_link(entry.job)}")
    winners = [s for s in board if s.place == 1]
    if len(board) == 1:
        crown = f"<@{board[0].entry.entry.user_id}> wins unopposed (the only entry)."
    elif len(winners) > 1:
        crown = "A tie for first place: " + ", ".join(f"<@{s.entry.entry.user_id}>" for s in winners) + "!"
    else:
        crown = f"<@{winners[0].entry.entry.user_id}> wins!"
    container.add_item(discord.ui.TextDisplay(
        f"### 🏆 Challenge results: {plain(challenge.theme)}\n{render.shorten(crown, 300)}"
    ))
    container.add_item(discord.ui.TextDisplay(render.shorten("\n".join(lines), 3500)))
    return _view(container)


def song_of_day(day: float, song: ChartRow) -> discord.ui.LayoutView:
    """Yesterday's most liked song, featured (with its Like button, which counts on the song itself)."""
    job = song.job
    date = datetime.fromtimestamp(day, UTC).strftime("%A %d %B %Y")
    container: Container = discord.ui.Container(accent_colour=discord.Colour.gold())
    likes = f"{song.likes} like" + ("" if song.likes == 1 else "s")
    container.add_item(discord.ui.TextDisplay(
        f"### 🌟 Song of the day · {date}\n**{plain(render.shorten(title_of(job), 150))}** by <@{job.user_id}> · "
        f"{render.model_label(job)} · ❤️ {likes} · {song_link(job)}"
    ))
    container.add_item(discord.ui.ActionRow(LikeButton(job.id, song.likes)))
    return _view(container)


def jam_panel(jam: Jam) -> discord.ui.LayoutView:
    """The panel at the top of a jam thread: how it works, and its two buttons."""
    container: Container = discord.ui.Container(accent_colour=discord.Colour.blurple())
    container.add_item(discord.ui.TextDisplay(
        f"### 🎤 Jam: {plain(jam.theme)}\nPress **Add a line** to write a lyric line (as many as you like). When the "
        f"song is ready, <@{jam.starter_id}> or a moderator presses **Make it a song**: Suno sings the lines in "
        "order, and the song credits everyone who wrote one."
    ))
    container.add_item(discord.ui.ActionRow(JamLineButton(jam.id), JamSongButton(jam.id)))
    return _view(container)
