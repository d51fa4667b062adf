"""Repository hygiene: ruff is clean and the lint hook path does not import heavy modules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_ci.runs.follow import poll_delays

from .conftest import REPO


def test_ruff_is_clean():
    local = Path(sys.executable).with_name("ruff")
    ruff = str(local) if local.exists() else shutil.which("ruff")
    assert ruff, "ruff is part of the test extra"
    result = subprocess.run([ruff, "check", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("command", [["lint", "examples/hello-pipeline"], ["hash", "examples/hello-pipeline/prepare"]])
def test_lint_and_hash_do_not_import_gitpython_or_grpc(command):
    code = ("import sys, runpy; sys.argv = ['pipeline-ci', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('pipeline_ci', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('git', 'grpc', 'clarifai_grpc', 'requests') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    result = subprocess.run([sys.executable, "-c", code, *command], cwd=REPO, capture_output=True, text=True)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_poll_schedule_stays_within_150_calls_an_hour():
    for jitter_draw in (0.0, 1.0):
        elapsed, calls = 0.0, 0
        delays = poll_delays(30.0, rng=lambda draw=jitter_draw: draw)
        first = next(delays)
        assert first <= 2.0
        elapsed, calls = first, 1
        while elapsed < 3600:
            elapsed += next(delays)
            calls += 1
        assert calls <= 150
