"""The simulator's relay mode (shared/api/cometapi-music.md §8), over real HTTP with a plain aiohttp client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.simulator import (
    UPSTREAM_REFUSAL_MESSAGE,
    USED_UP_MESSAGE,
    ManualClock,
    Relay,
    SimulatorServer,
    Timings,
    key_fragment,
)
from bot.simulator.__main__ import parse_args, relay_of

KEY = "sk-test"
AUTH = {"Authorization": f"Bearer {KEY}"}
UDIO = {"prompt": "rock", "lyrics": "", "lyrics_type": "generate", "model_type": "udio32-v1.5"}


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(api_key=KEY, timings=Timings.instant(), seed=7, relay=True) as server:
        yield server


@pytest.fixture
async def http(sim: SimulatorServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(sim.url, headers=AUTH) as session:
        yield session


async def post(http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> tuple[int, str, str]:
    async with http.post(path, json=body) as resp:
        return resp.status, resp.content_type, await resp.text()


async def submit(http: aiohttp.ClientSession, body: dict[str, Any], path: str = "/suno/submit/music") -> str:
    status, _, text = await post(http, path, body)
    assert status == 200, text
    task_id: str = json.loads(text)["data"]
    return task_id


async def fetch(http: aiohttp.ClientSession, task_id: str) -> dict[str, Any]:
    async with http.get(f"/suno/fetch/{task_id}") as resp:
        task: dict[str, Any] = (await resp.json())["data"]
    return task


def test_relay_is_off_by_default_and_live_switches_on_every_behaviour() -> None:
    """A plain simulator follows the docs; Relay.live() has every switch on, no route or key singled out."""
    assert Relay() == SimulatorServer().relay
    live = Relay.live()
    values = {name: getattr(live, name) for name in Relay.__dataclass_fields__}
    assert all(value is True for value in values.values() if isinstance(value, bool))
    assert all(value == set() for value in values.values() if isinstance(value, set))


def test_command_line_flags_build_the_relay() -> None:
    """--relay, --switch-off and --used-up-key reach the simulator's Relay."""
    relay = relay_of(parse_args(["--relay", "--switch-off", "udio_generate", "--used-up-key", "sk-empty"]))
    assert relay.flat_progress and relay.drop_description_extras
    assert (relay.switched_off, relay.used_up_keys) == ({"udio_generate"}, {"sk-empty"})
    assert relay_of(parse_args([])) == Relay()


