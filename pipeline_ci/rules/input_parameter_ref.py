"""``{{inputs.parameters.X}}`` names an input parameter of the template it is used in.

Inputs are template-local: a template sees only the ``inputs.parameters`` it declares itself, not
those of its caller or of the workflow (use ``{{workflow.parameters.X}}`` for those). Argo rejects
an undeclared name (gist ``templates.echo: failed to resolve {{inputs.parameters.msg}}``).
``{{inputs.parameters}}`` (all inputs as JSON) needs at least one declared input. Inline templates
of steps and tasks are not checked.

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
        inputs:
          parameters:
          - name: input_text
        steps:
        - - name: step-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{inputs.parameters.input_text}}"

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
                value: "{{inputs.parameters.input_text}}"  # <-- main declares no inputs
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.variables import declared_names, has_prefix, template_sites
from ..yamldoc import JsonPath
from .base import ClarifaiContext, Hit, at
from .common import Hints, listing

ID = "A29"
NAME = "input-parameter-ref"
SEVERITY = "error"
TARGET = "clarifai"

PREFIX = "inputs.parameters"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    hint = Hints()
    inputs: dict[JsonPath, tuple[list[str], set[str], str] | None] = {}  # per template, read once
    for site in template_sites(spec.data):
        if not has_prefix(site.tag, PREFIX) or site.template is None:
            continue
        if site.template_path not in inputs:
            names = declared_names(site.template, "inputs")
            inputs[site.template_path] = None if names is None else (names, set(names), listing(names))
        declared = inputs[site.template_path]
        if declared is None:  # malformed inputs: the type rule reports it
            continue
        tname = site.template.get("name")
        where = f"templates.{tname}" if isinstance(tname, str) else "template"
        if site.tag == PREFIX:
            if not declared[0]:
                message = f"{where}: failed to resolve {{{{{site.tag}}}}}: the template declares no inputs"
                yield at(spec, site.path, message)
            continue
        name = site.tag[len(PREFIX) + 1 :]
        if name not in declared[1]:
            yield at(
                spec,
                site.path,
                f"{where}: failed to resolve {{{{{site.tag}}}}}: the template declares no input parameter '{name}' "
                f"(declared: {declared[2]}){hint(name, declared[0])}",
            )
