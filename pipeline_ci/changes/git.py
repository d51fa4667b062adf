"""The only place pipeline-ci runs git: one :class:`Git` per work tree, a plain child process (no GitPython; spawned
without importing ``subprocess`` where the platform allows, see :func:`_run`, so the lint path pays for git's run only),
and one :class:`GitError` for every failure.

Every command runs as ``git --no-pager -c core.quotepath=off -c color.ui=false -c diff.relative=false ...`` with
the working directory given (never the process's), in an environment where:

- ``LC_ALL=C``: stable, English messages (they end up in :class:`GitError` and are matched by callers' tests);
- ``GIT_TERMINAL_PROMPT=0``: a fetch that needs credentials fails instead of waiting for a password;
- ``GIT_PAGER=cat``/``PAGER=cat`` and ``--no-pager``: nothing waits on a pager;
- ``GIT_OPTIONAL_LOCKS=0``: read-only commands never take ``index.lock`` (a pre-commit hook runs while
  ``git commit`` holds it);
- the variables that point git at another repository or index (``GIT_DIR``, ``GIT_WORK_TREE``,
  ``GIT_INDEX_FILE``, ... exported by git to hooks, see githooks(5)) and those that change diff output
  (``GIT_EXTERNAL_DIFF``, ``GIT_DIFF_OPTS``) are removed: the working directory alone says which repository
  (except a hook's ``GIT_INDEX_FILE`` that belongs to that repository, see :func:`git_env`).

Paths are read with ``-z`` (no quoting, any byte allowed) and decoded as UTF-8 with ``surrogateescape``.
Diffs use ``--name-status -z --find-renames=50% --no-ext-diff --no-color --ignore-submodules=none`` (a
configured ``diff.ignoreSubmodules`` would hide submodule bumps; see git-diff(1)).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import PipelineCIError
from ..exitcodes import ExitCode
from ..records import NamedTuple

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

GIT = "git"
CONFIG = ("--no-pager", "-c", "core.quotepath=off", "-c", "color.ui=false", "-c", "diff.relative=false")
DIFF_OPTIONS = ("--raw", "--no-abbrev", "-z", "--find-renames=50%", "--no-ext-diff", "--no-color", "--ignore-submodules=none")
REPO_VARIABLES = frozenset({
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_PREFIX", "GIT_EXTERNAL_DIFF", "GIT_DIFF_OPTS",
})
HYGIENE = {"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "PAGER": "cat", "GIT_OPTIONAL_LOCKS": "0"}
_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)  # https://user:token@host -> https://***@host
_STDERR_LIMIT = 4000


class GitError(PipelineCIError):
    """A git command failed, git is missing, or git's answer cannot be used (exit 2: nothing was started).

    ``command`` is the argv as the user would type it (``git diff ...``, without the hygiene options),
    ``stderr`` what git said (credentials in URLs masked), ``returncode`` git's exit status (None: git did not
    run or did not finish)."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, command: Sequence[str] = (), stderr: str = "", returncode: int | None = None):
        super().__init__(message)
        self.command = tuple(command)
        self.stderr = stderr
        self.returncode = returncode


class FileChange(NamedTuple):
    """One file that differs between two commits. ``path`` (and ``old_path`` of a rename) are ``/``-separated,
    relative to the work tree as git reports them, or to a project root once :mod:`.view` narrowed them."""

    status: str  # "A", "M", "D" or "R" (a copy is "A"; a type change, e.g. file <-> symlink, is "M")
    path: str
    old_path: str | None = None  # the path before a rename
    similarity: int | None = None  # rename similarity in percent, when git reports one
    old_blob: str | None = None  # the blob id of the file (``old_path`` for a rename) at base; None: none there