async def test_description_mode_drops_tags_and_title(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    """The upstream sees only the description, an empty prompt, mv and make_instrumental."""
    sent = {"gpt_description_prompt": "cats", "tags": "punk", "title": "Meow", "mv": "chirp-crow",
            "make_instrumental": False, "negative_tags": "jazz"}
    task_id = await submit(http, sent)
    assert sim.requests_to("submit_music")[0].body == sent  # the log keeps what the client sent
    assert sim.state.tasks[task_id].request == {
        "gpt_description_prompt": "cats", "prompt": "", "mv": "chirp-crow", "make_instrumental": False,
    }


async def test_custom_mode_keeps_tags_and_title(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    """Only description mode is rebuilt: custom mode keeps its style and title."""
    task = await fetch(http, await submit(http, {"prompt": "[Verse]\nla", "tags": "punk", "title": "Meow"}))
    assert {(c["title"], c["metadata"]["tags"]) for c in task["data"]} == {("Meow", "punk")}


async def test_one_failed_clip_fails_the_task_with_the_other_complete(http: aiohttp.ClientSession) -> None:
    """[partial]: one complete clip and one error clip make the task FAILURE, with no task-level reason."""
    task = await fetch(http, await submit(http, {"gpt_description_prompt": "half [partial]"}))
    good, bad = task["data"]
    assert (task["status"], task["progress"], task["fail_reason"]) == ("FAILURE", "100%", "")
    assert (good["status"], good["audio_url"].endswith(f"/{good['id']}.mp3")) == ("complete", True)
    assert (bad["status"], bad["audio_url"].rsplit("/", 1)[1]) == ("error", "None.mp3")
    assert bad["metadata"]["error_message"]
    assert bad["metadata"]["error_type"] == "generation"


async def test_progress_stays_at_zero_until_done() -> None:
    """While the task runs, progress is "0%", then "100%" when it ends."""
    clock = ManualClock()
    timings = Timings(not_start=1, submitted=1, queued=0, in_progress=20)
    async with (
        SimulatorServer(api_key=KEY, timings=timings, clock=clock, relay=Relay(flat_progress=True)) as sim,
        aiohttp.ClientSession(sim.url, headers=AUTH) as http,
    ):
        task_id = await submit(http, {"gpt_description_prompt": "rain"})
        seen = []
        for _ in range(12):
            clock.advance(2)
            task = await fetch(http, task_id)
            seen.append((task["status"], task["progress"]))
    assert ("IN_PROGRESS", "0%") in seen
    assert {progress for status, progress in seen if status == "IN_PROGRESS"} == {"0%"}
    assert seen[-1] == ("SUCCESS", "100%")


@pytest.mark.parametrize(("method", "path"), [("GET", "/suno/no/such/route"), ("GET", "/suno/submit/music"),
                                              ("POST", "/v1/unknown")])
async def test_unknown_routes_answer_200_html(sim: SimulatorServer, http: aiohttp.ClientSession, method: str,
                                              path: str) -> None:
    """A path (or method) no route serves gets the web UI's page: 200 text/html, recorded as `unknown`."""
    async with http.request(method, path) as resp:
        assert (resp.status, resp.content_type) == (200, "text/html")
        assert (await resp.text()).lstrip().startswith("<!DOCTYPE html>")
    assert sim.requests[-1].endpoint == "unknown"


async def test_unknown_routes_are_404_without_the_relay() -> None:
    """Off by default: the documented API's 404."""
    async with (
        SimulatorServer(api_key=KEY) as sim,
        aiohttp.ClientSession(sim.url, headers=AUTH) as http,
        http.get("/suno/no/such/route") as resp,
    ):
        assert resp.status == 404


async def test_a_switched_off_route_answers_200_html_even_without_a_key(sim: SimulatorServer) -> None:
    """A switched-off route is the catch-all's page, whatever the key; nothing is created."""
    sim.relay.switched_off.add("udio_generate")
    async with aiohttp.ClientSession(sim.url) as anonymous:
        status, content_type, text = await post(anonymous, "/udio/generate-proxy", {"gen_params": UDIO})
    assert (status, content_type) == (200, "text/html")
    assert "<html>" in text
    assert sim.state.tasks == {}


async def test_a_used_up_key_gets_401_without_the_word_quota(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    """Every API call with a used-up key answers 401 with the relay's Chinese message, naming a fragment of the key
    (`[sk-tes***est]`) as the live relay does."""
    sim.relay.used_up_keys.add(KEY)
    status, _, text = await post(http, "/suno/submit/music", {"gpt_description_prompt": "cats"})
    assert status == 401
    message = json.loads(text)["error"]["message"]
    assert message.startswith(f"[{key_fragment(KEY)}] {USED_UP_MESSAGE}")
    assert key_fragment(KEY) == "sk-tes***est"
    assert "quota" not in message.lower()
    assert sim.state.tasks == {}


async def test_batch_fetch_of_only_unknown_ids_is_data_null(http: aiohttp.ClientSession) -> None:
    """No known id: `data: null`; no ids at all: `[]`; some known: the known ones."""
    known = await submit(http, {"gpt_description_prompt": "cats"})
    answers = []
    for ids in (["nope", "nada"], [], ["nope", known]):
        status, _, text = await post(http, "/suno/fetch", {"ids": ids, "action": "MUSIC"})
        assert status == 200
        answers.append(json.loads(text)["data"])
    assert answers[0] is None
    assert answers[1] == []
    assert [task["task_id"] for task in answers[2]] == [known]


async def test_udio_query_answers_the_nested_shape(http: aiohttp.ClientSession) -> None:
    """`{code, data: {status, data: [{songs}]}}` per id asked; `data: null` when no id is known."""
    generation = await submit(http, {"gen_params": UDIO}, "/udio/generate-proxy")
    async with http.get("/udio/query", params={"ids": f"{generation},unknown"}) as resp:
        body = json.loads(await resp.text())
    assert body["code"] == "success"
    assert body["data"]["status"] == "SUCCESS"
    (item,) = body["data"]["data"]
    assert [song["generation_id"] for song in item["songs"]] == [generation, generation]
    assert all(song["finished"] for song in item["songs"])
    async with http.get("/udio/query", params={"ids": "unknown"}) as resp:
        assert json.loads(await resp.text())["data"] is None


async def test_an_upstream_refusal_is_a_500_with_the_relays_generic_message(sim: SimulatorServer,
                                                                            http: aiohttp.ClientSession) -> None:
    """A refused submit answers 500 `{code, message: 请求上游地址失败, data: null}` and creates nothing."""
    sim.relay.upstream_refuses.add("submit_music")
    status, _, text = await post(http, "/suno/submit/music", {"gpt_description_prompt": "cats"})
    assert status == 500
    assert json.loads(text) == {"code": "upstream_error", "message": UPSTREAM_REFUSAL_MESSAGE, "data": None}
    assert sim.state.tasks == {}


# ---- answers documented in several shapes: WAV/MP4 and uploads (shared/api §2.5, §2.10, §2.12, §8) -------------


async def get_json(http: aiohttp.ClientSession, path: str) -> tuple[int, Any]:
    async with http.get(path) as resp:
        return resp.status, json.loads(await resp.text())


async def a_complete_clip(http: aiohttp.ClientSession) -> str:
    task = await fetch(http, await submit(http, {"gpt_description_prompt": "cats"}))
    clip_id: str = task["data"][0]["id"]
    return clip_id


@pytest.mark.parametrize("route", ["wav", "mp4"])
async def test_act_answers_serve_each_documented_shape(sim: SimulatorServer, http: aiohttp.ClientSession,
                                                       route: str) -> None:
    """url: `{<route>_file_url}`; wrapped: the same in `{code, data}`; task: `{code, data: "<task id>"}` whose
    fetch is IN_PROGRESS for `conversion_polls` fetches, then SUCCESS with the link; not_ready: `{}` that many
    times, then the link."""
    clip = await a_complete_clip(http)
    key, link = f"{route}_file_url", f"{sim.url}/media/{clip}.{route}"
    assert await get_json(http, f"/suno/act/{route}/{clip}") == (200, {key: link})
    sim.relay.act_answers[route] = "wrapped"
    wrapped = {"code": "success", "message": "", "data": {key: link}}
    assert (await get_json(http, f"/suno/act/{route}/{clip}"))[1] == wrapped
    sim.relay.act_answers[route] = "task"
    _, body = await get_json(http, f"/suno/act/{route}/{clip}")
    assert body["code"] == "success" and isinstance(body["data"], str)
    seen = [await fetch(http, body["data"]) for _ in range(sim.relay.conversion_polls + 1)]
    assert [(task["status"], task["data"]) for task in seen] == [("IN_PROGRESS", None)] * sim.relay.conversion_polls + [
        ("SUCCESS", {key: link})]
    sim.relay.act_answers[route] = "not_ready"
    answers = [(await get_json(http, f"/suno/act/{route}/{clip}"))[1] for _ in range(sim.relay.conversion_polls + 1)]
    assert answers == [{}] * sim.relay.conversion_polls + [{key: link}]


async def test_clips_without_videos_leave_video_url_empty(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    """clip_videos off: complete clips carry no video_url (the video comes only from /suno/act/mp4)."""
    sim.relay.clip_videos = False
    task = await fetch(http, await submit(http, {"gpt_description_prompt": "cats"}))
    assert task["status"] == "SUCCESS" and {clip["video_url"] for clip in task["data"]} == {""}


async def test_an_unknown_upload_id_is_known_to_no_fetch(sim: SimulatorServer, http: aiohttp.ClientSession) -> None:
    """upload_answer "unknown": the upload answers an id that batch fetch leaves out (`data: null`) and the single
    fetch answers 400 task_not_exist."""
    sim.relay.upload_answer = "unknown"
    upload_id = await submit(http, {"url": "https://example.com/demo.mp3"}, "/suno/uploads/audio-url")
    status, _, text = await post(http, "/suno/fetch", {"ids": [upload_id], "action": "MUSIC"})
    assert (status, json.loads(text)["data"]) == (200, None)
    assert await get_json(http, f"/suno/fetch/{upload_id}") == (
        400, {"code": "task_not_exist", "message": "task_not_exist", "data": None})


async def test_an_unlisted_upload_is_left_out_of_batch_fetch_but_fetched_alone(sim: SimulatorServer,
                                                                               http: aiohttp.ClientSession) -> None:
    """upload_answer "unlisted": batch fetch leaves the upload task out; the single fetch has it, with its clip."""
    sim.relay.upload_answer = "unlisted"
    upload_id = await submit(http, {"url": "https://example.com/demo.mp3"}, "/suno/uploads/audio-url")
    song_id = await submit(http, {"gpt_description_prompt": "cats"})
    status, _, text = await post(http, "/suno/fetch", {"ids": [upload_id, song_id], "action": "MUSIC"})
    assert status == 200 and [task["task_id"] for task in json.loads(text)["data"]] == [song_id]
    task = await fetch(http, upload_id)
    assert (task["task_id"], task["data"][0]["metadata"]["type"]) == (upload_id, "upload")


def test_command_line_flags_pick_the_documented_variants() -> None:
    """--wav-answer, --mp4-answer, --upload-answer and --no-clip-videos reach the simulator's Relay."""
    relay = relay_of(parse_args(["--wav-answer", "task", "--mp4-answer", "not_ready", "--upload-answer", "unknown",
                                 "--no-clip-videos"]))
    assert (relay.act_answers, relay.upload_answer, relay.clip_videos) == (
        {"wav": "task", "mp4": "not_ready"}, "unknown", False)
    plain = relay_of(parse_args([]))
    assert (plain.act_answers, plain.upload_answer, plain.clip_videos) == ({}, "task", True)
