"""A step lockfile's ``hash.value`` matches the step folder's current content hash.

``clarifai pipeline upload`` re-uploads (and rebuilds) a step unless its ``config-lock.yaml``
holds ``hash.algo: md5`` (the default), a ``hash.value`` equal to the md5 of the step folder
(every file except ``config-lock.yaml``: relative path, size and bytes; see ``pipeline-ci hash``)
and a non-empty ``id``; a matching hash without ``id`` is uploaded anyway, with a warning. A
stale lockfile therefore means the next deploy uploads a new step version, and that the root
lockfile pins a version built from older code. Inside a git work tree the hash is taken over
the files git tracks or has staged, which is what CI checks out; a folder not yet added to git is
hashed as it is. A symlink that points outside the project is never read, so such a step cannot
be checked (reported here too). Warning by default; an error with ``--require-fresh-locks``
(or ``require-fresh-locks: true`` in the settings), e.g. to make CI insist that the committed
lockfiles describe the committed code.

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

from ..project import LOCK
from .base import Context, Hit, at
from .step_hashes import listing, step_hashes

ID = "L04"
NAME = "stale-lock"
SEVERITY = "warning"

VALUE = ("hash", "value")


def check(ctx: Context) -> Iterator[Hit]:
    severity = "error" if ctx.options.require_fresh_locks else None
    for step in ctx.project.steps:
        lock = step.lock
        hashes = step_hashes(ctx.project, step) if lock is not None else None
        if lock is None or hashes is None:
            continue
        name, data, digest = step.entry, lock.data, hashes.ci.digest
        upload = "it will be uploaded on the next deploy"
        if hashes.ci.escaping_links:
            links = listing(hashes.ci.escaping_links)
            yield at(lock, VALUE, f"cannot check whether {name}'s lockfile is fresh: {links} point(s) outside the "
                     "project and are not read (the SDK hashes their targets)", severity=severity)
            continue
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
