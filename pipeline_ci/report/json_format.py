"""A versioned JSON report (``"version": 1``)::

    {"version": 1, "tool": "pipeline-ci", "tool_version": "...",
     "summary": {"errors": 1, "warnings": 0, "projects": 1},
     "projects": ["examples/hello-pipeline"],
     "findings": [{"file", "line", "column", "rule", "name", "severity", "message", "path"}]}

``path`` is the JSON path of the value inside its document (``""`` when not applicable).
New keys may be added within a version; none are removed or renamed.
"""

from __future__ import annotations

import json

from .. import __version__
from ..discovery import display

VERSION = 1


def render(result) -> str:
    return json.dumps(
        {
            "version": VERSION,
            "tool": "pipeline-ci",
            "tool_version": __version__,
            "summary": {"errors": result.errors, "warnings": result.warnings, "projects": len(result.projects)},
            "projects": [display(p) for p in result.projects],
            "findings": [f.as_dict() for f in result.findings],
        },
        indent=2,
    ) + "\n"
