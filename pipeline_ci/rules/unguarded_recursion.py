"""A template does not call itself, directly or through other templates, without a condition.

A steps or DAG template may call itself to repeat work until a result comes out right (Argo's
``examples/coinflip-recursive.yaml``), but the recursive call must sit behind a ``when`` that eventually
turns false. Without one, every run calls the template again until the controller stops the workflow at
its maximum recursion depth of 100 template calls (``Maximum recursion depth exceeded``, see
https://argo-workflows.readthedocs.io/en/latest/scaling/#maximum-recursion-depth; the local executor stops
at 64 nested templates). ``argo lint`` accepts such a spec.

A call is a step or DAG task with ``template: NAME`` (``templateRef`` and ``inline`` callees are not
followed). It counts as conditional, and so breaks the recursion, when it has a non-empty ``when``, loops
over ``withParam`` or ``withSequence`` (which may expand to nothing), is a DAG task whose ``depends``
negates or waits for ``.Failed``, ``.Errored``, ``.Skipped``, ``.Omitted`` or ``.AllFailed``, or is a DAG
task outside the tasks its ``dag.target`` needs. Recursion through several templates (A calls B, B calls
A) is reported when no call on the cycle is conditional. The finding is at the ``template:`` of the call
that closes the cycle.

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
        steps:
        - - name: step-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
        - - name: again
            template: main
            when: "'{{steps.step-a.outputs.parameters.result}}' != 'done'"

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
        steps:
        - - name: step-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
        - - name: again
            template: main  # <-- no when: main calls itself forever
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo import depends as dep
from ..argo.dag import cycles, depends_text, index, with_ancestors
from ..argo.walk import Node, nodes, spec_body, template_map
from ..lazyre import lazy_re
from ..yamldoc import JsonPath
from .base import ClarifaiContext, Hit, at

ID = "A40"
NAME = "unguarded-recursion"
SEVERITY = "warning"
TARGET = "clarifai"

#: ``depends`` results that hold only when something went wrong or was skipped: a task waiting for one is
#: conditional.
CONDITIONAL_RESULTS = frozenset({"Failed", "Errored", "Skipped", "Omitted", "AllFailed"})
_TARGET_SPLIT = lazy_re(r"[\s,]+")


def _conditional_depends(task: dict) -> bool:
    text = depends_text(task)
    if text is None:
        return False
    try:
        tree = dep.parse(text)
    except dep.ExprError:
        return True  # depends-expression reports it; the task may never run
    todo: list[dep.Node] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, dep.Not):
            return True
        if isinstance(node, dep.Ref):
            if node.result in CONDITIONAL_RESULTS:
                return True
        else:
            todo.extend(node.operands)
    return False


def _needed(spec: object, tpath: JsonPath, tmpl: dict) -> set[str] | None:
    """The tasks a DAG's ``dag.target`` needs (the targets and their ancestors); None when every task runs.
    A templated target may need any task, so none is sure to run: the empty set."""
    dag = tmpl.get("dag")
    target = dag.get("target") if isinstance(dag, dict) else None
    if not isinstance(target, str) or not target.strip():
        return None
    if "{{" in target:
        return set()
    deps = index(spec)[tpath].deps
    names = [name for name in _TARGET_SPLIT.split(target) if name]
    return with_ancestors(deps, names)


def _conditional(node: Node, needed: set[str] | None) -> bool:
    body = node.body
    if body.get("when") not in (None, "") or body.get("withParam") or body.get("withSequence") is not None:
        return True
    if node.kind != "task":
        return False
    return _conditional_depends(body) or needed is not None and (not isinstance(node.name, str) or node.name not in needed)


def _unconditional_calls(spec: object) -> tuple[dict[str, list[str]], dict[tuple[str, str], Node]]:
    """Template name → the local templates it calls without a condition (in order), and the first such call."""
    defined = template_map(spec)
    calls: dict[str, list[str]] = {name: [] for name in defined}
    first: dict[tuple[str, str], Node] = {}
    needed: dict[JsonPath, set[str] | None] = {}
    for node in nodes(spec):
        caller, callee = node.template.get("name"), node.body.get("template")
        if not isinstance(caller, str) or defined.get(caller) is not node.template:
            continue  # a nameless or duplicate template: other rules report it
        if not isinstance(callee, str) or callee not in defined or node.body.get("templateRef") is not None:
            continue
        if node.kind == "task" and node.template_path not in needed:
            needed[node.template_path] = _needed(spec, node.template_path, node.template)
        if (caller, callee) in first or _conditional(node, needed.get(node.template_path)):
            continue
        first[(caller, callee)] = node
        calls[caller].append(callee)
    return calls, first


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None or not spec_body(spec.data).get("templates"):
        return
    calls, first = _unconditional_calls(spec.data)
    for cycle in cycles(calls):
        caller, callee = cycle[-2], cycle[-1]
        node = first[(caller, callee)]
        where: JsonPath = (*node.path, "template")
        call = f"{node.kind} '{node.name}' of template '{caller}'"
        limit = ("it recurses until Argo stops the workflow at its maximum recursion depth (100 template calls); "
                 "put a when on the recursive call that eventually turns false")
        if len(cycle) == 2:
            message = f"template '{caller}' calls itself unconditionally: {call} has no when; {limit}"
        else:
            message = (f"templates call each other unconditionally: {' -> '.join(cycle)}; {call} calls '{callee}' "
                       f"and no call on the cycle has a when; {limit}")
        yield at(spec, where, message)
