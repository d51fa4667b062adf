"""Pictures of a pipeline for GitHub job summaries and READMEs, as Mermaid text (GitHub renders fenced
``mermaid`` blocks, see https://docs.github.com/en/get-started/writing-on-github/working-with-advanced-formatting/creating-diagrams).

- :func:`spec_flowchart`: the Argo spec as a ``flowchart``: one node per step or DAG task of the entrypoint,
  an edge per dependency (a DAG task's ``depends``/``dependencies``, or "every step of the previous group"
  for a ``steps`` template), local composite templates drawn as subgraphs, the ``onExit`` handler as a
  dotted edge; the steps in ``highlight`` (Clarifai step ids, or task names) get the ``changed`` class.
- :func:`run_gantt`: the leaf nodes of a run (local run record, or an Argo workflow status from the platform)
  as a ``gantt`` chart: one bar per node from its start to its end, labelled with its phase and duration.
- :func:`layers_text`: the flowchart for a terminal, one line per node in dependency order.

Node ids are generated (``n0``, ``n1`` …); every label goes through :func:`label`, so a user's names can
neither break the diagram's syntax nor inject Markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..argo.dag import task_dependencies
from ..argo.walk import dag_tasks, spec_body, template_map
from ..textsafe import escape_controls

MAX_DEPTH = 8  # nested composite templates drawn as subgraphs, deeper ones as plain nodes
_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;"}


def label(text: str) -> str:
    """``text`` as the inside of a quoted Mermaid label: entity codes for the syntax characters, control
    characters shown escaped, one line."""
    flat = " ".join(escape_controls(text).split())
    return "".join(_ENTITIES.get(ch, ch) for ch in flat)


def fenced(diagram: str) -> str:
    """A Markdown ``mermaid`` code block (the labels hold no backticks, see :func:`label`)."""
    return f"```mermaid\n{diagram}```\n"


@dataclass
class GraphNode:
    id: str
    name: str
    step: str | None  # the Clarifai step id of a templateRef, else None
    children: list[GraphNode] = field(default_factory=list)  # a composite template drawn as a subgraph
    exit_handler: bool = False


@dataclass
class Graph:
    nodes: list[GraphNode] = field(default_factory=list)  # top level, in source order
    edges: list[tuple[str, str]] = field(default_factory=list)
    exit_edges: list[tuple[str, str]] = field(default_factory=list)

    def all_nodes(self) -> list[GraphNode]:
        out: list[GraphNode] = []
        stack = list(reversed(self.nodes))
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out


def _step_id(body: dict) -> str | None:
    ref = body.get("templateRef")
    if not isinstance(ref, dict):
        return None
    name, template = ref.get("name"), ref.get("template")
    if isinstance(name, str) and "/pipeline_steps/" in name:
        return name.split("/pipeline_steps/", 1)[1].split("/", 1)[0]
    return template if isinstance(template, str) else None


def build_graph(spec: Any) -> Graph:
    """The entrypoint of ``spec`` as nodes and edges (malformed parts are left out; lint reports them)."""
    graph = Graph()
    templates = template_map(spec)
    counter = iter(range(1_000_000))

    def expand(tmpl: dict, into: list[GraphNode], depth: int, seen: frozenset[str]) -> list[str]:
        """Add the nodes of composite ``tmpl`` to ``into``; return the ids of its last nodes."""
        names: dict[str, str] = {}
        groups = tmpl.get("steps")
        if isinstance(groups, list):
            previous: list[str] = []
            for group in groups:
                current = []
                for body in group if isinstance(group, list) else []:
                    if isinstance(body, dict):
                        node = add(body, into, depth, seen)
                        current.append(node.id)
                        graph.edges.extend((p, node.id) for p in previous)
                previous = current or previous
            return previous
        tasks = dag_tasks(tmpl)
        bodies = [(add(task, into, depth, seen), task) for _, task in tasks]
        for node, _ in bodies:
            names.setdefault(node.name, node.id)
        has_dependents: set[str] = set()
        for node, task in bodies:
            for dep in task_dependencies(task):
                if dep in names:
                    graph.edges.append((names[dep], node.id))
                    has_dependents.add(names[dep])
        return [node.id for node, _ in bodies if node.id not in has_dependents]

    def add(body: dict, into: list[GraphNode], depth: int, seen: frozenset[str]) -> GraphNode:
        name = body.get("name")
        node = GraphNode(f"n{next(counter)}", name if isinstance(name, str) else "?", _step_id(body))
        into.append(node)
        target = body.get("template")
        tmpl = templates.get(target) if isinstance(target, str) else None
        if tmpl is not None and depth < MAX_DEPTH and target not in seen and ("steps" in tmpl or "dag" in tmpl):
            expand(tmpl, node.children, depth + 1, seen | {str(target)})
        return node

    body = spec_body(spec)
    entry = body.get("entrypoint")
    root = templates.get(entry) if isinstance(entry, str) else None
    if root is None:
        return graph
    if "steps" in root or "dag" in root:
        last = expand(root, graph.nodes, 0, frozenset({str(entry)}))
    else:
        node = GraphNode(f"n{next(counter)}", str(entry), None)
        graph.nodes.append(node)
        last = [node.id]
    handler = body.get("onExit")
    if isinstance(handler, str) and handler:
        node = GraphNode(f"n{next(counter)}", f"onExit: {handler}", None, exit_handler=True)
        exit_tmpl = templates.get(handler)
        if exit_tmpl is not None and ("steps" in exit_tmpl or "dag" in exit_tmpl):
            expand(exit_tmpl, node.children, 1, frozenset({handler}))
        graph.nodes.append(node)
        graph.exit_edges.extend((i, node.id) for i in last)
    return graph


def marked(node: GraphNode, highlight: Collection[str]) -> bool:
    """Whether ``node`` is one of ``highlight`` (Clarifai step ids or task names)."""
    return node.step in highlight or node.name in highlight


def spec_flowchart(spec: Any, highlight: Collection[str] = ()) -> str:
    """Mermaid ``flowchart TD`` of ``spec``; nodes whose step id (or name) is in ``highlight`` are classed
    ``changed``."""
    graph = build_graph(spec)
    lines = ["flowchart TD"]
    chosen: list[str] = []

    def draw(nodes: list[GraphNode], indent: str) -> None:
        for node in nodes:
            text = node.name if node.step in (None, node.name) else f"{node.name} ({node.step})"
            if node.children:
                lines.append(f'{indent}subgraph {node.id}["{label(text)}"]')
                draw(node.children, indent + "  ")
                lines.append(f"{indent}end")
            else:
                lines.append(f'{indent}{node.id}["{label(text)}"]')
            if marked(node, highlight):
                chosen.append(node.id)

    draw(graph.nodes, "  ")
    lines += [f"  {a} --> {b}" for a, b in graph.edges]
    lines += [f"  {a} -.-> {b}" for a, b in graph.exit_edges]
    if chosen:
        lines.append("  classDef changed fill:#fff3b0,stroke:#d4a000,stroke-width:2px")
        lines.append(f"  class {','.join(chosen)} changed")
    return "\n".join(lines) + "\n"


def layers_text(spec: Any, highlight: Collection[str] = ()) -> str:
    """The flowchart for a terminal: one line per node, indented by nesting, with what it waits for."""
    graph = build_graph(spec)
    names = {n.id: n.name for n in graph.all_nodes()}
    preds: dict[str, list[str]] = {}
    for a, b in [*graph.edges, *graph.exit_edges]:
        preds.setdefault(b, []).append(names[a])
    lines: list[str] = []

    def draw(nodes: list[GraphNode], depth: int) -> None:
        for node in nodes:
            step = "" if node.step in (None, node.name) else f" ({node.step})"
            mark = " *changed*" if marked(node, highlight) else ""
            after = f"  after {', '.join(preds[node.id])}" if node.id in preds else ""
            lines.append(escape_controls(f"{'  ' * depth}{node.name}{step}{mark}{after}"))
            draw(node.children, depth + 1)

    draw(graph.nodes, 0)
    return "\n".join(lines) + ("\n" if lines else "")


@dataclass(frozen=True)
class Bar:
    """One leaf node of a run: name, phase, start and end (seconds since the epoch)."""

    name: str
    phase: str
    started: float
    finished: float


_TAGS = {"Succeeded": "done", "Failed": "crit", "Error": "crit", "Running": "active"}


_GANTT = str.maketrans({":": "\ua789", ";": ",", "#": "\u266f", "%": "\uff05", "`": "\u02cb"})


def gantt_name(text: str) -> str:
    """A gantt task name that cannot be read as syntax: look-alikes for ``:`` (it ends the name), ``;`` and ``#``
    (entity syntax), ``%`` (comments) and backticks (a Markdown fence), and a leading ``▸`` so that no name starts
    like a keyword (``section``, ``title``, ``click``, a date...)."""
    flat = " ".join(escape_controls(text).split())
    return "\u25b8 " + (flat.translate(_GANTT) or "?")


def gantt_title(text: str) -> str:
    return " ".join(escape_controls(text).split()).translate(_GANTT)


def run_gantt(title: str, bars: Iterable[Bar]) -> str:
    """Mermaid ``gantt`` of a run's leaf nodes; times in milliseconds since the epoch (``dateFormat x``)."""
    lines = ["gantt", f"  title {gantt_title(title)}", "  dateFormat x", "  axisFormat %H:%M:%S", "  section nodes"]
    for i, bar in enumerate(sorted(bars, key=lambda b: (b.started, b.name))):
        took = max(0.0, bar.finished - bar.started)
        tag = _TAGS.get(bar.phase)
        meta = ", ".join([*([tag] if tag else []), f"b{i}", str(int(bar.started * 1000)),
                          str(int(max(bar.finished, bar.started + 0.001) * 1000))])
        lines.append(f"  {gantt_name(bar.name)} ({bar.phase} {took:.1f}s) :{meta}")
    return "\n".join(lines) + "\n"


