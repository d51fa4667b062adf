"""The dependency graph of a DAG template: who depends on whom, cycles and ancestors.

A task's dependencies come from ``depends`` (parsed with :mod:`pipeline_ci.argo.depends`) and/or
``dependencies`` (a list of task names). An unparsable ``depends`` is read the way Argo's validator
reads it (a regex scan for task names, ``workflow/common/ancestry.go`` in argoproj/argo-workflows), so a
syntax error reported by one rule does not make every other rule see a task without dependencies.
Malformed shapes are skipped.

Everything here is linear in the size of the DAG (tasks plus dependency references), so a spec with
thousands of tasks and hundreds of dependencies each lints in about a second: :func:`index` parses
each task's dependencies once per spec and shares the result between rules, :func:`cycles` finds all
disjoint cycles in one depth-first search, and :func:`ancestor_pairs` answers "is T an ancestor of X"
for a batch of pairs with one pass over the strongly connected components (bit sets over the queried
targets) instead of one graph search per task.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from functools import cached_property

from ..lazyre import lazy_re
from ..records import NamedTuple
from ..yamldoc import JsonPath
from . import depends as dep
from .walk import dag_tasks, templates

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    K = TypeVar("K", bound=Hashable)
_SCAN = lazy_re(r"(?<![-\w.])[a-zA-Z0-9][-a-zA-Z0-9]*")


class Dependency(NamedTuple):
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
            out += [Dependency(r.task, r.result, ("depends",), r.offset) for r in dep.operands(text)]
        except dep.ExprError:
            words = (m for m in _SCAN.finditer(text) if m.group() not in ("and", "or", "not"))
            out += [Dependency(m.group(), None, ("depends",), m.start()) for m in words]
    names = task.get("dependencies")
    for i, name in enumerate(names if isinstance(names, list) else []):
        if isinstance(name, str):
            out.append(Dependency(name, None, ("dependencies", i)))
    return out


def _dependency_names(task: dict) -> tuple[list[str], dep.ExprError | None]:
    """``[d.task for d in dependency_refs(task)]`` (strings only: cheap for a task with hundreds of
    dependencies) and the syntax error of ``depends`` (None when it parses or is absent)."""
    out: list[str] = []
    error: dep.ExprError | None = None
    text = depends_text(task)
    if text is not None:
        try:
            out += dep.task_names(text)
        except dep.ExprError as exc:
            error = exc
            out += [m.group() for m in _SCAN.finditer(text) if m.group() not in ("and", "or", "not")]
    names = task.get("dependencies")
    if isinstance(names, list):
        out += [name for name in names if isinstance(name, str)]
    return out, error


def task_dependencies(task: dict) -> list[str]:
    """The names of the tasks ``task`` depends on, each once, in source order."""
    return list(dict.fromkeys(_dependency_names(task)[0]))


def graph(tmpl: dict) -> dict[str, list[str]]:
    """Task name → names of its dependencies that are tasks of the same DAG (first task wins on duplicates)."""
    return DagIndex.build((), tmpl).deps


class DagIndex:
    """One DAG template with its dependencies parsed once: what the DAG rules share.

    ``tasks`` are ``(index, task)`` as :func:`~.walk.dag_tasks` gives them; ``by_name`` / ``first_index``
    hold the first task of each name; ``names`` and ``errors`` are the dependency names (as in
    :func:`dependency_refs`) and the ``depends`` syntax error by task index; ``deps`` is :func:`graph`.
    The full references (with results and positions) are built on demand by :meth:`refs`.
    """

    # a plain class, not a dataclass: creating dataclasses is a tenth of a cold lint (see pipeline_ci.records)
    def __init__(self, path: JsonPath, template: dict, tasks: list[tuple[int, dict]]):
        self.path = path
        self.template = template
        self.tasks = tasks
        self.by_name: dict[str, dict] = {}
        self.first_index: dict[str, int] = {}
        self.names: dict[int, list[str]] = {}
        self.errors: dict[int, dep.ExprError] = {}
        self.deps: dict[str, list[str]] = {}

    @classmethod
    def build(cls, path: JsonPath, tmpl: dict) -> DagIndex:
        out = cls(path, tmpl, dag_tasks(tmpl))
        for i, task in out.tasks:
            name = task.get("name")
            if isinstance(name, str) and name not in out.by_name:
                out.by_name[name] = task
                out.first_index[name] = i
            out.names[i], error = _dependency_names(task)
            if error is not None:
                out.errors[i] = error
        for name, i in out.first_index.items():
            out.deps[name] = [d for d in dict.fromkeys(out.names[i]) if d in out.by_name]
        return out

    def refs(self, i: int) -> list[Dependency]:
        """:func:`dependency_refs` of the task at index ``i``."""
        return dependency_refs(self.tasks_by_index[i])

    @cached_property
    def tasks_by_index(self) -> dict[int, dict]:
        return dict(self.tasks)


_MEMO: dict[int, tuple[Any, dict[JsonPath, DagIndex]]] = {}


def index(spec: Any) -> dict[JsonPath, DagIndex]:
    """A :class:`DagIndex` for every DAG template of ``spec`` by template path, built once per spec object
    (every DAG rule reads the same spec; the last few specs are kept)."""
    hit = _MEMO.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    if len(_MEMO) >= 4:
        _MEMO.clear()
    out = {tpath: DagIndex.build(tpath, tmpl) for tpath, tmpl in templates(spec) if isinstance(tmpl.get("dag"), dict)}
    _MEMO[id(spec)] = (spec, out)
    return out


def find_cycle(deps: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle as a path that starts and ends with the same task (``[A, B, A]``, ``[A, A]``), or None.

    ``A -> B`` means A depends on B. Tasks are visited in ``deps`` order, so the result is deterministic.
    """
    return next(cycles(deps), None)


