"""`pipeline-ci run/watch/cancel --backend clarifai` through the real CLI against the gRPC emulator:
every status outcome maps to its exit code, logs are relayed, SIGTERM cancels the remote run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline_ci.rules.examples import base_files  # noqa: E402
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator  # noqa: E402

from .conftest import write_files  # noqa: E402

PAT = "pat-run-tests-secret-value"
QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED, UNEXPECTED, CONFLICT, PAUSED = (
    64000, 64001, 64002, 64003, 64004, 64006, 64007, 64008)
FAST = ["--max-interval", "0.2", "--compute-cluster-id", "cc1", "--nodepool-id", "np1"]


@pytest.fixture(scope="module")
def emulator():
    with ClarifaiEmulator({PAT}, build_polls=1) as emu:
        yield emu


def env_for(emu: ClarifaiEmulator, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "GITHUB_"))}
    env.update({"CLARIFAI_PAT": PAT, "CLARIFAI_API_BASE": f"http://{emu.address}", "RUNNER_TEMP": str(tmp)})
    return env


def cli(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", *args], capture_output=True, text=True, env=env,
                            timeout=timeout)
    assert PAT not in result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def deployed(emulator, tmp_path_factory) -> Path:
    root = write_files(tmp_path_factory.mktemp("run") / "proj", base_files())
    result = cli(["upload", "--backend", "clarifai", str(root)], env_for(emulator, root.parent))
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
        ([(RUNNING, 1), (12345, 2), (COMPLETED, 1)], 0, "JOB_COMPLETED"),
    ],
)
def test_every_status_maps_to_its_exit_code(emulator, deployed, tmp_path, script, code, status):
    emulator.script_run(script, logs={RUNNING: ["step-a: working", '{"msg": "step-a: json line"}']})
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST], env_for(emulator, tmp_path))
    assert result.returncode == code, result.stdout + result.stderr
    assert status in result.stdout
    assert "step-a: working" in result.stdout and "step-a: json line" in result.stdout
    assert "pipeline_id: from" in result.stdout and "config-lock.yaml" in result.stdout
    if script[1][0] == 12345:
        assert "unknown status '12345'" in result.stdout


def test_paused_past_grace_fails_and_timeout_is_its_own_code(emulator, deployed, tmp_path):
    emulator.script_run([(RUNNING, 1), (PAUSED, 1000)])
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST, "--paused-grace", "0.5"],
                 env_for(emulator, tmp_path))
    assert result.returncode == 1 and "paused for more than" in result.stdout
    emulator.script_run([(RUNNING, 10_000)])
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST, "--timeout", "1"], env_for(emulator, tmp_path))
    assert result.returncode == 4 and "timed out" in result.stdout


def test_overrides_are_validated_before_anything_is_sent(emulator, deployed, tmp_path):
    before = len(emulator.runs)
    bad = tmp_path / "o.yaml"
    bad.write_text("input_txt: hello\n")
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST, "--overrides-file", str(bad)],
                 env_for(emulator, tmp_path))
    assert result.returncode == 2 and "unknown parameter 'input_txt'" in result.stdout and "input_text" in result.stdout
    assert len(emulator.runs) == before
    emulator.script_run([(COMPLETED, 1)])
    good = tmp_path / "o.json"
    good.write_text('{"input_text": "from file"}')
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST, "--overrides-file", str(good),
                  "--set", "input_text=from set"], env_for(emulator, tmp_path))
    assert result.returncode == 0
    run = list(emulator.runs.values())[-1]
    params = {p.name: p.value for p in run.input_args_override.argo_args_override.parameters}
    assert params == {"input_text": "from set"}


def test_lost_start_response_creates_one_run(emulator, deployed, tmp_path):
    emulator.script_run([(COMPLETED, 1)])
    before = len(emulator.runs)
    emulator.inject("PostPipelineVersionRuns", "drop_response", times=5)
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST], env_for(emulator, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(emulator.runs) == before + 1


def test_no_wait_then_watch_and_cancel_from_the_state_file(emulator, deployed, tmp_path):
    emulator.script_run([(RUNNING, 10_000)])
    env = env_for(emulator, tmp_path)
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
                             *FAST], env=env_for(emulator, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
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
    env = env_for(emulator, tmp_path)
    root = write_files(tmp_path / "fresh", base_files())
    result = cli(["run", str(root), "--backend", "clarifai", *FAST], env)
    assert result.returncode == 2 and "missing version_id" in result.stdout
    env.pop("CLARIFAI_PAT")
    result = cli(["run", str(root), "--backend", "clarifai", "--pipeline-version-id", "v1", *FAST], env)
    assert result.returncode == 2 and "CLARIFAI_PAT is not set" in result.stdout


def test_a_rejected_pat_is_an_api_error(emulator, deployed, tmp_path):
    env = env_for(emulator, tmp_path)
    env["CLARIFAI_PAT"] = "not-the-right-pat"
    before = len(emulator.runs)
    result = cli(["run", str(deployed), "--backend", "clarifai", *FAST], env)
    assert result.returncode == 3 and "rejected CLARIFAI_PAT" in result.stdout
    assert "not-the-right-pat" not in result.stdout + result.stderr
    assert len(emulator.runs) == before
