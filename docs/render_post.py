"""Draw what a member sees, from the bot's own payloads: `python docs/render_post.py [out.png [party.png]]`.

It runs the real bot against the fake Discord and the CometAPI simulator (all on 127.0.0.1, nothing is spent),
asks for a song, captures the status card while the song is made and the post when it is done, exactly as the
bot sent them, and draws both in Discord's dark theme with Pillow. The README's picture is its output, so it
stays true as the post changes. It prints how tall the song's post is (from its author line to the bottom of its
container), the figure the post is held to (at most 400 px for two takes with their lyrics); a test runs it too
(tests/test_docs_picture.py).

It also draws a listening party's now-playing message (docs/now-playing.png): the bot joins a voice channel of the fake
Discord's voice server and plays a song (a tone ffmpeg makes; without ffmpeg that picture is skipped), and the message
is drawn as it stood a couple of seconds in.

Sizes follow Discord's desktop client roughly (15 px text, 32 px buttons, a 72 px thumbnail), and attached files
are drawn as Discord's collapsed file cards: an MP3 as its player, a text file as its name over its first line.
"""

from __future__ import annotations

import asyncio
import io
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.listening import ListeningConfig  # noqa: E402
from bot.simulator import ManualClock, SimulatorServer, Timings  # noqa: E402
from tests.conftest import API_KEY  # noqa: E402
from tests.e2e import wait_delivery  # noqa: E402
from tests.fakes.discord import FakeDiscord  # noqa: E402
from tests.fakes.discord.limits import walk_all  # noqa: E402
from tests.fakes.voice import FakeVoice, ffmpeg, tone_mp3  # noqa: E402
from tests.harness import BotHarness  # noqa: E402

WIDTH, PAD = 760, 16
BG, PANEL, TEXT, MUTED, LINK = "#313338", "#2b2d31", "#dbdee1", "#949ba4", "#00a8fc"
MENTION_BG, MENTION_TEXT = "#3c4270", "#c9cdfb"
LINK_OPEN, LINK_CLOSE = "\u2039", "\u203a"  # marks a link's text while a line is laid out
BUTTON = {1: "#5865f2", 2: "#4e5058", 3: "#248046", 4: "#da373c"}
# Emoji the drawing font lacks, as symbols it has.
SYMBOLS = {"🎶": "♫", "⏱": "◷", "⏩": "»", "🔁": "↻", "✏️": "✎", "✖️": "✕", "⏳": "◔", "🕒": "◔", "🎧": "♪",
           "✅": "✓", "❌": "✕", "🚫": "⊘", "✍️": "✎", "🎵": "♪", "📝": "", "🖼️": "", "🎬": "", "ℹ️": "", "🗑️": "",  # noqa: RUF001
           "⏭️": "»", "⏸️": "‖", "⏹️": "■", "▶️": "▶", "🔊": ""}


def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu when the machine has it (Debian does), else Pillow's own scalable font."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu"):
        if (Path(folder) / name).exists():
            return ImageFont.truetype(str(Path(folder) / name), size)
    fallback = ImageFont.load_default(size)
    assert isinstance(fallback, ImageFont.FreeTypeFont)  # Pillow ≥ 10.1 with FreeType
    return fallback


def plain(text: str, names: dict[str, str]) -> str:
    """Discord markup as a member reads it: mentions by name, emoji the font has, escapes dropped."""
    text = re.sub(r"<@!?(\d+)>", lambda m: "@" + names.get(m.group(1), "member"), text)
    text = re.sub(r"<#(\d+)>", lambda m: f"{LINK_OPEN}#{names.get('#' + m.group(1), 'channel')}{LINK_CLOSE}", text)
    text = re.sub(r"<t:(\d+):R>", "in 2 minutes", text)
    for emoji, symbol in SYMBOLS.items():
        text = text.replace(emoji, symbol)
    text = text.replace("\\", "").replace("\ufe0f", "")
    return "".join(ch for ch in text if ord(ch) < 0x10000)


