"""Exit handlers name templates that exist: ``spec.onExit``, ``onExit`` of steps and tasks, hooks.

Argo resolves the exit handler of the workflow (``spec.onExit``) and of every step or task
(``onExit``, ``hooks.<event>.template``) like any other callee, and rejects a name that is not
in ``spec.templates`` (``template name 'cleanup' undefined``). The Clarifai SDK does not check
them, so the typo only shows when the run is submitted.

Passing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata:
      generateName: p-
    spec:
      entrypoint: main
      onExit: report
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
      - name: report
        steps:
        - - name: step-b
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepB
              template: users/u1/apps/a1/pipeline_steps/stepB
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.status}}"

Failing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata:
      generateName: p-
    spec:
      entrypoint: main
      onExit: cleanup  # <-- no such template
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
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.fields import Obj
from ..argo.walk import template_map
from ..findings import json_path
from .base import ClarifaiContext, Hit, at
from .common import spec_objects

ID = "A08"
NAME = "on-exit"
SEVERITY = "error"
TARGET = "clarifai"


def exit_handlers(objs: list[Obj]) -> Iterator[tuple[tuple, str]]:
    """``(path, template name)`` of every exit handler or hook that calls a local template, among the spec's typed
    mappings ``objs``."""
    for obj in objs:
        if obj.kind in ("WorkflowSpec", "WorkflowStep", "DAGTask"):
            name = obj.body.get("onExit")
            if isinstance(name, str) and name:
                yield (*obj.path, "onExit"), name
        elif obj.kind == "LifecycleHook" and obj.body.get("templateRef") is None:
            name = obj.body.get("template")
            if isinstance(name, str) and name:
                yield (*obj.path, "template"), name


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None or spec.get(("spec", "workflowTemplateRef")) is not None:
        return
    defined = template_map(spec.data)
    for path, name in exit_handlers(spec_objects(ctx)):
        if name not in defined:
            yield at(spec, path, f"template name '{name}' undefined ({json_path(path)})")
