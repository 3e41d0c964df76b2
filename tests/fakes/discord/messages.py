"""Messages the fake holds: creation from a request payload, edits, deletes, nonces and attachments."""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass, field
from typing import Any

from .limits import DiscordError, invalid_form, walk_all
from .models import FakeChannel, FakeMember, FakeUser, iso_now
from .recorder import RecordedFile
from .world import World

NONCE_TTL = 300.0  # Discord dedupes an enforced nonce for "a few minutes"
EPHEMERAL = 1 << 6
USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
FILE_FIELD = re.compile(r"files\[(\d+)\]")


@dataclass(slots=True, eq=False)
class StoredMessage:
    """A message and what happened to it. ``data`` is the current Discord message object."""

    data: dict[str, Any]
    channel_id: int
    history: list[dict[str, Any]] = field(default_factory=list)  # snapshot after create and each edit
    allowed_mentions: list[Any] = field(default_factory=list)  # as sent, per create/edit (None if absent)
    deleted: bool = False

    @property
    def id(self) -> int:
        return int(self.data["id"])

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)


@dataclass(frozen=True, slots=True)
class Blob:
    """Bytes behind an attachment URL, served by the fake's CDN route."""

    data: bytes
    content_type: str


def pinged_user_ids(message: dict[str, Any]) -> set[int]:
    """Ids of users the message actually pings (Discord's ``mentions`` after allowed_mentions)."""
    return {int(u["id"]) for u in message.get("mentions", [])}


