"""Every key of a run overrides file is a declared workflow parameter, and every value is allowed.

An overrides file (``overrides*.yaml|yml|json`` or ``*.overrides.yaml|yml|json``, see
``overrides-schema``) sets workflow parameters by name. The Clarifai SDK sends every name and value
to the server unchecked, so a misspelt name or a value the steps do not accept is caught, if at all,
only after the run was submitted (Argo rejects overriding a parameter the workflow does not declare);
``pipeline-ci run`` refuses them before starting anything. The same checks run here, against
``spec.arguments.parameters`` of the project's Argo spec, with each value stringified as
``pipeline-ci run`` sends it (``true``, numbers as written, lists and mappings as JSON):

- a name the workflow does not declare is reported at the key, with the closest declared name;
- a value outside the parameter's ``enum`` is reported at the value;
- so is a value outside the ``accepted_values`` of the step params the parameter is passed to as is
  (``value: "{{workflow.parameters.NAME}}"`` in a ``templateRef`` step or task whose step folder is
  in the project).

Passing overrides::

    input_text: "Hello, world"

Failing overrides::

    input_txt: "Hello, world"  # <-- did you mean 'input_text'?

Failing project::

    # file: stepA/config.yaml
    pipeline_step:
      id: stepA
      user_id: u1
      app_id: a1
    pipeline_step_input_params:
    - name: input_text
      accepted_values: ["hi", "hello"]
    build_info:
      python_version: "3.12"
    pipeline_step_compute_info:
      cpu_limit: 500m
      cpu_memory: 500Mi
      num_accelerators: 0
    # file: overrides.yaml
    input_text: bye  # <-- stepA accepts hi, hello
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from ..argo.walk import parameters, spec_body
from ..overrides import NumberText, accepted_values, map_refs, stringify, validate
from ..yamldoc import Document
from .base import Hit, OverridesContext, at

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any

ID = "O02"
NAME = "overrides-parameter"
SEVERITY = "error"
TARGET = "overrides"


def check(ctx: OverridesContext) -> Iterator[Hit]:
    doc = ctx.overrides.doc
    if not isinstance(doc.data, dict):
        return  # overrides-schema
    declared, accepted = _workflow(ctx)
    if declared is None:
        return
    for name, value in doc.data.items():
        if not isinstance(name, str) or value is None:
            continue  # overrides-schema
        for message in validate({name: _sent(doc, name, value)}, declared, accepted):
            yield at(doc, (name,), message, key=name not in declared)


def _workflow(ctx: OverridesContext) -> tuple[dict[str, dict] | None, dict[str, list[str]]]:
    """The workflow parameters by name (None without a spec) and the values accepted by every step each is
    passed to; computed once per project, shared by all its overrides files."""
    if NAME not in ctx.memo:
        spec = ctx.project.spec.data if ctx.project.spec is not None else None
        if not isinstance(spec, dict):
            ctx.memo[NAME] = None, {}
        else:
            declared = {p["name"]: p for _, p in parameters(spec_body(spec), "arguments")
                        if isinstance(p.get("name"), str)}
            ctx.memo[NAME] = declared, accepted_values(spec, map_refs(ctx.project, [], []))
    return ctx.memo[NAME]


def _sent(doc: Document, name: str, value: Any) -> str:
    """The string ``pipeline-ci run`` sends for ``value``: numbers and dates keep the user's spelling."""
    node = doc.node_at((name,))
    if isinstance(node, yaml.ScalarNode) and not isinstance(value, str | bool):
        value = NumberText(node.value)
    return stringify(value)
