"""Keys that Argo does not know: an error inside a step, a warning elsewhere.

A step of a ``steps`` template is decoded by a hand-written decoder that rejects unknown keys
on submit as well as in ``argo lint`` (``json: unknown field "argument"``), so a misspelt
``argument:`` or ``temlateRef:`` in a step fails the whole run. Everywhere else an unknown key
is only caught by strict ``argo lint`` (``unknown field "spec.entrypoints"``) and otherwise
silently dropped, which usually means the setting you wrote has no effect: a warning, or an
error with ``strict = true``. Checked in the Workflow, metadata, spec, templates, steps, DAG
tasks, arguments, inputs, outputs, parameters, retryStrategy, templateRef, continueOn,
withSequence and hooks; the closest known key is suggested.

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
            argument:  # <-- should be 'arguments'
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.fields import CHILDREN, KNOWN, describe
from ..findings import json_path
from .base import ClarifaiContext, Hit, at
from .common import spec_objects

ID = "A04"
NAME = "unknown-field"
SEVERITY = "error"
TARGET = "clarifai"


def suggestion(key: object, known: frozenset[str]) -> str | None:
    """The known key ``key`` was probably meant to be."""
    text = str(key)
    folded = {k.lower(): k for k in known}
    if text.lower() in folded:
        return folded[text.lower()]
    import difflib  # only for a hint: not imported by a clean cold lint

    close = difflib.get_close_matches(text, sorted(known), n=1, cutoff=0.6)
    return close[0] if close else None


def hint(kind: str, key: object) -> str:
    """A "did you mean" for ``key`` found in a ``kind`` object, or where the key belongs instead."""
    if close := suggestion(key, KNOWN[kind]):
        return f"; did you mean '{close}'?"
    if kind == "WorkflowStep" and key in KNOWN["DAGTask"]:
        return f"; '{key}' exists only on DAG tasks (steps run group after group)"
    homes = [child for child, (child_kind, _) in CHILDREN.get(kind, {}).items() if key in KNOWN[child_kind]]
    if 1 <= len(homes) <= 2:
        return f"; '{key}' belongs under " + " or ".join(f"'{home}'" for home in homes)
    return ""


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for obj in spec_objects(ctx):
        for key in obj.body:
            if key in KNOWN[obj.kind]:
                continue
            path = (*obj.path, key)
            if obj.kind == "WorkflowStep":
                effect, severity = f'Argo rejects the step (json: unknown field "{key}")', "error"
            else:
                effect = f'Argo ignores it (strict argo lint: unknown field "{json_path(path)}")'
                severity = "error" if ctx.options.strict else "warning"
            message = f'unknown field "{key}" in {describe(obj)}: {effect}{hint(obj.kind, key)}'
            yield at(spec, path, message, key=True, severity=severity)
