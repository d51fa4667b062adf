"""Keys the Clarifai SDK does not read are probably typos.

The SDK ignores unknown keys in ``config.yaml``, step configs and lockfiles, so a misspelt
``step_directories`` or ``pipeline_step_input_param`` silently does nothing. Reported at the
key, with the closest known key as a suggestion.

Passing root::

    pipeline:
      id: demo
      user_id: u1
      app_id: a1
      step_directories: [stepA, stepB]
      orchestration_spec:
        argo_orchestration_spec: |
          apiVersion: argoproj.io/v1alpha1
          kind: Workflow
          spec:
            entrypoint: main
            templates:
            - name: main
              steps: []

Failing root::

    pipeline:
      id: demo
      user_id: u1
      app_id: a1
      step_directorys: [stepA, stepB]  # <-- typo
      orchestration_spec:
        argo_orchestration_spec: |
          apiVersion: argoproj.io/v1alpha1
          kind: Workflow
          spec:
            entrypoint: main
            templates:
            - name: main
              steps: []
"""

from __future__ import annotations

from collections.abc import Iterator

from .base import ClarifaiContext, Hit, at
from .schema import issues

ID = "S02"
NAME = "unknown-key"
SEVERITY = "warning"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    for doc, issue in issues(ctx):
        if issue.keyword == "additionalProperties":
            hint = f"; did you mean {issue.suggestion!r}?" if issue.suggestion else ""
            yield at(doc, issue.path, f"unknown key {issue.key!r} is ignored by the Clarifai SDK{hint}", key=True)
