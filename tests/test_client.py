"""The real aiohttp CometAPI client against the simulator over HTTP, including every fault."""

from __future__ import annotations

import logging
import socket

import pytest
from pydantic import SecretStr

from bot.cometapi import (
    APITimeoutError,
    AuthError,
    BadResponseError,
    CometAPI,
    InsufficientBalanceError,
    InvalidRequestError,
    ModelUnavailableError,
    NetworkError,
    RateLimitedError,
    ServerError,
    SunoMusicRequest,
    TaskNotFoundError,
    UdioRequest,
)
from bot.simulator import USED_UP_MESSAGE, Fault
from tests.conftest import API_KEY, FAST_RETRY, FAST_TIMEOUTS

SONG = SunoMusicRequest(mv="chirp-crow", description="a sea shanty about rubber ducks")


async def test_submit_and_fetch_a_song(cometapi, simulator):
    """A submitted song is fetched as succeeded with two playable clips, and the body was sent as documented."""
    task_id = await cometapi.suno.submit_music(SONG)
    result = await cometapi.suno.fetch(task_id)
    assert result.phase == "succeeded"
    assert len(result.complete_clips) == 2
    sent = simulator.requests_to("submit_music")[0]
    assert sent.body["gpt_description_prompt"] == "a sea shanty about rubber ducks"
    assert sent.body["mv"] == "chirp-crow"
    assert sent.authorized


async def test_custom_mode_and_extend(cometapi, simulator):
    """Custom lyrics and an extend of a clip reach the simulator with the fields the API needs."""
    task_id = await cometapi.suno.submit_music(SunoMusicRequest(mv="chirp-v4", lyrics="[Verse]\nla la", tags="punk"))
    clip = (await cometapi.suno.fetch(task_id)).clips[0]
    extend = SunoMusicRequest(mv="chirp-v4", lyrics="[Verse 2]\nmore", continue_clip_id=clip.id, continue_at=30,
                              task_id=task_id)
    extended = await cometapi.suno.fetch(await cometapi.suno.submit_music(extend))
    assert extended.phase == "succeeded"
    body = simulator.requests_to("submit_music")[1].body
    assert (body["task"], body["continue_clip_id"], body["task_id"]) == ("extend", clip.id, task_id)


async def test_lyrics_task(cometapi):
    """A lyrics task returns a title and text."""
    result = await cometapi.suno.fetch(await cometapi.suno.submit_lyrics("rainy city nights"))
    assert result.lyrics is not None
    assert result.lyrics.text


async def test_batch_fetch_is_one_call_and_matches_by_id(cometapi, simulator):
    """Many tasks are fetched in one call; unknown ids are simply absent."""
    ids = [await cometapi.suno.submit_music(SONG) for _ in range(5)]
    simulator.reset_log()
    results = await cometapi.suno.fetch_batch([*ids, "no-such-task"], "MUSIC")
    assert set(results) == set(ids)
    assert all(results[task_id].task_id == task_id for task_id in ids)
    assert simulator.count("batch_fetch") == 1
    assert simulator.requests_to("batch_fetch")[0].body == {"ids": [*ids, "no-such-task"], "action": "MUSIC"}


async def test_empty_batch_makes_no_call(cometapi, simulator):
    """Asking about nothing costs nothing."""
    assert await cometapi.suno.fetch_batch([], "MUSIC") == {}
    assert await cometapi.udio.query([]) == {}
    assert simulator.requests == []


async def test_wrong_key_is_an_auth_error_and_not_retried(simulator, http_session, sleeps):
    """A refused key raises AuthError after one request."""
    bad = CometAPI(http_session, SecretStr("sk-wrong"), base_url=simulator.url, retry=FAST_RETRY, sleep=sleeps)
    with pytest.raises(AuthError):
        await bad.suno.fetch_batch(["x"], "MUSIC")
    assert simulator.count("batch_fetch") == 1
    assert sleeps.delays == []


async def test_unknown_task_is_task_not_found(cometapi):
    """Fetching a task that does not exist raises TaskNotFoundError."""
    with pytest.raises(TaskNotFoundError):
        await cometapi.suno.fetch("missing")


