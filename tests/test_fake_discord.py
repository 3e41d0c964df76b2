"""Smoke tests for the fake Discord: a throwaway AutoShardedBot runs against it with nothing mocked."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakes.discord import DEFAULT_TOKEN, PASS, SEND_MESSAGES, FakeDiscord, Fault, fixtures, pinged_user_ids

SONG = b"ID3" + bytes(range(256)) * 40  # 10 KiB of "audio"
EXTEND_ID = "probe:extend:42"

# The lead wires this into tests/conftest.py; here the smoke test pulls it in explicitly.
fake_discord = fixtures.fake_discord


class ExtendModal(discord.ui.Modal, title="Extend the song"):
    """A modal with a 2.7-style Label around its text input."""

    lyrics: discord.ui.Label[ExtendModal] = discord.ui.Label(
        text="Extra lyrics", component=discord.ui.TextInput(custom_id="lyrics", max_length=200)
    )

    def __init__(self) -> None:
        super().__init__(custom_id="probe:extend-modal")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.lyrics.component, discord.ui.TextInput)
        await interaction.response.send_message(f"Extending with: {self.lyrics.component.value}", ephemeral=True)


class SongView(discord.ui.View):
    """A persistent view: timeout=None and a fixed custom_id, so it survives restarts."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Extend", custom_id=EXTEND_ID, style=discord.ButtonStyle.primary)
    async def extend(self, interaction: discord.Interaction, button: discord.ui.Button[SongView]) -> None:
        await interaction.response.send_modal(ExtendModal())


@app_commands.command(name="compose", description="Compose a song from a prompt")
@app_commands.describe(prompt="What the song is about")
async def compose(interaction: discord.Interaction, prompt: str) -> None:
    """Defer, edit the original response, then deliver to the channel like the real bot will."""
    await interaction.response.defer(thinking=True)
    await interaction.edit_original_response(content=f"Queued: {prompt}")
    assert isinstance(interaction.channel, discord.TextChannel)
    await interaction.channel.send(
        f"{interaction.user.mention} your song is ready (cc <@{interaction.application_id}>)",
        embed=discord.Embed(title="Your song", description=prompt),
        file=discord.File(io.BytesIO(SONG), filename="song.mp3"),
        view=SongView(),
        allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=[interaction.user]),
        nonce=f"job-{interaction.id % 10**12}",
    )