class Canvas:
    """A tall drawing that grows downwards; `y` is where the next thing goes."""

    def __init__(self) -> None:
        self.image = Image.new("RGB", (WIDTH, 4000), BG)
        self.draw = ImageDraw.Draw(self.image)
        self.y = PAD

    def wrap(self, text: str, face: Any, width: int) -> list[str]:
        lines: list[str] = []
        for paragraph in text.split("\n"):
            words, line = paragraph.split(" "), ""
            for word in words:
                candidate = f"{line} {word}".strip()
                if self.draw.textlength(candidate, font=face) <= width or not line:
                    line = candidate
                else:
                    lines.append(line)
                    line = word
            lines.append(line)
        return lines

    def markdown(self, text: str, x: int, width: int, names: dict[str, str]) -> None:
        """Headings, small print, bold, links, quotes and mentions, the way Discord shows them."""
        for raw in text.split("\n"):
            face, colour, indent = font(15), TEXT, 0
            if raw.startswith("### "):
                face, raw = font(19, bold=True), raw[4:]
            elif raw.startswith("-# "):
                face, colour, raw = font(12), MUTED, raw[3:]
            elif raw.startswith(">>> ") or raw.startswith("> "):
                raw = raw.split(" ", 1)[1]
                indent = 12
            line = plain(re.sub(r"\[([^\]]+)\]\([^)]+\)", lambda m: f"{LINK_OPEN}{m.group(1)}{LINK_CLOSE}", raw), names)
            for piece in self.wrap(line.replace("**", ""), face, width - indent):
                if indent:
                    self.draw.rectangle([x, self.y, x + 3, self.y + face.size + 4], fill="#4e5058")
                self.spans(piece, x + indent, face, colour)
                self.y += int(face.size * 1.35)

    def spans(self, line: str, x: int, face: Any, colour: str) -> None:
        """One line: links in blue, @mentions on a tinted background, the rest plain."""
        for part in re.split(f"({LINK_OPEN}[^{LINK_CLOSE}]+{LINK_CLOSE}|@\\w+)", line):
            if not part:
                continue
            if part.startswith(LINK_OPEN):
                part, fill = part[1:-1], LINK
            elif part.startswith("@"):
                fill = MENTION_TEXT
                w = self.draw.textlength(part, font=face)
                self.draw.rounded_rectangle([x - 2, self.y - 1, x + w + 2, self.y + face.size + 3], 3, fill=MENTION_BG)
            else:
                fill = colour
            self.draw.text((x, self.y), part, font=face, fill=fill)
            x += int(self.draw.textlength(part, font=face))

    def author(self, name: str, note: str) -> None:
        self.draw.ellipse([PAD, self.y, PAD + 40, self.y + 40], fill="#5865f2")
        self.draw.text((PAD + 12, self.y + 10), "♫", font=font(18, bold=True), fill="white")
        self.draw.text((PAD + 56, self.y), name, font=font(16, bold=True), fill="white")
        badge_x = PAD + 64 + int(self.draw.textlength(name, font=font(16, bold=True)))
        self.draw.rounded_rectangle([badge_x, self.y + 2, badge_x + 34, self.y + 18], 3, fill="#5865f2")
        self.draw.text((badge_x + 5, self.y + 3), "APP", font=font(11, bold=True), fill="white")
        self.draw.text((badge_x + 44, self.y + 3), note, font=font(12), fill=MUTED)
        self.y += 26

    def caption(self, text: str) -> None:
        self.draw.text((PAD, self.y), text.upper(), font=font(12, bold=True), fill=MUTED)
        self.y += 24

    def done(self) -> Image.Image:
        return self.image.crop((0, 0, WIDTH, self.y + PAD))


async def fetch_media(message: dict[str, Any]) -> dict[str, bytes]:
    """The cover art the post shows (by URL) and the files it attaches (by `attachment://` name), downloaded while
    the simulator and the fake Discord that hold them still run."""
    media: dict[str, bytes] = {}
    urls = {a["url"]: f"attachment://{a['filename']}" for a in message.get("attachments") or []}
    urls |= {url: url for item in walk_all(message.get("components") or [])
             if item.get("type") == 11 and (url := (item.get("media") or {}).get("url"))}
    async with aiohttp.ClientSession() as session:
        for url, key in urls.items():
            async with session.get(url) as response:
                media[key] = await response.read()
    return media


async def draw_card(canvas: Canvas, message: dict[str, Any], names: dict[str, str]) -> None:
    """An embed: a coloured side bar, the title, the description; then the card's buttons."""
    embed = message["embeds"][0]
    x, top = PAD + 56, canvas.y
    canvas.draw.rounded_rectangle([x, top, WIDTH - PAD, top + 600], 4, fill=PANEL)
    canvas.y += 10
    canvas.draw.text((x + 14, canvas.y), plain(embed.get("title", ""), names), font=font(16, bold=True), fill="white")
    canvas.y += 26
    canvas.markdown(embed.get("description", ""), x + 14, WIDTH - x - PAD - 28, names)
    canvas.y += 6
    canvas.image.paste(Image.new("RGB", (WIDTH - PAD - x, 600 - (canvas.y - top)), BG), (x, canvas.y))
    colour = f"#{embed.get('color', 0x5865F2):06x}"
    canvas.image.paste(Image.new("RGB", (4, canvas.y - top), colour), (x, top))
    canvas.y += 8
    draw_buttons(canvas, [c for c in walk_all(message.get("components") or []) if c["type"] == 2], x)


