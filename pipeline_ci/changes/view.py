"""Prepare the git baseline of the change detector for one project (the impure side of
:mod:`pipeline_ci.changes.detector`): resolve the commit range, list changed files relative to the
project, and read the step ids that moved or deleted folders had at the base commit."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from ..discovery import real
from ..errors import UsageError
from ..hashing import folder_range
from .git import FileChange, Git, GitError
from .gitrange import Range, changed_files, resolve_range

TYPE_CHECKING = False  # not typing's (see pipeline_ci.records)
if TYPE_CHECKING:  # the detector and PyYAML are imported when a project is looked at, not to resolve the range
    from .detector import GitView


def _below(path: str | None, prefix: str) -> str | None:
    if path is None:
        return None
    if not prefix:
        return path
    return path[len(prefix) + 1:] if path.startswith(prefix + "/") else None


class RepoDiff:
    """One resolved range and its changed files, for a whole work tree (shared by its projects)."""

    def __init__(self, top: Path, rng: Range, files: list[FileChange]):
        self.top = top
        self.rng = rng
        self.files = files
        self._index: tuple[list[str], list[int]] | None = None  # see inside()

    def inside(self, prefix: str) -> list[FileChange]:
        """The changes whose path or old path is under the folder ``prefix`` (relative to the top; ``""``: all), in
        diff order. Found by bisection in a sorted index built once: a range of thousands of files over hundreds
        of projects costs a lookup per project, not a pass over the range."""
        if not prefix:
            return list(self.files)
        if self._index is None:
            self._index = _index(self.files)
        keys, owners = self._index
        low, high = folder_range(keys, prefix)
        return [self.files[i] for i in sorted(set(owners[low:high]))]


def _index(files: list[FileChange]) -> tuple[list[str], list[int]]:
    """Every path and old path of ``files``, sorted, with the position of the change each belongs to."""
    pairs = sorted([(f.path, i) for i, f in enumerate(files)] + [(f.old_path, i) for i, f in enumerate(files) if f.old_path])
    return [p for p, _ in pairs], [i for _, i in pairs]


def repo_diff(folder: Path, base: str | None, head: str | None, env: Mapping[str, str]) -> RepoDiff:
    """Resolve the range and list the changed files of the work tree holding ``folder``."""
    try:
        top = Git(folder).toplevel()
    except GitError as exc:
        if exc.returncode is None:
            raise
        raise GitError(f"{folder} is not in a git work tree (use --baseline lock)", exc.command, exc.stderr,
                       exc.returncode) from None
    if head is None:
        _require_commit(Git(top), top)
    rng = resolve_range(top, base=base, head=head, env=env)
    if head is not None:
        _require_checked_out(Git(top), top, head, rng.head)
    return RepoDiff(top, rng, changed_files(top, rng))


def _require_checked_out(git: Git, top: Path, head: str, head_sha: str) -> None:
    """:class:`UsageError` when ``--head`` is not the checked-out commit. The lockfile baseline, renames and every
    verdict hash the files of the work tree (what ``upload`` would send), so a git range ending anywhere else would
    be compared with other files than the ones it describes: the answer would mix two trees without saying so."""
    checked_out = git.commit("HEAD")
    if checked_out == head_sha:
        return
    at = f"commit {checked_out[:12]}" if checked_out else "no commit (unborn HEAD)"
    raise UsageError(
        f"--head {head} is commit {head_sha[:12]}, but the work tree of {top} is at {at}: 'changed' hashes the "
        "files of the work tree, so the range must end at the checked-out commit",
        hint=f"check out {head} first (git checkout {head}), or leave out --head to end the range at HEAD")


def _require_commit(git: Git, top: Path) -> None:
    """:class:`UsageError` when HEAD names no commit yet: an empty repository, or an unborn (orphan) branch."""
    if git.commit("HEAD") is not None:
        return
    branch = (git.symbolic_ref("HEAD") or "HEAD").removeprefix("refs/heads/")
    hint = ("commit the pipeline first (git add -A && git commit -m 'pipeline'), or run "
            "'pipeline-ci changed --baseline lock' to compare with the lockfiles only")
    if git.answer("rev-list", "-n", "1", "--all"):
        raise UsageError(f"{top}: branch {branch!r} has no commits yet (unborn HEAD): there is no head commit to "
                         "diff", hint=hint)
    raise UsageError(f"{top}: the repository has no commits yet (branch {branch!r} is unborn): there is no head "
                     "commit to diff", hint=hint)


def project_view(diff: RepoDiff, project_root: Path) -> GitView:
    """The part of ``diff`` inside ``project_root``, with paths relative to it."""
    from .detector import GitView

    prefix = relative_prefix(real(project_root), real(diff.top))
    ours: list[FileChange] = []
    for change in diff.inside(prefix):
        path, old = _below(change.path, prefix), _below(change.old_path, prefix)
        if path is None and old is None:
            continue
        if path is None:  # moved out of the project: a deletion here
            ours.append(FileChange("D", str(old), old_blob=change.old_blob))
        elif change.status == "R" and old is None:  # moved into the project
            ours.append(FileChange("A", path))
        else:
            ours.append(FileChange(change.status, path, old, change.similarity, change.old_blob))
    return GitView(diff.rng, ours, _base_step_ids(diff.top, prefix, diff.rng.base, ours))


def relative_prefix(root: Path, top: Path) -> str:
    """``root`` (resolved, inside the resolved ``top``) as the ``/``-separated prefix git gives its files, ``""`` for
    the top itself."""
    rel = root.relative_to(top).as_posix()
    return "" if rel == "." else rel


def _base_step_ids(top: Path, prefix: str, base: str | None, files: list[FileChange]) -> dict[str, str]:
    """``pipeline_step.id`` at ``base`` of every folder whose config.yaml was deleted or moved away."""
    gone = [old for old in (c.old_path if c.status == "R" else c.path if c.status == "D" else None for c in files)
            if old and PurePosixPath(old).name == "config.yaml"]
    if base is None or not gone:
        return {}
    import yaml

    git = Git(top)
    out: dict[str, str] = {}
    for old in gone:
        raw = git.blob(base, f"{prefix}/{old}" if prefix else old)
        try:
            data = yaml.safe_load(raw) if raw is not None else None
        except (yaml.YAMLError, ValueError, IndexError, KeyError, TypeError, OverflowError):  # e.g. ``id: !!int``
            continue
        step = data.get("pipeline_step") if isinstance(data, dict) else None
        if isinstance(step, dict) and step.get("id"):
            out[str(PurePosixPath(old).parent)] = str(step["id"])
    return out