class ProbeBot(commands.AutoShardedBot):
    def __init__(self, guild_id: int) -> None:
        # guild_ready_timeout: discord.py waits this long after the last GUILD_CREATE before on_ready.
        super().__init__(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.guild_id = guild_id

    async def setup_hook(self) -> None:
        guild = discord.Object(self.guild_id)
        self.tree.add_command(compose, guild=guild)
        self.add_view(SongView())
        await self.tree.sync(guild=guild)


@pytest.fixture
async def bot(fake_discord: FakeDiscord) -> AsyncIterator[ProbeBot]:
    discord.http.Route.BASE = fake_discord.api_base
    probe = ProbeBot(fake_discord.guild.id)
    runner: asyncio.Task[None] | None = None
    try:
        await probe.login(fake_discord.token)
        runner = asyncio.create_task(probe.connect())
        await fake_discord.wait_until_ready()
        await asyncio.wait_for(probe.wait_until_ready(), 5)
        yield probe
    finally:
        await probe.close()
        if runner is not None:
            await runner


def music(bot: ProbeBot, fake: FakeDiscord) -> discord.TextChannel:
    channel = bot.get_channel(fake.music.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_guild_sync_stores_command_with_prompt_option(fake_discord: FakeDiscord, bot: ProbeBot) -> None:
    """The bot's guild sync reaches the fake, which stores the command with ids."""
    (command,) = fake_discord.application_commands(fake_discord.guild)
    assert command["name"] == "compose"
    assert [(o["name"], o["type"], o["required"]) for o in command["options"]] == [("prompt", 3, True)]
    assert int(command["id"]) > 0


async def test_slash_command_defers_in_time_then_edits_original(fake_discord: FakeDiscord, bot: ProbeBot) -> None:
    """/compose is acked with a deferred response within 3 s, then its original shows the edit."""
    it = await fake_discord.slash_command("compose", {"prompt": "lofi rain"}, user=fake_discord.alice)

    response = await it.wait_response()
    assert response["type"] == 5
    assert it.ack_latency is not None and it.ack_latency < 3.0
    original = await it.wait_original(lambda m: m["content"] == "Queued: lofi rain")
    assert not original["flags"] & (1 << 7)  # no longer "thinking"
    assert [e["content"] for e in it.edits] == ["", "Queued: lofi rain"]


async def test_channel_delivery_records_embed_file_view_and_only_pings_requester(
    fake_discord: FakeDiscord,
    bot: ProbeBot,
) -> None:
    """The delivery message carries embed, file bytes, the button and pings only the requester."""
    await fake_discord.slash_command("compose", {"prompt": "lofi rain"})

    (message,) = await fake_discord.wait_for(lambda: fake_discord.messages_in(fake_discord.music)[1:])
    sent = fake_discord.find_requests("POST", f"/channels/{fake_discord.music.id}/messages")[-1]
    assert sent.json["allowed_mentions"] == {"parse": [], "users": [fake_discord.alice.id], "replied_user": True}
    assert sent.json["enforce_nonce"] is True
    (upload,) = sent.files
    assert (upload.name, upload.size, upload.data) == ("song.mp3", len(SONG), SONG)
    assert message["embeds"][0]["title"] == "Your song"
    assert message["attachments"][0]["filename"] == "song.mp3"
    assert message["components"][0]["components"][0]["custom_id"] == EXTEND_ID
    assert pinged_user_ids(message) == {fake_discord.alice.id}  # the bot's own mention is not allowed


async def test_button_opens_modal_and_submission_is_answered(fake_discord: FakeDiscord, bot: ProbeBot) -> None:
    """Clicking the persistent button opens a modal; submitting it gets an ephemeral reply."""
    await fake_discord.slash_command("compose", {"prompt": "lofi rain"})
    (message,) = await fake_discord.wait_for(lambda: fake_discord.messages_in(fake_discord.music)[1:])

    click = await fake_discord.click_button(message, EXTEND_ID, user=fake_discord.alice)
    opened = await click.wait_response()
    assert opened["type"] == 9 and opened["data"]["custom_id"] == "probe:extend-modal"

    submit = await fake_discord.submit_modal("probe:extend-modal", {"lyrics": "la la la"}, interaction_from=click)
    reply = await submit.wait_response()
    assert reply["type"] == 4
    assert reply["data"]["content"] == "Extending with: la la la"
    assert reply["data"]["flags"] & 64


async def test_rate_limited_send_is_retried_and_succeeds(fake_discord: FakeDiscord, bot: ProbeBot) -> None:
    """A scripted 429 is honoured by discord.py, which retries and gets the message through."""
    plan = fake_discord.faults.script("POST", r"/channels/\d+/messages", [Fault.rate_limited(0.05), PASS])

    sent = await music(bot, fake_discord).send("after the rate limit")

    statuses = [r.status for r in fake_discord.find_requests("POST", f"/channels/{fake_discord.music.id}/messages")]
    assert statuses == [429, 200]
    assert len(plan.hits) == 2
    assert fake_discord.messages_in(fake_discord.music)[-1]["id"] == str(sent.id)


async def test_forbidden_send_raises_forbidden(fake_discord: FakeDiscord, bot: ProbeBot) -> None:
    """A scripted 403 surfaces as discord.Forbidden with Discord's error code."""
    fake_discord.faults.forbid("POST", r"/channels/\d+/messages", code=50013, times=1)

    with pytest.raises(discord.Forbidden) as raised:
        await music(bot, fake_discord).send("nope")
    assert raised.value.code == 50013


async def test_channel_overwrite_denying_send_gives_403(fake_discord: FakeDiscord, bot: ProbeBot) -> None:
    """A deny overwrite for the bot produces Discord's own 403 (no script needed)."""
    await fake_discord.set_bot_permissions(fake_discord.music, deny=SEND_MESSAGES)

    with pytest.raises(discord.Forbidden) as raised:
        await music(bot, fake_discord).send("nope")
    assert raised.value.code == 50013


async def test_upload_over_limit_raises_413(fake_discord: FakeDiscord, bot: ProbeBot) -> None:
    """Files over the (overridden) upload limit give HTTPException 413 / 40005."""
    fake_discord.upload_limit = 1_000

    with pytest.raises(discord.HTTPException) as raised:
        await music(bot, fake_discord).send(file=discord.File(io.BytesIO(SONG), filename="big.mp3"))
    assert (raised.value.status, raised.value.code) == (413, 40005)
    assert fake_discord.messages_in(fake_discord.music) == []


async def test_same_nonce_twice_yields_one_message(fake_discord: FakeDiscord, bot: ProbeBot) -> None:
    """Two sends with the same enforced nonce create one message and return it twice."""
    channel = music(bot, fake_discord)

    first = await channel.send("delivered", nonce="job-7")
    second = await channel.send("delivered", nonce="job-7")

    assert first.id == second.id
    assert len(fake_discord.messages_in(fake_discord.music)) == 1


async def test_over_long_content_is_invalid_form_body(fake_discord: FakeDiscord, bot: ProbeBot) -> None:
    """Content over 2000 characters gets Discord's 400 Invalid Form Body."""
    with pytest.raises(discord.HTTPException) as raised:
        await music(bot, fake_discord).send("x" * 2001)
    assert (raised.value.status, raised.value.code) == (400, 50035)
    assert "content" in raised.value.text


async def test_gateway_disconnect_resumes_session(fake_discord: FakeDiscord, bot: ProbeBot) -> None:
    """A dropped gateway connection is RESUMEd and interactions keep flowing."""
    await fake_discord.gateway.disconnect(code=4000)
    await fake_discord.wait_for(lambda: fake_discord.gateway.resume_count == 1)

    it = await fake_discord.slash_command("compose", {"prompt": "after resume"})
    assert (await it.wait_response())["type"] == 5


async def test_wrong_token_is_refused(fake_discord: FakeDiscord) -> None:
    """Logging in with another token fails with discord.LoginFailure (401 on /users/@me)."""
    discord.http.Route.BASE = fake_discord.api_base
    client = discord.Client(intents=discord.Intents.none())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login(DEFAULT_TOKEN + "-wrong")
    finally:
        await client.close()
    assert fake_discord.requests[-1].status == 401


async def test_unknown_command_is_a_clear_error(fake_discord: FakeDiscord, bot: ProbeBot) -> None:
    """Dispatching a command the bot never synced fails loudly in the test, not silently in the bot."""
    with pytest.raises(LookupError, match="known: compose"):
        await fake_discord.slash_command("nope")


async def test_outgoing_text_excludes_the_bot_token(fake_discord: FakeDiscord, bot: ProbeBot) -> None:
    """The leak-grep text holds every body and header except Authorization, which is kept apart."""
    await music(bot, fake_discord).send("hello")

    assert "hello" in fake_discord.all_outgoing_text()
    assert fake_discord.token not in fake_discord.all_outgoing_text()
    assert set(fake_discord.authorization_values()) == {f"Bot {fake_discord.token}"}


async def test_deletes_in_the_client_reach_the_bot_as_raw_events(fake_discord: FakeDiscord, bot: ProbeBot) -> None:
    """A member deleting a message, and a moderator's bulk delete, arrive as MESSAGE_DELETE and
    MESSAGE_DELETE_BULK (ids only, as Discord sends them); Discord's rules for who may delete hold."""
    from tests.fakes.discord.limits import DiscordError

    singles: list[discord.RawMessageDeleteEvent] = []
    bulks: list[discord.RawBulkMessageDeleteEvent] = []

    async def on_single(payload: discord.RawMessageDeleteEvent) -> None:
        singles.append(payload)

    async def on_bulk(payload: discord.RawBulkMessageDeleteEvent) -> None:
        bulks.append(payload)

    bot.add_listener(on_single, "on_raw_message_delete")
    bot.add_listener(on_bulk, "on_raw_bulk_message_delete")
    posts = [await music(bot, fake_discord).send(f"post {n}") for n in range(3)]
    with pytest.raises(DiscordError, match="50013"):
        await fake_discord.delete_message(posts[0].id, user=fake_discord.alice)  # not hers, and no Manage Messages
    own = await fake_discord.user_message(fake_discord.music, "mine", user=fake_discord.alice)
    await fake_discord.delete_message(own, user=fake_discord.alice)
    await fake_discord.delete_message(posts[0].id, user=fake_discord.admin)
    with pytest.raises(DiscordError, match="50016"):
        await fake_discord.bulk_delete(fake_discord.music, [posts[1].id], user=fake_discord.admin)
    await fake_discord.bulk_delete(fake_discord.music, [posts[1].id, posts[2].id], user=fake_discord.admin)
    await fake_discord.wait_for(lambda: (len(singles) == 2 and len(bulks) == 1) or None)
    assert [p.message_id for p in singles] == [int(own["id"]), posts[0].id]
    assert bulks[0].message_ids == {posts[1].id, posts[2].id} and bulks[0].channel_id == fake_discord.music.id
    assert fake_discord.messages_in(fake_discord.music) == []
