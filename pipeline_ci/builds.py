"""Independent step uploads and platform builds, overlapped with bounded concurrency.

:func:`overlapped` runs one task per step (upload it and wait for its build) in at most ``workers`` threads at a
time (``PIPELINE_CI_BUILD_CONCURRENCY``, default 4: :func:`concurrency`) and hands the outcomes back **in the
tasks' order**, each as soon as it and every task before it has finished: the deploy engine writes each step
lockfile in that order, right after its step is ready (:func:`pipeline_ci.deploy.apply`), so the lines it prints
and the files it writes come in the same order on every run. A failed task does not stop the others; the caller
collects the failures and raises :func:`failure` once the rest is pinned.

A backend's ``upload_step`` and ``adopt_step_version`` therefore run in worker threads, one step each: the
Clarifai backend shares one gRPC channel (thread-safe) and keeps per-step state only; every line printed goes
through :func:`pipeline_ci.console.emit`, which writes whole lines under one lock.

The workers are daemon threads: an interrupted deploy (Ctrl-C, SIGTERM, the error handler's exit) does not wait
for builds still running; what they uploaded is found by content hash next time. With one worker, or one task, the
tasks run one after the other in the calling thread, exactly as without this module; so do they while a
:mod:`pipeline_ci.crashpoints` kill point is armed, so that the n-th time a point is reached is the same step on
every run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from .errors import PipelineCIError

T = TypeVar("T")
R = TypeVar("R")

CONCURRENCY_ENV = "PIPELINE_CI_BUILD_CONCURRENCY"
DEFAULT_CONCURRENCY = 4


def concurrency(env: Mapping[str, str] | None = None) -> int:
    """How many step builds overlap: ``PIPELINE_CI_BUILD_CONCURRENCY`` (a whole number >= 1), else 4; 1 while a
    crash point is armed (see the module docstring)."""
    from . import crashpoints
    from .errors import UsageError

    env = os.environ if env is None else env
    if crashpoints.armed():
        return 1
    raw = env.get(CONCURRENCY_ENV, "").strip()
    if not raw:
        return DEFAULT_CONCURRENCY
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(f"{CONCURRENCY_ENV} must be a whole number of at least 1, not {raw!r}",
                         hint=f"unset it for {DEFAULT_CONCURRENCY} builds at a time, or set it to 1 for one at a time")
    return int(raw)


@dataclass
class Outcome(Generic[T, R]):
    """What one task gave: its ``value``, or the ``error`` the user can act on (a :class:`PipelineCIError`)."""

    item: T
    value: R | None = None
    error: PipelineCIError | None = None


class _Slot(Generic[T, R]):
    def __init__(self, item: T):
        self.item = item
        self.finished = threading.Event()
        self.value: R | None = None
        self.error: PipelineCIError | None = None
        self.crash: BaseException | None = None  # anything else: a bug, re-raised in the calling thread


def overlapped(items: Sequence[T], task: Callable[[T], R], workers: int) -> Iterator[Outcome[T, R]]:
    """``task(item)`` for every item, at most ``workers`` at a time; the outcomes in the items' order (see the
    module docstring). An exception that is not a :class:`PipelineCIError` is re-raised here, in order."""
    if workers <= 1 or len(items) <= 1:
        for item in items:
            try:
                yield Outcome(item, task(item))
            except PipelineCIError as exc:
                yield Outcome(item, error=exc)
        return
    slots: list[_Slot[T, R]] = [_Slot(item) for item in items]
    pending = iter(slots)
    take = threading.Lock()

    def work() -> None:
        while True:
            with take:
                slot = next(pending, None)
            if slot is None:
                return
            try:
                slot.value = task(slot.item)
            except PipelineCIError as exc:
                slot.error = exc
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                slot.crash = exc
            finally:
                slot.finished.set()

    for number in range(min(workers, len(slots))):
        threading.Thread(target=work, name=f"pipeline-ci-build-{number}", daemon=True).start()
    for slot in slots:
        slot.finished.wait()
        if slot.crash is not None:
            raise slot.crash
        yield Outcome(slot.item, slot.value, slot.error)


def failure(failed: list[tuple[str, PipelineCIError]]) -> PipelineCIError:
    """The error of a deploy some of whose steps failed (``(step id, error)`` in plan order): the error itself
    for one step; for more, one error naming every failed step, with the exit code of the first and every step's
    log lines (prefixed with its step id)."""
    from .platforms.base import DeployError

    if len(failed) == 1:
        return failed[0][1]
    log = [f"[{sid}] {line}" for sid, exc in failed for line in exc.details]
    names = ", ".join(sid for sid, _ in failed)
    reasons = "; ".join(exc.message for _, exc in failed)
    return DeployError(f"{len(failed)} steps failed ({names}): {reasons}", failed[0][1].exit_code, log)
