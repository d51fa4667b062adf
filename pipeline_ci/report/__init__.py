"""Output formats for lint findings: ``text``, ``json``, ``github`` and ``sarif``.

Each module has ``render(result) -> str``; nothing here decides what is a problem. Only ``text`` shows source lines
with a caret (``source``) and colour (``colour``, for a terminal): never ``json``, ``github`` or ``sarif``.

In GitHub Actions (``GITHUB_WORKSPACE`` in ``env``) ``github`` and ``sarif`` name files relative to the workspace, which
GitHub resolves them against, even when pipeline-ci runs in a subfolder (:func:`shown_path`); elsewhere as found.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

FORMATS = ("text", "json", "github", "sarif")


def render(fmt: str, result, *, source: bool = True, colour: bool = False, summary: bool = True,
           env: Mapping[str, str] | None = None) -> str:
    module = importlib.import_module(f"{__name__}.{fmt}_format")
    if fmt == "text":
        return module.render(result, source=source, colour=colour, summary=summary)
    if fmt in ("github", "sarif"):
        return module.render(result, env=env)
    return module.render(result)


def shown_path(file: str, env: Mapping[str, str] | None) -> str:
    """A finding's ``file`` as ``github`` and ``sarif`` name it: relative to ``$GITHUB_WORKSPACE`` when that is set
    (absolute outside it: :func:`pipeline_ci.github.workspace_path`), else unchanged (relative to the working
    directory). ``env`` None: no workspace."""
    if not (env or {}).get("GITHUB_WORKSPACE"):
        return file
    from ..github import workspace_path

    return workspace_path(file, env)
