"""``build_info.python_version`` names a Python with a Clarifai base image (3.11 or 3.12).

The SDK substitutes the version, unchecked, into the generated Dockerfile's base image tag
(``python-base:<version>-<sha>``); only 3.11 and 3.12 are known to exist (the model builder's
allowed list, default 3.12). Any other version is unconfirmed and probably fails the image build
after the upload. A warning, because more base images may exist. An unquoted ``3.10`` (the float
3.1) is reported by ``schema``.

Passing step::

    pipeline_step:
      id: stepA
      user_id: u1
      app_id: a1
    pipeline_step_input_params:
    - name: input_text
    build_info:
      python_version: "3.11"
    pipeline_step_compute_info:
      cpu_limit: 500m

Failing step::

    pipeline_step:
      id: stepA
      user_id: u1
      app_id: a1
    pipeline_step_input_params:
    - name: input_text
    build_info:
      python_version: "3.9"  # <-- no known base image
    pipeline_step_compute_info:
      cpu_limit: 500m
"""

from __future__ import annotations

from collections.abc import Iterator

from .base import ClarifaiContext, Hit, at

ID = "C10"
NAME = "python-version"
SEVERITY = "warning"
TARGET = "clarifai"

SUPPORTED = ("3.11", "3.12")
PATH = ("build_info", "python_version")


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    for step in ctx.project.steps:
        version = step.config.get(PATH) if step.config else None
        if step.config is not None and isinstance(version, str) and version not in SUPPORTED:
            yield at(
                step.config,
                PATH,
                f"python_version {version!r} has no known Clarifai base image (supported: "
                f"{', '.join(SUPPORTED)}); the SDK does not check it and the image build would likely fail",
            )
