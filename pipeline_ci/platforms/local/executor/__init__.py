"""The embedded local executor: run a whole Clarifai pipeline (its embedded Argo Workflow) on this machine.

No Kubernetes, no Docker: each Clarifai step runs as ``python 1/pipeline_step.py --<param>=<value> ...``
in its folder (see :mod:`.leaf`), scheduled the way Argo's workflow controller schedules nodes (see :mod:`.engine`).

Exit codes of :func:`run_local`: 0 Succeeded; 1 Failed or Error (a failed step, ``activeDeadlineSeconds``,
the node budget); 2 usage/configuration problem found before anything started (bad option, invalid
settings, unknown parameter, unmapped templateRef, missing step folder, unreadable secrets file, a
missing secret, a construct the executor cannot run (:mod:`pipeline_ci.argo.local_support`));
4 the timeout passed (``timeout``, else ``local.timeout`` of the settings,
default 1 h: everything killed, no exit handler); 5 cancelled through the ``cancel`` event or
SIGINT/SIGTERM (terminate: everything killed, no exit handler). ``spec.activeDeadlineSeconds`` ends
the run Failed after running the exit handler.

Stopping is owned by the calling thread, not by the engine: it polls the signals, the ``cancel``
event and the clock, and once the run is terminated it waits at most :data:`STOP_GRACE` seconds for
the engine to unwind (:data:`IDLE_GRACE` when no step process is left; an expression being
evaluated, a lock being waited for) before it kills whatever is left and ends the run anyway.
Called from the main thread, :func:`run_local` handles SIGINT and SIGTERM itself for the duration
of the run (then puts the previous handlers back): the first ends the run Cancelled (exit 5), also
when it arrives while the run is finishing, so a run that got a signal never reports Succeeded; a
second one kills every process of the run and exits 5 at once.
On Linux the process is a child subreaper during the run, so step descendants that ``setsid()``
come back to us and die with the run (:mod:`.procs`). Limits (:class:`pipeline_ci.settings.LocalLimits`)
come from the ``local:`` settings of the project (``.pipeline-ci.yaml`` or ``pyproject.toml``).
"""

from __future__ import annotations

import os
import secrets as _random
import signal
import string
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ....argo.local_support import mapping
from ....argo.walk import spec_body
from ....exitcodes import ExitCode
from ....settings import LocalLimits, SettingsError, local_limits
from ..store import ensure_state_dir
from . import procs
from .engine import Engine
from .isolation import MODES, Isolation
from .leaf import KILL_GRACE, LeafRunner
from .model import ERROR, RUNNING, locked_printer
from .preflight import RunPlan, RunPlanError, check_secrets, plan_run
from .record import RunRecord, new_run_id, print_summary, run_dir
from .secrets import Secrets, SecretsError, load_secrets_file

__all__ = ["LocalRunResult", "run_local", "EXIT_CODES", "DEFAULT_SECRETS_FILE"]

EXIT_CODES = {"Succeeded": ExitCode.OK, "Failed": ExitCode.FAILED, "Error": ExitCode.FAILED, "Usage": ExitCode.USAGE,
              "TimedOut": ExitCode.TIMED_OUT, "Cancelled": ExitCode.CANCELLED}
"""The exit code of each final phase of a local run (:class:`~pipeline_ci.exitcodes.ExitCode`)."""
DEFAULT_SECRETS_FILE = "secrets.env"
STOP_GRACE = KILL_GRACE + 1.5  # after a terminate, how long the engine may take to unwind
IDLE_GRACE = 1.0  # the same when no step process is left
POLL = 0.05


@dataclass
class LocalRunResult:
    """The outcome of :func:`run_local`; ``record`` is the run record's JSON (None when nothing started)."""

    phase: str
    exit_code: int
    message: str = ""
    run_id: str | None = None
    record_path: Path | None = None
    record: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def nodes(self) -> list[dict[str, Any]]:
        return list((self.record or {}).get("nodes", []))

    @property
    def outputs(self) -> dict[str, str]:
        return dict((self.record or {}).get("outputs", {}))

    def node(self, name: str) -> dict[str, Any] | None:
        """The first node whose display name (or unique path) is ``name``."""
        return next((n for n in self.nodes if name in (n["name"], n["path"])), None)


