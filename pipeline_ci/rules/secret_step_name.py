"""Keys of ``pipeline.config.step_version_secrets`` are names of Argo steps or DAG tasks of the spec.

Secrets are attached per Argo **step/task name** (``step-0``, ``report``), not per step id or
template name. The SDK copies the mapping to the platform without checking it, so a secret keyed
by a name that does not exist in the spec is silently never exposed and the step fails at run
time when it reads its environment variable. Reported at the key, with the closest name.

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
              steps:
              - - name: step-a
                  template: hello
            - name: hello
              container:
                image: python:3.12
                command: [python, -c, "print('hi')"]
      config:
        step_version_secrets:
          step-a:
            API_KEY: users/u1/secrets/api-key

Failing root::

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
              steps:
              - - name: step-a
                  template: hello
            - name: hello
              container:
                image: python:3.12
                command: [python, -c, "print('hi')"]
      config:
        step_version_secrets:
          step-0:  # <-- no step or task named step-0
            API_KEY: users/u1/secrets/api-key
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.walk import nodes, template_map
from .base import ClarifaiContext, Hit, at

ID = "X04"
NAME = "secret-step-name"
SEVERITY = "error"
TARGET = "clarifai"

PATH = ("pipeline", "config", "step_version_secrets")


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    project = ctx.project
    config, spec = project.config, project.spec
    secrets = config.get(PATH) if config else None
    if config is None or spec is None or not isinstance(secrets, dict):
        return
    names = {node.name for node in nodes(spec.data) if isinstance(node.name, str)}
    templates = template_map(spec.data)
    for key in secrets:
        if key in names:
            continue
        text = str(key)
        lower = {name.lower(): name for name in sorted(names, reverse=True)}
        import difflib  # only for a hint: not imported by a clean cold lint

        close = difflib.get_close_matches(text.lower(), list(lower), n=1)
        hint = f"; did you mean {lower[close[0]]!r}?" if close else ""
        if text in templates:
            hint = f"; {text!r} is a template name, but secrets are keyed by the step/task that calls it{hint}"
        yield at(config, (*PATH, key), f"step_version_secrets key {text!r} is not the name of a step or task in "
                 f"the Argo spec, so its secrets are never exposed{hint}", key=True)
