"""Parsing of CometAPI bodies, using the reference fixtures (tests/fixtures, copied from shared/api/fixtures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest

from bot.cometapi import SunoMusicRequest, TaskResult, UdioRequest
from bot.cometapi.client import Transport, _parse
from bot.cometapi.errors import (
    AuthError,
    BadResponseError,
    InsufficientBalanceError,
    InvalidRequestError,
    ModelUnavailableError,
    RateLimitedError,
    ServerError,
    TaskNotFoundError,
    UpstreamRejectedError,
    scrub_key,
)
from bot.cometapi.models import Clip, as_float
from bot.cometapi.udio import Udio

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_success_fixture_parses_two_complete_clips():
    """A SUCCESS music task yields two complete clips with final URLs, durations and lyrics."""
    result = TaskResult.from_suno(fixture("suno_fetch_music_success.json")["data"])
    assert result.phase == "succeeded"
    assert result.task_id == "dcb812bd-40c5-4907-836e-3a7aa9a2e546"
    assert [clip.id for clip in result.complete_clips] == [
        "e9893d04-6a63-4007-8473-64b706eca4d1",
        "fe69611b-fc72-4f6e-b476-5eef0b88c2e3",
    ]
    first = result.clips[0]
    assert first.duration == pytest.approx(163.56)
    assert first.audio_url.endswith(".mp3")
    assert first.tags == "club banger high-energy edm"
    assert first.lyrics.startswith("[Verse]\nEverybody")
    assert result.progress == 100


@pytest.mark.parametrize(
    ("name", "phase"),
    [
        ("suno_fetch_music_not_start.json", "pending"),
        ("suno_fetch_music_submitted.json", "pending"),
        ("suno_fetch_music_in_progress.json", "running"),
        ("suno_fetch_music_success_v5_custom.json", "succeeded"),
        ("suno_fetch_failure.json", "failed"),
        ("suno_fetch_failure_no_clips.json", "failed"),
        ("suno_fetch_lyrics_success.json", "succeeded"),
    ],
)
def test_each_fixture_maps_to_its_phase(name, phase):
    """Every lifecycle fixture maps to the provider-neutral phase the poller acts on."""
    assert TaskResult.from_suno(fixture(name)["data"]).phase == phase


def test_in_progress_clips_are_streaming_not_complete():
    """Streaming URLs appear before the song is done; they are not a completion signal."""
    result = TaskResult.from_suno(fixture("suno_fetch_music_in_progress.json")["data"])
    assert all(clip.is_streaming for clip in result.clips)
    assert result.complete_clips == ()


def test_failure_reason_and_broken_audio():
    """A failed task carries its reason, and a None.mp3 clip is never treated as playable."""
    result = TaskResult.from_suno(fixture("suno_fetch_failure.json")["data"])
    assert "content moderation" in result.fail_reason
    assert all(not clip.is_complete for clip in result.clips)


def test_lyrics_task_data_is_an_object():
    """A LYRICS task's data is one object with the text, not a list of clips."""
    result = TaskResult.from_suno(fixture("suno_fetch_lyrics_success.json")["data"])
    assert result.lyrics is not None
    assert result.lyrics.title == "Neon Boulevard"
    assert result.lyrics.text.startswith("[Verse]\nNeon rain")
    assert result.clips == ()


def test_mixed_batch_holds_music_and_lyrics():
    """A batch answer may mix list and object `data`; both parse."""
    items = fixture("suno_batch_fetch_mixed.json")["data"]
    results = [TaskResult.from_suno(item) for item in items]
    assert [len(r.clips) for r in results] == [2, 0]
    assert results[1].lyrics is not None


def test_defensive_parsing_of_odd_values():
    """Unknown statuses keep polling, numbers-as-strings parse, and missing fields get defaults."""
    raw = {"task_id": 42, "status": "WARMING_UP", "progress": "37%", "data": [{"id": "c1", "metadata": None}, "junk"]}
    result = TaskResult.from_suno(raw)
    assert result.task_id == "42"
    assert result.phase == "running"
    assert result.progress == 37
    assert result.clips == (Clip(id="c1"),)
    assert TaskResult.from_suno({"task_id": "t", "status": "failed", "data": None}).phase == "failed"
    assert TaskResult.from_suno({"task_id": "t", "status": None}).phase == "running"
    clip = Clip.from_suno({"id": "c", "status": "complete", "audio_url": "u.mp3", "metadata": {"duration": "12.5"}})
    assert clip.duration == 12.5
    assert as_float(True) is None
    assert as_float("n/a") is None


def test_success_without_any_playable_clip_is_a_failure():
    """SUCCESS whose clips are all broken is reported as failed, with the clip's error."""
    raw = {
        "task_id": "t",
        "status": "SUCCESS",
        "data": [{"id": "c", "status": "error", "audio_url": "https://cdn1.suno.ai/None.mp3",
                  "metadata": {"error_message": "boom"}}],
    }
    result = TaskResult.from_suno(raw)
    assert (result.phase, result.fail_reason) == ("failed", "boom")


