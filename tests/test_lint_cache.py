"""The lint result cache: a hit prints exactly what a fresh lint prints, and every input that can
change a result invalidates it (files, git's index, settings, options); racy files are never cached."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipeline_ci.hashing import hash_step
from pipeline_ci.lockfiles import step_lock_text
from pipeline_ci.testing.projects import base_files

from .conftest import write_files

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


RACY = 0.4  # seconds: the racy window of the tests that are not about its default (2 s), so they wait less


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, **GIT_ENV, "PIPELINE_CI_CACHE_DIR": str(tmp_path / "cache")}


@pytest.fixture
def short_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "PIPELINE_CI_CACHE_RACY_SECONDS": str(RACY)}


def lint(root: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline_ci", "lint", *extra, str(root)], capture_output=True,
                          text=True, env=env, timeout=60)


def entries(env: dict[str, str]) -> int:
    return len(list((Path(env["PIPELINE_CI_CACHE_DIR"]) / "lint").glob("*.json")))


def settle(window: float = 2.0) -> None:
    time.sleep(window + 0.1)  # past the racy window: timestamps older than it (default 2 s) are trusted


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = base_files()
    files["stepA/config.yaml"] += "colour: red\n"  # one warning, so there is something to cache
    root = write_files(tmp_path / "proj", files)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


def test_a_hit_prints_exactly_the_fresh_result(project: Path, env: dict[str, str]):
    racy = lint(project, env)
    assert entries(env) == 0  # files written a moment ago are never cached
    settle()
    fresh = lint(project, env)
    assert entries(env) == 1
    cached = lint(project, env)
    assert (cached.returncode, cached.stdout) == (fresh.returncode, fresh.stdout) == (racy.returncode, racy.stdout)
    assert "[S02]" in cached.stdout
    for fmt in ("json", "github", "sarif"):
        assert lint(project, env, "--format", fmt).stdout == lint(project, env, "--format", fmt, "--no-cache").stdout


def test_changes_invalidate(project: Path, short_env: dict[str, str]):
    settle(RACY)
    assert "[S02]" in lint(project, short_env).stdout
    config = project / "stepA" / "config.yaml"
    config.write_text(config.read_text().replace("colour: red\n", "colour: blue\n"))  # same size
    settle(RACY)
    assert "'colour'" in lint(project, short_env).stdout and entries(short_env) == 2
    config.write_text(config.read_text().replace("colour: blue\n", ""))
    settle(RACY)
    assert "no problems found" in lint(project, short_env).stdout
    (project / ".pipeline-ci.yaml").write_text("disable: [S02]\n")
    config.write_text(config.read_text() + "colour: red\n")
    settle(RACY)
    assert "no problems found" in lint(project, short_env).stdout
    (project / ".pipeline-ci.yaml").write_text("disable: []\n")  # only the settings change
    settle(RACY)
    assert "[S02]" in lint(project, short_env).stdout
    assert "[S02]" not in lint(project, short_env, "--select", "A07").stdout  # options are part of the key


def test_staging_a_file_invalidates(project: Path, short_env: dict[str, str]):
    lock = project / "stepA" / "config-lock.yaml"
    step_config = yaml.safe_load((project / "stepA" / "config.yaml").read_text())  # a fresh lockfile, as an upload
    lock.write_text(step_lock_text("v1", hash_step(project / "stepA", tracked_only=True).digest, step_config))
    extra = project / "stepA" / "1" / "helper.py"
    extra.write_text("x = 1\n")
    settle(RACY)
    before = lint(project, short_env, "--select", "stale-lock")
    assert lock.exists() and "[L04]" not in before.stdout  # untracked: not in what CI sees
    subprocess.run(["git", "add", str(extra)], cwd=project, check=True)
    settle(RACY)
    after = lint(project, short_env, "--select", "stale-lock")
    assert "[L04]" in after.stdout


def test_no_cache_flag_and_env(project: Path, short_env: dict[str, str]):
    settle(RACY)
    lint(project, short_env, "--no-cache")
    assert entries(short_env) == 0
    lint(project, {**short_env, "PIPELINE_CI_NO_CACHE": "1"})
    assert entries(short_env) == 0
    lint(project, short_env)
    assert entries(short_env) == 1  # the project was cacheable: the flag and the variable are what kept it out


def test_a_racy_window_that_is_not_a_number_is_a_usage_error(project: Path, env: dict[str, str]):
    result = lint(project, {**env, "PIPELINE_CI_CACHE_RACY_SECONDS": "soon"})
    assert result.returncode == 2 and "PIPELINE_CI_CACHE_RACY_SECONDS='soon' is not a number" in result.stderr
    assert "Traceback" not in result.stderr
