"""Run-time parameter overrides (``--overrides-file`` and ``--set``), shared by local and remote runs.

The Clarifai SDK's behaviour is the one of ``clarifai pipeline run --set/--overrides-file``
(``clarifai/cli/pipeline.py`` in Clarifai/clarifai-python); we keep its wire format
(a flat mapping ``parameter name -> string value``) but differ on purpose where it is lossy or silent:

* **Format by content, not by file name.** Text that starts with ``{`` or ``[`` (after a BOM and
  white space) is read as JSON first; everything else is YAML. JSON-looking text that is not valid
  JSON but is valid YAML with a proper mapping (JSON is almost a subset of YAML, e.g. a trailing
  comma) is accepted as YAML; otherwise the JSON error is reported.
* **Errors are errors**: a syntax error, an empty document, a top level that is not a mapping, a
  ``null`` value or a duplicate key raise :class:`OverridesError` whose message starts with
  ``file:line:col:`` when the position is known (the SDK ignores a broken YAML file and runs with
  the defaults). Every problem is reported at once: all of a file's (:func:`combine`), all bad ``--set``
  arguments, and the caller adds one to the other (:func:`pipeline_ci.runs.session.parameters`).
* **The same limits as lint**: JSON nested deeper than :data:`pipeline_ci.yamldoc.MAX_DEPTH` (or too
  deep for the JSON parser) is handed to lint's loader (:func:`pipeline_ci.yamldoc.load_text`), which
  refuses it with the message and position of lint's F01 finding.
* **Argo-style strings, not Python ``str()``**: ``true`` / ``false`` stay lower case; a number or a
  date from a file keeps the text the user wrote (``1.0`` stays ``1.0``, ``0x1F`` stays ``0x1F``,
  ``2024-01-01`` stays ``2024-01-01``); lists and mappings become compact JSON. :func:`stringify` on
  plain Python values (not read from a file) uses ``repr`` for floats (``1.0`` -> ``"1.0"``).
* ``--set`` values are never parsed: ``--set flag=true`` is the string ``true``.
* :func:`merge` stringifies every value; keys keep file order, new ``--set`` keys follow, and a
  ``--set`` value (the last one for a repeated key) wins.
* :func:`validate` rejects names the workflow does not declare (suggesting the closest one), values
  outside a parameter's Argo ``enum``, and values outside the ``accepted_values`` a caller derived
  from the step configs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path

from . import yamldoc  # first: it imports PyYAML with a cheaper compilation of its reader's pattern (see there)

# isort: split
import yaml

from .argo.variables import did_you_mean
from .argo.walk import argo_string, nodes, parameters
from .errors import UsageError
from .lazyre import lazy_re
from .project import id_text, step_params

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any

    from .project import Project, StepDir

__all__ = ["OverridesError", "load_overrides_file", "parse_set", "combine", "merge", "stringify", "validate",
           "map_refs", "Accepted", "accepted_values", "spec_where"]


class OverridesError(UsageError, ValueError):
    """A malformed overrides file or ``--set`` argument."""


class NumberText(str):
    """A number or date read from an overrides file, spelled exactly as the user wrote it."""


class _JsonFloat(float):
    """A JSON float that remembers its source text (nested ones still encode as JSON numbers)."""

    text: str

    def __new__(cls, text: str) -> _JsonFloat:
        obj = super().__new__(cls, text)
        obj.text = text
        return obj


def _where(file: str, pos: yamldoc.Pos | None) -> str:
    return f"{file}:{pos.line}:{pos.col}" if pos else file


def load_overrides_file(path: Path | str) -> dict[str, Any]:
    """Read an overrides file: a flat mapping ``parameter -> value`` (JSON or YAML, chosen by content)."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise OverridesError(f"Failed to load overrides file {file}: {exc.strerror or exc}") from None
    try:
        text = yamldoc.decode(raw, file)
    except yamldoc.LoadError as exc:
        raise OverridesError(f"{_where(file, exc.pos)}: {exc.message}") from None
    if text.lstrip().startswith(("{", "[")):
        import json  # only for a JSON overrides file: lint imports this module on every run

        try:
            data = json.loads(text, parse_float=_JsonFloat, object_pairs_hook=_unique_pairs)
        except RecursionError:  # nested past the interpreter's limit: lint's loader says where, as F01 does
            return _from_yaml(text, file)
        except json.JSONDecodeError as exc:
            json_error = OverridesError(f"{file}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}")
            try:
                return _from_yaml(text, file)
            except OverridesError:
                raise json_error from None
        except _DuplicateKey as exc:
            raise OverridesError(f"{file}: duplicate key {exc.args[0]!r}") from None
        if _deeper_than(data, yamldoc.MAX_DEPTH):
            return _from_yaml(text, file)
        return _from_json(data, file)
    return _from_yaml(text, file)


