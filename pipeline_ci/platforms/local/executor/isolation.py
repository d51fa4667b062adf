"""Which Python runs a Clarifai step locally: the current interpreter or a shared virtualenv.

Modes:

* ``none``: ``sys.executable`` for every step.
* ``venv``: one virtualenv per distinct (requirements, interpreter), shared by every project of the
  user, in the user cache like pre-commit's (:func:`envs_dir`: ``$PIPELINE_CI_HOME/envs``, else
  ``$XDG_CACHE_HOME/pipeline-ci/envs``, else ``~/.cache/pipeline-ci/envs``), in a folder named by
  :func:`env_key`: a hash of the normalised ``requirements.txt`` (comments, blank lines and
  surrounding white space dropped, lines de-duplicated and sorted), the Python implementation and
  ``major.minor`` version, and the real path of the base interpreter. A file that the requirements
  name by a relative path (``-r other.txt``, ``-e ./pkg``, ``--find-links wheels/``) makes the env
  belong to that step folder (its path joins the key); the content of such files is not hashed.
* ``auto`` (default): a virtualenv only for steps whose ``requirements.txt`` the current environment
  does not satisfy. Each requirement is checked with ``packaging`` against ``importlib.metadata``
  (environment markers honoured, extras not checked); option lines (``-r``, ``--index-url``, ``-e``)
  and URL requirements cannot be checked and count as unsatisfied. Empty or comment-only files need
  nothing.

Building one: ``python -m venv --without-pip``, then the current environment's pip installs into it
(``pip --python <env> install -r requirements.txt``, pip >= 22.3; with an older or no pip, the env gets
its own pip from ``ensurepip``). The marker :data:`READY` is written last, after a successful install:
an env without it (a build that failed or whose process was killed) is removed and built again, and
one with it is reused at no cost. Builds are serialised per env by an exclusive ``fcntl.flock`` on
``<envs>/<key>.lock`` (and a thread lock within the process): when two runs race, one builds and the
other says it is waiting, then reuses the result. While it builds, :func:`pipeline_ci.progress.progress` shows
the elapsed time and what pip is on (read from its output): a live line on a terminal, else a plain line every
15 s (inside a log group in Actions).

Every use touches :data:`USED` (the "last used" of ``pipeline-ci envs list``); :func:`list_envs` and
:func:`remove_env` serve ``pipeline-ci envs`` (:mod:`pipeline_ci.commands.envs`). Creating and
installing run through a callback (the step's log, killed on cancellation).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import stat
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ....errors import RunFailure
from ....progress import progress

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

MODES = ("auto", "none", "venv")
READY = ".pipeline-ci-ready"  # written last: the env is complete
USED = ".pipeline-ci-used"  # its mtime: when a run last used the env
HOME_VAR = "PIPELINE_CI_HOME"
PIP_WITH_PYTHON = (22, 3)  # the first pip with ``--python``
_PATH_OPTIONS = ("-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-f", "--find-links")
_PIP_STEP = re.compile(r"^\s*(Collecting|Downloading|Processing|Using cached|Building wheel for|Installing collected "
                       r"packages:)\s*(.*)$")


class IsolationError(RunFailure):
    """The step's environment could not be prepared."""


class RunCommand(Protocol):
    """Runs ``argv`` into the step log (``what`` heads it); ``on_line`` sees each output line; returns the exit code."""

    def __call__(self, argv: list[str], what: str, on_line: Callable[[str], None] | None = None) -> int: ...


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
    import importlib.metadata  # here, not at the top: a run whose steps need nothing is spared both imports (~15 ms)

    from packaging.requirements import InvalidRequirement, Requirement

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


def interpreter(base_python: str = sys.executable) -> str:
    """The real path of the interpreter a virtualenv made by ``base_python`` links to (through a venv to its base)."""
    if base_python == sys.executable:
        base_python = getattr(sys, "_base_executable", None) or sys.executable
    return os.path.realpath(base_python)


