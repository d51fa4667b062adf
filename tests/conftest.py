"""Shared fixtures: temporary projects built from the rule-example base project; and how the suite is run fast
(workers, the order of the long tests, the emulator's build polls, cached assertion rewriting: see below)."""

from __future__ import annotations

import cProfile
import os
import pstats
import subprocess
import sys
from collections.abc import Callable, Iterator
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


def calls_made(work: Callable[[], object]) -> int:
    """Python and built-in function calls made by ``work()``: a measure of work that, unlike a stopwatch, does
    not depend on how busy the machine is (speed itself is measured by ``bench/``, as ratios)."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        work()
    finally:
        profile.disable()
    return pstats.Stats(profile).total_calls


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
    """``-n auto`` (pyproject.toml): five workers for two CPUs. Half of a test's time is spent waiting (on a CLI
    subprocess, an emulator's scripted polls, a step's sleep, pip), so one worker per CPU leaves the CPUs half idle; with
    two per CPU they still idle whenever most workers wait at once (on 2 CPUs, a wait-heavy third of the suite took
    31 s with 4 workers, 29 s with 5, 27.5 s with 6, each worker collecting the suite again: about 1 s of CPU).
    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides when it is set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(2, round(2.5 * cpus))


@pytest.hookimpl(hookwrapper=True)
def pytest_collection(session: pytest.Session) -> Iterator[None]:
    """Each xdist worker collects every test module; pytest's assertion rewriting of them (about two thirds of a
    collection) is cached as ``tests/__pycache__/*-pytest-*.pyc``, unless ``PYTHONDONTWRITEBYTECODE`` (set by some shells
    and containers) forbids writing it. It is allowed while collecting, so only the first session after a change
    rewrites a test module; bytecode is written as without the variable, into ``__pycache__`` folders git ignores."""
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, False
    yield
    sys.dont_write_bytecode = saved


def pytest_configure(config: pytest.Config) -> None:
    """The suite starts about 500 ``pipeline-ci`` subprocesses. Under ``PYTHONDONTWRITEBYTECODE`` a module edited since
    its bytecode was last written (and that no test module imports while collecting, see above) would be compiled
    again by every one of them: the package's stale bytecode is brought up to date once, before the workers start
    (a few milliseconds when nothing changed)."""
    if not hasattr(config, "workerinput"):  # the xdist controller, or the only process without xdist
        import compileall

        compileall.compile_dir(REPO / "pipeline_ci", quiet=1)


