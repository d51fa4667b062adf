"""Arguments passed to a Clarifai pipeline step match the step's ``pipeline_step_input_params``.

A step or DAG task that calls a pipeline step through ``templateRef`` passes its arguments to the
step's script as ``--name value``. The step declares what it accepts in its ``config.yaml``
(``pipeline_step_input_params``: names, optional ``default`` and ``accepted_values``). Neither Argo
nor the Clarifai SDK compares the two, so mistakes show up only when the step runs. Errors: an
argument the step does not declare (usually a typo), a declared param without ``default`` that is
not passed, a literal value (no ``{{…}}``) outside the param's ``accepted_values`` (compared as
Argo stringifies values: ``true``, ``5``). Refs whose step folder is not in this project
(matched by ``pipeline_step.user_id``, ``app_id`` and ``id``) are skipped.

Passing project::

    # file: stepA/config.yaml
    pipeline_step:
      id: stepA
      user_id: u1
      app_id: a1
    pipeline_step_input_params:
    - name: input_text
    - name: mode
      default: fast
      accepted_values: ["fast", "slow"]
    build_info:
      python_version: "3.12"
    pipeline_step_compute_info:
      cpu_limit: 500m
      cpu_memory: 500Mi
      num_accelerators: 0
    # file: stepA/1/pipeline_step.py
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--input_text", required=True)
    parser.add_argument("--mode", default="fast", choices=["fast", "slow"])
    args = parser.parse_args()
    print(args.input_text if args.mode == "fast" else args.input_text.upper())

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
              - name: input_txt  # <-- stepA declares input_text
                value: "{{workflow.parameters.input_text}}"
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.variables import declared_names, did_you_mean
from ..argo.walk import argo_string, nodes, parameters
from ..project import StepDir, TemplateRef, id_text, step_params
from .base import ClarifaiContext, Hit, at

ID = "A39"
NAME = "step-arguments"
SEVERITY = "error"
TARGET = "clarifai"


def _step_for(steps: list[StepDir], ref: TemplateRef) -> StepDir | None:
    wanted = (ref.user_id, ref.app_id, ref.step_id)
    return next((s for s in steps if s.config is not None and tuple(map(id_text, s.ids)) == wanted), None)


def _params(step: StepDir) -> dict[str, dict] | None:
    """Declared input params by name (:func:`~pipeline_ci.project.step_params`); None when malformed."""
    items = step.config.get(("pipeline_step_input_params",)) if step.config else None
    if items is not None and not isinstance(items, list):
        return None
    return step_params(step)


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    refs = {ref.path: ref for ref in ctx.project.refs}
    for node in nodes(spec.data):
        ref = refs.get((*node.path, "templateRef"))
        if ref is None or not ref.step_id:
            continue
        step = _step_for(ctx.project.steps, ref)
        declared = _params(step) if step is not None else None
        supplied = declared_names(node.body, "arguments")
        if step is None or declared is None or supplied is None:
            continue
        where = f"{step.entry}/config.yaml"
        for rel, param in parameters(node.body, "arguments"):
            name = param.get("name")
            if not isinstance(name, str):
                continue
            if name not in declared:
                yield at(
                    spec,
                    (*node.path, *rel, "name"),
                    f"{node.kind} '{node.name}' passes '{name}' but step '{ref.step_id}' ({where}) declares no such "
                    f"input param (declared: {', '.join(declared) or 'none'}){did_you_mean(name, declared)}",
                )
                continue
            accepted = declared[name].get("accepted_values")
            value = param.get("value")
            if not isinstance(accepted, list) or not accepted or isinstance(value, dict | list) or value is None:
                continue
            text = argo_string(value)
            if "{{" not in text and text not in {argo_string(a) for a in accepted}:
                yield at(
                    spec,
                    (*node.path, *rel, "value"),
                    f"value '{text}' of '{name}' is not in the accepted_values of step '{ref.step_id}' ({where}): "
                    f"{', '.join(argo_string(a) for a in accepted)}",
                )
        for name, entry in declared.items():
            if entry.get("default") is None and name not in supplied:
                has_args = "arguments" in node.body
                yield at(
                    spec,
                    (*node.path, "arguments" if has_args else "templateRef"),
                    f"{node.kind} '{node.name}' does not pass '{name}', which step '{ref.step_id}' ({where}) "
                    "declares without a default",
                    key=True,
                )