def _path_argument(line: str) -> str | None:
    """The file or folder a requirement line names (``-r x.txt``, ``-e ./pkg``, ``./pkg``, ``pkg @ file:...``), if any."""
    target = None
    for option in _PATH_OPTIONS:
        if line.startswith(option):
            rest = line[len(option):]
            if rest[:1] in (" ", "="):
                target = rest.lstrip(" =")
            elif rest and not option.startswith("--"):  # -rfile.txt
                target = rest
            break
    if target is None:
        spec = line.split(";")[0].strip()
        spec = spec.split(" @ ", 1)[1].strip() if " @ " in spec else spec
        if not (spec.startswith((".", "/", "~", "file:")) or "/" in spec):
            return None
        target = spec
    if target.startswith("file:"):
        target = target[5:]
        target = target[2:] if target.startswith("//") else target
    if "://" in target:
        return None
    return os.path.expanduser(target)


def local_refs(lines: list[str]) -> bool:
    """Does a requirement line name a file or folder by a relative path (so it means something else elsewhere)?"""
    return any((target := _path_argument(line)) is not None and not os.path.isabs(target) for line in lines)


def requirements_hash(lines: list[str]) -> str:
    return hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8")).hexdigest()[:16]


def env_key(lines: list[str], base_python: str = sys.executable, step_dir: Path | None = None) -> str:
    """The env's folder name: the requirements, the Python version and interpreter (and, for relative file
    references, the step folder)."""
    parts = ["\n".join(lines), python_tag(), interpreter(base_python)]
    if step_dir is not None and local_refs(lines):
        parts.append(str(step_dir.resolve()))
    return hashlib.sha256("\n\0".join(parts).encode("utf-8")).hexdigest()[:16]


def envs_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where shared virtualenvs live: ``$PIPELINE_CI_HOME/envs``, ``$XDG_CACHE_HOME/pipeline-ci/envs`` or
    ``~/.cache/pipeline-ci/envs``."""
    env = os.environ if env is None else env
    if env.get(HOME_VAR):
        return Path(env[HOME_VAR]).expanduser() / "envs"
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "pipeline-ci" / "envs"
    try:
        home = Path.home()
    except RuntimeError:  # no HOME and no passwd entry
        raise IsolationError(f"no home folder to keep virtualenvs in: set {HOME_VAR} or XDG_CACHE_HOME") from None
    return home / ".cache" / "pipeline-ci" / "envs"


def venv_python(path: Path) -> Path:
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _outer_pip(base_python: str) -> bool:
    """Can the current environment's pip install into another interpreter (``pip --python``)?"""
    if base_python != sys.executable:
        return False
    import importlib.metadata

    try:
        version = importlib.metadata.version("pip")
    except importlib.metadata.PackageNotFoundError:
        return False
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    return numbers >= PIP_WITH_PYTHON