def _epoch(text: Any) -> float | None:
    """An RFC 3339 time (``2026-01-02T03:04:05.678Z``) as seconds since the epoch; None when absent or malformed."""
    from datetime import datetime

    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def record_bars(nodes: Iterable[dict]) -> list[Bar]:
    """The pod nodes of a local run record (``record.json``'s ``nodes``) that started."""
    out: list[Bar] = []
    for node in nodes:
        start = _epoch(node.get("started_at"))
        if node.get("type") == "Pod" and start is not None:
            out.append(Bar(str(node.get("name") or "?"), str(node.get("phase") or "?"), start,
                           _epoch(node.get("finished_at")) or start))
    return out


def argo_status_bars(status: Any) -> list[Bar]:
    """The pod nodes of an Argo workflow ``status`` (as the platform reports it: ``nodes`` keyed by id, each with
    ``displayName``, ``type``, ``phase``, ``startedAt``, ``finishedAt`` in RFC 3339)."""
    nodes = status.get("nodes") if isinstance(status, dict) else None
    out: list[Bar] = []
    for node in (nodes.values() if isinstance(nodes, dict) else []):
        if not isinstance(node, dict) or node.get("type") != "Pod":
            continue
        start = _epoch(node.get("startedAt"))
        if start is None:
            continue
        end = _epoch(node.get("finishedAt")) or start
        out.append(Bar(str(node.get("displayName") or node.get("name") or "?"), str(node.get("phase") or "?"), start, end))
    return out
