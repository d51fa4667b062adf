"""``metadata.name`` is a valid Kubernetes name; ``generateName`` leaves room for the random suffix.

Argo rejects a Workflow whose name is longer than 63 characters (``workflow name "…" must
not be more than 63 characters long (currently N)``), and Kubernetes refuses to create one
whose name is not a lowercase RFC-1123 subdomain (lowercase letters, digits, ``-`` and ``.``,
starting and ending with a letter or digit): both are errors. ``generateName`` is not checked by
Argo; Kubernetes cuts it to 58 characters before adding 5 random ones, so a longer prefix is
silently truncated, and a prefix with upper-case letters or ``_`` yields an invalid name: both
are warnings.

Passing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata:
      name: my-pipeline-run
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
      name: My_Pipeline  # <-- upper case and '_' are not allowed
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
"""

from __future__ import annotations

from collections.abc import Iterator

from ..lazyre import lazy_re
from .base import ClarifaiContext, Hit, at

ID = "A06"
NAME = "workflow-name"
SEVERITY = "error"
TARGET = "clarifai"

MAX_NAME = 63
MAX_GENERATE_NAME = 58
_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
SUBDOMAIN = lazy_re(rf"{_LABEL}(?:\.{_LABEL})*\Z")
SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    meta = spec.get(("metadata",)) if spec is not None else None
    if spec is None or not isinstance(meta, dict):
        return
    name = meta.get("name")
    path = ("metadata", "name")
    if name is not None and not isinstance(name, str):
        yield at(spec, path, f"metadata.name must be a string, not {name!r}")
    elif name:
        if len(name) > MAX_NAME:
            message = f'workflow name "{name}" must not be more than {MAX_NAME} characters long (currently {len(name)})'
            yield at(spec, path, message)
        if not SUBDOMAIN.match(name):
            yield at(spec, path, f"metadata.name {name!r} is invalid: {SUBDOMAIN_RULE}")
    prefix = meta.get("generateName")
    path = ("metadata", "generateName")
    if prefix is not None and not isinstance(prefix, str):
        yield at(spec, path, f"metadata.generateName must be a string, not {prefix!r}")
    elif prefix:
        if len(prefix) > MAX_GENERATE_NAME:
            yield at(
                spec,
                path,
                f"metadata.generateName {prefix!r} is {len(prefix)} characters long: Kubernetes cuts it to "
                f"{MAX_GENERATE_NAME} before adding 5 random characters",
                severity="warning",
            )
        if not SUBDOMAIN.match(prefix[:MAX_GENERATE_NAME] + "x1y2z"):
            yield at(
                spec,
                path,
                f"metadata.generateName {prefix!r} yields invalid workflow names: {SUBDOMAIN_RULE}",
                severity="warning",
            )
