"""How the live relay differs from the documented API (shared/api/cometapi-music.md §8), as switchable behaviours.

Everything here is off by default, so the simulator answers as the docs describe; `Relay.live()` switches on
what the relay's source shows it does. Tests may also flip single behaviours on a running simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

# What the relay answers a key whose quota is used up: "this token's quota is used up" (note: no word "quota").
USED_UP_MESSAGE: Final = "该令牌额度已用尽"
# What the relay says instead of an upstream error that mentions http, post or dial: "requesting the upstream failed".
UPSTREAM_REFUSAL_MESSAGE: Final = "请求上游地址失败"
UPSTREAM_REFUSAL_CODE: Final = "upstream_error"
# The only fields the relay rebuilds a description-mode (inspiration) submit from; tags and title are lost.
DESCRIPTION_MODE_FIELDS: Final = ("gpt_description_prompt", "prompt", "mv", "make_instrumental")


@dataclass(slots=True)
class Relay:
    """Switches for each relay behaviour; all off means the documented API."""

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
    # Keys whose quota is used up: every API call with one answers 401 with USED_UP_MESSAGE.
    used_up_keys: set[str] = field(default_factory=set)
    # Endpoint names whose submits the upstream refuses: the relay answers 500 with the task relay's
    # `{code, message, data: null}`, the message replaced by UPSTREAM_REFUSAL_MESSAGE.
    upstream_refuses: set[str] = field(default_factory=set)

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
        )

    def forwarded(self, body: dict[str, Any]) -> dict[str, Any]:
        """The submit body the upstream sees once the relay has rebuilt it."""
        if not self.drop_description_extras or not body.get("gpt_description_prompt"):
            return body
        kept: dict[str, Any] = {name: body[name] for name in DESCRIPTION_MODE_FIELDS if name in body}
        kept["prompt"] = ""
        return kept
