"""Ids that still look like template placeholders (``<YOUR_USER_ID>``, ``your-app-id``) must be replaced.

Scaffolds and docs ship configs with placeholder ids; the Clarifai SDK uploads them as they are
(an upload to user ``YOUR_USER_ID`` fails with an authorisation error, or creates an app named
``your-app-id``). Checked: ``pipeline.{id,user_id,app_id}`` of the root config,
``pipeline_step.{id,user_id,app_id}`` of every step config, and the user/app/step/version segments
of every ``templateRef`` name. A value counts as a placeholder when it contains ``<``/``>``,
``{{``/``}}`` or ``${``, starts with ``your`` (``YOUR_USER_ID``, ``your-app-id``, ``yourApp``),
or is ``xxx`` (three or more ``x``), ``changeme``, ``replace-me``, ``todo``, ``tbd``, ``fixme``,
``placeholder``, ``...`` (case, ``-`` and ``_`` ignored). A warning, so that a freshly
scaffolded project lints without errors.

Passing root::

    pipeline:
      id: demo
      user_id: u1
      app_id: a1
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
      user_id: <YOUR_USER_ID>  # <-- replace before uploading
      app_id: a1
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

import re
from collections.abc import Iterator

from ..lazyre import lazy_re
from .base import ClarifaiContext, Hit, at

ID = "C01"
NAME = "placeholder-id"
SEVERITY = "warning"
TARGET = "clarifai"

MARKERS = ("<", ">", "{{", "}}", "${")
WORDS = {"changeme", "replaceme", "todo", "tbd", "fixme", "placeholder", "...", "…"}
X_RE = lazy_re(r"^x{3,}$")


def is_placeholder(value: object) -> bool:
    """Does this id look like a placeholder? (see the module docstring)"""
    if not isinstance(value, str):
        return False
    if any(marker in value for marker in MARKERS):
        return True
    word = re.sub(r"[-_\s]", "", value).lower()
    return bool(word in WORDS or X_RE.match(word) or word.startswith("your"))


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    project = ctx.project
    docs = [(project.config, "pipeline")] + [(step.config, "pipeline_step") for step in project.steps]
    for doc, section in docs:
        if doc is None:
            continue
        for field in ("id", "user_id", "app_id"):
            value = doc.get((section, field))
            if is_placeholder(value):
                yield at(doc, (section, field), f"{section}.{field} {value!r} looks like a template placeholder: "
                         "replace it before uploading")
    if project.spec is None:
        return
    for ref in project.refs:
        segments = [("user", ref.user_id), ("app", ref.app_id), ("step", ref.step_id), ("version", ref.version)]
        bad = [f"{kind} {value!r}" for kind, value in segments if is_placeholder(value)]
        if bad:
            yield at(project.spec, (*ref.path, "name"), f"templateRef {ref.name!r} has placeholder "
                     f"{', '.join(bad)}: replace before uploading")
