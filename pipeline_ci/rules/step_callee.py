"""Each step and DAG task calls exactly one template: ``template``, ``templateRef`` or ``inline``.

Argo resolves the callee of every step and task before anything runs: ``template`` and
``templateRef`` are mutually exclusive (gist ``template name cannot be specified with
templateRef``), a ``templateRef`` needs both ``name`` and ``template`` (Argo: ``resource name is
required`` / ``template name is required``; the Clarifai SDK: ``templateRef must have both 'name'
and 'template' fields``), and a local ``template:`` must name a template of ``spec.templates``
(gist ``template name 'x' undefined``). A step with no callee at all cannot run.

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
            template: echo
      - name: echo
        container:
          image: alpine:3.20
          command: [sh, -c, "echo done"]

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
        - - name: step-b
            template: ecoh  # <-- no template named 'ecoh'
      - name: echo
        container:
          image: alpine:3.20
          command: [sh, -c, "echo done"]
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.walk import nodes, template_map
from .base import ClarifaiContext, Hit, at

ID = "A18"
NAME = "step-callee"
SEVERITY = "error"
TARGET = "clarifai"

CALLEE_KEYS = ("template", "templateRef", "inline")


def _present(body: dict, key: str) -> bool:
    value = body.get(key)
    return value is not None and value != ""


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    local = template_map(spec.data)
    for node in nodes(spec.data):
        body = node.body
        what = f"{node.kind} '{node.name}'"
        keys = [k for k in CALLEE_KEYS if _present(body, k)]
        if not keys:
            yield at(spec, node.path, f"{what} calls no template: set one of template, templateRef or inline")
            continue
        if "template" in keys and "templateRef" in keys:
            yield at(
                spec,
                (*node.path, "template"),
                f"{what}: template name cannot be specified with templateRef (use one or the other)",
                key=True,
            )
        if "inline" in keys and len(keys) > 1:
            others = " and ".join(k for k in keys if k != "inline")
            yield at(spec, (*node.path, "inline"), f"{what}: inline cannot be combined with {others}", key=True)
        ref = body.get("templateRef")
        if "templateRef" in keys and isinstance(ref, dict):
            missing = [k for k in ("name", "template") if not _present(ref, k)]
            if missing:
                argo = "resource name is required" if "name" in missing else "template name is required"
                yield at(
                    spec,
                    (*node.path, "templateRef"),
                    f"{what}: templateRef must have both 'name' and 'template' fields "
                    f"(missing {' and '.join(repr(k) for k in missing)}; Argo: {argo})",
                    key=True,
                )
        name = body.get("template")
        if isinstance(name, str) and name and name not in local:
            yield at(
                spec,
                (*node.path, "template"),
                f"{what}: template name '{name}' undefined (no template of spec.templates has this name)",
            )
