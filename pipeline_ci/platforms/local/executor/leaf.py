"""Leaf nodes as local processes: Clarifai steps, and ``script`` / ``container`` templates without Docker.

Every leaf runs as its own process group (``start_new_session=True``) with:

* ``TMPDIR``/``TEMP``/``TMP`` set to a fresh per-attempt temporary directory (removed afterwards);
  a Clarifai step's output parameter ``result`` is the file ``result`` there (the SDK's local runner reads
  ``/tmp/result``: ``clarifai/runners/pipelines/local/spec_adapter.py`` in Clarifai/clarifai-python);
* ``PYTHONDONTWRITEBYTECODE=1`` and ``PYTHONUNBUFFERED=1``, plus the step's secrets, plus
  ``PIPELINE_CI_PROCESS_TAG`` (see :mod:`.procs`);
* stdout and stderr appended to the node's log file, up to ``local.max-log-size`` per log (then a
  note and the rest is discarded), and echoed as ``[node] line`` (secrets masked), at most
  ``local.console-lines-per-second`` lines per second per step (then a note with the number of
  lines suppressed and the log file);
* the last 256 KiB of stdout kept for ``outputs.result``.

The runner waits on the process itself (polling its pidfd on Linux; elsewhere a thread blocked in
``waitid`` wakes it), so a step's end is seen at once, not at a polling grain; the stop signal and the deadline are looked at
every 50 ms. A deadline or a stop signal kills the whole group: SIGTERM, then SIGKILL after 2 s. When the main
process exits on its own, anything it left behind is killed too (a pod's containers die with it):
its process group, and descendants that left the group with ``setsid()`` (found by their tag or
because they hold the step's output pipes; :mod:`.procs`). POSIX only.

A Clarifai step gets its parameters as ``--<name>=<value>``: argparse reads that exactly like
Clarifai's ``--<name> <value>`` (clarifai-python ``runners/pipelines/local/spec_adapter.py``) and,
unlike it, also accepts a value that starts with ``-`` (``--help``, ``-x``).

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

import errno
import itertools
import os
import re
import secrets
import select
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ....argo.walk import argo_string
from ....errors import RunFailure
from ....settings import LocalLimits, human_size
from . import procs
from .model import ERROR, FAILED, SUCCEEDED, Stop

RESULT_LIMIT = 256 * 1024
KILL_GRACE = 2.0
STOP_CHECK = 0.05  # how often a waiting leaf looks at its stop signal (its exit wakes it at once)
CONSOLE_LINE = 2000  # characters of one line on the console (the log keeps it whole)
PYTHON_RE = re.compile(r"python[0-9.]*")
SHELLS = ("sh", "bash")


class LeafError(RunFailure):
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
    on_line: Callable[[str], None] | None = None  # sees every output line (masked), e.g. pip's progress


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
    """``python 1/pipeline_step.py --<name>=<value> ...`` in argument order (run from the step folder)."""
    return [python, os.path.join("1", "pipeline_step.py"), *(f"--{name}={value}" for name, value in args.items())]


def read_text_output(path: Path, limit: int | None = None, *, what: str | None = None,
                     setting: str = "setting local.max-output-size") -> str | None:
    """A file's text with one trailing newline removed; None when it does not exist.

    Only regular files are read, and at most ``limit`` bytes: a bigger file is a :class:`LeafError`
    naming it (``what``, default the path), its size and the limit."""
    what = what or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block us
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise LeafError(f"output path {what} is a directory") from None
    except OSError as exc:
        raise LeafError(f"cannot read output path {what}: {exc.strerror or exc}") from None
    with open(fd, "rb") as fh:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise LeafError(f"output path {what} is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise LeafError(f"output path {what} is not a regular file")
        if limit is not None and info.st_size > limit:
            raise LeafError(_too_big(what, info.st_size, limit, setting))
        data = fh.read(limit + 1) if limit is not None else fh.read()
    if limit is not None and len(data) > limit:  # grew after fstat
        raise LeafError(_too_big(what, len(data), limit, setting))
    text = data.decode("utf-8", "replace")
    return text[:-1] if text.endswith("\n") else text


def _too_big(what: str, size: int, limit: int, setting: str) -> str:
    return (f"output {what} is {human_size(size)} ({size} bytes), over the limit of {human_size(limit)} "
            f"for an output parameter ({setting})")


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
    env_value = body.get("env")
    env_list = env_value if isinstance(env_value, list) else []
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
        value_from = param.get("valueFrom")
        source_spec = value_from if isinstance(value_from, dict) else {}
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


class _Relay:
    """The console side of one process: at most ``rate`` lines per second, then a note of how many were not shown."""

    def __init__(self, say: Callable[[str], None], job: Job, rate: int, setting: str):
        self.say, self.job, self.rate, self.setting = say, job, rate, setting
        self.lock = threading.Lock()
        self.window = time.monotonic()
        self.shown = 0
        self.suppressed = 0

    def _note(self, count: int) -> str:
        return (f"[{self.job.display}] ... {count} line(s) suppressed (more than {self.rate} lines/s; "
                f"{self.setting}), see {self.job.log}")

    def line(self, text: str) -> None:
        note = None
        with self.lock:
            now = time.monotonic()
            if now - self.window >= 1.0:
                if self.suppressed:
                    note, self.suppressed = self._note(self.suppressed), 0
                self.window, self.shown = now, 0
            show = self.shown < self.rate
            if show:
                self.shown += 1
            else:
                self.suppressed += 1
        if note:
            self.say(note)
        if show:
            if len(text) > CONSOLE_LINE:
                text = f"{text[:CONSOLE_LINE]}... ({len(text) - CONSOLE_LINE} more characters in the log)"
            self.say(f"[{self.job.display}] {text}")

    def flush(self) -> None:
        with self.lock:
            count, self.suppressed = self.suppressed, 0
        if count:
            self.say(self._note(count))


class LeafRunner:
    """Runs :class:`Job` processes, streaming their output; thread-safe.

    ``tag`` marks every process of the run (:mod:`.procs`); :meth:`close` kills them all and refuses
    to start more."""

    def __init__(self, say: Callable[[str], None], mask: Callable[[str], str] = lambda s: s,
                 limits: LocalLimits | None = None, tag: str | None = None):
        self.say = say
        self.mask = mask
        self.limits = limits or LocalLimits()
        self.tag = tag or f"{os.getpid()}-{secrets.token_hex(6)}"
        self._log_lock = threading.Lock()
        self._log_sizes: dict[str, int] = {}
        self._truncated: set[str] = set()
        self._spawn_lock = threading.RLock()  # held while starting a process and while sweeping
        self._leaders: set[int] = set()
        self._closed = False
        self._jobs = itertools.count(1)
        self._before = set(procs.children()) if procs.has_proc() else set()  # children not ours to kill

    def note(self, job_log: Path, text: str) -> None:
        """Append a line of our own to a node log."""
        with self._log_lock, open(job_log, "ab") as fh:
            fh.write((text.rstrip("\n") + "\n").encode("utf-8"))

    def run(self, job: Job, stop: Stop, on_pid: Callable[[int], None] = lambda pid: None) -> Outcome:
        if stop.is_set():
            return Outcome(FAILED, None, f"not started: {stop.message}")
        self.note(job.log, f"$ {' '.join(job.argv)}   (cwd: {job.cwd})")
        tag = f"{self.tag}/{next(self._jobs)}/"
        with self._spawn_lock:
            if self._closed:
                return Outcome(FAILED, None, "not started: the run is ending")
            try:
                proc = subprocess.Popen(job.argv, cwd=job.cwd, env={**job.env, procs.TAG_VAR: tag},
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        start_new_session=True)
            except OSError as exc:
                message = _start_error(job, exc)
                self.note(job.log, message)
                return Outcome(ERROR, None, message)
            self._leaders.add(proc.pid)
        pipes = {os.fstat(p.fileno()).st_ino for p in (proc.stdout, proc.stderr) if p is not None}
        relay = _Relay(self.say, job, self.limits.console_lines_per_second,
                       self.limits.setting("console-lines-per-second"))
        tail = bytearray()
        readers = [
            threading.Thread(target=self._pump, args=(proc.stdout, job, tail, relay), daemon=True),
            threading.Thread(target=self._pump, args=(proc.stderr, job, None, relay), daemon=True),
        ]
        exited: _Exit | None = None
        try:
            for reader in readers:
                reader.start()
            exited = _Exit(proc)
            on_pid(proc.pid)
            killed = self._supervise(proc, job, stop, exited)
        finally:
            if exited is not None:
                exited.close()
            _signal_group(proc.pid, signal.SIGKILL)  # leftovers; the group id stays reserved until we reap
            self._end_tree(tag, pipes, readers)
            code = exit_status(proc.wait())
            with self._spawn_lock:
                self._leaders.discard(proc.pid)
                # members of its group that died after their parent came back to us (the subreaper)
                procs.reap_zombies(self._leaders | self._before, group=proc.pid, timeout=1.0, fast=True)
        relay.flush()
        stdout = bytes(tail[-RESULT_LIMIT:]).decode("utf-8", "replace")
        stdout = stdout[:-1] if stdout.endswith("\n") else stdout
        if killed:
            self.note(job.log, f"killed: {killed}")
            return Outcome(FAILED, code, killed, stdout, proc.pid)
        if code == 0:
            return Outcome(SUCCEEDED, 0, "", stdout, proc.pid)
        return Outcome(FAILED, code, f"Error (exit code {code})", stdout, proc.pid)

    def _end_tree(self, tag: str, pipes: set[int], readers: list[threading.Thread]) -> None:
        """Kill what the process left outside its group, so that its output pipes close at once."""
        with self._spawn_lock:  # no process is half-started (holding copies of our pipes) while we look
            if procs.strays(self._leaders | self._before):
                procs.sweep(tag, exclude=lambda: self._leaders)
        if _join(readers, 0.3):
            return
        with self._spawn_lock:
            procs.sweep(pipes=pipes, exclude=lambda: self._leaders)
        _join(readers, 1.0)  # a process we cannot see still holds a pipe: do not wait for it

    def busy(self) -> bool:
        """Is a process of ours running (or not yet reaped)?"""
        return bool(self._leaders)

    def close(self) -> None:
        """Start nothing more; kill every process of the run: the steps' groups, anything carrying the
        run's tag and (as the subreaper) any orphan re-parented to us."""
        with self._spawn_lock:
            self._closed = True
            for pid in list(self._leaders):
                _signal_group(pid, signal.SIGKILL)
            procs.sweep(f"{self.tag}/", adopted=True, exclude=lambda: self._leaders | self._before)
            procs.reap_zombies(self._leaders | self._before)

    def emergency_stop(self) -> None:
        """:meth:`close` for a signal handler that is about to exit: no locks, no reaping."""
        self._closed = True
        for _ in range(3):
            try:
                leaders = list(self._leaders)
                break
            except RuntimeError:  # changed size during iteration
                continue
        else:
            leaders = []
        for pid in leaders:
            _signal_group(pid, signal.SIGKILL)
        if procs.has_proc():
            procs.kill(procs.find(f"{self.tag}/", adopted=True, exclude={*leaders, *self._before}))

    @staticmethod
    def _supervise(proc: subprocess.Popen, job: Job, stop: Stop, exited: _Exit) -> str | None:
        """Wait for the process (``exited`` wakes the moment it exits); kill its group on a stop or at the
        deadline and say why. The stop signal is looked at every :data:`STOP_CHECK` seconds."""
        ends = None if job.deadline is None else time.monotonic() + job.deadline
        while True:
            wait = STOP_CHECK if ends is None else min(STOP_CHECK, max(0.0, ends - time.monotonic()))
            if exited.wait(wait):
                return None
            killed = None
            if stop.is_set():
                killed = stop.message
            elif ends is not None and time.monotonic() >= ends:
                killed = "Step exceeded its deadline"
            if killed:
                _kill_group(proc, exited)
                return killed

    def _write_log(self, log, job: Job, data: bytes) -> bool:
        """Append to the node log within ``max-log-size``; False (after a note, once) when it is full."""
        key, limit = str(job.log), self.limits.max_log_size
        with self._log_lock:
            if key in self._truncated:
                return False
            size = self._log_sizes.get(key)
            if size is None:
                size = os.fstat(log.fileno()).st_size
            if size + len(data) <= limit:
                log.write(data)
                log.flush()
                self._log_sizes[key] = size + len(data)
                return True
            self._truncated.add(key)
            log.write(f"--- pipeline-ci: this log reached {human_size(limit)} "
                      f"({self.limits.setting('max-log-size')}); the rest of the output is discarded ---\n".encode())
            log.flush()
        self.say(f"[{job.display}] log reached {human_size(limit)} ({self.limits.setting('max-log-size')}): "
                 f"the rest of this step's output is discarded (the step keeps running); see {job.log}")
        return False

    def _pump(self, pipe, job: Job, tail: bytearray | None, relay: _Relay) -> None:
        with pipe, open(job.log, "ab") as log:
            discarding = False
            while True:
                raw = pipe.read1(65536) if discarding else pipe.readline(65536)
                if not raw:
                    break
                if tail is not None:
                    tail += raw
                    if len(tail) > 2 * RESULT_LIMIT:
                        del tail[:-RESULT_LIMIT]
                if discarding:
                    continue
                line = self.mask(raw.decode("utf-8", "replace").rstrip("\r\n"))
                if not self._write_log(log, job, (line + "\n").encode("utf-8")):
                    discarding = True
                    continue
                if job.echo:
                    relay.line(line)
                if job.on_line is not None:
                    job.on_line(line)


