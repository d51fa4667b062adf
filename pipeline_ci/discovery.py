"""Finding projects without parsing YAML: Clarifai roots (a ``config.yaml`` with a top-level
``pipeline:`` key) and PAI manifests (``*.yaml`` with a top-level ``apiVersion: core/v1``).

Kept free of heavy imports: the lint result cache runs discovery before deciding to load anything.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

TYPE_CHECKING = False  # not typing's: discovery is on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from collections.abc import Iterator

CONFIG = "config.yaml"
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".pipeline-ci", ".tox"}
HEAD_BYTES = 64 * 1024
MANIFEST_SUFFIXES = (".yaml", ".yml")
_PIPELINE_LINE = re.compile(rb"^pipeline\s*:", re.M)
_STEP_LINE = re.compile(rb"^pipeline_step\s*:", re.M)
_MANIFEST_HEAD = re.compile(rb"^apiVersion:\s*[\"']?core/v1", re.M)
CHUNK = 1 << 20
SETTINGS_FILES = (".pipeline-ci.yaml", ".pipeline-ci.yml", "pyproject.toml")
_TOOL_SECTION = re.compile(rb"^\s*\[\s*tool\s*\.\s*[\"']?pipeline-ci[\"']?\s*[.\]]", re.M)


def display(path: Path, cwd: str | None = None) -> str:
    """A path as users see it: relative to the working directory when inside it (``cwd``: the working directory,
    when the caller has it: ``relpath`` asks the kernel for it on every call otherwise)."""
    try:
        return Path(os.path.relpath(path, cwd)).as_posix() if path.is_absolute() else path.as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def real(path: Path) -> Path:
    """``path`` with every symlink resolved; a symlink loop resolves to itself instead of raising
    (``Path.resolve`` raises ``RuntimeError`` on a loop before Python 3.13; ``os.path.realpath`` does not)."""
    return Path(os.path.realpath(path))


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def real_path(base: Path, rel: str | Path) -> Path:
    """``base / rel`` with symlinks resolved; ``base`` must already be resolved.

    Resolving is a syscall per path component, so it is done only when a component under ``base``
    is a symlink (the common case, no symlink, costs one ``lstat`` per component of ``rel``).
    """
    path = base
    for part in Path(rel).parts:
        path = path / part
        if os.path.islink(path):
            return real(base / rel)
    return base / rel


def looks_like_manifest(path: Path) -> bool:
    """Cheap test: a regular ``*.yaml``/``*.yml`` file whose first 64 KiB has a top-level ``apiVersion: core/v1``."""
    if path.suffix.lower() not in MANIFEST_SUFFIXES:
        return False
    try:
        if not path.is_file():
            return False
        head = _head(path, HEAD_BYTES)
    except OSError:
        return False
    return bool(_MANIFEST_HEAD.search(head))


def _head(path: Path | str, limit: int) -> bytes:
    """The first ``limit`` bytes of a file (OSError if it cannot be read). Sized by ``fstat``: asking ``read`` for
    a megabyte allocates a megabyte, which for a thousand small configs costs more than the rest of discovery."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        size = os.fstat(fd).st_size
        return os.read(fd, min(limit, size)) if size else os.read(fd, limit)  # size 0: e.g. a FIFO or procfs
    finally:
        os.close(fd)


def is_pipeline_config(path: Path | str) -> bool:
    """Cheap test: does this ``config.yaml`` have a top-level ``pipeline:`` key?"""
    try:
        head = _head(path, CHUNK)
    except OSError:
        return False
    return bool(_PIPELINE_LINE.search(head))


@lru_cache(maxsize=4096)
def _root_of_folder(folder: Path) -> Path | None:
    if (folder / CONFIG).is_file() and is_pipeline_config(folder / CONFIG):
        return folder
    return None if folder.parent == folder else _root_of_folder(folder.parent)


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding a pipeline ``config.yaml``."""
    start = real(start)
    return _root_of_folder(start if start.is_dir() else start.parent)


def _explicit_config(given: Path) -> Path | None:
    """A ``config.yaml`` named directly (or as the folder's own) that is not a step config."""
    config = given / CONFIG if given.is_dir() else given
    if config.name != CONFIG or not config.is_file():
        return None
    try:
        head = _head(config, CHUNK)
    except OSError:
        return None
    return None if _STEP_LINE.search(head) else real(config.parent)


def discover(paths: list[Path], *, manifests: bool = False) -> tuple[list[Path], list[Path]]:
    """Project roots for ``paths`` (files map to their enclosing project, folders are searched).

    With ``manifests``, PAI manifests are projects too and are returned as file paths (a folder is a Clarifai
    root): every manifest in a searched folder, and a manifest file given directly is its own project.
    Returns ``(roots, unmatched)`` where ``unmatched`` are given paths with no project.
    """
    roots: dict[Path, None] = {}
    unmatched: list[Path] = []
    for given in paths:
        found: list[Path] = []
        if given.is_dir():
            base = real(given)
            for top, files in _walk(str(base)):  # walking the resolved base: every ``top`` is real
                if CONFIG in files and is_pipeline_config(os.path.join(top, CONFIG)):
                    found.append(Path(top))
                if manifests:
                    found += _manifests_in(Path(top), sorted(files), base)
        elif manifests and looks_like_manifest(given):
            found.append(real(given))
        if not found and (root := find_root(given) or _explicit_config(given)) is not None:
            found.append(root)
        if not found:
            unmatched.append(given)
        roots.update(dict.fromkeys(found))
    return list(roots), unmatched


def _walk(base: str) -> Iterator[tuple[str, list[str]]]:
    """``(folder, names of its non-folder entries)`` for ``base`` and every folder below it, top-down, subfolders in
    sorted order, :data:`SKIP_DIRS` and symlinks to folders not entered, unreadable folders skipped: ``os.walk``'s
    answer, a third cheaper (no ``lstat`` per folder, no lists of subfolders kept)."""
    stack = [base]
    while stack:
        top = stack.pop()
        try:
            entries = os.scandir(top)
        except OSError:
            continue
        folders: list[str] = []
        files: list[str] = []
        with entries:
            for entry in entries:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if not is_dir:
                    files.append(entry.name)
                elif entry.name not in SKIP_DIRS and not entry.is_symlink():
                    folders.append(entry.name)
        yield top, files
        stack.extend(os.path.join(top, name) for name in sorted(folders, reverse=True))


def _manifests_in(folder: Path, files: list[str], base: Path) -> list[Path]:
    """The manifests among ``files`` of ``folder``; symlinks leading out of ``base`` are not read."""
    out = []
    for name in files:
        path = folder / name
        if path.suffix.lower() not in MANIFEST_SUFFIXES:
            continue
        resolved = real(path) if os.path.islink(path) else path
        if _inside(resolved, base) and looks_like_manifest(path):
            out.append(resolved)
    return out


def find_settings(start: Path) -> Path | None:
    """The first settings file at or above ``start``: ``.pipeline-ci.yaml``, or a ``pyproject.toml`` with a
    ``[tool.pipeline-ci]`` table (found by a cheap text match; :mod:`pipeline_ci.settings` parses it)."""
    start = real(start)
    for folder in (start, *start.parents):
        for name in SETTINGS_FILES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            if name != "pyproject.toml":
                return candidate
            try:
                if _TOOL_SECTION.search(candidate.read_bytes()):
                    return candidate
            except OSError:
                continue
    return None
