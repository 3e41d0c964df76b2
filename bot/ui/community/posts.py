"""Posts of the community features, in Components V2 like the song post: battles (on the song's own post, or a
face-off that plays both songs) and their one-line results, challenge votes that play the entries and their
results, song of the day, and a jam's panel. Records (or the post being edited) in, views out. Member text never
pings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import discord

from bot.cometapi import Clip
from bot.core.community.battles import BattleResult, Contender
from bot.core.community.challenges import Entry, Standing
from bot.core.community.songs import takes, title_of
from bot.core.wording import plural
from bot.domain import Battle, Challenge, ChartRow, Jam, Job
from bot.ui import render
from bot.ui.items.battle_vote import BattleVoteButton
from bot.ui.items.challenge_vote import PER_MENU, ChallengeVoteSelect
from bot.ui.items.jam_buttons import JamLineButton, JamSongButton, plain
from bot.ui.items.jam_cuts import JamCutButton
from bot.ui.items.like_button import LikeButton
from bot.ui.post_edits import post_view

Container = discord.ui.Container[discord.ui.LayoutView]
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
MAX_VOTE_MENUS = 4  # 100 entries; more than that are listed but not offered (a V2 post has at most 40 components)
# The text of a Components V2 message (the vote post keeps some room for closing it with a longer line).
TEXT_LIMIT = 3900
# Entries that play on a vote post (Discord takes at most 10 files a message; each is 2 of its 40 components).
MAX_PLAYERS = 10
# The custom_id prefixes of the vote items, found again to take them off a post when voting closes.
BATTLE_VOTES = "chorus:battle:"
CHALLENGE_VOTES = "chorus:challenge:"
# Starts the line that says when voting closes, on every post members vote on (it says the outcome afterwards).
VOTING_CLOSES = "Voting closes <t:"


def _view(container: Container) -> discord.ui.LayoutView:
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(container)
    return view


def song_link(job: Job) -> str:
    """A jump link to the song's post, or its job number when it has none."""
    if job.delivered_channel_id and job.delivered_message_id:
        return f"[song #{job.id}]({render.jump_url(job.guild_id, job.delivered_channel_id, job.delivered_message_id)})"
    return f"song #{job.id}"


def side_name(side: str, name: str) -> str:
    """`Take A` (the name already says the letter), or `A · Suno`: a side is never called "A · Take A"."""
    letter = side.upper()
    return name if name.endswith(f" {letter}") else f"{letter} · {name}"


def side_filename(side: Contender) -> str:
    """The file a side plays from on a face-off: `City Lights - Suno.mp3`, `City Lights - Take A.mp3`."""
    return f"{render.file_stem(title_of(side.job))} - {render.file_stem(side.name, 'side')}.mp3"


def _side(side: Contender, attached: str | None) -> list[discord.ui.Item[Any]]:
    """One side: its name, length, style and cover, then its audio playing (a link when it is not attached)."""
    clip = side.clip
    line = f"**{side_name(side.side, side.name)}** · ⏱ {render.duration(clip.duration)}"
    audio = render.safe_url(clip.audio_url)
    if audio and attached is None:
        line += f" · [▶ Listen]({audio})"
    line += f" · {song_link(side.job)}"
    if clip.tags:
        line += f"\n-# {plain(render.shorten(clip.tags, 150))}"
    text: discord.ui.TextDisplay[discord.ui.LayoutView] = discord.ui.TextDisplay(line)
    cover = render.safe_url(clip.image_url) or render.safe_url(clip.image_large_url)
    thumbnail = discord.ui.Thumbnail[discord.ui.LayoutView](cover) if cover else None
    items: list[discord.ui.Item[Any]] = [text if thumbnail is None else discord.ui.Section(text, accessory=thumbnail)]
    if attached is not None:
        items.append(discord.ui.File(f"attachment://{attached}"))
    return items


def _voting_line(closes_at: float) -> str:
    return (f"{VOTING_CLOSES}{int(closes_at)}:R>. One vote each (press the other side to change it); the counts stay "
            "hidden until the end.")


def _vote_row(battle: Battle, sides: tuple[Contender, Contender]) -> discord.ui.ActionRow[Any]:
    return discord.ui.ActionRow(BattleVoteButton(battle.id, 1, sides[0].name),
                                BattleVoteButton(battle.id, 2, sides[1].name))


