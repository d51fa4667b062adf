"""The project fingerprint: one comment line in the root lockfile that lets ``changed`` vouch for an untouched
project without loading or hashing it (a 1,000-step repository is answered from git's index).

When ``upload``/``deploy`` have written a project's lockfiles and the project is, right then, entirely up to date
(a fresh :func:`~pipeline_ci.changes.detector.detect` finds every step unchanged and the pipeline unchanged), they
start the root lockfile with::

    # pipeline-ci fingerprint: <40 hex digits>

the SHA-1 of :data:`SCHEME` and one ``"<blob id> <path>\\0"`` record per file git tracks under the project folder,
the step lockfiles included (paths relative to the project folder, sorted by their UTF-8 bytes; blob ids as
``git hash-object`` computes them from the bytes on disk). The root lockfile counts without this line. It is a YAML
comment: the Clarifai SDK and every YAML reader ignore it. A project is stamped only when its ``config.yaml`` and
every step's ``config.yaml`` are tracked, every step's content hash covered exactly the step's tracked files, no
tracked file under it is a symlink, every step folder is inside it, reached without a symlink and in the same
repository, and no other pipeline project is nested in it.

``changed`` computes the same digest from git's index (``git ls-files -s``: of the project's files only the root
lockfile is read) and trusts it only when
every one of those files is a plain file clean in the work tree (``git diff-files``), not marked assume-unchanged or
skip-worktree, not in conflict, in no nested repository, with no attribute that converts it on checkout (``git
check-attr``: ``eol=crlf``, ``filter``, ``ident``, ...), and git's settings neither convert line ends
(``core.autocrlf``, ``core.eol``) nor weaken the stat cache (``core.trustctime``, ``core.checkStat``,
``core.ignoreStat``, ``core.fsmonitor``). "Clean" is what git's stat cache says, the trust ``git status`` places in
it. An equal digest means the project's tracked files are byte for byte those of a project that was up to date, so
its verdict is "nothing to upload"; anything else (no line, another digest, one dirty file) makes ``changed`` load
the project as before. The fingerprint makes ``changed`` faster, never changes its answer:
``tests/test_changes_fingerprint.py`` compares both on the same trees, including every way found to break it.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from ..hashing import EXCLUDED_NAMES, LOCKFILE_NAME, STATE_DIR, folder_range
from .git import Git, GitError, Later

MARK = b"# pipeline-ci fingerprint: "
_PLAIN_MODES = ("100644", "100755")


def blob_id(data: bytes) -> str:
    """git's object id of a file holding ``data`` (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


SCHEME = "pipeline-ci fingerprint 2\n"
"""The first line hashed: a release whose verdicts differ (what ``detect`` reads, how it decides) changes it, so that
fingerprints written by an older release vouch for nothing."""


def digest(entries: dict[str, str]) -> str:
    """The fingerprint of ``entries`` (path relative to the project folder -> blob id)."""
    order = sorted(entries, key=lambda p: p.encode("utf-8", "surrogateescape"))
    text = SCHEME + "".join(f"{entries[path]} {path}\0" for path in order)  # NUL: the one byte no path holds
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()


def split(lock: bytes) -> tuple[bytes, str | None]:
    """The root lockfile without its fingerprint line (its first), and the fingerprint it records (None: no line)."""
    if not lock.startswith(MARK):
        return lock, None
    line, newline, rest = lock.partition(b"\n")
    value = line[len(MARK):].decode("ascii", "replace")
    if not newline or len(value) != 40 or any(c not in "0123456789abcdef" for c in value):
        return lock, None  # not a line we wrote: no fingerprint
    return rest, value


def with_line(lock_text: str, value: str) -> str:
    """``lock_text`` (without a fingerprint line) starting with the line recording ``value``. First, not last: two
    branches that both upload change it, and at the end of the file it would join the conflict of the last step's
    pin; at the top, git merges the pins line by line as before."""
    return MARK.decode() + value + "\n" + lock_text


# --------------------------------------------------------------------------------------------------------------------
# writing (upload, deploy)
# --------------------------------------------------------------------------------------------------------------------


def stamp(root: Path) -> bool:
    """Start the root lockfile of the project at ``root`` with the fingerprint line if the project is up to date and
    qualifies (see the module's docstring) and the line is missing or stale. Returns whether the file was written.
    Never raises for the project's content: a project that does not qualify keeps its lockfile as it is."""
    from .. import lockfiles

    value = compute(root)
    lock_path = root / LOCKFILE_NAME
    if value is None:
        return False
    text, recorded = split(lock_path.read_bytes())
    if recorded == value:
        return False
    line = with_line(text.decode("utf-8", "surrogateescape"), value)
    lockfiles.write_atomic_bytes(lock_path, line.encode("utf-8", "surrogateescape"))
    return True


