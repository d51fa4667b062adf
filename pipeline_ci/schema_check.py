"""Checking loaded documents against the shipped JSON Schemas (draft 2020-12).

Pure: takes plain data, returns every violation with its JSON path; positions are looked up by
the rules. ``additionalProperties`` failures are split per unexpected key so the unknown-key
rule can point at each key and suggest the closest known one.
"""

from __future__ import annotations

from collections.abc import Iterator

from . import schemas
from .project import Project
from .records import NamedTuple
from .yamldoc import Document, JsonPath

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any


class SchemaIssue(NamedTuple):
    """One way a document breaks its JSON Schema, at ``path``."""

    path: JsonPath
    keyword: str
    message: str
    key: Any = None  # the offending key, for additionalProperties / propertyNames
    suggestion: str | None = None

    @property
    def at_key(self) -> bool:
        return self.key is not None


def check_data(data: Any, name: str) -> list[SchemaIssue]:
    """Every violation of schema ``name`` by ``data``, in document order.

    A valid document (the common case) is recognised by the generated :mod:`pipeline_ci.schemas.fastcheck`
    without importing ``jsonschema``; only a document it cannot vouch for goes through ``jsonschema``.
    """
    from .schemas import fastcheck

    issues: list[SchemaIssue] = []
    data = _string_keys(data, (), issues)
    if fastcheck.valid(name, data):
        return issues
    return issues + _jsonschema_issues(data, name)


def _jsonschema_issues(data: Any, name: str) -> list[SchemaIssue]:
    import difflib  # with jsonschema: only for documents the generated validators reject

    from jsonschema.exceptions import best_match

    issues: list[SchemaIssue] = []
    for error in schemas.validator(name).iter_errors(data):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in known:
                    close = difflib.get_close_matches(str(key), known, n=1)
                    issues.append(SchemaIssue((*path, key), "additionalProperties", "", key, close[0] if close else None))
            continue
        if "propertyNames" in error.schema_path:  # a key the SDK rejects (e.g. unknown compute field)
            allowed = error.schema.get("enum") or []
            close = difflib.get_close_matches(str(error.instance), [str(a) for a in allowed], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            issues.append(SchemaIssue((*path, error.instance), "propertyNames",
                                      f"key {error.instance!r} is not allowed here{hint}", error.instance))
            continue
        message = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
        if message:
            message = f"{error.instance!r} {message}" if not isinstance(error.instance, dict | list) else message
        elif error.context:
            message = best_match(error.context).message
        else:
            message = error.message
        issues.append(SchemaIssue(path, str(error.validator), message))
    return issues


def _string_keys(value: Any, path: JsonPath, issues: list[SchemaIssue]) -> Any:
    """A copy of ``value`` whose mapping keys are strings; other keys are reported (protobuf rejects them)."""
    if isinstance(value, list):
        return [_string_keys(v, (*path, i), issues) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if not isinstance(key, str):
            issues.append(SchemaIssue((*path, key), "type", f"key {key!r} must be a string (quote it)", key))
        out[str(key)] = _string_keys(item, (*path, key), issues)
    return out


def targets(project: Project) -> Iterator[tuple[Document, str]]:
    """Each loaded document of the project with the schema it must satisfy."""
    if project.config is not None:
        yield project.config, "root-config"
    if project.lock is not None:
        yield project.lock, "root-lock"
    for step in project.steps:
        if step.config is not None:
            yield step.config, "step-config"
        if step.lock is not None:
            yield step.lock, "step-lock"
