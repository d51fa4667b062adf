"""`pipeline-ci run/watch/cancel --backend pai` through the real CLI against the PAI emulator, which
verifies every request's ACS3-HMAC-SHA256 signature; node logs are read page by page (none lost, none twice; a log
error is one warning), and an exception while following a run terminates it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline_ci.platforms.pai.client import PaiClient
from pipeline_ci.platforms.pai.run import PaiRun
from pipeline_ci.runs.follow import Poll, follow
from pipeline_ci.testing.pai_emulator import PaiEmulator

from .conftest import run_cli

KEY_ID, SECRET, TOKEN = "LTAI-test-key-id", "pai-secret-value-0123456789", "sts-token-value-abcdef"
FAST = ["--max-interval", "0.05", "--workspace-id", "ws-1"]
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
    return run_cli(args, env, timeout=120, secrets=(SECRET, TOKEN))


def test_parameters_pai_cannot_carry_are_a_usage_error_before_any_request(emulator, tmp_path):
    before = len(emulator.requests_seen)
    result = cli(["run", "--backend", "pai", "--endpoint", emulator.endpoint, "--pipeline-id", "pl-1", *FAST,
                  "--set", "epochs=a\x85b"], env_for(emulator, tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "would read differently as YAML" in result.stderr and "internal error" not in result.stderr
    assert not [r for r in emulator.requests_seen[before:] if r.action == "CreatePipelineRun"]


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
    assert bad.returncode == 2 and "unknown parameter 'epoch'" in bad.stderr and "epochs" in bad.stderr
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
    assert result.returncode == 3 and "SignatureDoesNotMatch" in result.stderr
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
    assert result.returncode == 2 and ("endpoint" in result.stderr or "region" in result.stderr)
    env.pop("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
    result = cli(["run", "--backend", "pai", "--endpoint", emulator.endpoint, "--pipeline-id", "pl-1", *FAST], env)
    assert result.returncode == 2 and "ALIBABA_CLOUD_ACCESS_KEY_SECRET" in result.stderr


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


# ----------------------------------------------------------------------------------------------- logs


def run_default(emulator: PaiEmulator, tmp_path: Path) -> subprocess.CompletedProcess:
    return cli(["run", "--backend", "pai", "--endpoint", emulator.endpoint, "--pipeline-id", "pl-1", *FAST],
               env_for(emulator, tmp_path))


def printed(result: subprocess.CompletedProcess, prefix: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(prefix)]


def test_node_logs_that_cannot_be_read_are_one_warning_and_the_run_is_still_gated(emulator, tmp_path):
    emulator.script_run([("Running", 3), ("Failed", 1)], node_logs={"train": ["never shown"]})
    emulator.inject("ListPipelineRunNodeLogs", "forbidden", times=None)
    try:
        result = run_default(emulator, tmp_path)
    finally:
        emulator.clear_faults()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stdout and "never shown" not in result.stdout
    warnings = printed(result, "pipeline-ci: warning: cannot read logs:")
    assert len(warnings) == 1 and warnings[0].endswith("; still following the run"), result.stdout
    assert "paiflow:ListPipelineRunNodeLogs" in warnings[0]  # the reason: the permission the RAM user lacks
    run_id = list(emulator.runs)[-1]
    tries = [seen for seen in emulator.requests_seen if seen.action == "ListPipelineRunNodeLogs" and run_id in seen.path]
    assert len(tries) >= 4  # tried again at every poll and in the drain, reported once


def test_lines_logged_after_the_final_status_are_all_printed_once_in_order(emulator, tmp_path):
    late = [f"late line {i:03d}" for i in range(231)]  # three pages of 100: more than a poll and a one-page drain
    emulator.script_run([("Running", 1), ("Succeeded", 1)], node_logs={"train": ["epoch 1 done"]},
                        late_logs={"train": late})
    result = run_default(emulator, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert printed(result, "[train] late line ") == [f"[train] {line}" for line in late]
    assert printed(result, "[train] epoch 1 done") == ["[train] epoch 1 done"]


def test_a_chatty_run_loses_no_line_between_polls(emulator, tmp_path):
    chatty = [f"chatty {i:04d}" for i in range(2050)]  # more than one poll's page budget (20 pages of 100)
    emulator.script_run([("Running", 3), ("Succeeded", 1)], node_logs={"train": chatty, "eval": ["eval done"]})
    result = run_default(emulator, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert printed(result, "[train] chatty ") == [f"[train] {line}" for line in chatty]
    assert printed(result, "[eval] ") == ["[eval] eval done"]
    lines = result.stdout.splitlines()
    final = next(i for i, line in enumerate(lines) if ": Succeeded (" in line)
    assert lines.index(f"[train] {chatty[-1]}") < final  # read while polling, not only by the drain


# ----------------------------------------------------------------------------------------------- errors


class BrokenPoll(PaiRun):
    """The real adapter, whose second poll hits a bug."""

    polls = 0

    def poll(self) -> Poll:
        self.polls += 1
        if self.polls == 2:
            raise RuntimeError("adapter bug")
        return super().poll()


def test_an_exception_while_following_a_started_run_terminates_it(emulator):
    emulator.script_run([("Running", 100_000)])
    remote = BrokenPoll(PaiClient(emulator.endpoint, KEY_ID, SECRET, TOKEN))
    remote.start("pipeline-ci-test-cleanup", "ws-1", "pl-1", None, {})
    lines: list[str] = []
    try:
        with pytest.raises(RuntimeError, match="adapter bug"):
            follow(remote, timeout=30, max_interval=0.05, out=lines.append, cancel_on_error=True)
        remote.cancel()  # what the error handler does next: the adapter sends no second request
    finally:
        remote.client.close()
    terminations = [seen for seen in emulator.requests_seen
                    if seen.action == "TerminatePipelineRun" and remote.run_id in seen.path]
    assert len(terminations) == 1 and terminations[0].status == 200
    assert emulator.runs[remote.run_id]["Status"] in ("Terminating", "Terminated")
    assert lines[-2:] == [f"run {remote.run_id}: unexpected error (RuntimeError: adapter bug) while following the run; "
                          "cancelling the remote run", f"run {remote.run_id}: cancelled"]
