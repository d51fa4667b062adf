"""Template input and output parameters are well formed; outputs say where their value comes from.

Argo checks the ``inputs.parameters`` and ``outputs.parameters`` of every template: names are
required, match ``^[-a-zA-Z0-9_]+$`` and are unique. An output parameter has exactly one of
``value`` / ``valueFrom`` (``has both valueFrom and value specified`` / ``does not have
valueFrom or value specified``), its ``valueFrom`` exactly one source (``valueFrom type
unspecified`` / ``multiple valueFrom types specified``), and the source must suit the
template: container and script templates read a file (``valueFrom.path``; ``….path must be
specified for Container templates``), resource templates use ``jqFilter`` or ``jsonPath``,
steps and dag templates take ``parameter`` (e.g. ``{{steps.gen.outputs.parameters.out}}``) or
``expression``.

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
        outputs:
          parameters:
          - name: answer
            value: done

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
        outputs:
          parameters:
          - name: answer
            valueFrom:
              path: /tmp/answer  # <-- a steps template takes 'parameter', not 'path'
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.fields import Obj, template_label
from ..argo.names import param_name_problem
from ..argo.walk import TEMPLATE_TYPES, parameters
from ..yamldoc import Document
from .base import ClarifaiContext, Hit, at
from .common import spec_templates

ID = "A14"
NAME = "io-parameters"
SEVERITY = "error"
TARGET = "clarifai"

SOURCES = ("path", "jqFilter", "jsonPath", "parameter", "expression")
CHOICES = "choose one of: path, jqFilter, jsonPath, parameter, raw, expression"
GO_TYPES = {
    "container": "Container",
    "containerSet": "ContainerSet",
    "script": "Script",
    "resource": "Resource",
    "steps": "Steps",
    "dag": "DAG",
}
# Template type → (sources, one of which is required; wording of Argo's message).
REQUIRED = {
    "container": (("path",), ".path"),
    "containerSet": (("path",), ".path"),
    "script": (("path",), ".path"),
    "resource": (("jqFilter", "jsonPath"), " .jqFilter or jsonPath"),
    "steps": (("parameter", "expression"), ".parameter or expression"),
    "dag": (("parameter", "expression"), ".parameter or expression"),
}


def _names(doc: Document, obj: Obj, label: str, io: str) -> Iterator[Hit]:
    seen: set[str] = set()
    for rel, param in parameters(obj.body, io):
        name = param.get("name")
        where = f"{label}.{io}.parameters[{rel[-1]}].name"
        if name is None or name == "":
            yield at(doc, (*obj.path, *rel), f"{where} is required")
        elif isinstance(name, str):
            if problem := param_name_problem(name):
                yield at(doc, (*obj.path, *rel, "name"), f"{where}: '{name}' is invalid: {problem}")
            elif name in seen:
                yield at(doc, (*obj.path, *rel, "name"), f"{where} '{name}' is not unique")
            seen.add(name)


def _output(doc: Document, path: tuple, param: dict, ref: str, kind: str | None) -> Iterator[Hit]:
    value, value_from = param.get("value"), param.get("valueFrom")
    if value is not None and value_from is not None:
        yield at(doc, (*path, "valueFrom"), f"{ref} has both valueFrom and value specified, choose one", key=True)
        return
    if value is not None:
        return
    if value_from is None:
        yield at(doc, path, f"{ref} does not have valueFrom or value specified")
        return
    if not isinstance(value_from, dict):
        return  # reported by field-types
    used = [k for k in SOURCES if value_from.get(k)] + (["supplied"] if value_from.get("supplied") is not None else [])
    vpath = (*path, "valueFrom")
    if not used:
        yield at(doc, vpath, f"{ref}: valueFrom type unspecified. {CHOICES}", key=True)
    elif len(used) > 1:
        message = f"{ref}: multiple valueFrom types specified ({', '.join(used)}). {CHOICES}"
        yield at(doc, vpath, message, key=True)
    elif kind in REQUIRED and used[0] not in REQUIRED[kind][0]:
        message = f"{ref}{REQUIRED[kind][1]} must be specified for {GO_TYPES[kind]} templates, not {used[0]}"
        yield at(doc, (*vpath, used[0]), message, key=True)


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for obj in spec_templates(ctx):
        label = template_label(obj)
        yield from _names(spec, obj, label, "inputs")
        yield from _names(spec, obj, label, "outputs")
        kinds = [k for k in TEMPLATE_TYPES if obj.body.get(k) is not None]
        kind = kinds[0] if len(kinds) == 1 else None
        for rel, param in parameters(obj.body, "outputs"):
            name = param.get("name")
            ref = f"{label}.outputs.parameters.{name if isinstance(name, str) and name else rel[-1]}"
            yield from _output(spec, (*obj.path, *rel), param, ref, kind)
