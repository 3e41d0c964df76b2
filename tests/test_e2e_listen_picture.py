"""The now-playing picture in docs/members.md is drawn by docs/render_post.py from a real party: it must keep
working."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.fakes.voice import FFMPEG_MISSING, ffmpeg

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(importlib.util.find_spec("PIL") is None, reason="Pillow (the test extra) is not installed")
@pytest.mark.skipif(ffmpeg() is None, reason=FFMPEG_MISSING)
async def test_the_now_playing_picture_can_be_drawn_from_a_real_party(tmp_path):
    """The script runs a party in the fake Discord's voice channel and draws its now-playing message."""
    from PIL import Image

    spec = importlib.util.spec_from_file_location("render_post", ROOT / "docs" / "render_post.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    drawn = await module.draw_party(tmp_path / "now-playing.png")
    with Image.open(drawn) as picture:
        width, height = picture.size
    assert width == module.WIDTH and 150 < height < 400
    assert (ROOT / "docs" / "now-playing.png").exists()
