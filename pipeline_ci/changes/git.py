"""The only place pipeline-ci runs git: one :class:`Git` per work tree, plain ``subprocess`` (no GitPython, so
importing this module costs nothing on the lint path), and one :class:`GitError` for every failure.

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
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import PipelineCIError
from ..exitcodes import ExitCode

GIT = "git"
CONFIG = ("--no-pager", "-c", "core.quotepath=off", "-c", "color.ui=false", "-c", "diff.relative=false")
DIFF_OPTIONS = ("--name-status", "-z", "--find-renames=50%", "--no-ext-diff", "--no-color", "--ignore-submodules=none")
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


@dataclass(frozen=True)
class FileChange:
    """One file that differs between two commits. ``path`` (and ``old_path`` of a rename) are ``/``-separated,
    relative to the work tree as git reports them, or to a project root once :mod:`.view` narrowed them."""

    status: str  # "A", "M", "D" or "R" (a copy is "A"; a type change, e.g. file <-> symlink, is "M")
    path: str
    old_path: str | None = None  # the path before a rename
    similarity: int | None = None  # rename similarity in percent, when git reports one


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

    def output(self, *args: str, extra_env: Mapping[str, str] | None = None, timeout: float | None = None) -> bytes:
        """The raw stdout of ``git <args>``; :class:`GitError` when it cannot run or exits non-zero."""
        command = tuple(_masked(a) for a in (GIT, *args))  # as shown in errors: credentials masked
        if not self.cwd.is_dir():
            raise GitError(f"{self.cwd}: no such directory (needed to run {' '.join(command[:2])})", command)
        try:
            proc = subprocess.run([GIT, *CONFIG, *args], cwd=self.cwd, env={**self.env, **(extra_env or {})},
                                  stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH (needed for the git baseline and --tracked-only; "
                           "use --baseline lock without it)", command) from None
        except subprocess.TimeoutExpired:
            raise GitError(f"{self.cwd}: '{' '.join(command)}' took longer than {timeout:g}s", command) from None
        except OSError as exc:
            raise GitError(f"{self.cwd}: cannot run git: {exc.strerror or exc}", command) from None
        if proc.returncode != 0:
            stderr = _masked(proc.stderr.decode("utf-8", "replace").strip())[:_STDERR_LIMIT]
            raise GitError(f"{self.cwd}: '{' '.join(command)}' failed (exit {proc.returncode})"
                           + (f": {stderr}" if stderr else ""), command, stderr, proc.returncode)
        return proc.stdout

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
        for status in fields:
            if not status:
                continue
            if status[0] in "RC":  # renamed or copied: "R086", old path, new path (a copy counts as added)
                old, new = next(fields, ""), next(fields, "")
                score = int(status[1:]) if status[1:].isdigit() else None
                changes.append(FileChange("R" if status[0] == "R" else "A", new, old, score))
            else:  # T (type change) and anything unusual count as modified
                changes.append(FileChange(status if status in ("A", "M", "D") else "M", next(fields, "")))
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
