"""Templates that nothing runs: not reachable from the entrypoint or an exit handler.

Argo validates every template of ``spec.templates`` but never reports one that no step, task
or exit handler calls. Such a template is usually left over from a rename, or the step that
should call it names another template by mistake. Reachability follows ``template:`` of steps
and DAG tasks (also inside ``inline`` templates), their ``onExit`` and hooks, starting from
``spec.entrypoint``, ``spec.onExit`` and ``spec.hooks``.

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
        - - name: run
            template: run-a
      - name: run-a
        steps:
        - - name: step-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"

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
      - name: old-main  # <-- nothing calls it
        steps:
        - - name: step-b
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepB
              template: users/u1/apps/a1/pipeline_steps/stepB
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.fields import objects
from ..argo.walk import spec_body, template_map, templates
from .base import ClarifaiContext, Hit, at

ID = "A11"
NAME = "unused-template"
SEVERITY = "warning"
TARGET = "clarifai"


def _local(caller: dict, key: str) -> str | None:
    name = caller.get(key)
    return name if isinstance(name, str) and name and caller.get("templateRef") is None else None


def callees(tmpl: dict) -> Iterator[str]:
    """Names of the local templates a template (with its inline templates) calls."""
    for obj in objects(tmpl, "Template"):
        if obj.kind in ("WorkflowStep", "DAGTask"):
            yield from filter(None, (_local(obj.body, "template"), _local(obj.body, "onExit")))
        elif obj.kind == "LifecycleHook":
            yield from filter(None, (_local(obj.body, "template"),))


def roots(body: dict) -> Iterator[str]:
    """Templates the workflow itself runs: entrypoint, onExit, workflow-level hooks."""
    for key in ("entrypoint", "onExit"):
        if isinstance(body.get(key), str):
            yield body[key]
    hooks = body.get("hooks")
    for hook in hooks.values() if isinstance(hooks, dict) else []:
        if isinstance(hook, dict) and (name := _local(hook, "template")):
            yield name


def reachable(spec: object) -> set[str]:
    """Names of the templates reachable from :func:`roots`."""
    defined = template_map(spec)
    seen: set[str] = set()
    todo = [name for name in roots(spec_body(spec)) if name in defined]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(c for c in callees(defined[name]) if c in defined and c not in seen)
    return seen


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    body = spec_body(spec.data)
    defined = template_map(spec.data)
    entry = body.get("entrypoint")
    if body.get("workflowTemplateRef") is not None or not isinstance(entry, str) or entry not in defined:
        return  # nothing to start from: the entrypoint rule reports it
    used = reachable(spec.data)
    for path, tmpl in templates(spec.data):
        name = tmpl.get("name")
        if isinstance(name, str) and name and name not in used:
            message = f"template '{name}' is never used: it is not reachable from spec.entrypoint '{entry}'"
            yield at(spec, (*path, "name"), message + " or an exit handler")
