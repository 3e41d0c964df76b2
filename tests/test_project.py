"""Cheap structural checks of the project's own promises: README ↔ CI, Dockerfile inputs, lint and types."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", quick_start)


def test_readme_quick_start_has_two_commands_and_ci_runs_the_test_one():
    """The quick start gives install+run and install+test; .ci/run runs the second verbatim."""
    run, test = readme_commands()
    assert run.endswith("python -m bot")
    assert test.endswith("python -m pytest")
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert test in ci_lines


def test_dockerfile_copies_only_files_that_exist():
    """Every path the Dockerfile copies is in the repository, and the image runs `python -m bot`."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    sources = [part for line in dockerfile.splitlines() if line.startswith("COPY")
               for part in line.split()[1:-1]]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
    assert 'CMD ["python", "-m", "bot"]' in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile


def test_dockerfile_installs_what_ci_installs():
    """The image installs pyproject.toml's dependencies and then the project, as CI's `pip install -e .[test]`
    does (CI adds only the test extra): running its dependency expression yields exactly that list."""
    import tomllib

    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    (expression,) = re.findall(r'RUN pip install \$\(python -c "(.+?)"\)', dockerfile)
    listed = subprocess.run([sys.executable, "-c", expression], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert listed == [dep.replace(" ", "") for dep in project["dependencies"]]
    assert "RUN pip install --no-deps ." in dockerfile
    assert "pip install -q -e '.[test]'" in (ROOT / ".ci" / "run").read_text()


def test_ci_and_the_image_install_ffmpeg_for_voice():
    """Voice needs ffmpeg: the image installs Debian's package (no recommends, apt lists cleaned), and .ci/run
    sources .ci/ffmpeg.sh and installs it before the README's test command."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    (install,) = [line for line in dockerfile.splitlines() if "ffmpeg" in line and line.startswith("RUN")]
    assert "apt-get install -y --no-install-recommends ffmpeg" in install and "rm -rf /var/lib/apt/lists" in install
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci.index(". .ci/ffmpeg.sh") < ci.index("ensure_ffmpeg") < len(ci) - 1


def _fake_apt(folder: Path, *, installs: bool) -> Path:
    """An apt-get that records its arguments (and, if `installs`, puts an ffmpeg program beside itself)."""
    folder.mkdir()
    log = folder / "apt.log"
    chmod = shutil.which("chmod") or "/bin/chmod"  # PATH holds only this folder while the script runs
    put = f"printf '#!/bin/sh\\n' > {folder}/ffmpeg; {chmod} +x {folder}/ffmpeg" if installs else ":"
    script = folder / "apt-get"
    script.write_text(f'#!/bin/sh\necho "$*" >> {log}\ncase "$1" in install) {put};; esac\n')
    script.chmod(0o755)
    return log


@pytest.mark.parametrize("present", [True, False], ids=["present", "missing"])
def test_ci_installs_ffmpeg_only_when_missing(tmp_path, present):
    """ensure_ffmpeg leaves a host with ffmpeg alone, and installs Debian's package on one without it (here the
    apt-get on PATH only records what it was asked)."""
    bin_dir = tmp_path / "bin"
    log = _fake_apt(bin_dir, installs=True)
    if present:
        (bin_dir / "ffmpeg").write_text("#!/bin/sh\n")
        (bin_dir / "ffmpeg").chmod(0o755)
    bash = shutil.which("bash") or "/bin/bash"
    done = subprocess.run([bash, "-c", ". .ci/ffmpeg.sh && ensure_ffmpeg"], cwd=ROOT, capture_output=True,
                          text=True, env={"PATH": str(bin_dir)}, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines() if log.exists() else []
    assert calls == ([] if present else ["update -qq", "install -y -qq --no-install-recommends ffmpeg"])


def test_ci_stops_when_ffmpeg_cannot_be_installed(tmp_path):
    """An install that leaves no ffmpeg behind fails the run with a line saying so, rather than failing later."""
    bin_dir = tmp_path / "bin"
    _fake_apt(bin_dir, installs=False)
    bash = shutil.which("bash") or "/bin/bash"
    done = subprocess.run([bash, "-c", ". .ci/ffmpeg.sh && ensure_ffmpeg"], cwd=ROOT, capture_output=True,
                          text=True, env={"PATH": str(bin_dir)}, timeout=60, check=False)
    assert done.returncode != 0 and "no ffmpeg is on PATH" in done.stderr


def test_compose_file_mounts_data_and_reads_env_file():
    """compose.yaml keeps the database in a volume and reads the settings from .env."""
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert "env_file: .env" in compose
    assert ":/app/data" in compose


@pytest.mark.parametrize("tool", [["ruff", "check", "."], ["mypy"]])
def test_lint_and_types_are_clean(tool):
    """ruff check and mypy (strict) report nothing."""
    beside_python = Path(sys.executable).parent / tool[0]  # the venv's copy, even when the venv is not activated
    exe = str(beside_python) if beside_python.exists() else shutil.which(tool[0])
    if exe is None:
        pytest.skip(f"{tool[0]} is not installed")
    proc = subprocess.run([exe, *tool[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_compose_scale_profile_runs_every_shard_once_on_postgres():
    """The `scale` profile runs PostgreSQL and one process per shard: SHARD_IDS 0 … SHARD_COUNT-1, each once, all on
    the compose PostgreSQL; the `postgres` profile offers the database alone."""
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    (count,) = re.findall(r'SHARD_COUNT: "(\d+)"', compose)
    ids = sorted(int(found) for found in re.findall(r'SHARD_IDS: "(\d+)"', compose))
    assert ids == list(range(int(count)))
    assert "DATABASE_URL: postgresql://" in compose
    assert "profiles: [postgres, scale]" in compose and "profiles: [scale]" in compose
    assert "condition: service_healthy" in compose
