"""Plan and apply a deploy: upload only the steps that changed, pin them, version the pipeline.

``make_plan`` has no side effects. :func:`resolve` and :func:`decide_pipeline` check it against the backend with
read-only calls: pinned versions that are gone or hold other content than their lockfile's hash (a bad merge of a
step lockfile), and versions of the same content already there (found by the content hash recorded when they were
created). ``upload --dry-run`` prints that decision (:func:`describe`) and ``apply`` carries
out the same one: reuse what is pinned or found, upload each remaining step and write its lockfile right away, then
pin the pipeline version that stands (the root lockfile's, verified), or one of the same content found on the
platform, or a new one, and write the root lockfile last.

Crash safety: every lockfile is written atomically (its temporary file under the git-ignored ``.pipeline-ci/tmp``,
never in a step folder, whose hash it would change); :mod:`~pipeline_ci.crashpoints` names every write point. A run
killed anywhere is completed by running it again: what it uploaded is found by content hash, not uploaded twice, and a
root lockfile behind its step lockfiles (a crash, a git merge) is rewritten. :func:`upload_lock` serialises the
uploads of one project on one machine.

The local backend never writes a project file: :func:`make_local_plan` / :func:`apply_local` pin to content hashes
under ``.pipeline-ci/store/locks/`` and leave the committed lockfiles (remote pins only) alone.

The ``upload`` and ``deploy`` commands (:mod:`pipeline_ci.commands.upload`) lint first and run this per project,
under :func:`upload_lock`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import crashpoints, lockfiles
from .changes import NEW_VERSION, ProjectChanges, StepChange, detect, fingerprint
from .discovery import display
from .lockfiles import StepKey
from .platforms.base import Backend, Log, Planner, StepUpload
from .platforms.local.store import LocalBackend
from .project import LOCK, Project, StepDir


@dataclass
class Plan:
    project: Project
    changes: ProjectChanges
    uploads: list[StepUpload]
    reused: list[tuple[StepDir, StepChange]]
    tracked_only: bool


@dataclass
class Result:
    uploaded: dict[str, str] = field(default_factory=dict)  # step id -> new version
    reused: dict[str, str] = field(default_factory=dict)  # step id -> pinned version
    found: dict[str, str] = field(default_factory=dict)  # step id -> version of the same content found on the platform
    pipeline_version: str | None = None
    pipeline_version_created: bool = False
    pipeline_version_found: bool = False  # a version of the same content was on the platform: pinned, not created


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


def _step_upload(step: StepDir, change: StepChange, tracked_only: bool) -> StepUpload:
    """What uploading ``step`` sends: the files its content hash read and its config."""
    hashed = step.ci_hash(tracked_only)
    return StepUpload(step, change, hashed.files if hashed else [], _config(step))


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
            uploads.append(_step_upload(step, change, tracked_only))
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


@dataclass
class Resolution:
    """A plan checked against its backend with read-only calls: what :func:`apply` does and ``--dry-run`` prints.

    ``plan``: the plan with every step whose pin cannot be reused moved to the uploads; ``found``: step id -> a
    version of the same content already on the platform (reused, not uploaded); ``planned``: step id -> the id an
    upload gets, when known in advance; ``missing``: step id -> why its pin cannot be reused (``pinned version X is
    not on clarifai``, or ``... holds other content than the lockfile's hash``).
    """

    plan: Plan
    found: dict[str, str]
    planned: dict[str, str]
    missing: dict[str, str]
    verified: bool


@dataclass
class PipelineDecision:
    """``unchanged`` (the root lockfile's version stands), ``found`` (a version of the same content is on the
    platform: pin it) or ``new`` (create one); ``missing``: the root lockfile's version the platform does not have."""

    action: str
    version: str | None
    resolved: Any
    missing: str | None = None


def resolve(plan: Plan, backend: Planner) -> Resolution:
    """Check ``plan`` against ``backend`` (reads only): pinned versions that are gone or hold other content than
    their lockfile's hash (re-resolved by content hash: found, or uploaded), content already there."""
    uploads, reused, missing = list(plan.uploads), [], {}
    for step, change in plan.reused:
        user, app, sid = (str(x) for x in step.ids)
        problem = backend.pin_problem((user, app, sid), str(change.lock_id), change.digest)
        if problem is None:
            reused.append((step, change))
            continue
        missing[change.step_id] = f"pinned version {change.lock_id} {problem}"
        uploads.append(_step_upload(step, change, plan.tracked_only))
    found: dict[str, str] = {}
    planned: dict[str, str] = {}
    for up in uploads:
        version = backend.find_step_version(up)
        if version is not None:
            found[up.key[2]] = version
            continue
        proposed = backend.planned_version(up)
        if proposed is not None:
            planned[up.key[2]] = proposed
    checked = Plan(plan.project, plan.changes, uploads, reused, plan.tracked_only)
    return Resolution(checked, found, planned, missing, backend.verified)


def decide_pipeline(plan: Plan, backend: Planner, versions: dict[StepKey, str]) -> PipelineDecision:
    """Whether the root lockfile's pipeline version stands, a version of the same content is found, or a new one is
    needed, once the steps are pinned to ``versions`` (reads only)."""
    pipeline = _pipeline(plan.project)
    resolved = lockfiles.pin_refs(plan.project.spec.data if plan.project.spec else None, versions)
    locked = plan.project.lock_spec.data if plan.project.lock_spec else None
    lock = plan.project.lock.get(("pipeline", "version_id")) if plan.project.lock else None
    other = [r for r in plan.changes.pipeline_reasons if r not in ("spec", "step versions")]
    missing = None
    if lock and not other and lockfiles.canonical(resolved) == lockfiles.canonical(locked):
        if backend.verify_pipeline_version(pipeline, str(lock), resolved):
            return PipelineDecision("unchanged", str(lock), resolved)
        missing = str(lock)
    if NEW_VERSION in versions.values():
        return PipelineDecision("new", None, resolved, missing)
    found = backend.find_pipeline_version(pipeline, resolved)
    return PipelineDecision("found" if found else "new", found, resolved, missing)


def _step_versions(res: Resolution, new: dict[str, str]) -> dict[str, str]:
    return {up.key[2]: res.found.get(up.key[2]) or new.get(up.key[2]) or NEW_VERSION for up in res.plan.uploads}


FOUND = "(found on platform by content hash)"


def describe(plan: Plan, backend: Planner) -> str:
    """The dry-run text: for each step upload / reuse (pinned, or found by content hash) with its version, the
    pipeline decision, whether the pins were verified on the platform, and the lockfile diffs. It is
    :func:`apply`'s own decision (:func:`resolve`, :func:`decide_pipeline`), made with read-only calls.

    Every line is made safe on its own (:func:`~pipeline_ci.textsafe.safe_line`): a step id or path
    with a line break cannot add a line.
    """
    from .textsafe import safe_line

    res = resolve(plan, backend)
    plan = res.plan
    lines = [f"{display(plan.project.root)} (pipeline {plan.changes.pipeline_id}, backend {backend.name})"]
    versions = _step_versions(res, res.planned)
    # what apply creates first: the app (``prepare``), the steps it uploads to
    lines += [f"  create  {what}" for what in backend.creations(
        _pipeline(plan.project), [up for up in plan.uploads if up.key[2] not in res.found])]
    for up in plan.uploads:
        sid, reason = up.change.step_id, up.change.reason
        gone = f" ({res.missing[up.key[2]]})" if up.key[2] in res.missing else ""
        if up.key[2] in res.found:
            lines.append(f"  reuse   {sid:<20} {reason:<9} version {res.found[up.key[2]]} {FOUND}{gone}")
        else:
            lines.append(f"  upload  {sid:<20} {reason:<9} -> version {versions[up.key[2]]}{gone}")
    for _, change in plan.reused:
        lines.append(f"  reuse   {change.step_id:<20} {change.reason:<9} version {change.lock_id}")
    for change in plan.changes.steps:
        if change.reason == "deleted":
            lines.append(f"  deleted {change.step_id:<20} (was {change.path})")
    decision = decide_pipeline(plan, backend, _versions(plan, versions))
    reasons = list(plan.changes.pipeline_reasons)
    if decision.missing:
        reasons.append(f"pinned version {decision.missing} is not on {backend.name} with this content")
    if decision.action == "unchanged":
        lines.append(f"  pipeline: unchanged, no new version (version {decision.version})")
        if plan.uploads and plan.project.in_git:  # known only once the step lockfiles are written
            lines.append(_new_fingerprint_line(str(plan.project.root / LOCK)))
        elif not plan.uploads and fingerprint.stale(plan.project.root):
            lines.append(f"  {_FINGERPRINT_WRITTEN.format(display_path(str(plan.project.root / LOCK)))}")
    elif decision.action == "found":
        lines.append(f"  pipeline: reuse version {decision.version} {FOUND}")
    else:
        lines.append(f"  pipeline: new version ({', '.join(reasons or ['the step pins changed'])})")
    if res.verified:
        lines.append(f"  pins verified on {backend.name} (read-only)")
    else:
        lines.append(f"  pins not verified: no credentials for {backend.name}; assuming every pinned version exists "
                     "there and no version of the changed content does")
    pinned = None if decision.action == "unchanged" else decision.version or NEW_VERSION
    for path, new in lock_texts(plan, versions, pinned).items():
        old = _read(path)
        if path == str(plan.project.root / LOCK):  # the fingerprint line is recomputed after writing
            if old is not None:
                old = fingerprint.split(old.encode("utf-8", "surrogateescape"))[0].decode("utf-8", "surrogateescape")
            if plan.project.in_git:  # outside git there is no index to vouch with: no line is written
                lines.append(_new_fingerprint_line(path))
        diff = difflib.unified_diff((old or "").splitlines(), new.splitlines(), f"a/{display_path(path)}",
                                    f"b/{display_path(path)}", lineterm="", n=1)
        lines += ["    " + d for d in diff]
    return "\n".join(safe_line(line) for line in lines) + "\n"


_FINGERPRINT_WRITTEN = "{}: fingerprint line written (lets `changed` skip the project while it stays up to date)"


def _new_fingerprint_line(path: str) -> str:
    """The plan's line for a root lockfile that gets a new fingerprint line if the project is up to date once written
    (what :func:`~pipeline_ci.changes.fingerprint.stamp` decides after the writes)."""
    return (f"  {display_path(path)}: starts with a new '{fingerprint.MARK.decode().strip()}' line when the project "
            "is up to date after writing (see README, change detection)")


def display_path(path: str) -> str:
    return display(Path(path))


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return None


@contextmanager
def upload_lock(root: Path, log: Log) -> Iterator[None]:
    """Hold the project's upload lock (``flock`` on ``<root>/.pipeline-ci/upload.lock``): a second ``upload`` or
    ``deploy`` of the project on this machine waits, says so, and then finds the work done. Under the lock, the
    temporary files an upload killed mid-write left in ``.pipeline-ci/tmp`` are removed."""
    import fcntl

    from .platforms.local.store import ensure_state_dir

    state = ensure_state_dir(root)
    with open(state / "upload.lock", "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            log(f"{display(root)}: another upload of this project is running (pid {holder}); waiting for it")
            fcntl.flock(fh, fcntl.LOCK_EX)
            log(f"{display(root)}: the other upload finished; going on")
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        tmp = state / "tmp"
        if tmp.is_dir():
            for leftover in tmp.iterdir():
                if leftover.is_file() or leftover.is_symlink():
                    leftover.unlink(missing_ok=True)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def apply(plan: Plan, backend: Backend, log: Log, workers: int | None = None) -> Result:
    """Carry out ``plan`` on ``backend`` (see the module docstring for the order and guarantees).

    Decides with :func:`resolve` and :func:`decide_pipeline`, as the dry run does, then acts; ``plan`` is updated
    in place (a step whose pin is gone moves to the uploads). The steps are uploaded and built ``workers`` at a time
    (default :func:`pipeline_ci.builds.concurrency`); a step that fails does not stop the others, which are pinned,
    and the deploy then fails naming it.
    """
    from . import builds, progress
    from .errors import PipelineCIError
    from .platforms.local.store import ensure_state_dir

    result = Result()
    pipeline = _pipeline(plan.project)
    backend.prepare(pipeline, log)
    res = resolve(plan, backend)
    plan.uploads[:], plan.reused[:] = res.plan.uploads, res.plan.reused
    tmp = ensure_state_dir(plan.project.root) / "tmp"
    tmp.mkdir(exist_ok=True)
    for _, change in plan.reused:
        result.reused[change.step_id] = str(change.lock_id)
    for up in plan.uploads:  # what happens to each step, and why (one line each, in plan order)
        sid = up.key[2]
        gone = f"its {res.missing[sid]}" if sid in res.missing else ""
        if sid in res.found:
            log(f"{up.change.step_id}: reuse version {res.found[sid]} {FOUND}" + (f"; {gone}" if gone else ""))
        else:
            why = f"{up.change.reason}, but {gone}" if gone and up.change.reason != "unchanged" else gone
            log(f"{up.change.step_id}: uploading ({why or up.change.reason})")  # never "(unchanged)" alone

    def settle(up: StepUpload) -> str:
        """Upload the step, or take the version of its content found, and wait until it is usable (a worker)."""
        sid = up.key[2]
        progress.update(sid, "starting")
        try:
            if sid in res.found:
                backend.adopt_step_version(up, res.found[sid], log)
                return res.found[sid]
            return backend.upload_step(up, log)
        finally:
            progress.done(sid)

    failed: list[tuple[str, PipelineCIError]] = []
    title = f"{display(plan.project.root)}: building {len(plan.uploads)} step(s) on {backend.name}"
    with progress.progress(title, log, total=len(plan.uploads)):
        # overlapped, at most `workers` at a time; the outcomes (and the lockfile writes) in plan order
        for outcome in builds.overlapped(plan.uploads, settle, builds.concurrency() if workers is None else workers):
            up, sid = outcome.item, outcome.item.key[2]
            if outcome.error is not None or outcome.value is None:
                failed.append((up.change.step_id, outcome.error or PipelineCIError(f"{sid}: no version")))
                continue  # the other steps still finish and are pinned
            version = outcome.value
            if sid in res.found:
                result.found[sid] = version
            else:
                result.uploaded[sid] = version
            crashpoints.reached("step-ready")
            path = up.step.path / LOCK
            lockfiles.write_atomic(path, lockfiles.step_lock_text(version, str(up.change.digest), up.config),
                                   point="step-lock-temp", tmp_dir=tmp)
            crashpoints.reached("step-lock-written")
    if failed:  # no pipeline version and no root lockfile: they would pin what did not build
        raise builds.failure(failed)
    decision = decide_pipeline(plan, backend, _versions(plan, {**result.uploaded, **result.found}))
    if decision.missing:
        log(f"pipeline: its pinned version {decision.missing} is not on {backend.name} with this content")
    if decision.action == "unchanged":
        result.pipeline_version = decision.version
        if fingerprint.stamp(plan.project.root):  # an up-to-date project stamped before this release, or never
            log(_FINGERPRINT_WRITTEN.format(display_path(str(plan.project.root / LOCK))))
        return result
    if decision.action == "found" and decision.version:
        log(f"pipeline: reuse version {decision.version} {FOUND}")
        result.pipeline_version, result.pipeline_version_found = decision.version, True
    else:
        result.pipeline_version = backend.create_pipeline_version(pipeline, decision.resolved, log)
        result.pipeline_version_created = True
        crashpoints.reached("pipeline-created")
    path = plan.project.root / LOCK
    lockfiles.write_atomic(path, lockfiles.root_lock_text(pipeline, decision.resolved, result.pipeline_version),
                           point="root-lock-temp", tmp_dir=tmp)
    crashpoints.reached("root-lock-written")
    fingerprint.stamp(plan.project.root)  # lets ``changed`` vouch for the project untouched (see there)
    return result


def plan_summary(plan: Plan, result: Result, backend: str) -> str:
    """The job summary of a deploy: uploaded and reused steps with reasons and versions, and the pipeline's flowchart
    with the uploaded steps highlighted."""
    from .report.summary import cell, code

    def row(up: StepUpload) -> str:
        sid = up.key[2]
        if sid in result.found:
            return f"| {cell(up.change.step_id)} | reused {FOUND} | {cell(up.change.reason)} | {code(result.found[sid])} |"
        version = result.uploaded.get(sid) or result.reused.get(sid, "")  # a local deploy may reuse a stored version
        return f"| {cell(up.change.step_id)} | uploaded | {cell(up.change.reason)} | {code(version)} |"

    rows = [row(up) for up in plan.uploads]
    rows += [f"| {cell(change.step_id)} | reused | {cell(change.reason)} | {code(str(change.lock_id))} |"
             for _, change in plan.reused]
    if result.pipeline_version_created:
        pipeline = (f"new pipeline version {code(str(result.pipeline_version))} "
                    f"({cell(', '.join(plan.changes.pipeline_reasons) or 'steps')})")
    elif result.pipeline_version_found:
        pipeline = f"pipeline version {code(str(result.pipeline_version))} reused {FOUND}"
    else:
        pipeline = f"pipeline unchanged ({code(str(result.pipeline_version))})"
    chart = ""
    if plan.project.spec is not None:  # the pipeline with the uploaded steps highlighted (GitHub renders Mermaid)
        from .report import mermaid

        uploaded = {up.change.step_id for up in plan.uploads}
        chart = "\n" + mermaid.fenced(mermaid.spec_flowchart(plan.project.spec.data, uploaded))
    return (f"### pipeline-ci deploy: {cell(display(plan.project.root))} ({backend})\n\n{pipeline}\n\n"
            "| step | action | reason | version |\n|---|---|---|---|\n" + "\n".join(rows) + "\n" + chart)


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
    steps += [_step_upload(step, change, plan.tracked_only) for step, change in plan.reused]
    differs = [up.change for up in plan.uploads]
    store: list[StepUpload] = []
    reuse: list[StepUpload] = []
    for up in steps:
        (reuse if backend.verify_step_version(up.key, str(up.change.digest)) else store).append(up)
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
    from . import progress

    with progress.progress(f"{display(local.plan.project.root)}: storing {len(local.store)} step(s)", log,
                           total=len(local.store)):
        for up in local.store:
            digest = str(up.change.digest)
            progress.update(up.key[2], "archiving")
            result.uploaded[up.key[2]] = backend.upload_step(up, log)
            progress.done(up.key[2])
            path = backend.step_pin_path(up.key, digest)
            path.parent.mkdir(parents=True, exist_ok=True)
            lockfiles.write_atomic(path, lockfiles.step_lock_text(digest, digest, up.config))
    for up in local.reuse:
        log(f"{up.change.step_id}: version {up.change.digest} is already in the local store (same content); reusing it")
        result.reused[up.key[2]] = str(up.change.digest)
    result.pipeline_version = local.pipeline_version
    if not local.pipeline_exists:
        created = backend.create_pipeline_version(pipeline, local.resolved, log)
        path = backend.pipeline_pin_path(pipeline, created)
        path.parent.mkdir(parents=True, exist_ok=True)
        lockfiles.write_atomic(path, lockfiles.root_lock_text(pipeline, local.resolved, created))
        result.pipeline_version, result.pipeline_version_created = created, True
    return result
