"""Read-only views over an Argo Workflow spec (plain dicts), each item with its JSON path.

Every rule that looks at templates, steps, tasks or ``{{...}}`` tags goes through these
functions, so malformed shapes (a string where a list belongs) are skipped in one place and
reported once, by the type rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..lazyre import lazy_re
from ..records import NamedTuple
from ..yamldoc import JsonPath

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any

NAME_RE = lazy_re(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
PARAM_NAME_RE = lazy_re(r"^[-a-zA-Z0-9_]+$")
TEMPLATE_TYPES = ("container", "containerSet", "steps", "script", "resource", "dag", "suspend", "data", "http", "plugin")
LEAF_TYPES = frozenset(TEMPLATE_TYPES) - {"steps", "dag"}
LOOP_KEYS = ("withItems", "withParam", "withSequence")
TAG_RE = lazy_re(r"\{\{(.*?)\}\}", re.S)


def spec_body(spec: Any) -> dict:
    """``spec.spec`` as a dict ({} when missing or malformed)."""
    body = spec.get("spec") if isinstance(spec, dict) else None
    return body if isinstance(body, dict) else {}


def templates(spec: Any) -> Iterator[tuple[JsonPath, dict]]:
    """``(path, template)`` for every mapping in ``spec.templates``."""
    items = spec_body(spec).get("templates")
    for i, tmpl in enumerate(items if isinstance(items, list) else []):
        if isinstance(tmpl, dict):
            yield ("spec", "templates", i), tmpl


def template_map(spec: Any) -> dict[str, dict]:
    """Templates by name (first wins on duplicates)."""
    out: dict[str, dict] = {}
    for _, tmpl in templates(spec):
        name = tmpl.get("name")
        if isinstance(name, str):
            out.setdefault(name, tmpl)
    return out


def template_type(tmpl: dict) -> str | None:
    """The single template type key, or None when there are none or several."""
    kinds = [k for k in TEMPLATE_TYPES if k in tmpl]
    return kinds[0] if len(kinds) == 1 else None


class Node(NamedTuple):
    """A step (``steps[g][i]``) or DAG task, with where it lives."""

    path: JsonPath
    body: dict
    template_path: JsonPath
    template: dict
    group: int | None = None  # step group index; None for DAG tasks

    @property
    def name(self) -> Any:
        return self.body.get("name")

    @property
    def kind(self) -> str:
        return "step" if self.group is not None else "task"


def steps(spec: Any) -> Iterator[Node]:
    """Every step mapping of every ``steps`` template."""
    for tpath, tmpl in templates(spec):
        groups = tmpl.get("steps")
        for gi, group in enumerate(groups if isinstance(groups, list) else []):
            for si, step in enumerate(group if isinstance(group, list) else []):
                if isinstance(step, dict):
                    yield Node((*tpath, "steps", gi, si), step, tpath, tmpl, gi)


def dag_tasks(tmpl: dict) -> list[tuple[int, dict]]:
    dag = tmpl.get("dag")
    tasks = dag.get("tasks") if isinstance(dag, dict) else None
    return [(i, t) for i, t in enumerate(tasks if isinstance(tasks, list) else []) if isinstance(t, dict)]


def tasks(spec: Any) -> Iterator[Node]:
    """Every task mapping of every ``dag`` template."""
    for tpath, tmpl in templates(spec):
        for ki, task in dag_tasks(tmpl):
            yield Node((*tpath, "dag", "tasks", ki), task, tpath, tmpl)


def nodes(spec: Any) -> Iterator[Node]:
    """Steps, then tasks."""
    yield from steps(spec)
    yield from tasks(spec)


def parameters(holder: Any, *keys: str) -> Iterator[tuple[tuple, dict]]:
    """``(relative path, parameter)`` of ``holder[keys...].parameters`` list entries that are mappings."""
    node = holder
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    params = node.get("parameters") if isinstance(node, dict) else None
    for i, param in enumerate(params if isinstance(params, list) else []):
        if isinstance(param, dict):
            yield (*keys, "parameters", i), param


def strings(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str]]:
    """Every string leaf under ``value`` with its path (relative to ``value``)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from strings(v, (*path, i))


def tags(text: str) -> Iterator[str]:
    """The stripped contents of every ``{{ ... }}`` tag in ``text``."""
    for match in TAG_RE.finditer(text):
        yield match.group(1).strip()


def argo_string(value: Any) -> str:
    """A YAML scalar as Argo stringifies AnyString values (``true`` not ``True``, ``1.0`` → ``1``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)
