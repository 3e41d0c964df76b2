"""Downloading a song's media (audio, covers) to a file, within an upload budget: shared by the courier's posts and
the vote posts that play songs."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp

log = logging.getLogger(__name__)

# Downloading a song is not the upload: a slow CDN should fail fast and be linked instead.
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10)


async def download(session: aiohttp.ClientSession, url: str, path: Path, budget: int, *, purpose: str) -> int | None:
    """Stream `url` into `path`; its size, or None when it is missing, larger than `budget`, or unreachable (logged
    with `purpose`, e.g. "for attaching"; the caller links the file instead)."""
    if budget <= 0 or not url.startswith(("http://", "https://")):
        return None
    try:
        # No CometAPI key here: the session carries no auth, and media hosts are third parties.
        async with session.get(url, timeout=DOWNLOAD_TIMEOUT) as response:
            # Content-Length first: a file announced too large is not downloaded at all.
            if response.status != 200 or (response.content_length or 0) > budget:
                return None
            size = 0
            with path.open("wb") as out:
                async for chunk in response.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > budget:  # the header lied, or there was none: stop at the cap
                        return None
                    out.write(chunk)  # 64 KiB into the page cache: far cheaper than a thread hop
            return size
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("could not download %s %s (%s); linking it instead", url, purpose, exc)
        return None
