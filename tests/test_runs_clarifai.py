"""`pipeline-ci run/watch/cancel --backend clarifai` through the real CLI against the gRPC emulator:
every status outcome maps to its exit code, logs are relayed (all pages, none lost, none twice; a log error is a
warning), SIGTERM cancels the remote run, and so does an exception while following it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline_ci.platforms.clarifai import status
from pipeline_ci.platforms.clarifai.api import ClarifaiClient
from pipeline_ci.platforms.clarifai.run import ClarifaiRun, RunTarget
from pipeline_ci.runs import active
from pipeline_ci.runs.follow import Poll, follow
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator  # noqa: E402
from pipeline_ci.testing.projects import base_files  # noqa: E402

from .conftest import clarifai_env, run_cli, write_files  # noqa: E402

PAT = "pat-run-tests-secret-value"
QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED, UNEXPECTED, CONFLICT, PAUSED = (
    status.JOB_QUEUED, status.JOB_RUNNING, status.JOB_COMPLETED, status.JOB_FAILED, status.JOB_CANCELLED,
    status.JOB_UNEXPECTED_ERROR, status.JOB_CONFLICT, status.JOB_PAUSED)
UNNAMED = 12345  # a code this clarifai-grpc does not know
FAST = ["--max-interval", "0.05", "--compute-cluster-id", "cc1", "--nodepool-id", "np1"]


@pytest.fixture(scope="module")
def emulator():
    with ClarifaiEmulator({PAT}, build_polls=1) as emu:
        yield emu


def cli(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return run_cli(args, env, timeout=timeout, secrets=(PAT,))


@pytest.fixture(scope="module")
def deployed(emulator, tmp_path_factory) -> Path:
    root = write_files(tmp_path_factory.mktemp("run") / "proj", base_files())
    result = cli(["upload", "--backend", "clarifai", str(root)], clarifai_env(emulator, root.parent, PAT))
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.mark.parametrize(
    ("script", "code", "status"),
    [
        ([(QUEUED, 1), (RUNNING, 2), (COMPLETED, 1)], 0, "JOB_COMPLETED"),
        ([(RUNNING, 1), (FAILED, 1)], 1, "JOB_FAILED"),
        ([(RUNNING, 1), (UNEXPECTED, 1)], 1, "JOB_UNEXPECTED_ERROR"),
        ([(RUNNING, 1), (CONFLICT, 1)], 1, "JOB_CONFLICT"),
        ([(RUNNING, 1), (CANCELLED, 1)], 5, "JOB_CANCELLED"),
        ([(RUNNING, 1), (UNNAMED, 2), (COMPLETED, 1)], 0, "JOB_COMPLETED"),
    ],
)
def test_every_status_maps_to_its_exit_code(emulator, deployed, tmp_path, script, code, status):
    emulator.script_run(script, logs={RUNNING: ["step-a: working", '{"msg": "step-a: json line"}']})
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST], clarifai_env(emulator, tmp_path, PAT))
    assert result.returncode == code, result.stdout + result.stderr
    assert status in result.stdout
    assert "step-a: working" in result.stdout and "step-a: json line" in result.stdout
    assert "pipeline_id: from" in result.stdout and "config-lock.yaml" in result.stdout
    if script[1][0] == UNNAMED:
        assert f"unknown status '{UNNAMED}'" in result.stdout


def test_paused_past_grace_fails_and_timeout_is_its_own_code(emulator, deployed, tmp_path):
    emulator.script_run([(RUNNING, 1), (PAUSED, 1000)])
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST, "--paused-grace", "0.5"],
                 clarifai_env(emulator, tmp_path, PAT))
    assert result.returncode == 1 and "paused for more than" in result.stdout
    emulator.script_run([(RUNNING, 10_000)])
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST, "--timeout", "1"], clarifai_env(emulator, tmp_path, PAT))
    assert result.returncode == 4 and "timed out" in result.stdout


def test_overrides_are_validated_before_anything_is_sent(emulator, deployed, tmp_path):
    before = len(emulator.runs)
    bad = tmp_path / "o.yaml"
    bad.write_text("input_txt: hello\n")
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST, "--overrides-file", str(bad)],
                 clarifai_env(emulator, tmp_path, PAT))
    assert result.returncode == 2 and "unknown parameter 'input_txt'" in result.stderr and "input_text" in result.stderr
    assert len(emulator.runs) == before
    emulator.script_run([(COMPLETED, 1)])
    good = tmp_path / "o.json"
    good.write_text('{"input_text": "from file"}')
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST, "--overrides-file", str(good),
                  "--set", "input_text=from set"], clarifai_env(emulator, tmp_path, PAT))
    assert result.returncode == 0
    run = list(emulator.runs.values())[-1]
    params = {p.name: p.value for p in run.input_args_override.argo_args_override.parameters}
    assert params == {"input_text": "from set"}


def test_lost_start_response_creates_one_run(emulator, deployed, tmp_path):
    emulator.script_run([(COMPLETED, 1)])
    before = len(emulator.runs)
    emulator.inject("PostPipelineVersionRuns", "drop_response", times=5)
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST], clarifai_env(emulator, tmp_path, PAT))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(emulator.runs) == before + 1


def test_no_wait_then_watch_and_cancel_from_the_state_file(emulator, deployed, tmp_path):
    emulator.script_run([(RUNNING, 10_000)])
    env = clarifai_env(emulator, tmp_path, PAT)
    started = cli(["run", str(deployed), "--backend", "clarifai", *FAST, "--no-wait"], env)
    assert started.returncode == 0 and "started run" in started.stdout
    run_id = list(emulator.runs)[-1]
    assert run_id in started.stdout and (tmp_path / "pipeline-ci-run.json").is_file()
    watched = cli(["watch", run_id, "--path", str(deployed), *FAST, "--timeout", "0.5"], env)
    assert watched.returncode == 4
    cancelled = cli(["cancel", "--path", str(deployed)], env)
    assert cancelled.returncode == 0 and run_id in cancelled.stdout
    assert emulator.runs[run_id].orchestration_status.status.code == CANCELLED


def test_sigterm_cancels_the_remote_run_and_exits_5(emulator, deployed, tmp_path):
    emulator.script_run([(RUNNING, 100_000)])
    before = set(emulator.runs)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline_ci", "run", str(deployed), "--backend", "clarifai",
                             *FAST], env=clarifai_env(emulator, tmp_path, PAT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    deadline = time.monotonic() + 30
    while not set(emulator.runs) - before:  # the new run exists: the process is past its start request
        assert time.monotonic() < deadline
        time.sleep(0.1)
    [run_id] = set(emulator.runs) - before
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 5, output
    assert time.monotonic() - sent < 5
    assert emulator.runs[run_id].orchestration_status.status.code == CANCELLED
    assert "cancelled" in output and PAT not in output


def test_missing_ids_and_pat_are_usage_errors(emulator, tmp_path):
    env = clarifai_env(emulator, tmp_path, PAT)
    root = write_files(tmp_path / "fresh", base_files())
    result = cli(["run", str(root), "--backend", "clarifai", *FAST], env)
    assert result.returncode == 2 and "missing version_id" in result.stderr
    env.pop("CLARIFAI_PAT")
    result = cli(["run", str(root), "--backend", "clarifai", "--pipeline-version-id", "v1", *FAST], env)
    assert result.returncode == 2 and "CLARIFAI_PAT is not set" in result.stderr


def test_a_rejected_pat_is_an_api_error(emulator, deployed, tmp_path):
    env = clarifai_env(emulator, tmp_path, PAT)
    env["CLARIFAI_PAT"] = "not-the-right-pat"
    before = len(emulator.runs)
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST], env)
    assert result.returncode == 3 and "rejected CLARIFAI_PAT" in result.stderr
    assert "not-the-right-pat" not in result.stdout + result.stderr
    assert len(emulator.runs) == before


# ----------------------------------------------------------------------------------------------- logs


def run_default(emulator: ClarifaiEmulator, deployed: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return cli(["run", str(deployed), "--backend", "clarifai", *FAST], clarifai_env(emulator, tmp_path, PAT))


def printed(result: subprocess.CompletedProcess, prefix: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(prefix)]


@pytest.mark.parametrize(("fault", "final", "code"), [("permission_denied", FAILED, 1),
                                                      ("insufficient_scopes", COMPLETED, 0)])
def test_logs_that_cannot_be_read_are_one_warning_and_the_run_is_still_gated(emulator, deployed, tmp_path, fault,
                                                                            final, code):
    emulator.script_run([(RUNNING, 3), (final, 1)], logs={RUNNING: ["never shown"]})
    emulator.inject("ListLogEntries", fault, every=1)  # every log call, the drain's too
    try:
        result = run_default(emulator, deployed, tmp_path)
    finally:
        emulator.clear_faults()
    assert result.returncode == code, result.stdout + result.stderr
    assert status.name(final) in result.stdout and "never shown" not in result.stdout
    warnings = printed(result, "pipeline-ci: warning: cannot read logs:")
    assert len(warnings) == 1 and warnings[0].endswith("; still following the run"), result.stdout
    assert "CLARIFAI_PAT" in warnings[0]  # the reason: the API rejected the PAT for this call
    run_id = list(emulator.runs)[-1]
    log_calls = [req for name, req in emulator.calls if name == "ListLogEntries"
                 and req.pipeline_version_run_id == run_id]
    assert len(log_calls) >= 4  # tried again at every poll and in the drain, reported once


def test_lines_logged_after_the_final_status_are_all_printed_once_in_order(emulator, deployed, tmp_path):
    late = [f"late line {i:03d}" for i in range(131)]
    emulator.script_run([(RUNNING, 1), (COMPLETED, 1)], logs={RUNNING: ["step-a: working"]}, late_logs=late)
    result = run_default(emulator, deployed, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert printed(result, "late line ") == late
    assert printed(result, "step-a: working") == ["step-a: working"]


def test_a_chatty_run_loses_no_line_between_polls(emulator, deployed, tmp_path):
    chatty = [f"chatty {i:04d}" for i in range(1200)]  # more than one poll's page budget (20 pages of 50)
    emulator.script_run([(QUEUED, 1), (RUNNING, 2), (COMPLETED, 1)], logs={RUNNING: chatty, COMPLETED: ["the end"]})
    result = run_default(emulator, deployed, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert printed(result, "chatty ") == chatty
    lines = result.stdout.splitlines()
    final = next(i for i, line in enumerate(lines) if "JOB_COMPLETED (" in line)
    assert lines.index(chatty[-1]) < final  # read while polling, not only by the drain after the final status
    assert printed(result, "the end") == ["the end"]


def test_the_drain_is_bounded_and_says_where_the_rest_is(emulator, deployed):
    emulator.script_run([(RUNNING, 1), (COMPLETED, 1)], logs={}, late_logs=[f"late {i:03d}" for i in range(300)])
    remote = new_run(emulator, ClarifaiRun)
    lines: list[str] = []
    try:
        result = follow(remote, timeout=30, max_interval=0.05, out=lines.append, pages_per_poll=1, drain_limit=120)
    finally:
        remote.client.close()
    assert result.exit_code == 0
    assert [line for line in lines if line.startswith("late ")] == [f"late {i:03d}" for i in range(50 + 120)]
    assert lines[-1] == f"pipeline-ci: log output cut after 120 lines; see {remote.url}"


# ----------------------------------------------------------------------------------------------- errors


def new_run(emulator: ClarifaiEmulator, kind: type[ClarifaiRun]) -> ClarifaiRun:
    """A started run of the deployed pipeline version, through the real client and adapter class ``kind``."""
    version = emulator.pipeline_versions[-1]
    target = RunTarget(version.user_id, version.app_id, version.pipeline_id, version.id, "cc1", "np1")
    remote = kind(ClarifaiClient(PAT, f"http://{emulator.address}"), target)
    remote.start([])
    return remote


class BrokenPoll(ClarifaiRun):
    """The real adapter, whose second poll hits a bug."""

    polls = 0

    def poll(self) -> Poll:
        self.polls += 1
        if self.polls == 2:
            raise RuntimeError("adapter bug")
        return super().poll()


def cancels(emulator: ClarifaiEmulator, run_id: str) -> int:
    return sum(1 for name, req in emulator.calls if name == "PatchPipelineVersionRuns"
               and [r.id for r in req.pipeline_version_runs] == [run_id])


def test_an_exception_while_following_a_started_run_cancels_it(emulator, deployed):
    emulator.script_run([(RUNNING, 100_000)])
    remote = new_run(emulator, BrokenPoll)
    lines: list[str] = []
    active.register(remote)  # as `pipeline-ci run` does once the platform accepted the run
    try:
        with pytest.raises(RuntimeError, match="adapter bug"):
            follow(remote, timeout=30, max_interval=0.05, out=lines.append)
        remote.cancel()  # what the error handler does next: the adapter sends no second cancel
    finally:
        active.unregister(remote)
        remote.client.close()
    assert emulator.runs[remote.run_id].orchestration_status.status.code == CANCELLED
    assert cancels(emulator, remote.run_id) == 1
    assert f"run {remote.run_id}: unexpected error (RuntimeError: adapter bug) while following the run; " \
           "cancelling the remote run" in lines
    assert lines[-1] == f"run {remote.run_id}: cancelled"


def test_an_interrupt_while_following_cancels_the_run_and_a_watched_run_is_left_alone(emulator, deployed):
    emulator.script_run([(RUNNING, 100_000)])
    remote = new_run(emulator, ClarifaiRun)

    def interrupted(line: str) -> None:
        if "JOB_RUNNING (" in line:
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            follow(remote, timeout=30, max_interval=0.05, out=interrupted, cancel_on_error=True)
    finally:
        remote.client.close()
    assert emulator.runs[remote.run_id].orchestration_status.status.code == CANCELLED

    watched = new_run(emulator, BrokenPoll)  # `watch`: not started by this process (not registered)
    try:
        with pytest.raises(RuntimeError, match="adapter bug"):
            follow(watched, timeout=30, max_interval=0.05, out=lambda _line: None)
    finally:
        watched.client.close()
    assert emulator.runs[watched.run_id].orchestration_status.status.code == RUNNING
    assert cancels(emulator, watched.run_id) == 0