def stale(root: Path) -> bool:
    """Whether :func:`stamp` would write the line now (what ``upload --dry-run`` says of an unchanged pipeline)."""
    value = compute(root)
    try:
        return value is not None and split((root / LOCKFILE_NAME).read_bytes())[1] != value
    except OSError:
        return False


def compute(root: Path) -> str | None:
    """The fingerprint of the project at ``root`` if it is up to date and qualifies, else None. Its step lockfiles
    count whether git tracks them yet or not (the release job commits them after the upload)."""
    from ..discovery import discover, real
    from ..hashing import git_top, git_tracked_files
    from ..project import load_project
    from .detector import detect

    root = real(root)
    tracked = git_tracked_files(root)
    lock_path = root / LOCKFILE_NAME
    if tracked is None or "config.yaml" not in tracked or not lock_path.is_file() or discover([root])[0] != [root]:
        return None
    project = load_project(root, positions=False, overrides=False)
    result = detect(project, tracked_only=True)
    if project.load_errors or result.changed or any(s.needs_upload or s.touched for s in result.steps):
        return None
    names = set(tracked)
    for step in project.steps:
        if not (step.listed and step.exists and step.config is not None):
            return None
        entry = os.path.normpath(step.entry).replace(os.sep, "/")
        # inside the project, reached without a symlink, in the project's repository, its config tracked
        if entry.startswith("../") or real(step.path) != root / entry or git_top(str(step.path)) != git_top(str(root)) \
                or f"{entry}/config.yaml" not in tracked:
            return None
        hashed = step.ci_hash(True)
        inside = {p[len(entry) + 1:] for p in tracked if p.startswith(entry + "/")}
        if hashed is None or hashed.links or hashed.dir_links or hashed.escaping_links or hashed.skipped \
                or hashed.problems or set(hashed.files) != {p for p in inside if p.rsplit("/", 1)[-1] not in EXCLUDED_NAMES}:
            return None
        names.add(f"{entry}/{LOCKFILE_NAME}")
    names.discard(LOCKFILE_NAME)
    entries: dict[str, str] = {}
    for name in names:
        data = _plain_bytes(root / name)
        if data is None:
            return None
        entries[name] = blob_id(data)
    entries[LOCKFILE_NAME] = blob_id(split(lock_path.read_bytes())[0])
    return digest(entries)


