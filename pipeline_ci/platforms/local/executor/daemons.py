"""Daemoned leaves (``daemon: true``; Argo docs ``walk-through/daemon-containers/``).

A daemon step is done, for the steps/tasks after it, as soon as its process has started; it keeps running
beside them and is stopped when the steps/DAG template that started it ends, as Argo's controller does with
a daemoned pod when its scope completes. A daemon stopped that way Succeeds ("daemoned"); one that exits on
its own ends like any leaf. ``{{steps.X.ip}}`` / ``{{tasks.X.ip}}`` is ``127.0.0.1`` locally (every step
shares this machine's network). Readiness probes are not run: a client should retry until the daemon answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .model import SUCCEEDED, NodeRecord, NodeResult, Stop

END = "daemon-end"


class Daemons:
    """The daemons started below one steps/DAG template invocation."""

    def __init__(self) -> None:
        self._items: list[tuple[Stop, threading.Thread]] = []
        self._lock = threading.Lock()

    def start(self, run: Callable[[Stop], NodeResult], started: Callable[[], NodeRecord | None], outer: Stop
              ) -> NodeResult | None:
        """Run ``run(stop)`` on its own thread and wait until ``started()`` finds its record with a process (the
        daemon is up: its record is returned as a Succeeded "daemoned" result) or it ended (its own result).
        None when ``outer`` fired first (the daemon is stopped)."""
        stop, done = Stop(), {}

        def body() -> None:
            res = run(stop)
            rec = res.record
            if stop.kind == END and rec is not None:
                rec.phase, rec.message = SUCCEEDED, "daemoned: stopped at the end of its template"
                res.phase = SUCCEEDED
            done["res"] = res

        thread = threading.Thread(target=body, daemon=True, name="pipeline-ci-daemon")
        thread.start()
        with self._lock:
            self._items.append((stop, thread))
        while True:
            if "res" in done:
                return done["res"]
            rec = started()
            if rec is not None and rec.pids:
                return NodeResult(SUCCEEDED, "daemoned", record=rec)
            if outer.wait(0.01):
                stop.fire("stopped", outer.message)
                thread.join()
                return None

    def end(self) -> None:
        """Stop every daemon (the template that started them ended) and wait for them."""
        with self._lock:
            items, self._items = self._items, []
        for stop, _ in items:
            stop.fire(END, "daemon stopped at the end of its template")
        for _, thread in items:
            thread.join()
