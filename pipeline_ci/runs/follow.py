"""Follow a remote run to its final status: polling with backoff, logs, timeouts, cancellation.

Backend-neutral: a :class:`RemoteRun` says what a poll returned (one of :data:`STATES`) and
which log lines are new; this module decides when to stop and with which exit code.

- Polls follow :func:`poll_delays`: the first within 2 s, then exponential with jitter, capped
  by ``max_interval``; a throttled poll waits what the server asked for.
- ``paused`` keeps waiting up to ``paused_grace`` seconds, then counts as a failure; ``unknown``
  statuses keep waiting and are reported once each.
- Transient status errors are tolerated up to ``error_budget`` in a row (exit 3 after that).
- Logs are best effort: every poll prints all the new lines the platform has (at most
  :data:`PAGES_PER_POLL` pages), and after the final status (or the timeout) they are drained until the
  platform has no more (at most :data:`DRAIN_LINE_LIMIT` lines, then a note says where the rest is). An
  error while reading logs, whatever it is, is reported once as a warning and never ends the follow nor
  counts toward the error budget.
- When ``cancel`` is set (SIGINT/SIGTERM), the remote run is cancelled and the exit code is 5.
- When anything unexpected escapes the follow (a bug, an exception in an adapter, a ``KeyboardInterrupt``),
  a run this process started (by default: one registered in :mod:`.active`; ``watch`` follows a run it did
  not start) that has not reached a final status is cancelled (best effort, with a message) before the
  exception propagates. ``cancel`` is set first, so a signal during that clean-up is the "second one" that
  exits at once.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import PlatformError
from ..exitcodes import ExitCode

STATES = ("running", "success", "failure", "cancelled", "paused", "unknown")
FINAL_STATES = ("success", "failure", "cancelled")
PAGES_PER_POLL = 20
"""Log pages read at most per poll (the rest is read at the next poll, or by the drain)."""
DRAIN_LINE_LIMIT = 100_000
"""Log lines printed at most by the drain after the final status."""
DRAIN_PAGE_LIMIT = 10_000
"""Log pages read at most by the drain (a platform that keeps answering full pages cannot keep it going)."""


class TransientError(PlatformError):
    """A poll failed but may work next time; ``retry_after`` is the server's hint, if any."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class FatalError(PlatformError):
    """The run cannot be followed any more (auth revoked, run vanished...)."""


@dataclass
class Poll:
    state: str  # one of STATES
    status: str  # the backend's own status name, for messages
    nodes: Any = None  # the run's nodes when the platform reports them (an Argo WorkflowStatus), for the summary


class RemoteRun(Protocol):
    run_id: str

    @property
    def url(self) -> str | None: ...

    def poll(self) -> Poll: ...

    def log_pages(self) -> Iterator[list[str]]:
        """The new log lines, one list per page read from the platform, until it has no more for now. The
        position is kept between calls and moves on before each page is yielded, so a caller that stops early
        loses nothing and sees no line twice. May raise any error (logs are best effort)."""
        ...

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
    nodes: Any = None  # the last Poll.nodes seen


def follow(run: RemoteRun, *, timeout: float, max_interval: float = 30.0, paused_grace: float = 600.0,
           error_budget: int = 10, out: Callable[[str], None] = print, cancel: threading.Event | None = None,
           clock: Callable[[], float] = time.monotonic, cancel_on_error: bool | None = None,
           pages_per_poll: int = PAGES_PER_POLL, drain_limit: int = DRAIN_LINE_LIMIT) -> FollowResult:
    """Poll ``run`` until a final status, the timeout or a cancellation; returns the exit code.

    ``cancel_on_error``: cancel the run when an exception escapes; None (the default): when this process started
    it, i.e. it is registered in :mod:`.active`."""
    follower = _Follower(run, out, cancel or threading.Event(), pages_per_poll, drain_limit)
    try:
        return follower.follow(timeout, max_interval, paused_grace, error_budget, clock)
    except BaseException as exc:
        if cancel_on_error is None:
            from . import active

            cancel_on_error = any(started is run for started in active.runs())
        if cancel_on_error and not follower.settled:
            follower.clean_up(exc)
        raise


