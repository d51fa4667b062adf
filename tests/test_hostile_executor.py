"""The local executor against hostile pipelines: catastrophic regexes, lost signals, escaping processes,
argv injection and unbounded resources. Signals, timeouts and exit codes go through real
``pipeline-ci run --backend local`` processes; the rest through :func:`run_local` with real steps."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from pipeline_ci.argo.when import check_template, evaluate_when
from pipeline_ci.platforms.local.executor import LocalRunResult, run_local
from pipeline_ci.platforms.local.executor.isolation import env_key, normalised_requirements
from pipeline_ci.testing.projects import BASE_SPEC, base_files, root_config

from .conftest import write_files
from .test_runs_local import alive

STEP_HEAD = """\
import argparse, os, signal, sys, time
parser = argparse.ArgumentParser()
parser.add_argument("--input_text")
args = parser.parse_args()
"""

SLEEPY_STEP = STEP_HEAD + """\
if os.environ.get("PIDS_FILE"):
    open(os.environ["PIDS_FILE"], "w").write(str(os.getpid()))
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only SIGKILL stops it
print("ready", flush=True)
time.sleep(60)
"""

ONE_STEP_SPEC = BASE_SPEC.split("    - - name: step-b\n")[0]


def project(tmp_path: Path, spec: str = ONE_STEP_SPEC, step: str = SLEEPY_STEP, settings: str | None = None) -> Path:
    """A project whose ``stepA`` runs ``step``; ``settings`` is its ``.pipeline-ci.yaml``."""
    content = base_files()
    content["config.yaml"] = root_config(textwrap.dedent(spec))
    content["stepA/1/pipeline_step.py"] = step
    if settings is not None:
        content[".pipeline-ci.yaml"] = settings
    return write_files(tmp_path / "proj", content)


class Cli:
    """``pipeline-ci run --backend local`` as a child process whose output lines are collected."""

    def __init__(self, root: Path, *args: str, env: dict[str, str] | None = None):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline_ci", "run", str(root), "--backend", "local", "--isolation", "none", *args],
            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.proc.poll() is None, "\n".join(self.lines)
            assert time.monotonic() < deadline, f"no {text!r} in:\n" + "\n".join(self.lines)
            time.sleep(0.02)

    def finish(self, timeout: float = 30) -> tuple[int, float, str]:
        """(exit code, seconds since start, output)."""
        code = self.proc.wait(timeout=timeout)
        elapsed = time.monotonic() - self.started
        self.reader.join(5)
        return code, elapsed, "\n".join(self.lines)

    def stopped_within(self, sig: int, seconds: float) -> tuple[int, str]:
        """Send ``sig``; the process must exit within ``seconds``: (exit code, output)."""
        sent = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        took = time.monotonic() - sent
        self.reader.join(5)
        output = "\n".join(self.lines)
        assert took < seconds, f"took {took:.1f}s after {signal.Signals(sig).name}:\n{output}"
        return code, output


def workflow_line(output: str) -> str:
    return next(line for line in output.splitlines()[::-1] if line.startswith("workflow "))


def record_of(root: Path) -> dict:
    (path,) = (root / ".pipeline-ci" / "runs").glob("*/record.json")
    return json.loads(path.read_text())


def run(root: Path, **kwargs) -> tuple[LocalRunResult, list[str]]:
    lines: list[str] = []
    result = run_local(root, isolation="none", parallelism=4, out=lines.append, **kwargs)
    return result, lines


# ------------------------------------------------------------------------------------------- regexes


def test_a_catastrophic_when_regex_is_evaluated_in_linear_time(tmp_path):
    started = time.monotonic()
    assert evaluate_when("'" + "a" * 5000 + "!' =~ '^(a+)+$'") is False
    assert evaluate_when("'aaaa' =~ '^(a+)+$'") is True and evaluate_when("'ab' !~ '^(a+)+$'") is True
    assert time.monotonic() - started < 1
    spec = ONE_STEP_SPEC.replace(
        "        arguments:", "        when: \"'{{workflow.parameters.input_text}}' =~ '^(a+)+$'\"\n        arguments:")
    root = project(tmp_path, spec, STEP_HEAD + "print('ran')\n")
    result, lines = run(root, parameters={"input_text": "a" * 27 + "!"})
    assert result.exit_code == 0 and result.node("step-a")["phase"] == "Skipped", lines
    result, lines = run(root, parameters={"input_text": "a" * 27})
    assert result.exit_code == 0 and "[step-a] ran" in lines
    assert time.monotonic() - started < 10


def test_a_pattern_re2_rejects_is_a_clear_error_at_run_time_and_in_lint(tmp_path):
    spec = ONE_STEP_SPEC.replace("        arguments:", "        when: \"'{{workflow.parameters.input_text}}' =~ '(?=h)h'\"\n"
                                 "        arguments:")
    result, lines = run(project(tmp_path, spec))
    node = result.node("step-a")
    assert result.exit_code == 1 and node["phase"] == "Error", lines
    assert "Unable to compile regexp pattern '(?=h)h': invalid perl operator: (?=" in node["message"]
    errors, _ = check_template("'{{inputs.parameters.x}}' !~ '(a)\\\\1'")  # govaluate: \\ is one backslash
    assert len(errors) == 1 and "Unable to compile regexp pattern '(a)\\1'" in errors[0].message
    assert "backreferences" in errors[0].message and errors[0].offset == 29
    assert check_template("'{{inputs.parameters.x}}' =~ '^{{inputs.parameters.p}}$'") == ([], [])


# ------------------------------------------------------------------------------------------- signals


def test_sigterm_while_a_step_ignores_sigterm_exits_5_within_5s_and_a_second_one_at_once(tmp_path):
    root = project(tmp_path)
    cli = Cli(root)
    cli.wait_for("[step-a] ready")
    code, output = cli.stopped_within(signal.SIGTERM, 5)
    assert code == 5, output
    assert "received SIGTERM; cancelling" in output and "Cancelled" in workflow_line(output)
    assert "Succeeded" not in workflow_line(output)
    pid = record_of(root)["nodes"][-1]["pids"][0]
    assert not alive(pid)

    pid_file = tmp_path / "pid"
    cli = Cli(project(tmp_path / "second"), env={"PIDS_FILE": str(pid_file)})
    cli.wait_for("[step-a] ready")
    cli.proc.send_signal(signal.SIGTERM)
    cli.wait_for("received SIGTERM")
    code, output = cli.stopped_within(signal.SIGTERM, 1.5)  # the step would take 2 s to die of SIGTERM
    assert code == 5 and "second signal" in output, output
    time.sleep(0.2)
    assert not alive(int(pid_file.read_text()))


def test_sigterm_during_cpu_heavy_when_evaluations_exits_5_within_5s(tmp_path):
    groups = "".join(
        f"    - - name: check-{i}\n"
        "        when: \"'{{workflow.parameters.input_text}}' == 'no'\"\n"
        "        templateRef:\n"
        "          name: users/u1/apps/a1/pipeline_steps/stepA\n"
        "          template: users/u1/apps/a1/pipeline_steps/stepA\n"
        "        arguments:\n"
        "          parameters:\n"
        "          - name: input_text\n"
        "            value: x\n"
        for i in range(40)
    )
    spec = ONE_STEP_SPEC.split("    steps:\n")[0] + "    steps:\n" + groups
    root = project(tmp_path, spec, STEP_HEAD)
    overrides = tmp_path / "big.json"
    overrides.write_text(json.dumps({"input_text": "a" * 3_000_000}))  # each evaluation: ~0.4 s of Python
    cli = Cli(root, "--overrides-file", str(overrides))
    cli.wait_for("[check-0] Skipped")
    code, output = cli.stopped_within(signal.SIGTERM, 5)
    assert code == 5, output[-3000:]
    assert "Cancelled" in workflow_line(output) and "Succeeded" not in workflow_line(output)
    assert record_of(root)["phase"] == "Cancelled"


def test_sigterm_while_the_engine_waits_for_a_virtualenv_lock_exits_5_within_5s(tmp_path):
    """Another run holds the lock of the virtualenv being built: the engine thread is stuck in flock()."""
    root = project(tmp_path)
    lock = tmp_path / "home" / "envs" / f"{env_key(normalised_requirements('# standard library only'))}.lock"
    lock.parent.mkdir(parents=True)
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        cli = Cli(root, "--isolation", "venv", env={"PIPELINE_CI_HOME": str(tmp_path / "home")})
        cli.wait_for("[step-a] started")
        time.sleep(0.3)
        code, output = cli.stopped_within(signal.SIGTERM, 5)
    assert code == 5 and "Cancelled" in workflow_line(output), output
    assert "did not stop within" in output


def test_timeouts_exit_4_within_5s_and_name_their_setting(tmp_path):
    step = STEP_HEAD + "time.sleep(60)\n"
    cli = Cli(project(tmp_path, step=step), "--timeout", "2")
    code, elapsed, output = cli.finish()
    assert code == 4, output
    assert elapsed < 2 + 5 and "run exceeded its timeout of 2s (--timeout)" in output
    root = project(tmp_path / "settings", step=step, settings="local:\n  timeout: 1\n")
    code, elapsed, output = Cli(root).finish()
    assert code == 4 and elapsed < 1 + 5, output
    assert f"timeout of 1s (setting local.timeout in {root / '.pipeline-ci.yaml'}" in output


# --------------------------------------------------------------------------------- escaping processes

ESCAPING_STEP = STEP_HEAD + """\
pids = os.environ["PIDS_FILE"]
if os.fork() == 0:  # double fork: the grandchildren leave the step's process group and session
    os.setsid()
    if os.fork() == 0:  # keeps the step's stdout/stderr pipes open, carries the environment
        with open(pids, "a") as fh:
            fh.write(f"{os.getpid()}\\n")
        time.sleep(60)
        os._exit(0)
    if os.fork() == 0:  # no pipes, empty environment: only the subreaper finds it
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        code = f"import os, time; open({pids!r}, 'a').write(f'{{os.getpid()}}\\\\n'); time.sleep(60)"
        os.execve(sys.executable, [sys.executable, "-c", code], {})
    os._exit(0)