def draw_file(canvas: Canvas, url: str, media: dict[str, bytes], x: int) -> None:
    """An attached file, as Discord's collapsed card: an MP3 with its player, a text file with its first line."""
    name = url.removeprefix("attachment://")
    canvas.draw.rounded_rectangle([x, canvas.y, x + 420, canvas.y + 54], 6, fill="#232428")
    canvas.draw.text((x + 12, canvas.y + 8), name, font=font(13, bold=True), fill=LINK)
    if name.endswith(".txt"):
        lines = [line for line in media.get(url, b"").decode("utf-8", "replace").splitlines() if line.strip()]
        first = plain(" / ".join(lines[1:3]) if len(lines) > 1 else "", {})
        while first and canvas.draw.textlength(first + "…", font=font(12)) > 370:
            first = first[:-1]
        canvas.draw.text((x + 12, canvas.y + 30), f"{first}…  ⌄", font=font(12), fill=MUTED)
    else:
        canvas.draw.text((x + 12, canvas.y + 30), "▶  0:00 ━━━━━━━━━━━━━━━━━━━━━━━", font=font(12), fill=MUTED)
    canvas.y += 62


def draw_buttons(canvas: Canvas, buttons: list[dict[str, Any]], x: int) -> None:
    face = font(14)
    for button in buttons:
        label = plain(f"{(button.get('emoji') or {}).get('name', '')} {button.get('label', '')}", {}).strip()
        w = int(canvas.draw.textlength(label, font=face)) + 28
        style = BUTTON.get(int(button.get("style") or 2), "#4e5058")
        canvas.draw.rounded_rectangle([x, canvas.y, x + w, canvas.y + 32], 4, fill=style)
        canvas.draw.text((x + 14, canvas.y + 8), label, font=face, fill="white")
        x += w + 8
    if buttons:
        canvas.y += 40


async def draw_post(canvas: Canvas, message: dict[str, Any], names: dict[str, str], media: dict[str, bytes]) -> None:
    """A Components V2 container: text, sections with a thumbnail, files (audio, text), a row of buttons, a menu."""
    (container,) = message["components"]
    x, top = PAD + 56, canvas.y
    inner, width = x + 16, WIDTH - x - PAD - 32
    canvas.draw.rounded_rectangle([x, top, WIDTH - PAD, top + 2000], 8, fill=PANEL)
    canvas.y += 12
    for item in container["components"]:
        kind = item["type"]
        if kind == 10:
            canvas.markdown(item["content"], inner, width, names)
            canvas.y += 6
        elif kind == 9:
            start = canvas.y
            for child in item["components"]:
                canvas.markdown(child["content"], inner, width - 90, names)
            cover = media.get(item["accessory"]["media"]["url"])
            if cover is not None:
                picture = Image.open(io.BytesIO(cover)).convert("RGB").resize((72, 72), Image.Resampling.NEAREST)
                canvas.image.paste(picture, (WIDTH - PAD - 16 - 72, start))
            canvas.y = max(canvas.y + 6, start + 78)  # the thumbnail or the text, and the gap to what follows
        elif kind == 13:
            draw_file(canvas, item["file"]["url"], media, inner)
        elif kind == 1:
            children = item["components"]
            if children and children[0]["type"] == 3:
                select = children[0]
                canvas.draw.rounded_rectangle([inner, canvas.y, inner + width, canvas.y + 38], 4, fill="#1e1f22")
                canvas.draw.text((inner + 12, canvas.y + 10), select.get("placeholder", ""), font=font(14), fill=MUTED)
                canvas.draw.text((inner + width - 24, canvas.y + 8), "⌄", font=font(16), fill=MUTED)
                canvas.y += 46
            else:
                draw_buttons(canvas, children, inner)
    bottom = canvas.y + 6
    canvas.image.paste(Image.new("RGB", (WIDTH - PAD - x, 2000 - (bottom - top)), BG), (x, bottom))
    accent = f"#{container.get('accent_color') or 0x57F287:06x}"
    canvas.image.paste(Image.new("RGB", (4, bottom - top), accent), (x, top))
    canvas.y = bottom + 10


class Picture(NamedTuple):  # not a dataclass: the test loads this file as a module outside sys.modules
    """Where the drawing went, and how tall the song's post is in it (author line to container bottom)."""

    path: Path
    post_height: int


