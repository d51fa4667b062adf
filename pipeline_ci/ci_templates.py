"""The CI files ``pipeline-ci init --ci github`` writes: the example workflows of the recommended team workflow
("CI uploads": ``examples/workflows/ci-uploads/pr.yml`` and ``release.yml``) and the example pre-commit config,
pinned to the installed pipeline-ci and pointed at the repository's pipeline folder.

The examples are the one copy (``pipeline_ci/data/ci/`` links to them, so they ship in the package): what the
README documents and the tests check with actionlint is what ``init`` writes.
"""

from __future__ import annotations

import re
from importlib import resources

FILES = {"pr.yml": ".github/workflows/pipeline-ci-pr.yml", "release.yml": ".github/workflows/pipeline-ci-release.yml",
         "pre-commit-config.yaml": ".pre-commit-config.yaml"}
"""Template (in ``pipeline_ci/data/ci/``) -> where it goes in the repository."""

_ZEROS = "0" * 40
_EXAMPLE_FOLDER = "pipelines"  # the examples' folder of pipeline projects
PLAIN_FOLDER = re.compile(r"\.|[A-Za-z0-9_][A-Za-z0-9._-]*(?:/[A-Za-z0-9_][A-Za-z0-9._-]*)*")
"""A folder :func:`render` can write into the workflows as it is (no YAML quoting, whitespace or glob characters)."""


def render(version: str, folder: str = ".") -> dict[str, str]:
    """``{path in the repository: text}``; ``folder``: where the pipeline projects are, relative to the root."""
    folder = folder.strip("/") or "."
    glob = "**" if folder == "." else f"{folder}/**"
    tag = f"v{version}"
    out: dict[str, str] = {}
    for name, target in FILES.items():
        text = (resources.files("pipeline_ci") / "data" / "ci" / name).read_text(encoding="utf-8")
        text = re.sub(rf'"{_ZEROS}" # frozen: vX\.Y\.Z[^\n]*', tag, text)  # pre-commit's rev
        text = text.replace(f"@{_ZEROS} # vX.Y.Z", f"@{tag}")
        text = text.replace(f'"{_EXAMPLE_FOLDER}/**"', f'"{glob}"').replace(f"path: {_EXAMPLE_FOLDER}\n", f"path: {folder}\n")
        text = re.sub(r"# Copy this file.*?\(replace the zeros; keep the tag as a comment\)\. ", "# ", text, flags=re.S)
        text = re.sub(r"\A# Copy to \.pre-commit-config\.yaml.*?\n(?=repos:)", "", text, flags=re.S)  # the example's
        header = (f"# Written by `pipeline-ci init --ci github` (pipeline-ci {version}). Pinned to the tag {tag}; pin a\n"
                  "# full commit SHA instead for supply-chain safety (`pre-commit autoupdate --freeze` does it for hooks).\n")
        out[target] = header + text
    return out
