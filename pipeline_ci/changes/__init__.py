"""Change detection: which steps of a project need a new version, and why.

- :mod:`.detector`: the detector, **pure** (no git, no file reads of its own): a loaded project, and optionally a
  :class:`GitView`, in; a :class:`ProjectChanges` (one :class:`StepChange` per step folder) out. Used by
  ``changed``, ``upload`` and ``deploy``.
- :mod:`.git`: the **only** module of pipeline-ci that runs git (plain ``subprocess``; one :class:`Git` per
  work tree with a clean environment, one :class:`GitError`). ``hashing``'s tracked-only mode goes through it too.
- :mod:`.gitrange`: which commit :class:`Range` a CI job diffs, chosen from the GitHub event (pull request,
  push, force push, first push, tag, merge queue), deepening shallow clones as needed.
- :mod:`.view`: the impure per-project git baseline: resolve the range once per work tree
  (:func:`repo_diff`), then narrow it to one project (:func:`project_view`) for :func:`detect`.

Importing this package imports no GitPython, starts no process and imports its modules on first use.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any

if TYPE_CHECKING:
    from .detector import NEW_VERSION, REASONS, GitView, ProjectChanges, StepChange, detect, step_verdict
    from .git import FileChange, Git, GitError
    from .gitrange import Range, RangeError, changed_files, resolve_range
    from .view import RepoDiff, project_view, repo_diff

# Names are imported on first use (PEP 562): ``hashing``'s tracked-only mode, on the lint path, needs only
# :mod:`.git`, not the detector, the range logic and the views.
_HOME = {
    **dict.fromkeys(("NEW_VERSION", "REASONS", "GitView", "ProjectChanges", "StepChange", "detect", "step_verdict"),
                    "detector"),
    **dict.fromkeys(("FileChange", "Git", "GitError"), "git"),
    **dict.fromkeys(("Range", "RangeError", "changed_files", "resolve_range"), "gitrange"),
    **dict.fromkeys(("RepoDiff", "project_view", "repo_diff"), "view"),
}

__all__ = [
    "NEW_VERSION", "REASONS", "FileChange", "Git", "GitError", "GitView", "ProjectChanges", "Range", "RangeError",
    "RepoDiff", "StepChange", "changed_files", "detect", "project_view", "repo_diff", "resolve_range", "step_verdict",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value
