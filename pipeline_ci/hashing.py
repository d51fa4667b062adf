"""The step content hash, byte-identical to the Clarifai SDK's ``hash_directory``, and the safe reader
that the upload archive (:mod:`pipeline_ci.archive`) shares with it.

The SDK (``clarifai/utils/hashing.py``, ``hash_directory``) feeds, for every file of the step folder
except those named ``config-lock.yaml`` (:data:`EXCLUDED_NAMES`), ``relpath + str(size) + content``
into one md5 object. ``os.walk`` lists a symlink to a file among the files (its target's size and
bytes are hashed) and a symlink to a folder among the folders, which it does not enter (nothing is
hashed for it). Files of a folder come in code-point order before its subfolders. The SDK walks
subfolders in ``os.scandir`` order, which depends on the filesystem; we walk them sorted, so the
digest is deterministic everywhere and equal to the SDK's whenever every folder has at most one
subfolder (the standard ``1/`` layout). Where one has more (:func:`forked`), a lockfile written by the SDK may
hold the hash in this machine's listing order: ``sort_dirs=False`` computes that one
(:meth:`pipeline_ci.project.StepDir.content_hash` accepts it when it is the lockfile's).

``tracked_only`` restricts the walk to the files git tracks or has staged (what CI checks out).

``boundary`` (the project root) turns on *confined* reading, which lint, ``upload`` and ``deploy``
always use: every path is opened one component at a time below the step folder (``openat`` with
``O_NOFOLLOW``), symlinks are resolved by this module and never by the kernel, so a symlink whose
target leaves the step folder is recorded in ``escaping_links`` and its target is never opened, and
a file swapped for a link between the check and the read is refused instead of followed. Without
``boundary`` (``pipeline-ci hash``) links are followed wherever they lead, exactly like the SDK.
Symlink loops, folders that cannot be listed and files that cannot be opened are ``problems``; what the
SDK's hash raises or hangs on is ``unhashable`` and never read: broken symlinks (its ``os.path.getsize`` raises),
FIFOs, sockets and devices (its ``open`` and ``read`` block or never end), and paths that are not valid UTF-8
(its ``relative_path.encode("utf-8")`` raises; those are still read, so ``pipeline-ci hash`` keeps a digest).
All of them are ``blockers``: lint reports them and ``upload`` refuses the step. Nothing here raises for the
content of a step folder (:class:`HashError` means the folder itself is missing).
"""

from __future__ import annotations

import bisect
import errno
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from .errors import UsageError
from .records import NamedTuple

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any

LOCKFILE_NAME = "config-lock.yaml"
#: File names left out of the step hash *and* of the upload archive, at any depth. This is the SDK's
#: ``hash_directory`` default (``exclude_files=['config-lock.yaml']``), which the hash must follow to stay
#: byte-identical; the archive uses the same list so that it holds exactly the files the hash read.
EXCLUDED_NAMES = frozenset({LOCKFILE_NAME})
STATE_DIR = ".pipeline-ci"  # our own state (git-ignored): a folder below it is never hashed tracked-only
CHUNK = 1 << 20
MAX_LINK_HOPS = 40  # Linux's own limit before ELOOP
READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_AT = {os.open, os.stat, os.readlink} <= os.supports_dir_fd and hasattr(os, "O_NOFOLLOW")


class HashError(UsageError):
    """The folder cannot be hashed (it is missing or not a folder)."""


class StepHash:
    """The digest of one step folder and what went into it.

    ``files`` are every file the walk found, in hashing order (including those that were then not
    read); ``links`` maps each symlink to a file that stays inside the step folder to its target
    (relative, symlinks resolved); ``dir_links`` the same for symlinks to folders, which the SDK
    neither hashes nor enters. (A plain class, not a dataclass: see :mod:`pipeline_ci.records`.)
    """

    def __init__(self, digest: str, files: list[str] | None = None, escaping_links: list[str] | None = None,
                 skipped: list[str] | None = None, problems: list[tuple[str, str]] | None = None,
                 links: dict[str, str] | None = None, dir_links: dict[str, str] | None = None,
                 unhashable: list[tuple[str, str]] | None = None):
        self.digest = digest
        self.files = [] if files is None else files
        self.escaping_links = [] if escaping_links is None else escaping_links  # lead out of the step folder
        self.skipped = [] if skipped is None else skipped  # not regular files (FIFOs, devices) or broken links
        self.problems = [] if problems is None else problems  # (path, why): loops, unreadable entries
        self.links = {} if links is None else links
        self.dir_links = {} if dir_links is None else dir_links
        # (path, why): what the SDK's hash_directory fails or hangs on (:func:`unhashable_reason`, :func:`bad_name`)
        self.unhashable = [] if unhashable is None else unhashable

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StepHash) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it was

    def __repr__(self) -> str:
        return f"StepHash({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"

    @property
    def blockers(self) -> list[tuple[str, str]]:
        """``(path, description)`` of every entry that keeps this folder from being uploaded as it is:
        symlinks leading out of the step folder, loops and unreadable entries, and what the SDK's hash fails or
        hangs on: broken symlinks, FIFOs, sockets and devices, names that are not UTF-8 (targets are never named)."""
        out = [(rel, "is a symlink leading out of the step folder (its target is never read or uploaded)")
               for rel in self.escaping_links]
        return out + self.problems + self.unhashable


