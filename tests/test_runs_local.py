"""`pipeline-ci deploy/run --backend local` through the real CLI: the README's main job, gating,
overrides, and SIGTERM stopping whole process groups (no orphans)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline_ci.testing.projects import base_files

from .conftest import REPO, write_files

SLEEPER = """\
import argparse, os, subprocess, sys, time
parser = argparse.ArgumentParser()
parser.add_argument("--input_text")
parser.parse_args()
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open(os.environ["PIDS_FILE"], "a") as fh:
    fh.write(f"{os.getpid()} {os.getpgid(0)} {child.pid}\\n")
time.sleep(60)
"""


def cli(args: list[str], cwd: Path | None = None, env: dict | None = None, timeout: float = 300):
    return subprocess.run([sys.executable, "-m", "pipeline_ci", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    return Path(shutil.copytree(REPO / "examples" / "hello-pipeline", tmp_path / "hello"))


def test_deploy_and_run_the_example(hello: Path):
    result = cli(["deploy", str(hello), "--backend", "local", "--run", "--isolation", "none"],
                 env={"REPORT_TOKEN": "demo-token-value"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Succeeded" in result.stdout and "demo-token-value" not in result.stdout
    records = list((hello / ".pipeline-ci" / "runs").glob("*/record.json"))
    record = json.loads(records[0].read_text())
    assert "demo-token-value" not in records[0].read_text()
    assert record["phase"] == "Succeeded"
    again = cli(["deploy", str(hello), "--backend", "local"])
    assert "uploaded 0 step(s)" in again.stdout and "pipeline unchanged" in again.stdout


def test_a_failing_run_exits_1_and_bad_overrides_exit_2(hello: Path):
    env = {k: v for k, v in os.environ.items() if k != "REPORT_TOKEN"}
    failed = subprocess.run([sys.executable, "-m", "pipeline_ci", "run", str(hello), "--isolation", "none"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert failed.returncode == 2, failed.stdout + failed.stderr  # a missing secret: nothing started
    assert "REPORT_TOKEN" in failed.stdout and "run record" not in failed.stdout
    bad = cli(["run", str(hello), "--isolation", "none", "--set", "top=5"], env={"REPORT_TOKEN": "x"})
    assert bad.returncode == 2 and bad.stderr.startswith("pipeline-ci: error: unknown parameter 'top'") \
        and "did you mean 'top_n'?" in bad.stderr  # a usage error on stderr, in the CLI's one error format
    bad_mode = cli(["run", str(hello), "--isolation", "none", "--set", "input_text=hi", "--set", "top_n=2",
                    "--overrides-file", str(hello / "nope.yaml")], env={"REPORT_TOKEN": "x"})
    assert bad_mode.returncode == 2


def test_sigterm_stops_every_process_group_and_exits_5(tmp_path: Path):
    files = base_files()
    files["stepA/1/pipeline_step.py"] = SLEEPER
    root = write_files(tmp_path / "proj", files)
    pids = tmp_path / "pids.txt"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline_ci", "run", str(root), "--isolation", "none"],
                            env={**os.environ, "PIDS_FILE": str(pids)}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not pids.exists() or not pids.read_text().strip():
        assert time.monotonic() < deadline, "the step never started"
        time.sleep(0.1)
    pid, pgid, grandchild = map(int, pids.read_text().split())
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 5, output
    time.sleep(0.5)
    assert not alive(pid) and not alive(grandchild)
    assert not [p for p in group_members(pgid) if alive(p)]


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie left for a PID 1 that does not reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def group_members(pgid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            out.append(int(stat.parent.name))
    return out


def test_a_cancel_in_the_instant_after_a_local_run_ends_is_not_exit_0(hello: Path, monkeypatch: pytest.MonkeyPatch):
    """The cancel event set once the run is over (here: while its final summary line is printed) still exits 5."""
    import threading

    from pipeline_ci.commands.run import _run_local
    from pipeline_ci.exitcodes import ExitCode
    from pipeline_ci.runs.session import RunFlags

    cancel = threading.Event()
    lines: list[str] = []

    def out(line: str) -> None:
        lines.append(line)
        if line.startswith("workflow ") and " Succeeded" in line:
            cancel.set()

    monkeypatch.setenv("REPORT_TOKEN", "demo-token-value")  # the example's step secret
    flags = RunFlags(backend="local", path=hello, isolation="none")
    code = _run_local(flags, {}, cancel, {}, out)
    assert any(line.startswith("workflow ") and " Succeeded" in line for line in lines), lines[-5:]
    assert code == ExitCode.CANCELLED
    assert lines[-1].startswith("pipeline-ci: cancelled as the run ended")


def test_a_step_that_prints_its_result_instead_of_writing_it_is_reported(hello: Path):
    """The SDK's DSL steps print their return value; locally (as on the platform) the output parameter ``result`` is
    the file $TMPDIR/result, so a reader would get "": the run says so instead of passing "" on silently."""
    script = hello / "prepare" / "1" / "pipeline_step.py"
    text = script.read_text()
    script.write_text(text.replace("with open(RESULT_FILE", "print(args.input_text)\n    with open(RESULT_FILE + '.not'", 1))
    result = cli(["run", str(hello), "--isolation", "none"], env={**os.environ, "REPORT_TOKEN": "t"})
    assert "[prepare] note: the step wrote no $TMPDIR/result" in result.stdout, result.stdout + result.stderr
    assert "[analyze-words] note:" not in result.stdout
