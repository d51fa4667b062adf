"""Step names are present, valid and unique across all groups of a ``steps`` template.

Argo requires a ``name`` on every step, matching ``^[a-zA-Z0-9][-a-zA-Z0-9]*$`` (letters, digits
and ``-``; no ``_`` or ``.``) and at most 128 characters long, and unique across **all** groups of
the template, not just within one parallel group, because ``{{steps.NAME...}}`` must be
unambiguous (gists ``templates.main.steps[0].name is required``,
``templates.main.steps[1].name 'a' is not unique``, ``... 'a_b' is invalid: name must consist of
alpha-numeric characters or '-' ...``). The Clarifai SDK does not check this; the upload or the run
is rejected later.

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
        - - name: step_a  # <-- '_' is not allowed
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

from ..argo.names import name_problems
from ..argo.walk import steps
from .base import ClarifaiContext, Hit, at

ID = "A17"
NAME = "step-name"
SEVERITY = "error"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    seen: dict[tuple, int] = {}  # (template path, name) -> group of the first use
    for node in steps(spec.data):
        tname = node.template.get("name")
        where = f"templates.{tname}.steps[{node.group}]"
        name = node.name
        if name is None or name == "":
            yield at(spec, node.path, f"{where}.name is required: every step needs a name")
            continue
        if not isinstance(name, str):
            continue  # a type error, reported by field-types
        if problems := name_problems(name):
            yield at(spec, (*node.path, "name"), f"{where}.name '{name}' is invalid: {'; '.join(problems)}")
        key = (node.template_path, name)
        if key in seen:
            yield at(
                spec,
                (*node.path, "name"),
                f"{where}.name '{name}' is not unique: step names must be unique across all groups of "
                f"the template (first used in steps[{seen[key]}])",
            )
        else:
            seen[key] = node.group or 0