# --------------------------------------------------------------------------------------------
# walking
# --------------------------------------------------------------------------------------------


class _Walk(NamedTuple):
    """What :func:`_walk` found: files (hashing order), symlinks to folders, folders that could not be listed."""

    files: list[str]
    dir_links: list[str]
    errors: list[tuple[str, str]]


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "is a symlink loop (too many levels of symbolic links)"
    return f"cannot be read: {exc.strerror or exc}"


def _walk(step_dir: Path, sort_dirs: bool = True) -> _Walk:
    """Files (hashing order), symlinks to folders (not entered) and folders that could not be listed.

    What ``os.walk(step_dir, followlinks=False)`` lists (with files sorted, and subfolders too unless ``sort_dirs``
    is False: then in ``scandir`` order, as the SDK walks them), built with one ``scandir`` per folder and plain
    string prefixes: lint and ``changed`` walk every step folder of a monorepo.
    """
    out = _Walk([], [], [])

    def visit(top: str, prefix: str) -> None:
        dirs: list[str] = []
        files: list[str] = []
        try:
            with os.scandir(top) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:  # like os.walk: not a folder then
                        is_dir = False
                    (dirs if is_dir else files).append(entry.name)
        except OSError as exc:  # the folder cannot be listed (like os.walk: nothing of it is kept)
            out.errors.append((prefix[:-1], _reason(exc)))
            return
        links = {d for d in dirs if os.path.islink(os.path.join(top, d))}
        out.dir_links.extend(prefix + d for d in sorted(links))
        out.files.extend(prefix + name for name in sorted(files) if name not in EXCLUDED_NAMES)
        entered = [d for d in dirs if d not in links]
        for name in sorted(entered) if sort_dirs else entered:
            path = os.path.join(top, name)
            if not os.path.islink(path):  # replaced by a link meanwhile: not entered (as os.walk)
                visit(path, f"{prefix}{name}/")

    visit(os.fspath(step_dir), "")
    return out


def walk_files(step_dir: Path) -> list[str]:
    """Relative ``/``-separated paths in hashing order: files of a folder sorted, then subfolders sorted."""
    return _walk(step_dir).files


def hash_order(paths: list[str], rank: Callable[[str, str], Any] | None = None) -> list[str]:
    """``paths`` (relative, ``/``-separated) sorted in hashing order, as :func:`walk_files` lists them: a folder's
    files by name before its subfolders, which come by name or, given ``rank(parent, name)``, in that order."""
    if rank is None:
        return sorted(paths, key=lambda p: (*((0, d) for d in p.split("/")[:-1]), (-1, p.rsplit("/", 1)[-1])))

    def key(path: str) -> tuple:
        parts = path.split("/")
        return (*((0, rank("/".join(parts[:i]), part)) for i, part in enumerate(parts[:-1])), (-1, parts[-1]))

    return sorted(paths, key=key)


def git_top(folder: str) -> str | None:
    """The work tree holding ``folder`` (the nearest parent with a ``.git`` entry), without running git."""
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


@lru_cache(maxsize=64)
def _tracked_in(top: Path, index_stamp: float) -> tuple[str, ...] | None:
    """Every path git tracks or has staged in ``top``, sorted (one ``git ls-files`` per work tree and index state)."""
    from .changes.git import Git, GitError  # only the tracked-only mode runs git (imported late: no cycle)

    try:
        return tuple(sorted(Git(top).ls_files()))
    except GitError:  # git missing, or a repository git refuses ("dubious ownership"): not a work tree to us
        return None


