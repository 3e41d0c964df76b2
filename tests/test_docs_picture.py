"""The README's picture is drawn from the bot's own payloads by docs/render_post.py: it must keep working."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(importlib.util.find_spec("PIL") is None, reason="Pillow (the test extra) is not installed")
async def test_the_readme_picture_can_be_drawn_from_a_real_song_post(tmp_path):
    """The script runs the real bot against the fakes, captures the card and the post, and draws a picture."""
    from PIL import Image

    spec = importlib.util.spec_from_file_location("render_post", ROOT / "docs" / "render_post.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = await module.render(tmp_path / "picture.png")
    with Image.open(out) as picture:
        width, height = picture.size
    assert width == module.WIDTH and height > 500
    assert (ROOT / "docs" / "what-members-see.png").exists()
