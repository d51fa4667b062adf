"""``activeDeadlineSeconds`` and ``timeout`` belong on leaf templates, ``parallelism`` on steps/dag.

Argo rejects ``activeDeadlineSeconds`` on a ``steps`` or ``dag`` template
(``templates.main.activeDeadlineSeconds is only valid for leaf templates``) and ``timeout`` too
(``Steps template doesn't support timeout field``); put them on the templates that run
something, or use ``spec.activeDeadlineSeconds`` for the whole run. ``timeout`` is a Go
duration string such as ``"30s"`` or ``"1h30m"``: a bare number is rejected (``… has invalid
duration format in timeout``) and any other text fails at run time. A leaf
``activeDeadlineSeconds`` must be a non-negative integer or an Argo variable, and
``parallelism`` only makes sense on ``steps`` / ``dag`` templates (``templates.x.parallelism is
only valid for steps and dag templates``).

Passing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata:
      generateName: p-
    spec:
      entrypoint: main
      activeDeadlineSeconds: 3600
      arguments:
        parameters:
        - name: input_text
          value: hi
      templates:
      - name: main
        parallelism: 2
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
        timeout: 10m  # <-- not on a steps template
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

from ..argo.durations import go_duration
from ..argo.fields import Obj, template_label
from ..argo.walk import LEAF_TYPES, TEMPLATE_TYPES
from ..lazyre import lazy_re
from ..yamldoc import Document
from .base import ClarifaiContext, Hit, at
from .common import spec_templates

ID = "A13"
NAME = "leaf-only-fields"
SEVERITY = "error"
TARGET = "clarifai"

_INT = lazy_re(r"[-+]?[0-9]+\Z")
_TYPE_NAMES = {"steps": "Steps", "dag": "DAG"}


def _deadline(doc: Document, obj: Obj, label: str) -> Iterator[Hit]:
    value = obj.body.get("activeDeadlineSeconds")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return  # absent, or a type error reported by field-types
    if isinstance(value, str) and "{{" in value:
        return
    if (isinstance(value, int) and value < 0) or (isinstance(value, str) and (not _INT.match(value) or int(value) < 0)):
        message = f"{label}.activeDeadlineSeconds {value!r} must be a positive integer > 0 or an argo variable"
        yield at(doc, (*obj.path, "activeDeadlineSeconds"), message)


def _timeout(doc: Document, obj: Obj, label: str) -> Iterator[Hit]:
    value = obj.body.get("timeout")
    path = (*obj.path, "timeout")
    example = 'a duration such as "30s" or "1h30m"'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        yield at(doc, path, f"{label} has invalid duration format in timeout: {value} must be {example}")
    elif isinstance(value, str) and "{{" not in value:
        if _INT.match(value.strip()):
            yield at(doc, path, f"{label} has invalid duration format in timeout: '{value}' must be {example}")
        elif go_duration(value) is None:
            yield at(doc, path, f"timeout '{value}' of {label} is not {example}; the run would fail")
    elif value is not None and not isinstance(value, str):
        yield at(doc, path, f"timeout of {label} must be {example}, not {value!r}")


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for obj in spec_templates(ctx):
        kinds = [k for k in TEMPLATE_TYPES if obj.body.get(k) is not None]
        if len(kinds) != 1:
            continue  # reported by template-type
        label = template_label(obj)
        if kinds[0] in LEAF_TYPES:
            yield from _deadline(spec, obj, label)
            yield from _timeout(spec, obj, label)
            if obj.body.get("parallelism") is not None:
                message = f"{label}.parallelism is only valid for steps and dag templates"
                yield at(spec, (*obj.path, "parallelism"), message, key=True)
            continue
        if obj.body.get("activeDeadlineSeconds") is not None:
            message = f"{label}.activeDeadlineSeconds is only valid for leaf templates"
            yield at(spec, (*obj.path, "activeDeadlineSeconds"), message, key=True)
        if obj.body.get("timeout") is not None:
            message = f"{_TYPE_NAMES[kinds[0]]} template doesn't support timeout field ({label}.timeout)"
            yield at(spec, (*obj.path, "timeout"), message, key=True)
