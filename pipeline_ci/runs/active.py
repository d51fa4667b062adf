"""The remote runs this process started and has not yet seen reach a final status.

``run`` and ``deploy --run`` register a run right after the platform accepted its start, and unregister it once
the follower (:func:`pipeline_ci.runs.follow.follow`) has taken it over, which reports its final status, sends the
cancel on a signal, reports a timeout, or cancels the run itself when anything escapes it; with ``--no-wait``,
once its id was printed. Whatever is still registered when pipeline-ci fails (an internal error, or an expected
error in between) is cancelled by the error handler (:mod:`pipeline_ci.error_handler`): an error never leaves a
run behind. Thread-safe; imports nothing heavy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol


class Cancellable(Protocol):
    run_id: str

    def cancel(self) -> None: ...


_lock = threading.Lock()
_runs: list[Cancellable] = []


def register(run: Cancellable) -> None:
    with _lock:
        if not any(r is run for r in _runs):
            _runs.append(run)


def unregister(run: Cancellable) -> None:
    with _lock:
        _runs[:] = [r for r in _runs if r is not run]


def runs() -> list[Cancellable]:
    with _lock:
        return list(_runs)


def cancel_all(say: Callable[[str], None]) -> list[str]:
    """Cancel every registered run, best effort (a failure is reported and the next is tried); returns the ids
    of the runs that were cancelled. The registry is empty afterwards."""
    with _lock:
        pending, _runs[:] = list(_runs), []
    cancelled: list[str] = []
    for run in pending:
        try:
            run.cancel()
        except Exception as exc:  # best effort: an error handler must not fail
            say(f"pipeline-ci: could not cancel run {run.run_id}: {type(exc).__name__}: {exc}")
            continue
        cancelled.append(run.run_id)
        say(f"pipeline-ci: cancelled run {run.run_id}")
    return cancelled