deadline = time.time() + 20
while time.time() < deadline and (not os.path.exists(pids) or len(open(pids).read().split()) < 2):
    time.sleep(0.02)
print("step done", flush=True)
"""


def test_setsid_grandchildren_die_with_the_run_which_ends_promptly(tmp_path):
    pids_file = tmp_path / "pids.txt"
    root = project(tmp_path, step=ESCAPING_STEP)
    cli = Cli(root, env={"PIDS_FILE": str(pids_file)})
    cli.wait_for("[step-a] step done")
    done = time.monotonic()
    code, _, output = cli.finish()
    assert code == 0, output
    assert time.monotonic() - done < 4, output  # not held up by the grandchild holding the output pipe
    grandchildren = [int(p) for p in pids_file.read_text().split()]
    assert len(grandchildren) == 2
    deadline = time.monotonic() + 3
    while any(alive(p) for p in grandchildren) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in grandchildren if alive(p)], output


# ------------------------------------------------------------------------------------ argv and limits


def test_values_that_look_like_options_reach_the_step(tmp_path):
    root = project(tmp_path, step=STEP_HEAD + "print('got ' + repr(args.input_text))\n")
    for value in ("--help", "-x", "--input_text=y"):
        result, lines = run(root, parameters={"input_text": value})
        assert result.exit_code == 0 and f"[step-a] got {value!r}" in lines, lines


def test_an_oversized_result_file_fails_the_node_naming_file_size_and_limit(tmp_path):
    step = STEP_HEAD + "open(os.path.join(os.environ['TMPDIR'], 'result'), 'wb').write(b'x' * (2 * 1024 * 1024))\n"
    result, lines = run(project(tmp_path, step=step))
    node = result.node("step-a")
    assert (result.exit_code, node["phase"]) == (1, "Error"), lines
    assert "'result' (the step's file $TMPDIR/result) is 2 MiB (2097152 bytes)" in node["message"]
    assert "over the limit of 1 MiB" in node["message"] and "local.max-output-size" in node["message"]
    small = project(tmp_path / "small", step=step.replace("2 * 1024 * 1024", "1000"),
                    settings="local:\n  max-output-size: 512\n")
    result, _ = run(small)
    assert "is 1000 B (1000 bytes), over the limit of 512 B" in result.node("step-a")["message"]
    assert f"setting local.max-output-size in {small / '.pipeline-ci.yaml'}" in result.node("step-a")["message"]
    fifo = project(tmp_path / "fifo", step=STEP_HEAD + "os.mkfifo(os.path.join(os.environ['TMPDIR'], 'result'))\n")
    result, _ = run(fifo)  # reading it would block forever
    assert "output path 'result' (the step's file $TMPDIR/result) is not a regular file" in result.node("step-a")["message"]


def test_a_stdout_flood_is_truncated_on_disk_and_rate_limited_on_the_console(tmp_path):
    step = STEP_HEAD + "for i in range(200_000):\n    print(f'line {i}')\n"
    settings = "local:\n  max-log-size: 64KiB\n  console-lines-per-second: 20\n"
    result, lines = run(project(tmp_path, step=step, settings=settings))
    assert result.exit_code == 0, lines[-5:]
    log = Path(result.node("step-a")["log"])
    assert log.stat().st_size < 64 * 1024 + 1024
    assert "this log reached 64 KiB (setting local.max-log-size" in log.read_text()
    shown = [line for line in lines if line.startswith("[step-a] line ")]
    assert 0 < len(shown) <= 40
    assert any("line(s) suppressed (more than 20 lines/s" in line and str(log) in line for line in lines)
    assert any("log reached 64 KiB" in line for line in lines)


RECURSIVE_SPEC = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: p-
spec:
  entrypoint: rec
  arguments:
    parameters:
    - name: input_text
      value: hi
  templates:
  - name: rec
    steps:
    - - name: left
        template: rec
      - name: right
        template: rec
"""


def test_exponential_recursion_and_huge_loops_hit_the_node_budget(tmp_path):
    root = project(tmp_path, RECURSIVE_SPEC, settings="local:\n  max-nodes: 60\n")
    started = time.monotonic()
    result, lines = run(root)
    assert result.exit_code == 1 and result.phase == "Failed", lines[-5:]
    assert "budget of 60 nodes (setting local.max-nodes in" in result.message
    assert "template 'rec'" in result.message
    assert len(result.nodes) < 60 + 40
    loop = ONE_STEP_SPEC.replace("        arguments:", "        withSequence:\n          count: \"1000000000\"\n"
                                 "        arguments:")
    result, lines = run(project(tmp_path / "loop", loop))
    assert result.exit_code == 1 and "budget of 10000 nodes" in result.message, lines[-5:]
    assert time.monotonic() - started < 10


def test_invalid_limits_are_a_usage_error_naming_the_file(tmp_path):
    root = project(tmp_path, settings="local:\n  max-log-size: lots\n")
    result, lines = run(root)
    assert result.exit_code == 2
    assert any(str(root / ".pipeline-ci.yaml") in line and "local.max-log-size" in line for line in lines)
