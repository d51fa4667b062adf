"""Every template has a unique name of letters, digits and ``-`` (at most 128 characters).

Argo checks ``spec.templates[*].name`` before anything else: it is required, must match
``^[a-zA-Z0-9][-a-zA-Z0-9]*$`` (upper case is fine, ``_`` and ``.`` are not) and must be unique
(gists ``spec.templates[1].name 'main' is not unique`` and ``spec.templates[0].name 'my_tmpl'
is invalid: name must consist of alpha-numeric characters or '-', and must start with an
alpha-numeric character``).

Passing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata:
      generateName: p-
    spec:
      entrypoint: Main-1
      arguments:
        parameters:
        - name: input_text
          value: hi
      templates:
      - name: Main-1
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
      entrypoint: my_tmpl
      arguments:
        parameters:
        - name: input_text
          value: hi
      templates:
      - name: my_tmpl  # <-- '_' is not allowed
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

from ..argo.names import name_problems
from ..argo.walk import templates
from .base import ClarifaiContext, Hit, at

ID = "A09"
NAME = "template-name"
SEVERITY = "error"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    seen: set[str] = set()
    for path, tmpl in templates(spec.data):
        name = tmpl.get("name")
        where = f"spec.templates[{path[-1]}].name"
        if name is None or name == "":
            yield at(spec, path, f"{where} is required")
        elif not isinstance(name, str):
            continue  # reported by field-types
        elif problems := name_problems(name):
            yield at(spec, (*path, "name"), f"{where} '{name}' is invalid: {'; '.join(problems)}")
        elif name in seen:
            yield at(spec, (*path, "name"), f"{where} '{name}' is not unique")
        if isinstance(name, str):
            seen.add(name)
