"""Shared fixtures: temporary projects built from the rule-example base project; and how the suite is run fast
(workers, the order of the long tests, the emulator's build polls, cached assertion rewriting: see below)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline_ci.lint import LintResult, lint_paths
from pipeline_ci.testing.projects import base_files, root_config

REPO = Path(__file__).resolve().parents[1]

# The Clarifai emulator's builds are polled after 0.05 s instead of 1 s (``PIPELINE_CI_BUILD_POLL``, see the README):
# a build goes through the same states, the suite waits less. The tests about build timing (test_progress.py,
# test_build_overlap.py) take ``PIPELINE_CI_*`` out of their environment: they keep the default.
os.environ.setdefault("PIPELINE_CI_BUILD_POLL", "0.05")


def run_cli(args: list[str], env: dict[str, str] | None = None, *, cwd: Path | None = None, timeout: float = 300,
            secrets: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """The real ``pipeline-ci`` in a subprocess; the test fails if any of ``secrets`` shows in its output."""
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", *args], capture_output=True, text=True, env=env,
                            cwd=cwd, timeout=timeout)
    for secret in secrets:
        assert secret not in result.stdout + result.stderr
    return result


def pty_output(argv: list[str], *, cwd: Path | None, env: dict[str, str]) -> tuple[int, str]:
    """What a user's terminal receives from ``argv`` (stdout and stderr on one pseudo-terminal), and its exit code."""
    import pty
    import select

    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, cwd=cwd, env=env)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        assert ready, "the CLI printed nothing for 30 s"
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=30), b"".join(chunks).decode().replace("\r\n", "\n")


def clarifai_env(emulator, tmp: Path, pat: str) -> dict[str, str]:
    """The environment of a CLI run against the Clarifai emulator (no CLARIFAI_*/GITHUB_* of the machine's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "GITHUB_"))}
    env.update({"CLARIFAI_PAT": pat, "CLARIFAI_API_BASE": f"http://{emulator.address}", "RUNNER_TEMP": str(tmp)})
    return env


def write_files(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


MUTATION_KINDS = ("delete", "duplicate", "replace", "insert", "indent")


def mutate_lines(text: str, edits: list[tuple[str, int, str]]) -> str:
    """Apply line edits ``(kind, where, snippet)`` to ``text``: the mutation step of the fuzz tests."""
    for kind, where, snippet in edits:
        lines = text.split("\n")
        i = where % max(len(lines), 1)
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "replace":
            j = where % max(len(lines[i]), 1)
            lines[i] = lines[i][:j] + snippet + lines[i][j + len(snippet):]
        elif kind == "insert":
            lines.insert(i, snippet)
        else:
            lines[i] = "  " + lines[i]
        text = "\n".join(lines)
    return text


@pytest.fixture
def make_project(tmp_path: Path):
    """``make_project(spec=None, **files)`` → a project folder; ``files`` keys use ``__`` for ``/``."""

    def make(spec: str | None = None, files: dict[str, str] | None = None) -> Path:
        content = base_files()
        if spec is not None:
            content["config.yaml"] = root_config(spec)
        content.update(files or {})
        return write_files(tmp_path / "proj", content)

    return make


def lint(path: Path, **kwargs) -> LintResult:
    return lint_paths([path], **kwargs)


def rules_of(result: LintResult) -> set[str]:
    return {f.rule for f in result.findings}


@pytest.fixture(autouse=True)
def _dsl_sdk_for_rule_examples(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The examples of the Python-pipeline rules (D-numbers) compile pipeline files: give them the SDK's venv."""
    if "-dsl-" in request.node.name:
        from .dsl_sdk import sdk_python

        monkeypatch.setenv("PIPELINE_CI_PYTHON", str(sdk_python()))


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: without xdist, nothing calls it
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (pyproject.toml): two workers per CPU. Half of a test's time is spent waiting (on a CLI subprocess,
    an emulator's scripted polls, a step's sleep, pip), so one worker per CPU leaves the CPUs half idle.
    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides when it is set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 * cpus


@pytest.hookimpl(hookwrapper=True)
def pytest_collection(session: pytest.Session) -> Iterator[None]:
    """Each xdist worker collects every test module; pytest's assertion rewriting of them (about two thirds of a
    collection) is cached as ``tests/__pycache__/*-pytest-*.pyc``, unless ``PYTHONDONTWRITEBYTECODE`` (set by some shells
    and containers) forbids writing it. It is allowed while collecting, so only the first session after a change
    rewrites a test module; bytecode is written as without the variable, into ``__pycache__`` folders git ignores."""
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, False
    yield
    sys.dont_write_bytecode = saved


