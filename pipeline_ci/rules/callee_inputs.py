"""A call to a local template supplies every input it requires, and only inputs it declares.

When a step or task calls a template of ``spec.templates`` (``template: NAME``, or an ``inline``
template), each of the callee's ``inputs.parameters`` gets the argument of the same name, else its
own ``value``, else its ``default``; if none exists Argo rejects the workflow (gist
``inputs.parameters.message was not supplied``). The entrypoint and ``spec.onExit`` receive
``spec.arguments`` as their arguments. Error: a required input is not supplied. Warning: an
argument the callee does not declare, which Argo silently ignores (usually a typo). Calls through
``templateRef`` are checked against the step's config by ``step-arguments`` instead.

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
        - - name: say
            template: echo
            arguments:
              parameters:
              - name: message
                value: "{{workflow.parameters.input_text}}"
      - name: echo
        inputs:
          parameters:
          - name: message
          - name: times
            default: "1"
        container:
          image: alpine:3.20
          command: [sh, -c, "echo {{inputs.parameters.message}} {{inputs.parameters.times}}"]

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
        - - name: say
            template: echo  # <-- 'message' is not supplied
            arguments:
              parameters:
              - name: mesage
                value: "{{workflow.parameters.input_text}}"
      - name: echo
        inputs:
          parameters:
          - name: message
        container:
          image: alpine:3.20
          command: [sh, -c, "echo {{inputs.parameters.message}}"]
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.walk import nodes, parameters, spec_body, template_map
from ..yamldoc import Document, JsonPath
from .base import ClarifaiContext, Hit, at

ID = "A21"
NAME = "callee-inputs"
SEVERITY = "error"
TARGET = "clarifai"


def _inputs(callee: dict) -> dict[str, bool]:
    """Declared input parameter names → whether the callee gives them a value itself."""
    out: dict[str, bool] = {}
    for _, param in parameters(callee, "inputs"):
        name = param.get("name")
        if isinstance(name, str) and name:
            has = any(param.get(k) is not None for k in ("value", "default", "valueFrom"))
            out[name] = out.get(name, False) or has
    return out


def _arguments(holder: dict, path: JsonPath) -> dict[str, JsonPath]:
    """Argument names of ``holder.arguments.parameters`` → path of the name (first wins)."""
    out: dict[str, JsonPath] = {}
    for rel, param in parameters(holder, "arguments"):
        name = param.get("name")
        if isinstance(name, str) and name:
            out.setdefault(name, (*path, *rel, "name"))
    return out


def _missing(
    spec: Document, callee: dict, cname: str, args: dict[str, JsonPath], where: JsonPath, caller: str
) -> Iterator[Hit]:
    for name, has_value in _inputs(callee).items():
        if not has_value and name not in args:
            yield at(
                spec,
                where,
                f"{caller}: inputs.parameters.{name} was not supplied: template '{cname}' requires input '{name}' "
                "(no value or default) and the call passes no argument of that name",
            )


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    local = template_map(spec.data)
    body = spec_body(spec.data)
    workflow_args = _arguments(body, ("spec",))
    for key in ("entrypoint", "onExit"):
        cname = body.get(key)
        if isinstance(cname, str) and cname in local:
            caller = f"spec.{key} (receives spec.arguments)"
            yield from _missing(spec, local[cname], cname, workflow_args, ("spec", key), caller)
    for node in nodes(spec.data):
        cname = node.body.get("template")
        inline = node.body.get("inline")
        if isinstance(cname, str) and cname in local and node.body.get("templateRef") is None:
            callee, where = local[cname], (*node.path, "template")
        elif isinstance(inline, dict) and not cname and node.body.get("templateRef") is None:
            callee, where, cname = inline, (*node.path, "inline"), "inline"
        else:
            continue
        caller = f"{node.kind} '{node.name}'"
        args = _arguments(node.body, node.path)
        yield from _missing(spec, callee, cname, args, where, caller)
        declared = _inputs(callee)
        for name, path in args.items():
            if name not in declared:
                yield at(
                    spec,
                    path,
                    f"{caller} passes argument '{name}' but template '{cname}' declares no such input "
                    f"(declared: {', '.join(declared) or 'none'}); Argo ignores it",
                    severity="warning",
                )
