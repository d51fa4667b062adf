"""Constructs the local executor cannot run are reported where they are (they run on the platform).

``pipeline-ci run --backend local`` runs the embedded Argo Workflow on this machine without Kubernetes or
Docker. What it cannot run (a ``resource`` or ``http`` template, a container whose command is not
python or sh/bash, a ``suspend`` without a duration, a container's ``workingDir``, ``spec.shutdown``, artifacts in a
remote repository, ConfigMap values...) would fail there, so a local run refuses the spec before anything starts (exit 2) unless
``--allow-unsupported`` is given. This warning shows each such construct at its position, from the same
list the executor uses (``pipeline_ci/argo/local_support.py``; the supported features
are in ``docs/local-executor.md``). The spec is fine for the platform: disable the rule if you never run
locally.

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
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
        - - name: notify
            template: notify
      - name: notify
        container:
          image: curlimages/curl
          command: [curl]  # <-- no Docker locally
          args: ["https://example.com"]
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.local_support import constructs
from .base import ClarifaiContext, Hit, at

ID = "A41"
NAME = "local-unsupported"
SEVERITY = "warning"
TARGET = "clarifai"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None or not isinstance(spec.data, dict):
        return
    for item in constructs(spec.data):
        yield at(spec, item.path, item.message(), key=isinstance(item.path[-1], str))