class _DuplicateKey(Exception):
    pass


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether lists/mappings in ``data`` nest more than ``limit`` levels (iterative: any depth is fine)."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)
    return False


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _top_level_error(file: str, data: Any, pos: yamldoc.Pos | None) -> OverridesError:
    kind = "empty" if data is None else f"a {_kind(data)}"
    return OverridesError(
        f"{_where(file, pos)}: the overrides file must be a mapping of parameter name to value, but it is {kind}"
    )


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else type(value).__name__


def _null_error(where: str, name: str) -> OverridesError:
    return OverridesError(f"{where}: parameter '{name}' is null; write '' for an empty string")


def _from_json(data: Any, file: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _top_level_error(file, data, yamldoc.Pos(1, 1))
    out: dict[str, Any] = {}
    errors = [_null_error(file, name) for name, value in data.items() if value is None]
    if errors:
        raise combine(errors)
    for name, value in data.items():
        out[name] = NumberText(value.text) if isinstance(value, _JsonFloat) else value
    return out


def _from_yaml(text: str, file: str) -> dict[str, Any]:
    try:
        doc = yamldoc.load_text(text, file)
    except yamldoc.LoadError as exc:
        raise OverridesError(f"{_where(file, exc.pos)}: {exc.message}") from None
    errors = [OverridesError(f"{_where(file, problem.pos)}: {problem.message}") for problem in doc.problems]
    if not isinstance(doc.data, dict):
        raise combine([*errors, _top_level_error(file, doc.data, doc.pos(()) if doc.data is not None else None)])
    out: dict[str, Any] = {}
    for key, value in doc.data.items():
        if key is None or isinstance(key, dict | list):
            errors.append(OverridesError(f"{_where(file, doc.pos((key,), key=True))}: invalid parameter name {key!r}"))
            continue
        name = key if isinstance(key, str) else stringify(key)
        if value is None:
            errors.append(_null_error(_where(file, doc.pos((key,))), name))
            continue
        node = doc.node_at((key,))
        if isinstance(node, yaml.ScalarNode) and not isinstance(value, str | bool):
            value = NumberText(node.value)  # int, float or timestamp: keep the user's spelling
        out[name] = value
    if errors:  # every problem of the file at once
        raise combine(errors)
    return out


def parse_set(items: Iterable[str]) -> dict[str, str]:
    """``["k=v", ...]`` -> ``{k: v}``: split on the first ``=``, no trimming, no type parsing; later wins."""
    out: dict[str, str] = {}
    bad: list[str] = []
    for item in items:
        if "=" not in item:
            bad.append(item)
            continue
        key, _, value = item.partition("=")
        out[key] = value
    if bad:
        raise OverridesError(f"invalid --set {', '.join(repr(b) for b in bad)}: expected KEY=VALUE",
                             hint="e.g. --set input_text=hello (quote a value with spaces for the shell)")
    return out


def combine(errors: list[OverridesError]) -> OverridesError:
    """One error for every problem found: the error itself when there is one, else a count with each problem as a
    detail line (the problems of an error that already combines several are taken one by one)."""
    lines = [line for error in errors for line in (error.details or [error.message])]
    if len(errors) == 1:
        return errors[0]
    return OverridesError(f"{len(lines)} problems with the run parameters", details=lines,
                          hint=next((e.hint for e in errors if e.hint), None))


def merge(file_values: Mapping[str, Any], set_values: Mapping[str, Any]) -> dict[str, str]:
    """File values, then ``--set`` values (which win), all stringified; file keys keep their order first."""
    out = {name: stringify(value) for name, value in file_values.items()}
    for name, value in set_values.items():
        out[name] = stringify(value)
    return out


def stringify(value: Any) -> str:
    """A parameter value as the string Argo receives (see the module docstring)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return str(value)
    if isinstance(value, _JsonFloat):
        return value.text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        return repr(value)
    if value is None:
        raise OverridesError("null is not a valid parameter value")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | dict):
        import json

        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def validate(values: Mapping[str, str], declared: Mapping[str, Any], accepted: Mapping[str, list[str]]) -> list[str]:
    """Problems with ``values``: undeclared names, values outside an ``enum`` or ``accepted`` list.

    ``declared`` maps workflow parameter names to their ``spec.arguments.parameters`` entries;
    ``accepted`` maps parameter names to the values every step they are passed to accepts.
    """
    errors: list[str] = []
    for name, value in values.items():
        if name not in declared:
            known = ", ".join(declared) if declared else "no parameters"
            errors.append(
                f"unknown parameter '{name}': the workflow declares {known}{did_you_mean(name, declared)}"
            )
            continue
        param = declared[name]
        enum = param.get("enum") if isinstance(param, dict) else None
        if isinstance(enum, list) and enum:
            allowed = [argo_string(item) for item in enum]
            if value not in allowed:
                errors.append(f"value '{value}' of parameter '{name}' is not in its enum: {', '.join(allowed)}")
                continue
        accepted_here = accepted.get(name)
        if accepted_here is not None and value not in accepted_here:
            by = [f"'{step}' (input '{param}')" for step, param, values in getattr(accepted_here, "by", ())
                  if value not in values]
            who = (f"the accepted_values of step{'s' if len(by) > 1 else ''} {' and '.join(by)}" if by
                   else "the steps it is passed to")
            errors.append(
                f"value '{value}' of parameter '{name}' is not in {who}; "
                f"accepted values: {', '.join(accepted_here) or 'none (the steps disagree)'}"
            )
    return errors


# Shared by the O02 lint rule (overrides-parameter), the local executor's preflight and remote runs (one copy,
# here, so that lint imports no executor).

WORKFLOW_REF = lazy_re(r"^\s*\{\{\s*workflow\.parameters\.([-a-zA-Z0-9_]+)\s*\}\}\s*$")


def spec_where(project: Project, path: tuple) -> str:
    """``config.yaml:line:col`` of ``path`` in the project's Argo spec (the file alone without a spec)."""
    pos = project.spec.pos(path) if project.spec else None
    return f"{project.config_file}:{pos.line}:{pos.col}" if pos else project.config_file


def map_refs(project: Project, errors: list[str], warnings: list[str]) -> dict[str, StepDir]:
    """templateRef name -> the step folder it runs locally."""
    out: dict[str, StepDir] = {}
    for ref in project.refs:
        if not ref.name or ref.name in out:
            continue
        where = spec_where(project, ref.path)
        if ref.step_id is None:
            errors.append(f"{where}: templateRef '{ref.name}' is not a Clarifai step reference "
                          "(users/<user>/apps/<app>/pipeline_steps/<step>[/versions/<version>])")
            continue
        wanted: tuple[str | None, ...] = (ref.user_id, ref.app_id, ref.step_id)
        matches = [s for s in project.steps if s.exists and tuple(map(id_text, s.ids)) == wanted]
        if not matches:
            errors.append(f"{where}: templateRef '{ref.name}' maps to no local step folder: none of step_directories "
                          f"has pipeline_step user_id/app_id/id = {'/'.join(w or '?' for w in wanted)}")
            continue
        if len(matches) > 1:
            errors.append(f"{where}: templateRef '{ref.name}' matches several step folders: "
                          f"{', '.join(s.entry for s in matches)}")
            continue
        step = matches[0]
        if not (step.path / "1" / "pipeline_step.py").is_file():
            errors.append(f"{where}: step folder '{step.entry}' has no 1/pipeline_step.py")
            continue
        pinned = step.lock.get(("id",)) if step.lock else None
        if ref.version and pinned != ref.version:
            warnings.append(f"templateRef '{ref.name}' pins version {ref.version}; running the local code of "
                            f"'{step.entry}' (its lockfile {'pins ' + str(pinned) if pinned else 'is missing'})")
        out[ref.name] = step
    return out


class Accepted(list):
    """The values of a workflow parameter that every step param it is passed to accepts (a ``list[str]``), and
    ``by``: each of those step params as ``(step folder, param name, its accepted values)``, so an error can name
    the step whose ``accepted_values`` a value breaks."""

    by: list[tuple[str, str, list[str]]]

    def __init__(self, values: Iterable[str] = (), by: Iterable[tuple[str, str, list[str]]] = ()):
        super().__init__(values)
        self.by = list(by)


def accepted_values(spec: dict, steps: dict[str, StepDir]) -> dict[str, list[str]]:
    """Workflow parameter -> values accepted by every step param it is passed to literally (an :class:`Accepted`)."""
    out: dict[str, list[str]] = {}
    for node in nodes(spec):
        ref = node.body.get("templateRef")
        name = ref.get("name") if isinstance(ref, dict) else None
        step = steps.get(name) if isinstance(name, str) else None
        if step is None:
            continue
        declared = step_params(step)
        for _, param in parameters(node.body, "arguments"):
            match = WORKFLOW_REF.match(param["value"]) if isinstance(param.get("value"), str) else None
            pname = param.get("name")
            allowed = declared.get(pname, {}).get("accepted_values") if isinstance(pname, str) else None
            if not match or not isinstance(allowed, list) or not allowed:
                continue
            values = [argo_string(a) for a in allowed]
            name = match.group(1)
            before = out.get(name)
            out[name] = Accepted([v for v in before if v in values] if before is not None else values,
                                 [*getattr(before, "by", ()), (step.entry, str(pname), values)])
    return out