def git_tracked_files(step_dir: Path) -> set[str] | None:
    """Files under ``step_dir`` that git tracks or has staged, relative to it; None outside a repository."""
    folder = os.path.realpath(step_dir)
    top = git_top(folder)
    if top is None:
        return None
    # top is folder or one of its parents (os.path.dirname of it): the rest of the path, without os.path.relpath
    prefix = "." if folder == top else folder[len(top.rstrip(os.sep)) + 1:].replace(os.sep, "/")
    if STATE_DIR in prefix.split("/"):  # our own state (a generated DSL bundle)
        return None
    try:
        index = os.stat(os.path.join(top, ".git", "index"))
        stamp: float = index.st_mtime_ns if stat.S_ISREG(index.st_mode) else 0.0
    except OSError:
        stamp = 0.0
    tracked = _tracked_in(Path(top), stamp)
    if tracked is None:
        return None
    if prefix == ".":
        return set(tracked)
    low, high = folder_range(tracked, prefix)
    return {name[len(prefix) + 1:] for name in tracked[low:high]}


def folder_range(paths: Sequence[str], folder: str) -> tuple[int, int]:
    """The slice of the sorted ``/``-separated ``paths`` below ``folder`` (``""``: all of them), by bisection:
    ``"0"`` sorts right after ``"/"``, so ``folder + "0"`` is where the folder's range ends."""
    if not folder:
        return 0, len(paths)
    return bisect.bisect_left(paths, folder + "/"), bisect.bisect_left(paths, folder + "0")


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


class _Escape(Exception):
    """A symlink on the way leads out of the step folder."""


class _NotRegular(Exception):
    """The path ends at something that is not a regular file (a FIFO, a device, a folder): ``mode`` is its
    ``st_mode`` (0: not known)."""

    def __init__(self, rel: str, mode: int = 0):
        super().__init__(rel)
        self.mode = mode


class Opened(NamedTuple):
    """A file of the step folder, open for reading: ``real`` is its path relative to the folder with
    every symlink resolved (equal to the walked path unless a symlink was followed)."""

    fd: int | None  # None: it exists but could not be opened (``error`` says why)
    size: int
    real: str
    error: OSError | None = None


