"""Progress of long work (:mod:`pipeline_ci.progress`) through the real CLI: a live line on a terminal (a pseudo-
terminal from the ``pty`` module), a plain line every interval in a pipe, the same inside ``::group::`` in GitHub
Actions, nothing with ``-q``.

The long work is ``pipeline-ci upload --backend clarifai`` waiting for two step builds of the gRPC Clarifai emulator
(:mod:`pipeline_ci.testing.clarifai_emulator`; ``build_polls=2``: each build takes 1.25 s or more), on the base
project of :mod:`pipeline_ci.testing.projects`. ``PIPELINE_CI_PROGRESS_INTERVAL`` shortens the 15 s of plain mode.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_ci import progress
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator

from .conftest import pty_output

PAT = "pat-progress-0123456789"
TITLE = "proj: building 2 step(s) on clarifai"
ERASE = "\r\x1b[K"


@pytest.fixture
def emulator():
    with ClarifaiEmulator({PAT}, build_polls=2) as emu:
        yield emu


@pytest.fixture
def project(make_project) -> Path:
    return make_project()  # the base project in tmp_path/proj


def environment(emu: ClarifaiEmulator, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLARIFAI_", "PIPELINE_CI_", "GITHUB_", "RUNNER_")) and k not in ("NO_COLOR",
                                                                                                  "FORCE_COLOR")}
    return {**env, "CLARIFAI_API_BASE": f"http://{emu.address}", "CLARIFAI_PAT": PAT, "PIPELINE_CI_NO_CACHE": "1",
            "TERM": "xterm-256color", **extra}


def command(*flags: str) -> list[str]:
    return [sys.executable, "-m", "pipeline_ci", "upload", "--backend", "clarifai", *flags, "proj"]


def in_pty(project: Path, emu: ClarifaiEmulator, *flags: str, **env: str) -> str:
    """What a user's terminal receives (stdout and stderr on one pseudo-terminal)."""
    code, out = pty_output(command(*flags), cwd=project.parent, env=environment(emu, **env))
    assert code == 0, out
    return out


def piped(project: Path, emu: ClarifaiEmulator, *flags: str, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(command(*flags), capture_output=True, text=True, cwd=project.parent,
                            env=environment(emu, **env), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert PAT not in result.stdout.replace(f"::add-mask::{PAT}\n", "") + result.stderr  # masked, never shown
    return result


def screen(raw: str) -> list[str]:
    """The lines left on the screen: what follows the last carriage return of each line."""
    return [line.rsplit("\r", 1)[-1] for line in raw.split("\n")]


def test_a_live_line_on_a_terminal_shows_the_steps_and_the_elapsed_time(project: Path, emulator: ClarifaiEmulator):
    raw = in_pty(project, emulator, COLUMNS="120")
    frames = [part for part in raw.split(ERASE) if part.startswith(tuple(progress.SPINNER))]
    assert frames and all(len(frame.split("\n")[0]) < 120 for frame in frames), raw  # fits the terminal
    assert any(f"{TITLE}, 0/2 done: stepA building, stepB building (1s)" in frame for frame in frames), frames
    assert any("1/2 done" in frame for frame in frames) or any("0/2 done" in frame for frame in frames)
    # every permanent line is printed on a clean line: the live line was erased first, and it is gone at the end
    assert "is ready" in raw
    shown = screen(raw)
    assert not any(line.startswith(tuple(progress.SPINNER)) for line in shown), shown
    assert all(f"{TITLE}, " not in line for line in shown)
    assert "building ..." not in raw  # no line per poll any more
    assert any(line.startswith("proj: uploaded 2 step(s) (stepA=") for line in shown)


def test_a_pipe_gets_a_plain_line_every_interval_and_no_terminal_codes(project: Path, emulator: ClarifaiEmulator):
    emulator.build_polls = 3  # a build takes 2.4 s or more: the block ends with how long it took
    out = piped(project, emulator, PIPELINE_CI_PROGRESS_INTERVAL="0.4").stdout
    ticks = [line for line in out.splitlines() if line.startswith(f"{TITLE}, ")]
    assert ticks and all(line.endswith("s)") for line in ticks), out
    assert any("stepA building" in line and "stepB building" in line for line in ticks), ticks
    assert "\x1b" not in out and "\r" not in out and "::group::" not in out
    assert f"{TITLE}: finished in " in out  # a block of two seconds or more says how long it took
    assert "building ..." not in out


def test_the_default_interval_is_fifteen_seconds(project: Path, emulator: ClarifaiEmulator):
    out = piped(project, emulator).stdout
    assert not [line for line in out.splitlines() if line.startswith(f"{TITLE}, ")], out
    assert progress.interval({}) == 15.0 and progress.interval({"PIPELINE_CI_PROGRESS_INTERVAL": "x"}) == 15.0
    assert progress.interval({"PIPELINE_CI_PROGRESS_INTERVAL": "-1"}) == 15.0


def test_in_actions_the_progress_is_a_collapsible_group(project: Path, emulator: ClarifaiEmulator):
    out = piped(project, emulator, GITHUB_ACTIONS="true", PIPELINE_CI_PROGRESS_INTERVAL="0.4").stdout.splitlines()
    start, end = out.index(f"::group::{TITLE}"), out.index("::endgroup::")
    inside = out[start + 1:end]
    assert any(line.startswith(f"{TITLE}, ") for line in inside), out  # the plain lines, inside the group
    assert any(line.startswith("stepA: version ") and "is ready" in line for line in inside)
    assert any("[build stepB]" in line for line in inside)
    assert out.count("::group::" + TITLE) == 1 and not any("\x1b" in line for line in out)
    after = out[end + 1:]
    assert any(line.startswith("proj: uploaded 2 step(s)") for line in after)
    assert any(line == "stepA: uploading (new)" for line in out[:start])  # what happens and why: outside it


@pytest.mark.parametrize("where", ["terminal", "actions"])
def test_quiet_silences_progress(where: str, project: Path, emulator: ClarifaiEmulator):
    if where == "terminal":
        out = in_pty(project, emulator, "-q")
    else:
        out = piped(project, emulator, "-q", GITHUB_ACTIONS="true", PIPELINE_CI_PROGRESS_INTERVAL="0.3").stdout
    assert "\x1b" not in out and "::group::" not in out and TITLE not in out, out
    assert "[build " not in out and "is ready" not in out
    assert (project / "stepA" / "config-lock.yaml").exists()  # the work was done


def test_elapsed_text():
    assert [progress.elapsed_text(s) for s in (0.4, 7, 65, 3599, 7380)] == ["0s", "7s", "1m05s", "59m59s", "2h03m"]