def git_env(base: Mapping[str, str] | None = None, cwd: Path | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) made safe for running git in ``cwd`` (see the module
    docstring). One exception: an inherited ``GIT_INDEX_FILE`` inside ``<cwd>/.git/`` is kept, because a commit
    hook of that same repository must see the index being committed (``git commit -a`` or ``git commit <paths>``
    stage into a temporary index)."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if k not in REPO_VARIABLES}
    env.update(HYGIENE)
    index = source.get("GIT_INDEX_FILE")
    if index and cwd is not None and "GIT_DIR" not in source and (Path(cwd) / ".git").is_dir():
        path = Path(os.path.abspath(index)).resolve()  # relative to where the hook runs: this process's directory
        if path.parent == (Path(cwd) / ".git").resolve() and path.is_file():
            env["GIT_INDEX_FILE"] = str(path)
    return env


def _masked(text: str) -> str:
    return _CREDENTIALS.sub(r"\1***@", text)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _operands(command: str, *values: str) -> tuple[str, ...]:
    """``values`` (revisions, refspecs, remotes) checked not to start with ``-``: git parses options after
    operands, so a "revision" from an event payload must never become an option (e.g. ``--upload-pack=...``)."""
    for value in values:
        if not value or value.startswith("-"):
            raise GitError(f"refusing to pass {value!r} to 'git {command}': not a revision", (GIT, command, value))
    return values


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float | None,
         stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    """``git <args>`` run in ``cwd`` with ``env``, stdin from the null device (or ``stdin``'s bytes): its exit status
    (minus the signal that killed it), stdout and stderr, like ``subprocess.run(..., capture_output=True)``.
    FileNotFoundError: no ``git`` on the ``PATH`` of ``env``; TimeoutError: killed after ``timeout`` seconds.

    Where ``os.posix_spawn`` exists (Linux, macOS) git is started with it and read with ``select.poll``, so that the
    :mod:`subprocess` module is not imported: with :mod:`signal`, :mod:`threading`, :mod:`locale` and
    :mod:`selectors` it costs a twentieth of a cold lint, which runs git once (tracked files). The folder is
    given as ``git -C`` (the same as starting git there); SIGPIPE and SIGXFSZ are reset in the child as
    :mod:`subprocess` does."""
    spawn = getattr(os, "posix_spawn", None)
    if spawn is None:  # pragma: no cover - not a POSIX system
        import subprocess

        try:
            proc = subprocess.run([GIT, *args], cwd=cwd, env=env, input=stdin,
                                  stdin=subprocess.DEVNULL if stdin is None else None, capture_output=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise TimeoutError(timeout) from None
        return proc.returncode, proc.stdout, proc.stderr
    import _signal  # built into the interpreter (signal's enums are what make importing signal slow)
    import select

    executable = next((path for path in (os.path.join(folder, GIT) for folder in os.get_exec_path(env))
                       if os.path.isfile(path) and os.access(path, os.X_OK)), None)
    if executable is None:
        raise FileNotFoundError(GIT)
    given = _stdin_file(stdin) if stdin is not None else None
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    first = (os.POSIX_SPAWN_DUP2, given, 0) if given is not None else (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)
    try:
        pid = spawn(executable, [GIT, "-C", os.fspath(cwd), *args], env, setsigdef=(_signal.SIGPIPE, _signal.SIGXFSZ),
                    file_actions=[first, (os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2)])
    except BaseException:
        os.close(out_r)
        os.close(err_r)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
        if given is not None:
            os.close(given)
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
    poller = select.poll()
    for fd in chunks:
        poller.register(fd, select.POLLIN)
    deadline = None if timeout is None else time.monotonic() + timeout
    pending = set(chunks)
    try:
        while pending:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic()) * 1000
            events = poller.poll(wait)
            if not events and deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(timeout)
            for fd, _ in events:
                data = os.read(fd, 1 << 16)
                if data:
                    chunks[fd].append(data)
                else:  # end of file (POLLHUP): git closed it
                    poller.unregister(fd)
                    pending.discard(fd)
    except BaseException:  # a timeout or an interrupt: git does not outlive the call
        os.kill(pid, _signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        for fd in chunks:
            os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks[out_r]), b"".join(chunks[err_r])