def test_udio_finished_songs():
    """Udio songs of one generation fold into a succeeded task with two clips."""
    songs = fixture("udio_query_finished.json")["songs"]
    result = TaskResult.from_udio_songs("gen", songs)
    assert result.phase == "succeeded"
    assert result.clips[0].title == "Final Echoes"
    assert result.clips[0].audio_url.endswith(".mp3")
    assert "indie pop" in result.clips[0].tags


@pytest.mark.parametrize(
    ("name", "phase"),
    [("udio_query_in_progress.json", "running"), ("udio_query_error.json", "failed")],
)
def test_udio_phases(name, phase):
    """Unfinished Udio songs are running; songs with error fields are failed with the detail as reason."""
    result = TaskResult.from_udio_songs("gen", fixture(name)["songs"])
    assert result.phase == phase
    if phase == "failed":
        assert "moderation" in result.fail_reason


def test_result_round_trips_through_dict():
    """What the store saves (to_dict) rebuilds the same result."""
    result = TaskResult.from_suno(fixture("suno_fetch_music_success.json")["data"])
    assert TaskResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


@pytest.mark.parametrize(
    ("status", "name", "error"),
    [
        (401, "error_401.json", AuthError),
        (403, "error_403_quota.json", InsufficientBalanceError),
        (429, "error_429.json", RateLimitedError),
        (429, "error_429_task_relay.json", RateLimitedError),
        (500, "error_500.json", ServerError),
        (400, "error_400.json", InvalidRequestError),
        (400, "suno_error_task_not_exist_400.json", TaskNotFoundError),
        (400, "suno_error_prompt_empty_400.json", InvalidRequestError),
    ],
)
def test_error_bodies_map_to_the_error_tree(status, name, error):
    """Each documented error body becomes the matching typed error."""
    with pytest.raises(error):
        _parse(status, {}, (FIXTURES / name).read_text(encoding="utf-8"))


def test_request_id_is_kept_for_support():
    """The `(request id: …)` in gateway errors is extracted for the logs."""
    with pytest.raises(AuthError) as caught:
        _parse(401, {}, (FIXTURES / "error_401.json").read_text(encoding="utf-8"))
    assert caught.value.request_id == "20250514123456789012345678901234"


def test_402_and_retry_after_header():
    """402 means no balance; Retry-After seconds are read from a 429."""
    with pytest.raises(InsufficientBalanceError):
        _parse(402, {}, "{}")
    with pytest.raises(RateLimitedError) as caught:
        _parse(429, {"Retry-After": "7"}, "{}")
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize("text", ['{"code": "success", "dat', "", "oops"])
def test_non_json_success_is_a_bad_response(text):
    """A 200 that is not JSON (truncated, empty, garbled) is a BadResponseError, not a crash."""
    with pytest.raises(BadResponseError):
        _parse(200, {}, text)


@pytest.mark.parametrize(
    ("headers", "text"),
    [({}, "<!DOCTYPE html><html>…</html>"), ({}, "  <html>oops</html>"), ({"Content-Type": "text/html"}, "Welcome")],
)
def test_a_web_page_with_200_means_the_route_is_unavailable(headers, text):
    """The relay's catch-all answers unknown or switched-off routes with 200 and HTML (§8): not available."""
    with pytest.raises(ModelUnavailableError):
        _parse(200, headers, text)


def test_200_with_failure_code_is_an_error():
    """A 200 whose envelope code is not success is still an error."""
    with pytest.raises(InsufficientBalanceError):
        _parse(200, {}, json.dumps(fixture("error_403_quota.json")))


def test_suno_request_bodies_per_mode():
    """The fields sent decide the mode: inspiration, custom or extend (with the original task id)."""
    inspiration = SunoMusicRequest(mv="chirp-crow", description="cat", instrumental=True).to_json()
    assert inspiration == {"mv": "chirp-crow", "gpt_description_prompt": "cat", "make_instrumental": True, "prompt": ""}
    custom = SunoMusicRequest(mv="chirp-v4", lyrics="[Verse]\nla", tags="punk", title="T", negative_tags="jazz")
    assert custom.to_json() == {
        "mv": "chirp-v4", "prompt": "[Verse]\nla", "tags": "punk", "title": "T",
        "make_instrumental": False, "negative_tags": "jazz",
    }
    extend = SunoMusicRequest(mv="chirp-v4", lyrics="x", continue_clip_id="c", continue_at=80, task_id="t").to_json()
    assert (extend["task"], extend["continue_clip_id"], extend["continue_at"], extend["task_id"]) == (
        "extend", "c", 80, "t",
    )


def test_udio_request_follows_the_seed_layout():
    """Udio strengths sit in gen_params and config stays {"mode": "regular"}."""
    body = UdioRequest(prompt="rock", model_type="udio130-v1.5", lyrics_type="instrumental").to_json()
    params = body["gen_params"]
    assert params["config"] == {"mode": "regular"}
    assert (params["prompt"], params["model_type"], params["lyrics_type"]) == ("rock", "udio130-v1.5", "instrumental")
    assert params["prompt_strength"] == 0.5


