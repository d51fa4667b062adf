"""Every YAML file of the project loads: syntax, encoding and size.

Covers the root ``config.yaml``, step configs, both kinds of lockfiles and the Argo spec
embedded in ``argo_orchestration_spec`` (its errors point into ``config.yaml``). Files that are
binary, not UTF-8, larger than 5 MB, nested more than 200 levels or whose aliases expand
explosively (an alias bomb) are refused here too.

Passing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    spec:
      entrypoint: main
      templates:
      - name: main
        steps: []

Failing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    spec:
      entrypoint: main
      templates:
      - name: main
        steps: [] ]  # <-- stray bracket
"""

from __future__ import annotations

from collections.abc import Iterator

from .base import ClarifaiContext, Hit

ID = "F01"
NAME = "yaml-syntax"
SEVERITY = "error"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    project = ctx.project
    errors = [*project.load_errors, *project.overrides_errors, *(e for step in project.steps for e in step.load_errors)]
    for err in errors:
        yield Hit(err.file, err.error.pos, err.error.message)