def _usage(say: Callable[[str], None], errors: list[str]) -> LocalRunResult:
    for error in errors:
        say(f"pipeline-ci: error: {error}")  # the CLI's one error format
    return LocalRunResult("Error", EXIT_CODES["Usage"], "; ".join(errors), errors=errors)


def _workflow_name(spec: dict) -> str:
    meta = mapping(spec.get("metadata"))
    name = meta.get("name")
    if isinstance(name, str) and name:
        return name
    generate = meta.get("generateName")
    prefix = generate if isinstance(generate, str) else "local-"
    return prefix + "".join(_random.choice(string.ascii_lowercase + string.digits) for _ in range(5))


class _Signals:
    """SIGINT/SIGTERM handlers for the duration of a run (main thread only).

    The handler only records the signal (the polling loop acts on it: no lock is ever taken inside
    a handler); the second signal kills every process of the run and exits at once."""

    NAMES = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, runner: LeafRunner, already: bool):
        self.runner = runner
        self.received: str | None = None  # the name of the first signal (``already``: the caller got it)
        self.count = 1 if already else 0
        self.previous: dict[int, Any] = {}

    def handler(self, signum: int, _frame: object) -> None:
        self.count += 1
        if self.count > 1:
            try:
                os.write(2, b"pipeline-ci: second signal: killing every step and exiting now\n")
            except OSError:
                pass
            self.runner.emergency_stop()
            os._exit(EXIT_CODES["Cancelled"])
        self.received = signal.Signals(signum).name

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            try:
                for sig in self.NAMES:
                    self.previous[sig] = signal.signal(sig, self.handler)
            except (ValueError, OSError):  # not allowed here (embedded interpreter)
                self.__exit__()
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self.previous.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self.previous.clear()


def _timeout_source(timeout: float | None, limits: LocalLimits) -> str:
    if timeout is not None:
        return "--timeout"
    if "timeout" in limits.explicit:
        return f"{limits.setting('timeout')}; --timeout overrides it"
    return "the default; change it with --timeout or setting local.timeout"


def run_local(
    project_root: Path,
    *,
    parameters: dict[str, str] | None = None,
    parallelism: int | None = None,
    isolation: str = "auto",
    timeout: float | None = None,
    secrets_file: Path | None = None,
    out: Callable[[str], None] = print,
    cancel: threading.Event | None = None,
    limits: LocalLimits | None = None,
    allow_unsupported: bool = False,
    semaphores: Mapping[str, int] | None = None,
) -> LocalRunResult:
    """Run the pipeline of the project at ``project_root`` locally.

    ``parameters``: merged, stringified overrides (see :mod:`pipeline_ci.overrides`). ``parallelism``:
    at most this many steps at once (default: as many as the spec allows, under a safety cap of
    :data:`.engine.SAFETY_CAP`). ``isolation``: ``auto``, ``none`` or
    ``venv`` (:mod:`.isolation`). ``timeout``: wall-clock seconds for the whole run (default: the
    ``local.timeout`` setting, 1 h). ``secrets_file``: a ``.env`` file with step secrets (default
    ``<project>/secrets.env`` when it exists). ``out`` receives every console line (called from
    several threads, one line at a time, serialised). ``cancel``: set it (e.g. from a SIGTERM
    handler) to kill every step and end the run Cancelled. ``limits``: resource limits (default: the
    ``local:`` settings of the project's settings file). ``allow_unsupported``: run a spec with constructs the
    executor cannot run (:mod:`pipeline_ci.argo.local_support`; those nodes end in Error) instead of refusing it (exit 2).
    ``semaphores``: limits of ConfigMap semaphores, ``{"CONFIGMAP/KEY" or "KEY": N}`` (:mod:`.sync`).

    The phases: :func:`_validate` -> :func:`_plan` -> :func:`_start` -> :func:`_supervise` -> :func:`_record`.
    """
    say = locked_printer(out)
    root = Path(project_root).resolve()
    checked = _validate(root, isolation=isolation, parallelism=parallelism, timeout=timeout, limits=limits)
    if isinstance(checked, list):
        return _usage(say, checked)
    prepared = _plan(root, parameters, secrets_file, allow_unsupported=allow_unsupported,
                     semaphores=dict(semaphores or {}))
    if isinstance(prepared, list):
        return _usage(say, prepared)
    with _start(root, prepared, checked, isolation=isolation, parallelism=parallelism, timeout=timeout,
                cancel=cancel, say=say, semaphores=dict(semaphores or {})) as run:
        phase, message = _supervise(run, cancel)
        return _record(run, phase, message)


