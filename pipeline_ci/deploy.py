"""Plan and apply a deploy: upload only the steps that changed, pin them, version the pipeline.

``make_plan`` has no side effects (``upload --dry-run`` prints it). ``apply`` follows it:
verify that reused pins still exist, upload each changed step and write its lockfile right away
(so a re-run after a failure re-uploads nothing already pinned), then create a pipeline version
only when the resolved spec, secrets, compute or visibility differ from the root lockfile, and
write the root lockfile last. Every lockfile is written atomically; a failure leaves each one
either untouched or consistent with what the backend holds.

The local backend never writes a project file: :func:`make_local_plan` / :func:`apply_local` pin to content hashes
under ``.pipeline-ci/store/locks/`` and leave the committed lockfiles (remote pins only) alone.

The ``upload`` and ``deploy`` commands (:mod:`pipeline_ci.commands.upload`) lint first and run this per project.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from . import lockfiles
from .changes import NEW_VERSION, ProjectChanges, StepChange, detect
from .discovery import display
from .lockfiles import StepKey
from .platforms.base import Backend, Log, StepUpload
from .platforms.local.store import LocalBackend
from .project import LOCK, Project, StepDir


@dataclass
class Plan:
    project: Project
    changes: ProjectChanges
    uploads: list[StepUpload]
    reused: list[tuple[StepDir, StepChange]]
    tracked_only: bool

    @property
    def new_pipeline_version(self) -> bool:
        return self.changes.pipeline_changed


@dataclass
class Result:
    uploaded: dict[str, str] = field(default_factory=dict)  # step id -> new version
    reused: dict[str, str] = field(default_factory=dict)
    pipeline_version: str | None = None
    pipeline_version_created: bool = False
    written: list[str] = field(default_factory=list)


def _config(step: StepDir) -> dict[str, Any]:
    data = step.config.data if step.config else None
    return data if isinstance(data, dict) else {}


def _refuse_unpackable(step: StepDir, tracked_only: bool) -> None:
    """Stop (exit 2) before anything is sent when a step folder cannot be archived as it is: a symlink out of
    it, a loop, an unreadable entry (see docs/archive.md). Checked for reused steps too: they may be re-uploaded."""
    from .archive import ArchiveError, refusal

    hashed = step.ci_hash(tracked_only)
    if hashed is None:
        raise ArchiveError(f"{step.entry}: the step folder cannot be hashed; nothing was uploaded")
    if hashed.blockers:
        raise ArchiveError(refusal(step.entry, hashed.blockers))


def make_plan(project: Project, *, tracked_only: bool, changes: ProjectChanges | None = None) -> Plan:
    """What a deploy of ``project`` would do, with no side effects; refuses steps that cannot be archived."""
    changes = changes or detect(project, tracked_only=tracked_only)
    by_entry = {s.entry: s for s in project.steps}
    uploads, reused = [], []
    for change in changes.steps:
        step = by_entry.get(change.path)
        if step is None:
            continue
        _refuse_unpackable(step, tracked_only)
        if change.needs_upload:
            hashed = step.ci_hash(tracked_only)
            uploads.append(StepUpload(step, change, hashed.files if hashed else [], _config(step)))
        else:
            reused.append((step, change))
    return Plan(project, changes, uploads, reused, tracked_only)


def _pipeline(project: Project) -> dict[str, Any]:
    data = project.config.get(("pipeline",)) if project.config else None
    return data if isinstance(data, dict) else {}


def _versions(plan: Plan, new: dict[str, str]) -> dict[StepKey, str]:
    out: dict[StepKey, str] = {}
    for up in plan.uploads:
        out[up.key] = new.get(up.key[2], NEW_VERSION)
    for step, change in plan.reused:
        user, app, sid = (str(x) for x in step.ids)
        out[(user, app, sid)] = str(change.lock_id)
    return out


def lock_texts(plan: Plan, new: dict[str, str], pipeline_version: str | None) -> dict[str, str]:
    """The lockfiles a deploy writes (path → text), given the versions it got."""
    out: dict[str, str] = {}
    for up in plan.uploads:
        version = new.get(up.key[2], NEW_VERSION)
        out[str(up.step.path / LOCK)] = lockfiles.step_lock_text(version, str(up.change.digest), up.config)
    if pipeline_version is not None:
        resolved = lockfiles.pin_refs(plan.project.spec.data if plan.project.spec else None, _versions(plan, new))
        out[str(plan.project.root / LOCK)] = lockfiles.root_lock_text(_pipeline(plan.project), resolved,
                                                                       pipeline_version)
    return out


class Planner(Protocol):
    """What :func:`describe` needs of a backend: a :class:`~pipeline_ci.platforms.base.Backend`, or the stand-in
    :func:`pipeline_ci.platforms.planner` returns for dry runs."""

    name: str

    def planned_version(self, upload: StepUpload) -> str | None: ...


def describe(plan: Plan, backend: Planner) -> str:
    """The dry-run text: uploads with reasons, reused pins, the pipeline decision, lockfile diffs.

    Every line is made safe on its own (:func:`~pipeline_ci.textsafe.safe_line`): a step id or path
    with a line break cannot add a line.
    """
    from .textsafe import safe_line

    lines = [f"{display(plan.project.root)} (pipeline {plan.changes.pipeline_id}, backend {backend.name})"]
    planned = {up.key[2]: backend.planned_version(up) or NEW_VERSION for up in plan.uploads}
    for up in plan.uploads:
        lines.append(f"  upload  {up.change.step_id:<20} {up.change.reason:<9} -> version {planned[up.key[2]]}")
    for _, change in plan.reused:
        lines.append(f"  reuse   {change.step_id:<20} {change.reason:<9} version {change.lock_id}")
    for change in plan.changes.steps:
        if change.reason == "deleted":
            lines.append(f"  deleted {change.step_id:<20} (was {change.path})")
    if plan.new_pipeline_version:
        lines.append(f"  pipeline: new version ({', '.join(plan.changes.pipeline_reasons)})")
    else:
        lines.append("  pipeline: unchanged, no new version")
    version = NEW_VERSION if plan.new_pipeline_version else None
    for path, new in lock_texts(plan, planned, version).items():
        old = _read(path)
        diff = difflib.unified_diff((old or "").splitlines(), new.splitlines(), f"a/{display_path(path)}",
                                    f"b/{display_path(path)}", lineterm="", n=1)
        lines += ["    " + d for d in diff]
    return "\n".join(safe_line(line) for line in lines) + "\n"


def display_path(path: str) -> str:
    return display(Path(path))


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return None


def apply(plan: Plan, backend: Backend, log: Log) -> Result:
    """Carry out ``plan`` on ``backend`` (see the module docstring for the order and guarantees)."""
    result = Result()
    pipeline = _pipeline(plan.project)
    backend.prepare(pipeline, log)
    for step, change in list(plan.reused):
        user, app, sid = (str(x) for x in step.ids)
        if backend.verify_step_version((user, app, sid), str(change.lock_id)):
            result.reused[change.step_id] = str(change.lock_id)
            continue
        log(f"{change.step_id}: pinned version {change.lock_id} is not available on {backend.name}; uploading again")
        plan.reused.remove((step, change))
        hashed = step.ci_hash(plan.tracked_only)
        plan.uploads.append(StepUpload(step, change, hashed.files if hashed else [], _config(step)))
    for up in plan.uploads:
        log(f"{up.change.step_id}: uploading ({up.change.reason})")
        version = backend.upload_step(up, log)
        result.uploaded[up.key[2]] = version
        path = up.step.path / LOCK
        lockfiles.write_atomic(path, lockfiles.step_lock_text(version, str(up.change.digest), up.config))
        result.written.append(display(path))
    versions = _versions(plan, result.uploaded)
    resolved = lockfiles.pin_refs(plan.project.spec.data if plan.project.spec else None, versions)
    locked = plan.project.lock_spec.data if plan.project.lock_spec else None
    other = [r for r in plan.changes.pipeline_reasons if r not in ("spec", "step versions")]
    if other or lockfiles.canonical(resolved) != lockfiles.canonical(locked):
        result.pipeline_version = backend.create_pipeline_version(pipeline, resolved, log)
        result.pipeline_version_created = True
        path = plan.project.root / LOCK
        lockfiles.write_atomic(path, lockfiles.root_lock_text(pipeline, resolved, result.pipeline_version))
        result.written.append(display(path))
    else:
        lock = plan.project.lock.get(("pipeline", "version_id")) if plan.project.lock else None
        result.pipeline_version = str(lock) if lock else None
    return result


def plan_summary(plan: Plan, result: Result, backend: str) -> str:
    """The job-summary table of a deploy: uploaded and reused steps with reasons and versions."""
    from .report.summary import cell, code

    def version(up: StepUpload) -> str:  # a local deploy may reuse a version its store already holds
        return result.uploaded.get(up.key[2]) or result.reused.get(up.key[2], "")

    rows = [f"| {cell(up.change.step_id)} | uploaded | {cell(up.change.reason)} | {code(version(up))} |"
            for up in plan.uploads]
    rows += [f"| {cell(change.step_id)} | reused | {cell(change.reason)} | {code(str(change.lock_id))} |"
             for _, change in plan.reused]
    pipeline = (f"new pipeline version {code(str(result.pipeline_version))} "
                f"({cell(', '.join(plan.changes.pipeline_reasons) or 'steps')})"
                if result.pipeline_version_created else f"pipeline unchanged ({code(str(result.pipeline_version))})")
    return (f"### pipeline-ci deploy: {cell(display(plan.project.root))} ({backend})\n\n{pipeline}\n\n"
            "| step | action | reason | version |\n|---|---|---|---|\n" + "\n".join(rows) + "\n")


@dataclass
class LocalPlan:
    """What a local deploy does: the project's lockfiles are never touched. Each step is pinned locally to its
    content hash (stored unless the store holds it), the pipeline version is derived from the resolved spec."""

    plan: Plan
    differs: list[StepChange]  # steps whose working tree differs from their committed lockfile
    store: list[StepUpload]  # steps the store does not hold yet
    reuse: list[StepUpload]  # steps the store already holds
    resolved: Any
    pipeline_version: str
    pipeline_exists: bool


def make_local_plan(plan: Plan, backend: LocalBackend) -> LocalPlan:
    """The local deploy of ``plan`` (no side effects): what is stored, reused, and the pins it records."""
    pipeline = _pipeline(plan.project)
    steps = list(plan.uploads)
    for step, change in plan.reused:
        hashed = step.ci_hash(plan.tracked_only)
        steps.append(StepUpload(step, change, hashed.files if hashed else [], _config(step)))
    differs = [up.change for up in plan.uploads]
    store = [up for up in steps if not backend.verify_step_version(up.key, str(up.change.digest))]
    reuse = [up for up in steps if up not in store]
    versions = {up.key: str(up.change.digest) for up in steps}
    resolved = lockfiles.pin_refs(plan.project.spec.data if plan.project.spec else None, versions)
    version = backend.pipeline_version_for(pipeline, resolved)
    return LocalPlan(plan, differs, store, reuse, resolved, version, backend.has_pipeline_version(pipeline, version))


def differ_lines(local: LocalPlan) -> list[str]:
    """One line per step whose working tree differs from its committed lockfile."""
    what = {"new": "no lockfile", "content": "content changed", "config": "config changed", "renamed": "renamed"}
    return [f"{c.step_id}: differs from its lockfile ({what.get(c.reason, c.reason)}); running the working tree"
            for c in local.differs]


def describe_local(local: LocalPlan, backend: LocalBackend) -> str:
    """The dry-run text of a local deploy: exactly what :func:`apply_local` does, and the local pins it records."""
    from .textsafe import safe_line

    plan = local.plan
    lines = [f"{display(plan.project.root)} (pipeline {plan.changes.pipeline_id}, backend {backend.name})"]
    lines += ["  " + line for line in differ_lines(local)]
    for up in local.store:
        lines.append(f"  store   {up.change.step_id:<20} -> version {up.change.digest}")
        lines.append(f"    pin {display(backend.step_pin_path(up.key, str(up.change.digest)))}")
    for up in local.reuse:
        lines.append(f"  reuse   {up.change.step_id:<20} local pin, version {up.change.digest}")
    pipeline = _pipeline(plan.project)
    if local.pipeline_exists:
        lines.append(f"  pipeline: unchanged, local version {local.pipeline_version}")
    else:
        lines.append(f"  pipeline: new local version {local.pipeline_version}")
        lines.append(f"    pin {display(backend.pipeline_pin_path(pipeline, local.pipeline_version))}")
    lines.append("  committed lockfiles: not touched")
    return "\n".join(safe_line(line) for line in lines) + "\n"


def apply_local(local: LocalPlan, backend: LocalBackend, log: Log) -> Result:
    """Carry out a local deploy: store what the store lacks, record local pins under the store; never write a
    file of the project."""
    result = Result()
    pipeline = _pipeline(local.plan.project)
    backend.prepare(pipeline, log)
    for line in differ_lines(local):
        log(line)
    for up in local.store:
        digest = str(up.change.digest)
        result.uploaded[up.key[2]] = backend.upload_step(up, log)
        path = backend.step_pin_path(up.key, digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        lockfiles.write_atomic(path, lockfiles.step_lock_text(digest, digest, up.config))
    for up in local.reuse:
        result.reused[up.key[2]] = str(up.change.digest)
    result.pipeline_version = local.pipeline_version
    if not local.pipeline_exists:
        created = backend.create_pipeline_version(pipeline, local.resolved, log)
        path = backend.pipeline_pin_path(pipeline, created)
        path.parent.mkdir(parents=True, exist_ok=True)
        lockfiles.write_atomic(path, lockfiles.root_lock_text(pipeline, local.resolved, created))
        result.pipeline_version, result.pipeline_version_created = created, True
    return result
