"""Operations: /healthz and /metrics over HTTP, and a graceful SIGTERM of `python -m bot` mid poll cycle."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

import aiohttp

from bot.simulator import Fault
from tests.conftest import API_KEY
from tests.e2e import eventually, wait_delivery

ROOT = Path(__file__).resolve().parent.parent


async def get(url):
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_healthz_reports_each_check(harness):
    """/healthz answers 200 with the gateway, database and poller checks when all is well."""
    url = f"http://127.0.0.1:{harness.bot.health.port}/healthz"
    status, body = await eventually(lambda: _ok(url))
    assert status == 200
    assert '"gateway": {"ok": true' in body
    assert '"database": {"ok": true}' in body
    assert '"poller": {"ok": true' in body
    assert '"courier": {"ok": true' in body
    assert '"community_timers": {"ok": true' in body


async def _ok(url):
    try:
        status, body = await get(url)
    except aiohttp.ClientError:
        return None  # not listening yet
    return (status, body) if status == 200 else None


async def test_healthz_fails_when_the_poller_stops(harness):
    """A dead poller turns /healthz into a 503 naming the failed check."""
    await harness.bot.poller.stop()
    status, body = await get(f"http://127.0.0.1:{harness.bot.health.port}/healthz")
    assert status == 503
    assert '"poller": {"ok": false' in body


async def test_healthz_fails_when_the_courier_stops(harness):
    """A dead delivery loop turns /healthz into a 503 naming the courier."""
    await harness.bot.courier.stop()
    status, body = await get(f"http://127.0.0.1:{harness.bot.health.port}/healthz")
    assert status == 503
    assert '"courier": {"ok": false' in body


async def test_healthz_fails_when_the_community_timers_stop(harness):
    """A dead community loop (battles would never close) turns /healthz into a 503 naming it."""
    await harness.bot.timers.stop()
    status, body = await get(f"http://127.0.0.1:{harness.bot.health.port}/healthz")
    assert status == 503
    assert '"community_timers": {"ok": false' in body


async def test_metrics_count_jobs_calls_cycles_and_latency(harness):
    """/metrics (Prometheus text) counts jobs by state, CometAPI calls and errors, cycles and delivery latency."""
    fake, sim = harness.fake, harness.sim
    sim.faults.script("batch_fetch", [503])
    await fake.slash_command("suno", {"prompt": "metered"}, user=fake.alice)
    await wait_delivery(fake)

    async def delivered_metrics():
        _, text = await get(f"http://127.0.0.1:{harness.bot.health.port}/metrics")
        return text if "chorus_delivery_latency_seconds_count 1.0" in text else None

    text = await eventually(delivered_metrics)
    assert 'chorus_jobs{provider="suno",state="succeeded"} 1.0' in text
    assert 'chorus_cometapi_calls_total{endpoint="suno.submit_music"} 1.0' in text
    assert 'chorus_cometapi_errors_total{endpoint="suno.fetch_batch",error="ServerError"} 1.0' in text
    assert "chorus_poll_cycle_seconds_count" in text
    assert API_KEY not in text


async def test_sigterm_mid_cycle_finishes_the_cycle_and_exits_cleanly(fake_discord, simulator, tmp_path):
    """SIGTERM while a poll cycle waits on CometAPI: new commands are refused, the cycle finishes and
    delivers, HTTP and the database are closed, and the process exits 0 with nothing half-written."""
    fake, sim = fake_discord, simulator
    db = tmp_path / "chorus.db"
    health_port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COMETAPI_"))},
        "DISCORD_TOKEN": fake.token, "COMETAPI_KEY": API_KEY, "COMETAPI_BASE_URL": sim.url,
        "DISCORD_API_BASE": fake.api_base, "DATABASE_URL": f"sqlite:///{db}", "POLL_INTERVAL": "0.1",
        "DISCORD_GUILD_ID": str(fake.guild.id), "HEALTH_PORT": str(health_port), "PYTHONPATH": str(ROOT),
        # DEBUG so the secrets check covers the chattiest logs; the fault handler explains a hang.
        "LOG_LEVEL": "DEBUG", "PYTHONFAULTHANDLER": "1",
    }
    log_path = tmp_path / "bot.log"
    log_file = log_path.open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdout=log_file, stderr=log_file,
    )
    try:
        await eventually(lambda: _ok(f"http://127.0.0.1:{health_port}/healthz"), within=20)
        sim.faults.script("batch_fetch", [Fault("hang", hang_seconds=1.5)])
        it = await fake.slash_command("suno", {"prompt": "last song before the restart"}, user=fake.alice)
        assert (await it.wait_response())["type"] == 5
        await fake.wait_for(lambda: sim.count("batch_fetch") >= 1 or None, timeout=10)
        proc.send_signal(signal.SIGTERM)
        await eventually(lambda: _shutting_down(f"http://127.0.0.1:{health_port}/healthz"), within=10)
        late = await fake.slash_command("suno", {"prompt": "too late"}, user=fake.bob)
        refusal = await late.wait_response()
        assert "restarting" in refusal["data"]["content"]
        try:
            await asyncio.wait_for(proc.wait(), timeout=30)
        except TimeoutError:
            proc.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: dump every thread's stack into the log
            await asyncio.sleep(1)
            raise AssertionError("no exit after SIGTERM:\n" + log_path.read_text()[-4000:]) from None
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log_file.close()
    log = log_path.read_text()
    assert proc.returncode == 0, log[-3000:]
    assert "shut down cleanly" in log
    assert "Traceback" not in log
    assert API_KEY not in log and fake.token not in log
    assert len(await wait_delivery(fake)) == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute("SELECT state, delivery FROM jobs").fetchall()
    assert rows == [("succeeded", "delivered")]
    assert sim.count("submit_music") == 1


async def _shutting_down(url):
    status, body = await get(url)
    return status == 503 and '"accepting_commands": {"ok": false}' in body


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
