"""A step lockfile's ``hash.value`` matches the step folder's current content hash.

``clarifai pipeline upload`` re-uploads (and rebuilds) a step unless its ``config-lock.yaml``
holds ``hash.algo: md5`` (the default), a ``hash.value`` equal to the md5 of the step folder
(every file except ``config-lock.yaml``: relative path, size and bytes; see ``pipeline-ci hash``)
and a non-empty ``id``; a matching hash without ``id`` is uploaded anyway, with a warning. A
stale lockfile therefore means the next deploy uploads a new step version, and that the root
lockfile pins a version built from older code. Inside a git work tree the hash is taken over
the files git tracks or has staged, which is what CI checks out; a folder not yet added to git is
hashed as it is. The two team workflows of the README ("Team workflows") differ here:

- **CI uploads** (the default): a warning that names the step the release job will upload (it commits the
  lockfile back), so a pull request that changes a step passes;
- **developers upload**: an error with ``--require-fresh-locks`` (or ``require-fresh-locks: true`` in the
  settings), so CI insists that the committed lockfiles describe the committed code. The message names the fix:
  ``pipeline-ci upload --backend clarifai <project>`` (or ``clarifai pipeline upload <project>``), which uploads
  the step and rewrites its lockfile, then commit the lockfiles.

A step folder whose content cannot be hashed and uploaded as it is is always an **error**, reported
at the offending path itself (line 1), whether or not the step has a lockfile: a symlink (to a file
or a folder) leading out of the step folder, a symlink loop, a file or subfolder that cannot be
read, and what the SDK's own hash crashes or hangs on (a broken symlink, a FIFO, socket or device, a
name that is not valid UTF-8, so ``clarifai pipeline upload`` would fail). A link out of the folder
is never followed: the SDK would hash whatever file it points to on the machine that uploads
(``/proc/self/environ``, a credentials file) and the platform gets a link that leads nowhere.
``upload`` and ``deploy`` refuse such a step before anything is sent (see ``docs/archive.md``). A
``requirements.txt`` or ``1/pipeline_step.py`` leading out of the project is reported by C12/C13. A
symlink to a folder inside the step folder is a warning: the SDK's hash does not enter it, so it is
left out of the upload archive.

Passing project::

    # file: stepA/config-lock.yaml
    hash:
      algo: md5
      value: 56ab9911945432619e67adcace9fa0c3
    id: ver1

Failing project::

    # file: stepA/config-lock.yaml
    hash:
      algo: md5
      value: 0123456789abcdef0123456789abcdef  # <-- stepA changed since its lockfile was written
    id: ver1

Failing project::

    # file: stepA/config-lock.yaml
    hash:
      algo: sha256  # <-- the SDK only compares md5 hashes
      value: 56ab9911945432619e67adcace9fa0c3
    id: ver1
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..discovery import display
from ..project import LOCK, StepDir
from ..yamldoc import JsonPath, Pos
from .base import ClarifaiContext, Hit, at
from .step_files import REQUIREMENTS, SCRIPT, read
from .step_hashes import StepHashes, step_hashes
from .upload_fix import upload_fix

ID = "L04"
NAME = "stale-lock"
SEVERITY = "warning"
TARGET = "clarifai"

VALUE: JsonPath = ("hash", "value")


def blocker_hits(ctx: ClarifaiContext, step: StepDir, hashes: StepHashes) -> Iterator[Hit]:
    """Errors at every path that keeps ``step`` from being hashed and uploaded (see the module docstring)."""
    seen: set[str] = set()
    for hashed in (hashes.working, hashes.ci):
        for rel, why in hashed.blockers:
            if rel in seen:
                continue
            seen.add(rel)
            if rel in (REQUIREMENTS, SCRIPT) and read(ctx, step, rel).outside:
                continue  # C12 / C13 report it
            where = display(step.path / rel) if rel else display(step.path)
            name = rel or "the step folder"
            yield Hit(where, Pos(1, 1), f"{name} {why}: pipeline-ci refuses to upload step folder "
                      f"{step.entry!r} (see docs/archive.md)", severity="error")
    for rel in hashes.ci.dir_links:
        yield Hit(display(step.path / rel), Pos(1, 1), f"{rel} is a symlink to a folder: the SDK's hash does not "
                  "enter it, so it is left out of the upload archive and the platform will not have it; make it a "
                  "real folder (see docs/archive.md)", severity="warning")


def fix_text(ctx: ClarifaiContext, name: str) -> str:
    """What to do about a stale lock, for the team workflow the settings describe (README "Team workflows"):
    CI uploads (the default, a warning) names the step the release will upload; developers upload
    (``require-fresh-locks``, an error) names the command that fixes it."""
    fix = f"{upload_fix(ctx.project.root)} and commit the lockfiles"
    if ctx.options.require_fresh_locks:
        return fix
    return (f"the next release (`pipeline-ci upload` or `deploy` in CI) uploads step {name!r} and commits its "
            f"lockfile; to pin it yourself, {fix}")


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    severity = "error" if ctx.options.require_fresh_locks else None
    reported: set[Path] = set()
    for step in ctx.project.steps:
        hashes = step_hashes(ctx.project, step)
        if hashes is None:
            continue
        if step.resolved not in reported:  # a folder listed twice (X02) is reported once
            reported.add(step.resolved)
            yield from blocker_hits(ctx, step, hashes)
        lock = step.lock
        if lock is None or hashes.working.blockers or hashes.ci.blockers:
            continue  # nothing to compare, or the hash cannot be what the SDK computes
        name, data, digest = step.entry, lock.data, hashes.ci.digest
        step_id = step.ids[2]
        upload = fix_text(ctx, step_id if isinstance(step_id, str) and step_id else name)
        if data is None:
            yield at(lock, (), f"{name}/{LOCK} is empty: {upload}", severity=severity)
            continue
        if not isinstance(data, dict):
            continue  # the SDK crashes on it; the schema rule reports the shape
        hash_ = data.get("hash")
        if not isinstance(hash_, dict):
            where = ("hash",) if "hash" in data else ()
            yield at(lock, where, f"{name}/{LOCK} has no hash mapping (md5 {digest}): {upload}", severity=severity)
            continue
        algo = hash_.get("algo", "md5")
        value = hash_.get("value", "")
        if algo != "md5":
            yield at(lock, ("hash", "algo"), f"{name}/{LOCK} has hash.algo '{algo}': the SDK only compares md5 "
                     f"hashes and re-uploads the step, so {upload}", severity=severity)
        elif value != digest:
            scope = " of the files git tracks" if hashes.tracked else ""
            hint = ""
            if hashes.tracked and hashes.working.digest == value:
                hint = ("; the working-tree hash matches, so files git does not track were present when it was "
                        "written (see untracked-files)")
            where = VALUE if "value" in hash_ else ("hash",)
            yield at(lock, where, f"{name} changed since its lockfile was written (md5 {digest}{scope}, lockfile "
                     f"{value if value != '' else '(none)'}): {upload}{hint}", severity=severity)
        elif not data.get("id"):
            where = ("id",) if "id" in data else VALUE
            yield at(lock, where, f"{name}/{LOCK} matches the step's content but has no id: the SDK uploads it "
                     f"anyway (with a warning), so {upload}", severity=severity)
