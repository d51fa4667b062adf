"""The embedded local executor: run a whole Clarifai pipeline (its embedded Argo Workflow) on this machine.

No Kubernetes, no Docker: each Clarifai step runs as ``python 1/pipeline_step.py --<param> <value> ...``
in its folder (see :mod:`.leaf`), scheduled as argo-workflows.md §5 describes (see :mod:`.engine`).

Exit codes of :func:`run_local`: 0 Succeeded; 1 Failed or Error; 2 usage/configuration problem found
before anything started (bad option, unknown parameter, unmapped templateRef, missing step folder,
unreadable secrets file, unsupported expression); 4 the ``timeout`` passed (everything killed, no exit
handler); 5 cancelled through the ``cancel`` event or Ctrl-C (terminate: everything killed, no exit
handler). ``spec.activeDeadlineSeconds`` ends the run Failed after running the exit handler.
"""

from __future__ import annotations

import os
import secrets as _random
import string
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..argo.walk import spec_body
from .engine import Engine
from .isolation import MODES, Isolation
from .leaf import LeafRunner
from .model import ERROR, RUNNING, locked_printer
from .preflight import PlanError, make_plan
from .record import RunRecord, ensure_state_dir, new_run_id, print_summary, run_dir
from .secrets import Secrets, SecretsError, load_secrets_file

__all__ = ["LocalRunResult", "run_local", "EXIT_CODES", "DEFAULT_SECRETS_FILE"]

EXIT_CODES = {"Succeeded": 0, "Failed": 1, "Error": 1, "Usage": 2, "TimedOut": 4, "Cancelled": 5}
DEFAULT_SECRETS_FILE = "secrets.env"


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
        say(f"error: {error}")
    return LocalRunResult("Error", EXIT_CODES["Usage"], "; ".join(errors), errors=errors)


def _workflow_name(spec: dict) -> str:
    meta = spec.get("metadata") if isinstance(spec.get("metadata"), dict) else {}
    if isinstance(meta.get("name"), str) and meta["name"]:
        return meta["name"]
    prefix = meta.get("generateName") if isinstance(meta.get("generateName"), str) else "local-"
    return prefix + "".join(_random.choice(string.ascii_lowercase + string.digits) for _ in range(5))


def _watch(engine: Engine, cancel: threading.Event | None, timeout: float | None, deadline: float | None,
           done: threading.Event) -> None:
    start = time.monotonic()
    while not done.wait(0.05):
        elapsed = time.monotonic() - start
        if cancel is not None and cancel.is_set():
            engine.terminate("Cancelled", "run cancelled")
        elif timeout is not None and elapsed > timeout:
            engine.terminate("TimedOut", f"run exceeded its timeout of {timeout:g}s")
        elif deadline is not None and elapsed > deadline:
            engine.main_stop.fire("deadline", f"workflow exceeded its activeDeadlineSeconds ({deadline:g}s)")


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
) -> LocalRunResult:
    """Run the pipeline of the project at ``project_root`` locally.

    ``parameters``: merged, stringified overrides (see :mod:`pipeline_ci.overrides`). ``parallelism``:
    at most this many steps at once (default ``os.cpu_count()``). ``isolation``: ``auto``, ``none`` or
    ``venv`` (:mod:`.isolation`). ``timeout``: wall-clock seconds for the whole run. ``secrets_file``:
    a ``.env`` file with step secrets (default ``<project>/secrets.env`` when it exists). ``out``
    receives every console line (called from several threads, one line at a time, serialised).
    ``cancel``: set it (e.g. from a SIGTERM handler) to kill every step and end the run Cancelled.
    """
    say = locked_printer(out)
    root = Path(project_root).resolve()
    problems = []
    if isolation not in MODES:
        problems.append(f"unknown isolation {isolation!r}; choose from {', '.join(MODES)}")
    if parallelism is not None and parallelism < 1:
        problems.append(f"parallelism must be at least 1, got {parallelism}")
    if timeout is not None and timeout <= 0:
        problems.append(f"timeout must be positive, got {timeout:g}")
    if problems:
        return _usage(say, problems)
    try:
        plan = make_plan(root, dict(parameters or {}))
    except PlanError as exc:
        return _usage(say, exc.errors)
    if secrets_file is None and (root / DEFAULT_SECRETS_FILE).is_file():
        secrets_file = root / DEFAULT_SECRETS_FILE
    try:
        file_values = load_secrets_file(Path(secrets_file)) if secrets_file else {}
    except SecretsError as exc:
        return _usage(say, [str(exc)])
    config = plan.project.config.data if plan.project.config else None
    secrets = Secrets.from_config(config, file_values, dict(os.environ))

    state = ensure_state_dir(root)
    run_id = new_run_id()
    folder = run_dir(root, run_id)
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    name = _workflow_name(plan.spec)
    engine = Engine(plan.spec, name=name, parameters=plan.parameters, targets=plan.targets,
                    runner=LeafRunner(say, secrets.mask), isolation=Isolation(isolation, state / "venvs"),
                    secrets=secrets, say=say, log_dir=folder / "logs", parallelism=parallelism or os.cpu_count() or 1)
    options = {"parallelism": parallelism or os.cpu_count() or 1, "isolation": isolation, "timeout": timeout,
               "secrets_file": str(secrets_file) if secrets_file else None}
    record = RunRecord(run_id, str(root), name, engine.started, dict(plan.parameters), options,
                       nodes=engine.nodes, outputs=engine.outputs)
    record_path = folder / "record.json"
    record.write(record_path)
    for warning in plan.warnings:
        say(f"warning: {warning}")
    say(f"run {run_id}: workflow {name}, logs in {folder / 'logs'}")

    body_deadline = spec_body(plan.spec).get("activeDeadlineSeconds")
    deadline = float(body_deadline) if isinstance(body_deadline, int) and body_deadline > 0 else None
    if cancel is not None and cancel.is_set():
        engine.terminate("Cancelled", "run cancelled")
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(engine, cancel, timeout, deadline, done), daemon=True)
    watcher.start()
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

    threading.Thread(target=drive, daemon=True).start()
    # Wait on an Event, not Thread.join: a join interrupted by Ctrl-C may later return too early.
    while True:
        try:
            if finished.wait(0.1):
                break
        except KeyboardInterrupt:
            engine.terminate("Cancelled", "interrupted")
    done.set()
    watcher.join()
    phase, message = outcome.get("run", ("Error", "the executor stopped unexpectedly"))
    if engine.terminated:
        phase, message = engine.terminated, engine.terminated_message

    for node in engine.nodes:  # only after an internal error or a hard stop
        if node.phase == RUNNING:
            node.phase, node.message, node.finished = ERROR, f"unfinished: {message}", time.time()
    record.phase, record.message, record.finished = phase, message, time.time()
    record.exit_code = EXIT_CODES.get(phase, 1)
    record.write(record_path)
    print_summary(record, say, record_path)
    return LocalRunResult(phase, record.exit_code, message, run_id, record_path, record.to_json())