def _join(threads: list[threading.Thread], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in threads)


def _start_error(job: Job, exc: OSError) -> str:
    if exc.errno == errno.E2BIG:
        longest = max(job.argv, key=len)
        return (f"failed to start {job.argv[0]}: its command line is too long for the system (the longest argument, "
                f"{longest[:40]!r}..., is {human_size(len(longest.encode('utf-8', 'surrogatepass')))}; Linux allows "
                "128 KiB per argument and about 2 MiB in all): pass big values through files, not parameters")
    return f"failed to start {job.argv[0]}: {exc.strerror or exc}"


class _Exit:
    """Waits for a process to exit without reaping it, so its process group id stays reserved until
    :meth:`LeafRunner.run` reaps it: on Linux by polling a pidfd in the waiting thread itself (no other thread,
    no hand-over); elsewhere a thread blocks in ``waitid(WNOWAIT)`` (or, without it, reaps with ``wait``) and sets
    an event."""

    def __init__(self, proc: subprocess.Popen):
        self.done = False
        self._poll: select.poll | None = None
        self._event: threading.Event | None = None
        pidfd_open = getattr(os, "pidfd_open", None)
        if pidfd_open is not None and hasattr(select, "poll"):
            try:
                self._fd = pidfd_open(proc.pid)
            except OSError:  # an old kernel
                pass
            else:
                self._poll = select.poll()
                self._poll.register(self._fd, select.POLLIN)
                return
        self._event = threading.Event()
        threading.Thread(target=self._await, args=(proc, self._event), daemon=True).start()

    @staticmethod
    def _await(proc: subprocess.Popen, event: threading.Event) -> None:
        try:
            if hasattr(os, "waitid"):
                os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
            else:  # pragma: no cover - macOS
                proc.wait()
        except ChildProcessError:  # already reaped
            pass
        finally:
            event.set()

    def wait(self, timeout: float) -> bool:
        """Has the process exited, waiting up to ``timeout`` seconds for it?"""
        if not self.done:
            if self._poll is not None:
                self.done = bool(self._poll.poll(max(0.0, timeout) * 1000))
            elif self._event is not None:
                self.done = self._event.wait(timeout)
        return self.done

    def close(self) -> None:
        if self._poll is not None:
            self._poll = None
            os.close(self._fd)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_group(proc: subprocess.Popen, exited: _Exit) -> None:
    """SIGTERM the process group, SIGKILL it after :data:`KILL_GRACE` seconds if the leader still runs."""
    _signal_group(proc.pid, signal.SIGTERM)
    exited.wait(KILL_GRACE)
    _signal_group(proc.pid, signal.SIGKILL)


def exit_status(code: int) -> int:
    """A return code as a shell reports it: killed by signal N -> 128 + N."""
    return 128 - code if code < 0 else code