class _Follower:
    """The state of one follow: what was seen, whether the run still needs cleaning up, the log warning."""

    def __init__(self, run: RemoteRun, out: Callable[[str], None], cancel: threading.Event, pages_per_poll: int,
                 drain_limit: int):
        self.run, self.out, self.cancel = run, out, cancel
        self.pages_per_poll, self.drain_limit = max(1, pages_per_poll), max(0, drain_limit)
        self.settled = False  # final status seen or cancel sent: an error from now on leaves nothing behind
        self.log_warned = False
        self.polls = 0
        self.last_status = ""

    def follow(self, timeout: float, max_interval: float, paused_grace: float, error_budget: int,
               clock: Callable[[], float]) -> FollowResult:
        run, out = self.run, self.out
        start = clock()
        deadline = start + timeout
        delays = poll_delays(max_interval)
        paused_since: float | None = None
        errors = 0
        reported_unknown: set[str] = set()
        wait = min(1.0, max_interval, timeout)
        while True:
            if self.cancel.wait(max(0.0, min(wait, deadline - clock()))):
                return self._cancel()
            if clock() >= deadline:
                self.drain()
                if errors:  # the last polls failed (a client retries each one): what the run is doing is not known
                    out(f"run {run.run_id}: status unknown after {clock() - start:.0f}s (the last {errors} poll(s) "
                        f"failed; last status seen: {self.last_status or 'none'}): timed out")
                else:
                    out(f"run {run.run_id}: still {self.last_status or 'not started'} after {timeout:.0f}s: timed out")
                return FollowResult(ExitCode.TIMED_OUT, "timeout", "" if errors else self.last_status, self.polls)
            self.polls += 1
            try:
                poll = run.poll()
                errors = 0
            except TransientError as exc:
                errors += 1
                if errors > error_budget:
                    out(f"run {run.run_id}: lost track of the run after {errors} failed polls: {exc}")
                    return FollowResult(ExitCode.API, "error", self.last_status, self.polls)
                out(f"run {run.run_id}: poll failed ({exc}); retrying")
                wait = exc.retry_after if exc.retry_after is not None else next(delays)
                continue
            except FatalError as exc:
                out(f"run {run.run_id}: {exc}")
                return FollowResult(ExitCode.API, "error", self.last_status, self.polls)
            self.settled = poll.state in FINAL_STATES
            self.read_logs()
            if poll.status != self.last_status:
                out(f"run {run.run_id}: {poll.status} ({clock() - start:.0f}s)")
                self.last_status = poll.status
            if poll.state == "unknown" and poll.status not in reported_unknown:
                reported_unknown.add(poll.status)
                out(f"run {run.run_id}: unknown status {poll.status!r}; still waiting")
            if poll.state == "paused":
                paused_since = paused_since if paused_since is not None else clock()
                if clock() - paused_since > paused_grace:
                    self.drain()
                    out(f"run {run.run_id}: paused for more than {paused_grace:.0f}s: counted as failed")
                    return FollowResult(ExitCode.FAILED, "paused", poll.status, self.polls)
            else:
                paused_since = None
            if poll.state in FINAL_STATES:
                self.drain()
                code = {"success": ExitCode.OK, "failure": ExitCode.FAILED, "cancelled": ExitCode.CANCELLED}[poll.state]
                return FollowResult(code, poll.state, poll.status, self.polls, nodes=poll.nodes)
            wait = next(delays)

    # ------------------------------------------------------------------------------------------- logs

    def _next_page(self, pages: Iterator[list[str]]) -> list[str] | None:
        """The next page of new lines; None when the platform has no more or reading failed (warned once)."""
        try:
            return next(pages)
        except StopIteration:
            return None
        except Exception as exc:  # logs are best effort, whatever went wrong
            self.warn_logs(exc)
            return None

    def read_logs(self) -> None:
        """Print every new line the platform has now, up to ``pages_per_poll`` pages."""
        pages = self._pages()
        for _ in range(self.pages_per_poll):
            lines = self._next_page(pages) if pages is not None and not self.cancel.is_set() else None
            if lines is None:
                return
            for line in lines:
                self.out(line)

    def drain(self) -> None:
        """Print the remaining lines until the platform has no more, up to ``drain_limit`` lines."""
        pages = self._pages()
        printed = 0
        for _ in range(DRAIN_PAGE_LIMIT):
            lines = self._next_page(pages) if pages is not None and not self.cancel.is_set() else None
            if lines is None:
                return
            for line in lines:
                if printed >= self.drain_limit:
                    self._cut(printed)
                    return
                self.out(line)
                printed += 1
        self._cut(printed)

    def _pages(self) -> Iterator[list[str]] | None:
        try:
            return iter(self.run.log_pages())
        except Exception as exc:
            self.warn_logs(exc)
            return None

    def _cut(self, printed: int) -> None:
        where = self.run.url or f"the logs of run {self.run.run_id} on the platform"
        self.out(f"pipeline-ci: log output cut after {printed} lines; see {where}")

    def warn_logs(self, exc: BaseException) -> None:
        if self.log_warned:
            return
        self.log_warned = True
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if not isinstance(exc, PlatformError):
            reason = f"{type(exc).__name__}: {reason}"
        self.out(f"pipeline-ci: warning: cannot read logs: {reason}; still following the run")

    # ------------------------------------------------------------------------------------------- cancelling

    def _cancel(self) -> FollowResult:
        run, out = self.run, self.out
        out(f"run {run.run_id}: cancellation requested; cancelling the remote run")
        self.settled = True  # whatever happens next, the cancel was sent (or reported as failed)
        try:
            run.cancel()
            out(f"run {run.run_id}: cancelled")
        except (TransientError, FatalError) as exc:
            out(f"run {run.run_id}: could not cancel the remote run: {exc}")
        return FollowResult(ExitCode.CANCELLED, "cancelled", self.last_status, self.polls)

    def clean_up(self, exc: BaseException) -> None:
        """Cancel the run after ``exc`` escaped the follow (best effort; never raises)."""
        self.cancel.set()  # a signal during the clean-up is the second one: it exits at once
        self.settled = True
        run_id = getattr(self.run, "run_id", "?")
        if isinstance(exc, KeyboardInterrupt):
            what = "interrupted"
        else:
            message = " ".join(str(exc).split())
            what = f"unexpected error ({type(exc).__name__}{': ' + message[:300] if message else ''})"
        self._say(f"run {run_id}: {what} while following the run; cancelling the remote run")
        try:
            self.run.cancel()
        except Exception as problem:
            self._say(f"run {run_id}: could not cancel the remote run: {' '.join(str(problem).split())}")
        else:
            self._say(f"run {run_id}: cancelled")

    def _say(self, line: str) -> None:
        """A clean-up message through ``out``; on stderr when ``out`` itself is what failed."""
        try:
            self.out(line)
        except Exception:
            try:
                sys.stderr.write(line + "\n")
                sys.stderr.flush()
            except Exception:
                pass
