"""Which content hash of a step folder the lockfile rules compare, and which files only exist locally.

CI checks out only what git tracks, so inside a git work tree the hash that counts is the
tracked-only one (files git tracks or has staged; pre-commit stashes unstaged changes first, so
the working tree then equals the index). ``clarifai pipeline upload`` run on a developer's machine
hashes every file of the folder instead. A step folder with no tracked file at all has not been
added to git yet: there the working-tree hash counts, and well-known local-only files
(``__pycache__``, ``.DS_Store``, virtualenvs, ...) stand in for "untracked".
"""

from __future__ import annotations

from pathlib import PurePosixPath

from ..hashing import StepHash
from ..project import Project, StepDir
from ..records import NamedTuple

LOCAL_ONLY_DIRS = frozenset(
    {"__pycache__", ".venv", "venv", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".idea"}
)
LOCAL_ONLY_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
LOCAL_ONLY_SUFFIXES = (".pyc", ".pyo", "~", ".swp", ".swo")


def is_local_only(rel: str) -> bool:
    """A file that is normally never committed (byte code, OS and editor droppings, virtualenvs)."""
    parts = PurePosixPath(rel).parts
    name = parts[-1] if parts else rel
    in_local_dir = any(p in LOCAL_ONLY_DIRS for p in parts[:-1])
    return in_local_dir or name in LOCAL_ONLY_NAMES or name.endswith(LOCAL_ONLY_SUFFIXES)


class StepHashes(NamedTuple):
    """The hash CI computes (``ci``) and the one a local ``clarifai pipeline upload`` computes (``working``)."""

    ci: StepHash
    working: StepHash
    tracked: bool  # ci is the tracked-only hash (the step is in a git work tree and has tracked files)

    @property
    def local_only(self) -> list[str]:
        """Files a local upload hashes but a CI checkout lacks, in hashing order."""
        if self.tracked:
            in_ci = set(self.ci.files)
            return [f for f in self.working.files if f not in in_ci]
        return [f for f in self.working.files if is_local_only(f)]


def step_hashes(project: Project, step: StepDir) -> StepHashes | None:
    """Both hashes of ``step``; None when it escapes the project, is missing or cannot be hashed."""
    if step.escapes or not step.exists:
        return None
    working = step.content_hash(False)
    ci = step.ci_hash(project.in_git)
    if working is None or ci is None:
        return None
    return StepHashes(ci, working, ci is not working)


def listing(files: list[str], limit: int = 5) -> str:
    """``a, b, c`` or ``a, b, c, d, e and 7 more``."""
    shown = ", ".join(files[:limit])
    return shown if len(files) <= limit else f"{shown} and {len(files) - limit} more"
