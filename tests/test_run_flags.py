"""The run flags that can go wrong before or while a remote run starts, through the real CLI against the PAI emulator
(:mod:`pipeline_ci.testing.pai_emulator`): out-of-range ``--timeout``/``--max-interval``/``--paused-grace``, an
unwritable state file, a signal while ``--no-wait`` starts a run, an output file that fails after the start, and
what a timeout says when the last polls failed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from pipeline_ci.runs.follow import Poll, TransientError, follow
from pipeline_ci.testing.pai_emulator import PaiEmulator

from .test_runs_pai import FAST, KEY_ID, SECRET, TOKEN, cli, env_for


@pytest.fixture(scope="module")
def emulator():
    with PaiEmulator({KEY_ID: SECRET}, security_tokens={KEY_ID: TOKEN}) as emu:
        yield emu


def pai_run(emulator: PaiEmulator, *extra: str) -> list[str]:
    return ["run", "--backend", "pai", "--endpoint", emulator.endpoint, "--pipeline-id", "pl-1", *FAST, *extra]


def test_out_of_range_seconds_are_usage_errors_before_any_request(emulator, tmp_path):
    emulator.script_run([("Running", 100_000)])
    before = len(emulator.requests_seen)
    for flag, value in (("--timeout", "0"), ("--timeout", "-1"), ("--timeout", "nan"), ("--timeout", "inf"),
                        ("--max-interval", "0"), ("--paused-grace", "-5")):
        result = cli([*pai_run(emulator), flag, value], env_for(emulator, tmp_path))
        assert result.returncode == 2, (flag, value, result.stdout, result.stderr)
        assert f"argument {flag}: must be a positive number of seconds, not '{value}'" in result.stderr
    watched = cli(["watch", "r-1", "--backend", "pai", "--endpoint", emulator.endpoint, "--timeout", "0"],
                  env_for(emulator, tmp_path))
    assert watched.returncode == 2 and "--timeout" in watched.stderr
    assert len(emulator.requests_seen) == before  # nothing was started nor asked
    local = cli(["run", str(tmp_path), "--timeout", "0"], env_for(emulator, tmp_path))
    assert local.returncode == 2 and "argument --timeout" in local.stderr


def test_an_unwritable_state_file_is_a_usage_error_before_the_run_starts(emulator, tmp_path):
    emulator.script_run([("Running", 100_000)])
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    before = len(emulator.runs)
    for extra, env_extra, said in (
            (["--state-file", str(tmp_path / "folder")], {}, "is a folder"),
            (["--state-file", str(tmp_path / "file" / "sub" / "run.json")], {}, "is not a folder"),
            ([], {"GITHUB_STATE": str(tmp_path / "folder")}, "$GITHUB_STATE")):
        env = {**env_for(emulator, tmp_path), **env_extra}
        result = cli(pai_run(emulator, "--no-wait", *extra), env)
        assert result.returncode == 2, (extra, env_extra, result.stdout, result.stderr)
        assert said in result.stderr and "internal error" not in result.stderr
    assert len(emulator.runs) == before


def test_an_output_file_failing_after_the_start_cancels_the_run_with_an_api_error(emulator, tmp_path):
    emulator.script_run([("Running", 100_000)])
    (tmp_path / "outputs").mkdir()
    before = set(emulator.runs)
    env = {**env_for(emulator, tmp_path), "GITHUB_OUTPUT": str(tmp_path / "outputs")}  # a folder: fails on write
    result = cli(pai_run(emulator), env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "was started but could not be recorded" in result.stderr and "internal error" not in result.stderr
    [run_id] = set(emulator.runs) - before
    assert emulator.runs[run_id]["Status"] in ("Terminating", "Terminated")  # not left running


def test_sigint_while_a_no_wait_run_is_starting_cancels_it(emulator, tmp_path):
    emulator.script_run([("Running", 100_000)])
    emulator.inject("CreatePipelineRun", "slow", times=1, delay=3.0)  # the create answer takes 3 s: SIGINT lands in it
    before, seen = set(emulator.runs), len(emulator.requests_seen)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline_ci", *pai_run(emulator, "--no-wait")],
                            env=env_for(emulator, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    deadline = time.monotonic() + 30
    while not [r for r in emulator.requests_seen[seen:] if r.action == "CreatePipelineRun"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 5, output
    [run_id] = set(emulator.runs) - before
    assert emulator.runs[run_id]["Status"] in ("Terminating", "Terminated"), output


class FailingPolls:
    """A run whose first poll answers Running and every later one fails (a platform answering 5xx)."""

    run_id, url = "r-1", None

    def __init__(self) -> None:
        self.polls = 0

    def poll(self) -> Poll:
        self.polls += 1
        if self.polls == 1:
            return Poll("running", "Running")
        raise TransientError("503 ServiceUnavailable")

    def log_pages(self):
        return iter(())

    def cancel(self) -> None:
        pass


def test_a_timeout_after_failed_polls_says_the_status_is_unknown():
    lines: list[str] = []
    result = follow(FailingPolls(), timeout=0.4, max_interval=0.05, out=lines.append, cancel_on_error=False)
    assert result.exit_code == 4 and result.status == ""
    assert "status unknown after" in lines[-1] and "last status seen: Running" in lines[-1], lines
    assert not any("still Running" in line for line in lines)