def face_off(
    battle: Battle, sides: tuple[Contender, Contender], closes_at: float, *, attached: Mapping[str, str] | None = None
) -> discord.ui.LayoutView:
    """A face-off post of its own (Suno against Udio, whose songs are two posts): the prompt, both sides playing
    (`attached` maps a side's clip id to its attached file; the others get a link), and the vote buttons."""
    attached = attached or {}
    container: Container = discord.ui.Container(accent_colour=discord.Colour.orange())
    what = "two takes of one song" if battle.mode == "takes" else "Suno against Udio on one prompt"
    container.add_item(discord.ui.TextDisplay(
        f"### ⚔️ Song battle #{battle.id}\n>>> {plain(render.shorten(battle.prompt, 500))}"
    ))
    container.add_item(discord.ui.TextDisplay(f"-# Started by <@{battle.starter_id}>: {what}."))
    for side in sides:
        for item in _side(side, attached.get(side.clip.id)):
            container.add_item(item)
    container.add_item(discord.ui.TextDisplay(_voting_line(closes_at)))
    container.add_item(_vote_row(battle, sides))
    return _view(container)


def battle_on_song(
    song: discord.Message, battle: Battle, sides: tuple[Contender, Contender], closes_at: float
) -> discord.ui.LayoutView:
    """A battle of two takes on the song's own post, where both already play: the post as it is, with the battle's
    line and its vote buttons before the song's own buttons."""
    view = post_view(song)
    mine = f"{BATTLE_VOTES}{battle.id}:"
    if any(str(getattr(item, "custom_id", "")).startswith(mine) for item in view.walk_children()):
        return view  # opened on it already (the opening is tried again after a crash): once is enough
    heading = f"**⚔️ Song battle #{battle.id}** · {sides[0].name} against {sides[1].name}"
    _insert_before_actions(view, [discord.ui.TextDisplay(f"{heading}\n{_voting_line(closes_at)}"),
                                  _vote_row(battle, sides)])
    return view


def battle_closed(
    post: discord.Message, sides: tuple[Contender, Contender] | None, result: BattleResult
) -> discord.ui.LayoutView:
    """A battle's post once it ended: the same post (its songs still play), its vote buttons traded for the votes,
    or for why the battle was called off."""
    if result.votes is None:
        outcome = f"Called off: {plain(result.note or 'no result')}."
    else:
        names = [side.name for side in sides] if sides else ["A", "B"]
        winner = "a tie" if result.winner == "tie" else f"{names[0 if result.winner == 'a' else 1]} wins"
        outcome = f"Voting closed: **{names[0]}** {result.votes[0]} · **{names[1]}** {result.votes[1]}, {winner}."
    return closed_post(post, votes=BATTLE_VOTES, outcome=outcome)


def battle_result(
    battle: Battle, sides: tuple[Contender, Contender] | None, result: BattleResult
) -> discord.ui.LayoutView:
    """How a battle ended, in one short line replying to its post (where the votes now show): the winner and the
    votes, mentioning the starter; or why it was called off."""
    if result.winner is None or result.votes is None:
        line = f"⚔️ Battle #{battle.id} is called off: {plain(result.note or 'no result')}."
    elif result.winner == "tie":
        line = f"🤝 <@{battle.starter_id}> Battle #{battle.id} is over: a tie, {result.votes[0]} to {result.votes[1]}."
    else:
        won, lost = result.votes if result.winner == "a" else result.votes[::-1]
        name = side_name(result.winner, next((s.name for s in sides or () if s.side == result.winner),
                                             result.winner.upper()))
        line = f"🏆 <@{battle.starter_id}> Battle #{battle.id} is over: {name} wins! {plural(won, 'vote')} to {lost}."
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(discord.ui.TextDisplay(line))
    return view


def entry_filename(number: int, entry: Entry) -> str:
    """The file an entry plays from on the vote post: `2. Sea Shanty.mp3`."""
    return f"{number}. {render.file_stem(title_of(entry.job))}.mp3"


def entry_track(entry: Entry) -> Clip | None:
    """What an entry plays on the vote post: its song's first take."""
    clips = takes(entry.job)
    return clips[0] if clips else None


