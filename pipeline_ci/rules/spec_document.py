"""The embedded Argo spec is a Workflow document the Clarifai SDK accepts.

``argo_orchestration_spec`` must hold YAML text (a ``|`` block) that parses to a mapping with
``apiVersion: argoproj.io/v1alpha1``, ``kind: Workflow`` and a ``spec`` mapping that has a
``templates`` list; this is the order the SDK's ``PipelineConfigValidator`` checks them in
(``clarifai/runners/utils/pipeline_validation.py`` in Clarifai/clarifai-python). Applies to the root lockfile's copy too.

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
    kind: Pod  # <-- must be Workflow
    spec:
      entrypoint: main
      templates:
      - name: main
        steps: []
"""

from __future__ import annotations

from collections.abc import Iterator

from ..project import SPEC_PATH
from .base import ClarifaiContext, Hit, at

ID = "A01"
NAME = "spec-document"
SEVERITY = "error"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    project = ctx.project
    for outer, spec in ((project.config, project.spec), (project.lock, project.lock_spec)):
        if outer is None or spec is None:
            continue
        data = spec.data
        if not isinstance(data, dict):
            yield at(outer, SPEC_PATH, "argo_orchestration_spec must be a valid YAML object (a mapping)")
            continue
        for field in ("apiVersion", "kind", "spec"):
            if field not in data:
                yield at(spec, (), f"'{field}' not found in argo_orchestration_spec")
        if "apiVersion" in data and data["apiVersion"] != "argoproj.io/v1alpha1":
            yield at(spec, ("apiVersion",), "argo_orchestration_spec must have apiVersion 'argoproj.io/v1alpha1'")
        if "kind" in data and data["kind"] != "Workflow":
            yield at(spec, ("kind",), "argo_orchestration_spec must have kind 'Workflow'")
        body = data.get("spec")
        if "spec" in data and not isinstance(body, dict):
            yield at(spec, ("spec",), "argo_orchestration_spec.spec must be a mapping")
        elif isinstance(body, dict) and "templates" not in body:
            yield at(spec, ("spec",), "'templates' not found in argo_orchestration_spec.spec")
        elif isinstance(body, dict) and not isinstance(body["templates"], list):
            yield at(spec, ("spec", "templates"), "'templates' must be a list of templates")
