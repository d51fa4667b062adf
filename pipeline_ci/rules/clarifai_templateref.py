"""A ``templateRef`` names a Clarifai pipeline step, with ``template`` equal to ``name``.

The Clarifai SDK (``PipelineConfigValidator``) rejects the upload unless every ``templateRef`` of a
step or DAG task has ``name`` equal to ``template`` (``templateRef name '<n>' must match template
'<t>'``) and ``name`` is ``users/<user>/apps/<app>/pipeline_steps/<step>``, optionally followed by
``/versions/<version>``, with no empty or extra segment (``templateRef name '<n>' must match either
pattern: …``). A ref without a version is resolved to the step folder of the same id at upload.

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
              template: stepA  # <-- must equal name
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
"""

from __future__ import annotations

from collections.abc import Iterator

from ..project import REF_WITH_VERSION, REF_WITHOUT_VERSION
from .base import ClarifaiContext, Hit, at

ID = "A36"
NAME = "clarifai-templateref"
SEVERITY = "error"
TARGET = "clarifai"

SHAPE = "users/<user>/apps/<app>/pipeline_steps/<step>[/versions/<version>]"


def _hint(name: str) -> str:
    parts = name.split("/")
    if name != name.strip():
        return "remove the surrounding whitespace"
    if name.endswith("/"):
        return "remove the trailing '/'"
    if "" in parts:
        return "remove the empty segment '//'"
    missing = [seg for seg in ("users", "apps", "pipeline_steps") if seg not in parts]
    if missing:
        return f"the '{missing[0]}/' segment is missing"
    return f"expected {SHAPE}"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    for ref in ctx.project.refs:
        if ref.name is None or ref.template is None:
            continue  # missing or non-string fields are reported by step-callee / field-types
        if ref.name != ref.template:
            message = f"templateRef name '{ref.name}' must match template '{ref.template}'"
            yield at(spec, (*ref.path, "template"), message)
        if not (REF_WITH_VERSION.match(ref.name) or REF_WITHOUT_VERSION.match(ref.name)):
            yield at(
                spec,
                (*ref.path, "name"),
                f"templateRef name '{ref.name}' must match either pattern: {REF_WITH_VERSION.pattern} or "
                f"{REF_WITHOUT_VERSION.pattern} ({_hint(ref.name)})",
            )