def _validate(root: Path, *, isolation: str, parallelism: int | None, timeout: float | None,
              limits: LocalLimits | None) -> LocalLimits | list[str]:
    """Check the options and load the ``local:`` limits of the project's settings (unless given).

    Returns the limits, or the usage problems found (nothing has started yet)."""
    problems = []
    if isolation not in MODES:
        problems.append(f"unknown isolation {isolation!r}; choose from {', '.join(MODES)}")
    if parallelism is not None and parallelism < 1:
        problems.append(f"parallelism must be at least 1, got {parallelism}")
    if timeout is not None and not timeout > 0:
        problems.append(f"timeout must be positive, got {timeout:g}")
    if limits is None:
        from ....discovery import find_settings

        try:
            limits = local_limits(find_settings(root))
        except SettingsError as exc:
            problems.append(str(exc))
    return problems if problems or limits is None else limits


@dataclass
class _Prepared:
    """The checked plan of a run and the secrets its steps may read."""

    plan: RunPlan
    secrets: Secrets
    secrets_file: Path | None


def _plan(root: Path, parameters: dict[str, str] | None, secrets_file: Path | None, *, allow_unsupported: bool,
          semaphores: dict[str, int]) -> _Prepared | list[str]:
    """Load and check the project (:func:`.preflight.plan_run`), the secrets file and every step's secrets.

    Returns what the run needs, or the usage/configuration problems found (nothing has started yet)."""
    try:
        plan = plan_run(root, dict(parameters or {}), allow_unsupported=allow_unsupported, semaphores=semaphores)
    except RunPlanError as exc:
        return exc.errors
    if secrets_file is None and (root / DEFAULT_SECRETS_FILE).is_file():
        secrets_file = root / DEFAULT_SECRETS_FILE
    try:
        file_values = load_secrets_file(Path(secrets_file)) if secrets_file else {}
    except SecretsError as exc:
        return [str(exc)]
    config = plan.project.config.data if plan.project.config else None
    secrets = Secrets.from_config(config, file_values, dict(os.environ))
    missing = check_secrets(plan.project, plan.spec, secrets)
    if missing:
        return missing
    return _Prepared(plan, secrets, secrets_file)


@dataclass
class _LocalRun:
    """A started run: its id, folder and record, the engine and the process runner, the signal handlers."""

    run_id: str
    folder: Path
    record_path: Path
    record: RunRecord
    engine: Engine
    runner: LeafRunner
    signals: _Signals
    timeout: float
    timeout_source: str
    say: Callable[[str], None]


@contextmanager
def _start(root: Path, prepared: _Prepared, limits: LocalLimits, *, isolation: str, parallelism: int | None,
           timeout: float | None, cancel: threading.Event | None, say: Callable[[str], None],
           semaphores: dict[str, int] | None = None) -> Iterator[_LocalRun]:
    """Create the run (id, folder, engine, record), become the child subreaper, take SIGINT/SIGTERM, write the
    first record and announce the run; on leaving, kill whatever is left and put the process state back."""
    plan = prepared.plan
    run_timeout = timeout if timeout is not None else limits.timeout
    threads = parallelism  # None: only the spec's limits (and the engine's safety cap)
    state = ensure_state_dir(root)
    run_id = new_run_id()
    folder = run_dir(root, run_id)
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    name = _workflow_name(plan.spec)
    runner = LeafRunner(say, prepared.secrets.mask, limits, tag=f"{run_id}-{_random.token_hex(4)}")
    engine = Engine(plan.spec, name=name, parameters=plan.parameters, targets=plan.targets, runner=runner,
                    isolation=Isolation(isolation), secrets=prepared.secrets, say=say,
                    log_dir=folder / "logs", parallelism=threads, state_dir=state, semaphores=semaphores)
    secrets_file = prepared.secrets_file
    options = {"parallelism": threads, "isolation": isolation, "timeout": run_timeout,
               "secrets_file": str(secrets_file) if secrets_file else None,
               "limits": {k: v for k, v in limits._asdict().items() if k not in ("source", "explicit")}}
    record = RunRecord(run_id, str(root), name, engine.started, dict(plan.parameters), options,
                       nodes=engine.nodes, outputs=engine.outputs)
    record_path = folder / "record.json"
    previous_reaper = procs.set_subreaper(True)
    try:
        with _Signals(runner, already=cancel is not None and cancel.is_set()) as signals:
            record.write(record_path)
            for warning in plan.warnings:
                say(f"warning: {warning}")
            say(f"run {run_id}: workflow {name}, logs in {folder / 'logs'}")
            yield _LocalRun(run_id, folder, record_path, record, engine, runner, signals, run_timeout,
                            _timeout_source(timeout, limits), say)
    finally:
        runner.close()  # again, should anything have escaped
        if previous_reaper is False:
            procs.set_subreaper(False)


