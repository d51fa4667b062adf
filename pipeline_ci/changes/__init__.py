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

Importing this package imports no GitPython and starts no process.
"""

from __future__ import annotations

from .detector import NEW_VERSION, REASONS, GitView, ProjectChanges, StepChange, detect, step_verdict
from .git import FileChange, Git, GitError
from .gitrange import Range, RangeError, changed_files, resolve_range
from .view import RepoDiff, project_view, repo_diff

__all__ = [
    "NEW_VERSION", "REASONS", "FileChange", "Git", "GitError", "GitView", "ProjectChanges", "Range", "RangeError",
    "RepoDiff", "StepChange", "changed_files", "detect", "project_view", "repo_diff", "resolve_range", "step_verdict",
]
