"""What members type, validated before anything is sent (and charged)."""

from __future__ import annotations

import pytest

from bot.core.catalog import DEFAULT_SUNO_MODEL, suno_model
from bot.core.validation import InvalidInputError, lyrics_prompt, suno_request, udio_request


def test_inspiration_mode_uses_newest_model_by_default():
    """A description alone is inspiration mode with the newest Suno model."""
    request = suno_request(prompt="  a cat song  ")
    assert (request.mode, request.description, request.mv) == ("inspiration", "a cat song", DEFAULT_SUNO_MODEL.mv)


def test_own_lyrics_are_custom_mode_with_the_prompt_as_style():
    """Lyrics switch to custom mode; the prompt becomes the style when none is given."""
    request = suno_request(prompt="sad country", lyrics="[Verse]\nhi", model="v4")
    assert (request.mode, request.lyrics) == ("custom", "[Verse]\nhi")
    assert (request.tags, request.mv) == ("sad country", "chirp-v4")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"prompt": ""}, "description"),
        ({"prompt": " \n\t"}, "description"),
        ({"prompt": "x" * 501}, "description"),
        ({"prompt": "ok", "model": "v9"}, "model"),
        ({"prompt": "ok", "lyrics": "   "}, "lyrics"),
        ({"prompt": "ok", "lyrics": "l" * 3001, "model": "v4"}, "lyrics"),
        ({"prompt": "ok", "style": "s" * 201, "model": "v3.5"}, "style"),
        ({"prompt": "ok", "title": "t" * 81}, "title"),
    ],
)
def test_bad_suno_input_names_the_field(kwargs, field):
    """Each bad input raises InvalidInputError naming what is wrong."""
    with pytest.raises(InvalidInputError) as caught:
        suno_request(**kwargs)
    assert caught.value.field == field


def test_models_by_friendly_name_or_mv():
    """Models are found by their friendly name or API value, case-insensitively."""
    assert suno_model("V4.5").mv == "chirp-auk"
    assert suno_model("chirp-crow").name == "v5"
    assert suno_model("nope") is None


@pytest.mark.parametrize(
    ("kwargs", "lyrics_type"),
    [
        ({"prompt": "rock"}, "generate"),
        ({"prompt": "rock", "instrumental": True}, "instrumental"),
        ({"prompt": "rock", "lyrics": "la la"}, "user"),
    ],
)
def test_udio_lyrics_type(kwargs, lyrics_type):
    """Udio writes lyrics unless the member gave some or asked for none."""
    assert udio_request(**kwargs).lyrics_type == lyrics_type


@pytest.mark.parametrize(
    "kwargs",
    [{"prompt": ""}, {"prompt": "x", "model": "udio999"}, {"prompt": "x", "lyrics": " "},
     {"prompt": "x", "lyrics": "la", "instrumental": True}],
)
def test_bad_udio_input(kwargs):
    """Bad Udio input is refused before any call."""
    with pytest.raises(InvalidInputError):
        udio_request(**kwargs)


def test_lyrics_theme():
    """A lyrics theme must be a few words, not empty."""
    assert lyrics_prompt(" rain ") == "rain"
    with pytest.raises(InvalidInputError):
        lyrics_prompt("")


def test_style_and_title_with_a_description_must_fit_the_description_limit():
    """Description mode carries style and title inside the description, so together they respect its limit."""
    request = suno_request(prompt="d" * 400, style="s" * 60, title="t" * 15)
    assert request.folds_style_and_title
    assert len(request.to_json()["gpt_description_prompt"]) <= 500
    with pytest.raises(InvalidInputError) as caught:
        suno_request(prompt="d" * 450, style="s" * 60)
    assert caught.value.field == "style"
    assert "limit is 500" in caught.value.message
    # Custom mode keeps style and title as fields of their own: no such limit.
    assert not suno_request(prompt="p", lyrics="[Verse]\nla", style="s" * 900).folds_style_and_title
