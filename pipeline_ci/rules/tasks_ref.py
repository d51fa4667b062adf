"""``{{tasks.T.…}}`` inside a DAG task names an ancestor of that task, and an output T has.

A DAG task runs as soon as its dependencies (``depends`` / ``dependencies``) are done, so it can
only use ``{{tasks.T.…}}`` of tasks it depends on, directly or transitively. Argo checks this only
for argument values that start with ``{{tasks.`` (gist ``missing dependency 'B' for parameter
'x'``); a reference in ``when``, ``withParam`` or inside a longer value passes ``argo lint`` and
then fails or races at run time. This rule checks every reference in a task, plus references to
unknown tasks and references outside a DAG template. The template's ``outputs`` may name any task.

Output names are checked as for ``steps-ref``: ``tasks.T.outputs.parameters.P`` must be declared by
the local template T calls; a Clarifai pipeline step (a ``templateRef``) documents only the
output parameter ``result``, so other names get a warning.

Passing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata:
      generateName: p-
    spec:
      entrypoint: main
      arguments:
        parameters:
        - name: input_text
          value: hi
      templates:
      - name: main
        dag:
          tasks:
          - name: a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
          - name: b
            depends: a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepB
              template: users/u1/apps/a1/pipeline_steps/stepB
            arguments:
              parameters:
              - name: input_text
                value: "{{tasks.a.outputs.parameters.result}}"

Failing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata:
      generateName: p-
    spec:
      entrypoint: main
      arguments:
        parameters:
        - name: input_text
          value: hi
      templates:
      - name: main
        dag:
          tasks:
          - name: a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
          - name: b
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepB
              template: users/u1/apps/a1/pipeline_steps/stepB
            arguments:
              parameters:
              - name: input_text
                value: "{{tasks.a.outputs.parameters.result}}"  # <-- b does not depend on a
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.dag import ancestor_pairs, index, loops
from ..argo.variables import Site, callee, has_prefix, named_nodes, output_problem, template_sites
from ..argo.walk import Node, template_map
from ..findings import Severity
from ..yamldoc import JsonPath
from .base import ClarifaiContext, Hit, at
from .common import Hints

ID = "A31"
NAME = "tasks-ref"
SEVERITY = "error"
TARGET = "clarifai"


def _argument_name(site: Site) -> str | None:
    """The parameter name when the tag sits in ``arguments.parameters[i].value`` of its task."""
    if site.node is None:
        return None
    rel = site.path[len(site.node.path) :]
    if len(rel) != 4 or rel[:2] != ("arguments", "parameters") or rel[3] != "value":
        return None
    params = site.node.body["arguments"]["parameters"]
    name = params[rel[2]].get("name")
    return name if isinstance(name, str) else None


class _Dag:
    """Tasks by name of one DAG template and the answers to "is T an ancestor of X" its sites ask."""

    def __init__(self, site: Site, spec: object) -> None:
        tmpl = site.template or {}
        self.names = named_nodes(site.template_path, tmpl, "task")
        dag = index(spec).get(site.template_path)
        self.deps = dag.deps if dag else {}
        self.pairs: list[tuple[str, str]] = []
        self.known: set[tuple[str, str]] | None = None

    def is_ancestor(self, target: str, of: str) -> bool:
        if self.known is None:  # every pair was collected up front, so one batch answers them all
            self.known = ancestor_pairs(self.deps, self.pairs)
        return (of, target) in self.known


def _order_problem(site: Site, target: Node, dag: _Dag, fail: str) -> str | None:
    node = site.node
    if node is None or not isinstance(node.name, str):
        return None  # template-level strings (outputs) may name any task
    if target.path == node.path:
        return None if site.within("hooks") else f"{fail}: task '{node.name}' refers to itself (only its hooks may)"
    if dag.is_ancestor(target.name, node.name):
        return None
    param = _argument_name(site)
    gist = f" (Argo: missing dependency '{target.name}' for parameter '{param}')" if param else ""
    return (
        f"{fail}: task '{target.name}' is not an ancestor of task '{node.name}'; add it to "
        f"'{node.name}'s depends/dependencies{gist}"
    )


def _dag_of(site: Site, spec: object, dags: dict[JsonPath, _Dag]) -> _Dag | None:
    """The DAG a ``tasks.*`` tag lives in (built on first use), None outside DAG templates."""
    if not isinstance((site.template or {}).get("dag"), dict):
        return None
    if site.template_path not in dags:
        dags[site.template_path] = _Dag(site, spec)
    return dags[site.template_path]


def _problem(local: dict[str, dict], site: Site, dag: _Dag | None, hint: Hints) -> tuple[str, Severity] | None:
    fail = f"failed to resolve {{{{{site.tag}}}}}"
    tmpl = site.template or {}
    tname = tmpl.get("name")
    parts = site.tag.split(".", 2)
    if dag is None:
        use = "; use {{steps.<name>.…}} in a steps template" if isinstance(tmpl.get("steps"), list) else ""
        return f"{fail}: tasks.* variables exist only inside a DAG template and '{tname}' is not one{use}", "error"
    if len(parts) < 3:
        return f"{fail}: expected {{{{tasks.<task>.<field>}}}}", "error"
    target = dag.names.get(parts[1])
    if target is None:
        return f"{fail}: template '{tname}' has no task '{parts[1]}'{hint(parts[1], dag.names)}", "error"
    if message := _order_problem(site, target, dag, fail):
        return message, "error"
    return output_problem(site.tag, f"task '{target.name}'", parts[2], callee(local, target.body), loops(target.body))


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    local = template_map(spec.data)
    dags: dict[JsonPath, _Dag] = {}
    hint = Hints()
    sites = [s for s in template_sites(spec.data) if has_prefix(s.tag, "tasks") and s.tag != "tasks.name"]
    for site in sites:  # first the ancestor questions, answered per DAG in one linear pass
        dag = _dag_of(site, spec.data, dags)
        parts = site.tag.split(".", 2)
        target = dag.names.get(parts[1]) if dag and len(parts) == 3 else None
        node = site.node
        if dag and target is not None and node is not None and isinstance(node.name, str) and target.path != node.path:
            dag.pairs.append((node.name, target.name))
    for site in sites:
        if problem := _problem(local, site, _dag_of(site, spec.data, dags), hint):
            yield at(spec, site.path, problem[0], severity=problem[1])
