"""The change detector: which steps of a project must be uploaded, and why.

Two baselines, combinable:

- **lockfiles** (the source of truth for "needs upload"): a step whose content hash differs from
  its ``config-lock.yaml`` (or that has none) needs a new version. Immune to force pushes, first
  pushes and shallow clones, because it compares the tree with what was deployed.
- **git** (what a pull request touched): the files changed between two commits, mapped to step
  folders. It adds rename detection (a folder moved with the same ``pipeline_step.id`` is
  ``renamed``, not a delete plus a new step) and deleted steps.

Pure: takes a loaded :class:`~pipeline_ci.project.Project` and, optionally, a :class:`GitView`
prepared by the caller (:func:`pipeline_ci.changes.view.project_view`); returns :class:`ProjectChanges`.
It runs no git and reads no file itself (the step hashes come from the project model, which computes
each once and caches it).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from ..lazyre import lazy_re
from ..records import NamedTuple
from .git import FileChange
from .gitrange import Range

TYPE_CHECKING = False  # not typing's (see pipeline_ci.records)
if TYPE_CHECKING:  # the project model and the lockfiles (and PyYAML) are imported where a loaded project is judged:
    from collections.abc import Callable  # a project answered from its fingerprint needs none of them
    from typing import Any

    from .. import lockfiles
    from ..project import Project, StepDir

REASONS = ("new", "content", "config", "renamed", "deleted", "unchanged")
NEW_VERSION = "<new>"


class GitView(NamedTuple):
    """What git says changed in ``range`` inside one project (prepared by the caller): ``files`` with paths
    relative to the project root, and the ``pipeline_step.id`` each deleted or moved step folder had at base."""

    range: Range
    files: list[FileChange]
    base_step_ids: dict[str, str] | None = None  # folder at base -> pipeline_step.id


class StepChange:
    """The verdict for one step folder (a plain class: the detector fills it in as it goes)."""

    def __init__(self, step_id: str, path: str, reason: str, needs_upload: bool, digest: str | None = None,
                 lock_id: str | None = None, old_path: str | None = None, touched: bool = False,
                 explain: list[str] | None = None):
        self.step_id = step_id
        self.path = path  # the step_directories entry
        self.reason = reason  # one of REASONS
        self.needs_upload = needs_upload
        self.digest = digest
        self.lock_id = lock_id
        self.old_path = old_path
        self.touched = touched  # git shows changes inside the folder
        self.explain = [] if explain is None else explain

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StepChange) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"StepChange({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "step_id": self.step_id,
            "path": self.path,
            "reason": self.reason,
            "needs_upload": self.needs_upload,
            "hash": self.digest,
            "lock_id": self.lock_id,
            "old_path": self.old_path,
            "touched": self.touched,
            "explain": self.explain,
        }


class ProjectChanges:
    """The verdict for one project: its steps and why the pipeline needs a new version (``root`` is rewritten by
    ``changed`` for a Python-defined pipeline, reported as its file)."""

    def __init__(self, root: str, pipeline_id: str | None, steps: list[StepChange], pipeline_reasons: list[str],
                 git: GitView | None = None):
        self.root = root
        self.pipeline_id = pipeline_id
        self.steps = steps
        self.pipeline_reasons = pipeline_reasons
        self.git = git

    def __repr__(self) -> str:
        return f"ProjectChanges(root={self.root!r}, steps={len(self.steps)}, pipeline_reasons={self.pipeline_reasons!r})"

    @property
    def uploads(self) -> list[StepChange]:
        return [s for s in self.steps if s.needs_upload]

    @property
    def pipeline_changed(self) -> bool:
        return bool(self.pipeline_reasons)

    @property
    def changed(self) -> bool:
        return self.pipeline_changed or any(s.reason != "unchanged" for s in self.steps)


def _config_differs(step: StepDir, lock: dict) -> bool:
    config = step.config.data if step.config and isinstance(step.config.data, dict) else {}
    return any(lock.get(key) != value for key, value in config.items())


def verdict_steps(project: Project) -> list[StepDir]:
    """The steps :func:`detect` gives a verdict for: listed, present, with a config naming a ``pipeline_step.id``."""
    return [s for s in project.steps if s.listed and s.exists and s.config is not None and s.ids[2]]


def step_verdict(step: StepDir, tracked_only: bool) -> StepChange:
    """Lockfile baseline for one step (the same decision as the SDK's ``should_upload_step``)."""
    hashed = step.ci_hash(tracked_only)
    lock_id, value, algo, lock = step.lock_fields()
    return verdict(str(step.ids[2]), step.entry, hashed.digest if hashed else None,
                   None if step.lock is None else (lock_id, value, algo), lambda: _config_differs(step, lock))


def verdict(step_id: str, entry: str, digest: str | None, lock: tuple[str | None, str | None, str | None] | None,
            config_differs: Callable[[], bool]) -> StepChange:
    """The verdict for a step whose content hashes to ``digest``, given its lockfile's ``(id, hash value, hash
    algo)`` (None: no lockfile); ``config_differs`` is asked only when the hashes differ."""
    lock_id, value, algo = lock if lock is not None else (None, None, None)
    change = StepChange(step_id, entry, "unchanged", False, digest, lock_id)
    if lock is None:
        change.reason, change.needs_upload = "new", True
        change.explain.append("no config-lock.yaml: never uploaded")
    elif algo != "md5":
        change.reason, change.needs_upload = "content", True
        change.explain.append(f"lockfile hash algo is {algo!r}, not md5: the SDK re-uploads")
    elif value != digest:
        change.reason = "config" if config_differs() else "content"
        change.needs_upload = True
        change.explain.append(f"content hash {digest} differs from the lockfile's {value}")
        if change.reason == "config":
            change.explain.append("config.yaml differs from the copy in the lockfile")
    elif not lock_id:
        change.reason, change.needs_upload = "content", True
        change.explain.append("lockfile hash matches but it has no version id: the SDK uploads again")
    else:
        change.explain.append(f"content hash matches the lockfile: reuse version {lock_id}")
    return change


def _by_folder(files: list[FileChange], folders: set[str]) -> dict[str, list[FileChange]]:
    """Changed files grouped by the step folder (one of ``folders``) that contains them."""
    out: dict[str, list[FileChange]] = {}
    for change in files:
        for key in parents(change.path):
            if key in folders:
                out.setdefault(key, []).append(change)
                break
    return out


def parents(path: str) -> list[str]:
    """The folders holding ``path`` (``/``-separated, as git gives it), nearest first, ``.`` last (as
    ``PurePosixPath(path).parents`` gives them, without building paths)."""
    out = []
    while "/" in path:
        path = path.rpartition("/")[0]
        out.append(path)
    return [*out, "."]


def _apply_git(changes: list[StepChange], git: GitView) -> list[StepChange]:
    """Mark touched steps, renames and deletions from the git view."""
    current = {PurePosixPath(c.path).as_posix().rstrip("/"): c for c in changes}
    grouped = _by_folder(git.files, set(current))
    span = f"{git.range.base or 'the whole history'}..{git.range.head}"
    for folder, change in current.items():
        inside = grouped.get(folder, [])
        change.touched = bool(inside)
        if inside:
            change.explain.append(f"git: {len(inside)} file(s) changed in {span}")
        moved = {
            str(PurePosixPath(f.old_path).parent)
            for f in inside
            if f.status == "R" and f.old_path and f.path == f"{folder}/config.yaml"
        }
        for old in moved:
            if old not in current and (git.base_step_ids or {}).get(old) == change.step_id:
                change.old_path = old
                change.explain.append(f"git: folder renamed from {old} (same pipeline_step.id {change.step_id})")
                if change.reason in ("unchanged", "new"):
                    change.reason = "renamed"
    renamed_from = {c.old_path for c in changes if c.old_path}
    removed = {f.path for f in git.files if f.status == "D"}
    return [
        StepChange(step_id, old, "deleted", False, explain=[f"git: {old}/config.yaml was deleted"])
        for old, step_id in (git.base_step_ids or {}).items()
        if f"{old}/config.yaml" in removed and old not in renamed_from and old not in current
    ]


def _pipeline_reasons(project: Project, versions: dict[lockfiles.StepKey, str]) -> list[str]:
    """Why a new pipeline version is needed (empty: the root lockfile still describes it)."""
    from .. import lockfiles
    from ..project import template_refs

    pipeline = project.config.get(("pipeline",), {}) if project.config else {}
    pipeline = pipeline if isinstance(pipeline, dict) else {}
    lock = project.lock.get(("pipeline",), {}) if project.lock else None
    if not isinstance(lock, dict) or not lock.get("version_id"):
        return ["no root lockfile with a pipeline version yet"]
    reasons = []
    resolved = lockfiles.pin_refs(project.spec.data if project.spec else None, versions)
    locked = project.lock_spec.data if project.lock_spec else None
    if _strip_versions(resolved) != _strip_versions(locked):
        reasons.append("spec")
    if {r.name for r in template_refs(resolved)} != {r.name for r in template_refs(locked)}:
        reasons.append("step versions")
    if lockfiles.canonical(_secrets(pipeline)) != lockfiles.canonical(_secrets(lock)):
        reasons.append("secrets")
    if lockfiles.canonical(pipeline.get("compute")) != lockfiles.canonical(lock.get("compute")):
        reasons.append("compute")
    if lockfiles.canonical(pipeline.get("visibility")) != lockfiles.canonical(lock.get("visibility")):
        reasons.append("visibility")
    return reasons


def _secrets(pipeline: dict) -> Any:
    config = pipeline.get("config")
    return (config.get("step_version_secrets") if isinstance(config, dict) else None) or None


def _strip_versions(spec: Any) -> str:
    from .. import lockfiles

    text = lockfiles.canonical(spec)
    return lockfiles.VERSION_SUFFIX.sub("", text)


def detect(project: Project, *, tracked_only: bool, git: GitView | None = None) -> ProjectChanges:
    """The change verdict for every step of ``project`` and for the pipeline itself."""
    steps = verdict_steps(project)
    changes = [step_verdict(s, tracked_only) for s in steps]
    deleted = _apply_git(changes, git) if git else []
    versions: dict[lockfiles.StepKey, str] = {}
    for step, change in zip(steps, changes, strict=True):
        user, app, sid = (str(x) for x in step.ids)
        versions[(user, app, sid)] = NEW_VERSION if change.needs_upload else str(change.lock_id)
    pipeline_id = project.config.get(("pipeline", "id")) if project.config else None
    return ProjectChanges(
        root=str(project.root),
        pipeline_id=str(pipeline_id) if pipeline_id else None,
        steps=changes + deleted,
        pipeline_reasons=_pipeline_reasons(project, versions),
        git=git,
    )


class KnownStep(NamedTuple):
    """One step as :func:`detect` saw it when its project was last entirely up to date (what the fingerprint records,
    see :mod:`pipeline_ci.changes.fingerprint`): its ``step_directories`` entry, ``(user, app, step id)`` as
    ``detect`` keys them, its lockfile's version id and hash (then also the step's content hash), and whether its
    config differed from the lockfile's copy."""

    entry: str
    key: lockfiles.StepKey
    lock_id: str
    value: str
    config_differs: bool


def known_changes(root: str, pipeline_id: str | None, steps: list[KnownStep], referenced: set[lockfiles.StepKey],
                  digests: dict[str, str], git: GitView | None) -> ProjectChanges:
    """What :func:`detect` answers for a project that was entirely up to date with ``steps`` (nothing to upload, no
    pipeline reason) when its files other than the step contents are still as they were: only files in step folders
    other than their ``config.yaml`` and ``config-lock.yaml``, or files no step reads, changed since. ``digests``:
    the content hash now of every step folder holding such a change (entry -> digest); the others hash as then.

    The pipeline's reasons are then only ``step versions``, when a step that needs a new version is one the spec
    references (``referenced``): the config, secrets, compute and visibility are as they were, ``pin_refs`` pins the
    same refs as then, only to ``NEW_VERSION`` where a step is uploaded, and the fingerprint records these facts only
    when every step's key is unique and every version id is plain (``[A-Za-z0-9._-]``), so that the version-less
    spec (``_strip_versions``) cannot change and a ref pinned to ``NEW_VERSION`` names a ref the root lockfile lacks.
    ``tests/test_changes_fingerprint.py`` checks the answer against :func:`detect`'s."""
    changes = [verdict(s.key[2], s.entry, digests.get(s.entry, s.value), (s.lock_id, s.value, "md5"),
                       s.config_differs.__bool__) for s in steps]  # a recorded answer
    deleted = _apply_git(changes, git) if git else []
    uploads = {s.key for s, change in zip(steps, changes, strict=True) if change.needs_upload}
    return ProjectChanges(root, pipeline_id, changes + deleted, ["step versions"] if uploads & referenced else [], git)


PLAIN_VERSION = lazy_re(r"[A-Za-z0-9._-]+\Z")


def known_steps(project: Project) -> tuple[list[KnownStep], set[lockfiles.StepKey]] | None:
    """What :func:`known_changes` needs of ``project``, which :func:`detect` has just found entirely up to date: its
    steps and the keys its spec references; None when ``known_changes`` could not answer for it (two steps with the
    same key, a version id that is not plain)."""
    from .. import lockfiles

    steps = []
    for step in verdict_steps(project):
        lock_id, value, _, lock = step.lock_fields()
        if lock_id is None or value is None or not PLAIN_VERSION.match(lock_id):
            return None
        key = (str(step.ids[0]), str(step.ids[1]), str(step.ids[2]))
        steps.append(KnownStep(step.entry, key, lock_id, value, _config_differs(step, lock)))
    keys = {s.key for s in steps}
    if len(keys) != len(steps):
        return None
    referenced = {key for key in (lockfiles.ref_key(r.name) for r in project.refs if isinstance(r.name, str))
                  if key in keys}
    return steps, referenced
