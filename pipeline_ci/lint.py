"""Running the rules over projects and turning hits into findings.

Configuration (enabled rules, severities, ignored paths) and inline suppressions are applied
here, so rules stay pure: a rule yields hits, this module decides what is reported. Which rule runs on
what is the rules' business: each declares a ``TARGET`` kind, :func:`pipeline_ci.rules.base.contexts` says
which targets of each kind a loaded project has, and this module knows no rule by name.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from . import rules as registry
from . import settings as settings_mod
from . import suppress
from .discovery import discover, display, find_settings
from .findings import Finding, LintResult, UsageError, json_path
from .gcpause import gc_paused
from .project import Project, load_project
from .rules.base import Options, contexts

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from .platforms.pai.manifest import Manifest


def load(root: Path) -> Project | Manifest:
    """What discovery found at ``root``: a PAI manifest (a file) or a Clarifai project (a folder)."""
    if root.is_file():
        from .platforms.pai.manifest import load_manifest  # not imported to lint Clarifai projects

        return load_manifest(root)
    return load_project(root)


def lint_project(
    project: Project | Manifest, options: Options, conf: settings_mod.Settings, select: list[str] | None = None
) -> list[Finding]:
    """All findings for one loaded project, after configuration and suppressions.

    Each rule runs on the targets of its kind (its ``TARGET``) only, see :func:`pipeline_ci.rules.base.contexts`.
    """
    lines = {d.file: d.lines for d in project.file_documents()}
    suppressions: dict[str, suppress.Suppressions] = {}
    out: set[Finding] = set()
    for target, ctx in contexts(project, options):
        for rule in registry.for_target(target):
            if rule.ID in conf.disable or rule.NAME in conf.disable:
                continue
            if select is not None and rule.ID not in select and rule.NAME not in select:
                continue
            default = conf.severity.get(rule.ID) or conf.severity.get(rule.NAME) or rule.SEVERITY
            for hit in rule.check(ctx):
                if hit.file not in suppressions:
                    suppressions[hit.file] = suppress.parse(lines.get(hit.file) or _read_lines(hit.file))
                if suppressions[hit.file].covers(hit.pos.line, rule.ID, rule.NAME):
                    continue
                severity = hit.severity or default
                if rule.ID in conf.severity or rule.NAME in conf.severity:
                    severity = default
                out.add(Finding(hit.file, hit.pos.line, hit.pos.col, rule.ID, rule.NAME, severity, hit.message,
                                json_path(hit.path)))
    return sorted(out)


def _read_lines(file: str) -> list[str]:
    """The lines of a reported file, for its suppression comments. A finding may be *about* a symlink
    leading out of the project or a FIFO: only a regular file that is not a symlink is read, at most 4 MiB."""
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return []
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder, a FIFO, a device: nothing to read
            return []
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(4 << 20)
    except OSError:
        return []
    finally:
        os.close(fd)
    return data.decode("utf-8", errors="replace").splitlines()


PARALLEL_FROM = 16  # projects; below this, starting worker processes costs more than it saves


def _lint_one(job: tuple[Path, Options, settings_mod.Settings], select: list[str] | None) -> list[Finding]:
    root, options, conf = job
    return [f for f in lint_project(load(root), options, conf, select) if not conf.ignored(Path(f.file))]


def _run_jobs(jobs: list[tuple[Path, Options, settings_mod.Settings]], select: list[str] | None) -> list[list[Finding]]:
    """Lint each project; large monorepos are spread over the CPUs (projects are independent)."""
    workers = min(os.cpu_count() or 1, len(jobs) // PARALLEL_FROM)
    if workers < 2:
        return [_lint_one(job, select) for job in jobs]
    import concurrent.futures  # only here: importing them costs a tenth of a small project's lint
    import multiprocessing

    if multiprocessing.get_start_method(allow_none=True) not in (None, "fork"):
        return [_lint_one(job, select) for job in jobs]
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_lint_one, jobs, [select] * len(jobs), chunksize=max(1, len(jobs) // (workers * 4))))


def _names_dsl(paths: list[Path], config: Path | None) -> bool:
    """Does a path name a Python-defined pipeline? (a cheap byte test first: no more imports for other projects)"""
    from .dsl import may_name_dsl

    if not may_name_dsl(paths, config):
        return False
    from .dsl.resolve import names_dsl

    return any(names_dsl(p, config) for p in paths)


def lint_paths(
    paths: list[Path],
    *,
    config: Path | None = None,
    require_fresh_locks: bool | None = None,
    strict: bool | None = None,
    select: list[str] | None = None,
) -> LintResult:
    """Discover the projects under ``paths`` (Clarifai project folders and PAI manifest files) and lint each once."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(map(str, missing))}")
    dsl = _names_dsl(paths, config)
    if dsl:  # Python-defined pipelines are linted as their generated bundles (pipeline_ci.dsl)
        from .dsl.resolve import expand

        paths = expand(paths, os.environ, config)
    roots, unmatched = discover(paths, manifests=True)
    if dsl:
        from .dsl.resolve import drop_committed

        roots = drop_committed(roots)
    settings_files = {root: config or find_settings(root) for root in roots}
    # every rule's ID and name, to check --select and settings files (importing every rule module): only when needed
    known = set(registry.by_key()) if select or any(settings_files.values()) else set()
    unknown = sorted(set(select or ()) - known)
    if unknown:
        close = [f"`{key}`: did you mean `{near}`?" for key in unknown if (near := registry.suggest(key))]
        raise UsageError(f"unknown rule(s) in --select: {', '.join(unknown)}",
                         hint=" ".join(close) or "`pipeline-ci rules` lists the rule IDs and names")
    jobs: list[tuple[Path, Options, settings_mod.Settings]] = []
    for root in roots:
        try:
            conf = settings_mod.load(settings_files[root], known)
        except settings_mod.SettingsError as exc:
            raise UsageError(str(exc)) from None
        if conf.ignored(root):
            continue
        options = Options(
            require_fresh_locks=conf.require_fresh_locks if require_fresh_locks is None else require_fresh_locks,
            strict=conf.strict if strict is None else strict,
        )
        jobs.append((root, options, conf))
    result = LintResult(projects=[root for root, _, _ in jobs])
    with gc_paused():  # see there: a monorepo's documents would be traversed again and again
        for findings in _run_jobs(jobs, select):
            result.findings.extend(findings)
    if dsl:
        from .dsl.sourcemap import remap

        result.findings = remap(result.findings)
    if not roots and any(p.is_dir() for p in unmatched):
        raise UsageError(
            "no Clarifai pipeline project (a config.yaml with a top-level 'pipeline:' key) or PAI pipeline manifest "
            "(a *.yaml file with a top-level 'apiVersion: core/v1') found in or above: "
            + ", ".join(display(p) for p in unmatched)
        )
    return result
