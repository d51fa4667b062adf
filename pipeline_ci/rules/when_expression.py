"""A step's or task's ``when`` is a valid govaluate expression once its variables are replaced.

Argo replaces the ``{{…}}`` tags in ``when`` textually and hands the result to govaluate, in which
bare words are strings: ``{{steps.a.status}} == Succeeded`` becomes ``Succeeded == Succeeded``.
``argo lint`` never parses ``when``; a syntax error marks the node Error at run time (gist
``Invalid 'when' expression '…': …``). Error: the expression does not parse (each tag is replaced
by a quoted placeholder first). Warning: a value that only works by luck — an unquoted literal with
``-``, ``.`` or a space (``my-value`` is ``my - value``), or a substituted free-text value compared
without quotes (``{{inputs.parameters.mode}} == fast`` breaks when the value contains a space);
quote both sides: ``'{{inputs.parameters.mode}}' == 'fast'``.

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
            when: "'{{workflow.parameters.input_text}}' != 'skip me'"
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
            when: "'{{workflow.parameters.input_text}}' == 'x' &&"  # <-- incomplete expression
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.walk import nodes
from .base import ClarifaiContext, Hit, at

ID = "A35"
NAME = "when-expression"
SEVERITY = "error"
TARGET = "clarifai"

HINT = ' (hint: try wrapping the affected expression in quotes ("))'


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for node in nodes(spec.data):
        text = node.body.get("when")
        if not isinstance(text, str) or text == "":  # Argo skips an empty when; non-strings are type errors
            continue
        from ..argo.when import check_template  # only for specs with a `when`: not imported by a cold lint without one

        path = (*node.path, "when")
        errors, warnings = check_template(text)
        for err in errors:
            hint = HINT if "Invalid token" in err.message else ""
            yield at(
                spec,
                path,
                f"Invalid 'when' expression '{text}': {err.message}{hint} (at character {err.offset + 1})",
                severity="error",
            )
        for warning in warnings:
            yield at(spec, path, f"{node.kind} '{node.name}' when: {warning}", severity="warning")
