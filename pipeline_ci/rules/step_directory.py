"""Each ``pipeline.step_directories`` entry is a unique step folder inside the project with a ``config.yaml``.

``clarifai pipeline upload`` stops at a listed folder that does not exist (``Pipeline step
directory not found: <path>``) or has no config (``Required file 'config.yaml' not found in
<dir>``), after having uploaded the steps listed before it. A folder listed twice is built and
uploaded twice. Entries must stay inside the project: absolute paths, ``..`` and symlinks that
resolve outside the project folder make the project depend on the machine it is checked out on;
such folders are never opened by the linter. Reported at the list entry.

Passing root::

    pipeline:
      id: demo
      user_id: u1
      app_id: a1
      step_directories:
      - stepA
      - stepB
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
      step_directories:
      - stepA
      - stepB
      - stepC  # <-- Pipeline step directory not found
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

import posixpath
from collections.abc import Iterator
from pathlib import PurePath

from ..project import CONFIG
from .base import ClarifaiContext, Hit, at

ID = "X02"
NAME = "step-directory"
SEVERITY = "error"
TARGET = "clarifai"


def escape_reason(entry: str) -> str:
    path = PurePath(entry)
    if path.is_absolute():
        return "is an absolute path"
    if ".." in path.parts:
        return "goes up with '..'"
    return "resolves through a symlink to a folder"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    project = ctx.project
    config = project.config
    entries = config.get(("pipeline", "step_directories")) if config else None
    if config is None or not isinstance(entries, list):
        return
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, str) or not entry:
            continue  # schema
        path = ("pipeline", "step_directories", i)
        norm = posixpath.normpath(entry.replace("\\", "/"))
        if norm in seen:
            yield at(config, path, f"step directory {entry!r} is listed twice (also entry {seen[norm]}); "
                     "the SDK would build and upload it twice")
            continue
        seen[norm] = i
        step = project.step_for_entry(entry)
        if step is None:
            continue
        if step.escapes:
            yield at(config, path, f"step directory {entry!r} {escape_reason(entry)} outside the project; "
                     "step folders must be inside the project folder (it was not read)")
        elif not step.exists:
            yield at(config, path, f"Pipeline step directory not found: {entry}")
        elif not (step.path / CONFIG).is_file():
            yield at(config, path, f"Required file '{CONFIG}' not found in {entry}")