def cycles(deps: dict[K, list[K]]) -> Iterator[list[K]]:
    """Node-disjoint dependency cycles, each as :func:`find_cycle` gives it, in one linear pass.

    The same cycles as calling :func:`find_cycle`, dropping the cycle's nodes from the graph and calling it
    again until none is left; but a node found to reach no cycle is never searched again and the search
    resumes where it found the cycle, so the whole run is O(nodes + edges) instead of O(cycles × edges).
    """
    state: dict[K, int] = {}  # 1 = on the current path, 2 = done (reaches no cycle), 3 = dropped (on a cycle)
    for root in deps:
        if state.get(root):
            continue
        path: list[K] = [root]
        state[root] = 1
        stack = [iter(deps.get(root, ()))]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                state[path.pop()] = 2
                continue
            seen = state.get(child)
            if seen == 1:
                start = path.index(child)
                yield [*path[start:], child]
                for name in path[start:]:
                    state[name] = 3
                del path[start:], stack[start:]
            elif not seen and child in deps:
                state[child] = 1
                path.append(child)
                stack.append(iter(deps[child]))


def ancestors(deps: dict[str, list[str]], name: str) -> set[str]:
    """Every task ``name`` depends on, directly or transitively (``name`` itself only through a cycle)."""
    return _reached(deps, [name])


def with_ancestors(deps: dict[str, list[str]], names: list[str]) -> set[str]:
    """``names`` and every task they depend on (what a DAG ``target`` runs): one walk from all of them."""
    return set(names) | _reached(deps, names)


def _reached(deps: dict[str, list[str]], names: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = [dep for name in names for dep in deps.get(name, ())]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(deps.get(current, ()))
    return seen


MAX_BITS = 1 << 24  # bits held at once by ancestor_pairs (components × targets of one round): 2 MiB


def ancestor_pairs(deps: dict[str, list[str]], pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The ``(task, other)`` of ``pairs`` where ``other in ancestors(deps, task)``, in O(tasks + edges) per
    round of up to ``MAX_BITS // components`` distinct non-direct targets.

    A direct dependency answers at once. The rest are answered on the condensation of the graph (its strongly
    connected components, found with Tarjan's algorithm in reverse topological order): each component gets
    the set of queried targets it reaches, as an integer bit set built from those of its dependencies.
    """
    direct: dict[str, set[str]] = {}
    out: set[tuple[str, str]] = set()
    rest: list[tuple[str, str]] = []
    for task, other in dict.fromkeys(pairs):
        if task not in deps:
            continue
        if task not in direct:
            direct[task] = set(deps[task])
        if other in direct[task]:
            out.add((task, other))
        else:
            rest.append((task, other))
    if not rest:
        return out
    comp, order = _components(deps)
    looped = [len(members) > 1 or members[0] in deps.get(members[0], ()) for members in order]
    targets = list(dict.fromkeys(other for _, other in rest if other in comp))  # the others are reached by none
    per_round = max(1, MAX_BITS // len(order))
    for start in range(0, len(targets), per_round):
        bit = {t: 1 << i for i, t in enumerate(targets[start : start + per_round])}
        reach = _reach(deps, comp, order, looped, bit)
        out.update((task, other) for task, other in rest if other in bit and reach[comp[task]] & bit[other])
    return out


def _reach(deps: dict[str, list[str]], comp: dict[str, int], order: list[list[str]], looped: list[bool],
           bit: dict[str, int]) -> list[int]:
    """Per component (in ``order``, dependencies first): the bits of the targets in ``bit`` it reaches."""
    own = [0] * len(order)
    for t, b in bit.items():
        own[comp[t]] |= b
    reach = [0] * len(order)
    for c, members in enumerate(order):
        acc = own[c] if looped[c] else 0
        for name in members:
            for d in deps.get(name, ()):
                k = comp[d]
                if k != c:
                    acc |= reach[k] | own[k]
        reach[c] = acc
    return reach


def _components(deps: dict[str, list[str]]) -> tuple[dict[str, int], list[list[str]]]:
    """Strongly connected components (iterative Tarjan): node → component number, and the components'
    members in reverse topological order (a component comes after every component it depends on)."""
    number: dict[str, int] = {}
    low: dict[str, int] = {}
    comp: dict[str, int] = {}
    order: list[list[str]] = []
    on_stack: list[str] = []
    for root in deps:
        if root in number:
            continue
        number[root] = low[root] = len(number)
        on_stack.append(root)
        work: list[tuple[str, Iterator[str]]] = [(root, iter(deps[root]))]
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in number:
                    number[child] = low[child] = len(number)
                    on_stack.append(child)
                    work.append((child, iter(deps.get(child, ()))))
                elif child not in comp:  # on the stack
                    low[node] = min(low[node], number[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == number[node]:
                members: list[str] = []
                while True:
                    member = on_stack.pop()
                    comp[member] = len(order)
                    members.append(member)
                    if member == node:
                        break
                order.append(members)
    return comp, order


def loops(task: object) -> bool:
    """True when a step or task fans out, as Argo decides it: a non-empty ``withItems`` or ``withParam``, or a
    ``withSequence``."""
    if not isinstance(task, dict):
        return False
    return bool(task.get("withItems")) or bool(task.get("withParam")) or task.get("withSequence") is not None
