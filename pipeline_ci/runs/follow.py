"""Follow a remote run to its final status: polling with backoff, logs, timeouts, cancellation.

Backend-neutral: a :class:`RemoteRun` says what a poll returned (one of :data:`STATES`) and
which log lines are new; this module decides when to stop and with which exit code.

- Polls follow :func:`poll_delays`: the first within 2 s, then exponential with jitter, capped
  by ``max_interval``; a throttled poll waits what the server asked for.
- ``paused`` keeps waiting up to ``paused_grace`` seconds, then counts as a failure; ``unknown``
  statuses keep waiting and are reported once each.
- Transient API errors are tolerated up to ``error_budget`` in a row (exit 3 after that).
- Logs are read on every poll and drained once more after the final status.
- When ``cancel`` is set (SIGINT/SIGTERM), the remote run is cancelled and the exit code is 5.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from . import API_ERROR, CANCELLED, FAILED, SUCCEEDED, TIMED_OUT

STATES = ("running", "success", "failure", "cancelled", "paused", "unknown")


class TransientError(Exception):
    """A poll failed but may work next time; ``retry_after`` is the server's hint, if any."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class FatalError(Exception):
    """The run cannot be followed any more (auth revoked, run vanished...)."""


@dataclass
class Poll:
    state: str  # one of STATES
    status: str  # the backend's own status name, for messages


class RemoteRun(Protocol):
    run_id: str
    url: str | None

    def poll(self) -> Poll: ...

    def new_logs(self) -> list[str]: ...

    def cancel(self) -> None: ...


def poll_delays(max_interval: float = 30.0, first: float = 2.0, factor: float = 1.5, jitter: float = 0.1,
                rng: Callable[[], float] = random.random) -> Iterator[float]:
    """Delays between status polls: ``first`` (≤ 2 s), growing by ``factor``, capped at ``max_interval``."""
    delay = min(first, max_interval)
    while True:
        yield delay * (1 - jitter * rng())
        delay = min(max_interval, delay * factor)


@dataclass
class FollowResult:
    exit_code: int
    state: str
    status: str
    polls: int = 0
    messages: list[str] = field(default_factory=list)


def follow(run: RemoteRun, *, timeout: float, max_interval: float = 30.0, paused_grace: float = 600.0,
           error_budget: int = 10, out: Callable[[str], None] = print, cancel: threading.Event | None = None,
           clock: Callable[[], float] = time.monotonic) -> FollowResult:
    """Poll ``run`` until a final status, the timeout or a cancellation; returns the exit code."""
    cancel = cancel or threading.Event()
    start = clock()
    deadline = start + timeout
    delays = poll_delays(max_interval)
    paused_since: float | None = None
    errors = polls = 0
    last_status, reported_unknown = "", set()
    wait = min(1.0, max_interval, timeout)
    while True:
        if cancel.wait(max(0.0, min(wait, deadline - clock()))):
            return _cancel(run, out, last_status, polls)
        if clock() >= deadline:
            _drain(run, out)
            out(f"run {run.run_id}: still {last_status or 'not started'} after {timeout:.0f}s: timed out")
            return FollowResult(TIMED_OUT, "timeout", last_status, polls)
        polls += 1
        try:
            poll = run.poll()
            errors = 0
        except TransientError as exc:
            errors += 1
            if errors > error_budget:
                out(f"run {run.run_id}: lost track of the run after {errors} failed polls: {exc}")
                return FollowResult(API_ERROR, "error", last_status, polls)
            out(f"run {run.run_id}: poll failed ({exc}); retrying")
            wait = exc.retry_after if exc.retry_after is not None else next(delays)
            continue
        except FatalError as exc:
            out(f"run {run.run_id}: {exc}")
            return FollowResult(API_ERROR, "error", last_status, polls)
        _print_logs(run, out)
        if poll.status != last_status:
            out(f"run {run.run_id}: {poll.status} ({clock() - start:.0f}s)")
            last_status = poll.status
        if poll.state == "unknown" and poll.status not in reported_unknown:
            reported_unknown.add(poll.status)
            out(f"run {run.run_id}: unknown status {poll.status!r}; still waiting")
        if poll.state == "paused":
            paused_since = paused_since if paused_since is not None else clock()
            if clock() - paused_since > paused_grace:
                _drain(run, out)
                out(f"run {run.run_id}: paused for more than {paused_grace:.0f}s: counted as failed")
                return FollowResult(FAILED, "paused", poll.status, polls)
        else:
            paused_since = None
        if poll.state in ("success", "failure", "cancelled"):
            _drain(run, out)
            code = {"success": SUCCEEDED, "failure": FAILED, "cancelled": CANCELLED}[poll.state]
            return FollowResult(code, poll.state, poll.status, polls)
        wait = next(delays)


def _print_logs(run: RemoteRun, out: Callable[[str], None]) -> None:
    try:
        for line in run.new_logs():
            out(line)
    except TransientError:
        pass  # logs are best effort; the next poll asks for the same page again


def _drain(run: RemoteRun, out: Callable[[str], None]) -> None:
    _print_logs(run, out)


def _cancel(run: RemoteRun, out: Callable[[str], None], status: str, polls: int) -> FollowResult:
    out(f"run {run.run_id}: cancellation requested; cancelling the remote run")
    try:
        run.cancel()
        out(f"run {run.run_id}: cancelled")
    except (TransientError, FatalError) as exc:
        out(f"run {run.run_id}: could not cancel the remote run: {exc}")
    return FollowResult(CANCELLED, "cancelled", status, polls)
