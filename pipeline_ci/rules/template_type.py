"""Every template has exactly one type: ``container``, ``script``, ``steps``, ``dag``, ...

A template does one thing: it runs a container, containerSet, script, resource, data, http or
plugin, suspends, or calls other templates through ``steps`` or a ``dag``. Argo rejects a
template with none of these (``template type unspecified``, often a misspelt ``step:`` or
``tasks:`` at the wrong level) or with several (``multiple template types specified``).
``steps: []`` counts as a type; ``steps: null`` does not. Inline templates of steps and tasks are
checked too.

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
        dag:
          tasks:
          - name: step-a
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
      - name: main  # <-- 'tasks' belongs under 'dag'
        tasks:
        - name: step-a
          templateRef:
            name: users/u1/apps/a1/pipeline_steps/stepA
            template: users/u1/apps/a1/pipeline_steps/stepA
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.fields import template_label
from ..argo.walk import TEMPLATE_TYPES
from .base import ClarifaiContext, Hit, at
from .common import spec_templates

ID = "A12"
NAME = "template-type"
SEVERITY = "error"
TARGET = "clarifai"

CHOICES = "choose one of: " + ", ".join(TEMPLATE_TYPES)


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for obj in spec_templates(ctx):
        kinds = [k for k in TEMPLATE_TYPES if obj.body.get(k) is not None]
        label = template_label(obj)
        if not kinds:
            where = (*obj.path, "name") if "name" in obj.body else obj.path
            yield at(spec, where, f"{label} template type unspecified. {CHOICES}")
        elif len(kinds) > 1:
            listed = ", ".join(kinds)
            message = f"{label} multiple template types specified ({listed}). {CHOICES}"
            yield at(spec, (*obj.path, kinds[1]), message, key=True)
