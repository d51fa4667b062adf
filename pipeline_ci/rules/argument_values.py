"""Argument parameters of steps and DAG tasks have valid, unique names and a ``value`` or ``valueFrom``.

Argo validates every step's and task's ``arguments.parameters`` before resolving the callee: each
needs a ``name`` matching ``^[-a-zA-Z0-9_]+$``, unique within the list, and a ``value`` or
``valueFrom`` (gist ``templates.main.steps[0].step-a.arguments.input_text.value or
...valueFrom is required``). An argument ``valueFrom`` may only read a ``configMapKeyRef``, be
``supplied`` or come from an ``event`` (gist ``valueFrom only allows: default, configMapKeyRef and
supplied``); ``path``, ``parameter``, ``jsonPath`` and ``expression`` belong to outputs. YAML
numbers and booleans are fine as values (``value: 5``).

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
                value: 5

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
              - name: input_text  # <-- no value
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.walk import PARAM_NAME_RE, Node, nodes, parameters
from .base import ClarifaiContext, Hit, at

ID = "A20"
NAME = "argument-values"
SEVERITY = "error"
TARGET = "clarifai"

VALUE_FROM_ALLOWED = ("configMapKeyRef", "supplied", "event")
VALUE_FROM_OUTPUT_ONLY = ("path", "jsonPath", "jqFilter", "parameter", "expression")


def _prefix(node: Node) -> str:
    tname = node.template.get("name")
    if node.group is not None:
        return f"templates.{tname}.steps[{node.group}].{node.name}.arguments"
    return f"templates.{tname}.tasks.{node.name}.arguments"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for node in nodes(spec.data):
        prefix = _prefix(node)
        seen: set[str] = set()
        for rel, param in parameters(node.body, "arguments"):
            path = (*node.path, *rel)
            name = param.get("name")
            if name is None or name == "":
                yield at(spec, path, f"{prefix}.parameters[{rel[-1]}].name is required")
                continue
            if not isinstance(name, str):
                continue  # a type error, reported by field-types
            if not PARAM_NAME_RE.match(name):
                yield at(
                    spec,
                    (*path, "name"),
                    f"{prefix}.parameters[{rel[-1]}].name: '{name}' is invalid: Parameter/Artifact name must consist "
                    "of alpha-numeric characters, '_' or '-' e.g. my_param_1, MY-PARAM-1",
                )
            elif name in seen:
                yield at(spec, (*path, "name"), f"{prefix}.parameters[{rel[-1]}].name '{name}' is not unique")
            seen.add(name)
            value_from = param.get("valueFrom")
            if param.get("value") is None and value_from is None:
                yield at(
                    spec,
                    (*path, "name"),
                    f"{prefix}.{name}.value or {prefix}.{name}.valueFrom is required: argument '{name}' has no value",
                )
            elif isinstance(value_from, dict) and (
                not any(value_from.get(k) not in (None, "") for k in VALUE_FROM_ALLOWED)
                or any(value_from.get(k) not in (None, "") for k in VALUE_FROM_OUTPUT_ONLY)
            ):
                yield at(
                    spec,
                    (*path, "valueFrom"),
                    f"{prefix}.{name}.valueFrom only allows: default, configMapKeyRef and supplied "
                    f"(found {', '.join(map(str, value_from)) or 'nothing'}); use 'value' for a literal or a variable",
                    key=True,
                )
