"""The project fingerprint: one comment line in the root lockfile that lets ``changed`` answer for a project without
loading it (a 1,000-step repository is answered from git's index, a touched project by hashing what changed).

When ``upload``/``deploy`` have written a project's lockfiles and the project is, right then, entirely up to date
(a fresh :func:`~pipeline_ci.changes.detector.detect` finds every step unchanged and the pipeline unchanged), they
start the root lockfile with::

    # pipeline-ci fingerprint: <fingerprint: 40 hex digits> <facts: 40 hex digits>

*facts* is the SHA-1 of :data:`SCHEME` and of what :func:`~pipeline_ci.changes.detector.known_changes` needs to answer
for the project once some step contents change (:func:`facts_digest`: the pipeline id; each step's entry, key,
pinned version, hash and whether its config differed from the lockfile's copy; the keys the spec references), or of
``null`` when it could not answer (:func:`~pipeline_ci.changes.detector.known_steps`). *fingerprint* is the SHA-1 of
:data:`SCHEME`, one ``"<blob id> <path>\\0"`` record per file git tracks under the project folder, the step lockfiles
included (paths relative to the project folder, sorted by their UTF-8 bytes; blob ids as ``git hash-object``
computes them from the bytes on disk), and *facts*. The root lockfile counts without this line. It is a YAML
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
its verdict is "nothing to upload" (:meth:`IndexState.vouches`). For a project the range touched, the digest is
computed over its files as they were at the range's base (the range's changes undone with the blob ids of ``git
diff --raw``): equal, with facts guessed from the texts whose digest is the recorded one, and no config or lockfile
among the changes, the verdict follows from the facts and the new hashes of the changed step folders
(:meth:`IndexState.known`). Anything else (no line, another digest, one dirty file) makes ``changed`` load the project
as before. The fingerprint makes ``changed`` faster, never changes its answer: ``tests/test_changes_fingerprint.py``
compares both on the same trees, including every way found to break it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path

from ..hashing import CHUNK, EXCLUDED_NAMES, LOCKFILE_NAME, READ_FLAGS, STATE_DIR, folder_range, forked, hash_files
from ..lazyre import lazy_re
from .git import Git, GitError, Later

TYPE_CHECKING = False  # not typing's (see pipeline_ci.records)
if TYPE_CHECKING:  # the detector (and PyYAML) are imported when a project is looked at
    from ..lockfiles import StepKey
    from .detector import GitView, KnownStep, ProjectChanges

MARK = b"# pipeline-ci fingerprint: "
_PLAIN_MODES = ("100644", "100755")


def blob_id(data: bytes) -> str:
    """git's object id of a file holding ``data`` (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


SCHEME = "pipeline-ci fingerprint 3\n"
"""The first line hashed: a release whose verdicts differ (what ``detect`` reads, how it decides) changes it, so that
fingerprints written by an older release vouch for nothing."""


def digest(entries: dict[str, str], facts: str) -> str:
    """The fingerprint of ``entries`` (path relative to the project folder -> blob id) and of the ``facts`` digest."""
    order = sorted(entries, key=lambda p: p.encode("utf-8", "surrogateescape"))
    text = SCHEME + "".join(f"{entries[path]} {path}\0" for path in order) + facts  # NUL: the one byte no path holds
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()