# --- scheduling: long tests first, spread over the workers ----------------------------------------------------------
# Seconds a test takes on a 2-core machine (from ``--durations=60``; a test-name prefix, or a file for all its tests).
# pytest-xdist's ``worksteal`` hands each worker one contiguous block of the collection and lets an idle worker take
# the second half of another's queue: a long test left at the end of a queue holds up the whole run. So the long
# tests are dealt out over the blocks (the longest to the least loaded), each block starts with them, longest
# first, and ends with short tests that the other workers can take over. The order changes nothing else.
SLOW = {
    "test_action.py::test_install_and_run_steps_end_to_end": 11.0,
    "test_dsl.py::test_changed_selects_the_dsl_steps": 6.5,
    "test_hooks.py::test_clean_commit_passes_and_broken_config_blocks": 6.0,
    "test_compute.py::test_first_run_creates_the_compute": 5.8,
    "test_quality.py::test_mypy_is_clean": 5.0,
    "test_hooks.py::test_try_repo_runs_each_project_once": 4.9,
    "test_lint_cache.py::test_a_hit_prints_exactly_the_fresh_result": 4.7,
    "test_pause_resume.py::test_pause_then_resume_within_grace": 4.3,
    "test_progress.py::test_a_pipe_gets_a_plain_line_every_interval": 3.9,
    "test_hostile_fuzz.py::": 3.8,
    "test_lint_cache.py::test_changes_invalidate": 3.7,
    "test_hostile_executor.py::test_timeouts_exit_4_within_5s": 3.6,
    "test_envs.py::test_envs_list_and_prune": 3.4,
    "test_hostile_executor.py::test_sigterm_while_a_step_ignores_sigterm": 3.0,
    "test_rules_pai.py::test_wrong_types_anywhere_never_crash": 2.3,
    "test_hooks.py::": 2.0,
    "test_dsl.py::": 2.5,
    "test_progress.py::": 2.5,
    "test_cli_conventions.py::test_verbose_shows_request_ids": 2.7,
    "test_cli_conventions.py::test_zsh_completion": 2.1,
    "test_runs_clarifai.py::test_every_status_maps_to_its_exit_code[script0": 2.5,
    "test_runs_clarifai.py::test_paused_past_grace_fails": 2.5,
    "test_runs_pai.py::test_a_chatty_run_loses_no_line": 2.5,
    "test_hostile_output.py::test_remote_logs_are_neutralised": 2.5,
    "test_upload_safety.py::test_merged_branches_pinning_different_steps": 2.5,
    "test_upload_safety.py::test_dry_run_equals_the_real_run": 2.3,
    "test_contexts.py::test_cli_uses_the_clarifai_login_context": 2.3,
    "test_compute.py::test_addressing_an_existing_run": 2.2,
    "test_main_job.py::": 1.5,
    "test_graph.py::test_clarifai_run_summary": 1.9,
    "test_action_runs.py::test_clarifai_run_step_sets_outputs": 1.7,
    "test_hostile_lint.py::test_lint_work_grows_linearly": 1.7,
    "test_deploy_clarifai.py::": 1.6,
    "test_pause_resume.py::": 1.6,
    "test_team_flows.py::": 1.8,
    "test_build_overlap.py::": 1.4,
    "test_envs.py::": 1.4,
    "test_hostile_executor.py::test_sigterm": 1.6,
    "test_lint_cache.py::": 1.2,
    "test_compute.py::": 1.0,
    "test_runs_pai.py::": 0.9,
    "test_upload_safety.py::": 0.9,
    "test_runs_clarifai.py::": 0.8,
    "test_action_runs.py::": 0.8,
}
LONG = 0.75  # seconds: tests expected to take longer are dealt out first


def _seconds(item: pytest.Item) -> float:
    nodeid = item.nodeid.rpartition("/")[2]
    return next((seconds for prefix, seconds in SLOW.items() if nodeid.startswith(prefix)), 0.0)


def _worksteal_blocks(total: int, workers: int) -> list[int]:
    """The sizes of the contiguous blocks worksteal first sends to ``workers`` idle workers (xdist 3.x)."""
    sizes = []
    for i in range(workers):
        sizes.append((total - sum(sizes)) // (workers - i))
    return sizes


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    seconds = {id(item): _seconds(item) for item in items}
    long = sorted((item for item in items if seconds[id(item)] >= LONG), key=lambda item: -seconds[id(item)])
    short = [item for item in items if seconds[id(item)] < LONG]  # in collection order: a module stays together
    sizes = _worksteal_blocks(len(items), workers)
    blocks: list[list[pytest.Item]] = [[] for _ in sizes]
    load = [0.0] * len(sizes)
    for item in long:  # the longest first, each to the least loaded block that has room
        room = [i for i in range(len(sizes)) if len(blocks[i]) < sizes[i]]
        i = min(room, key=lambda i: load[i])
        blocks[i].append(item)
        load[i] += seconds[id(item)]
    ordered: list[pytest.Item] = []
    for block, size in zip(blocks, sizes, strict=True):
        take = size - len(block)
        ordered += block + short[:take]
        del short[:take]
    items[:] = ordered + short