def challenge_voting(
    challenge: Challenge, entries: list[Entry], ends_at: float, *, attached: Mapping[str, str] | None = None
) -> discord.ui.LayoutView:
    """The entries of a challenge and the vote menu(s). The entries whose song is attached (`attached` maps a clip
    id to its file) play right there, in order; the rest are listed below with a link to play."""
    attached = attached or {}
    container: Container = discord.ui.Container(accent_colour=discord.Colour.gold())
    container.add_item(discord.ui.TextDisplay(
        f"### 🗳️ Vote: {plain(challenge.theme)}\n{plural(len(entries), 'entry')}. Listen, then pick your favourite "
        "below: one vote each (you can change it), never for your own."
    ))
    rest, playing = [], 0
    for number, entry in enumerate(entries, 1):
        clip = entry_track(entry)
        filename = attached.get(clip.id) if clip is not None else None
        line = (f"**{number}.** {plain(render.shorten(title_of(entry.job), 80))} by <@{entry.entry.user_id}>"
                + (f" · ⏱ {render.duration(clip.duration)}" if clip is not None else ""))
        if filename is not None and playing < MAX_PLAYERS:
            playing += 1
            container.add_item(discord.ui.TextDisplay(f"{line} · {song_link(entry.job)}"))
            container.add_item(discord.ui.File(f"attachment://{filename}"))
            continue
        audio = render.safe_url(clip.audio_url) if clip is not None else None
        rest.append(line + (f" · [▶ Listen]({audio})" if audio else "") + f" · {song_link(entry.job)}")
    closing = f"{VOTING_CLOSES}{int(ends_at)}:R>. Votes are anonymous, and the counts stay hidden until the results."
    if rest:
        # The list takes what the post's 4,000 characters of text leave (the closing line is kept whole).
        used = sum(len(item.content) for item in container.walk_children() if isinstance(item, discord.ui.TextDisplay))
        room = TEXT_LIMIT - used - len(closing)
        container.add_item(discord.ui.TextDisplay(render.shorten("\n".join(rest), room)))
    container.add_item(discord.ui.TextDisplay(closing))
    pages = min((len(entries) + PER_MENU - 1) // PER_MENU, MAX_VOTE_MENUS)
    for page in range(pages):
        chunk = entries[page * PER_MENU:(page + 1) * PER_MENU]
        options = [discord.SelectOption(label=render.shorten(f"{page * PER_MENU + n}. {title_of(e.job)}", 100),
                                        value=str(e.entry.user_id))
                   for n, e in enumerate(chunk, 1)]
        container.add_item(discord.ui.ActionRow(ChallengeVoteSelect(challenge.id, page, options)))
    return _view(container)


def voting_closed(post: discord.Message) -> discord.ui.LayoutView:
    """A challenge's vote post once voting ended: the same post (its entries still play), without its menus."""
    return closed_post(post, votes=CHALLENGE_VOTES, outcome="Voting is closed: the results are in the reply below.")


# ---- editing a post in place -----------------------------------------------------------------------------------


def closed_post(post: discord.Message, *, votes: str, outcome: str) -> discord.ui.LayoutView:
    """The post without the rows of its vote items (custom_ids starting with `votes`); the line saying when voting
    closes ends with `outcome` instead (added before the post's other buttons when it has no such line)."""
    view = post_view(post)
    holders: list[discord.ui.LayoutView | Container] = [view]
    holders += [item for item in view.walk_children() if isinstance(item, discord.ui.Container)]
    for holder in holders:
        for row in [item for item in holder.children if isinstance(item, discord.ui.ActionRow)]:
            if any(str(getattr(child, "custom_id", "")).startswith(votes) for child in row.children):
                holder.remove_item(row)
    said = False
    for item in view.walk_children():
        if isinstance(item, discord.ui.TextDisplay) and VOTING_CLOSES in item.content:
            item.content = item.content[:item.content.index(VOTING_CLOSES)] + outcome
            said = True
    if not said:
        _insert_before_actions(view, [discord.ui.TextDisplay(outcome)])
    return view


def _insert_before_actions(view: discord.ui.LayoutView, items: list[discord.ui.Item[Any]]) -> None:
    """Put `items` in the post's container (its first), before its first row of buttons."""
    container = next((item for item in view.children if isinstance(item, discord.ui.Container)), None)
    holder: discord.ui.LayoutView | Container = container if container is not None else view
    children = list(holder.children)
    at = next((n for n, item in enumerate(children) if isinstance(item, discord.ui.ActionRow)), len(children))
    holder.clear_items()
    for item in [*children[:at], *items, *children[at:]]:
        holder.add_item(item)


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
        # A medal is for votes won: a place reached with none is only a number (no bronze for 0 votes).
        medal = MEDALS.get(standing.place) if standing.votes else None
        lines.append(f"{medal or f'**{standing.place}.**'} "
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
    """The panel at the top of a jam thread: how it works, and its three buttons."""
    container: Container = discord.ui.Container(accent_colour=discord.Colour.blurple())
    container.add_item(discord.ui.TextDisplay(
        f"### 🎤 Jam: {plain(jam.theme)}\nPress **Add a line** to write a lyric line (as many as fit in a song). When "
        f"the song is ready, <@{jam.starter_id}> or a moderator presses **Make it a song**: Suno sings the lines in "
        "order, and the song credits everyone who wrote one. They may also **Remove a line**."
    ))
    container.add_item(discord.ui.ActionRow(JamLineButton(jam.id), JamCutButton(jam.id), JamSongButton(jam.id)))
    return _view(container)
