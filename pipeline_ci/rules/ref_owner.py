"""A ``templateRef`` points at a step of the pipeline's own user and app.

Pipeline steps referenced as ``users/<user>/apps/<app>/pipeline_steps/<step>`` are normally uploaded
from this project's step folders into ``pipeline.user_id`` / ``pipeline.app_id``. A ref to another
user or app is legal (a shared step) but is often a leftover from copying a pipeline: the upload
then uses someone else's step, or fails because the step is not readable. Placeholders such as
``<YOUR_USER_ID>`` are left to ``placeholder-id``.

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
              name: users/u2/apps/a1/pipeline_steps/stepA/versions/v1  # <-- user u2, pipeline user u1
              template: users/u2/apps/a1/pipeline_steps/stepA/versions/v1
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
"""

from __future__ import annotations

from collections.abc import Iterator

from ..lazyre import lazy_re
from .base import ClarifaiContext, Hit, at

ID = "A37"
NAME = "ref-owner"
SEVERITY = "warning"
TARGET = "clarifai"

PLACEHOLDER = lazy_re(r"<[^<>]*>")


def _id(value: object) -> str | None:
    """A config id as text; None when missing, not a scalar id, or a placeholder."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    text = str(value)
    return None if PLACEHOLDER.search(text) else text


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec, config = ctx.project.spec, ctx.project.config
    if spec is None or config is None:
        return
    owner = {"user": _id(config.get(("pipeline", "user_id"))), "app": _id(config.get(("pipeline", "app_id")))}
    for ref in ctx.project.refs:
        wrong = [
            f"{kind} '{value}' (pipeline.{kind}_id is '{owner[kind]}')"
            for kind, value in (("user", ref.user_id), ("app", ref.app_id))
            if value is not None and owner[kind] is not None and not PLACEHOLDER.search(value) and value != owner[kind]
        ]
        if wrong:
            yield at(
                spec,
                (*ref.path, "name"),
                f"templateRef '{ref.name}' points at {' and '.join(wrong)}: make sure this is intended and that the "
                "pipeline owner can read that step",
            )
