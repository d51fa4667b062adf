"""The dependency graph of a DAG template: who depends on whom, cycles and ancestors.

A task's dependencies come from ``depends`` (parsed with :mod:`pipeline_ci.argo.depends`) and/or
``dependencies`` (a list of task names). An unparsable ``depends`` is read the way Argo's validator
reads it (a regex scan for task names, reference §1.4), so a syntax error reported by one rule does
not make every other rule see a task without dependencies. Malformed shapes are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..yamldoc import JsonPath
from . import depends as dep
from .walk import dag_tasks

_SCAN = re.compile(r"(?<![-\w.])[a-zA-Z0-9][-a-zA-Z0-9]*")


@dataclass(frozen=True)
class Dependency:
    """One reference to another task.

    ``path`` is relative to the task (``("depends",)`` or ``("dependencies", i)``); ``result`` is the
    ``.Result`` suffix of a ``depends`` operand (None for a bare name or a ``dependencies`` entry);
    ``offset`` is the character offset of the name inside the ``depends`` text (0 for ``dependencies``).
    """

    task: str
    result: str | None
    path: JsonPath
    offset: int = 0


def depends_text(task: dict) -> str | None:
    """``task.depends`` when it is a non-blank string."""
    text = task.get("depends")
    return text if isinstance(text, str) and text.strip() else None


def dependency_refs(task: dict) -> list[Dependency]:
    """Every dependency reference of ``task`` in source order (``depends`` first, then ``dependencies``)."""
    out: list[Dependency] = []
    text = depends_text(task)
    if text is not None:
        try:
            out += [Dependency(r.task, r.result, ("depends",), r.offset) for r in dep.references(dep.parse(text))]
        except dep.ExprError:
            words = (m for m in _SCAN.finditer(text) if m.group() not in ("and", "or", "not"))
            out += [Dependency(m.group(), None, ("depends",), m.start()) for m in words]
    names = task.get("dependencies")
    for i, name in enumerate(names if isinstance(names, list) else []):
        if isinstance(name, str):
            out.append(Dependency(name, None, ("dependencies", i)))
    return out


def task_dependencies(task: dict) -> list[str]:
    """The names of the tasks ``task`` depends on, each once, in source order."""
    return list(dict.fromkeys(d.task for d in dependency_refs(task)))


def graph(tmpl: dict) -> dict[str, list[str]]:
    """Task name → names of its dependencies that are tasks of the same DAG (first task wins on duplicates)."""
    bodies: dict[str, dict] = {}
    for _, task in dag_tasks(tmpl):
        name = task.get("name")
        if isinstance(name, str):
            bodies.setdefault(name, task)
    return {name: [d for d in task_dependencies(task) if d in bodies] for name, task in bodies.items()}


def find_cycle(deps: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle as a path that starts and ends with the same task (``[A, B, A]``, ``[A, A]``), or None.

    ``A -> B`` means A depends on B. Tasks are visited in ``deps`` order, so the result is deterministic.
    """
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in deps:
        if state.get(root):
            continue
        path: list[str] = [root]
        state[root] = 1
        stack = [iter(deps.get(root, ()))]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                state[path.pop()] = 2
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif not state.get(child) and child in deps:
                state[child] = 1
                path.append(child)
                stack.append(iter(deps[child]))
    return None


def ancestors(deps: dict[str, list[str]], name: str) -> set[str]:
    """Every task ``name`` depends on, directly or transitively (``name`` itself only through a cycle)."""
    seen: set[str] = set()
    todo = list(deps.get(name, ()))
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(deps.get(current, ()))
    return seen


def loops(task: object) -> bool:
    """True when a step or task fans out, as Argo decides it: a non-empty ``withItems`` or ``withParam``, or a
    ``withSequence``."""
    if not isinstance(task, dict):
        return False
    return bool(task.get("withItems")) or bool(task.get("withParam")) or task.get("withSequence") is not None