def _plain_bytes(path: Path) -> bytes | None:
    """The bytes of ``path`` if it is a regular file reached without a symlink; None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        return fh.read() if stat.S_ISREG(os.fstat(fh.fileno()).st_mode) else None


# --------------------------------------------------------------------------------------------------------------------
# reading (changed)
# --------------------------------------------------------------------------------------------------------------------


class IndexState:
    """What git's index says of one work tree, read in the background while ``changed`` discovers its projects: the
    tracked files with their blob ids, and the ones that cannot be vouched for (not clean, not plain, or with an
    attribute that can make checked-out bytes differ from the index's)."""

    def __init__(self, top: Path):
        self.top = top
        self._paths: list[str] = []
        self._blobs: list[str] = []
        self._bad: set[str] = set()
        self._checked: set[str] = set()  # the folders whose files were checked against the work tree
        self._nested: dict[str, bool] = {}  # folder (relative to the top) -> holds a .git of its own
        self._usable: bool | None = None  # None: not settled yet
        git = Git(top)
        # two threads running git while ``changed`` discovers its projects: the listing and the folders with a
        # fingerprint line (ls-files, git grep); the settings, then those folders' work tree check (diff-files).
        # Attributes are looked at when the answer is first needed (_converted), git asked only if a file can apply
        self._rows = Later(_index_rows, git)
        self._work_tree = Later(_work_tree_check, git, self._rows)

    def _settle(self) -> bool:
        if self._usable is None:
            self._usable = False
            try:
                (paths, blobs, bad, checked), (settings, sources, dirty) = (self._rows.result(),
                                                                             self._work_tree.result())
                if settings:
                    bad |= dirty | self._converted(paths, checked, sources)
            except GitError:
                return False
            if settings:
                self._paths, self._blobs, self._bad, self._checked = paths, blobs, bad, checked
                self._usable = True
        return self._usable

    def _converted(self, paths: list[str], folders: set[str], sources: bool) -> set[str]:
        """The files of ``folders`` an attribute converts on checkout. ``git check-attr`` is asked only when an
        attributes file can apply to them (``sources``: one outside the work tree's folders; else a
        ``.gitattributes`` beside one of them or above): asking git about every path costs more than the rest of
        ``changed``, and most repositories have none."""
        inside = [p for folder in sorted(folders) for p in paths[slice(*folder_range(paths, folder))]]
        dirs = {path.rpartition("/")[0] for path in inside}
        for folder in folders:
            while folder:
                folder = folder.rpartition("/")[0]
                dirs.add(folder)
        if not sources and not any(os.path.lexists(os.path.join(self.top, d, ".gitattributes")) for d in dirs):
            return set()
        names = "\0".join(dict.fromkeys(inside)).encode("utf-8", "surrogateescape") + b"\0"
        return _converted(Git(self.top).output("check-attr", "-z", "--stdin", *CONVERTING, stdin=names))

    def vouches(self, root: Path, prefix: str) -> bool:
        """Whether the fingerprint in ``root``'s lockfile matches its tracked files (``prefix``: ``root``
        relative to the top, ``""`` for the top itself) and every one of them is clean and plain."""
        try:
            text, recorded = split((root / LOCKFILE_NAME).read_bytes())
        except OSError:
            return False
        if recorded is None or STATE_DIR in prefix.split("/") or not self._settle() or prefix not in self._checked:
            return False  # (not checked: its lockfile had no line when the index was read)
        start = prefix + "/" if prefix else ""
        low, high = folder_range(self._paths, prefix)
        paths = self._paths[low:high]
        if not self._bad.isdisjoint(paths) or self._in_nested_repository(paths, prefix):
            return False
        entries = dict(zip([path[len(start):] for path in paths], self._blobs[low:high], strict=True))
        entries[LOCKFILE_NAME] = blob_id(text)
        return digest(entries) == recorded

    def _in_nested_repository(self, paths: list[str], prefix: str) -> bool:
        """Whether a folder between the project and one of ``paths`` holds a ``.git`` of its own: the hash of a step
        there follows that repository's index, not this one (one ``lstat`` per folder, remembered)."""
        for folder in {path.rpartition("/")[0] for path in paths}:
            while folder and folder != prefix:
                if folder not in self._nested:
                    self._nested[folder] = os.path.lexists(os.path.join(self.top, folder, ".git"))
                if self._nested[folder]:
                    return True
                folder = folder.rpartition("/")[0]
        return False


#: The attributes that can make the bytes git checks out differ from the blob (see gitattributes(5)); ``text`` is
#: not one of them on a POSIX system: without ``eol=crlf``, ``core.eol=crlf`` or ``core.autocrlf`` (refused) it
#: converts nothing on checkout.
CONVERTING = ("eol", "crlf", "filter", "ident", "working-tree-encoding") + (() if os.name == "posix" else ("text",))


def _work_tree_check(git: Git, rows: Later) -> tuple[bool, bool, set[str]]:
    """:func:`_settings`; whether an attributes file outside the work tree's folders exists; and the files ``git
    diff-files`` finds not clean in the folders :func:`_index_rows` found with a fingerprint line."""
    if not _settings(git):
        return False, False, set()
    sources = _attribute_files(git)
    stamped = rows.result()[3]
    if not stamped:
        return True, sources, set()
    specs = [f":(literal){folder}" if folder else ":(literal)." for folder in sorted(stamped)]
    dirty = git.output("diff-files", "--name-only", "-z", "--", *specs)
    return True, sources, {p for p in dirty.decode("utf-8", "surrogateescape").split("\0") if p}


def _attribute_files(git: Git) -> bool:
    """Whether an attributes file outside the work tree's folders exists: ``info/attributes``,
    ``core.attributesFile`` or its default, or git's system file (``/etc/gitattributes``, ``$prefix/etc``)."""
    if git.answer("config", "--get", "core.attributesFile") is not None:
        return True
    home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    candidates = [os.path.join(home, "git", "attributes"),
                  os.path.join(git.cwd, git.run("rev-parse", "--git-path", "info/attributes"))]
    if not os.environ.get("GIT_ATTR_NOSYSTEM"):
        exec_path = git.answer("--exec-path")  # e.g. /usr/lib/git-core: the system file is in $prefix/etc
        candidates += ["/etc/gitattributes",
                       *([os.path.join(os.path.dirname(os.path.dirname(exec_path)), "etc", "gitattributes")]
                         if exec_path else [])]
    return any(os.path.lexists(p) for p in candidates)


def _index_rows(git: Git) -> tuple[list[str], list[str], set[str], set[str]]:
    """The index's paths (sorted) and blob ids, the paths that cannot be vouched for whatever the work tree holds
    (assume-unchanged or skip-worktree, a symlink or submodule, a conflict, our own state), and the folders whose
    ``config-lock.yaml`` holds a fingerprint line: the only ones :meth:`IndexState.vouches` can say yes to, and the
    only ones the work tree and the attributes are checked for. A repository where no lockfile carries the line
    costs one ``ls-files`` and one ``git grep``."""
    marked = Later(_marked_folders, git)  # beside ls-files
    listing = git.output("ls-files", "-s", "-v", "-z")
    rows, bad = [], set()
    for record in listing.decode("utf-8", "surrogateescape").split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")  # "H 100644 <blob> 0"
        tag, mode, blob, stage = (meta.split(" ") + ["", "", "", ""])[:4]
        if tag != "H" or mode not in _PLAIN_MODES or stage != "0" or STATE_DIR in path.split("/"):
            bad.add(path)
        rows.append((path, blob))
    rows.sort()
    paths, blobs = [p for p, _ in rows], [b for _, b in rows]
    stamped = sorted(set(_lock_folders(paths)) & marked.result())
    return paths, blobs, bad, set(stamped)


def _lock_folders(paths: list[str]) -> list[str]:
    """The folders (relative to the top, ``""`` for it) where the index holds both a ``config.yaml`` and a
    ``config-lock.yaml``: where a project root may be."""
    configs = {path.rpartition("/")[0] for path in paths if path.rpartition("/")[2] == "config.yaml"}
    return sorted({path.rpartition("/")[0] for path in paths if path.rpartition("/")[2] == LOCKFILE_NAME} & configs)


def _marked_folders(git: Git) -> set[str]:
    """The folders whose tracked ``config-lock.yaml`` holds a fingerprint line (``git grep``: read by git, in C)."""
    try:
        raw = git.output("grep", "-l", "-z", "-F", "-e", MARK.decode(), "--", f":(glob)**/{LOCKFILE_NAME}")
    except GitError as exc:
        if exc.returncode == 1:  # no match
            return set()
        raise
    return {path.rpartition("/")[0] for path in raw.decode("utf-8", "surrogateescape").split("\0") if path}


def _converted(raw: bytes) -> set[str]:
    """The paths ``git check-attr -z`` output gives a converting attribute (``eol=lf`` converts nothing)."""
    fields = raw.split(b"\0")
    values = fields[2::3]
    if set(values) <= {b"unspecified", b"unset", b""}:  # the common case, decided in C
        return set()
    out = set()
    for path, name, value in zip(fields[0::3], fields[1::3], values, strict=False):  # a last empty field: NUL-ended
        if value not in (b"unspecified", b"unset", b"") and not (name == b"eol" and value == b"lf"):
            out.add(path.decode("utf-8", "surrogateescape"))
    return out


def _settings(git: Git) -> bool:
    """Whether git's settings let its index vouch for the work tree: ``git`` runs at the top this work tree was found
    at; no CRLF conversion (``core.autocrlf``, ``core.eol``); and a stat cache git itself trusts (``core.trustctime``,
    ``core.checkStat``, ``core.ignoreStat`` and ``core.fsmonitor`` left alone)."""
    if git.run("rev-parse", "--show-prefix"):
        return False  # e.g. an empty .git folder below the real top: git works in the outer repository
    config = git.answer("config", "--get-regexp", r"^core\.(autocrlf|eol|trustctime|checkstat|ignorestat|fsmonitor)$")
    return not any(_unsafe(line) for line in (config or "").splitlines())


_FALSE = ("false", "no", "off", "0")


def _unsafe(line: str) -> bool:
    """Whether one ``core.*`` setting (a ``git config --get-regexp`` line; a key alone means true) is one of those
    :func:`_settings` refuses."""
    key, _, value = line.partition(" ")
    value = value.strip().lower()
    if key == "core.eol":
        return value == "crlf"
    if key == "core.checkstat":
        return value == "minimal"
    if key == "core.trustctime":
        return value in _FALSE
    return value not in _FALSE  # core.autocrlf (true or input), core.ignorestat, core.fsmonitor
