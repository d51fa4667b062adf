"""Progress of work that may take more than two seconds (uploads, platform builds): one helper, four modes.

``with progress("building 4 step(s) on clarifai", out, total=4) as bar:`` then ``bar.update("prepare", "building")``
and ``bar.done("prepare")`` (or the module-level :func:`update` / :func:`done`, which reach the block open in this
process from any thread: a backend's build loop calls them without knowing who shows them). The mode is chosen once
per block (:func:`mode`):

- ``off`` with ``-q`` (:func:`pipeline_ci.console.quiet`): nothing is printed;
- ``live`` when stderr is a terminal (and ``TERM`` is not ``dumb``): one line on stderr, redrawn five times a
  second: the title, items done of the total, the current items and what each is doing, the elapsed time. Any line
  printed meanwhile (:func:`pipeline_ci.console.emit`) erases it first, and it is erased at the end;
- ``plain`` otherwise (a pipe, a file, a CI log): a line through the command's writer every 15 s
  (``PIPELINE_CI_PROGRESS_INTERVAL`` seconds), with the same content;
- ``actions`` in GitHub Actions (:func:`pipeline_ci.github.in_actions`): ``plain``, with the block's lines inside a
  collapsible ``::group::<title>`` ... ``::endgroup::`` (the runner does not nest groups: a block opened inside
  another one is the outer block).

A block that took two seconds or more ends with one line: ``<title>: finished in 12s``. Every line is made safe by
:mod:`pipeline_ci.textsafe` (titles and items carry step ids).
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO

INTERVAL_ENV = "PIPELINE_CI_PROGRESS_INTERVAL"
PLAIN_EVERY = 15.0  # seconds between two plain lines
LIVE_EVERY = 0.2  # seconds between two redraws of the live line
SLOW = 2.0  # a block at least this long ends with a "finished in" line
SPINNER = "|/-\\"
ERASE = "\r\x1b[K"

_active: list[Progress] = []
_active_lock = threading.Lock()


def elapsed_text(seconds: float) -> str:
    """``7s``, ``1m05s``, ``2h03m``."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def mode(env: Mapping[str, str] | None = None, stream: IO[str] | None = None) -> str:
    """``off``, ``live``, ``plain`` or ``actions`` (see the module docstring); ``stream``: where a live line goes
    (stderr by default)."""
    from .console import quiet, terminal
    from .github import in_actions

    env = os.environ if env is None else env
    if quiet():
        return "off"
    if in_actions(env):
        return "actions"
    return "live" if terminal(sys.stderr if stream is None else stream, env) else "plain"