def _record(run: _LocalRun, phase: str, message: str) -> LocalRunResult:
    """Kill what is left, write the final record and the summary; a signal that arrived while the run was
    finishing still makes it Cancelled."""
    record, say = run.record, run.say
    run.runner.close()  # whatever is left: groups, escaped and re-parented descendants
    for node in list(run.engine.nodes):  # only after an internal error or a hard stop
        if node.phase == RUNNING:
            node.phase, node.message, node.finished = ERROR, f"unfinished: {message}", time.time()
    record.phase, record.message, record.finished = phase, message, time.time()
    record.exit_code = EXIT_CODES.get(phase, ExitCode.FAILED)
    record.write(run.record_path)
    print_summary(record, say, run.record_path)
    received = run.signals.received
    if received and record.phase != "Cancelled":  # arrived while the run was finishing
        record.phase, record.exit_code = "Cancelled", EXIT_CODES["Cancelled"]
        record.message = f"{received} received as the run ended ({phase})"
        record.write(run.record_path)
        say(f"pipeline-ci: {record.message}; exit {record.exit_code}")
    return LocalRunResult(record.phase, record.exit_code, record.message, run.run_id, run.record_path,
                          record.to_json())


def _supervise(run: _LocalRun, cancel: threading.Event | None) -> tuple[str, str]:
    """Run the engine on its own thread and watch signals, ``cancel`` and the clock from this one; returns the
    final phase and message."""
    engine, signals, say, timeout, timeout_source = run.engine, run.signals, run.say, run.timeout, run.timeout_source
    body_deadline = spec_body(engine.spec).get("activeDeadlineSeconds")
    deadline = float(body_deadline) if isinstance(body_deadline, int) and body_deadline > 0 else None
    outcome: dict[str, tuple[str, str]] = {}
    finished = threading.Event()

    def drive() -> None:
        try:
            outcome["run"] = engine.run()
        except Exception as exc:  # a bug: still kill everything and write the record
            engine.terminate("Error", f"internal error: {exc!r}")
            say(traceback.format_exc().rstrip())
        finally:
            finished.set()

    start = time.monotonic()
    announced = False
    stopping_since: float | None = None
    threading.Thread(target=drive, daemon=True, name="pipeline-ci-engine").start()
    while True:
        try:
            done = finished.wait(POLL)
        except KeyboardInterrupt:  # SIGINT without our handler (not the main thread's signal setup)
            signals.received = signals.received or "SIGINT"
            done = False
        if signals.received and not announced:
            announced = True
            say(f"pipeline-ci: received {signals.received}; cancelling")
            if cancel is not None:
                cancel.set()
        now = time.monotonic()
        if signals.received or (cancel is not None and cancel.is_set()):
            engine.terminate("Cancelled", f"run cancelled ({signals.received})" if signals.received else "run cancelled")
        elif done:  # finished in time
            break
        elif now - start > timeout:
            engine.terminate("TimedOut", f"run exceeded its timeout of {timeout:g}s ({timeout_source})")
        elif deadline is not None and now - start > deadline:
            engine.main_stop.fire("deadline", f"workflow exceeded its activeDeadlineSeconds ({deadline:g}s)")
        if done:
            break
        if engine.terminated and stopping_since is None:
            stopping_since = now
        # a step being killed gets its SIGTERM grace; with none left, the engine has no reason to linger
        grace = STOP_GRACE if engine.runner.busy() else IDLE_GRACE
        if stopping_since is not None and now - stopping_since > grace:
            say(f"pipeline-ci: the executor did not stop within {grace:g}s; ending the run without it")
            break
    phase, message = outcome.get("run", ("Error", "the executor stopped unexpectedly"))
    if engine.terminated:
        phase, message = engine.terminated, engine.terminated_message
    return phase, message
