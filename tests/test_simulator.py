"""The CometAPI simulator itself, exercised over real HTTP on 127.0.0.1 with a plain aiohttp client."""

from __future__ import annotations

import asyncio
import json
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.simulator import MODERATION_REASON, Fault, ManualClock, SimulatorServer, Timings

KEY = "sk-test"
AUTH = {"Authorization": f"Bearer {KEY}"}
SLOW = Timings(not_start=2, submitted=5, queued=3, in_progress=20, lyrics=1, udio=30)


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(api_key=KEY, timings=Timings.instant(), seed=7, audio_bytes=20_000) as server:
        yield server


@pytest.fixture
async def http(sim: SimulatorServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(sim.url, headers=AUTH) as session:
        yield session


async def submit(http: aiohttp.ClientSession, body: dict[str, Any], path: str = "/suno/submit/music") -> str:
    async with http.post(path, json=body) as resp:
        assert resp.status == 200, await resp.text()
        payload = await resp.json()
    assert payload["code"] == "success"
    assert isinstance(payload["data"], str)
    return payload["data"]


async def fetch(http: aiohttp.ClientSession, task_id: str) -> dict[str, Any]:
    async with http.get(f"/suno/fetch/{task_id}") as resp:
        assert resp.status == 200, await resp.text()
        payload = await resp.json()
    assert payload["code"] == "success"
    task: dict[str, Any] = payload["data"]
    return task


# auth and request log -----------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk-wrong"}, {"Authorization": KEY}])
async def test_bad_or_missing_key_gets_gateway_401(sim: SimulatorServer, headers: dict[str, str]) -> None:
    """Without the right Bearer key every API route answers 401 with the gateway error envelope."""
    async with (
        aiohttp.ClientSession(sim.url, headers=headers) as session,
        session.post("/suno/submit/music", json={"gpt_description_prompt": "cats"}) as resp,
    ):
        assert resp.status == 401
        body = await resp.json()
    assert body["error"]["type"] == "comet_api_error"
    assert body["error"]["message"].startswith("invalid token (request id: ")
    assert sim.state.tasks == {}
    assert sim.requests[-1].authorized is False


async def test_request_log_records_calls_without_the_key(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    """Each request is logged with endpoint, method, path, query, body and arrival time; the key is never stored."""
    await submit(http, {"gpt_description_prompt": "rain", "mv": "chirp-v4"})
    async with http.get("/udio/query", params={"ids": "x,y"}) as resp:
        assert resp.status == 200
    first, second = sim.requests
    assert 0 < first.at <= second.at
    assert first[:6] == (
        "submit_music",
        "POST",
        "/suno/submit/music",
        {},
        {"gpt_description_prompt": "rain", "mv": "chirp-v4"},
        True,
    )
    assert (second.endpoint, second.method, second.query) == ("udio_query", "GET", {"ids": "x,y"})
    assert KEY not in repr(sim.requests)
    assert sim.count("submit_music") == 1
    sim.reset_log()
    assert sim.requests == []


# suno music lifecycle -----------------------------------------------------------------------------


async def test_music_task_walks_from_not_start_to_success() -> None:
    """With a manual clock a music task goes NOT_START → SUBMITTED → QUEUED → IN_PROGRESS → SUCCESS."""
    clock = ManualClock()
    async with (
        SimulatorServer(api_key=KEY, timings=SLOW, clock=clock) as sim,
        aiohttp.ClientSession(sim.url, headers=AUTH) as http,
    ):
        task_id = await submit(http, {"gpt_description_prompt": "a cat in space", "mv": "chirp-auk"})
        task = await fetch(http, task_id)
        assert (task["status"], task["data"], task["finish_time"], task["progress"]) == ("NOT_START", None, 0, "0%")
        assert task["start_time"] == task["submit_time"] > 1_700_000_000

        clock.advance(2)
        task = await fetch(http, task_id)
        assert task["status"] == "SUBMITTED"
        assert [c["status"] for c in task["data"]] == ["submitted", "submitted"]
        assert {c["audio_url"] for c in task["data"]} == {""}

        clock.advance(5)
        assert (await fetch(http, task_id))["status"] == "QUEUED"

        clock.advance(3 + 8)
        task = await fetch(http, task_id)
        assert (task["status"], task["progress"], task["finish_time"]) == ("IN_PROGRESS", "40%", 0)
        for clip in task["data"]:
            assert clip["status"] == "streaming"
            assert clip["audio_url"] == f"{sim.url}/media/stream/{clip['id']}"
            assert clip["image_url"] == f"{sim.url}/media/image_{clip['id']}.png"
            assert clip["video_url"] == ""
            assert clip["metadata"]["duration"] is None

        clock.advance(12)
        task = await fetch(http, task_id)
        assert (task["status"], task["progress"], task["fail_reason"]) == ("SUCCESS", "100%", "")
        assert task["finish_time"] == task["submit_time"] + 30
        assert task["start_time"] == task["submit_time"] + 2
        assert len(task["data"]) == 2
        for clip in task["data"]:
            assert clip["status"] == "complete"
            assert clip["audio_url"] == f"{sim.url}/media/{clip['id']}.mp3"
            assert clip["video_url"] == f"{sim.url}/media/{clip['id']}.mp4"
            assert isinstance(clip["metadata"]["duration"], float)
            assert 0 < clip["metadata"]["duration"] <= 240
            assert (clip["model_name"], clip["major_model_version"]) == ("chirp-auk", "v4.5")
            assert clip["metadata"]["gpt_description_prompt"] == "a cat in space"
            assert clip["title"] == "A Cat In Space"


async def test_custom_mode_echoes_lyrics_tags_title_and_model(http: aiohttp.ClientSession) -> None:
    """Custom mode keeps the sent lyrics, tags and title, and reports `mv` as model_name."""
    lyrics = "[Verse]\nWalking down the streets"
    body = {"prompt": lyrics, "tags": "emotional punk", "title": "City Lights", "mv": "chirp-crow"}
    task = await fetch(http, await submit(http, body))
    clip = task["data"][0]
    assert (clip["title"], clip["model_name"], clip["major_model_version"]) == ("City Lights", "chirp-crow", "v5")
    assert clip["metadata"]["prompt"] == lyrics
    assert clip["metadata"]["tags"] == "emotional punk"
    assert clip["metadata"]["gpt_description_prompt"] is None
    assert clip["metadata"]["type"] == "gen"


async def test_unknown_task_id_is_task_not_exist(http: aiohttp.ClientSession) -> None:
    """Fetching an id the simulator never issued gives 400 task_not_exist."""
    async with http.get("/suno/fetch/00000000-0000-4000-8000-000000000000") as resp:
        assert resp.status == 400
        assert await resp.json() == {"code": "task_not_exist", "message": "task_not_exist", "data": None}


async def test_invalid_json_body_is_rejected(http: aiohttp.ClientSession) -> None:
    """A body that is not a JSON object gets 400 with the gateway `invalid_request` envelope."""
    async with http.post("/suno/submit/music", data=b"{not json", headers={"Content-Type": "application/json"}) as r:
        assert r.status == 400
        body = await r.json()
    assert body["error"]["code"] == "invalid_request"


# lyrics, extend, concat ---------------------------------------------------------------------------


async def test_lyrics_task_data_is_an_object(http: aiohttp.ClientSession) -> None:
    """A finished lyrics task has action LYRICS and data {id, text, title, status: complete}."""
    task_id = await submit(http, {"prompt": "neon rain"}, "/suno/submit/lyrics")
    task = await fetch(http, task_id)
    assert (task["action"], task["status"]) == ("LYRICS", "SUCCESS")
    assert set(task["data"]) == {"id", "text", "title", "status"}
    assert task["data"]["id"] == task_id
    assert task["data"]["status"] == "complete"
    assert "neon rain" in task["data"]["text"]
    assert task["data"]["title"] == "Neon Rain"


@pytest.mark.parametrize("prompt", ["", "   "])
async def test_blank_lyrics_prompt_is_rejected(http: aiohttp.ClientSession, prompt: str) -> None:
    """An empty or blank lyrics prompt gets the relay's 400 prompt_empty body."""
    async with http.post("/suno/submit/lyrics", json={"prompt": prompt}) as resp:
        assert resp.status == 400
        assert await resp.json() == {"code": "invalid_request", "message": "prompt_empty", "data": None}


async def test_extend_without_task_id_is_rejected(http: aiohttp.ClientSession) -> None:
    """Sending continue_clip_id without task_id gets the relay's 400 `task id is empty` body."""
    body = {"prompt": "x", "continue_clip_id": "abc", "continue_at": 30, "task": "extend"}
    async with http.post("/suno/submit/music", json=body) as resp:
        assert resp.status == 400
        assert await resp.json() == {"code": "invalid_request", "message": "task id is empty", "data": None}


async def test_extend_of_unknown_clip_fails_later(http: aiohttp.ClientSession) -> None:
    """Extending a clip id the simulator never made is accepted, then the task ends FAILURE."""
    body = {"prompt": "x", "continue_clip_id": "nope", "continue_at": 30, "task_id": "t", "task": "extend"}
    task = await fetch(http, await submit(http, body))
    assert (task["status"], task["data"]) == ("FAILURE", None)
    assert "nope" in task["fail_reason"]


async def test_concat_is_one_clip_as_long_as_the_extend_chain(http: aiohttp.ClientSession) -> None:
    """Concat of an extended clip gives one `concat` clip: parent up to continue_at plus the extension."""
    first = await fetch(http, await submit(http, {"prompt": "a", "tags": "pop", "title": "Song"}))
    parent = first["data"][0]
    extend = {
        "prompt": "b",
        "continue_clip_id": parent["id"],
        "continue_at": 40,
        "task_id": first["task_id"],
        "task": "extend",
        "tags": "pop",
        "title": "Song",
    }
    child = (await fetch(http, await submit(http, extend)))["data"][0]
    assert child["metadata"]["history"][0]["id"] == parent["id"]
    concat = await fetch(http, await submit(http, {"clip_id": child["id"], "is_infill": False}, "/suno/submit/concat"))
    assert concat["status"] == "SUCCESS"
    [clip] = concat["data"]
    assert clip["metadata"]["type"] == "concat"
    assert clip["metadata"]["duration"] == pytest.approx(40 + child["metadata"]["duration"], abs=0.01)
    assert [h["id"] for h in clip["metadata"]["concat_history"]] == [parent["id"], child["id"]]


# batch fetch ---------------------------------------------------------------------------------------


async def test_batch_fetch_leaves_out_unknown_ids(http: aiohttp.ClientSession) -> None:
    """Batch fetch returns only known tasks, mixing MUSIC and LYRICS whatever `action` says."""
    music = await submit(http, {"gpt_description_prompt": "sea"})
    lyrics = await submit(http, {"prompt": "sky"}, "/suno/submit/lyrics")
    async with http.post("/suno/fetch", json={"ids": [music, "unknown", lyrics], "action": "MUSIC"}) as resp:
        assert resp.status == 200
        payload = await resp.json()
    assert payload["code"] == "success"
    by_id = {t["task_id"]: t for t in payload["data"]}
    assert set(by_id) == {music, lyrics}
    assert isinstance(by_id[music]["data"], list)
    assert isinstance(by_id[lyrics]["data"], dict)
    assert [t["task_id"] for t in payload["data"]] != [music, lyrics]  # order is not the request's


async def test_batch_fetch_with_no_ids_returns_empty_list(http: aiohttp.ClientSession) -> None:
    """An empty `ids` list gives `data: []`."""
    async with http.post("/suno/fetch", json={"ids": [], "action": "MUSIC"}) as resp:
        assert await resp.json() == {"code": "success", "message": "", "data": []}


async def test_batch_of_1000_seeded_tasks_is_fetchable_in_bulk(
    sim: SimulatorServer, http: aiohttp.ClientSession
) -> None:
    """Seeded tasks are fetchable in bulk with the statuses they were seeded with (how fast the simulator renders
    them is measured by bench/poller.py, never asserted here: the machines are shared)."""
    hanging = sim.state.seed_tasks(1000, outcome="hang")
    done = sim.state.seed_tasks(10, action="LYRICS")
    async with http.post("/suno/fetch", json={"ids": hanging + done, "action": "MUSIC"}) as resp:
        data = (await resp.json())["data"]
    statuses = {t["task_id"]: t["status"] for t in data}
    assert len(statuses) == 1010
    assert {statuses[i] for i in hanging} == {"IN_PROGRESS"}
    assert {statuses[i] for i in done} == {"SUCCESS"}


# outcomes ------------------------------------------------------------------------------------------


async def test_fail_magic_word_fails_with_error_clips(http: aiohttp.ClientSession) -> None:
    """`[fail]` ends in FAILURE with the moderation reason and `error` clips pointing at None.mp3."""
    task = await fetch(http, await submit(http, {"gpt_description_prompt": "a song [fail]"}))
    assert (task["status"], task["progress"], task["fail_reason"]) == ("FAILURE", "100%", MODERATION_REASON)
    assert task["finish_time"] > 0
    for clip in task["data"]:
        assert clip["status"] == "error"
        assert clip["audio_url"].endswith("/None.mp3")
        assert clip["metadata"]["error_message"] == MODERATION_REASON


async def test_fail_early_magic_word_fails_without_clips(http: aiohttp.ClientSession) -> None:
    """`[fail-early]` ends in FAILURE with `data: null`."""
    task = await fetch(http, await submit(http, {"prompt": "[fail-early]", "tags": "pop", "title": "t"}))
    assert (task["status"], task["data"], task["start_time"]) == ("FAILURE", None, 0)
    assert task["fail_reason"] == "task failed"


async def test_hang_magic_word_stays_in_progress() -> None:
    """`[hang]` keeps a task IN_PROGRESS however much time passes."""
    clock = ManualClock()
    async with (
        SimulatorServer(api_key=KEY, timings=SLOW, clock=clock) as sim,
        aiohttp.ClientSession(sim.url, headers=AUTH) as http,
    ):
        task_id = await submit(http, {"gpt_description_prompt": "[hang] forever"})
        clock.advance(10_000)
        task = await fetch(http, task_id)
    assert (task["status"], task["finish_time"]) == ("IN_PROGRESS", 0)
    assert {c["status"] for c in task["data"]} == {"streaming"}


async def test_partial_magic_word_errors_the_second_clip(http: aiohttp.ClientSession) -> None:
    """`[partial]` succeeds, but the second clip is `error` with None.mp3 and an error message."""
    task = await fetch(http, await submit(http, {"gpt_description_prompt": "half [partial]"}))
    good, bad = task["data"]
    assert task["status"] == "SUCCESS"
    assert good["status"] == "complete"
    assert good["audio_url"].endswith(f"/{good['id']}.mp3")
    assert (bad["status"], bad["audio_url"].rsplit("/", 1)[1]) == ("error", "None.mp3")
    assert bad["metadata"]["error_message"]
    assert bad["metadata"]["duration"] is None


async def test_fail_next_fails_only_the_next_task(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    """`state.fail_next(reason)` fails the next submitted task with that reason, then stops."""
    sim.state.fail_next("out of credits upstream")
    failed = await fetch(http, await submit(http, {"gpt_description_prompt": "one"}))
    ok = await fetch(http, await submit(http, {"gpt_description_prompt": "two"}))
    assert (failed["status"], failed["fail_reason"]) == ("FAILURE", "out of credits upstream")
    assert ok["status"] == "SUCCESS"


async def test_set_status_forces_a_status(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    """`state.set_status` overrides the timeline, e.g. to fail a task that would succeed."""
    task_id = await submit(http, {"gpt_description_prompt": "x"})
    sim.state.set_status(task_id, "FAILURE", fail_reason="forced")
    task = await fetch(http, task_id)
    assert (task["status"], task["fail_reason"]) == ("FAILURE", "forced")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


# faults --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "check"),
    [
        (401, lambda b: b["error"]["message"].startswith("invalid token")),
        (403, lambda b: b == {"code": "quota_not_enough", "message": "user quota is not enough", "data": None}),
        (500, lambda b: b["error"]["type"] == "comet_api_error"),
        (503, lambda b: b["error"]["type"] == "comet_api_error"),
    ],
)
async def test_status_faults_send_fixture_shaped_bodies(sim, http, status, check) -> None:
    """An int fault answers with that status and CometAPI's body for it, then the next request is normal."""
    sim.faults.script("batch_fetch", [status])
    async with http.post("/suno/fetch", json={"ids": []}) as resp:
        assert resp.status == status
        assert check(await resp.json())
    async with http.post("/suno/fetch", json={"ids": []}) as resp:
        assert resp.status == 200


async def test_script_is_consumed_in_order_with_retry_after(sim, http) -> None:
    """A script [500, 429, "ok"] gives 500, then 429 with Retry-After, then a normal answer."""
    sim.faults.script("batch_fetch", [500, Fault(429, retry_after=0.05), "ok"])
    seen = []
    for _ in range(3):
        async with http.post("/suno/fetch", json={"ids": []}) as resp:
            seen.append((resp.status, resp.headers.get("Retry-After")))
    assert seen == [(500, None), (429, "0.05"), (200, None)]
    assert sim.count("batch_fetch") == 3
    assert sim.faults.pending("batch_fetch") == 0


async def test_plain_429_defaults_to_retry_after_one_second(sim, http) -> None:
    """A shorthand 429 carries `Retry-After: 1` and the gateway rate-limit envelope."""
    sim.faults.script("fetch", [429])
    async with http.get("/suno/fetch/any") as resp:
        assert (resp.status, resp.headers["Retry-After"]) == (429, "1")
        assert "rate limit" in (await resp.json())["error"]["message"]


@pytest.mark.parametrize(
    ("fault", "status", "content_type", "check"),
    [
        ("malformed", 200, "application/json", lambda t: not _is_json(t)),
        ("html", 200, "text/html", lambda t: t.lstrip().startswith("<!DOCTYPE html>")),
        (
            "null_data",
            200,
            "application/json",
            lambda t: json.loads(t) == {"code": "success", "message": "", "data": None},
        ),
        ("relay_429", 429, "application/json", lambda t: json.loads(t)["code"] == "fail_to_fetch_task"),
    ],
)
async def test_body_faults(sim, http, fault, status, content_type, check) -> None:
    """Named faults send a broken, HTML, null-data or relay-429 answer instead of the real one."""
    sim.faults.script("submit_music", [fault])
    async with http.post("/suno/submit/music", json={"gpt_description_prompt": "x"}) as resp:
        assert (resp.status, resp.content_type) == (status, content_type)
        assert check(await resp.text())
    assert sim.state.tasks == {}


async def test_reset_fault_drops_the_connection(sim, http) -> None:
    """A "reset" closes the connection without any response."""
    sim.faults.script("submit_music", ["reset"])
    with pytest.raises(aiohttp.ServerDisconnectedError):
        async with http.post("/suno/submit/music", json={"gpt_description_prompt": "x"}):
            pass
    assert sim.state.tasks == {}
    await submit(http, {"gpt_description_prompt": "x"})  # the next connection works


async def test_hang_fault_times_out_the_client_without_blocking_others(sim, http) -> None:
    """A "hang" outlasts the client timeout while other requests are still answered."""
    sim.faults.script("fetch", ["hang"])
    hung = asyncio.create_task(http.get("/suno/fetch/x", timeout=aiohttp.ClientTimeout(total=0.5)))
    await asyncio.sleep(0.05)
    async with http.post("/suno/fetch", json={"ids": []}) as resp:
        assert resp.status == 200
    with pytest.raises(asyncio.TimeoutError):
        await hung


async def test_short_hang_answers_normally_afterwards(sim, http) -> None:
    """A hang with a short `hang_seconds` then behaves normally: a slow but successful submit."""
    sim.faults.script("submit_music", [Fault("hang", hang_seconds=0.1)])
    start = time.perf_counter()
    task_id = await submit(http, {"gpt_description_prompt": "slow"})
    assert time.perf_counter() - start >= 0.1
    assert task_id in sim.state.tasks


async def test_stop_cuts_off_hanging_requests() -> None:
    """Stopping the server ends a hanging request at once instead of waiting an hour."""
    sim = await SimulatorServer(api_key=KEY).start()
    sim.faults.always("udio_query", "hang")
    async with aiohttp.ClientSession(sim.url, headers=AUTH) as http:
        hung = asyncio.create_task(http.get("/udio/query", params={"ids": "a"}))
        await asyncio.sleep(0.05)
        start = time.perf_counter()
        await sim.stop()
        assert time.perf_counter() - start < 2
        with pytest.raises(aiohttp.ClientError):
            await hung


async def test_always_fault_persists_until_cleared(sim, http) -> None:
    """`faults.always` answers every request until `faults.clear()`."""
    sim.faults.always("udio_generate", 503)
    body = {"gen_params": {"prompt": "p", "lyrics": "", "lyrics_type": "generate", "model_type": "udio32-v1.5"}}
    for _ in range(2):
        async with http.post("/udio/generate-proxy", json=body) as resp:
            assert resp.status == 503
    sim.faults.clear()
    async with http.post("/udio/generate-proxy", json=body) as resp:
        assert resp.status == 200


def test_unknown_fault_or_endpoint_is_refused(sim: SimulatorServer) -> None:
    """Typos in fault scripts fail loudly instead of silently doing nothing."""
    with pytest.raises(ValueError, match="endpoint"):
        sim.faults.script("fetch_batch", [500])
    with pytest.raises(ValueError, match="fault"):
        sim.faults.script("fetch", ["timeout"])


# udio ----------------------------------------------------------------------------------------------


async def test_udio_generation_finishes_and_is_queried_as_text_plain() -> None:
    """Udio songs go from finished:false with no song_path to finished:true; /udio/query is text/plain."""
    clock = ManualClock()
    params = {
        "prompt": "rock, pop soul",
        "lyrics": "la la",
        "lyrics_type": "user",
        "model_type": "udio130-v1.5",
        "config": {"mode": "regular"},
    }
    async with (
        SimulatorServer(api_key=KEY, timings=SLOW, clock=clock) as sim,
        aiohttp.ClientSession(sim.url, headers=AUTH) as http,
    ):
        generation_id = await submit(http, {"gen_params": params}, "/udio/generate-proxy")
        async with http.get("/udio/query", params={"ids": generation_id}) as resp:
            assert resp.content_type == "text/plain"
            pending = json.loads(await resp.text())["songs"]
        clock.advance(30)
        async with http.get("/udio/query", params={"ids": generation_id}) as resp:
            songs = json.loads(await resp.text())["songs"]
        song_ids = ",".join(s["id"] for s in songs)
        async with http.get("/udio/query", params={"ids": song_ids}) as resp:
            by_song = json.loads(await resp.text())["songs"]
    assert [(s["finished"], s["song_path"]) for s in pending] == [(False, ""), (False, "")]
    assert len(songs) == 2
    for song in songs:
        assert song["finished"] is True
        assert song["generation_id"] == generation_id
        assert song["song_path"] == f"{sim.url}/media/{song['id']}.mp3"
        assert (song["lyrics"], song["tags"]) == ("la la", ["rock", "pop soul"])
        assert 129 < song["duration"] < 133
        assert song["error_type"] is None
    assert {s["id"] for s in by_song} == {s["id"] for s in songs}


async def test_udio_failure_sets_error_fields(http: aiohttp.ClientSession) -> None:
    """A `[fail]` Udio prompt finishes with error_* set and no song_path."""
    params = {"prompt": "[fail]", "lyrics": "", "lyrics_type": "instrumental", "model_type": "udio32-v1.5"}
    generation_id = await submit(http, {"gen_params": params}, "/udio/generate-proxy")
    async with http.get("/udio/query", params={"ids": generation_id}) as resp:
        songs = json.loads(await resp.text())["songs"]
    assert {(s["finished"], s["song_path"], s["error_type"]) for s in songs} == {(True, "", "moderation")}
    assert all(s["error_detail"] == MODERATION_REASON for s in songs)


@pytest.mark.parametrize("change", [{"model_type": "udio64"}, {"lyrics_type": "poem"}])
async def test_udio_rejects_unknown_enums(http: aiohttp.ClientSession, change: dict[str, str]) -> None:
    """An unknown model_type or lyrics_type gets 400 with the gateway envelope."""
    params = {"prompt": "p", "lyrics": "", "lyrics_type": "generate", "model_type": "udio32-v1.5"} | change
    async with http.post("/udio/generate-proxy", json={"gen_params": params}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "invalid_request"


# media ---------------------------------------------------------------------------------------------


async def test_media_files_have_the_right_types(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    """Result URLs serve an MP3 of `audio_bytes`, PNG covers and an MP4, with matching content types."""
    clip = (await fetch(http, await submit(http, {"gpt_description_prompt": "x"})))["data"][0]
    async with aiohttp.ClientSession() as cdn:  # no key: media is public, like a CDN
        async with cdn.get(clip["audio_url"]) as resp:
            assert resp.content_type == "audio/mpeg"
            audio = await resp.read()
        async with cdn.get(clip["image_url"]) as resp:
            assert resp.content_type == "image/png"
            small = await resp.read()
        async with cdn.get(clip["image_large_url"]) as resp:
            large = await resp.read()
        async with cdn.get(clip["video_url"]) as resp:
            assert resp.content_type == "video/mp4"
            video = await resp.read()
        async with cdn.get(f"{sim.url}/media/stream/{clip['id']}") as resp:
            assert (resp.status, resp.content_type) == (200, "audio/mpeg")
    assert len(audio) == 20_000
    assert audio[:3] == b"ID3"
    assert b"\xff\xfb\x90\x64" in audio[:2000]
    assert small[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", small[16:24]) == (64, 64)
    assert struct.unpack(">II", large[16:24]) == (256, 256)
    assert video[4:8] == b"ftyp"


@pytest.mark.parametrize("name", ["None.mp3", "00000000-0000-4000-8000-000000000000.mp3", "passwd"])
async def test_missing_media_is_404(sim: SimulatorServer, name: str) -> None:
    """None.mp3 and unknown ids are not found, as on the real CDN."""
    async with aiohttp.ClientSession() as cdn, cdn.get(f"{sim.url}/media/{name}") as resp:
        assert resp.status == 404
