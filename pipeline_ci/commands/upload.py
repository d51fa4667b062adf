"""``pipeline-ci upload [PATH...] --backend B [--dry-run]``: lint, then upload the steps that changed as new
versions and pin them in the lockfiles, for every project under the paths (the engine is :mod:`pipeline_ci.deploy`).

Lint errors stop everything before any upload (exit 2). A :class:`~pipeline_ci.platforms.base.DeployError` stops
at the project it happened in, with its own exit code and the platform's log lines.

In GitHub Actions the output ``lockfiles`` is the JSON list of the committed lockfiles this run wrote (paths relative
to ``$GITHUB_WORKSPACE``, else to the working directory; ``[]`` for a dry run or the local backend, whose pins live
under ``.pipeline-ci/``). It is set even when an upload fails half way, so a commit step can keep what was pinned.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..exitcodes import ExitCode
from ..findings import Finding, LintResult
from . import Env, Out

# Lint errors an upload repairs (it rewrites the lockfile they are about) instead of refusing: a root lockfile behind
# its step lockfiles after an interrupted upload or a git merge (L02). ``lint`` still reports them.
REPAIRABLE = {"L02": "the root lockfile is behind its step lockfiles; this upload rewrites it",
              "D01": "the committed bundle differs from its Python pipeline file; a remote upload rewrites it first, "
                     "a local one uses the generated bundle"}


@dataclass(frozen=True)
class Options:
    paths: tuple[Path, ...]
    backend: str
    dry_run: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(tuple(args.paths), args.backend, args.dry_run)


def run(options: Options, env: Env, out: Out) -> int:
    from .. import github
    from ..textsafe import safe_line

    checked, repairable = lint_gate(list(options.paths), out, "lint errors: nothing was uploaded")
    for finding in repairable:
        out(safe_line(f"{finding.file}:{finding.line}:{finding.col}: note [{finding.rule}] {finding.name}: "
                      f"{REPAIRABLE[finding.rule]}"))
    lint_story(checked, repairable, out)
    if options.backend != "local":  # a Python-defined pipeline is uploaded from its committed bundle, like the SDK
        from ..dsl.resolve import publish

        checked.projects = [publish(root, dry_run=options.dry_run, out=out) for root in checked.projects]
    before = {root: lock_bytes(root) for root in checked.projects if root.is_dir()}
    try:
        _upload_projects(options, checked.projects, env, out)
    finally:  # also after a failure half way: the lockfiles pinned so far are worth committing
        written = [path for root, old in before.items() for path, data in lock_bytes(root).items()
                   if old.get(path) != data]
        github.set_output("lockfiles", workspace_paths(written, env), env)
    return ExitCode.OK


def lint_gate(paths: list[Path], out: Out, refusal: str) -> tuple[LintResult, list[Finding]]:
    """Lint ``paths`` before anything is uploaded or started (``upload``, ``deploy``, ``run --backend local``): stale
    locks are not errors (upload fixes them), nor are the ``REPAIRABLE`` ones (returned). Any other error: every
    finding printed as ``lint`` prints it, then :class:`UsageError` ``refusal`` (exit 2)."""
    from ..lint import lint_paths
    from ..report import render

    checked = lint_paths(paths, require_fresh_locks=False)  # stale locks are what upload fixes
    repairable = [f for f in checked.findings if f.severity == "error" and f.rule in REPAIRABLE]
    if checked.errors > len(repairable):
        for line in render("text", checked).rstrip("\n").split("\n"):  # lines already made safe by the report
            out(line)
        raise UsageError(refusal)
    return checked, repairable


def lint_story(checked: LintResult, repairable: list[Finding], out: Out) -> None:
    """What lint found before an upload, said even when it is nothing: the warnings as ``lint`` prints them, then
    one ``lint: ...`` line that sums it up (the errors this upload repairs were noted above)."""
    from ..discovery import display
    from ..report import render

    rest = LintResult([f for f in checked.findings if f not in repairable], checked.projects)
    for line in render("text", rest, summary=False).splitlines():  # lines already made safe by the report
        out(line)
    names = [display(p) for p in checked.projects]
    where = f"{len(names)} project(s)" + (f" ({', '.join(names)})" if 0 < len(names) <= 3 else "")
    if not checked.findings:
        out(f"lint: no problems found in {where}")
        return
    counts = [f"{len(rest.findings)} warning(s)"] if rest.findings else []
    counts += [f"{len(repairable)} error(s) this upload repairs"] if repairable else []
    out(f"lint: {' and '.join(counts)} in {where}; nothing that stops an upload")


def lock_bytes(root: Path) -> dict[Path, bytes]:
    """The committed lockfiles of the project at ``root`` (its own and its steps'), path -> content."""
    from ..project import LOCK, load_project

    project = load_project(root, positions=False, overrides=False)  # only the step folders are needed
    found = {}
    for path in [root / LOCK, *(step.path / LOCK for step in project.steps)]:
        try:
            found[path] = path.read_bytes()
        except OSError:
            continue
    return found


def workspace_paths(paths: list[Path], env: Env) -> list[str]:
    """``paths`` relative to the workspace (``$GITHUB_WORKSPACE``, else the working directory), POSIX style, sorted;
    a file outside it stays absolute (:func:`pipeline_ci.github.workspace_path`)."""
    from ..github import workspace_path

    return sorted({workspace_path(path, env) for path in paths})


def _upload_projects(options: Options, projects: list[Path], env: Env, out: Out) -> None:
    from .. import github

    versions: dict[str, str] = {}  # project -> pipeline version, for the outputs (also after a failure half way)
    try:
        _upload_each(options, projects, env, out, versions)
    finally:
        if versions:
            github.set_output("pipeline-version-ids", versions, env)
        if len(versions) == 1:  # one value only means something for one project (several: pipeline-version-ids)
            github.set_output("pipeline-version-id", next(iter(versions.values())), env)


def _upload_each(options: Options, projects: list[Path], env: Env, out: Out, versions: dict[str, str]) -> None:
    from .. import github, platforms
    from ..builds import concurrency
    from ..deploy import FOUND, apply, apply_local, describe, describe_local, make_local_plan, make_plan, plan_summary
    from ..discovery import display
    from ..dsl.resolve import generated
    from ..platforms.base import DeployError
    from ..project import load_project

    for root in _locked(projects, options.dry_run, out):
        if root.is_file():
            continue  # a PAI manifest: runs are started from it, there is nothing to upload
        project = load_project(root)  # under the project's upload lock: what an upload just before us pinned
        try:
            plan = make_plan(project, tracked_only=project.in_git and not generated(root))
            if options.backend == "local":  # local pins live in the store: no project file is written
                from ..platforms.local.store import LocalBackend

                local_backend = LocalBackend(root)
                local = make_local_plan(plan, local_backend)
                if options.dry_run:
                    for line in describe_local(local, local_backend).rstrip("\n").split("\n"):
                        out(line)
                    continue
                result = apply_local(local, local_backend, out)
                backend_name = local_backend.name
            elif options.dry_run:  # no side effects; with credentials, read-only calls verify the pins
                for line in describe(plan, platforms.planner(options.backend, root, env)).rstrip("\n").split("\n"):
                    out(line)
                continue
            else:
                backend = platforms.get(options.backend, root, env)
                result = apply(plan, backend, out, workers=concurrency(env))
                backend_name = backend.name
        except DeployError as exc:
            raise DeployError(f"{display(root)}: {exc}", exc.exit_code, exc.log) from exc
        versions[display(root)] = result.pipeline_version or ""
        if env.get("GITHUB_STEP_SUMMARY"):  # the summary (its Mermaid chart) is built only where it is written
            github.append_summary(plan_summary(plan, result, backend_name), env)
        uploaded = ", ".join(f"{k}={v}" for k, v in result.uploaded.items()) or "none"
        why = [f"{'already in the local store' if backend_name == 'local' else 'pins unchanged and verified'}: "
               f"{', '.join(result.reused)}"] if result.reused else []
        why += [f"found on the platform by content hash: {', '.join(result.found)}"] if result.found else []
        found = f" ({'; '.join(why)})" if why else ""
        pipeline = (f"new pipeline version {result.pipeline_version}" if result.pipeline_version_created
                    else f"pipeline version {result.pipeline_version} reused {FOUND}"
                    if result.pipeline_version_found else f"pipeline unchanged (version {result.pipeline_version})")
        out(f"{display(root)}: uploaded {len(result.uploaded)} step(s) ({uploaded}), "
            f"reused {len(result.reused) + len(result.found)}{found}; {pipeline}")


def _locked(projects: list[Path], dry_run: bool, out: Out) -> Iterator[Path]:
    """Each project root, held under its upload lock (:func:`pipeline_ci.deploy.upload_lock`) until the next one is
    asked for; a dry run takes no lock."""
    from ..deploy import upload_lock

    for root in projects:
        if dry_run or root.is_file():
            yield root
            continue
        with upload_lock(root, out):
            yield root
