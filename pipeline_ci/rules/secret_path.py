"""Secret references look like ``users/<user>/secrets/<name>`` and are exposed as valid env var names.

``pipeline.config.step_version_secrets.<step>`` maps an environment variable name to a secret
resource path. The API documents ``users/<user>/secrets/<name>`` (the docs also show
``users/<user>/apps/secrets/<name>``, which is unconfirmed); the SDK checks neither the path nor
the variable name, so mistakes surface only when the step runs. The secret's user should be
``pipeline.user_id``. Variable names must match ``[A-Za-z_][A-Za-z0-9_]*`` to be readable from
the environment. Warnings, since other forms may be accepted by the platform.

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
          step-a:
            API_KEY: users/u1/apps/a1/secrets/api-key  # <-- not users/<user>/secrets/<name>
"""

from __future__ import annotations

from collections.abc import Iterator

from ..lazyre import lazy_re
from .base import ClarifaiContext, Hit, at

ID = "X05"
NAME = "secret-path"
SEVERITY = "warning"
TARGET = "clarifai"

PATH = ("pipeline", "config", "step_version_secrets")
SECRET_RE = lazy_re(r"^users/([^/\s]+)/secrets/([^/\s]+)$")
ENV_RE = lazy_re(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    config = ctx.project.config
    secrets = config.get(PATH) if config else None
    if config is None or not isinstance(secrets, dict):
        return
    owner = config.get(("pipeline", "user_id"))
    for step, env in secrets.items():
        if not isinstance(env, dict):
            continue
        for var, ref in env.items():
            where = (*PATH, step, var)
            if not isinstance(var, str) or not ENV_RE.match(var):
                yield at(config, where, f"environment variable name {var!r} is not valid "
                         "([A-Za-z_][A-Za-z0-9_]*); the step could not read the secret", key=True)
            if not isinstance(ref, str) or not ref:
                continue  # schema reports non-strings; the SDK skips empty values
            match = SECRET_RE.match(ref)
            if match is None:
                yield at(config, where, f"secret reference {ref!r} does not look like users/<user>/secrets/<name> "
                         f"(the form the API documents; the user should be pipeline.user_id {owner!r})")
            elif isinstance(owner, str) and match.group(1) != owner:
                yield at(config, where, f"secret {ref!r} belongs to user {match.group(1)!r}, not to "
                         f"pipeline.user_id {owner!r}")
