"""``pipeline-ci changed``: which steps changed, why, and GitHub outputs for a matrix fan-out.

JSON shape (``--format json``, ``"version": 2``)::

    {"version": 2, "baseline": "both", "base": "<sha>|null", "head": "<sha>|null", "range": "<how the base was chosen>",
     "changed": true,
     "selected": [{"project", "pipeline_id", "step_id", "path", "reason"}],
     "projects": [{"project", "pipeline_id", "pipeline_changed", "pipeline_reasons": [...],
                   "steps": [{"step_id", "path", "reason", "needs_upload", "hash", "lock_id", "old_path",
                              "touched", "explain": [...], "selected"}]}],
     "unchanged": ["<project>", ...]}

``projects`` holds the projects with something to say (a step that is not ``unchanged`` or that git touched, or a
changed pipeline), each with all its steps; the others are named in ``unchanged``. ``--all`` puts every project in
``projects`` (``unchanged`` is then empty). A project nobody touched whose root lockfile carries a valid fingerprint
(:mod:`pipeline_ci.changes.fingerprint`) is put in ``unchanged`` without being loaded; one the range touched whose
fingerprint vouches for all but the changed step contents is answered by hashing those steps, not loaded either: on a
1,000-step repository after a release, a pull request loads no project. JSON is written one top-level key per line and one
list item (a selected step, a project with all its steps, an unchanged project's name) per line.

When ``$GITHUB_OUTPUT`` is set, writes ``changed`` (true/false), ``steps`` (the ``selected`` list
as JSON) and ``matrix`` (``{"include": [...selected...]}``, ready for ``strategy.matrix``). When
``$GITHUB_STEP_SUMMARY`` is set, appends the change plan (selected steps with reasons) as a table.

``selected`` (and so ``steps`` and ``matrix``) never holds an ``unchanged`` step: each entry is a job with
work to do. When the range has no git baseline (no GitHub event and no ``--base`` on the default branch, or on
a branch with no ``origin/HEAD``/``main``/``master`` to fork from), the lockfiles are the baseline: ``baseline``
is ``"lock"`` and ``changed`` is false when every lockfile is fresh. A repository with no commit yet (or an
unborn branch) is a usage error (exit 2) that says so.

The change detector itself is :mod:`pipeline_ci.changes`; this module selects, renders and publishes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..changes import fingerprint
from ..changes.git import Later
from ..discovery import display, real
from ..errors import UsageError
from ..exitcodes import ExitCode
from ..records import NamedTuple
from . import Env, Out

TYPE_CHECKING = False  # not typing's: this module is imported before git is started (see pipeline_ci.records)
if TYPE_CHECKING:  # the detector and the project model (PyYAML) are imported once git has been started
    from typing import Any

    from ..changes import GitView, ProjectChanges, Range, RepoDiff, StepChange


class Options(NamedTuple):
    paths: tuple[Path, ...]
    base: str | None = None
    head: str | None = None
    baseline: str = "both"  # lock, git or both
    format: str = "text"
    explain: bool = False
    all_projects: bool = False  # --all: every project in ``projects``, none vouched for by its fingerprint

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(tuple(args.paths), args.base, args.head, args.baseline, args.format, args.explain,
                   args.all_projects)


def selected(step: StepChange, baseline: str) -> bool:
    """Whether ``step`` goes in ``selected`` (and the matrix): never an unchanged step, which would be a no-op job."""
    if step.reason == "unchanged":
        return False
    by_lock = step.needs_upload or step.reason == "deleted"
    by_git = step.touched or step.reason in ("renamed", "deleted")
    return {"lock": by_lock, "git": by_git, "both": by_lock or by_git}[baseline]


def quiet(result: ProjectChanges) -> bool:
    """Whether a project has nothing to say: every step unchanged and untouched, and the pipeline unchanged."""
    return not result.pipeline_changed and all(s.reason == "unchanged" and not s.touched for s in result.steps)


def report(results: list[ProjectChanges | str], baseline: str, rng: Range | None, all_projects: bool = False) -> dict:
    """The JSON report of ``results`` (in discovery order): a :class:`ProjectChanges` per loaded project, the display
    path of a project its fingerprint vouched for (nothing to say, not loaded). A loaded project with nothing to say
    is named in ``unchanged`` too, unless ``all_projects``."""
    projects, chosen, unchanged = [], [], []
    cwd = os.getcwd()
    for res in results:
        if isinstance(res, str):
            unchanged.append(res)
            continue
        name = display(Path(res.root), cwd)
        if not all_projects and quiet(res):
            unchanged.append(name)
            continue
        steps = []
        for step in res.steps:
            item = {**step.as_dict(), "selected": selected(step, baseline)}
            steps.append(item)
            if item["selected"]:
                chosen.append({"project": name, "pipeline_id": res.pipeline_id,
                               "step_id": step.step_id, "path": step.path, "reason": step.reason})
        projects.append({"project": name, "pipeline_id": res.pipeline_id,
                         "pipeline_changed": res.pipeline_changed, "pipeline_reasons": res.pipeline_reasons,
                         "steps": steps})
    return {
        "version": 2,
        "baseline": baseline,
        "base": rng.base if rng else None,
        "head": rng.head if rng else None,
        "range": rng.reason if rng else "lockfiles only",
        "changed": bool(chosen) or any(p["pipeline_changed"] for p in projects),
        "selected": chosen,
        "projects": projects,
        "unchanged": unchanged,
    }


def json_text(data: dict) -> str:
    """The JSON report, one top-level key per line and one list item (a selected step, a project with its steps, an
    unchanged project) per line: readable, and written by json's C encoder (``indent`` would make it use the pure
    Python one, which for a few hundred projects costs more than finding their changes)."""
    def one(value: Any) -> str:
        return json.dumps(value, separators=(", ", ": "))

    parts = []
    for key, value in data.items():
        if isinstance(value, list) and value:
            parts.append(f"  {one(key)}: [\n    " + ",\n    ".join(one(item) for item in value) + "\n  ]")
        else:
            parts.append(f"  {one(key)}: {one(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def text(data: dict, explain: bool) -> str:
    """The human report; each line made safe on its own (a step id or path cannot add a line)."""
    from ..textsafe import safe_line

    lines = [f"range: {data['range']}" + (f" ({data['base']}..{data['head']})" if data["base"] else "")]
    for proj in data["projects"]:
        uploads = sum(s["needs_upload"] for s in proj["steps"])
        pipeline = f"pipeline changed ({', '.join(proj['pipeline_reasons'])})" if proj["pipeline_changed"] \
            else "pipeline unchanged"
        chosen = sum(bool(s["selected"]) for s in proj["steps"])
        # "to upload" is what `upload` would send (content differs from the lockfile); the starred steps are what
        # the baseline selects (outputs `steps`, `matrix`): with --baseline git they can differ, and then both are said
        selection = f" ({chosen} selected by baseline '{data['baseline']}')" if chosen != uploads else ""
        lines.append(f"{proj['project']} (pipeline {proj['pipeline_id']}): {uploads} step(s) to upload{selection}; "
                     f"{pipeline}")
        for step in proj["steps"]:
            mark = "*" if step["selected"] else " "
            extra = f" (from {step['old_path']})" if step["old_path"] else ""
            flags = " [git: touched]" if step["touched"] else ""
            lines.append(f"  {mark} {step['step_id']:<24} {step['reason']:<9}{extra}{flags}")
            if explain:
                lines += [f"      - {why}" for why in step["explain"]] + (
                    [f"      - selected by baseline '{data['baseline']}'"] if step["selected"] else [])
    if data["unchanged"]:
        touched = "" if data["baseline"] == "lock" else ", no step touched"
        lines.append(f"{len(data['unchanged'])} {'other ' if data['projects'] else ''}project(s) unchanged: nothing to "
                     f"upload{touched} (--all lists their steps; -v says which were not even loaded)")
        if explain:
            lines += [f"  {name}" for name in data["unchanged"]]
    return "\n".join(safe_line(line) for line in lines) + "\n"


def github_outputs(data: dict, path: Path) -> None:
    steps = json.dumps(data["selected"], separators=(",", ":"))
    matrix = json.dumps({"include": data["selected"]}, separators=(",", ":"))
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"changed={'true' if data['changed'] else 'false'}\nsteps={steps}\nmatrix={matrix}\n")


MAX_CHARTS = 10
"""Projects whose pipeline the job summary draws (those with selected steps, in report order)."""


def summary(data: dict, specs: dict[str, Any] | None = None) -> str:
    """The change plan as Markdown for the job summary: one row per selected step, with its reason, then the
    pipeline of each project with selected steps as a Mermaid flowchart (``specs``: project -> Argo spec), the
    selected steps highlighted."""
    from ..report.summary import cell, code

    lines = ["### pipeline-ci changed", "", f"Range: {cell(data['range'])}"
             + (f" ({code(data['base'][:12] + '..' + (data['head'] or '')[:12])})" if data["base"] else ""), ""]
    for proj in data["projects"]:
        state = f"changed ({cell(', '.join(proj['pipeline_reasons']))})" if proj["pipeline_changed"] else "unchanged"
        lines.append(f"- {cell(proj['project'])} (pipeline {cell(str(proj['pipeline_id']))}): pipeline {state}")
    if data["unchanged"]:
        lines.append(f"- {len(data['unchanged'])} {'other ' if data['projects'] else ''}project(s) unchanged")
    if not data["selected"]:
        lines += ["", "No step needs a new version."]
        return "\n".join(lines) + "\n"
    lines += ["", f"**{len(data['selected'])} step(s) selected** (baseline `{data['baseline']}`):", "",
              "| Project | Step | Path | Reason |", "|---|---|---|---|"]
    for item in data["selected"]:
        lines.append(f"| {cell(item['project'])} | {cell(str(item['step_id']))} | {cell(str(item['path']))} "
                     f"| {cell(str(item['reason']))} |")
    chosen: dict[str, set[str]] = {}
    for item in data["selected"]:
        chosen.setdefault(item["project"], set()).add(str(item["step_id"]))
    specs = specs or {}
    drawable = [name for name in chosen if specs.get(name) is not None]
    if drawable:
        from ..report import mermaid

        for name in drawable[:MAX_CHARTS]:
            lines += ["", f"{cell(name)}:", "", mermaid.fenced(mermaid.spec_flowchart(specs[name], chosen[name])).rstrip()]
        if len(drawable) > MAX_CHARTS:
            lines += ["", f"({len(drawable) - MAX_CHARTS} more project(s) with selected steps are not drawn.)"]
    return "\n".join(lines) + "\n"


def _work_tree(root: Path, known: dict[str, Path | None]) -> Path | None:
    """The top of the git work tree holding ``root`` (found without running git), or None; ``known`` caches the
    resolved tops."""
    from ..hashing import git_top

    top = git_top(str(root))
    if top is None:
        return None
    if top not in known:
        known[top] = real(Path(top))
    return known[top]


def _diff_for(root: Path, diffs: dict[Path, RepoDiff], options: Options, env: Env) -> Path:
    """The top of the work tree holding ``root`` in ``diffs`` (one range per work tree), resolving it if new."""
    from ..changes import repo_diff

    known = next((top for top in diffs if root.is_relative_to(top)), None)
    if known is None:
        diff = repo_diff(root, options.base, options.head, env)
        known = real(diff.top)
        diffs[known] = diff
    return known


KNOWN = "touched, its fingerprint vouching for what the range did not change: not loaded"


def _spec(root: Path) -> Any:
    """The Argo spec of the project at ``root`` (for the job summary's chart of a project that was not loaded)."""
    from ..project import load_project

    project = load_project(root, positions=False, overrides=False)
    return project.spec.data if project.spec is not None else None


def run(options: Options, env: Env, out: Out) -> int:
    from ..gcpause import gc_paused

    with gc_paused():  # thousands of documents: see there
        return _run(options, env, out)


def _run(options: Options, env: Env, out: Out) -> int:
    from ..changes import project_view, repo_diff
    from ..changes.view import relative_prefix
    from ..discovery import discover

    missing = [p for p in options.paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(map(str, missing))}")
    tops: dict[str, Path | None] = {}
    cwd = os.getcwd()
    first = real(options.paths[0] if options.paths[0].is_dir() else options.paths[0].parent)
    early_top = _work_tree(first, tops)
    # git starts now and works while the projects are discovered: the index (for the fingerprints) and the range
    indexes: dict[Path, fingerprint.IndexState] = {}
    early_diff = Later(repo_diff, first, options.base, options.head, env) \
        if early_top is not None and options.baseline != "lock" else None
    if early_top is not None and not options.all_projects:
        indexes[early_top] = fingerprint.IndexState(early_top)
    from ..console import debug
    from ..dsl.bundle import is_bundle
    from ..dsl.resolve import drop_committed, expand

    roots, _ = discover(expand(list(options.paths), env))  # a Python-defined pipeline: its generated bundle
    roots = drop_committed(roots)
    if not roots:
        raise UsageError("no Clarifai pipeline project found in the given paths")
    results: list[ProjectChanges | str] = []
    rng: Range | None = None
    baseline = options.baseline
    diffs: dict[Path, RepoDiff] = {}
    spec_of: dict[str, Any] = {}  # project root (as reported) -> its Argo spec, for the job summary's charts
    for root in roots:  # a GitError (exit 2) or a UsageError propagates: nothing is printed or written
        bundle = is_bundle(root)  # resolves paths: once per project
        top = _work_tree(root, tops)
        if top is not None and not bundle and not options.all_projects and top not in indexes:
            indexes[top] = fingerprint.IndexState(top)  # git reads the index while this thread goes on
        view: GitView | None = None
        touched = False
        known: Path | None = None
        if options.baseline != "lock":
            if early_diff is not None:  # the range git resolved while the projects were discovered
                diff, early_diff = early_diff.result(), None
                diffs[real(diff.top)] = diff
            known = _diff_for(root, diffs, options, env)
            rng = diffs[known].rng
            if rng.base is None:
                # No git baseline (e.g. no GitHub event and HEAD is the default branch): git would call every
                # file new and every step touched, so the lockfiles are the baseline.
                baseline = "lock"
            else:
                touched = bool(diffs[known].inside(relative_prefix(root, known)))
        if top is not None and top in indexes and not bundle:
            prefix = relative_prefix(root, top)
            if not touched and indexes[top].vouches(root, prefix):
                results.append(display(root, cwd))  # its fingerprint says: up to date, and git says nobody touched it
                debug(f"{results[-1]}: untouched, and its root lockfile's fingerprint matches git's index: not loaded")
                continue
            if touched and known == top:  # (the range of the work tree whose index is read)
                view = project_view(diffs[known], root)
                answer = indexes[top].known(root, prefix, view)
                if answer is not None:  # up to date at the range's base but for what the range changed in steps
                    results.append(answer)
                    debug(f"{display(root, cwd)}: {KNOWN}: {len(answer.steps)} step(s), "
                          f"{sum(s.touched for s in answer.steps)} touched and hashed")
                    continue
        from ..changes import detect  # (and PyYAML): only for a project its fingerprint did not answer for
        from ..project import load_project

        if bundle:  # a Python-defined pipeline: the generated files with the committed lockfiles
            from ..dsl.resolve import publish

            project = load_project(publish(root, dry_run=True), positions=False, overrides=False)
        else:
            project = load_project(root, positions=False, overrides=False)  # no position is printed here
        if known is not None and diffs[known].rng.base is not None and view is None:
            if bundle:
                from ..dsl.changes import git_view

                view = git_view(root, diffs[known], env)
            else:
                view = project_view(diffs[known], root)
        changes = detect(project, tracked_only=project.in_git, git=view)
        results.append(changes)
        spec_of[changes.root] = project.spec.data if project.spec is not None else None
        if bundle:  # reported as the pipeline file it was generated from
            from ..dsl.resolve import source_of

            spec_of[str(source_of(root) or root)] = spec_of.pop(changes.root, None)
            changes.root = str(source_of(root) or root)
    data = report(results, baseline, rng, options.all_projects)
    if rng is not None and rng.base is None:
        data["range"] = f"{rng.reason}; lockfiles are the baseline"
    if options.format == "json":
        # one write: json.dumps escapes every control and non-ASCII character, so the text is already safe, and
        # writing a 1,000-step report line by line through ``out`` costs more than detecting the changes
        sys.stdout.write(json_text(data))
        sys.stdout.flush()
    else:
        for line in text(data, options.explain).rstrip("\n").split("\n"):  # text() made each line safe
            out(line)
    if env.get("GITHUB_OUTPUT"):
        github_outputs(data, Path(env["GITHUB_OUTPUT"]))
    if env.get("GITHUB_STEP_SUMMARY"):
        from .. import github

        drawn = {item["project"] for item in data["selected"]}
        specs = {name: spec_of[r.root] if r.root in spec_of else _spec(Path(r.root))
                 for r in results if not isinstance(r, str) and (name := display(Path(r.root))) in drawn}
        github.append_summary(summary(data, specs), env)
    return ExitCode.OK
