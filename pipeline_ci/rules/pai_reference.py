"""Every ``{{...}}`` reference of a PAI manifest resolves, and ``from`` takes its own category.

References (Alibaba Cloud, "PAI-Flow manifest parameters":
https://www.alibabacloud.com/help/en/pai/developer-reference/pipeline-manifest) appear in ``from``
(arguments and pipeline outputs), ``when``, ``withParam``, ``withItems``, argument values and container
fields:

- ``{{inputs.parameters.<n>}}`` / ``{{inputs.artifacts.<n>}}``: an input declared in the enclosing
  pipeline's ``spec.inputs`` (for a step's fields, the pipeline that holds the step);
- ``{{pipelines.<step>.outputs.parameters.<n>}}`` / ``...artifacts.<n>``: a sibling step (and,
  for a step running an inline ``guid`` component, an output that component declares);
  ``{{pipelines.<step>.outputs.result}}`` names a sibling too;
- ``{{item}}``: only inside a loop step (``withItems``/``withParam``/``withSequence``).

The kind must be ``parameters`` or ``artifacts``, a ``from`` must be exactly one ``{{...}}``, and a
parameter takes a parameter, an artifact an artifact. Namespaces other than ``inputs``,
``pipelines`` and ``item`` are not checked. A step matched only by its identifier is accepted here
(``pai-identifier-reference`` warns about it).

Passing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: train
      version: v1.0.0
    spec:
      inputs:
        parameters:
        - name: table
          type: String
          value: pai_online_project.wumai_data
      outputs:
        artifacts:
        - name: table_out
          from: "{{pipelines.read.outputs.artifacts.outputTable}}"
      pipelines:
      - metadata:
          provider: pai
          identifier: data_source
          version: v1
          name: read
        spec:
          arguments:
            parameters:
            - name: inputTableName
              from: "{{inputs.parameters.table}}"

Failing manifest::

    apiVersion: core/v1
    metadata:
      provider: "1234567890"
      identifier: train
      version: v1.0.0
    spec:
      inputs:
        parameters:
        - name: table
          type: String
          value: pai_online_project.wumai_data
      pipelines:
      - metadata:
          provider: pai
          identifier: data_source
          version: v1
          name: read
        spec:
          arguments:
            parameters:
            - name: inputTableName
              from: "{{inputs.parameters.tabel}}"  # <-- no input "tabel"
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.variables import did_you_mean
from ..platforms.pai.manifest import (
    KINDS,
    SINGLE_TAG_RE,
    Reference,
    component,
    declared,
    from_values,
    nodes,
    references,
    resolve,
    step_names,
)
from .base import Hit, ManifestContext, at

ID = "P07"
NAME = "pai-reference"
SEVERITY = "error"
TARGET = "manifest"

SHAPES = "{{inputs.<parameters|artifacts>.<name>}} or {{pipelines.<step>.outputs.<parameters|artifacts>.<name>}}"


def check(ctx: ManifestContext) -> Iterator[Hit]:
    for node in nodes(ctx.manifest):
        for path, value, _ in from_values(node):
            if not (isinstance(value, str) and SINGLE_TAG_RE.match(value)):
                yield at(node.doc, path, f"from must be exactly one reference such as {SHAPES}, not {value!r}")
    for ref in references(ctx.manifest):
        if ref.parsed is not None and (problem := _problem(ctx, ref)):
            yield at(ref.scope.doc, ref.path, f"{{{{{ref.tag}}}}} does not resolve: {problem}")


def _problem(ctx: ManifestContext, ref: Reference) -> str | None:
    parsed, scope = ref.parsed, ref.scope
    assert parsed is not None
    if parsed.root == "item":
        if ref.step is None or not ref.step.loops:
            return "{{item}} exists only in a loop step (withItems, withParam or withSequence)"
        return None
    if parsed.kind not in (*KINDS, "result") or parsed.root == "inputs" and parsed.kind == "result":
        return f"the kind must be 'parameters' or 'artifacts' (expected {SHAPES})"
    if ref.field == "from" and ref.category and parsed.kind in KINDS and parsed.kind != ref.category:
        return (f"{'an artifact' if ref.category == 'artifacts' else 'a parameter'} takes "
                f"{'artifacts' if ref.category == 'artifacts' else 'parameters'}, not {parsed.kind}")
    if parsed.root == "inputs":
        if parsed.name is None:
            return f"no input name (expected {SHAPES})"
        names = declared(scope, "inputs", parsed.kind)
        if names is None or parsed.name in names:
            return None
        other = "artifacts" if parsed.kind == "parameters" else "parameters"
        is_other = parsed.name in (declared(scope, "inputs", other) or {})
        hint = f"; '{parsed.name}' is an input {other[:-1]}" if is_other else did_you_mean(parsed.name, names)
        return (f"{scope.label} declares no input {parsed.kind[:-1]} '{parsed.name}' "
                f"(declared: {', '.join(names) or 'none'}){hint}")
    if parsed.step is None:
        return f"expected {SHAPES}"
    target, _ = resolve(scope, parsed.step)
    if target is None:
        siblings = step_names(scope)
        return (f"{scope.label} has no step '{parsed.step}' (steps: {', '.join(siblings) or 'none'})"
                f"{did_you_mean(parsed.step, siblings)}")
    comp = component(ctx.manifest, target)
    if comp is None or parsed.kind not in KINDS or parsed.name is None:
        return None
    outputs = declared(comp, "outputs", parsed.kind)
    if outputs is None or parsed.name in outputs:
        return None
    return (f"{target.label} runs {comp.label}, which declares no output {parsed.kind[:-1]} '{parsed.name}' "
            f"(declared: {', '.join(outputs) or 'none'}){did_you_mean(parsed.name, outputs)}")
