"""Variables, ``{{...}}`` substitution and loop expansion for the local executor (Argo docs
``variables/`` and ``walk-through/loops/``).

A scope is a flat ``dict`` from a tag (``workflow.parameters.x``, ``steps.a.outputs.result``, ``item``)
to its string value. Substitution works on every string leaf of a parsed structure (never on a
JSON dump), so values need no escaping. An unknown tag is left verbatim, except that a tag rooted at
``steps``, ``tasks``, ``inputs`` or ``item`` must resolve when ``strict`` is set (the step / task
level), and so must ``{{workflow.parameters...}}`` (unresolved, it names an undeclared parameter, which Argo refuses
when the workflow is submitted; lint reports it as A28 and ``run`` refuses the spec before it gets here);
``{{=...}}`` expression tags are evaluated with :mod:`pipeline_ci.argo.expr` (a failing one stays verbatim until the
strict level, where it raises).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ....argo.walk import TAG_RE, argo_string
from ....errors import RunFailure
from .model import ERROR, FAILED, OMITTED, SKIPPED, NodeResult, rfc3339

STRICT_ROOTS = frozenset({"steps", "tasks", "inputs", "item"})
WORKFLOW_PARAMETERS = "workflow.parameters"  # an undeclared one must resolve too: Argo refuses it at submit time


class SubstitutionError(RunFailure, ValueError):
    """A tag that must resolve does not, or an unsupported expression tag."""


class TooManyItems(SubstitutionError):
    """A loop with more items than the run may have nodes."""

    def __init__(self, count: int):
        super().__init__(f"the loop has {count} items")
        self.count = count


def substitute_text(text: str, scope: Mapping[str, str], *, strict: bool) -> str:
    def replace(match: re.Match[str]) -> str:
        tag = match.group(1).strip()
        if tag.startswith("="):
            return expression_tag(match.group(0), tag[1:], scope, strict=strict)
        if tag in scope:
            return scope[tag]
        if strict and re.split(r"[.\[]", tag, maxsplit=1)[0] in STRICT_ROOTS:
            raise SubstitutionError(f"failed to resolve {{{{{tag}}}}}")
        if strict and (tag == WORKFLOW_PARAMETERS or tag.startswith(WORKFLOW_PARAMETERS + ".")):  # declared: in scope
            raise SubstitutionError(f"failed to resolve {{{{{tag}}}}}: not a parameter declared in "
                                    "spec.arguments.parameters (Argo rejects such a workflow when it is submitted)")
        return match.group(0)

    return TAG_RE.sub(replace, text)


def expression_tag(whole: str, text: str, scope: Mapping[str, str], *, strict: bool, label: str = "") -> str:
    """A ``{{=text}}`` tag evaluated with :func:`pipeline_ci.argo.expr.render`; when it fails it stays verbatim
    unless ``strict`` (like Argo's ``allowUnresolved`` at the workflow level), else :class:`SubstitutionError`."""
    from ....argo.expr import ExpressionError, missing_variables, render

    if not strict and missing_variables(text, scope):
        return whole
    try:
        return render(text, scope)
    except ExpressionError as exc:
        if not strict:
            return whole
        where = label or f"expression tag {whole}"
        raise SubstitutionError(f"{where}: {exc.message} (at character {exc.offset + 1})") from None


def resolve_output(param: Mapping[str, Any], scope: Mapping[str, str]) -> str:
    """A steps/DAG template's output parameter: ``value`` or ``valueFrom.parameter`` substituted, or
    ``valueFrom.expression`` evaluated (Argo's ``resolveOutputs``); :class:`SubstitutionError` if it does not resolve."""
    found = param.get("valueFrom")
    source: Mapping[str, Any] = found if isinstance(found, dict) else {}
    raw = param["value"] if "value" in param else source.get("parameter")
    if raw is None and isinstance(source.get("expression"), str):
        text = source["expression"]
        return expression_tag(text, text, scope, strict=True, label=f"valueFrom.expression '{text}'")
    return argo_string(substitute(raw, scope, strict=True))


def substitute(value: Any, scope: Mapping[str, str], *, strict: bool, skip: frozenset[str] = frozenset()) -> Any:
    """A copy of ``value`` with every string leaf substituted; mapping keys in ``skip`` are copied as is."""
    if isinstance(value, str):
        return substitute_text(value, scope, strict=strict) if "{{" in value else value
    if isinstance(value, dict):
        return {k: (v if k in skip else substitute(v, scope, strict=strict, skip=skip)) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, scope, strict=strict, skip=skip) for v in value]
    return value


def to_json(value: Any) -> str:
    """Compact JSON with sorted keys, the way Go marshals maps."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def format_value(value: Any) -> str:
    """An item or item field as ``{{item}}`` renders it: strings as is, scalars Argo-style, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return to_json(value)
    return argo_string(value)


def item_label(value: Any) -> str:
    """The ``value`` part of a loop child's name ``step(i:value)`` (maps as sorted ``k:v,k:v``)."""
    if isinstance(value, dict):
        return ",".join(f"{k}:{format_value(value[k])}" for k in sorted(value, key=str))
    return format_value(value)