class _Reader:
    """Opens walked paths of one step folder; ``confined``: never outside it (see the module docstring)."""

    def __init__(self, step_dir: Path, confined: bool):
        self.base = os.fspath(step_dir)
        self.abs_base = os.path.abspath(self.base)
        self.confined = confined
        self.top = os.path.realpath(self.base)
        self.top_parts = [p for p in self.top.split(os.sep) if p]
        self.root_fd = os.open(self.top, _DIR_FLAGS) if confined and _AT else None

    def close(self) -> None:
        if self.root_fd is not None:
            os.close(self.root_fd)
            self.root_fd = None

    def sdk_error(self, rel: str, exc: OSError) -> str:
        """What the SDK feeds into the hash for a file it can stat but not open (its message names the path)."""
        return f"ERROR_READING_FILE: {OSError(exc.errno, exc.strerror, os.path.join(self.abs_base, rel))}"

    def open(self, rel: str) -> Opened:
        """Open ``rel`` for reading. Raises ``_Escape``, ``_NotRegular``, ``FileNotFoundError`` (a broken
        link) or another ``OSError`` (a loop: ``ELOOP``)."""
        if not self.confined:
            path = os.path.join(self.base, rel)
            info = os.stat(path)  # follows symlinks, like the SDK's getsize
            if not stat.S_ISREG(info.st_mode):
                raise _NotRegular(rel, info.st_mode)
            try:
                fd = os.open(path, READ_FLAGS & ~getattr(os, "O_NOFOLLOW", 0))
            except OSError as exc:
                return Opened(None, info.st_size, rel, exc)
            return Opened(fd, info.st_size, rel)
        return self._resolve(rel, directory=False)

    def folder(self, rel: str) -> str:
        """The real path (relative to the step folder, ``""`` for itself) of the folder ``rel`` leads to."""
        return self._resolve(rel, directory=True).real

    # One component at a time, below the step folder: lstat says what a name is, a symlink is read and
    # its target pushed back onto the queue, and every open uses O_NOFOLLOW, so a name that became a
    # symlink after its lstat fails (ELOOP) instead of being followed.
    def _resolve(self, rel: str, *, directory: bool) -> Opened:
        todo = [p for p in reversed(rel.split("/")) if p not in ("", ".")]
        names: list[str] = []
        fds: list[int] = []
        hops = 0
        try:
            while todo:
                part = todo.pop()
                if part == "..":
                    if names:
                        names.pop()
                        if fds:
                            os.close(fds.pop())
                    else:
                        self._reenter(todo)
                    continue
                info = self._lstat(part, names, fds)
                if stat.S_ISLNK(info.st_mode):
                    hops += 1
                    if hops > MAX_LINK_HOPS:
                        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
                    target = self._readlink(part, names, fds)
                    if os.path.isabs(target):
                        parts = [p for p in target.replace(os.sep, "/").split("/") if p not in ("", ".")]
                        if parts[: len(self.top_parts)] != self.top_parts:
                            raise _Escape(rel)
                        names.clear()
                        while fds:
                            os.close(fds.pop())
                        parts = parts[len(self.top_parts):]
                    else:
                        parts = [p for p in target.replace(os.sep, "/").split("/") if p not in ("", ".")]
                    todo.extend(reversed(parts))
                    continue
                if not todo and not directory:
                    if not stat.S_ISREG(info.st_mode):
                        raise _NotRegular(rel, info.st_mode)
                    return self._open_file(part, names, fds, info)
                if not stat.S_ISDIR(info.st_mode):
                    raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
                if self.root_fd is not None:
                    try:
                        fds.append(os.open(part, _DIR_FLAGS, dir_fd=fds[-1] if fds else self.root_fd))
                    except OSError as exc:
                        if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # swapped for a link after the lstat
                            raise _changed() from None
                        raise
                names.append(part)
            if directory:
                return Opened(None, 0, "/".join(names))
            raise _NotRegular(rel, stat.S_IFDIR)  # it ends at a folder (``..``)
        finally:
            for fd in fds:
                os.close(fd)

    def _reenter(self, todo: list[str]) -> None:
        """``..`` above the step folder: allowed only straight back in (``../<step folder>/...``)."""
        ups = 1
        while todo and todo[-1] == "..":
            todo.pop()
            ups += 1
        if ups > len(self.top_parts):
            raise _Escape("..")
        for name in self.top_parts[len(self.top_parts) - ups:]:
            if not todo or todo.pop() != name:
                raise _Escape("..")

    def _path(self, part: str, names: list[str]) -> str:
        return os.path.join(self.top, *names, part)

    def _lstat(self, part: str, names: list[str], fds: list[int]) -> os.stat_result:
        if self.root_fd is None:
            return os.lstat(self._path(part, names))
        return os.stat(part, dir_fd=fds[-1] if fds else self.root_fd, follow_symlinks=False)

    def _readlink(self, part: str, names: list[str], fds: list[int]) -> str:
        if self.root_fd is None:
            return os.readlink(self._path(part, names))
        return os.readlink(part, dir_fd=fds[-1] if fds else self.root_fd)

    def _open_file(self, part: str, names: list[str], fds: list[int], info: os.stat_result) -> Opened:
        real = "/".join([*names, part])
        try:
            if self.root_fd is None:
                fd = os.open(self._path(part, names), READ_FLAGS)
            else:
                fd = os.open(part, READ_FLAGS, dir_fd=fds[-1] if fds else self.root_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # it became a symlink after the lstat: never followed
                raise _changed() from None
            return Opened(None, info.st_size, real, exc)
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino) or not stat.S_ISREG(now.st_mode):
            os.close(fd)
            raise _changed()
        return Opened(fd, info.st_size, real)


def _changed() -> OSError:
    return OSError(errno.EAGAIN, "it changed while it was being read")


@contextmanager
def reader(step_dir: Path, *, confined: bool = True) -> Iterator[_Reader]:
    """A reader of ``step_dir``'s walked paths (see :class:`_Reader`)."""
    opened = _Reader(step_dir, confined)
    try:
        yield opened
    finally:
        opened.close()


