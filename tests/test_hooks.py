"""The pre-commit hooks and the plain git hook, run for real: real git, real `pre-commit`.

The hook repository is a snapshot of this working tree committed into a temporary git repo,
so uncommitted changes are tested too. pre-commit builds its hook environment once per test
session (the snapshot and PRE_COMMIT_HOME are shared, by the parallel workers too) by pip-installing the snapshot.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import REPO

EXAMPLE = REPO / "examples" / "hello-pipeline"
SNAPSHOT = ["pipeline_ci", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "hooks"]


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=check)


def session_dir(tmp_path_factory) -> Path:
    """A folder of this test session shared by its parallel (xdist) workers, whose base temps are
    ``<session>/popen-gwN``; without xdist, the session's base temp. The hook environment (a pip install, seconds) is
    then built once per session, not once per worker: pre-commit takes a lock in PRE_COMMIT_HOME while it builds."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def locked(path: Path) -> Iterator[None]:
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory) -> tuple[Path, str]:
    shared = session_dir(tmp_path_factory)
    repo = shared / "hook-repo"
    with locked(shared / "hook-repo.lock"):
        if not (shared / "hook-repo.done").exists():  # the first worker here makes it; a half-made one is redone
            shutil.rmtree(repo, ignore_errors=True)
            repo.mkdir()
            for name in SNAPSHOT:
                src = REPO / name
                if src.is_dir():
                    shutil.copytree(src, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
                else:
                    shutil.copy2(src, repo / name)
            git(repo, "init", "-q")
            git(repo, "add", "-A")
            git(repo, "commit", "-qm", "snapshot")
            (shared / "hook-repo.done").write_text("")
    return repo, git(repo, "rev-parse", "HEAD").stdout.strip()


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory) -> Path:
    home = session_dir(tmp_path_factory) / "pre-commit-home"
    home.mkdir(exist_ok=True)
    return home


@pytest.fixture
def user_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "user"
    shutil.copytree(EXAMPLE, repo / "pipelines" / "hello", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "README.md").write_text("user project\n")
    git(repo, "init", "-q")
    return repo


def pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=600)


def install(repo: Path, hook_repo: tuple[Path, str], home: Path, hooks: str) -> None:
    path, rev = hook_repo
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {path}\n  rev: {rev}\n  hooks:\n{hooks}", encoding="utf-8"
    )
    result = pre_commit(repo, home, "install")
    assert result.returncode == 0, result.stderr