# --- scheduling: long tests first, spread over the workers ----------------------------------------------------------
# Seconds a test takes in the whole suite on a 2-core machine (from ``--durations``; a test-name prefix, or a file for
# all its tests; the first prefix that matches counts).
# pytest-xdist's ``worksteal`` hands each worker one contiguous block of the collection and lets an idle worker take
# the second half of another's queue: a long test left at the end of a queue holds up the whole run. So the long
# tests are dealt out over the blocks (the longest to the least loaded), each block starts with them, and ends with
# short tests that the other workers can take over. Some long tests mostly wait (WAITING: a sleep, an emulator's
# scripted polls, a timeout, a CPU share under a third): if the workers all ran such tests at once, the CPUs would
# idle, so each block alternates busy and waiting long tests (longest first of each kind), half of the blocks starting
# with a busy one and half with a waiting one. The order changes nothing else.
SLOW = {
    "test_action.py::test_install_and_run_steps_end_to_end": 7.8,
    "test_hooks.py::test_clean_commit_passes_and_broken_config_blocks": 6.3,
    "test_hooks.py::test_try_repo_runs_each_project_once": 5.1,
    "test_progress.py::test_a_pipe_gets_a_plain_line_every_interval": 4.9,
    "test_hostile_fuzz.py::": 4.5,
    "test_changes_fingerprint.py::test_upload_stamps_an_up_to_date_project": 4.5,
    "test_dsl.py::test_changed_selects_the_dsl_steps": 4.1,
    "test_lint_cache.py::test_changes_invalidate": 3.7,
    "test_compute.py::test_first_run_creates_the_compute": 3.6,
    "test_lint_cache.py::test_a_hit_prints_exactly_the_fresh_result": 3.5,
    "test_hostile_executor.py::test_timeouts_exit_4_within_5s": 3.4,
    "test_envs.py::test_envs_list_and_prune": 3.1,
    "test_team_flows.py::test_developers_upload_story": 3.0,
    "test_cli_conventions.py::test_verbose_shows_request_ids": 2.8,
    "test_hostile_executor.py::test_sigterm_while_a_step_ignores_sigterm": 2.8,
    "test_runs_clarifai.py::test_paused_past_grace_fails": 2.6,
    "test_build_overlap.py::test_four_builds_overlap": 2.6,
    "test_progress.py::": 2.4,
    "test_build_overlap.py::test_two_failed_builds": 2.4,
    "test_dsl.py::test_bundle_is_byte_for_byte": 2.3,
    "test_pause_resume.py::test_pause_then_resume_within_grace": 2.3,
    "test_upload_safety.py::test_merged_branches_pinning_different_steps": 2.3,
    "test_upload_safety.py::test_dry_run_equals_the_real_run": 2.2,
    "test_team_flows.py::test_ci_uploads_story": 2.1,
    "test_changed.py::test_only_the_git_layer_runs_git": 2.0,
    "test_quality.py::test_mypy_is_clean": 2.0,  # 0.5 s with mypy's cache warm, 5 s and more after many edits
    "test_runs_pai.py::test_a_chatty_run_loses_no_line": 2.0,
    "test_upload_safety.py::test_two_release_jobs": 2.0,
    "test_dsl.py::": 1.8,
    "test_team_flows.py::": 1.8,
    "test_hostile_lint.py::test_lint_work_grows_linearly": 1.8,
    "test_hostile_lint.py::test_a_dag_of_1500_tasks": 1.7,
    "test_main_job.py::": 1.6,
    "test_action_runs.py::test_deploy_run_in_one_step": 1.6,
    "test_runs_pai.py::test_watch_and_cancel_by_id": 1.6,
    "test_hostile_executor.py::test_sigterm_while_the_engine_waits": 1.6,
    "test_hostile_output.py::test_remote_logs_are_neutralised": 1.5,
    "test_deploy_clarifai.py::test_throttling_is_retried": 1.5,
    "test_action_runs.py::test_cancel_sub_action": 1.5,
    "test_errors.py::test_internal_error_while_following_a_clarifai_run": 1.4,
    "test_rules_pai.py::test_wrong_types_anywhere_never_crash": 1.4,
    "test_envs.py::": 1.3,
    "test_pause_resume.py::": 1.3,
    "test_runs_clarifai.py::test_no_wait_then_watch": 1.3,
    "test_deploy_clarifai.py::test_upload_follows_the_sdk_sequence": 1.3,
    "test_compute.py::test_addressing_an_existing_run": 1.25,
    "test_lint_cache.py::": 1.2,
    "test_hostile_executor.py::test_sigterm_during_cpu_heavy": 1.2,
    "test_hooks.py::": 1.2,
    "test_action_runs.py::test_cancelled_companion": 1.2,
    "test_runs_pai.py::test_lost_create_response": 1.15,
    "test_init.py::test_template_lints_clean": 1.1,
    "test_executor.py::test_dag_branches_run_in_parallel": 1.1,
    "test_argo_conformance.py::test_argo_example[retry-backoff]": 1.1,
    "test_build_overlap.py::": 1.05,
    "test_executor.py::test_template_deadline_kills_the_step": 1.05,
    "test_executor.py::test_whole_run_timeout_exits_4": 1.05,
    "test_executor.py::test_workflow_deadline_fails_the_run": 1.05,
    "test_argo_conformance.py::test_argo_example[timeouts-workflow]": 1.05,
    "test_cli_conventions.py::test_zsh_completion": 1.0,
    "test_runs_clarifai.py::test_every_status_maps_to_its_exit_code": 0.9,
    "test_deploy_clarifai.py::": 0.9,
    "test_upload_safety.py::": 0.9,
    "test_runs_pai.py::": 0.9,
    "test_runs_clarifai.py::": 0.8,
    "test_action_runs.py::": 0.8,
    "test_compute.py::": 0.8,
}
WAITING = (
    "test_progress.py::", "test_lint_cache.py::", "test_hostile_executor.py::test_timeouts",
    "test_hostile_executor.py::test_sigterm_while", "test_compute.py::test_first_run", "test_cli_conventions.py::test_verbose",
    "test_cli_conventions.py::test_zsh", "test_runs_clarifai.py::test_paused_past_grace", "test_runs_clarifai.py::test_every",
    "test_build_overlap.py::test_four_builds", "test_build_overlap.py::test_two_failed", "test_build_overlap.py::test_a_failed",
    "test_pause_resume.py::test_pause_then_resume", "test_runs_pai.py::", "test_action_runs.py::test_deploy_run_in_one",
    "test_deploy_clarifai.py::test_throttling", "test_errors.py::test_internal_error_while_following", "test_executor.py::",
    "test_argo_conformance.py::",
)
LONG = 0.75  # seconds: tests expected to take longer are dealt out first


def _seconds(item: pytest.Item) -> float:
    nodeid = item.nodeid.rpartition("/")[2]
    return next((seconds for prefix, seconds in SLOW.items() if nodeid.startswith(prefix)), 0.0)


def _waits(item: pytest.Item) -> bool:
    return item.nodeid.rpartition("/")[2].startswith(WAITING)


def _alternate(first: list[pytest.Item], second: list[pytest.Item]) -> list[pytest.Item]:
    """``first[0], second[0], first[1], second[1], ...``, then what is left of the longer list."""
    out: list[pytest.Item] = []
    for pair in zip(first, second, strict=False):
        out += pair
    n = min(len(first), len(second))
    return out + first[n:] + second[n:]


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
    for number, (block, size) in enumerate(zip(blocks, sizes, strict=True)):
        busy = [item for item in block if not _waits(item)]
        waiting = [item for item in block if _waits(item)]
        take = size - len(block)
        ordered += (_alternate(busy, waiting) if number % 2 == 0 else _alternate(waiting, busy)) + short[:take]
        del short[:take]
    items[:] = ordered + short