def test_description_mode_folds_style_and_title_into_the_description():
    """The relay drops tags and title in description mode, so they are sent inside the description instead."""
    request = SunoMusicRequest(mv="chirp-crow", description="a sea shanty", tags="emotional punk", title="Quack")
    body = request.to_json()
    assert body["gpt_description_prompt"] == "a sea shanty\nStyle: emotional punk\nTitle: Quack"
    assert "tags" not in body and "title" not in body
    assert request.folds_style_and_title
    assert not SunoMusicRequest(mv="chirp-crow", description="a sea shanty").folds_style_and_title


def test_a_failure_with_one_complete_clip_is_a_success_with_a_failed_take():
    """The relay reports FAILURE for one complete + one error clip (§8): the complete take is a result."""
    raw = fixture("suno_fetch_music_success.json")["data"]
    raw.update(status="FAILURE", fail_reason="")
    raw["data"][1].update(status="error", audio_url="https://cdn1.suno.ai/None.mp3")
    raw["data"][1]["metadata"]["error_message"] = "Unable to generate audio for this clip."
    result = TaskResult.from_suno(raw)
    assert result.phase == "succeeded"
    assert [clip.id for clip in result.complete_clips] == [raw["data"][0]["id"]]
    assert result.clips[1].error_message == "Unable to generate audio for this clip."
    for clip in raw["data"]:  # with no complete clip at all it stays a failure
        clip.update(status="error")
    assert TaskResult.from_suno(raw).phase == "failed"


@pytest.mark.parametrize(
    ("status", "message", "error"),
    [
        (401, "该令牌额度已用尽 (request id: 2025)", InsufficientBalanceError),  # the relay's used-up key
        (401, "[sk-abc***xyz] 该令牌额度已用尽", InsufficientBalanceError),
        (403, "用户余额不足", InsufficientBalanceError),  # "the user's balance is insufficient"
        (401, "insufficient funds on this account", InsufficientBalanceError),
        (403, "credit limit reached", InsufficientBalanceError),
        (401, "invalid token (request id: 2025)", AuthError),
        (403, "access denied", AuthError),
    ],
)
def test_a_refusal_that_means_no_credit_is_insufficient_balance(status, message, error, caplog):
    """401/403 whose message means exhausted credit (in Chinese or English) is out of credit, and is logged."""
    body = json.dumps({"error": {"code": "", "message": message, "type": "comet_api_error"}}, ensure_ascii=False)
    with pytest.raises(error):
        _parse(status, {}, body)
    # Logged, with any fragment of the key the relay echoes scrubbed.
    assert (scrub_key(message) in caplog.text) is (error is InsufficientBalanceError)
    assert "sk-abc" not in caplog.text


class _Answer:
    """A transport that answers every request with one body (to parse shapes the simulator does not make)."""

    def __init__(self, body):
        self.body = body

    async def request(self, *args, **kwargs):
        return self.body


def _udio(body):
    return Udio(cast(Transport, _Answer(body)))


def _song(song_id, generation_id):
    return {"id": song_id, "generation_id": generation_id, "finished": True, "song_path": f"https://x/{song_id}.mp3"}


@pytest.mark.parametrize(
    "body",
    [
        {"songs": [_song("s1", "upstream-gen")]},
        {"code": "success", "data": {"status": "SUCCESS", "data": [{"songs": [_song("s1", "upstream-gen")]}]}},
        {"code": "success", "data": {"status": "SUCCESS", "data": [{"task_id": "ours", "songs": [_song("s1", "g")]}]}},
        {"code": "success", "data": {"songs": [_song("s1", "ours")]}},
    ],
)
async def test_udio_songs_are_matched_by_the_id_the_generate_call_returned(body):
    """Whatever the shape, and even when the songs name another generation id, they belong to the id asked."""
    results = await _udio(body).query(["ours"])
    assert list(results) == ["ours"]
    assert [clip.id for clip in results["ours"].complete_clips] == ["s1"]


@pytest.mark.parametrize("body", [{"code": "success", "data": None}, {"songs": None}, {"code": "success",
                                  "data": {"status": "NOT_FOUND", "data": []}}])
async def test_udio_query_with_nothing_known_is_empty(body):
    """No songs in either shape (`data: null` included) is an empty answer."""
    assert await _udio(body).query(["a", "b"]) == {}


def test_a_500_with_the_task_relays_body_is_an_upstream_refusal():
    """500 with `{code, message, data: null}` is UpstreamRejectedError (still a ServerError, so fetches retry it);
    the gateway's `{"error": ...}` 500 stays a plain ServerError."""
    with pytest.raises(UpstreamRejectedError) as caught:
        _parse(500, {}, json.dumps({"code": "upstream_error", "message": "请求上游地址失败", "data": None}))
    assert (caught.value.code, caught.value.message) == ("upstream_error", "请求上游地址失败")
    assert isinstance(caught.value, ServerError)
    with pytest.raises(ServerError) as plain:
        _parse(500, {}, (FIXTURES / "error_500.json").read_text(encoding="utf-8"))
    assert not isinstance(plain.value, UpstreamRejectedError)
