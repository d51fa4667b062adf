"""Leaf nodes as local processes: Clarifai steps, and ``script`` / ``container`` templates without Docker.

Every leaf runs as its own process group (``start_new_session=True``) with:

* ``TMPDIR``/``TEMP``/``TMP`` set to a fresh per-attempt temporary directory (removed afterwards);
  a Clarifai step's output parameter ``result`` is the file ``result`` there (clarifai-pipelines.md §9);
* ``PYTHONDONTWRITEBYTECODE=1`` and ``PYTHONUNBUFFERED=1``, plus the step's secrets;
* stdout and stderr appended to the node's log file and echoed as ``[node] line`` (secrets masked);
* the last 256 KiB of stdout kept for ``outputs.result``.

A deadline or a stop signal kills the whole group: SIGTERM, then SIGKILL after 2 s. When the main
process exits on its own, anything it left behind in its group is killed too (a pod's containers
die with it). A process that starts its own session escapes this. POSIX only.

Local templates (for tests and small helpers; ``image`` is ignored):

* ``script`` whose ``command`` is ``python``/``python3``/``python3.12``... (run with the current interpreter) or
  ``sh``/``bash``: ``source`` is written to a file that is run as ``command... file``;
* ``container`` whose ``command`` (or, without one, ``args``) starts with ``python...``, ``sh`` or ``bash``:
  ``command + args`` run directly; anything else is an Error (no Docker locally).

Absolute output paths (``valueFrom.path: /outputs/out``) are mapped to ``<tmp>/fs/outputs/out``:
the mapped path replaces the container path in ``source``, ``command`` and ``args`` (also where
``{{outputs.parameters.<name>.path}}`` put it). The file is read after exit with one trailing
newline removed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..argo.walk import argo_string
from .model import ERROR, FAILED, SUCCEEDED, Stop

RESULT_LIMIT = 256 * 1024
KILL_GRACE = 2.0
POLL = 0.05
PYTHON_RE = re.compile(r"python[0-9.]*")
SHELLS = ("sh", "bash")


class LeafError(Exception):
    """A leaf that cannot be run locally (its node ends in Error)."""


@dataclass
class Job:
    """One process to run for one attempt of a leaf node."""

    display: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    log: Path
    deadline: float | None = None
    echo: bool = True


@dataclass
class Outcome:
    phase: str
    exit_code: int | None
    message: str
    stdout: str = ""
    pid: int | None = None


@dataclass
class OutputSpec:
    """An output parameter of a local leaf template, with its container path mapped locally."""

    name: str
    local_path: Path | None
    value: str | None = None
    default: str | None = None


@dataclass
class LocalCommand:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    outputs: list[OutputSpec] = field(default_factory=list)


def map_path(tmpdir: Path, container_path: str) -> Path:
    """Where a container path lives locally: below ``<tmp>/fs`` for absolute paths, below ``<tmp>`` else."""
    return tmpdir / "fs" / container_path.lstrip("/") if container_path.startswith("/") else tmpdir / container_path


def base_env(tmpdir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env.update({"TMPDIR": str(tmpdir), "TEMP": str(tmpdir), "TMP": str(tmpdir),
                "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"})
    return env


def step_argv(python: str, args: dict[str, str]) -> list[str]:
    """``python 1/pipeline_step.py --<name> <value> ...`` in argument order (run from the step folder)."""
    argv = [python, os.path.join("1", "pipeline_step.py")]
    for name, value in args.items():
        argv += [f"--{name}", value]
    return argv


def read_text_output(path: Path) -> str | None:
    """A file's text with one trailing newline removed; None when it does not exist."""
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise LeafError(f"output path {path} is a directory") from None
    return text[:-1] if text.endswith("\n") else text


def local_command(tmpl: dict, tmpdir: Path, python: str, output_paths: dict[str, str]) -> LocalCommand:
    """The process for a (substituted) local ``script`` or ``container`` template; raises :class:`LeafError`."""
    mapping = {path: str(map_path(tmpdir, path)) for path in output_paths.values() if path.startswith("/")}
    pattern = re.compile("|".join(re.escape(p) for p in sorted(mapping, key=len, reverse=True))) if mapping else None

    def remap(text: str) -> str:  # one pass, so a mapped path is never mapped again
        return pattern.sub(lambda m: mapping[m.group(0)], text) if pattern else text

    kind = "script" if "script" in tmpl else "container"
    body = tmpl.get(kind)
    if not isinstance(body, dict):
        raise LeafError(f"template '{tmpl.get('name')}' has no {kind} mapping")
    command = [remap(str(c)) for c in body.get("command") or []]
    args = [remap(str(a)) for a in body.get("args") or []]
    env_list = body.get("env") if isinstance(body.get("env"), list) else []
    env = {str(e["name"]): str(e.get("value", "")) for e in env_list if isinstance(e, dict) and e.get("name")}
    if kind == "script":
        command = command or ["python"]
        source = tmpdir / "script"
        source.write_text(remap(str(body.get("source") or "")), encoding="utf-8")
        argv = [*command, str(source), *args]
    else:
        argv = [*command, *args]
    if not argv:
        raise LeafError(f"container template '{tmpl.get('name')}' has neither command nor args")
    program = os.path.basename(argv[0])
    if PYTHON_RE.fullmatch(program):
        argv[0] = python
    elif program not in SHELLS:
        raise LeafError(
            f"{kind} template '{tmpl.get('name')}' runs '{argv[0]}': locally only python and sh/bash commands "
            "are supported (no Docker)"
        )
    outputs = []
    for param in (tmpl.get("outputs") or {}).get("parameters") or []:
        if not isinstance(param, dict) or not isinstance(param.get("name"), str):
            continue
        source_spec = param.get("valueFrom") if isinstance(param.get("valueFrom"), dict) else {}
        path = output_paths.get(param["name"])
        outputs.append(OutputSpec(
            name=param["name"],
            local_path=map_path(tmpdir, path) if path else None,
            value=None if param.get("value") is None else argo_string(param["value"]),
            default=None if source_spec.get("default") is None else argo_string(source_spec["default"]),
        ))
        if path:
            map_path(tmpdir, path).parent.mkdir(parents=True, exist_ok=True)
    return LocalCommand(argv, env, outputs)