class MessageStore:
    """All messages by id and by channel, with Discord's nonce de-duplication."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.cdn_base = ""  # set by the server once it knows its port
        self.by_id: dict[int, StoredMessage] = {}
        self.by_channel: dict[int, list[int]] = {}
        self.blobs: dict[int, Blob] = {}
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}

    # Queries ----------------------------------------------------------------------------------

    def get(self, message_id: int) -> StoredMessage | None:
        stored = self.by_id.get(message_id)
        return None if stored is None or stored.deleted else stored

    def require(self, message_id: int, channel_id: int | None = None) -> StoredMessage:
        stored = self.get(message_id)
        if stored is None or (channel_id is not None and stored.channel_id != channel_id):
            raise DiscordError(404, 10008, "Unknown Message")
        return stored

    def messages_in(self, channel_id: int) -> list[dict[str, Any]]:
        ids = self.by_channel.get(channel_id, [])
        return [self.by_id[i].snapshot() for i in ids if not self.by_id[i].deleted]

    def nonce_hit(self, channel_id: int, nonce: str) -> StoredMessage | None:
        """The message already created with this enforced nonce within the TTL, if any."""
        hit = self._nonces.get((channel_id, nonce))
        if hit is None or time.monotonic() - hit[1] > NONCE_TTL:
            return None
        return self.get(hit[0])

    def forget_nonces(self) -> None:
        """Discord remembers an enforced nonce for a few minutes only: forget every one, as if that long passed."""
        self._nonces.clear()

    # Mutations --------------------------------------------------------------------------------

    def create(
        self,
        channel: FakeChannel,
        author: FakeUser,
        payload: dict[str, Any],
        files: list[RecordedFile],
        *,
        extra: dict[str, Any] | None = None,
    ) -> StoredMessage:
        """Create a message from a create-message payload and the uploaded files."""
        message_id = self.world.snowflake()
        flags = int(payload.get("flags") or 0)
        data: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel.id),
            "author": author.payload(),
            "content": payload.get("content") or "",
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts", False)),
            "pinned": False,
            "type": 0,
            "flags": flags,
            "embeds": _embeds(payload.get("embeds")),
            "components": list(payload.get("components") or []),
            "attachments": self._attachments(channel.id, payload.get("attachments"), files, [], flags),
        }
        _check_attachment_refs(data)
        if payload.get("nonce") is not None:
            data["nonce"] = payload["nonce"]
        if channel.is_thread:
            data["position"] = len(self.by_channel.get(channel.id, []))
        self._apply_reference(data, payload)
        data.update(extra or {})
        self._apply_mentions(data, payload.get("allowed_mentions"), channel)
        stored = StoredMessage(data=data, channel_id=channel.id)
        stored.allowed_mentions.append(copy.deepcopy(payload.get("allowed_mentions")))
        stored.history.append(stored.snapshot())
        self.by_id[message_id] = stored
        self.by_channel.setdefault(channel.id, []).append(message_id)
        if payload.get("nonce") is not None and payload.get("enforce_nonce"):
            self._nonces[(channel.id, str(payload["nonce"]))] = (message_id, time.monotonic())
        return stored

    def edit(self, stored: StoredMessage, payload: dict[str, Any], files: list[RecordedFile]) -> StoredMessage:
        """Apply an edit-message payload: only keys present change, as on Discord."""
        data = stored.data
        for key in ("content", "components"):
            if key in payload:
                data[key] = payload[key] if payload[key] is not None else ([] if key == "components" else "")
        if "embeds" in payload:
            data["embeds"] = _embeds(payload["embeds"])
        if payload.get("flags") is not None:
            # Only SUPPRESS_EMBEDS can change on an edit; the rest (e.g. EPHEMERAL) stays.
            data["flags"] = (data["flags"] & ~4) | (int(payload["flags"]) & 4)
        if "attachments" in payload or files:
            data["attachments"] = self._attachments(
                stored.channel_id, payload.get("attachments"), files, data["attachments"], data["flags"]
            )
        data["flags"] &= ~(1 << 7)  # an edit ends the "thinking…" loading state
        data["edited_timestamp"] = iso_now()
        channel = self.world.channels.get(stored.channel_id)
        if channel is not None:
            self._apply_mentions(data, payload.get("allowed_mentions"), channel)
        stored.allowed_mentions.append(copy.deepcopy(payload.get("allowed_mentions")))
        stored.history.append(stored.snapshot())
        return stored

    def delete(self, stored: StoredMessage) -> None:
        stored.deleted = True

    # Helpers ----------------------------------------------------------------------------------

    def _attachments(
        self,
        channel_id: int,
        wanted: list[dict[str, Any]] | None,
        files: list[RecordedFile],
        existing: list[dict[str, Any]],
        flags: int,
    ) -> list[dict[str, Any]]:
        uploads: dict[int, RecordedFile] = {}
        for position, f in enumerate(files):
            match = FILE_FIELD.fullmatch(f.field)
            uploads[int(match.group(1)) if match else position] = f
        if wanted is None:
            # No attachments list: keep what was there and append every upload.
            return existing + [self._new_attachment(channel_id, f, None, flags) for f in uploads.values()]
        kept = {a["id"]: a for a in existing}
        result: list[dict[str, Any]] = []
        used: set[int] = set()
        for i, entry in enumerate(wanted):
            ref = entry.get("id")
            if str(ref) in kept:
                result.append(kept[str(ref)])
            elif ref is not None and int(ref) in uploads:
                used.add(int(ref))
                result.append(self._new_attachment(channel_id, uploads[int(ref)], entry, flags))
            else:
                raise invalid_form(
                    {
                        "attachments": {
                            str(i): {"_errors": [{"code": "ATTACHMENT_NOT_FOUND", "message": "Unknown attachment"}]}
                        }
                    }
                )
        result.extend(self._new_attachment(channel_id, f, None, flags) for n, f in uploads.items() if n not in used)
        return result

    def _new_attachment(
        self, channel_id: int, upload: RecordedFile, entry: dict[str, Any] | None, flags: int
    ) -> dict[str, Any]:
        attachment_id = self.world.snowflake()
        filename = (entry or {}).get("filename") or upload.name
        url = f"{self.cdn_base}/attachments/{channel_id}/{attachment_id}/{filename}"
        self.blobs[attachment_id] = Blob(upload.data, upload.content_type)
        data: dict[str, Any] = {
            "id": str(attachment_id),
            "filename": filename,
            "size": upload.size,
            "url": url,
            "proxy_url": url,
            "content_type": upload.content_type,
        }
        if entry and entry.get("description"):
            data["description"] = entry["description"]
        if flags & EPHEMERAL:
            data["ephemeral"] = True
        return data

    def _apply_reference(self, data: dict[str, Any], payload: dict[str, Any]) -> None:
        ref = payload.get("message_reference")
        if not ref or not ref.get("message_id"):
            return
        target = self.get(int(ref["message_id"]))
        if target is None:
            if ref.get("fail_if_not_exists", True):
                raise invalid_form(
                    {
                        "message_reference": {
                            "_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}]
                        }
                    }
                )
            return
        data["type"] = 19
        data["message_reference"] = {"type": 0, "message_id": str(target.id), "channel_id": str(target.channel_id)}
        data["referenced_message"] = target.snapshot()

    def _apply_mentions(self, data: dict[str, Any], allowed: dict[str, Any] | None, channel: FakeChannel) -> None:
        """Fill mentions/mention_roles/mention_everyone with who is actually pinged."""
        parse = ["users", "roles", "everyone"] if allowed is None else list(allowed.get("parse") or [])
        allowed_users = {str(u) for u in (allowed or {}).get("users") or []}
        allowed_roles = {str(r) for r in (allowed or {}).get("roles") or []}
        # Components V2 messages carry their text (and mentions) in text displays.
        texts = [c.get("content") or "" for c in walk_all(data.get("components") or []) if c.get("type") == 10]
        content = "\n".join([data.get("content") or "", *texts])
        guild = self.world.guild_of(channel)
        users: list[dict[str, Any]] = []
        for raw in dict.fromkeys(USER_MENTION.findall(content)):
            user = self.world.users.get(int(raw))
            if user is not None and ("users" in parse or raw in allowed_users):
                users.append(self._mention_payload(user, guild.members.get(user.id) if guild else None))
        ref = data.get("referenced_message")
        replied = allowed is None or bool((allowed or {}).get("replied_user"))
        if ref and replied and not any(u["id"] == ref["author"]["id"] for u in users):
            users.append(ref["author"])
        data["mentions"] = users
        data["mention_roles"] = [
            raw
            for raw in dict.fromkeys(ROLE_MENTION.findall(content))
            if guild and guild.role(int(raw)) and ("roles" in parse or raw in allowed_roles)
        ]
        data["mention_everyone"] = "everyone" in parse and ("@everyone" in content or "@here" in content)

    @staticmethod
    def _mention_payload(user: FakeUser, member: FakeMember | None) -> dict[str, Any]:
        data = user.payload()
        if member is not None:
            data["member"] = member.payload(with_user=False)
        return data


def _check_attachment_refs(data: dict[str, Any]) -> None:
    """A File component (or any media) that points at `attachment://name` needs an uploaded file of that name."""
    names = {a["filename"] for a in data.get("attachments") or []}
    for comp in walk_all(data.get("components") or []):
        for key in ("file", "media"):
            url = (comp.get(key) or {}).get("url") if isinstance(comp.get(key), dict) else None
            wanted = url.removeprefix("attachment://") if isinstance(url, str) else None
            if wanted is not None and url != wanted and wanted not in names:
                raise invalid_form({"components": {"_errors": [
                    {"code": "UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND", "message": f"No attachment named {url}"}
                ]}})


def _embeds(embeds: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{"type": "rich", **e} for e in embeds or []]