def _stdin_file(data: bytes) -> int:
    """A descriptor of an anonymous file holding ``data``, read from its start: git's stdin without a writer thread
    (a pipe would need one to avoid a deadlock once both pipes fill) and without :mod:`tempfile`."""
    folder = os.environ.get("TMPDIR") or "/tmp"
    path = os.path.join(folder, f".pipeline-ci-git-{os.getpid()}-{os.urandom(8).hex()}")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        os.unlink(path)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _fields(raw: bytes) -> list[str]:
    """The NUL-separated fields of ``-z`` output (the trailing empty field dropped)."""
    out = _decode(raw).split("\0")
    return out[:-1] if out and out[-1] == "" else out


class Git:
    """git commands in the work tree (or any folder inside it) at ``cwd``."""

    def __init__(self, cwd: Path | str, env: Mapping[str, str] | None = None):
        self.cwd = Path(cwd)
        self.env = git_env(env, self.cwd)

    # -- running ----------------------------------------------------------------------------------------------------

    def output(self, *args: str, extra_env: Mapping[str, str] | None = None, timeout: float | None = None,
               stdin: bytes | None = None) -> bytes:
        """The raw stdout of ``git <args>`` (fed ``stdin``); :class:`GitError` when it cannot run or exits non-zero."""
        command = tuple(_masked(a) for a in (GIT, *args))  # as shown in errors: credentials masked
        if not self.cwd.is_dir():
            raise GitError(f"{self.cwd}: no such directory (needed to run {' '.join(command[:2])})", command)
        try:
            returncode, stdout, raw_stderr = _run([*CONFIG, *args], self.cwd, {**self.env, **(extra_env or {})}, timeout,
                                                  stdin)
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH (needed for the git baseline and --tracked-only; "
                           "use --baseline lock without it)", command) from None
        except TimeoutError:
            raise GitError(f"{self.cwd}: '{' '.join(command)}' took longer than {timeout:g}s", command) from None
        except OSError as exc:
            raise GitError(f"{self.cwd}: cannot run git: {exc.strerror or exc}", command) from None
        if returncode != 0:
            stderr = _masked(raw_stderr.decode("utf-8", "replace").strip())[:_STDERR_LIMIT]
            raise GitError(f"{self.cwd}: '{' '.join(command)}' failed (exit {returncode})"
                           + (f": {stderr}" if stderr else ""), command, stderr, returncode)
        return stdout

    def run(self, *args: str, extra_env: Mapping[str, str] | None = None, timeout: float | None = None) -> str:
        """The stdout of ``git <args>`` as text, without its final newline; :class:`GitError` on failure."""
        text = _decode(self.output(*args, extra_env=extra_env, timeout=timeout))
        return text[:-1] if text.endswith("\n") else text

    def answer(self, *args: str) -> str | None:
        """Like :meth:`run`, but None when git exits non-zero (for questions whose "no" is a non-zero exit)."""
        try:
            return self.run(*args)
        except GitError as exc:
            if exc.returncode is None:
                raise
            return None

    # -- the repository ---------------------------------------------------------------------------------------------

    def check_repository(self) -> None:
        """:class:`GitError` unless ``cwd`` is inside a repository git agrees to use (e.g. "dubious ownership")."""
        self.run("rev-parse", "--git-dir")

    def toplevel(self) -> Path:
        """The root of the work tree holding ``cwd``."""
        return Path(self.run("rev-parse", "--show-toplevel"))

    def is_shallow(self) -> bool:
        return self.answer("rev-parse", "--is-shallow-repository") == "true"

    def remotes(self) -> list[str]:
        return self.run("remote").split()

    # -- revisions --------------------------------------------------------------------------------------------------

    def commit(self, rev: str) -> str | None:
        """The full sha of the commit ``rev`` names, None when there is none (a rev starting with ``-`` is
        never an option: rev-parse only understands ``--end-of-options`` since git 2.30)."""
        if rev.startswith("-"):
            return None
        return self.answer("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}") or None

    def merge_base(self, one: str, two: str) -> str | None:
        """The best common ancestor of two commits, None when there is none (or history is missing)."""
        return self.answer("merge-base", *_operands("merge-base", one, two)) or None

    def symbolic_ref(self, ref: str) -> str | None:
        """The short name ``ref`` points to (e.g. ``origin/main`` for ``refs/remotes/origin/HEAD``), or None."""
        return self.answer("symbolic-ref", "--quiet", "--short", *_operands("symbolic-ref", ref)) or None

    def describe_tag(self, rev: str) -> str | None:
        """The nearest tag reachable from ``rev`` (annotated or not), or None."""
        return self.answer("describe", "--tags", "--abbrev=0", *_operands("describe", rev)) or None

    # -- trees and diffs --------------------------------------------------------------------------------------------

    def diff(self, base: str, head: str) -> list[FileChange]:
        """Every file that differs between the commits ``base`` and ``head`` (no cap), renames kept."""
        fields = iter(_fields(self.output("diff", *DIFF_OPTIONS, *_operands("diff", base, head), "--")))
        changes = []
        for meta in fields:  # ":<old mode> <new mode> <old blob> <new blob> <status>", then the path(s)
            if not meta.startswith(":"):
                continue
            parts = meta.split(" ")
            status, at_base = (parts[4], parts[2]) if len(parts) == 5 else ("M", "")
            blob = at_base if at_base.strip("0") else None  # all zeros: nothing at base
            if status[0] in "RC":  # renamed or copied: "R086", old path, new path (a copy counts as added)
                old, new = next(fields, ""), next(fields, "")
                score = int(status[1:]) if status[1:].isdigit() else None
                renamed = status[0] == "R"
                changes.append(FileChange("R" if renamed else "A", new, old, score,
                                          blob if renamed else None))
            else:  # T (type change) and anything unusual count as modified
                changes.append(FileChange(status if status in ("A", "M", "D") else "M", next(fields, ""), None, None,
                                          None if status == "A" else blob))
        return changes

    def tree_files(self, rev: str) -> list[str]:
        """Every path in the tree of commit ``rev`` (submodules as one path each), relative to the top."""
        raw = self.output("ls-tree", "-r", "-z", "--full-tree", "--name-only", *_operands("ls-tree", rev))
        return [p for p in _fields(raw) if p]

    def ls_files(self) -> list[str]:
        """Every path git tracks or has staged under ``cwd``, relative to it (``ls-files --cached``)."""
        return [p for p in _fields(self.output("ls-files", "-z", "--cached")) if p]

    def blob(self, rev: str, path: str) -> bytes | None:
        """The content of ``path`` (relative to the top) at commit ``rev``; None when it is not a file there."""
        try:
            return self.output("cat-file", "blob", *_operands("cat-file", f"{rev}:{path}"))
        except GitError as exc:
            if exc.returncode is None:
                raise
            return None

    # -- fetching ---------------------------------------------------------------------------------------------------

    def fetch(self, remote: str, refspecs: Sequence[str], options: Sequence[str] = ()) -> str:
        """Fetch ``refspecs`` from ``remote`` (``options``: ``--depth=N``, ``--deepen=N``, ``--unshallow``);
        returns the command as run, for logs. Never prompts, fetches no tags and no submodules."""
        args = ("fetch", "--no-tags", "--no-recurse-submodules", "--quiet", *options,
                *_operands("fetch", remote, *refspecs))
        self.run(*args)
        return _masked(" ".join((GIT, *args)))


class Later:
    """``fn(*args)`` run in a thread while the caller goes on, so that git's work overlaps Python's (``changed``
    reads the index and resolves its range while it discovers projects); :meth:`result` waits, then returns the
    value or raises the exception ``fn`` raised, at the caller's place in its flow."""

    def __init__(self, fn: Callable[..., Any], *args: Any):
        import threading  # not on the lint path

        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._call, args=(fn, args), name="pipeline-ci-git", daemon=True)
        self._thread.start()

    def _call(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value