def interval(env: Mapping[str, str] | None = None) -> float:
    """Seconds between two plain lines: ``PIPELINE_CI_PROGRESS_INTERVAL`` when it is a positive number, else 15."""
    raw = (os.environ if env is None else env).get(INTERVAL_ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return PLAIN_EVERY
    return value if 0 < value < float("inf") else PLAIN_EVERY


class Progress:
    """The state of one block: what is being worked on, and how long it has been going. Thread-safe."""

    def __init__(self, title: str, out: Callable[[str], None], *, total: int | None = None, how: str = "plain",
                 stream: IO[str] | None = None, every: float = PLAIN_EVERY):
        self.title, self.out, self.total, self.mode = title, out, total, how
        self.stream = sys.stderr if stream is None else stream
        self.every = every
        self.started = time.monotonic()
        self.finished = 0
        self._items: dict[str, tuple[str, float]] = {}  # item -> (what it is doing, since when)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._frame = 0
        self._shown = False  # the live line is on the screen

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def update(self, item: str, state: str = "") -> None:
        """``item`` is being worked on; ``state`` says how (``uploading``, ``building``)."""
        with self._lock:
            since = self._items.get(item, ("", time.monotonic()))[1]
            self._items[item] = (state, since)

    def done(self, item: str) -> None:
        """``item`` is finished (it counts towards the total)."""
        with self._lock:
            self._items.pop(item, None)
            self.finished += 1

    def text(self) -> str:
        """``title, 1/4 done: prepare building, report uploading 3s (15s)`` (an item's own time when it differs)."""
        now = time.monotonic()
        total = elapsed_text(now - self.started)
        with self._lock:
            items = []
            for item, (state, since) in self._items.items():
                later = since - self.started >= 1  # started after the block did: its own time says more
                items.append(f"{item} {state}".rstrip() + (f" {elapsed_text(now - since)}" if later else ""))
            count = f", {self.finished}/{self.total} done" if self.total else ""
        return f"{self.title}{count}: {', '.join(items) or 'working'} ({total})"

    # ---------------------------------------------------------------- showing it

    def _start(self) -> None:
        if self.mode == "actions":
            from .github import escape_data
            from .textsafe import Verbatim, escape_controls

            self.out(Verbatim(f"::group::{escape_data(escape_controls(self.title))}"))
        if self.mode == "live":
            from . import console

            console.before_write(self._erase)
            target = self._live
        elif self.mode in ("plain", "actions"):
            target = self._plain
        else:
            return
        self._thread = threading.Thread(target=target, name="pipeline-ci-progress", daemon=True)
        self._thread.start()

    def _finish(self, ok: bool) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.mode == "live":
            from . import console

            console.before_write(None)
            self._erase()
        if self.mode == "actions":
            from .textsafe import Verbatim

            self.out(Verbatim("::endgroup::"))
        if ok and self.mode != "off" and self.elapsed() >= SLOW:
            self.out(f"{self.title}: finished in {elapsed_text(self.elapsed())}")

    def _plain(self) -> None:
        while not self._stop.wait(self.every):
            self.out(self.text())

    def _live(self) -> None:
        while not self._stop.wait(LIVE_EVERY):
            self._draw()

    def _draw(self) -> None:
        from .console import WRITE_LOCK
        from .textsafe import safe_line

        width = max(shutil.get_terminal_size((80, 24)).columns - 1, 20)
        self._frame += 1
        line = safe_line(f"{SPINNER[self._frame % len(SPINNER)]} {self.text()}")
        if len(line) > width:
            line = line[:width - 1] + "…"
        with WRITE_LOCK:
            try:
                self.stream.write(ERASE + line)
                self.stream.flush()
            except (OSError, ValueError):  # the terminal went away: stop drawing
                self._stop.set()
                return
            self._shown = True

    def _erase(self) -> None:
        from .console import WRITE_LOCK

        with WRITE_LOCK:
            if not self._shown:
                return
            try:
                self.stream.write(ERASE)
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self._shown = False


@contextmanager
def progress(title: str, out: Callable[[str], None], *, total: int | None = None,
             env: Mapping[str, str] | None = None, stream: IO[str] | None = None) -> Iterator[Progress]:
    """A progress block (see the module docstring). Inside another block of this process it is that block; with
    ``total=0`` (nothing to do) it shows nothing."""
    outer = _current()
    if outer is not None:
        yield outer
        return
    how = "off" if total == 0 else mode(env, stream)  # nothing to do: nothing to show
    bar = Progress(title, out, total=total, how=how, stream=stream, every=interval(env))
    with _active_lock:
        _active.append(bar)
    bar._start()
    ok = False
    try:
        yield bar
        ok = True
    finally:
        with _active_lock:
            _active.remove(bar)
        bar._finish(ok)


def _current() -> Progress | None:
    """The block open in this process, if any."""
    with _active_lock:
        return _active[-1] if _active else None


def update(item: str, state: str = "") -> None:
    """:meth:`Progress.update` on the block open in this process (any thread); nothing when none is."""
    bar = _current()
    if bar is not None:
        bar.update(item, state)


def done(item: str) -> None:
    """:meth:`Progress.done` on the block open in this process; nothing when none is."""
    bar = _current()
    if bar is not None:
        bar.done(item)
