"""``spec.entrypoint`` is set and names a template of ``spec.templates``.

Argo rejects a Workflow without an entrypoint (``spec.entrypoint is required``) or whose
entrypoint is not defined (``template name 'nope' undefined``). The Clarifai SDK checks
neither, so the failure only shows when the run starts.

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
      entrypoint: nope  # <-- no such template
      templates:
      - name: main
        steps: []
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.walk import spec_body, template_map
from .base import ClarifaiContext, Hit, at

ID = "A07"
NAME = "entrypoint"
SEVERITY = "error"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None or not isinstance(spec.data, dict) or not isinstance(spec.data.get("spec"), dict):
        return
    entry = spec_body(spec.data).get("entrypoint")
    if entry is None:
        yield at(spec, ("spec",), "spec.entrypoint is required")
    elif not isinstance(entry, str) or entry not in template_map(spec.data):
        yield at(spec, ("spec", "entrypoint"), f"template name '{entry}' undefined (spec.entrypoint)")
