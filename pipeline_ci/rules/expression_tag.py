"""``{{=…}}`` expression tags and ``expression:`` fields parse as Argo's expr-lang expressions.

Argo evaluates ``{{=expr}}``, ``valueFrom.expression``, ``fromExpression``, ``retryStrategy.expression``
and hook ``expression`` fields with expr-lang (plus ``asInt``, ``asFloat``, ``jsonpath``, ``toJson`` and
``sprig.*``) only at run time: ``argo lint`` does not look inside them, so a typo shows up when the step
starts. pipeline-ci parses each one (:mod:`pipeline_ci.argo.expr`) and reports, at the exact line and
column: syntax errors, unknown functions (``sprig.*`` included), names that are no Argo variable (Argo's
variables start with ``inputs``, ``workflow``, ``steps``, ``tasks``, ``item``, ``retries``, ``lastRetry``,
…), type errors between constants (``1 + 'a'``), constant ``matches`` patterns RE2 rejects, and
``inputs.parameters.X`` / ``workflow.parameters.X`` that the template or the workflow does not declare
(unless on the left of ``??`` or after ``?.``). Functions Argo has but pipeline-ci's local evaluator lacks
(``sprig.semver``, ``now()``, …) are A41 ``local-unsupported`` warnings (``run --backend local`` refuses them).
In an ``expression:`` field, the ``{{…}}`` tags
substituted before evaluation count as values. Hyphenated names need an index:
``inputs.parameters['my-param']``, ``steps['step-a'].outputs.result``.

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
                value: "{{=sprig.upper(workflow.parameters.input_text)}}"

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
                value: "{{=sprig.upper(workflow.parameters.input_text}}"  # <-- unclosed call
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from ..argo.variables import declared_names, did_you_mean
from ..argo.walk import TAG_RE, spec_body, strings
from ..findings import Severity
from ..yamldoc import Document, JsonPath, Pos
from .base import ClarifaiContext, Hit

ID = "A34"
NAME = "expression-tag"
SEVERITY = "error"
TARGET = "clarifai"

FIELDS = ("expression", "fromExpression")


def _is_expression_field(path: JsonPath) -> bool:
    """``valueFrom.expression``, ``fromExpression`` (artifacts), ``retryStrategy.expression`` and
    ``hooks.<event>.expression``."""
    if not path or path[-1] not in FIELDS:
        return False
    if path[-1] == "fromExpression":
        return True
    return len(path) >= 2 and path[-2] in ("valueFrom", "retryStrategy") or len(path) >= 3 and path[-3] == "hooks"


def _decoded_columns(raw: str, style: str | None) -> list[int]:
    """For a one-line flow scalar's source (quotes included), the source column of each value character."""
    if style not in ("'", '"'):
        return list(range(len(raw)))
    cols: list[int] = []
    i, end = 1, len(raw) - 1
    while i < end:
        if style == "'" and raw.startswith("''", i):
            cols.append(i)
            i += 2
        elif style == '"' and raw[i] == "\\" and i + 1 < end:
            width = {"x": 2, "u": 4, "U": 8}.get(raw[i + 1], 0)
            cols.append(i)
            i += 2 + width
        else:
            cols.append(i)
            i += 1
    return cols


def value_pos(doc: Document, path: JsonPath, offset: int) -> Pos:
    """Line and column (in the file the user edits) of character ``offset`` of the string value at ``path``:
    exact for one-line plain and quoted scalars and for literal (``|``) block scalars; else the value's start."""
    base = doc.pos(path)
    node = doc.node_at(path)
    if not isinstance(node, yaml.ScalarNode) or doc.pos(()) == doc.pos(("spec",)):
        return base  # not a scalar, or an embedded spec whose positions all map to one place
    start, end = node.start_mark, node.end_mark
    shift = base.col - (start.column + 1)  # indentation added by the outer block scalar

    def outer(line: int, col: int) -> Pos:
        return Pos(base.line + line - start.line, col + 1 + shift)

    if node.style == "|":  # value line k is source line start + 1 + k, less the block's indentation
        before = node.value[:offset]
        raw_line = start.line + 1 + before.count("\n")
        if raw_line >= len(doc.lines):
            return base
        indent = next((len(line) - len(line.lstrip(" ")) for line in doc.lines[start.line + 1 :] if line.strip()), 0)
        return outer(raw_line, indent + len(before) - (before.rfind("\n") + 1))
    if start.line != end.line or start.line >= len(doc.lines) or node.style not in (None, "", "'", '"'):
        return base
    raw = doc.lines[start.line][start.column : end.column]
    cols = _decoded_columns(raw, node.style)
    if offset >= len(cols):
        return outer(start.line, start.column + len(raw) - (1 if node.style in ("'", '"') else 0))
    return outer(start.line, start.column + cols[offset])


