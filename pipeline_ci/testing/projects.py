"""A small, lint-clean Clarifai pipeline project to build test and example projects from.

User ``u1``, app ``a1``, steps ``stepA`` and ``stepB`` that take ``input_text``; the root ``config.yaml``
embeds :data:`BASE_SPEC`, a two-step Argo Workflow passing the workflow parameter ``input_text`` to both.
:func:`base_files` returns every file of it (relative path -> text), :func:`root_config` the root
``config.yaml`` around another spec. The rule docstring examples (:mod:`pipeline_ci.rules.examples`) are
written against it, and so are many tests.
"""

from __future__ import annotations

import textwrap

BASE_SPEC = """\
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
    - - name: step-b
        templateRef:
          name: users/u1/apps/a1/pipeline_steps/stepB
          template: users/u1/apps/a1/pipeline_steps/stepB
        arguments:
          parameters:
          - name: input_text
            value: "{{workflow.parameters.input_text}}"
"""

ROOT_TEMPLATE = """\
pipeline:
  id: demo
  user_id: u1
  app_id: a1
  step_directories:
  - stepA
  - stepB
  orchestration_spec:
    argo_orchestration_spec: |
{spec}"""

STEP_TEMPLATE = """\
pipeline_step:
  id: {step}
  user_id: u1
  app_id: a1
pipeline_step_input_params:
- name: input_text
  description: Text to process
build_info:
  python_version: "3.12"
pipeline_step_compute_info:
  cpu_limit: 500m
  cpu_memory: 500Mi
  num_accelerators: 0
"""

SCRIPT = """\
import argparse


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input_text", required=True)
    args = parser.parse_args()
    print(args.input_text.upper())


if __name__ == "__main__":
    main()
"""


def root_config(spec: str) -> str:
    """The base project's root ``config.yaml`` with ``spec`` (an Argo Workflow as YAML text) embedded."""
    return ROOT_TEMPLATE.format(spec=textwrap.indent(spec, " " * 6))


def base_files() -> dict[str, str]:
    """Every file of the base project: relative path -> text."""
    files = {"config.yaml": root_config(BASE_SPEC)}
    for step in ("stepA", "stepB"):
        files[f"{step}/config.yaml"] = STEP_TEMPLATE.format(step=step)
        files[f"{step}/requirements.txt"] = "# standard library only\n"
        files[f"{step}/1/pipeline_step.py"] = SCRIPT
    return files
