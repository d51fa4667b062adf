"""The fix every lockfile message names: the pipeline-ci command first, the Clarifai CLI equivalent second.

Used by the lockfile rules (L02-L05) so they all word it the same way, with the project's path.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from ..discovery import display


def project_arg(root: Path) -> str:
    """``root`` as a shell argument: relative to the working directory when inside it, else absolute."""
    shown = display(root)
    if shown == ".." or shown.startswith("../"):
        shown = Path(root).absolute().as_posix()
    return shlex.quote(shown)


def upload_fix(root: Path) -> str:
    """E.g. "run `pipeline-ci upload --backend clarifai pipelines/p` (or `clarifai pipeline upload pipelines/p`)"."""
    arg = project_arg(root)
    return f"run `pipeline-ci upload --backend clarifai {arg}` (or `clarifai pipeline upload {arg}`)"
