"""SARIF 2.1.0 for code scanning (``github/codeql-action/upload-sarif``).

One run; ``tool.driver.rules`` lists every registered rule with its docs link, results point at
``file:line:col`` relative to ``%SRCROOT%``: the working directory, or in GitHub Actions ``$GITHUB_WORKSPACE`` (then
named in ``run.originalUriBaseIds``), which upload-sarif resolves paths against even when pipeline-ci runs in a
subfolder; a file outside it is an absolute ``file:`` URI without ``uriBaseId``. Control characters are shown
escaped in messages (:func:`pipeline_ci.textsafe.escape_controls`, line breaks kept). A result's
``artifactLocation.uri`` is a URI reference (SARIF 2.1.0 §3.4.3, RFC 3986): every character of the path but
unreserved ones and ``/`` is percent-encoded as UTF-8 (``a#b 50%/config.yaml`` -> ``a%23b%2050%25/config.yaml``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

from .. import __version__
from .. import rules as registry
from ..lazyre import lazy_re
from ..textsafe import escape_controls
from . import shown_path

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
DOCS = "https://github.com/pipeline-ci/pipeline-ci/blob/main/docs/rules.md"
LEVEL = {"error": "error", "warning": "warning"}
# what a URI path may hold unencoded: RFC 3986 unreserved characters and the segment separator
NOT_URI_SAFE = lazy_re(r"[^A-Za-z0-9\-._~/]")


def _rule(rule) -> dict:
    summary = (rule.__doc__ or rule.NAME).strip().splitlines()[0]
    return {
        "id": rule.ID,
        "name": rule.NAME,
        "shortDescription": {"text": summary},
        "helpUri": f"{DOCS}#{rule.ID.lower()}-{rule.NAME}",
        "defaultConfiguration": {"level": LEVEL[rule.SEVERITY]},
    }


def _encode(match: re.Match[str]) -> str:
    char = match.group()
    try:
        data = char.encode("utf-8", "surrogateescape")  # an undecodable byte of a file name: that byte
    except UnicodeEncodeError:
        data = char.encode("utf-8", "surrogatepass")
    return "".join(f"%{byte:02X}" for byte in data)


def uri(path: str) -> str:
    """``path`` as a SARIF ``artifactLocation.uri`` (a relative URI reference): all but RFC 3986 unreserved
    characters and ``/`` percent-encoded as UTF-8, so ``#``, ``?``, ``%``, spaces, ``:`` and control characters
    keep no meaning of their own."""
    return NOT_URI_SAFE.sub(_encode, path)


def _location(file: str, env: Mapping[str, str] | None) -> dict:
    """A finding's ``artifactLocation``: relative to ``%SRCROOT%``, or an absolute ``file:`` URI (SARIF §3.4.4: a
    ``uriBaseId`` only with a relative ``uri``)."""
    path = shown_path(file, env)
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}  # percent-encoded as uri() does (RFC 3986 unreserved characters and /)
    return {"uri": uri(path), "uriBaseId": "%SRCROOT%"}


def render(result, env: Mapping[str, str] | None = None) -> str:
    rules = registry.all_rules()
    index = {rule.ID: i for i, rule in enumerate(rules)}
    results = [
        {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": LEVEL[f.severity],
            "message": {"text": escape_controls(f.message, keep="\r\n")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _location(f.file, env),
                        "region": {"startLine": f.line, "startColumn": f.col},
                    }
                }
            ],
        }
        for f in result.findings
    ]
    doc: dict = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pipeline-ci",
                        "version": __version__,
                        "informationUri": DOCS,
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "results": results,
            }
        ],
    }
    workspace = (env or {}).get("GITHUB_WORKSPACE")
    if workspace:  # what %SRCROOT% means (§3.14.14: an absolute URI ending with /)
        base = Path(os.path.realpath(workspace)).as_uri().rstrip("/") + "/"
        doc["runs"][0]["originalUriBaseIds"] = {"%SRCROOT%": {"uri": base}}
    return json.dumps(doc, indent=2) + "\n"