class Isolation:
    """Picks (and, in ``venv``/``auto`` mode, prepares) the interpreter for each step folder.

    ``venv_root``: where the envs live (default :func:`envs_dir`, read when the first env is needed)."""

    def __init__(self, mode: str, venv_root: Path | None = None, base_python: str = sys.executable):
        if mode not in MODES:
            raise ValueError(f"unknown isolation mode {mode!r}; choose from {', '.join(MODES)}")
        self.mode = mode
        self._root = venv_root
        self.base_python = base_python
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @property
    def venv_root(self) -> Path:
        if self._root is None:
            self._root = envs_dir()
        return self._root

    def requirements(self, step_dir: Path) -> list[str]:
        path = step_dir / "requirements.txt"
        try:
            return normalised_requirements(path.read_text(encoding="utf-8-sig")) if path.is_file() else []
        except (OSError, UnicodeDecodeError) as exc:
            raise IsolationError(f"cannot read {path}: {exc}") from None

    def needs_venv(self, lines: list[str]) -> bool:
        """Whether a step with these requirement lines runs in a virtualenv (``auto``: unless they are met here)."""
        return self.mode == "venv" or (self.mode == "auto" and bool(lines) and not satisfied(lines))

    def python_for(self, step_dir: Path, run: RunCommand, log: Callable[[str], None]) -> str:
        """The interpreter for ``step_dir``; builds the shared virtualenv when needed (``run`` executes commands)."""
        lines = [] if self.mode == "none" else self.requirements(step_dir)
        if not self.needs_venv(lines):
            return self.base_python
        key = env_key(lines, self.base_python, step_dir)
        path = self.venv_root / key
        python = venv_python(path)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        lock_path = self.venv_root / f"{key}.lock"
        waiting = f"waiting for virtualenv {key}: another run is building it (lock {lock_path})"
        try:
            file_lock = _FileLock(lock_path, on_wait=lambda: log(waiting))
            with lock, file_lock:
                if _ready(path):
                    if file_lock.waited:
                        log(f"virtualenv {key} is ready (built by the other run): using it")
                    _touch(path / USED)
                    return str(python)
                if path.exists():
                    why = ("its interpreter is gone" if (path / READY).exists()
                           else "an earlier build failed or was killed")
                    log(f"virtualenv {key} in {path} is incomplete ({why}): building it again")
                    shutil.rmtree(path, ignore_errors=True)
                self._build(step_dir, lines, path, key, run, log)
        except OSError as exc:
            raise IsolationError(f"cannot prepare the virtualenv in {path}: {exc.strerror or exc}") from None
        return str(python)

    def _build(self, step_dir: Path, lines: list[str], path: Path, key: str, run: RunCommand,
               log: Callable[[str], None]) -> None:
        log(f"building virtualenv {key} for {step_dir.name}/requirements.txt in {path} (once: shared by every "
            "project with these requirements and this Python; pip's output is in the step log)")
        outer = _outer_pip(self.base_python)
        python = venv_python(path)
        started = time.monotonic()
        with progress(f"virtualenv {key}", log) as bar:
            doing = ["creating the virtualenv"]
            bar.update(doing[0])

            def line(text: str) -> None:
                activity = _pip_activity(text)
                if activity and activity != doing[0]:
                    bar.done(doing[0])
                    doing[0] = activity
                    bar.update(activity)

            create = [self.base_python, "-m", "venv", *([] if lines and not outer else ["--without-pip"]), str(path)]
            code = run(create, "create virtualenv", line)
            if code != 0:
                raise IsolationError(f"creating the virtualenv failed (exit code {code}); see the step log")
            if lines:
                pip = [self.base_python, "-m", "pip", "--python", str(python)] if outer else [str(python), "-m", "pip"]
                install = [*pip, "install", "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
                           "-r", str(step_dir / "requirements.txt")]
                code = run(install, "install requirements", line)
                if code != 0:
                    raise IsolationError(f"pip install -r requirements.txt failed (exit code {code}); see the step log")
        info = {"key": key, "python": python_tag(), "interpreter": interpreter(self.base_python),
                "requirements": lines, "requirements_hash": requirements_hash(lines),
                "source": str(step_dir / "requirements.txt"), "created": time.time()}
        _touch(path / USED)
        partial = path / (READY + ".tmp")
        partial.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        os.replace(partial, path / READY)  # last: from now on the env is complete
        log(f"virtualenv {key} ready after {time.monotonic() - started:.1f}s")


def _ready(path: Path) -> bool:
    return (path / READY).is_file() and venv_python(path).exists()


def _touch(path: Path) -> None:
    """Mark a use (best effort: a read-only cache still works)."""
    try:
        with open(path, "a"):
            pass
        os.utime(path)
    except OSError:
        pass


