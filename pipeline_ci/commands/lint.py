"""``pipeline-ci lint``: check pipeline projects and PAI manifests; 0 no errors, 1 errors found, 2 usage error.

On the fast path: a cached result (:mod:`pipeline_ci.lint_cache`) is printed without importing the linter.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import UsageError
from ..exitcodes import ExitCode
from ..records import NamedTuple
from . import Env, Out

TYPE_CHECKING = False  # not typing's: this is the cached lint's start-up, where typing is not imported
if TYPE_CHECKING:
    from ..findings import LintResult


class Options(NamedTuple):
    """Typed and immutable like the other commands' options, but a named tuple: this is the cached-lint fast path,
    where importing :mod:`dataclasses` (and :mod:`inspect` with it) would cost about a tenth of the run (see
    :mod:`pipeline_ci.records`)."""

    paths: tuple[Path, ...]
    format: str = "text"
    output: Path | None = None
    sarif_file: Path | None = None
    require_fresh_locks: bool | None = None
    strict: bool | None = None
    select: tuple[str, ...] | None = None
    no_cache: bool = False
    config: Path | None = None
    source: bool = True  # text format: the source line and a caret under each finding (off: --no-source)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(tuple(args.paths), args.format, args.output, args.sarif_file, args.require_fresh_locks, args.strict,
                   _select(args.select), args.no_cache, args.config, not getattr(args, "no_source", False))


def _select(value: str | None) -> tuple[str, ...] | None:
    """``--select A09, A10``: the rule keys named, blanks around them and empty items (``A09,,A10``) ignored."""
    if value is None:
        return None
    keys = tuple(key.strip() for key in value.split(",") if key.strip())
    if not keys:
        raise UsageError(f"--select names no rule: {value!r}", hint="`pipeline-ci rules` lists the rule IDs and names")
    return keys


def run(options: Options, env: Env, out: Out) -> int:
    from ..report import render

    result, store = _cached(options, env)
    if result is None:
        from ..lint import lint_paths

        result = lint_paths(list(options.paths), config=options.config, require_fresh_locks=options.require_fresh_locks,
                            strict=options.strict, select=list(options.select) if options.select else None)
        store(result)
    from ..console import colour, quiet

    _refuse_linted_destinations(options, result.projects)
    # every report renderer makes its lines safe itself; colour only on a terminal, never in a file (-o)
    text = render(options.format, result, source=options.source,
                  colour=options.output is None and colour(sys.stdout), summary=options.output is not None or not quiet(),
                  env=env)
    if options.sarif_file:
        _write_sarif(options.sarif_file, result, env)
    if env.get("GITHUB_STEP_SUMMARY"):
        from .. import github
        from ..report.summary import lint_summary

        github.append_summary(lint_summary(result), env)
    if options.output:  # the report goes to the file only; one line on stderr says where (not with -q)
        _write(options.output, text)
        if not quiet():
            from ..console import emit

            emit(f"pipeline-ci: wrote the {options.format} report to {options.output}: {result.errors} error(s), "
                 f"{result.warnings} warning(s) in {len(result.projects)} project(s)", sys.stderr)
    else:
        sys.stdout.write(text)
    return ExitCode.FAILED if result.errors else ExitCode.OK


def _cached(options: Options, env: Env) -> tuple[LintResult | None, Callable[[LintResult], None]]:
    """A cached result for these options (or None), and how to store a fresh one."""
    if options.no_cache:
        return None, lambda _result: None
    from .. import lint_cache
    from ..discovery import discover, find_settings
    from ..findings import LintResult

    directory = lint_cache.cache_dir(env)
    if directory is None or not all(p.exists() for p in options.paths):
        return None, lambda _result: None
    from ..dsl import may_name_dsl

    if may_name_dsl(options.paths, options.config):  # a Python-defined pipeline: its bundle cache decides
        return None, lambda _result: None
    roots, _ = discover(list(options.paths), manifests=True)
    settings_files = [options.config or find_settings(r if r.is_dir() else r.parent) for r in roots]
    key_options = {"paths": [str(p) for p in options.paths], "config": options.config,
                   "select": ",".join(options.select) if options.select else None,
                   "fresh": options.require_fresh_locks, "strict": options.strict}
    key = lint_cache.key(roots, settings_files, key_options, lint_cache.racy_ns(env)) if roots else None
    if key is None:
        return None, lambda _result: None
    data = lint_cache.load(directory, key)
    return (LintResult.from_json(data) if data else None), lambda result: lint_cache.store(directory, key,
                                                                                           result.to_json())


def _refuse_linted_destinations(options: Options, projects: list[Path]) -> None:
    """Refuse (usage error, nothing written) a ``-o`` / ``--sarif-file`` that would replace or add to what the lint
    reads: a file named on the command line, a settings file in use, a file a project loaded (config, lockfiles,
    overrides; those that failed to load too), anything inside a step folder (all of it is hashed and uploaded, so
    even a new file there changes the step) or, inside a project folder, a new file with a name lint would read
    (``config.yaml``, ``config-lock.yaml``, an overrides file name). Symlinks are followed. Other files in a project
    folder may be written (``-o proj/lint-report.txt``)."""
    from ..discovery import real

    dests = {real(d): d for d in (options.output, options.sarif_file) if d is not None}
    if not dests:
        return
    from ..discovery import CONFIG, display, find_settings
    from ..hashing import LOCKFILE_NAME
    from ..model.overrides import OVERRIDES_NAME  # imports PyYAML: only when a report file is asked for

    used: dict[Path, str] = {real(p): f"{p}, named on the command line" for p in options.paths if p.is_file()}
    if options.config:
        used[real(options.config)] = f"{options.config}, the settings file"
    problems: dict[Path, str] = {}
    for root in projects:
        settings = find_settings(root if root.is_dir() else root.parent)
        if settings:
            used[real(settings)] = f"{display(settings)}, the settings file"
        top = real(root)
        if root.is_file():
            used[top] = f"{display(root)}, a linted manifest"
            continue
        inside = [d for d in dests if d.is_relative_to(top)]
        if not inside:  # only the projects a destination lies in are loaded again
            continue
        from ..project import load_project

        project = load_project(root, positions=False)  # only which files it read matters here
        errors = [*project.load_errors, *project.overrides_errors, *(e for s in project.steps for e in s.load_errors)]
        for file in [*(d.file for d in project.file_documents()), *(e.file for e in errors)]:
            used[real(Path(file))] = f"{file}, a file of project {display(root)}"
        for dest in inside:
            step = next((s for s in project.steps if s.path.is_dir() and dest.is_relative_to(real(s.path))), None)
            if step is not None:
                problems[dest] = f"inside step folder {display(step.path)}, all of whose files are hashed and uploaded"
            elif dest.name in (CONFIG, LOCKFILE_NAME) or OVERRIDES_NAME.match(dest.name):
                problems[dest] = f"a file named {dest.name} inside project {display(root)}, which lint would read"
    for dest, given in dests.items():
        what = used.get(dest) or problems.get(dest)
        if what:
            raise UsageError(f"refusing to write the report to {given}: it is {what}",
                             hint="write it elsewhere, e.g. next to the project (lint-report.txt, lint.sarif)")


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_sarif(path: Path, result: LintResult, env: Env) -> None:
    from .. import github
    from ..report import render

    try:
        if path.parent != Path(""):
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render("sarif", result, env=env), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    github.set_output("sarif-file", os.path.realpath(path), env)
