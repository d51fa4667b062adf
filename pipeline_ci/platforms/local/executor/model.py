"""Types shared by the local executor's modules: node phases, node records, results and stop signals."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED, RUNNING = "Succeeded", "Failed", "Error", "Skipped", "Omitted", "Running"
COMPLETED = frozenset({SUCCEEDED, FAILED, ERROR})
FAILURES = frozenset({FAILED, ERROR})

# Node types (Argo's names where there is one): Pod = one process, Loop = a fan-out parent, Skipped = a
# step/task that did not run (Skipped/Omitted), Node = one that failed before it could start.
POD, STEPS, DAG, LOOP, SKIPPED_NODE, SUSPEND, OTHER = "Pod", "Steps", "DAG", "Loop", "Skipped", "Suspend", "Node"
RETRY = "Retry"  # the parent of the attempts of a steps/DAG template with a retryStrategy

T = TypeVar("T")


def iso(ts: float | None) -> str | None:
    """An epoch time as ISO 8601 UTC with milliseconds (``2026-01-02T03:04:05.678Z``)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rfc3339(ts: float | None) -> str:
    """An epoch time the way Argo prints node times (``2026-01-02T03:04:05Z``)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class NodeRecord:
    """One node of the run as it appears in the run record."""

    id: int
    name: str  # display name: step/task name, ``name(i:value)`` for loop children
    path: str  # unique name, Argo style: ``wf[0].step-a``, ``wf.task(0:1)``
    type: str
    template: str  # local template name, or the step id of a templateRef
    parent: int | None
    depth: int
    phase: str = RUNNING
    message: str = ""
    started: float | None = None
    finished: float | None = None
    exit_code: int | None = None
    attempts: int = 0
    log: str | None = None
    pids: list[int] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return round(self.finished - self.started, 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "path": self.path,
            "type": self.type,
            "template": self.template,
            "parent": self.parent,
            "phase": self.phase,
            "message": self.message,
            "started_at": iso(self.started),
            "finished_at": iso(self.finished),
            "duration": self.duration,
            "exit_code": self.exit_code,
            "attempts": self.attempts,
            "log": self.log,
            "pids": list(self.pids),
            "outputs": dict(self.outputs),
        }


@dataclass
class NodeResult:
    """What a finished node hands to its parent: phase, outputs and (for fan-outs) its children."""

    phase: str
    message: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    result: str | None = None  # outputs.result (templates that "have output")
    exit_code: int | None = None
    children: list[NodeResult] | None = None
    record: NodeRecord | None = None
    artifacts: dict[str, str] = field(default_factory=dict)  # output artifact name -> its copy in the run folder


class Stop:
    """A one-shot stop signal: the first :meth:`fire` wins and sets ``kind`` and ``message``."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self.kind = ""
        self.message = ""

    def fire(self, kind: str, message: str) -> bool:
        with self._lock:
            if self._event.is_set():
                return False
            self.kind, self.message = kind, message
            self._event.set()
            return True

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None) -> bool:
        return self._event.wait(timeout)


@dataclass(frozen=True)
class StepTarget:
    """A Clarifai step folder that a templateRef maps to."""

    step_id: str
    path: Path


@dataclass(frozen=True)
class Frame:
    """Where a node runs: its parent record, nesting depth, stop signal, the slots its leaves take and the
    ``parallelism`` slot of the steps/DAG template it is a direct child of (``boundary``, Argo's boundary
    node: its pods and nested steps/DAG nodes count, not what runs inside those)."""

    parent: int | None
    depth: int
    stop: Stop
    limits: tuple[threading.Semaphore, ...]
    boundary: threading.Semaphore | None = None
    daemons: Any = None  # the :class:`.daemons.Daemons` of the steps/DAG template the node runs in

    def below(self, rec: NodeRecord, extra: tuple[threading.Semaphore, ...] = ()) -> Frame:
        return Frame(rec.id, self.depth + 1, self.stop, self.limits + extra, self.boundary, self.daemons)


@dataclass(frozen=True)
class Callee:
    """What a step/task calls: a local template or a Clarifai step folder; ``label`` names it in records."""

    label: str
    template: dict | None = None
    target: StepTarget | None = None


def acquire_all(limits: tuple[threading.Semaphore, ...], stop: Stop) -> bool:
    """Take every semaphore in order (outermost first, so no deadlock); False, holding none, if ``stop`` fires."""
    taken: list[threading.Semaphore] = []
    for sem in limits:
        while not sem.acquire(timeout=0.05):
            if stop.is_set():
                release_all(tuple(taken))
                return False
        taken.append(sem)
    return True


def release_all(limits: tuple[threading.Semaphore, ...]) -> None:
    for sem in reversed(limits):
        sem.release()


def run_parallel(calls: Sequence[Callable[[], T]], max_threads: int = 64) -> list[T]:
    """Run ``calls`` on up to ``max_threads`` threads, the caller's included (in order of start); results in
    input order."""
    if len(calls) <= 1:
        return [call() for call in calls]
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []
    queue = iter(enumerate(calls))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            index, call = item
            try:
                results[index] = call()
            except BaseException as exc:  # re-raised in the caller's thread
                errors.append(exc)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(len(calls), max_threads) - 1)]
    for thread in threads:
        thread.start()
    worker()  # the caller is a worker too: one thread less per fan-out (recursive templates nest them)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def locked_printer(out: Callable[[str], None]) -> Callable[[str], None]:
    """``out`` made safe to call from many threads (one whole line at a time)."""
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            out(line)

    return say