def facts_digest(pipeline_id: str | None, known: tuple[list[KnownStep], set[StepKey]] | None) -> str:
    """The digest of what :func:`~pipeline_ci.changes.detector.known_changes` needs of a project (``known``: its steps
    and referenced keys, None when it cannot answer for it): the second word of the line."""
    facts = None if known is None else [pipeline_id, [[s.entry, *s.key, s.lock_id, s.value, s.config_differs]
                                                      for s in known[0]], sorted(known[1])]
    text = SCHEME + json.dumps(facts, separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()


def split(lock: bytes) -> tuple[bytes, str | None]:
    """The root lockfile without its fingerprint line (its first), and what the line records (None: no line): two
    words, the fingerprint and the facts digest (one word: a line an older release wrote, stale)."""
    if not lock.startswith(MARK):
        return lock, None
    line, newline, rest = lock.partition(b"\n")
    value = line[len(MARK):].decode("ascii", "replace")
    words = value.split(" ")
    if not newline or len(words) > 2 or any(len(w) != 40 or w.strip("0123456789abcdef") for w in words):
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
    from .detector import detect, known_steps

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
        entry = _folder(step.entry)
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
    facts = facts_digest(result.pipeline_id, known_steps(project))
    return f"{digest(entries, facts)} {facts}"


def _folder(entry: str) -> str:
    """A ``step_directories`` entry as the ``/``-separated folder below the project that git's paths start with."""
    return os.path.normpath(entry).replace(os.sep, "/")


def _plain_bytes(path: Path | str) -> bytes | None:
    """The bytes of ``path`` if it is a regular file reached without a symlink; None otherwise (never blocks on a
    FIFO)."""
    try:
        fd = os.open(path, READ_FLAGS)
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks = []
        while chunk := os.read(fd, CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


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
        got = self._entries(root, prefix)
        return got is not None and digest(got[0], got[2]) == got[1]

    def known(self, root: Path, prefix: str, view: GitView) -> ProjectChanges | None:
        """The verdict for the project at ``root``, which the range touched (``view``), without loading it: when its
        fingerprint matches its tracked files with the range's changes undone (each changed path at its blob at the
        range's base), so that it was up to date with every file as it is now but those the range changed, and none
        of those is a ``config.yaml`` or a lockfile.
        Only the step folders holding a change are hashed (:func:`~pipeline_ci.changes.detector.known_changes`
        says why the rest of the verdict follows). None: load the project."""
        if any(_read_by_detect(path) for change in view.files for path in (change.path, change.old_path) if path):
            return None
        got = self._entries(root, prefix)
        if got is None:
            return None
        entries, recorded, facts = got
        for change in view.files:  # the range's changes undone
            entries.pop(change.path, None)
        for change in view.files:
            before = change.old_path if change.status == "R" else None if change.status == "A" else change.path
            if before is not None:
                if change.old_blob is None:
                    return None
                entries[before] = change.old_blob
        if digest(entries, facts) != recorded:
            return None
        guessed = _guess(root)  # from files the fingerprint has just vouched for
        if guessed is None or facts_digest(*guessed) != facts:
            return None
        from .detector import known_changes, parents

        pipeline_id, (steps, referenced) = guessed
        folders = {_folder(step.entry): step for step in steps}
        if "." in folders:  # a step folder that is the project's: its hash would cover the other steps
            return None
        touched = {folder for change in view.files for path in (change.path, change.old_path) if path
                   for folder in parents(path) if folder in folders}
        digests = {}
        for folder in touched:
            below = f"{prefix}/{folder}" if prefix else folder
            low, high = folder_range(self._paths, below)
            files = [path[len(below) + 1:] for path in self._paths[low:high]
                     if path.rpartition("/")[2] not in EXCLUDED_NAMES]
            path, step = os.path.join(self.top, below), folders[folder]
            digests[step.entry] = hash_files(path, files)
            if (forked(files) and digests[step.entry] != step.value
                    and hash_files(path, files, sort_dirs=False) == step.value):
                digests[step.entry] = step.value  # the SDK's hash in its own order, as StepDir.content_hash accepts it
        return known_changes(str(root), pipeline_id, steps, referenced, digests, view)

    def _entries(self, root: Path, prefix: str) -> tuple[dict[str, str], str, str] | None:
        """The files git's index holds under ``root`` (path relative to it -> blob id, the root lockfile's without
        its line) and the two words of that line; None when the index cannot vouch for them."""
        try:
            text, recorded = split((root / LOCKFILE_NAME).read_bytes())
        except OSError:
            return None
        if recorded is None or STATE_DIR in prefix.split("/") or not self._settle() or prefix not in self._checked:
            return None  # (not checked: its lockfile had no line when the index was read)
        start = prefix + "/" if prefix else ""
        low, high = folder_range(self._paths, prefix)
        paths = self._paths[low:high]
        words = recorded.split(" ")
        if len(words) != 2 or not self._bad.isdisjoint(paths) or self._in_nested_repository(paths, prefix):
            return None
        entries = dict(zip([path[len(start):] for path in paths], self._blobs[low:high], strict=True))
        entries[LOCKFILE_NAME] = blob_id(text)
        return entries, words[0], words[1]

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


def _read_by_detect(path: str) -> bool:
    """Whether ``detect`` reads ``path`` (relative to a project) as YAML: a config or a lockfile, at any depth."""
    return path.rpartition("/")[2] in ("config.yaml", LOCKFILE_NAME)


# what ``_guess`` reads: compiled on first use (most runs of ``changed`` never guess)
_PIPELINE_ID = lazy_re(r"^pipeline:\n(?:  .*\n|\n)*?  id: ([^\s'\"#]+)\n", re.M)
_STEP_DIRECTORIES = lazy_re(r"^  step_directories:\n((?:  - .*\n)+)", re.M)
_REF = lazy_re(r"users/([^/\s'\"]+)/apps/([^/\s'\"]+)/pipeline_steps/([^/\s'\"]+)")
_STEP_LOCK = lazy_re(r"^hash:\n  algo: md5\n  value: ([0-9a-f]{32})\nid: ([A-Za-z0-9._-]+)\n"  # sorted keys:
                     r"pipeline_step:\n  app_id: (\S+)\n  id: (\S+)\n  user_id: (\S+)$", re.M)  # together


def _guess(root: Path) -> tuple[str | None, tuple[list[KnownStep], set[StepKey]]] | None:
    """What the facts digest of the project at ``root`` should be made of, read cheaply from the texts, no YAML
    loaded: the pipeline id, the ``step_directories`` and the refs of its ``config.yaml`` as ``init`` and most people
    write them, and each step's id, version and hash from its lockfile as ``upload`` writes it. Only a guess:
    :meth:`IndexState.known` trusts it when its digest is the one the line records, and a wrong guess only makes
    ``changed`` load the project."""
    from .detector import KnownStep

    folder = str(root)
    try:
        config = (_plain_bytes(os.path.join(folder, "config.yaml")) or b"").decode("utf-8")
        pipeline_id, entries = _PIPELINE_ID.search(config), _STEP_DIRECTORIES.search(config)
        if pipeline_id is None or entries is None:
            return None
        steps = []
        for line in entries.group(1).splitlines():
            entry = line[4:].strip()
            found = _STEP_LOCK.search((_plain_bytes(os.path.join(folder, entry, LOCKFILE_NAME)) or b"").decode("utf-8"))
            if found is None:
                return None
            value, lock_id, app, step_id, user = found.groups()
            steps.append(KnownStep(entry, (user, app, step_id), lock_id, value, False))
    except UnicodeDecodeError:
        return None
    keys = {step.key for step in steps}
    return pipeline_id.group(1), (steps, {key for key in (m.group(1, 2, 3) for m in _REF.finditer(config)) if key in keys})


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