def read_entry(source: _Reader, rel: str, result: StepHash) -> Opened | None:
    """Open ``rel`` for the hash or the archive; what cannot be read goes to ``result`` and gives None.

    An entry that exists but cannot be opened comes back with ``fd=None`` (the SDK hashes an error
    message for it); it is recorded as a problem too.
    """
    bad = bad_name(rel)
    if bad is not None and all(path != bad for path, _ in result.unhashable):
        result.unhashable.append((bad, NOT_UTF8))  # still read: ``pipeline-ci hash`` keeps its digest
    try:
        got = source.open(rel)
    except _Escape:
        result.escaping_links.append(rel)
        return None
    except (_NotRegular, FileNotFoundError) as exc:
        result.skipped.append(rel)  # never read: FIFOs and devices would block or never end
        result.unhashable.append((rel, unhashable_reason(exc)))
        return None
    except OSError as exc:
        result.problems.append((rel, _reason(exc)))
        return None
    if got.error is not None:
        result.problems.append((rel, _reason(got.error)))
    elif got.real != rel:
        result.links[rel] = got.real
    return got


NOT_UTF8 = ("has a name that is not valid UTF-8: the Clarifai SDK's hash cannot encode it (UnicodeEncodeError), so "
            "`clarifai pipeline upload` fails; rename it")


def bad_name(rel: str) -> str | None:
    """The first component of ``rel`` (with its parents) that is not valid UTF-8 (an undecodable byte of a file
    name, kept as a lone surrogate), or None: the SDK's hash encodes every relative path with ``encode("utf-8")``."""
    if rel.isascii():
        return None
    try:
        rel.encode("utf-8")
        return None
    except UnicodeEncodeError:
        parts = rel.split("/")
        for depth, part in enumerate(parts, start=1):
            try:
                part.encode("utf-8")
            except UnicodeEncodeError:
                return "/".join(parts[:depth])
        return rel  # pragma: no cover - a component that cannot be encoded is always found


def unhashable_reason(exc: BaseException) -> str:
    """Why the SDK's hash (``os.path.getsize`` then ``open`` and ``read`` of every listed file) cannot take an entry that
    is a broken symlink or not a regular file; pipeline-ci never reads it and refuses to upload its step."""
    mode = exc.mode if isinstance(exc, _NotRegular) else 0
    if isinstance(exc, FileNotFoundError) or not mode:
        return ("is a broken symlink (or vanished while it was read): the Clarifai SDK's hash fails on it "
                "(FileNotFoundError), so `clarifai pipeline upload` fails; remove it or make it a real file")
    if stat.S_ISFIFO(mode):
        what = "a FIFO (named pipe): the Clarifai SDK's hash blocks reading it"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device: the Clarifai SDK's hash reads it, which may never end"
    elif stat.S_ISSOCK(mode):
        what = "a socket: the Clarifai SDK's hash and upload cannot read it"
    elif stat.S_ISDIR(mode):
        what = "a folder where a file was listed (it changed while it was read)"
    else:
        what = "not a regular file"
    return f"is {what}; only regular files can be uploaded, so remove it from the step folder"


def check_dir_links(source: _Reader, dir_links: list[str], result: StepHash) -> None:
    """Record where each symlink to a folder leads (the SDK hashes nothing for them)."""
    for rel in dir_links:
        try:
            result.dir_links[rel] = source.folder(rel)
        except _Escape:
            result.escaping_links.append(rel)
        except (_NotRegular, FileNotFoundError, NotADirectoryError) as exc:
            result.skipped.append(rel)  # it changed since the walk saw a folder there
            result.unhashable.append((rel, unhashable_reason(exc)))
        except OSError as exc:
            result.problems.append((rel, _reason(exc)))


class _Md5:
    """MD5 from the interpreter's small built-in module while at most :data:`SMALL` bytes came, then OpenSSL's (about
    a fifth faster on big files), fed what came before. ``hashlib`` loads OpenSSL on import, a few per cent of a
    cold lint, whose step folders are small; the digest is the same either way."""

    SMALL = 1 << 20

    def __init__(self) -> None:
        try:
            from _md5 import md5
        except ImportError:  # pragma: no cover - an interpreter built without it
            from hashlib import md5
        self._digest: Any = md5()
        self._seen: list[bytes] | None = []  # what the small digest was fed; None once OpenSSL's is used
        self._fed = 0

    def update(self, data: bytes | memoryview) -> None:
        if self._seen is not None:
            self._fed += len(data)
            if self._fed > self.SMALL:
                import hashlib

                self._digest = hashlib.md5(b"".join(self._seen))
                self._seen = None
            else:
                self._seen.append(bytes(data))
        self._digest.update(data)

    def hexdigest(self) -> str:
        return str(self._digest.hexdigest())


def feed(digest: Any, rel: str, size: int, content: bytes) -> None:
    """One file's share of the SDK hash: relative path, decimal size, bytes."""
    digest.update(rel.encode("utf-8", "surrogateescape"))
    digest.update(str(size).encode("ascii"))
    digest.update(content)


