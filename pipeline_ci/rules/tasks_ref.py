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

from ..argo.dag import ancestors, graph, loops
from ..argo.variables import Site, callee, did_you_mean, has_prefix, named_nodes, output_problem, template_sites
from ..argo.walk import Node, template_map
from ..findings import Severity
from ..yamldoc import JsonPath
from .base import Context, Hit, at

ID = "A31"
NAME = "tasks-ref"
SEVERITY = "error"


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
    """Tasks by name and ancestor sets of one DAG template, computed once."""

    def __init__(self, site: Site) -> None:
        tmpl = site.template or {}
        self.names = named_nodes(site.template_path, tmpl, "task")
        self.deps = graph(tmpl)
        self._ancestors: dict[str, set[str]] = {}

    def ancestors(self, name: str) -> set[str]:
        if name not in self._ancestors:
            self._ancestors[name] = ancestors(self.deps, name)
        return self._ancestors[name]


def _order_problem(site: Site, target: Node, dag: _Dag, fail: str) -> str | None:
    node = site.node
    if node is None or not isinstance(node.name, str):
        return None  # template-level strings (outputs) may name any task
    if target.path == node.path:
        return None if site.within("hooks") else f"{fail}: task '{node.name}' refers to itself (only its hooks may)"
    if target.name in dag.ancestors(node.name):
        return None
    param = _argument_name(site)
    gist = f" (Argo: missing dependency '{target.name}' for parameter '{param}')" if param else ""
    return (
        f"{fail}: task '{target.name}' is not an ancestor of task '{node.name}'; add it to "
        f"'{node.name}'s depends/dependencies{gist}"
    )


def _problem(local: dict[str, dict], site: Site, dags: dict[JsonPath, _Dag]) -> tuple[str, Severity] | None:
    fail = f"failed to resolve {{{{{site.tag}}}}}"
    tmpl = site.template or {}
    tname = tmpl.get("name")
    parts = site.tag.split(".", 2)
    if not isinstance(tmpl.get("dag"), dict):
        hint = "; use {{steps.<name>.…}} in a steps template" if isinstance(tmpl.get("steps"), list) else ""
        return f"{fail}: tasks.* variables exist only inside a DAG template and '{tname}' is not one{hint}", "error"
    if len(parts) < 3:
        return f"{fail}: expected {{{{tasks.<task>.<field>}}}}", "error"
    if site.template_path not in dags:
        dags[site.template_path] = _Dag(site)
    dag = dags[site.template_path]
    target = dag.names.get(parts[1])
    if target is None:
        return f"{fail}: template '{tname}' has no task '{parts[1]}'{did_you_mean(parts[1], dag.names)}", "error"
    if message := _order_problem(site, target, dag, fail):
        return message, "error"
    return output_problem(site.tag, f"task '{target.name}'", parts[2], callee(local, target.body), loops(target.body))


def check(ctx: Context) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    local = template_map(spec.data)
    dags: dict[JsonPath, _Dag] = {}
    for site in template_sites(spec.data):
        if has_prefix(site.tag, "tasks") and site.tag != "tasks.name" and (problem := _problem(local, site, dags)):
            yield at(spec, site.path, problem[0], severity=problem[1])