class LeafRunner:
    """Runs :class:`Job` processes, streaming their output; thread-safe."""

    def __init__(self, say: Callable[[str], None], mask: Callable[[str], str] = lambda s: s):
        self.say = say
        self.mask = mask
        self._log_lock = threading.Lock()

    def note(self, job_log: Path, text: str) -> None:
        """Append a line of our own to a node log."""
        with self._log_lock, open(job_log, "ab") as fh:
            fh.write((text.rstrip("\n") + "\n").encode("utf-8"))

    def run(self, job: Job, stop: Stop, on_pid: Callable[[int], None] = lambda pid: None) -> Outcome:
        if stop.is_set():
            return Outcome(FAILED, None, f"not started: {stop.message}")
        self.note(job.log, f"$ {' '.join(job.argv)}   (cwd: {job.cwd})")
        try:
            proc = subprocess.Popen(job.argv, cwd=job.cwd, env=job.env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            message = f"failed to start {job.argv[0]}: {exc.strerror or exc}"
            self.note(job.log, message)
            return Outcome(ERROR, None, message)
        try:
            on_pid(proc.pid)
            tail = bytearray()
            readers = [
                threading.Thread(target=self._pump, args=(proc.stdout, job, tail), daemon=True),
                threading.Thread(target=self._pump, args=(proc.stderr, job, None), daemon=True),
            ]
            for reader in readers:
                reader.start()
            killed = self._supervise(proc, job, stop)
        finally:
            _signal_group(proc.pid, signal.SIGKILL)  # leftovers; the group id stays reserved until we reap
            code = exit_status(proc.wait())
        for reader in readers:
            reader.join(timeout=5)
        stdout = bytes(tail[-RESULT_LIMIT:]).decode("utf-8", "replace")
        stdout = stdout[:-1] if stdout.endswith("\n") else stdout
        if killed:
            self.note(job.log, f"killed: {killed}")
            return Outcome(FAILED, code, killed, stdout, proc.pid)
        if code == 0:
            return Outcome(SUCCEEDED, 0, "", stdout, proc.pid)
        return Outcome(FAILED, code, f"Error (exit code {code})", stdout, proc.pid)

    @staticmethod
    def _supervise(proc: subprocess.Popen, job: Job, stop: Stop) -> str | None:
        """Wait for the process; kill its group on a stop or at the deadline and say why."""
        started = time.monotonic()
        while not _exited(proc):
            killed = None
            if stop.is_set():
                killed = stop.message
            elif job.deadline is not None and time.monotonic() - started > job.deadline:
                killed = "Step exceeded its deadline"
            if killed:
                _kill_group(proc)
                return killed
            time.sleep(POLL)
        return None

    def _pump(self, pipe, job: Job, tail: bytearray | None) -> None:
        with pipe, open(job.log, "ab") as log:
            for raw in iter(lambda: pipe.readline(65536), b""):
                if tail is not None:
                    tail += raw
                    if len(tail) > 2 * RESULT_LIMIT:
                        del tail[:-RESULT_LIMIT]
                line = self.mask(raw.decode("utf-8", "replace").rstrip("\r\n"))
                with self._log_lock:
                    log.write((line + "\n").encode("utf-8"))
                    log.flush()
                if job.echo:
                    self.say(f"[{job.display}] {line}")


def _exited(proc: subprocess.Popen) -> bool:
    """Has the process exited? Does not reap it, so its process group id stays reserved."""
    waitid = getattr(os, "waitid", None)
    if waitid is None:
        return proc.poll() is not None
    try:
        return waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process group, SIGKILL it after :data:`KILL_GRACE` seconds if the leader still runs."""
    _signal_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + KILL_GRACE
    while time.monotonic() < deadline and not _exited(proc):
        time.sleep(POLL)
    _signal_group(proc.pid, signal.SIGKILL)


def exit_status(code: int) -> int:
    """A return code as a shell reports it: killed by signal N -> 128 + N."""
    return 128 - code if code < 0 else code
