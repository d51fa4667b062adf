"""Where ``{{...}}`` tags occur in an Argo spec, and what a step/task output reference may name.

Shared by the variable rules (``workflow-parameter-ref`` ... ``item-ref``, ``unknown-variable``,
``expression-tag``). A :class:`Site` is one tag inside one string leaf of the spec, together with
the template and the step or task (:class:`~pipeline_ci.argo.walk.Node`) whose scope it is in.

``inline`` templates of steps and tasks have scopes of their own; :func:`template_sites` skips them
(they are rare in pipelines and not checked), :func:`spec_sites` includes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ..findings import Severity
from ..records import NamedTuple
from ..yamldoc import JsonPath
from .walk import Node, argo_string, dag_tasks, spec_body, tags, template_type, templates

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any

# Template types whose node has ``outputs.result`` and ``exitCode`` (Argo's ``Template.HasOutput``).
HAS_OUTPUT = frozenset({"container", "containerSet", "script", "data", "http", "plugin"})
NODE_FIELDS = frozenset({"status", "id", "startedAt", "finishedAt", "hostNodeName", "ip"})
REF = "templateRef"  # callee marker: a Clarifai pipeline step (or any templateRef)
# What a Clarifai pipeline step (a container) is known to produce: the ``result`` output parameter
# convention of the SDK's runners, plus Argo's stdout ``result`` and ``exitCode`` of a container.
CLARIFAI_OUTPUTS = frozenset({"outputs.parameters.result", "outputs.result", "exitCode"})


class Site(NamedTuple):
    """One tag: ``tag`` is the stripped text inside ``{{ }}``, ``path`` the string holding it."""

    path: JsonPath
    text: str
    tag: str
    template_path: JsonPath = ()
    template: dict | None = None
    node: Node | None = None

    def within(self, *keys: Any) -> bool:
        """True when the string lies under ``keys`` relative to the node (or the template without a node)."""
        base = self.node.path if self.node else self.template_path
        return self.path[len(base) : len(base) + len(keys)] == keys


def _strings(value: Any, path: JsonPath, skip_inline: bool) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            if not (skip_inline and k == "inline" and isinstance(v, dict)):
                yield from _strings(v, (*path, k), skip_inline)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*path, i), skip_inline)


def spec_strings(spec: Any) -> Iterator[tuple[JsonPath, str]]:
    """Every string leaf under ``spec`` (the Workflow body), inline templates included."""
    yield from _strings(spec_body(spec), ("spec",), False)


_MEMO: dict[tuple[str, int], tuple[Any, list[Site]]] = {}


def _memo(kind: str, spec: Any, build: Callable[[], list[Site]]) -> list[Site]:
    """Sites computed once per spec object (several rules walk the same spec); keeps the last few specs."""
    hit = _MEMO.get((kind, id(spec)))
    if hit is not None and hit[0] is spec:
        return hit[1]
    if len(_MEMO) > 16:
        _MEMO.clear()
    sites = build()
    _MEMO[(kind, id(spec))] = (spec, sites)
    return sites


def spec_sites(spec: Any) -> list[Site]:
    """Every tag in the Workflow body (no template or node context)."""
    return _memo("spec", spec, lambda: [Site(path, text, tag) for path, text in spec_strings(spec) for tag in tags(text)])


def template_nodes(tpath: JsonPath, tmpl: dict) -> dict[JsonPath, Node]:
    """The steps and tasks of one template by path."""
    out: dict[JsonPath, Node] = {}
    groups = tmpl.get("steps")
    for gi, group in enumerate(groups if isinstance(groups, list) else []):
        for si, step in enumerate(group if isinstance(group, list) else []):
            if isinstance(step, dict):
                out[(*tpath, "steps", gi, si)] = Node((*tpath, "steps", gi, si), step, tpath, tmpl, gi)
    for ki, task in dag_tasks(tmpl):
        out[(*tpath, "dag", "tasks", ki)] = Node((*tpath, "dag", "tasks", ki), task, tpath, tmpl)
    return out


def template_sites(spec: Any) -> list[Site]:
    """Every tag of every template, with the step or task it belongs to (inline templates skipped)."""

    def build() -> list[Site]:
        out = []
        for tpath, tmpl in templates(spec):
            by_path = template_nodes(tpath, tmpl)
            depth = len(tpath) + 3  # (..., "steps", g, i) and (..., "dag", "tasks", k)
            for path, text in _strings(tmpl, tpath, True):
                node = by_path.get(path[:depth])
                out += [Site(path, text, tag, tpath, tmpl, node) for tag in tags(text)]
        return out

    return _memo("templates", spec, build)


def unterminated(text: str) -> int | None:
    """Offset of the first ``{{`` that no ``}}`` closes, or None."""
    pos = 0
    while (start := text.find("{{", pos)) != -1:
        end = text.find("}}", start + 2)
        if end == -1:
            return start
        pos = end + 2
    return None


def has_prefix(tag: str, prefix: str) -> bool:
    """``tag`` is ``prefix`` or starts with ``prefix.``."""
    return tag == prefix or tag.startswith(prefix + ".")


def named_nodes(tpath: JsonPath, tmpl: dict, kind: str) -> dict[str, Node]:
    """The steps (``kind="step"``) or tasks (``"task"``) of a template by name (first wins)."""
    out: dict[str, Node] = {}
    for node in template_nodes(tpath, tmpl).values():
        if node.kind == kind and isinstance(node.name, str):
            out.setdefault(node.name, node)
    return out


def callee(local: dict[str, dict], body: dict) -> dict | str | None:
    """What a step or task calls: a template dict (``local`` = :func:`~.walk.template_map`),
    :data:`REF` for a templateRef, None if unknown."""
    if isinstance(body.get("templateRef"), dict):
        return REF
    name = body.get("template")
    if isinstance(name, str):
        return local.get(name)
    inline = body.get("inline")
    return inline if isinstance(inline, dict) else None


def _output_names(tmpl: dict, kind: str) -> list[str]:
    outputs = tmpl.get("outputs")
    items = outputs.get(kind) if isinstance(outputs, dict) else None
    if not isinstance(items, list):
        return []
    return [p["name"] for p in items if isinstance(p, dict) and isinstance(p.get("name"), str)]


def output_problem(
    tag: str, who: str, attr: str, target: dict | str | None, fans_out: bool
) -> tuple[str, Severity] | None:
    """Why ``attr`` (the part after ``steps.S.`` / ``tasks.T.``) does not resolve for a node calling ``target``.

    ``who`` describes the node (``step 's1'``); ``fans_out`` is true when it loops. Returns
    ``(message, severity)`` or None when the reference is fine or cannot be checked.
    """
    parts = attr.split(".")
    if attr in NODE_FIELDS or target is None:
        return None
    fail = f"failed to resolve {{{{{tag}}}}}"
    if target == REF:
        if attr in CLARIFAI_OUTPUTS or (attr == "outputs.parameters" and fans_out):
            return None
        if parts[0] == "outputs" and len(parts) >= 3 and parts[1] in ("parameters", "artifacts"):
            return (
                f"{{{{{tag}}}}}: {who} calls a Clarifai pipeline step through templateRef, whose only documented "
                f"output is the parameter 'result' (written to the file 'result' in the step's temp directory); "
                f"'{'.'.join(parts[1:])}' cannot be checked",
                "warning",
            )
        return f"{fail}: {who} has no '{attr}'", "error"
    assert isinstance(target, dict)
    kind = template_type(target)
    if kind is None:
        return None
    name = target.get("name")
    callee_desc = f"template '{name}'" if isinstance(name, str) else "its inline template"
    if attr in ("outputs.result", "exitCode"):
        if kind in HAS_OUTPUT:
            return None
        return f"{fail}: {who} calls {callee_desc}, a {kind} template, which has no {attr}", "error"
    if attr == "outputs.parameters":
        if fans_out:
            return None
        return f"{fail}: the JSON list 'outputs.parameters' exists only for a looping step or task", "error"
    if parts[0] == "outputs" and len(parts) >= 3 and parts[1] in ("parameters", "artifacts"):
        declared = _output_names(target, parts[1])
        wanted = ".".join(parts[2:])
        if wanted in declared:
            return None
        noun = "parameter" if parts[1] == "parameters" else "artifact"
        return (
            f"{fail}: {who} calls {callee_desc}, which declares no output {noun} '{wanted}' "
            f"(declared: {', '.join(declared) or 'none'})",
            "error",
        )
    known = "status, id, startedAt, finishedAt, exitCode, outputs.result, outputs.parameters.<name>"
    return f"{fail}: '{attr}' is not a field of {who} (known: {known}, outputs.artifacts.<name>)", "error"


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, else ``""``."""
    import difflib  # only for a hint: not imported by a clean cold lint

    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def declared_names(holder: Any, *keys: str) -> list[str] | None:
    """Parameter names of ``holder[keys].parameters`` (scalars stringified Argo-style); None when malformed."""
    node = holder
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    params = node.get("parameters") if isinstance(node, dict) else None
    if node is not None and not isinstance(node, dict) or params is not None and not isinstance(params, list):
        return None
    out = []
    for param in params or []:
        name = param.get("name") if isinstance(param, dict) else None
        if isinstance(name, str | int | float) and not isinstance(name, bool):
            out.append(argo_string(name))
    return out
