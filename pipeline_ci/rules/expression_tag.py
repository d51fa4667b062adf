"""``{{=…}}`` expression tags are reported because nothing checks them before the run.

Argo evaluates ``{{=expr}}`` with expr-lang (sprig functions, ``asInt``, ``jsonpath``, …) only at
run time; ``argo lint`` skips them and so does pipeline-ci: a typo in a variable name or a syntax
error inside one surfaces only when the step starts. This warning says so. Prefer a plain
``{{variable}}`` where one does the job, or disable the rule for intended uses.

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
            arguments:
              parameters:
              - name: input_text
                value: "{{=sprig.upper(workflow.parameters.input_text)}}"  # <-- not validated
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.variables import spec_sites
from .base import ClarifaiContext, Hit, at

ID = "A34"
NAME = "expression-tag"
SEVERITY = "warning"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for site in spec_sites(spec.data):
        if site.tag.startswith("="):
            yield at(
                spec,
                site.path,
                f"expression tag {{{{{site.tag}}}}} is not validated: pipeline-ci (like argo lint) does not check "
                "expr-lang expressions, so mistakes in it show only at run time",
            )
