"""/listen while the database restarts: the settings read is slow, so the command is acknowledged privately in time
(ui/acknowledgement.py); the party's own "thinking…" must then not be sent a second time. The real bot on PostgreSQL
through the loopback proxy of test_e2e_outage.py, with the fake voice server."""

from __future__ import annotations

import asyncio

from tests.e2e import answers
from tests.fakes.voice import FakeVoice
from tests.harness import BotHarness
from tests.listening import FAST
from tests.test_e2e_outage import DEFERRED, EPHEMERAL, during_outage, flags_of, proxy  # noqa: F401 - fixture by name


async def test_listen_asked_while_the_database_restarts_is_acknowledged_once_and_answered(
    proxy, fake_discord, simulator  # noqa: F811
):
    fake = fake_discord
    async with FakeVoice(fake) as voice:
        lobby = voice.add_voice_channel("Lobby")
        voice.place(fake.alice, lobby)
        harness = BotHarness(fake, simulator, proxy.url, listening=FAST)
        await harness.start()
        try:
            asked = await during_outage(proxy, lambda: fake.slash_command("listen top", {}, user=fake.alice))
            assert [callback["type"] for callback in asked.callbacks] == [DEFERRED]
            assert flags_of(asked.callbacks[0].get("data")) & EPHEMERAL
            answer = await asked.wait_original(lambda m: bool(m.get("content")), timeout=30)
            await asyncio.sleep(0.5)  # a second answer, if the bot were to make one
        finally:
            await harness.stop()
    assert "nothing on" in answer["content"] and "went wrong" not in answer["content"]
    assert len(answers(fake, asked)) == 1
