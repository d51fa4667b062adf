"""A run overrides file is a flat mapping of parameter name to a non-null value.

An overrides file is what ``pipeline-ci run --overrides-file`` (and ``clarifai pipeline run
--overrides-file``) reads: one top-level mapping whose keys are workflow parameter names and whose
values are sent to Argo as strings (lists and mappings JSON-encoded); there is no ``inputs:`` wrapper.
The linter finds such files by name anywhere in the project (not in step folders, nested projects or
``.pipeline-ci``): ``overrides*.yaml``,
``overrides*.yml``, ``overrides*.json`` or ``*.overrides.yaml|yml|json``, in any case, e.g.
``overrides.yaml``, ``overrides-prod.json``, ``nightly.overrides.yml``. JSON files are read with the
same YAML loader (JSON is YAML flow syntax), so syntax errors and duplicate keys are reported by
``yaml-syntax`` and ``duplicate-key`` at their position (the Clarifai SDK prints a YAML syntax error
and runs with the defaults; ``pipeline-ci run`` refuses the file). Inline ``# pipeline-ci: disable=...``
comments work in YAML overrides files.

This rule checks the file against the ``overrides`` JSON Schema (``pipeline-ci schema overrides``) and
reports every violation at the offending key or value: a top level that is empty or not a mapping, a
name with characters other than letters, digits, ``-`` and ``_``, an unquoted non-string key, and a
``null`` value (``pipeline-ci run`` refuses it; the Clarifai SDK would send the string ``None``).
Whether the names are declared by the workflow is checked by ``overrides-parameter``.

Passing overrides::

    input_text: "Hello, world"

Failing overrides::

    input_text: null  # <-- write '' for an empty string
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import schemas
from ..schema_check import SchemaIssue, check_data
from ..yamldoc import Document
from .base import Hit, OverridesContext, at

ID = "O01"
NAME = "overrides-schema"
SEVERITY = "error"
TARGET = "overrides"
SCHEMA = "overrides"


def check(ctx: OverridesContext) -> Iterator[Hit]:
    doc = ctx.overrides.doc
    for issue in check_data(doc.data, SCHEMA):
        yield at(doc, issue.path, _message(doc, issue), key=issue.at_key)


def _message(doc: Document, issue: SchemaIssue) -> str:
    if issue.path == () and issue.keyword == "type":
        data = doc.data
        kind = "empty" if data is None else f"a {'list' if isinstance(data, list) else type(data).__name__}"
        return f"the overrides file must be a mapping of parameter name to value, but it is {kind}"
    if issue.keyword == "propertyNames":
        rule = schemas.load(SCHEMA).get("propertyNames", {}).get("patternErrorMessage", "invalid name")
        return f"invalid parameter name {issue.key!r}: {rule}"
    if len(issue.path) == 1 and not issue.at_key and doc.get(issue.path, "") is None:
        return f"parameter '{issue.path[0]}' is null; write '' for an empty string"
    return issue.message
