"""Voice needs ffmpeg and discord.py's voice libraries on the host: when one is missing, voice_missing() says so in
one member-facing sentence and the log gets one warning naming what to install. The hosts without them are real:
a PATH with no ffmpeg on it, a Python that cannot import PyNaCl or davey."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ui import voice_support
from bot.ui.voice_support import voice_missing

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fresh_check():
    """Each test checks the host anew (the answer is cached per process)."""
    voice_support.reset()
    yield
    voice_support.reset()


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "bot.ui.voice_support" and r.levelno == logging.WARNING]


def test_this_host_can_play_in_voice(caplog):
    """The test host (and the Docker image) has ffmpeg and discord.py[voice]: nothing is missing, nothing logged."""
    caplog.set_level(logging.INFO)
    assert voice_missing() is None
    assert warnings_of(caplog) == []


def test_a_host_without_ffmpeg_turns_voice_off_with_one_log_line(tmp_path, monkeypatch, caplog):
    """With no ffmpeg on PATH the member hears why in one sentence, and the operator reads one warning, however
    often voice is asked for."""
    caplog.set_level(logging.INFO)
    (tmp_path / "python3").symlink_to(sys.executable)  # a PATH with programs on it, just not ffmpeg
    monkeypatch.setenv("PATH", str(tmp_path))
    answers = {voice_missing() for _ in range(3)}
    assert answers == {"Voice is not available on this bot: its host has no ffmpeg."}
    [line] = warnings_of(caplog)
    assert "ffmpeg" in line and "apt install ffmpeg" in line and "\n" not in line


def test_the_answer_follows_the_path_and_reset_checks_again(tmp_path, monkeypatch, caplog):
    """Back on a PATH with ffmpeg, voice works; after reset() a missing ffmpeg is logged again (once)."""
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert voice_missing() is not None
    monkeypatch.undo()
    assert voice_missing() is None
    monkeypatch.setenv("PATH", str(tmp_path))
    assert voice_missing() is not None
    assert len(warnings_of(caplog)) == 1  # cached: the same PATH is not checked (nor logged) twice
    voice_support.reset()
    assert voice_missing() is not None
    assert len(warnings_of(caplog)) == 2


@pytest.mark.parametrize(("blocked", "named"), [
    (["nacl"], "PyNaCl"),
    (["davey"], "davey"),
    (["nacl", "davey"], "PyNaCl and davey"),
])
def test_a_python_without_the_voice_libraries_turns_voice_off(blocked, named):
    """A Python where PyNaCl or davey cannot be imported (as after `pip install discord.py` without [voice]):
    discord.py notes it, and so does Chorus, in its answer and in one log line pointing at discord.py[voice]."""
    script = (
        "import logging, sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None  # import fails as if not installed\n"
        "logging.basicConfig(level=logging.INFO, format='%(levelname)s %(name)s %(message)s')\n"
        "from bot.ui.voice_support import voice_missing\n"
        "print(voice_missing()); print(voice_missing())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=True)
    expected = f"Voice is not available on this bot: it is missing discord.py's voice support ({named})."
    assert done.stdout.splitlines() == [expected, expected]
    [line] = [line for line in done.stderr.splitlines() if line.startswith("WARNING bot.ui.voice_support")]
    assert named.replace(" and ", ", ") in line and "pip install 'discord.py[voice]'" in line