def _pip_activity(text: str) -> str | None:
    """What a line of pip's output says pip is doing (``collecting pcitinypkg``), None for any other line."""
    match = _PIP_STEP.match(text)
    if not match:
        return None
    verb, rest = match.group(1), match.group(2).strip()
    if verb.startswith("Installing"):
        names = [n.strip() for n in rest.split(",") if n.strip()]
        return f"installing {len(names)} package(s): {', '.join(names[:5])}{', ...' if len(names) > 5 else ''}"
    what = rest.split(" (")[0]
    return f"{verb.lower()} {os.path.basename(what) if '/' in what else what}".strip()


class _FileLock:
    """An exclusive ``fcntl`` lock on ``path`` (a no-op where fcntl is missing).

    ``on_wait`` is called once if another process holds it; ``blocking=False``: :meth:`acquire` returns False
    instead of waiting. A lock file removed while we waited for it (``envs prune``) is created again and locked."""

    def __init__(self, path: Path, on_wait: Callable[[], None] | None = None, blocking: bool = True):
        self.path = path
        self.on_wait = on_wait
        self.blocking = blocking
        self.fd: int | None = None
        self.waited = False

    def acquire(self) -> bool:
        if fcntl is None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if not self.blocking:
                        os.close(fd)
                        return False
                    if not self.waited and self.on_wait is not None:
                        self.on_wait()
                    self.waited = True
                    fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    same = False
            except BaseException:
                os.close(fd)
                raise
            if same:
                self.fd = fd
                return True
            os.close(fd)  # we locked a file that was removed meanwhile

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> _FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# ------------------------------------------------------------------------------------------- pipeline-ci envs


@dataclass(frozen=True)
class EnvInfo:
    """One shared virtualenv as ``pipeline-ci envs`` shows it."""

    key: str
    path: Path
    ready: bool  # complete (its marker is there); else half-built or being built
    busy: bool  # a run holds its lock (building it) right now
    size: int  # bytes of its files (symlinks not followed)
    requirements_hash: str | None
    python: str | None
    requirements: tuple[str, ...]
    last_used: float | None  # epoch seconds


def _size(path: Path) -> int:
    total = 0
    for top, dirs, files in os.walk(path):
        for name in files + dirs:
            try:
                info = os.lstat(os.path.join(top, name))
            except OSError:
                continue
            if not stat.S_ISDIR(info.st_mode):
                total += info.st_size
    return total


def _busy(root: Path, key: str) -> bool:
    lock = _FileLock(root / f"{key}.lock", blocking=False)
    if not (root / f"{key}.lock").exists():
        return False
    if lock.acquire():
        lock.release()
        return False
    return True


def list_envs(root: Path) -> list[EnvInfo]:
    """The envs under ``root`` (complete, half-built and being built), by path."""
    try:
        entries = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise IsolationError(f"cannot read {root}: {exc.strerror or exc}") from None
    found = []
    for path in entries:
        info: dict = {}
        ready = _ready(path)
        if ready:
            try:
                info = json.loads((path / READY).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                info = {}
        used = None
        for marker in (path / USED, path / READY, path):
            try:
                used = marker.stat().st_mtime
                break
            except OSError:
                continue
        found.append(EnvInfo(path.name, path, ready, _busy(root, path.name), _size(path),
                             info.get("requirements_hash"), info.get("python"),
                             tuple(info.get("requirements") or ()), used))
    return found


def remove_env(root: Path, key: str) -> bool:
    """Delete env ``key`` and its lock file, unless a run is building it right now (then False)."""
    lock = _FileLock(root / f"{key}.lock", blocking=False)
    if not lock.acquire():
        return False
    try:
        if (root / key).exists():
            shutil.rmtree(root / key)
        (root / f"{key}.lock").unlink(missing_ok=True)  # waiters notice and lock a fresh file
    finally:
        lock.release()
    return True


def remove_orphan_locks(root: Path) -> None:
    """Delete the lock files of envs that do not exist (a build that failed before creating its folder)."""
    try:
        locks = [p for p in root.glob("*.lock") if not (root / p.stem).exists()]
    except OSError:
        return
    for lock in locks:
        try:
            remove_env(root, lock.stem)
        except OSError:
            continue
