"""A result cache for ``pipeline-ci lint`` (like ruff's or mypy's): an unchanged project is not re-linted.

The key covers everything a lint result depends on: this package's own files, the options and
the working directory (paths are shown relative to it), the settings file, every file and
folder of each project (path, type, size, mtime, inode; symlinks not followed) and git's index
(tracked files change what the lockfile checks hash). A hit re-prints the stored findings without
importing YAML, JSON Schema or a single rule.

Racy entries are never trusted: if any file changed within the last two seconds (so a second
change within the filesystem's timestamp granularity could go unseen, as git's "racy clean"
problem), the cache is neither read nor written; ``PIPELINE_CI_CACHE_RACY_SECONDS`` changes the two seconds (more
for a file system with coarser timestamps; the tests use less). ``--no-cache`` or ``PIPELINE_CI_NO_CACHE=1``
turn it off; entries live in ``$PIPELINE_CI_CACHE_DIR``, else ``$XDG_CACHE_HOME/pipeline-ci``,
else ``~/.cache/pipeline-ci``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

from . import __version__
from .discovery import SKIP_DIRS

TYPE_CHECKING = False  # not typing's: this module is the cached lint's start-up, typing is not
if TYPE_CHECKING:
    from typing import Any

RACY_NS = 2_000_000_000
PACKAGE = Path(__file__).resolve().parent


class Racy(Exception):
    """A file changed too recently for its timestamp to be trusted."""


def cache_dir(env: Mapping[str, str]) -> Path | None:
    if env.get("PIPELINE_CI_NO_CACHE"):
        return None
    if env.get("PIPELINE_CI_CACHE_DIR"):
        return Path(env["PIPELINE_CI_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or (str(Path.home() / ".cache") if Path.home() != Path("/") else None)
    return Path(base) / "pipeline-ci" if base else None


def _new_digest() -> Any:
    """BLAKE2b from its own small module: ``hashlib`` loads OpenSSL, a tenth of a cached lint's run time."""
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - an interpreter built without it
        from hashlib import blake2b
    return blake2b(digest_size=32)


def racy_ns(env: Mapping[str, str]) -> int:
    """The racy window in nanoseconds: ``PIPELINE_CI_CACHE_RACY_SECONDS`` (a number >= 0), else two seconds."""
    text = env.get("PIPELINE_CI_CACHE_RACY_SECONDS")
    if text is None:
        return RACY_NS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 1e9:
        from .errors import UsageError

        raise UsageError(f"PIPELINE_CI_CACHE_RACY_SECONDS={text!r} is not a number of seconds >= 0",
                         hint="unset it for the default, 2")
    return int(seconds * 1e9)


class _Fingerprint:
    def __init__(self, racy: int = RACY_NS) -> None:
        self.digest = _new_digest()
        self.horizon = time.time_ns() - racy

    def stat(self, label: str, path: Path | str) -> None:
        try:
            st = os.lstat(path)
        except OSError:
            self.digest.update(f"{label}\0missing\n".encode("utf-8", "surrogateescape"))
            return
        self.digest.update(self._row(label, st, path).encode("utf-8", "surrogateescape"))

    def _row(self, label: str, st: os.stat_result, path: Path | str) -> str:
        """The digest row of one file or folder; :class:`Racy` if it changed within the racy window."""
        if st.st_mtime_ns > self.horizon or st.st_ctime_ns > self.horizon:
            raise Racy(str(path))
        return f"{label}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\n"

    def tree(self, root: Path | str, skip: set[str], _prefix: str = "") -> None:
        """Every file and folder under ``root`` (like ``os.walk``: symlinks to folders listed, not entered), files first,
        each by name, the same rows as :meth:`stat`; with plain strings, one ``scandir`` and one digest update per folder:
        this runs on every cached lint, over this package too."""
        try:
            with os.scandir(root) as entries:
                listed = sorted(((_is_dir(entry), entry.name, entry) for entry in entries), key=lambda t: t[:2])
        except OSError:
            return
        rows: list[str] = []
        dirs: list[os.DirEntry[str]] = []
        for is_dir, name, entry in listed:
            if is_dir:
                if name in skip:
                    continue
                dirs.append(entry)
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                rows.append(f"{_prefix}{name}\0missing\n")
                continue
            rows.append(self._row(f"{_prefix}{name}", st, entry.path))
        self.digest.update("".join(rows).encode("utf-8", "surrogateescape"))
        for entry in dirs:
            if not entry.is_symlink():
                self.tree(entry.path, skip, f"{_prefix}{entry.name}/")


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _git_index(root: Path) -> Path | None:
    for folder in (root, *root.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git / "index"
        if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                return (folder / text[len("gitdir:"):].strip()).resolve() / "index"
    return None


def key(roots: list[Path], settings_files: list[Path | None], options: Mapping[str, object],
        racy: int = RACY_NS) -> str | None:
    """The cache key for linting ``roots`` (project folders or manifest files); None when racy (a file changed in
    the last ``racy`` nanoseconds)."""
    fp = _Fingerprint(racy)
    try:
        fp.digest.update(repr(sorted({"version": __version__, "cwd": os.getcwd(), **options}.items())).encode(
            "utf-8", "surrogateescape"))
        fp.tree(PACKAGE, {"__pycache__"})
        for root, settings in zip(roots, settings_files, strict=True):
            fp.stat(f"root:{root}", root)
            if root.is_dir():
                fp.tree(root, SKIP_DIRS)
            if settings is not None:
                fp.stat(f"settings:{settings}", settings)
            index = _git_index(root if root.is_dir() else root.parent)
            if index is not None:
                fp.stat(f"index:{index}", index)
    except Racy:
        return None
    return fp.digest.hexdigest()


def load(directory: Path, cache_key: str) -> dict | None:
    try:
        data = _loads((directory / "lint" / f"{cache_key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class _Decoding:
    """What CPython's C JSON scanner reads from its decoder: the defaults of :class:`json.JSONDecoder` (``NaN`` and
    ``Infinity`` read by ``float``, as ``json.loads`` reads them)."""

    strict = True
    object_hook = object_pairs_hook = None
    parse_float = parse_constant = float
    parse_int = int


def _loads(text: str) -> Any:
    """:func:`json.loads` (a :class:`ValueError` for anything that is not one JSON value) with the C scanner
    ``json`` itself uses, without importing :mod:`json` (a twentieth of a cached lint: its regular expressions)."""
    try:
        from _json import make_scanner
    except ImportError:  # pragma: no cover - an interpreter without CPython's accelerator
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(" \t\n\r"))
    try:
        value, end = make_scanner(_Decoding)(text, start)  # type: ignore[arg-type]  # any object with its attributes
    except StopIteration:  # no JSON value at ``start`` (the scanner's "not a value here")
        raise ValueError("not a JSON document") from None
    if text[end:].strip(" \t\n\r"):
        raise ValueError("extra data after the JSON document")
    return value


def store(directory: Path, cache_key: str, data: dict) -> None:
    """Write an entry atomically; a cache that cannot be written is silently skipped. The temporary file is named
    after this process (``tempfile`` would import ``shutil`` and ``random``: a few per cent of a cold lint)."""
    folder = directory / "lint"
    tmp = folder / f"{cache_key}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        import json  # only when storing (a cold lint, which has imported more than json)

        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, folder / f"{cache_key}.json")
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
