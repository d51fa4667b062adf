"""Which Python runs a Clarifai step locally: the current interpreter or a cached virtualenv.

Modes:

* ``none``: ``sys.executable`` for every step.
* ``venv``: one virtualenv per distinct requirements set under ``<project>/.pipeline-ci/venvs/<key>/``,
  where ``key`` hashes the normalised ``requirements.txt`` (comments, blank lines and surrounding
  white space dropped, lines de-duplicated and sorted) plus the Python implementation and
  ``major.minor`` version. It is created with ``python -m venv`` (``--without-pip`` when there is
  nothing to install), filled with ``python -m pip install -r requirements.txt`` and marked ready
  only after a successful install, so a failed or interrupted install is redone next time and a
  ready one is reused at no cost. Files that ``-r`` includes are installed but not hashed.
* ``auto`` (default): a virtualenv only for steps whose ``requirements.txt`` the current environment
  does not satisfy. Each requirement is checked with ``packaging`` against ``importlib.metadata``
  (environment markers honoured, extras not checked); option lines (``-r``, ``--index-url``, ``-e``)
  and URL requirements cannot be checked and count as unsatisfied. Empty or comment-only files need
  nothing.

Creating and installing runs through a callback (the step's log, killed on cancellation). Concurrent
nodes needing the same environment wait for one another (a thread lock plus an ``fcntl`` file lock
between processes, where available).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from ....errors import RunFailure

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

MODES = ("auto", "none", "venv")
READY = ".pipeline-ci-ready"
RunCommand = Callable[[list[str], str], int]  # (argv, what) -> exit code


class IsolationError(RunFailure):
    """The step's environment could not be prepared."""


def normalised_requirements(text: str) -> list[str]:
    """Requirement lines without comments, blank lines and duplicates, sorted; continuations joined."""
    joined = text.replace("\\\r\n", " ").replace("\\\n", " ")
    lines = set()
    for line in joined.splitlines():
        line = line.strip()
        if line.startswith("#"):
            continue
        if " #" in line or "\t#" in line:
            line = line.split("#", 1)[0].strip()
        if line:
            lines.add(" ".join(line.split()))
    return sorted(lines)


def satisfied(lines: list[str]) -> bool:
    """Does the current environment satisfy every requirement line?"""
    for line in lines:
        if line.startswith("-") or "://" in line:
            return False
        try:
            req = Requirement(line)
        except InvalidRequirement:
            return False
        if req.url:
            return False
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            version = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            return False
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            return False
    return True


def python_tag() -> str:
    return f"{platform.python_implementation().lower()}-{sys.version_info.major}.{sys.version_info.minor}"


def env_key(lines: list[str]) -> str:
    digest = hashlib.sha256(("\n".join(lines) + "\n" + python_tag()).encode("utf-8")).hexdigest()
    return digest[:16]


def venv_python(path: Path) -> Path:
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


class Isolation:
    """Picks (and, in ``venv``/``auto`` mode, prepares) the interpreter for each step folder."""

    def __init__(self, mode: str, venv_root: Path, base_python: str = sys.executable):
        if mode not in MODES:
            raise ValueError(f"unknown isolation mode {mode!r}; choose from {', '.join(MODES)}")
        self.mode = mode
        self.venv_root = venv_root
        self.base_python = base_python
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def requirements(self, step_dir: Path) -> list[str]:
        path = step_dir / "requirements.txt"
        try:
            return normalised_requirements(path.read_text(encoding="utf-8-sig")) if path.is_file() else []
        except (OSError, UnicodeDecodeError) as exc:
            raise IsolationError(f"cannot read {path}: {exc}") from None

    def needs_venv(self, step_dir: Path) -> bool:
        if self.mode == "none":
            return False
        if self.mode == "venv":
            return True
        lines = self.requirements(step_dir)
        return bool(lines) and not satisfied(lines)

    def python_for(self, step_dir: Path, run: RunCommand, log: Callable[[str], None]) -> str:
        """The interpreter for ``step_dir``; creates the virtualenv when needed (``run`` executes commands)."""
        if not self.needs_venv(step_dir):
            return self.base_python
        lines = self.requirements(step_dir)
        key = env_key(lines)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock, _FileLock(self.venv_root / f"{key}.lock"):
            path = self.venv_root / key
            python = venv_python(path)
            if (path / READY).is_file() and python.exists():
                return str(python)
            log(f"creating virtualenv {key} for {step_dir.name}/requirements.txt (one-off; output in the step log)")
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)
            create = [self.base_python, "-m", "venv", *([] if lines else ["--without-pip"]), str(path)]
            code = run(create, "create virtualenv")
            if code != 0:
                raise IsolationError(f"creating the virtualenv failed (exit code {code}); see the step log")
            if lines:
                install = [str(python), "-m", "pip", "install", "--disable-pip-version-check",
                           "-r", str(step_dir / "requirements.txt")]
                code = run(install, "install requirements")
                if code != 0:
                    raise IsolationError(f"pip install -r requirements.txt failed (exit code {code}); see the step log")
            (path / READY).write_text(json.dumps({"python": python_tag(), "requirements": lines}) + "\n")
            return str(python)


class _FileLock:
    """An exclusive ``fcntl`` lock on ``path`` (a no-op where fcntl is missing)."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> _FileLock:
        if fcntl is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
