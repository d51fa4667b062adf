"""``{{steps.S.…}}`` names a step of an earlier group of the same template, and an output it has.

In a ``steps`` template the outer list holds groups that run one after another; the steps of one
group run in parallel. Before a group starts, Argo resolves the references of all its steps, so a
step can only use ``{{steps.S.…}}`` of steps in *earlier* groups. ``argo lint`` wrongly accepts a
reference to an earlier sibling of the same group (the run then fails); this rule reports it, as
well as unknown and later steps (gist ``failed to resolve {{steps.two.status}}``) and references
outside a steps template.

``steps.S.outputs.parameters.P`` / ``.artifacts.A`` must be declared by the local template S
calls; ``outputs.result`` and ``exitCode`` exist only for container, script, containerSet, data,
http and plugin callees; ``outputs.parameters`` (a JSON list) only for a looping step. A Clarifai
pipeline step (a ``templateRef``) documents one output parameter, ``result`` (the file ``result``
in the step's temp directory), so other output names get a warning: they cannot be checked. A
step's own name is allowed only inside its ``hooks``; the template's ``outputs`` may name any of
its steps.

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
        - - name: step-b
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepB
              template: users/u1/apps/a1/pipeline_steps/stepB
            when: "{{steps.step-a.status}} == Succeeded"
            arguments:
              parameters:
              - name: input_text
                value: "{{steps.step-a.outputs.parameters.result}}"

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
          - name: step-b
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepB
              template: users/u1/apps/a1/pipeline_steps/stepB
            arguments:
              parameters:
              - name: input_text
                value: "{{steps.step-a.outputs.parameters.result}}"  # <-- same group: step-a has not run yet
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.dag import loops
from ..argo.variables import Site, callee, has_prefix, named_nodes, output_problem, template_sites
from ..argo.walk import Node, template_map
from ..findings import Severity
from ..yamldoc import JsonPath
from .base import ClarifaiContext, Hit, at
from .common import Hints

ID = "A30"
NAME = "steps-ref"
SEVERITY = "error"
TARGET = "clarifai"


def _order_problem(site: Site, target: Node, fail: str) -> str | None:
    node = site.node
    if node is None or node.group is None or target.group is None:
        return None  # template-level strings (outputs) may name any step
    if target.path == node.path:
        return None if site.within("hooks") else f"{fail}: step '{node.name}' refers to itself (only its hooks may)"
    if target.group == node.group:
        return (
            f"{fail}: step '{target.name}' is in the same parallel group as step '{node.name}'; a group's references "
            "are resolved before any of its steps runs, so move the step to a later group (argo lint misses this)"
        )
    if target.group > node.group:
        return f"{fail}: step '{target.name}' runs in a later group than step '{node.name}'"
    return None


def _problem(
    local: dict[str, dict], site: Site, steps: dict[JsonPath, dict[str, Node]], hint: Hints
) -> tuple[str, Severity] | None:
    fail = f"failed to resolve {{{{{site.tag}}}}}"
    tmpl = site.template or {}
    tname = tmpl.get("name")
    parts = site.tag.split(".", 2)
    if not isinstance(tmpl.get("steps"), list):
        use = "; use {{tasks.<name>.…}} in a DAG" if isinstance(tmpl.get("dag"), dict) else ""
        return f"{fail}: steps.* variables exist only inside a steps template and '{tname}' is not one{use}", "error"
    if len(parts) < 3:
        return f"{fail}: expected {{{{steps.<step>.<field>}}}}", "error"
    if site.template_path not in steps:
        steps[site.template_path] = named_nodes(site.template_path, tmpl, "step")
    names = steps[site.template_path]
    target = names.get(parts[1])
    if target is None:
        return f"{fail}: template '{tname}' has no step '{parts[1]}'{hint(parts[1], names)}", "error"
    if message := _order_problem(site, target, fail):
        return message, "error"
    return output_problem(site.tag, f"step '{target.name}'", parts[2], callee(local, target.body), loops(target.body))


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    local = template_map(spec.data)
    steps: dict[JsonPath, dict[str, Node]] = {}
    hint = Hints()
    for site in template_sites(spec.data):
        if has_prefix(site.tag, "steps") and site.tag != "steps.name" and (problem := _problem(local, site, steps, hint)):
            yield at(spec, site.path, problem[0], severity=problem[1])
