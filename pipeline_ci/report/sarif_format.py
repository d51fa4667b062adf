"""SARIF 2.1.0 for code scanning (``github/codeql-action/upload-sarif``).

One run; ``tool.driver.rules`` lists every registered rule with its docs link, results point at
``file:line:col`` relative to the working directory (``%SRCROOT%``). Control characters are shown
escaped in messages (:func:`pipeline_ci.textsafe.escape_controls`, line breaks kept). A result's
``artifactLocation.uri`` is a URI reference (SARIF 2.1.0 §3.4.3, RFC 3986): every character of the path but
unreserved ones and ``/`` is percent-encoded as UTF-8 (``a#b 50%/config.yaml`` -> ``a%23b%2050%25/config.yaml``).
"""

from __future__ import annotations

import json
import re

from .. import __version__
from .. import rules as registry
from ..lazyre import lazy_re
from ..textsafe import escape_controls

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


def render(result) -> str:
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
                        "artifactLocation": {"uri": uri(f.file), "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": f.line, "startColumn": f.col},
                    }
                }
            ],
        }
        for f in result.findings
    ]
    doc = {
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
    return json.dumps(doc, indent=2) + "\n"
