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

from .. import lockfiles
from ..project import Project, StepDir, template_refs
from ..records import NamedTuple
from .git import FileChange
from .gitrange import Range

TYPE_CHECKING = False  # not typing's (see pipeline_ci.records)
if TYPE_CHECKING:
    from typing import Any

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


def _lock_fields(step: StepDir) -> tuple[str | None, str | None, str | None, dict]:
    data: dict = step.lock.data if step.lock and isinstance(step.lock.data, dict) else {}
    hsh: dict = data["hash"] if isinstance(data.get("hash"), dict) else {}
    lock_id = data.get("id") if isinstance(data.get("id"), str) and data.get("id") else None
    value = hsh.get("value") if isinstance(hsh.get("value"), str) else None
    algo = hsh.get("algo", "md5") if isinstance(hsh.get("algo", "md5"), str) else None
    return lock_id, value, algo, data


def _config_differs(step: StepDir, lock: dict) -> bool:
    config = step.config.data if step.config and isinstance(step.config.data, dict) else {}
    return any(lock.get(key) != value for key, value in config.items())


def step_verdict(step: StepDir, tracked_only: bool) -> StepChange:
    """Lockfile baseline for one step (the same decision as the SDK's ``should_upload_step``)."""
    step_id = str(step.ids[2])
    hashed = step.ci_hash(tracked_only)
    digest = hashed.digest if hashed else None
    lock_id, value, algo, lock = _lock_fields(step)
    change = StepChange(step_id, step.entry, "unchanged", False, digest, lock_id)
    if step.lock is None:
        change.reason, change.needs_upload = "new", True
        change.explain.append("no config-lock.yaml: never uploaded")
    elif algo != "md5":
        change.reason, change.needs_upload = "content", True
        change.explain.append(f"lockfile hash algo is {algo!r}, not md5: the SDK re-uploads")
    elif value != digest:
        change.reason = "config" if _config_differs(step, lock) else "content"
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
        for parent in PurePosixPath(change.path).parents:
            key = parent.as_posix()
            if key in folders:
                out.setdefault(key, []).append(change)
                break
    return out


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
    text = lockfiles.canonical(spec)
    return lockfiles.VERSION_SUFFIX.sub("", text)


def detect(project: Project, *, tracked_only: bool, git: GitView | None = None) -> ProjectChanges:
    """The change verdict for every step of ``project`` and for the pipeline itself."""
    steps = [s for s in project.steps if s.listed and s.exists and s.config is not None and s.ids[2]]
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