class _Declared:
    """Declared workflow parameters and, per template, input parameters (None where malformed)."""

    def __init__(self, spec: dict) -> None:
        self.body = spec_body(spec)
        self.workflow = declared_names(self.body, "arguments")
        self.inputs: dict[int, list[str] | None] = {}

    def template_inputs(self, path: JsonPath) -> tuple[str, list[str]] | None:
        if len(path) < 3 or path[1] != "templates" or "inline" in path or not isinstance(path[2], int):
            return None
        items = self.body.get("templates")
        tmpl = items[path[2]] if isinstance(items, list) and path[2] < len(items) else None
        if not isinstance(tmpl, dict):
            return None
        if path[2] not in self.inputs:
            self.inputs[path[2]] = declared_names(tmpl, "inputs")
        names = self.inputs[path[2]]
        return None if names is None else (f"templates.{tmpl.get('name')}", names)

    def problems(self, text: str, path: JsonPath) -> Iterator[tuple[int, str]]:
        """References to parameters nobody declares: ``(offset in text, message)``."""
        from ..argo import expr

        for parts, offset in expr.references(text):
            if len(parts) < 3 or parts[1] != "parameters":
                continue
            name = parts[2]
            if parts[0] == "workflow" and self.workflow is not None and name not in self.workflow and name != "json":
                known = ", ".join(self.workflow) or "none"
                yield offset, (f"failed to resolve workflow.parameters.{name}: no workflow parameter '{name}' "
                               f"(declared: {known}){did_you_mean(name, self.workflow)}")
            elif parts[0] == "inputs" and (found := self.template_inputs(path)) is not None and name not in found[1]:
                where, names = found
                yield offset, (f"{where}: failed to resolve inputs.parameters.{name}: the template declares no "
                               f"input parameter '{name}' (declared: {', '.join(names) or 'none'})"
                               f"{did_you_mean(name, names)}")


Problem = tuple[int, str, Severity]


def _problems(source: str, path: JsonPath, declared: _Declared, *, placeholders: bool = False) -> list[Problem]:
    """Errors of one expression (syntax, names, types; else undeclared parameters)."""
    from ..argo import expr

    errors: list[Problem] = [(e.offset, e.message, "error") for e in expr.check(source, placeholders=placeholders)]
    if errors:
        return errors
    return [(offset, message, "error") for offset, message in declared.problems(source, path)]


def _tag_problems(text: str, path: JsonPath, declared: _Declared) -> Iterator[Problem]:
    """``(offset in text, message, severity)`` for every problem of every ``{{=…}}`` tag of ``text``."""
    seen: set[tuple[int, str]] = set()
    for match in TAG_RE.finditer(text):
        inner = match.group(1)
        stripped = inner.lstrip()
        if not stripped.startswith("="):
            continue
        start = match.start(1) + (len(inner) - len(stripped)) + 1
        for offset, message, severity in _problems(stripped[1:].rstrip(), path, declared):
            key = (start + offset, message)
            if key not in seen:
                seen.add(key)
                yield start + offset, f"expression tag {match.group(0)}: {message}", severity


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    spec = ctx.project.spec
    if spec is None:
        return
    declared = _Declared(spec.data)
    for path, text in strings(spec_body(spec.data), ("spec",)):
        if "{{" in text and "=" in text:
            for offset, message, severity in _tag_problems(text, path, declared):
                yield Hit(spec.file, value_pos(spec, path, offset), message, path, severity)
        if _is_expression_field(path) and text.strip():
            from ..argo import expr  # only for specs that have expressions

            field = ".".join(str(p) for p in path[-2:]) if path[-1] == "expression" else str(path[-1])
            for offset, message, severity in _problems(expr.mask_tags(text), path, declared, placeholders=True):
                yield Hit(spec.file, value_pos(spec, path, offset), f"{field} {text.strip()!r}: {message}", path,
                          severity)
