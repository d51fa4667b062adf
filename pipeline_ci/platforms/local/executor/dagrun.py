"""DAG templates for the local executor (Argo docs ``walk-through/dag/`` and ``enhanced-depends-logic/``;
``workflow/controller/dag.go`` in argoproj/argo-workflows).

A task is ready once every dependency is fulfilled (completed, Skipped or Omitted). Its ``depends``
expression (or ``dependencies`` list, read as ``A && B``) is then evaluated with
:func:`pipeline_ci.argo.depends.evaluate`: false -> Omitted; true -> the task runs (its ``when`` may
still skip it). Ready tasks start at once, each on its own thread; leaves are capped by the engine's
slots (the
DAG depends on the engine only through :class:`.host.Scheduling`, as :mod:`.steps` does).

After a failure every task whose dependencies are fulfilled is still evaluated and started (or Omitted),
whatever ``failFast`` says: that is what Argo's controller does (``failFast`` has had no effect since
v3.4, argoproj/argo-workflows issues #10312 and #5223), and it makes the record independent of timing:
``depends: B.Failed && C`` runs whichever of B and C ends first, and a task whose ``depends`` cannot hold
any more is Omitted. A task's hooks run right after it, before its dependents start (:mod:`.hooks`).

Only the targets and their ancestors run. The targets are ``dag.target`` (space or comma separated)
or else the leaf tasks. A target's
branch phase is its own phase when it ran, else (Skipped/Omitted) the phase inherited from its
dependencies, an untolerated Failed/Error first. The DAG fails with the first target whose branch
phase is a failure not tolerated by ``continueOn`` (its message says "target" only for a ``dag.target``).
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ....argo import depends as dep
from ....argo.dag import DagIndex, depends_text, find_cycle, with_ancestors
from .hooks import step_hooks
from .host import Scheduling
from .model import COMPLETED, ERROR, FAILED, FAILURES, OMITTED, SUCCEEDED, Callee, Frame, NodeRecord, NodeResult
from .scope import continues_on, publish


def _continue_on(task: dict) -> frozenset[str]:
    cont = task.get("continueOn")
    return frozenset(k for k in ("failed", "error") if isinstance(cont, dict) and cont.get(k))


def _state(task: dict, res: NodeResult) -> dep.TaskState:
    children = [c.phase for c in res.children] if res.children is not None else None
    return dep.TaskState(res.phase, children=children, continue_on=_continue_on(task))


class _DagRun:
    def __init__(self, host: Scheduling, body: dict, scope: dict[str, str], rec: NodeRecord, frame: Frame):
        self.host, self.body, self.rec, self.frame = host, body, rec, frame
        self.local = dict(scope)
        index = DagIndex.build((), body)
        self.tasks: dict[str, dict] = index.by_name  # the first task of each name
        self.deps = index.deps
        self.exprs: dict[str, Any] = {}
        self.results: dict[str, NodeResult] = {}
        self.running: set[str] = set()
        self.cond = threading.Condition()

    def prepare(self) -> str | None:
        """Parse every task's dependencies; a problem that makes the DAG unrunnable is returned."""
        if not self.tasks:
            return "must have at least one task"
        for name, task in self.tasks.items():
            text = depends_text(task)
            names = task.get("dependencies")
            if text is None and isinstance(names, list) and names:
                text = dep.from_dependencies([str(n) for n in names])
            try:
                self.exprs[name] = dep.parse(text) if text else None
            except dep.ExprError as exc:
                self.exprs[name] = exc
                continue
            for ref in dep.references(self.exprs[name]) if self.exprs[name] else ():
                if ref.task not in self.tasks:
                    return f"sorting failed: invalid dependency {ref.task}"
        cycle = find_cycle(self.deps)
        if cycle:
            return f"sorting failed: graph with cycle {' -> '.join(cycle)}"
        return None

    def record(self, name: str, res: NodeResult) -> None:
        """Store a finished task (caller holds ``cond``)."""
        self.results[name] = res
        publish(self.local, "tasks", name, res)

    def work(self, name: str, snapshot: dict[str, str]) -> None:
        try:
            res = self.host.run_call(self.tasks[name], snapshot, f"{self.rec.path}.{name}", self.frame)
            if step_hooks(self.tasks[name]):
                with self.cond:
                    seen = dict(self.local)
                publish(seen, "tasks", name, res)
                self.host.run_hooks(self.tasks[name], {**seen, **self.host.globals()}, "tasks", res,
                                    f"{self.rec.path}.{name}", self.frame)
        except Exception as exc:  # an engine bug must not hang the DAG
            res = NodeResult(ERROR, f"internal error: {exc!r}")
        with self.cond:
            self.record(name, res)
            self.running.discard(name)
            self.cond.notify_all()

    def start_ready(self, pending: list[str]) -> None:
        """Start (or omit) every task whose dependencies are fulfilled (caller holds ``cond``)."""
        progressed = True
        while progressed and not self.frame.stop.is_set():
            progressed = False
            for name in list(pending):
                if not all(d in self.results for d in self.deps[name]):
                    continue
                pending.remove(name)
                progressed = True
                path, expr = f"{self.rec.path}.{name}", self.exprs[name]
                try:
                    if isinstance(expr, dep.ExprError):
                        raise expr
                    states = {d: _state(self.tasks[d], self.results[d]) for d in self.deps[name]}
                    go = expr is None or dep.evaluate(expr, states)
                except dep.ExprError as exc:
                    self.record(name, self.host.error_node(name, path, self.frame, "", f"depends: {exc.message}"))
                    continue
                if not go:
                    callee = self._callee(name)
                    res = self.host.skipped(callee, name, path, self.frame, OMITTED,
                                              "omitted: depends condition not met")
                    self.record(name, res)
                    continue
                self.running.add(name)
                snapshot = {**self.local, **self.host.globals()}
                threading.Thread(target=self.work, args=(name, snapshot), daemon=True).start()

    def _callee(self, name: str) -> Callee | None:
        try:
            return self.host.callee(self.tasks[name])
        except Exception:
            return None

    def run(self) -> tuple[str, str, dict[str, str]]:
        problem = self.prepare()
        targets = self.targets()
        if problem or isinstance(targets, str):
            return ERROR, problem or str(targets), self.local
        needed = with_ancestors(self.deps, targets)
        pending = [name for name in self.tasks if name in needed]  # with dag.target: targets and their ancestors
        with self.cond:
            while True:
                self.start_ready(pending)
                if not self.running:
                    break
                self.cond.wait()
        if self.frame.stop.is_set() and (pending or any(r.phase in FAILURES for r in self.results.values())):
            return FAILED, self.frame.stop.message, self.local
        return (*self.outcome(), self.local)

    def named_target(self) -> str | None:
        """``dag.target`` when it names tasks; None: the leaf tasks stand for the targets."""
        raw = (self.body.get("dag") or {}).get("target")
        return raw.strip() if isinstance(raw, str) and raw.strip() else None

    def targets(self) -> list[str] | str:
        if raw := self.named_target():
            names = [n for n in re.split(r"[\s,]+", raw) if n]
            unknown = [n for n in names if n not in self.tasks]
            return f"target '{unknown[0]}' is not defined" if unknown else names
        used = {d for deps in self.deps.values() for d in deps}
        return [n for n in self.tasks if n not in used]

    def branch(self, name: str, seen: dict[str, tuple[str, bool, str]]) -> tuple[str, bool, str]:
        """(phase, tolerated, the task it comes from) of the branch ending in ``name``."""
        if name in seen:
            return seen[name]
        res = self.results.get(name)
        out: tuple[str, bool, str]
        if res is None:
            out = (SUCCEEDED, True, name)
        elif res.phase in COMPLETED:
            out = (res.phase, res.phase == SUCCEEDED or continues_on(self.tasks[name], res.phase), name)
        else:
            inherited = [self.branch(d, seen) for d in self.deps[name]]
            failures = [b for b in inherited if b[0] in FAILURES]
            out = next((b for b in failures if not b[1]), failures[0] if failures else (SUCCEEDED, True, name))
        seen[name] = out
        return out

    def outcome(self) -> tuple[str, str]:
        targets = self.targets()
        if isinstance(targets, str):
            return ERROR, targets
        seen: dict[str, tuple[str, bool, str]] = {}
        named = self.named_target() is not None
        for name in targets:
            phase, tolerated, origin = self.branch(name, seen)
            if phase in FAILURES and not tolerated:
                if origin == name or name not in self.results:
                    return phase, f"{'target' if named else 'task'} '{name}' {phase}"
                kind = "target" if named else "leaf task"
                return phase, f"task '{origin}' {phase} ({kind} '{name}' {self.results[name].phase})"
        return SUCCEEDED, ""


def run_dag(host: Scheduling, body: dict, scope: dict[str, str], rec: NodeRecord, frame: Frame
            ) -> tuple[str, str, dict[str, str]]:
    """Run a (template-level substituted) DAG template; returns phase, message and the final scope.
    A peer of :func:`.steps.run_steps`: both depend only on a :class:`.host.Scheduling` host."""
    return _DagRun(host, body, scope, rec, frame).run()