async def capture() -> tuple[dict[str, Any], dict[str, Any], dict[str, str], dict[str, bytes]]:
    """Run the bot once: the card while the song is made, and the post when it is done."""
    clock = ManualClock()
    with tempfile.TemporaryDirectory() as folder:
        async with SimulatorServer(api_key=API_KEY, timings=Timings(), clock=clock, seed=3,
                                   shutdown_timeout=0.2) as sim, FakeDiscord() as fake:
            harness = BotHarness(fake, sim, Path(folder) / "chorus.db")
            await harness.start()
            try:
                it = await fake.slash_command("suno", {"prompt": "a sea shanty about our server's cat",
                                                       "style": "folk, stomping, choir",
                                                       "title": "The Ballad of Whiskers"}, user=fake.alice)
                await it.wait_original(lambda m: bool(m["embeds"]) and "Queued" in m["embeds"][0]["title"])
                clock.advance(20)
                card = await it.wait_original(lambda m: bool(m["embeds"]) and "Generating" in m["embeds"][0]["title"])
                clock.advance(400)
                (post,) = await wait_delivery(fake)
                media = await fetch_media(post)
            finally:
                await harness.stop()
            names = {str(user.id): user.global_name or user.username for user in fake.world.users.values()}
            return card, post, names, media


async def render(out: Path) -> Path:
    """Capture and draw; return where the picture went."""
    return (await draw(out)).path


async def draw(out: Path) -> Picture:
    """Capture and draw; where the picture went and how tall the post is."""
    import discord.http

    base = discord.http.Route.BASE
    try:
        card, post, names, media = await capture()
    finally:
        discord.http.Route.BASE = base
    canvas = Canvas()
    canvas.caption("While the song is made: the status card (it goes when the song is posted)")
    canvas.author("Chorus", "Today at 21:04")
    await draw_card(canvas, card, names)
    canvas.y += 12
    canvas.caption("When it is done: one compact post, with its lyrics")
    top = canvas.y
    canvas.author("Chorus", "Today at 21:07")
    await draw_post(canvas, post, names, media)
    height = canvas.y - 10 - top  # draw_post leaves 10 px below the container
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.done().save(out, optimize=True)
    return Picture(out, height)


async def capture_party(folder: Path) -> tuple[dict[str, Any], dict[str, str], dict[str, bytes]]:
    """Run the bot with a voice channel: two songs, liked, then `/listen top`; the now-playing message a couple of
    seconds into the first song."""
    async with SimulatorServer(api_key=API_KEY, timings=Timings.instant(), seed=3, shutdown_timeout=0.2) as sim, \
            FakeDiscord() as fake, FakeVoice(fake) as voice:
        lobby = voice.add_voice_channel("Lobby")
        voice.place(fake.alice, lobby)
        voice.place(fake.bob, lobby)
        sim.media.set_audio(tone_mp3(folder / "tone.mp3", 440, 30).read_bytes())
        fast = ListeningConfig(progress_every=1.0, edit_gap=0.2)
        harness = BotHarness(fake, sim, folder / "chorus.db", listening=fast)
        bot = await harness.start()
        try:
            songs = [(fake.alice, "a sea shanty about our server's cat", "The Ballad of Whiskers"),
                     (fake.bob, "lo-fi beats for a rainy study night", "Rainy Desk")]
            for count, (user, prompt, title) in enumerate(songs, 1):
                await fake.slash_command("suno", {"prompt": prompt, "title": title}, user=user)
                await wait_delivery(fake, count)
            for job_id, likers in ((1, (fake.bob, fake.admin)), (2, (fake.alice,))):
                for user in likers:
                    await bot.store.toggle_like(job_id, user.id, fake.guild.id, debounce=0)
            await fake.slash_command("listen top", {"period": "all"}, user=fake.alice)

            def playing() -> dict[str, Any] | None:
                for message in fake.messages_in(fake.music):
                    texts = " ".join(c.get("content") or "" for c in walk_all(message.get("components") or []))
                    if "Now playing" in texts and re.search(r"▶ 0:0[2-9]", texts):
                        return message
                return None

            message = await fake.wait_for(playing, timeout=30)
            media = await fetch_media(message)
        finally:
            await harness.stop()
        names = {str(user.id): user.global_name or user.username for user in fake.world.users.values()}
        names |= {f"#{channel.id}": channel.name or "channel" for channel in fake.world.channels.values()}
        return message, names, media


async def draw_party(out: Path) -> Path | None:
    """Draw the now-playing message of a listening party to `out` (None, and nothing drawn, without ffmpeg)."""
    if ffmpeg() is None:
        return None
    import discord.http

    base = discord.http.Route.BASE
    try:
        with tempfile.TemporaryDirectory() as folder:
            message, names, media = await capture_party(Path(folder))
    finally:
        discord.http.Route.BASE = base
    canvas = Canvas()
    canvas.caption("In a voice channel: the listening party's one message, edited as it plays")
    canvas.author("Chorus", "Today at 21:12")
    await draw_post(canvas, message, names, media)
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.done().save(out, optimize=True)
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "what-members-see.png"
    picture = asyncio.run(draw(target))
    print(f"{picture.path} (the song's post is {picture.post_height} px tall)")  # noqa: T201
    party = asyncio.run(draw_party(Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "now-playing.png"))
    print(party or "no now-playing picture: ffmpeg is not installed")  # noqa: T201
