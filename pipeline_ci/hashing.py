"""The step content hash, byte-identical to the Clarifai SDK's ``hash_directory``.

The SDK feeds, for every file of the step folder except those named ``config-lock.yaml``,
``relpath + str(size) + content`` into one md5 object. Files of a folder come in code-point
order before its subfolders. The SDK walks subfolders in ``os.scandir`` order, which depends on
the filesystem; we walk them sorted, so the digest is deterministic everywhere and equal to the
SDK's whenever every folder has at most one subfolder (the standard ``1/`` layout).

``tracked_only`` restricts the walk to the files git tracks or has staged (what CI checks out).
``boundary`` (a resolved folder) refuses to read symlinks whose target lies outside it.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

LOCKFILE_NAME = "config-lock.yaml"
CHUNK = 1 << 20


class HashError(Exception):
    """The folder cannot be hashed (missing, or a file that cannot be read safely)."""


@dataclass
class StepHash:
    """The digest of one step folder and the files that went into it."""

    digest: str
    files: list[str] = field(default_factory=list)
    escaping_links: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # not regular files (or broken links)


def walk_files(step_dir: Path) -> list[str]:
    """Relative ``/``-separated paths in hashing order: files of a folder sorted, then subfolders sorted."""
    out: list[str] = []
    for top, dirs, files in os.walk(step_dir, followlinks=False):
        dirs.sort()
        rel_top = os.path.relpath(top, step_dir)
        for name in sorted(files):
            if name == LOCKFILE_NAME:
                continue
            out.append(name if rel_top == "." else f"{rel_top}/{name}".replace(os.sep, "/"))
    return out


def _git_top(folder: Path) -> Path | None:
    """The work tree holding ``folder`` (the nearest parent with a ``.git`` entry), without running git."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


@lru_cache(maxsize=64)
def _tracked_in(top: Path, index_stamp: float) -> tuple[str, ...] | None:
    """Every path git tracks or has staged in ``top``, sorted (one ``git ls-files`` per work tree and index state)."""
    import subprocess  # only the tracked-only mode runs git

    try:
        proc = subprocess.run(["git", "ls-files", "-z", "--cached"], cwd=top, capture_output=True, check=False)
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    return tuple(sorted(n for n in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if n))


def git_tracked_files(step_dir: Path) -> set[str] | None:
    """Files under ``step_dir`` that git tracks or has staged, relative to it; None outside a repository."""
    folder = step_dir.resolve()
    top = _git_top(folder)
    if top is None:
        return None
    index = top / ".git" / "index"
    stamp = index.stat().st_mtime_ns if index.is_file() else 0.0
    tracked = _tracked_in(top, stamp)
    if tracked is None:
        return None
    prefix = folder.relative_to(top).as_posix()
    if prefix == ".":
        return set(tracked)
    start = prefix + "/"
    low = bisect.bisect_left(tracked, start)
    high = bisect.bisect_left(tracked, prefix + "0")  # "0" sorts right after "/": the end of the folder's range
    return {name[len(start):] for name in tracked[low:high]}


def hash_step(
    step_dir: Path,
    *,
    tracked_only: bool = False,
    algo: str = "md5",
    boundary: Path | None = None,
) -> StepHash:
    """Hash ``step_dir`` like the Clarifai SDK (see the module docstring)."""
    if not step_dir.is_dir():
        raise HashError(f"{step_dir}: not a directory")
    files = walk_files(step_dir)
    if tracked_only:
        tracked = git_tracked_files(step_dir)
        if tracked is None:
            raise HashError(f"{step_dir}: not inside a git work tree (needed for --tracked-only)")
        files = [f for f in files if f in tracked]
    digest = hashlib.new(algo)
    result = StepHash(digest="", files=files)
    base = os.fspath(step_dir)
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    for rel in files:
        path = os.path.join(base, rel)
        if boundary is not None and os.path.islink(path) and not Path(path).resolve().is_relative_to(boundary):
            result.escaping_links.append(rel)
            continue
        try:
            info = os.stat(path)  # follows symlinks, like the SDK's getsize
        except FileNotFoundError:
            result.skipped.append(rel)  # a broken symlink
            continue
        except OSError as exc:
            raise HashError(f"{path}: {exc.strerror or exc}") from None
        if not stat.S_ISREG(info.st_mode):  # FIFOs, sockets and devices would block or never end: skipped
            result.skipped.append(rel)
            continue
        digest.update(rel.encode("utf-8", "surrogateescape"))
        digest.update(str(info.st_size).encode("ascii"))
        try:
            with open(path, "rb", buffering=0) as fh:
                while count := fh.readinto(buf):
                    digest.update(view[:count])
        except OSError as exc:
            digest.update(f"ERROR_READING_FILE: {exc}".encode())
    result.digest = digest.hexdigest()
    return result
