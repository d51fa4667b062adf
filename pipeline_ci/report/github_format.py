"""GitHub workflow commands: ``::error file=F,line=L,col=C,title=RULE::message``.

Values are escaped as the runner expects (``%``, CR and LF everywhere; also ``:`` and ``,`` in
properties) and other control characters are shown escaped: :func:`pipeline_ci.github.command_data`
and :func:`~pipeline_ci.github.command_property`. GitHub keeps only 10 error and 10 warning
annotations per step, so at most :data:`MAX_ANNOTATIONS` of each are emitted (:func:`select`), and a
``::notice`` says how many were left out (they are all in the job summary and the SARIF report). A
closing line gives the totals.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..github import command_data, command_property, escape_property
from . import shown_path

MAX_ANNOTATIONS = 10  # per severity and per step (GitHub's check-run annotation limit)


def command(f, env: Mapping[str, str] | None = None) -> str:
    """The workflow command for finding ``f``; its file relative to ``$GITHUB_WORKSPACE`` when ``env`` has it (the
    runner resolves ``file=`` against the workspace, not the step's working directory: actions/toolkit#224)."""
    props = (f"file={command_property(shown_path(f.file, env))},line={f.line},col={f.col},"
             f"title={command_property(f.rule + ' ' + f.name)}")
    return f"::{f.severity} {props}::{command_data(f.message)}"


def _pick(findings: list, limit: int) -> list:
    """At most ``limit`` of ``findings`` (one severity), in their order, preferring distinct rules and files.

    Pass 1 takes findings whose rule *and* file are both new, pass 2 those with a new rule or a new
    file, pass 3 the rest, each pass in file order, until ``limit`` are taken.
    """
    if len(findings) <= limit:
        return list(findings)
    chosen: set[int] = set()
    rules: set[str] = set()
    files: set[str] = set()
    tests = (lambda f: f.rule not in rules and f.file not in files,
             lambda f: f.rule not in rules or f.file not in files,
             lambda f: True)
    for test in tests:
        for i, f in enumerate(findings):
            if len(chosen) == limit:
                break
            if i not in chosen and test(f):
                chosen.add(i)
                rules.add(f.rule)
                files.add(f.file)
    return [f for i, f in enumerate(findings) if i in chosen]


def select(findings, limit: int = MAX_ANNOTATIONS) -> tuple[list, int, int]:
    """The findings to annotate (errors first, then warnings) and how many errors and warnings are left out."""
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity != "error"]
    picked_errors, picked_warnings = _pick(errors, limit), _pick(warnings, limit)
    return picked_errors + picked_warnings, len(errors) - len(picked_errors), len(warnings) - len(picked_warnings)


def overflow(errors: int, warnings: int) -> str:
    """The notice for findings that were not annotated (``""`` when there are none)."""
    if not errors and not warnings:
        return ""
    text = (f"{errors} more error{'s' if errors != 1 else ''} and {warnings} more warning{'s' if warnings != 1 else ''}"
            f": see the job summary / SARIF (GitHub keeps only {MAX_ANNOTATIONS} of each per step)")
    return f"::notice title={escape_property('pipeline-ci')}::{command_data(text)}"


def render(result, env: Mapping[str, str] | None = None) -> str:
    shown, more_errors, more_warnings = select(result.findings)
    lines = [command(f, env) for f in shown]
    if more_errors or more_warnings:
        lines.append(overflow(more_errors, more_warnings))
    projects = len(result.projects)
    lines.append(f"pipeline-ci: {result.errors} error(s), {result.warnings} warning(s) in {projects} project(s)")
    return "\n".join(lines) + "\n"