def item_scope(value: Any) -> dict[str, str]:
    """``item`` and, for a map item, ``item.<key>`` for each key."""
    scope = {"item": format_value(value)}
    if isinstance(value, dict):
        for key, field_value in value.items():
            scope[f"item.{key}"] = format_value(field_value)
    return scope


def json_embedded(value: str) -> Any:
    """A string output as an element of an aggregated JSON list: parsed when it is JSON, else itself."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def expand_loop(body: Mapping[str, Any], limit: int | None = None) -> list[Any] | None:
    """The items of a step/task whose loop fields are already substituted; None when it does not loop.

    More than ``limit`` items raise :class:`TooManyItems` (a ``withSequence`` before it is built)."""
    items = _expand(body, limit)
    if items is not None and limit is not None and len(items) > limit:
        raise TooManyItems(len(items))
    return items


def _expand(body: Mapping[str, Any], limit: int | None) -> list[Any] | None:
    if "withItems" in body and body["withItems"] is not None:
        items = body["withItems"]
        if not isinstance(items, list):
            raise SubstitutionError("withItems must be a list")
        return items
    if "withParam" in body and body["withParam"] is not None:
        text = body["withParam"]
        try:
            items = json.loads(text) if isinstance(text, str) else text
        except ValueError:
            items = None
        if not isinstance(items, list):
            raise SubstitutionError(f"withParam value could not be parsed as a JSON list: {text}")
        return items
    if body.get("withSequence") is not None:
        return _sequence(body["withSequence"], limit)
    return None


def _int(seq: Mapping[str, Any], key: str, default: int | None = None) -> int | None:
    value = seq.get(key)
    if value is None or value == "":
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        raise SubstitutionError(f"withSequence.{key} must be an integer, got {value!r}") from None


def _sequence(seq: Any, limit: int | None = None) -> list[str]:
    if not isinstance(seq, dict):
        raise SubstitutionError("withSequence must be a mapping with start, end or count, and format")
    start, end, count = _int(seq, "start", 0) or 0, _int(seq, "end"), _int(seq, "count")
    if end is not None and count is not None:
        raise SubstitutionError("only one of count or end can be defined in withSequence")
    if count is not None:
        if count < 0:
            raise SubstitutionError(f"withSequence.count must not be negative, got {count}")
        numbers = range(start, start + count)
    elif end is not None:
        numbers = range(start, end + 1) if start <= end else range(start, end - 1, -1)
    else:
        raise SubstitutionError("withSequence needs end or count")
    if limit is not None and len(numbers) > limit:
        raise TooManyItems(len(numbers))
    fmt = seq.get("format") or "%d"
    if re.search(r"%[-+ #0]*[0-9]{4,}|\.[0-9]{4,}", str(fmt)):
        raise SubstitutionError(f"withSequence.format {str(fmt)[:50]!r} asks for a field wider than 999 characters")
    try:
        return [str(fmt) % n for n in numbers]
    except (TypeError, ValueError):
        raise SubstitutionError(f"withSequence.format {fmt!r} is not a printf format for one integer") from None


def continues_on(call: Mapping[str, Any], phase: str) -> bool:
    cont = call.get("continueOn")
    if not isinstance(cont, dict):
        return False
    return bool(cont.get("failed")) if phase == FAILED else bool(cont.get("error")) if phase == ERROR else False


def publish(scope: dict[str, str], prefix: str, name: str, res: NodeResult) -> None:
    """Put a finished step's/task's status and outputs into ``scope`` (``steps.<name>.*`` / ``tasks.<name>.*``).

    A fan-out publishes JSON lists over the children that ran (an output that is itself JSON is embedded):
    ``outputs.parameters`` (one mapping per child), ``outputs.parameters.<p>`` and ``outputs.result``.
    """
    base = f"{prefix}.{name}"
    scope[f"{base}.status"] = res.phase
    if res.record is not None:
        scope[f"{base}.id"] = res.record.path
        scope[f"{base}.startedAt"] = rfc3339(res.record.started)
        scope[f"{base}.finishedAt"] = rfc3339(res.record.finished)
    if res.exit_code is not None:
        scope[f"{base}.exitCode"] = str(res.exit_code)
    if res.record is not None and res.record.type == "Pod":
        scope[f"{base}.ip"] = "127.0.0.1"  # every leaf runs on this machine (daemons: see .daemons)
    for art, location in res.artifacts.items():
        scope[f"{base}.outputs.artifacts.{art}"] = location
    if res.children is None:
        for param, value in res.outputs.items():
            scope[f"{base}.outputs.parameters.{param}"] = value
        if res.result is not None:
            scope[f"{base}.outputs.result"] = res.result
        return
    ran = [c for c in res.children if c.phase not in (SKIPPED, OMITTED)]  # skipped children have no outputs
    scope[f"{base}.outputs.parameters"] = to_json([c.outputs for c in ran])
    for param in dict.fromkeys(p for c in ran for p in c.outputs):
        values = [json_embedded(c.outputs[param]) for c in ran if param in c.outputs]
        scope[f"{base}.outputs.parameters.{param}"] = to_json(values)
    if any(c.result is not None for c in res.children):
        results = [json_embedded(c.result) for c in ran if c.result is not None]
        scope[f"{base}.outputs.result"] = to_json(results)