@pytest.mark.parametrize("fault", [500, 502, 503, "reset", "malformed", "relay_429", Fault(429, retry_after=0.02)])
async def test_fetches_are_retried_through_transient_faults(cometapi, simulator, sleeps, fault):
    """Idempotent fetches survive a transient fault by retrying."""
    task_id = await cometapi.suno.submit_music(SONG)
    simulator.faults.script("batch_fetch", [fault, "ok"])
    results = await cometapi.suno.fetch_batch([task_id], "MUSIC")
    assert results[task_id].phase == "succeeded"
    assert simulator.count("batch_fetch") == 2
    assert len(sleeps.delays) == 1


async def test_retry_after_is_honoured(cometapi, simulator, sleeps):
    """On 429 the client waits what the server said before retrying."""
    simulator.faults.script("fetch", [Fault(429, retry_after=0.3), "ok"])
    task_id = await cometapi.suno.submit_music(SONG)
    await cometapi.suno.fetch(task_id)
    assert sleeps.delays == [pytest.approx(0.3)]


async def test_a_retry_after_longer_than_the_client_waits_is_kept_not_cut_short(simulator, http_session, sleeps):
    """A 429 asking for 42 s (more than the client's longest wait, 30 s by default) is not retried early: one request,
    and the error hands the caller CometAPI's 42 s in full (the poller then holds its next cycle that long)."""
    from bot.cometapi import RetryPolicy

    api = CometAPI(http_session, SecretStr(API_KEY), base_url=simulator.url, retry=RetryPolicy(), sleep=sleeps)
    simulator.faults.always("batch_fetch", Fault(429, retry_after=42))
    with pytest.raises(RateLimitedError) as caught:
        await api.suno.fetch_batch(["a"], "MUSIC")
    assert caught.value.retry_after == pytest.approx(42)
    assert simulator.count("batch_fetch") == 1
    assert sleeps.delays == []


async def test_backoff_grows_exponentially_then_gives_up(cometapi, simulator, sleeps):
    """Persistent 5xx: capped exponential backoff, then ServerError after the last attempt."""
    simulator.faults.always("batch_fetch", 503)
    with pytest.raises(ServerError):
        await cometapi.suno.fetch_batch(["a"], "MUSIC")
    assert simulator.count("batch_fetch") == FAST_RETRY.attempts
    assert sleeps.delays == [0.01, 0.02, 0.04]


async def test_a_hanging_fetch_times_out(cometapi, simulator):
    """A server that never answers yields APITimeoutError once the attempts are spent."""
    simulator.faults.always("batch_fetch", "hang")
    with pytest.raises(APITimeoutError):
        await cometapi.suno.fetch_batch(["a"], "MUSIC")
    assert simulator.count("batch_fetch") == FAST_RETRY.attempts


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (500, ServerError),
        (503, ServerError),
        (Fault(429, retry_after=0.01), RateLimitedError),
        ("reset", NetworkError),
        ("hang", APITimeoutError),
        ("malformed", BadResponseError),
        ("html", ModelUnavailableError),
        ("null_data", BadResponseError),
        (401, AuthError),
        (402, InsufficientBalanceError),
        (403, InsufficientBalanceError),
        (400, InvalidRequestError),
    ],
)
async def test_a_submit_is_never_blindly_retried(cometapi, simulator, sleeps, fault, error):
    """A submit that may have reached the server is tried exactly once, and the error says what happened."""
    simulator.faults.script("submit_music", [fault])
    with pytest.raises(error):
        await cometapi.suno.submit_music(SONG)
    assert simulator.count("submit_music") == 1
    assert sleeps.delays == []


