"""`pipeline-ci run/watch/cancel --backend pai` through the real CLI against the PAI emulator, which
verifies every request's ACS3-HMAC-SHA256 signature."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline_ci.testing.pai_emulator import PaiEmulator

KEY_ID, SECRET, TOKEN = "LTAI-test-key-id", "pai-secret-value-0123456789", "sts-token-value-abcdef"
FAST = ["--max-interval", "0.2", "--workspace-id", "ws-1"]
MANIFEST = """\
apiVersion: core/v1
metadata:
  provider: "123"
  version: v1
  identifier: train
spec:
  inputs:
    parameters:
    - name: epochs
      type: Int
      value: 3
"""


@pytest.fixture(scope="module")
def emulator():
    with PaiEmulator({KEY_ID: SECRET}, security_tokens={KEY_ID: TOKEN}) as emu:
        yield emu


def env_for(emu: PaiEmulator, tmp: Path, secret: str = SECRET) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_", "GITHUB_"))}
    env.update({"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret,
                "ALIBABA_CLOUD_SECURITY_TOKEN": TOKEN, "RUNNER_TEMP": str(tmp)})
    return env


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", *args], capture_output=True, text=True, env=env,
                            timeout=120)
    for secret in (SECRET, TOKEN):
        assert secret not in result.stdout + result.stderr
    return result


@pytest.mark.parametrize(
    ("script", "code"),
    [
        ([("Running", 1), ("Succeeded", 1)], 0),
        ([("Running", 1), ("Failed", 1)], 1),
        ([("Running", 1), ("Skipped", 1)], 1),
        ([("Running", 1), ("Terminated", 1)], 5),
        ([("Running", 1), ("SomethingNew", 2), ("Succeeded", 1)], 0),
    ],
)
def test_statuses_gate_the_exit_code(emulator, tmp_path, script, code):
    emulator.script_run(script, node_logs={"train": ["epoch 1 done", "epoch 2 done"]})
    result = cli(["run", "--backend", "pai", "--endpoint", emulator.endpoint, "--pipeline-id", "pl-1", *FAST,
                  "--set", "epochs=5"], env_for(emulator, tmp_path))
    assert result.returncode == code, result.stdout + result.stderr
    assert "[train] epoch 1 done" in result.stdout


def test_manifest_overrides_are_validated_and_sent(emulator, tmp_path):
    manifest = tmp_path / "pipeline.yaml"
    manifest.write_text(MANIFEST)
    before = len(emulator.runs)
    bad = cli(["run", "--backend", "pai", "--endpoint", emulator.endpoint, "--manifest", str(manifest), *FAST,
               "--set", "epoch=5"], env_for(emulator, tmp_path))
    assert bad.returncode == 2 and "unknown parameter 'epoch'" in bad.stdout and "epochs" in bad.stdout
    assert len(emulator.runs) == before
    emulator.script_run([("Succeeded", 1)])
    good = cli(["run", "--backend", "pai", "--endpoint", emulator.endpoint, "--manifest", str(manifest), *FAST,
                "--set", "epochs=5"], env_for(emulator, tmp_path))
    assert good.returncode == 0, good.stdout
    record = list(emulator.runs.values())[-1]
    assert "epochs" in str(record) and "5" in str(record)


def test_bad_signature_is_an_api_error_without_secrets(emulator, tmp_path):
    result = cli(["run", "--backend", "pai", "--endpoint", emulator.endpoint, "--pipeline-id", "pl-1", *FAST],
                 env_for(emulator, tmp_path, secret="a-wrong-secret-value"))
    assert result.returncode == 3 and "SignatureDoesNotMatch" in result.stdout
    assert "a-wrong-secret-value" not in result.stdout + result.stderr


def test_lost_create_response_starts_exactly_one_run(emulator, tmp_path):
    emulator.script_run([("Succeeded", 1)])
    before = len(emulator.runs)
    emulator.inject("CreatePipelineRun", "lose_create_response", times=1)
    emulator.inject("GetPipelineRun", "throttle", times=1, retry_after_ms=100)
    result = cli(["run", "--backend", "pai", "--endpoint", emulator.endpoint, "--pipeline-id", "pl-1", *FAST],
                 env_for(emulator, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(emulator.runs) == before + 1


def test_missing_credentials_and_endpoint(emulator, tmp_path):
    env = env_for(emulator, tmp_path)
    result = cli(["run", "--backend", "pai", "--pipeline-id", "pl-1", *FAST], env)
    assert result.returncode == 2 and ("endpoint" in result.stdout or "region" in result.stdout)
    env.pop("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
    result = cli(["run", "--backend", "pai", "--endpoint", emulator.endpoint, "--pipeline-id", "pl-1", *FAST], env)
    assert result.returncode == 2 and "ALIBABA_CLOUD_ACCESS_KEY_SECRET" in result.stdout


def test_sigterm_terminates_the_pai_run(emulator, tmp_path):
    emulator.script_run([("Running", 100_000)])
    before = set(emulator.runs)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline_ci", "run", "--backend", "pai", "--endpoint",
                             emulator.endpoint, "--pipeline-id", "pl-1", *FAST], env=env_for(emulator, tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while not set(emulator.runs) - before:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 5, output
    [run_id] = set(emulator.runs) - before
    assert emulator.runs[run_id]["Status"] in ("Terminating", "Terminated")


def test_watch_and_cancel_by_id(emulator, tmp_path):
    emulator.script_run([("Running", 100_000)])
    env = env_for(emulator, tmp_path)
    started = cli(["run", "--backend", "pai", "--endpoint", emulator.endpoint, "--pipeline-id", "pl-1", *FAST,
                   "--no-wait"], env)
    assert started.returncode == 0
    run_id = list(emulator.runs)[-1]
    watched = cli(["watch", run_id, "--backend", "pai", "--endpoint", emulator.endpoint, "--timeout", "0.5",
                   "--max-interval", "0.2"], env)
    assert watched.returncode == 4
    cancelled = cli(["cancel"], env)  # backend, id and endpoint come from the state file
    assert cancelled.returncode == 0 and run_id in cancelled.stdout
