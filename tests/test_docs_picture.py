"""The README's picture is drawn from the bot's own payloads by docs/render_post.py: it must keep working."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(importlib.util.find_spec("PIL") is None, reason="Pillow (the test extra) is not installed")
async def test_the_readme_picture_can_be_drawn_from_a_real_song_post(tmp_path):
    """The script runs the real bot against the fakes, captures the card and the post, and draws a picture in which
    the song's post (two takes, their lyrics, one cover) is at most 400 px tall."""
    from PIL import Image

    spec = importlib.util.spec_from_file_location("render_post", ROOT / "docs" / "render_post.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    drawn = await module.draw(tmp_path / "picture.png")
    with Image.open(drawn.path) as picture:
        width, height = picture.size
    assert width == module.WIDTH and height > 500
    assert (ROOT / "docs" / "what-members-see.png").exists()
    # Half as tall as the post of before (~600 px): a two-take song with its lyrics fits in 400 px of the drawing.
    assert 250 < drawn.post_height <= 400
