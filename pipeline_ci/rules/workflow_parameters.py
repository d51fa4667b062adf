"""Workflow parameters have valid, unique names, a value, and a value their ``enum`` allows.

``spec.arguments.parameters`` become ``{{workflow.parameters.<name>}}``. Argo rejects a
missing name, one that does not match ``^[-a-zA-Z0-9_]+$`` or a duplicate, an empty ``enum``
(``enum should contain at least one value``), a ``value`` outside its ``enum`` (``value should
be present in …enum list``) and a ``valueFrom`` other than configMapKeyRef / supplied / event
(``valueFrom only allows: default, configMapKeyRef and supplied``). A parameter with neither
``value`` nor ``valueFrom`` passes ``argo lint`` but every run must then supply it (``-p`` or
the Clarifai ``input_args_override``), else submission fails: a warning.

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
          enum: [hi, hello]
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
          value: hey  # <-- not in the enum
          enum: [hi, hello]
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

from ..argo.names import param_name_problem
from ..argo.walk import argo_string
from .base import ClarifaiContext, Hit, at

ID = "A10"
NAME = "workflow-parameters"
SEVERITY = "error"
TARGET = "clarifai"

ARGS = ("spec", "arguments", "parameters")
ALLOWED_VALUE_FROM = ("configMapKeyRef", "supplied", "event")
FORBIDDEN_VALUE_FROM = ("path", "jsonPath", "parameter", "expression")


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    params = spec.get(ARGS) if spec is not None else None
    if spec is None or not isinstance(params, list):
        return
    seen: set[str] = set()
    for i, param in enumerate(params):
        if not isinstance(param, dict):
            continue  # reported by field-types
        path = (*ARGS, i)
        name = param.get("name")
        if name is None or name == "":
            yield at(spec, path, f"spec.arguments.parameters[{i}].name is required")
            continue
        if not isinstance(name, str):
            continue  # reported by field-types
        where = f"spec.arguments.{name}"
        if problem := param_name_problem(name):
            yield at(spec, (*path, "name"), f"spec.arguments.parameters[{i}].name '{name}' is invalid: {problem}")
        elif name in seen:
            yield at(spec, (*path, "name"), f"spec.arguments.parameters[{i}].name '{name}' is not unique")
        seen.add(name)
        value, value_from = param.get("value"), param.get("valueFrom")
        if value is None and value_from is None:
            yield at(
                spec,
                path,
                f"workflow parameter '{name}' has no value: every run must supply it "
                f"(argo submit: {where}.value or {where}.valueFrom is required)",
                severity="warning",
            )
        if isinstance(value_from, dict) and (
            not any(value_from.get(k) is not None for k in ALLOWED_VALUE_FROM)
            or any(value_from.get(k) for k in FORBIDDEN_VALUE_FROM)
        ):
            message = f"{where}.valueFrom only allows: default, configMapKeyRef and supplied"
            yield at(spec, (*path, "valueFrom"), message, key=True)
        enum = param.get("enum")
        if not isinstance(enum, list):
            continue  # absent, or reported by field-types
        if not enum:
            yield at(spec, (*path, "enum"), f"{where}.enum should contain at least one value")
        elif value is not None and argo_string(value) not in {argo_string(v) for v in enum}:
            message = f"{where}.value '{argo_string(value)}' should be present in {where}.enum list"
            yield at(spec, (*path, "value"), message)