def forked(files: list[str]) -> bool:
    """Does a folder of these files (relative, ``/``-separated) hold two subfolders or more (see :class:`StepHash`)?"""
    children: dict[str, str] = {}
    for path in files:
        parts = path.split("/")[:-1]
        for depth in range(len(parts)):
            parent, child = "/".join(parts[:depth]), parts[depth]
            if children.setdefault(parent, child) != child:
                return True
    return False


def _listing_order(folder: str, files: list[str]) -> list[str]:
    """``files`` in hashing order with subfolders in ``scandir`` order (the SDK's walk) instead of sorted."""
    listed: dict[str, dict[str, int]] = {}

    def rank(parent: str, name: str) -> int:
        if parent not in listed:
            try:
                listed[parent] = {n: i for i, n in enumerate(os.listdir(os.path.join(folder, parent)))}
            except OSError:
                listed[parent] = {}
        return listed[parent].get(name, -1)

    return hash_order(files, rank)


def hash_files(folder: str, files: list[str], sort_dirs: bool = True) -> str:
    """The step hash of ``folder`` over exactly ``files`` (relative, ``/``-separated, in any order), read as they are:
    each file's size as ``fstat`` gives it, then its bytes to the end, as :func:`hash_step` feeds them.

    For files git vouches for (``changed``'s fingerprint: tracked, plain, clean, in no folder reached through a
    symlink), where :func:`hash_step` in tracked-only mode would list exactly these: no walk, no confinement."""
    import hashlib  # loaded by then (``changed`` hashes blobs): a digest with no Python layer

    digest = hashlib.md5()
    for rel in hash_order(files) if sort_dirs else _listing_order(folder, files):
        fd = os.open(os.path.join(folder, rel), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            digest.update(rel.encode("utf-8", "surrogateescape"))
            digest.update(str(os.fstat(fd).st_size).encode("ascii"))
            while chunk := os.read(fd, CHUNK):
                digest.update(chunk)
        finally:
            os.close(fd)
    return digest.hexdigest()


def listed_files(step_dir: Path, tracked_only: bool, sort_dirs: bool = True) -> _Walk:
    """The walk of ``step_dir`` (with ``tracked_only``: only what git tracks or has staged)."""
    if not step_dir.is_dir():
        raise HashError(f"{step_dir}: not a directory")
    walk = _walk(step_dir, sort_dirs)
    if tracked_only:
        tracked = git_tracked_files(step_dir)
        if tracked is None:
            raise HashError(f"{step_dir}: not inside a git work tree (needed for --tracked-only)")
        walk = _Walk([f for f in walk.files if f in tracked], [d for d in walk.dir_links if d in tracked], walk.errors)
    return walk


def hash_step(
    step_dir: Path,
    *,
    tracked_only: bool = False,
    algo: str = "md5",
    boundary: Path | None = None,
    sort_dirs: bool = True,
) -> StepHash:
    """Hash ``step_dir`` like the Clarifai SDK (see the module docstring; ``sort_dirs=False``: subfolders in this
    machine's listing order, the SDK's own)."""
    walk = listed_files(step_dir, tracked_only, sort_dirs)
    if algo == "md5":
        digest: Any = _Md5()
    else:
        import hashlib

        digest = hashlib.new(algo)
    result = StepHash(digest="", files=walk.files, problems=list(walk.errors))
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    try:
        source = _Reader(step_dir, confined=boundary is not None)
    except OSError as exc:  # the folder itself cannot be opened
        result.problems.append(("", _reason(exc)))
        result.digest = digest.hexdigest()
        return result
    try:
        for rel in walk.files:
            got = read_entry(source, rel, result)
            if got is None:
                continue
            digest.update(rel.encode("utf-8", "surrogateescape"))
            digest.update(str(got.size).encode("ascii"))
            if got.fd is None:
                digest.update(source.sdk_error(rel, got.error or OSError()).encode())
                continue
            with open(got.fd, "rb", buffering=0, closefd=True) as fh:
                try:
                    while count := fh.readinto(buf):
                        digest.update(view[:count])
                except OSError as exc:
                    digest.update(source.sdk_error(rel, exc).encode())
                    result.problems.append((rel, _reason(exc)))
        if boundary is not None:
            check_dir_links(source, walk.dir_links, result)
    finally:
        source.close()
    result.digest = digest.hexdigest()
    return result
