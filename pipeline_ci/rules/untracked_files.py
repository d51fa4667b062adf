"""No file in a step folder is hashed by a local upload but missing from what CI checks out.

``clarifai pipeline upload`` hashes every file of the step folder except ``config-lock.yaml``,
including ``__pycache__/*.pyc`` left by a local test run, ``.DS_Store``, editor backups and a
virtualenv inside the step (the upload tarball even leaves ``__pycache__`` out). A lockfile
written from such a working tree never matches the hash CI computes over a fresh checkout, so
every CI deploy re-uploads the step; in the other direction, a local upload sees a different
hash than CI. Inside a git work tree this rule names the files of the step that git neither
tracks nor has staged (pre-commit does not stash them either); for a step folder not yet added
to git, or outside git, it names the usual never-committed files (byte code, OS and editor
files, virtualenvs, tool caches). Reported at the step lockfile's ``hash.value``, or at the
step's ``step_directories`` entry when it has no lockfile yet. Delete the files (or commit
them), then upload with ``pipeline-ci upload --backend clarifai <project>`` (or ``clarifai pipeline upload``).

Passing project::

    # file: stepA/1/helpers.py
    GREETING = "hello"

Failing project::

    # file: stepA/1/__pycache__/pipeline_step.cpython-312.pyc
    compiled
    # file: stepA/config-lock.yaml
    hash:
      algo: md5
      value: c798bfe12439012e092fa8e624a9345c  # <-- hashes 1/__pycache__/pipeline_step.cpython-312.pyc
    id: ver1
"""

from __future__ import annotations

from collections.abc import Iterator

from ..project import StepDir
from ..yamldoc import Document, JsonPath
from .base import ClarifaiContext, Hit, at
from .step_hashes import listing, step_hashes
from .upload_fix import upload_fix

ID = "L05"
NAME = "untracked-files"
SEVERITY = "warning"
TARGET = "clarifai"


def _anchor(ctx: ClarifaiContext, step: StepDir) -> tuple[Document, JsonPath] | None:
    if step.lock is not None:
        return step.lock, ("hash", "value")
    if step.listed and step.index is not None and ctx.project.config is not None:
        return ctx.project.config, ("pipeline", "step_directories", step.index)
    return None


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    for step in ctx.project.steps:
        hashes = step_hashes(ctx.project, step)
        extra = hashes.local_only if hashes else []
        anchor = _anchor(ctx, step) if extra else None
        if hashes is None or anchor is None:
            continue
        one = len(extra) == 1
        fix = upload_fix(ctx.project.root)
        count = "1 file" if one else f"{len(extra)} files"
        if hashes.tracked:
            message = (f"{step.entry}: {count} not tracked by git {'makes' if one else 'make'} the hash `clarifai "
                       f"pipeline upload` computes here differ from the one CI computes: {listing(extra)}; delete "
                       f"{'it' if one else 'them'} or add {'it' if one else 'them'} to git, then {fix}")
        else:
            message = (f"{step.entry}: {count} that {'is' if one else 'are'} normally not committed "
                       f"{'is' if one else 'are'} hashed by `clarifai pipeline upload`, so a CI checkout hashes "
                       f"differently: {listing(extra)}; delete {'it' if one else 'them'}, then {fix}")
        yield at(*anchor, message)
