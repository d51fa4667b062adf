"""``{{workflow.parameters.X}}`` names a parameter declared in ``spec.arguments.parameters``.

Argo resolves every ``{{workflow.parameters.X}}`` against the workflow's declared parameters and
rejects the spec when X is not one of them (gist ``failed to resolve
{{workflow.parameters.missing}}``); ``{{workflow.parameters}}`` (all of them as JSON) needs at
least one. Whitespace inside the braces does not matter. Typos here usually come from renaming a
parameter in ``spec.arguments`` but not in the steps, or from run-time overrides
(``clarifai pipeline run --overrides``) that name parameters the spec never declares.

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
                value: "{{ workflow.parameters.input_text }}"

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
                value: "{{workflow.parameters.input_txt}}"  # <-- not declared
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.variables import declared_names, has_prefix, spec_sites
from ..argo.walk import spec_body
from .base import ClarifaiContext, Hit, at
from .common import Hints, listing

ID = "A28"
NAME = "workflow-parameter-ref"
SEVERITY = "error"
TARGET = "clarifai"

PREFIX = "workflow.parameters"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    declared = declared_names(spec_body(spec.data), "arguments")
    if declared is None:  # malformed spec.arguments: the type rule reports it
        return
    known = set(declared)
    listed = listing(declared)
    hint = Hints()
    for site in spec_sites(spec.data):
        if not has_prefix(site.tag, PREFIX):
            continue
        if site.tag == PREFIX:
            if not declared:
                yield at(spec, site.path, f"failed to resolve {{{{{site.tag}}}}}: the workflow declares no parameters")
            continue
        name = site.tag[len(PREFIX) + 1 :]
        if name not in known:
            yield at(
                spec,
                site.path,
                f"failed to resolve {{{{{site.tag}}}}}: '{name}' is not declared in spec.arguments.parameters "
                f"(declared: {listed}){hint(name, declared)}",
            )
