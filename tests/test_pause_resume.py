"""`pipeline-ci pause|resume [RUN_ID]` through the real CLI against the Clarifai gRPC emulator: the state file is the
default, `watch` follows a run paused and resumed within `--paused-grace` to its end, a run paused for longer
counts as failed, the platform's refusals are errors naming the run, and backends that cannot pause refuse before
calling anything."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline_ci.platforms.clarifai import status
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator
from pipeline_ci.testing.projects import base_files

from .conftest import clarifai_env, run_cli, write_files

PAT = "pat-pause-tests-secret-value"
FAST = ["--max-interval", "0.05", "--compute-cluster-id", "cc1", "--nodepool-id", "np1"]


@pytest.fixture(scope="module")
def emulator():
    with ClarifaiEmulator({PAT}, build_polls=1) as emu:
        yield emu


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_cli(args, env, timeout=120, secrets=(PAT,))


@pytest.fixture(scope="module")
def deployed(emulator, tmp_path_factory) -> Path:
    root = write_files(tmp_path_factory.mktemp("pause") / "proj", base_files())
    result = cli(["upload", "--backend", "clarifai", str(root)], clarifai_env(emulator, root.parent, PAT))
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def start(emulator, deployed, tmp_path, script) -> tuple[str, dict[str, str]]:
    emulator.script_run(script)
    env = clarifai_env(emulator, tmp_path, PAT)
    result = cli(["run", str(deployed), "--backend", "clarifai", "--no-wait", *FAST], env)
    assert result.returncode == 0, result.stdout + result.stderr
    state = json.loads((tmp_path / "pipeline-ci-run.json").read_text())
    return state["run_id"], env


def run_code(emulator, run_id: str) -> int:
    return emulator._runs[run_id].code  # the emulator's own record of the run


def test_pause_then_resume_within_grace_is_followed_to_success(emulator, deployed, tmp_path):
    run_id, env = start(emulator, deployed, tmp_path, [(status.JOB_RUNNING, 6), (status.JOB_COMPLETED, 1)])
    paused = cli(["pause"], env)  # the run of the state file
    assert paused.returncode == 0, paused.stderr
    assert f"paused run {run_id}" in paused.stdout and run_code(emulator, run_id) == status.JOB_PAUSED
    watch = subprocess.Popen([sys.executable, "-m", "pipeline_ci", "watch", run_id, "--path", str(deployed),
                              "--paused-grace", "30", *FAST], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    time.sleep(1.0)
    assert watch.poll() is None  # still waiting: paused is not final
    resumed = cli(["resume", run_id, "--path", str(deployed)], env)
    assert resumed.returncode == 0 and f"resumed run {run_id}" in resumed.stdout
    out, err = watch.communicate(timeout=60)
    assert watch.returncode == 0, out + err
    assert "JOB_PAUSED" in out and "JOB_COMPLETED" in out


def test_paused_past_grace_counts_as_failed(emulator, deployed, tmp_path):
    run_id, env = start(emulator, deployed, tmp_path, [(status.JOB_RUNNING, 50), (status.JOB_COMPLETED, 1)])
    assert cli(["pause", run_id, "--path", str(deployed)], env).returncode == 0
    watch = cli(["watch", run_id, "--path", str(deployed), "--paused-grace", "0.5", *FAST], env)
    assert watch.returncode == 1 and "paused for more than" in watch.stdout


def test_platform_refusals_name_the_run(emulator, deployed, tmp_path):
    run_id, env = start(emulator, deployed, tmp_path, [(status.JOB_COMPLETED, 1)])
    again = cli(["resume", run_id, "--path", str(deployed)], env)
    assert again.returncode == 3 and f"could not resume run {run_id}" in again.stderr
    assert "JOB_COMPLETED" in again.stderr and "Traceback" not in again.stderr
    assert cli(["pause", run_id, "--path", str(deployed)], env).returncode == 3


def test_no_state_file_and_unsupported_backends_refuse_before_any_call(emulator, tmp_path):
    env = clarifai_env(emulator, tmp_path, PAT)
    before = len(emulator.calls)
    missing = cli(["pause"], env)
    assert missing.returncode == 2 and "state file" in missing.stderr
    (tmp_path / "pipeline-ci-run.json").write_text(json.dumps({"run_id": "r1", "backend": "pai"}))
    pai = cli(["resume"], env)
    assert pai.returncode == 2 and "cannot be paused or resumed" in pai.stderr and "pipeline-ci cancel" in pai.stderr
    assert len(emulator.calls) == before
