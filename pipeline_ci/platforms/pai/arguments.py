"""The ``Arguments`` string of CreatePipelineRun
(https://www.alibabacloud.com/help/en/pai/developer-reference/api-paiflow-2021-02-02-createpipelinerun).

Shape::

    {"arguments": {"parameters": [{"name": ..., "value": ...}, ...],
                   "artifacts":  [{"name": ..., "value": ...}, ...]}}

Each override becomes one ``{name, value}`` entry, in the given order; parameter values keep their type (PAI
parameters are typed: numbers, booleans, Map values as nested mappings, lists). Artifact values are the JSON strings
PAI expects (a mapping is JSON-encoded; a list is a repeated artifact's ``[{name, value}, ...]``). ``artifacts`` is
omitted when empty.

The field is documented as "YAML, JSON also valid"; alipai sends YAML and the server echoes JSON. We send JSON
that a YAML parser reads back to the same data (checked here), so either parser on the server side gets the same
arguments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from ...errors import UsageError


class ArgumentsError(UsageError, ValueError):
    """Run parameters that cannot be sent as PAI ``Arguments`` (exit 2: nothing was sent)."""


def _entries(values: Mapping[str, Any], artifact: bool) -> list[dict[str, Any]]:
    entries = []
    for name, value in values.items():
        if not isinstance(name, str) or not name:
            raise ArgumentsError(f"argument names must be non-empty strings, not {name!r}")
        if artifact and isinstance(value, Mapping):
            value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        entries.append({"name": name, "value": value})
    return entries


def build_arguments(parameters: Mapping[str, Any], artifacts: Mapping[str, Any] | None = None) -> str:
    """The ``Arguments`` string for ``parameters`` (and optional ``artifacts``) overrides, by input name."""
    document: dict[str, Any] = {"parameters": _entries(parameters, artifact=False)}
    if artifacts:
        document["artifacts"] = _entries(artifacts, artifact=True)
    data = {"arguments": document}
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ArgumentsError(f"arguments are not JSON-serialisable: {exc}") from None
    try:
        same = yaml.safe_load(text) == json.loads(text)
    except yaml.YAMLError:
        same = False
    if not same:
        raise ArgumentsError("arguments would read differently as YAML than as JSON (e.g. an exponent float such as "
                         "1e+20, or a character YAML does not allow); quote the value or write it differently")
    return text