async def test_a_submit_that_never_left_is_retried(http_session, sleeps):
    """Connection refused means nothing was sent: a submit may be retried, then fails clearly."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = CometAPI(http_session, SecretStr(API_KEY), base_url=f"http://127.0.0.1:{port}", retry=FAST_RETRY,
                      timeouts=FAST_TIMEOUTS, sleep=sleeps)
    with pytest.raises(NetworkError) as caught:
        await client.suno.submit_music(SONG)
    assert caught.value.reached_server is False
    assert len(sleeps.delays) == FAST_RETRY.attempts - 1


async def test_a_reset_submit_is_marked_as_maybe_received(cometapi, simulator):
    """A connection reset after sending may have been accepted: reached_server is True."""
    simulator.faults.script("submit_music", ["reset"])
    with pytest.raises(NetworkError) as caught:
        await cometapi.suno.submit_music(SONG)
    assert caught.value.reached_server is True


async def test_udio_generate_and_query(cometapi, simulator):
    """Udio: generate returns an id that query (text/plain JSON) resolves to finished songs."""
    generation = await cometapi.udio.generate(UdioRequest(prompt="lofi beats", model_type="udio130-v1.5"))
    results = await cometapi.udio.query([generation, "unknown"])
    assert list(results) == [generation]
    assert results[generation].phase == "succeeded"
    assert all(clip.audio_url for clip in results[generation].clips)
    assert simulator.requests_to("udio_query")[0].query == {"ids": f"{generation},unknown"}


async def test_udio_unavailable_reads_clearly(cometapi, simulator):
    """When CometAPI refuses Udio (5xx), the error is a ServerError the bot can phrase for members."""
    simulator.faults.always("udio_generate", 503)
    with pytest.raises(ServerError) as caught:
        await cometapi.udio.generate(UdioRequest(prompt="x"))
    assert caught.value.status == 503


async def test_failed_generation_reports_reason(cometapi, simulator):
    """A moderated prompt ends as failed with the reason CometAPI gave."""
    task_id = await cometapi.suno.submit_music(SunoMusicRequest(mv="chirp-crow", description="[fail] something"))
    result = await cometapi.suno.fetch(task_id)
    assert result.phase == "failed"
    assert "moderation" in result.fail_reason


async def test_key_never_appears_in_errors_or_logs(cometapi, simulator, caplog):
    """The API key is not in any error message or log line, even on failures."""
    caplog.set_level(logging.DEBUG)
    simulator.faults.script("batch_fetch", [500, 500, 500, 500])
    with pytest.raises(ServerError) as caught:
        await cometapi.suno.fetch_batch(["x"], "MUSIC")
    assert API_KEY not in str(caught.value)
    assert API_KEY not in repr(cometapi)
    assert API_KEY not in caplog.text
    assert caplog.records, "the retries should have been logged"


@pytest.mark.parametrize("endpoint", ["batch_fetch", "udio_query"])
async def test_a_switched_off_route_is_unavailable_and_not_retried(cometapi, simulator, sleeps, endpoint):
    """A poll answered with the relay's HTML page raises ModelUnavailableError after one call: no retries."""
    simulator.relay.switched_off.add(endpoint)
    with pytest.raises(ModelUnavailableError):
        if endpoint == "batch_fetch":
            await cometapi.suno.fetch_batch(["a"], "MUSIC")
        else:
            await cometapi.udio.query(["a"])
    assert simulator.count(endpoint) == 1
    assert sleeps.delays == []


async def test_a_used_up_key_is_insufficient_balance_not_auth(cometapi, simulator, sleeps):
    """The relay's 401 for a used-up key (no word "quota") raises InsufficientBalanceError, once, unretried; the
    fragment of the key the relay names is scrubbed from it."""
    simulator.relay.used_up_keys.add(API_KEY)
    with pytest.raises(InsufficientBalanceError) as caught:
        await cometapi.suno.submit_music(SONG)
    assert caught.value.status == 401
    assert caught.value.message.startswith(f"[sk-***] {USED_UP_MESSAGE}")
    assert simulator.count("submit_music") == 1
    assert sleeps.delays == []


async def test_udio_nested_query_shape_is_read_and_matched_by_the_generate_id(cometapi, simulator):
    """The sibling gateway's `{code, data: {status, data: [{songs}]}}` gives the same results as `{songs}`."""
    simulator.relay.udio_nested = True
    first = await cometapi.udio.generate(UdioRequest(prompt="lofi beats"))
    second = await cometapi.udio.generate(UdioRequest(prompt="[fail] doom"))
    results = await cometapi.udio.query([first, second, "unknown"])
    assert list(results) == [first, second]
    assert (results[first].phase, len(results[first].complete_clips)) == ("succeeded", 2)
    assert results[second].phase == "failed"
    assert await cometapi.udio.query(["unknown"]) == {}  # `data: null`: nothing known, not an error


async def test_a_batch_fetch_answering_data_null_is_empty(cometapi, simulator):
    """The relay's `data: null` for only unknown ids is an empty answer, not an error, and not retried."""
    simulator.relay.null_unknown_batch = True
    assert await cometapi.suno.fetch_batch(["unknown", "also-unknown"], "MUSIC") == {}
    assert simulator.count("batch_fetch") == 1
