"""How the live relay differs from the documented API (shared/api/cometapi-music.md §8), as switchable behaviours.

Everything here is off (or the documented answer) by default, so the simulator answers as the docs describe;
`Relay.live()` switches on what the relay's source shows it does. Where the docs list several answers and which one
CometAPI serves is not settled (WAV, MP4, uploads), a field picks the variant. Tests may also flip single behaviours
on a running simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias

# What the relay answers a key whose quota is used up: "this token's quota is used up" (note: no word "quota").
USED_UP_MESSAGE: Final = "该令牌额度已用尽"
# What the relay says instead of an upstream error that mentions http, post or dial: "requesting the upstream failed".
UPSTREAM_REFUSAL_MESSAGE: Final = "请求上游地址失败"
UPSTREAM_REFUSAL_CODE: Final = "upstream_error"
# The only fields the relay rebuilds a description-mode (inspiration) submit from; tags and title are lost.
DESCRIPTION_MODE_FIELDS: Final = ("gpt_description_prompt", "prompt", "mv", "make_instrumental")
# How /suno/act/wav and /suno/act/mp4 answer (shared/api §2.10, §2.12, §8; fixtures suno_wav_*_2026-12.json):
# "url" the raw `{wav_file_url}` object, "wrapped" the same inside `{code, data}`, "task" `{code, data: "<task id>"}`
# (a conversion to fetch at /suno/fetch/{id}), "not_ready" `{}` until the conversion is done (see conversions.py).
ActAnswer: TypeAlias = Literal["url", "wrapped", "task", "not_ready"]
ACT_ANSWERS: Final[tuple[ActAnswer, ...]] = ("url", "wrapped", "task", "not_ready")
# What /suno/uploads/audio-url answers (§2.5, §8): "task" the upload's task id (documented); "unknown" an id no fetch
# knows (the uploaded clip's id, as some relays answer): batch fetch leaves it out, the single fetch says
# task_not_exist; "unlisted" the task id, but batch fetch leaves upload tasks out while the single fetch knows them.
UploadAnswer: TypeAlias = Literal["task", "unknown", "unlisted"]
UPLOAD_ANSWERS: Final[tuple[UploadAnswer, ...]] = ("task", "unknown", "unlisted")
StemsAnswer: TypeAlias = Literal["task", "raw"]


@dataclass(slots=True)
class Relay:
    """Switches for each relay behaviour; all off (each variant at its documented answer) means the documented API."""

    # Description mode forwards only DESCRIPTION_MODE_FIELDS (with `prompt: ""`); `tags` and `title` are dropped.
    drop_description_extras: bool = False
    # One complete clip and one errored clip make the task FAILURE (the less finished clip wins), refunded.
    mixed_clips_fail: bool = False
    # `progress` stays "0%" while the task runs and jumps to "100%" at the end.
    flat_progress: bool = False
    # A path the relay does not know is answered by the web UI's catch-all: 200 with an HTML page.
    html_catch_all: bool = False
    # A batch fetch that knows none of the (non-empty) ids answers `data: null` instead of `[]`.
    null_unknown_batch: bool = False
    # /udio/query answers `{code, data: {status, data: [{songs}]}}` (a sibling gateway's shape), not `{songs}`.
    udio_nested: bool = False
    # Endpoint names (see ENDPOINTS) whose route is switched off: answered like an unknown path (200 HTML).
    switched_off: set[str] = field(default_factory=set)
    # Keys whose quota is used up: every API call with one answers 401 with USED_UP_MESSAGE, after a fragment of the
    # key (`[sk-abc***xyz]`), as the live relay does.
    used_up_keys: set[str] = field(default_factory=set)
    # Endpoint names whose submits the upstream refuses: the relay answers 500 with the task relay's
    # `{code, message, data: null}`, the message replaced by UPSTREAM_REFUSAL_MESSAGE.
    upstream_refuses: set[str] = field(default_factory=set)
    # Which documented answer each take-tool route gives, by endpoint name ("wav", "mp4"); unnamed: "url".
    act_answers: dict[str, ActAnswer] = field(default_factory=dict)
    # How many times a WAV/MP4 conversion is reported unfinished ("task": fetches, "not_ready": asks) before its link.
    conversion_polls: int = 2
    # What an upload is answered with; see UploadAnswer.
    upload_answer: UploadAnswer = "task"
    # Complete clips carry their `video_url` (§2.3); off, as in other upstreams' flattened clips, a take's video comes
    # only from /suno/act/mp4.
    clip_videos: bool = True
    # A `continue_clip_id` makes the relay require `task_id` to be a music task of this account (§8): a cover that
    # names an uploaded clip that way is answered 400 `task_origin_not_exist`. Only `task: "upload_extend"`, the
    # documented way to continue an upload (§2.1, §2.5), passes; a cover names its source in `cover_clip_id`.
    upload_origin_check: bool = False
    # What a stem separation (`task: "gen_stem"`) is answered with: "task" the task envelope (§2.7, what a
    # submit/music should give), "raw" the raw `{id, clips}` body CometAPI's stems page shows
    # (fixtures/suno_stems_submit_raw_2026-12.json): 200 and charged, but no task id to fetch.
    stems_answer: StemsAnswer = "task"
    # Submit `task`s the upstream ignores ("gen_stem", "cover", "upload_extend", "artist_consistency"): it drops the
    # task and its fields and makes an ordinary song of the rest.
    ignored_tasks: set[str] = field(default_factory=set)

    @classmethod
    def live(cls) -> Relay:
        """Every behaviour of the live relay on (no route switched off, no key used up, no upstream refusing)."""
        return cls(
            drop_description_extras=True,
            mixed_clips_fail=True,
            flat_progress=True,
            html_catch_all=True,
            null_unknown_batch=True,
            udio_nested=True,
            upload_origin_check=True,
        )

    def used_up_text(self, key: str) -> str:
        """The relay's 401 text for a used-up key: it names a fragment of the key, as new-api does (shared/api §8)."""
        return f"[{key_fragment(key)}] {USED_UP_MESSAGE}"

    def forwarded(self, body: dict[str, Any]) -> dict[str, Any]:
        """The submit body the upstream sees once the relay has rebuilt it."""
        if not self.drop_description_extras or not body.get("gpt_description_prompt"):
            return body
        kept: dict[str, Any] = {name: body[name] for name in DESCRIPTION_MODE_FIELDS if name in body}
        kept["prompt"] = ""
        return kept


# What an upstream that ignores `task` drops: the task and the fields only it reads (stems, covers, persona songs).
TASK_FIELDS: Final = ("task", "cover_clip_id", "persona_id", "artist_clip_id", "stem_type_id", "stem_type_group_name",
                      "stem_task", "generation_type", "continued_aligned_prompt")


def without_task(body: dict[str, Any]) -> dict[str, Any]:
    """The body an upstream that ignores `task` acts on: an ordinary song (a stem separation loses its source too)."""
    kept = {name: value for name, value in body.items() if name not in TASK_FIELDS}
    if body.get("task") == "gen_stem":
        kept.pop("continue_clip_id", None)
        kept.pop("continue_at", None)
    return kept


def key_fragment(key: str) -> str:
    """How new-api names a key in its errors: `sk-` and the first and last three characters of the rest."""
    rest = key.removeprefix("sk-")
    return f"sk-{rest[:3]}***{rest[-3:]}"