def commit(repo: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    git(repo, "add", "-A")
    return subprocess.run(["git", "commit", "-m", "change"], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=600)


def head_count(repo: Path) -> int:
    result = git(repo, "rev-list", "--count", "HEAD", check=False)
    return int(result.stdout.strip()) if result.returncode == 0 else 0


def test_clean_commit_passes_and_broken_config_blocks(user_repo, hook_repo, pre_commit_home):
    install(user_repo, hook_repo, pre_commit_home, "  - id: pipeline-ci-lint\n  - id: pipeline-ci-locks\n")
    result = commit(user_repo, pre_commit_home)
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr  # git sends hook output to stderr
    assert "pipeline-ci lint" in output and "Passed" in output
    assert head_count(user_repo) == 1

    config = user_repo / "pipelines" / "hello" / "config.yaml"
    text = config.read_text()
    assert "entrypoint: main" in text
    config.write_text(text.replace("entrypoint: main", "entrypoint: mian"))
    line = next(i for i, ln in enumerate(config.read_text().splitlines(), 1) if "entrypoint: mian" in ln)
    result = commit(user_repo, pre_commit_home)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"pipelines/hello/config.yaml:{line}:" in output and "[A07]" in output
    assert head_count(user_repo) == 1  # the commit was blocked


def test_lock_hook_reports_stale_lock_and_require_fresh_blocks(user_repo, hook_repo, pre_commit_home):
    install(user_repo, hook_repo, pre_commit_home, "  - id: pipeline-ci-locks\n    args: [--require-fresh-locks]\n")
    assert commit(user_repo, pre_commit_home).returncode == 0
    step = user_repo / "pipelines" / "hello" / "analyze" / "1" / "pipeline_step.py"
    step.write_text(step.read_text() + "\n# a change\n")
    result = commit(user_repo, pre_commit_home)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "pipelines/hello/analyze/config-lock.yaml" in output and "[L04]" in output
    assert head_count(user_repo) == 1


def test_try_repo_runs_each_project_once(user_repo, hook_repo, pre_commit_home):
    shutil.copytree(EXAMPLE, user_repo / "pipelines" / "second", ignore=shutil.ignore_patterns("__pycache__"))
    git(user_repo, "add", "-A")
    result = pre_commit(user_repo, pre_commit_home, "try-repo", str(hook_repo[0]), "pipeline-ci-lint",
                        "--all-files", "--verbose")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no problems found in 2 project(s)" in result.stdout


def test_lint_hook_compiles_a_python_pipeline_file(user_repo, hook_repo, pre_commit_home):
    """The hook passes `.py` files to lint: a pipeline file named by the settings is compiled. The hook environment
    has no Clarifai SDK (README: add it with `additional_dependencies`), so compiling it fails and blocks the commit."""
    install(user_repo, hook_repo, pre_commit_home, "  - id: pipeline-ci-lint\n")
    (user_repo / "flows").mkdir()
    (user_repo / "flows" / "text.py").write_text('from clarifai import runners\np = runners.pipelines.Pipeline("t")\n')
    (user_repo / ".pipeline-ci.yaml").write_text("dsl: flows/text.py\n")
    result = commit(user_repo, pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "flows/text.py" in output and "SDK" in output, output
    assert head_count(user_repo) == 0


def test_plain_git_hook_blocks_a_broken_commit(user_repo):
    hooks = user_repo / ".githooks"
    hooks.mkdir()
    shutil.copy2(REPO / "hooks" / "pre-commit", hooks / "pre-commit")
    git(user_repo, "config", "core.hooksPath", ".githooks")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    git(user_repo, "add", "-A")
    ok = subprocess.run(["git", "commit", "-qm", "first"], cwd=user_repo, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    step_config = user_repo / "pipelines" / "hello" / "report" / "config.yaml"
    step_config.write_text(step_config.read_text().replace("pipeline_step_compute_info:", "compute:"))
    git(user_repo, "add", "-A")
    bad = subprocess.run(["git", "commit", "-qm", "second"], cwd=user_repo, env=env, capture_output=True, text=True)
    assert bad.returncode != 0
    assert "pipelines/hello/report/config.yaml" in bad.stdout + bad.stderr and "[S01]" in bad.stdout + bad.stderr
    assert head_count(user_repo) == 1
    # a commit that only deletes files: a step folder the spec still uses blocks it (through its project), a file
    # in no project does not (before, deletions were not looked at: the broken project was committed)
    git(user_repo, "reset", "-q", "--hard")
    (user_repo / "notes").mkdir()
    (user_repo / "notes" / "a.md").write_text("a\n")
    git(user_repo, "add", "-A")
    assert subprocess.run(["git", "commit", "-qm", "notes"], cwd=user_repo, env=env).returncode == 0
    git(user_repo, "rm", "-rq", "pipelines/hello/report", "notes/a.md")
    gone = subprocess.run(["git", "commit", "-qm", "third"], cwd=user_repo, env=env, capture_output=True, text=True)
    assert gone.returncode != 0 and "[X02]" in gone.stdout + gone.stderr, gone.stdout + gone.stderr
    assert head_count(user_repo) == 2
    git(user_repo, "reset", "-q", "--hard")
    git(user_repo, "rm", "-q", "notes/a.md")
    fine = subprocess.run(["git", "commit", "-qm", "fourth"], cwd=user_repo, env=env, capture_output=True, text=True)
    assert fine.returncode == 0 and head_count(user_repo) == 3, fine.stdout + fine.stderr
