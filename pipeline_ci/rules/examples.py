"""Rule docstrings as documentation and as tests.

A rule's docstring is prose followed by examples. Each example starts with a header line
``Passing KIND::`` or ``Failing KIND::`` and an indented body. ``KIND`` says which file of a small
base project (user ``u1``, app ``a1``, steps ``stepA`` and ``stepB`` that take ``input_text``)
the body replaces (the base project is :mod:`pipeline_ci.testing.projects`, shared with the tests):

- ``spec``: the Argo Workflow embedded in the root ``config.yaml``;
- ``root``: the whole root ``config.yaml``;
- ``step``: ``stepA/config.yaml``;
- ``project``: several files, each introduced by ``# file: PATH``; a body of ``(deleted)``
  removes that base file;
- ``manifest``: a PAI pipeline manifest (``apiVersion: core/v1``), written as ``pipeline.yaml`` alone in
  the example folder (none of the base project's files);
- ``overrides``: a run overrides file, written as ``overrides.yaml`` next to the base project's root
  ``config.yaml`` (whose spec declares the workflow parameter ``input_text``).

A line ending in a ``# <--`` comment marks where a failing example must be reported. The tests
check that passing examples produce no finding at all and failing ones a finding of the rule
(on the marked line when there is one); ``docs/rules.md`` is rendered from the same text.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ..lazyre import lazy_re
from ..testing.projects import base_files, root_config

HEADER = lazy_re(r"^(Passing|Failing) (spec|root|step|project|manifest|overrides)::\s*$")
MANIFEST_FILE = "pipeline.yaml"
OVERRIDES_FILE = "overrides.yaml"
MARKER = "# <--"
FILE_HEADER = lazy_re(r"^# file: (\S+)\s*$")


@dataclass(frozen=True)
class Example:
    passing: bool
    kind: str
    body: str


def examples(rule: ModuleType) -> list[Example]:
    """The examples in a rule's docstring, in order."""
    lines = (rule.__doc__ or "").splitlines()
    out: list[Example] = []
    i = 0
    while i < len(lines):
        match = HEADER.match(lines[i].strip())
        i += 1
        if not match:
            continue
        block: list[str] = []
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
            block.append(lines[i])
            i += 1
        body = textwrap.dedent("\n".join(block)).strip("\n") + "\n"
        out.append(Example(match.group(1) == "Passing", match.group(2), body))
    return out


def prose(rule: ModuleType) -> str:
    """The docstring up to the first example."""
    lines = (rule.__doc__ or "").strip().splitlines()
    cut = next((i for i, line in enumerate(lines) if HEADER.match(line.strip())), len(lines))
    return "\n".join(lines[:cut]).strip()


def files_for(example: Example) -> dict[str, str]:
    """The project files of an example (base project plus the example's changes; a manifest alone)."""
    if example.kind == "manifest":
        return {MANIFEST_FILE: example.body}
    files = base_files()
    if example.kind == "spec":
        files["config.yaml"] = root_config(example.body)
    elif example.kind == "root":
        files["config.yaml"] = example.body
    elif example.kind == "step":
        files["stepA/config.yaml"] = example.body
    elif example.kind == "overrides":
        files[OVERRIDES_FILE] = example.body
    else:
        current: str | None = None
        chunks: dict[str, list[str]] = {}
        for line in example.body.splitlines():
            if match := FILE_HEADER.match(line):
                current = match.group(1)
                chunks[current] = []
            elif current is not None:
                chunks[current].append(line)
        for name, body in chunks.items():
            text = "\n".join(body).strip("\n") + "\n"
            if text.strip() == "(deleted)":
                files.pop(name, None)
            else:
                files[name] = text
    return files


def materialize(example: Example, root: Path) -> list[tuple[str, int]]:
    """Write the example project under ``root``; return the marked ``(relative file, line)`` pairs."""
    marks: list[tuple[str, int]] = []
    for name, text in files_for(example).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        marks += [(name, n) for n, line in enumerate(text.splitlines(), start=1) if MARKER in line]
    return marks


def render_markdown() -> str:
    """``docs/rules.md``: every rule with its prose and examples."""
    from . import all_rules

    out = [
        "# Lint rules",
        "",
        "Generated from the rule docstrings by `pipeline-ci rules --format markdown`; do not edit by hand.",
        "Examples of kind `spec`, `step` and `project` are shown against a small base project",
        "(user `u1`, app `a1`, steps `stepA` and `stepB` taking `input_text`), see",
        "`pipeline_ci/testing/projects.py`; a `manifest` example is a PAI pipeline manifest on its own, an",
        "`overrides` example a run overrides file (`overrides.yaml`) next to the base project's `config.yaml`.",
        "`# <--` marks the reported line.",
        "",
        "| ID | Name | Severity | Summary |",
        "|---|---|---|---|",
    ]
    rules = all_rules()
    for rule in rules:
        summary = prose(rule).splitlines()[0]
        out.append(f"| [{rule.ID}](#{rule.ID.lower()}-{rule.NAME}) | `{rule.NAME}` | {rule.SEVERITY} | {summary} |")
    for rule in rules:
        out += ["", f"## {rule.ID} {rule.NAME}", "", f"Default severity: **{rule.SEVERITY}**", "", prose(rule), ""]
        for ex in examples(rule):
            label = "Passing" if ex.passing else "Failing"
            lang = "text" if ex.kind == "project" else "yaml"
            out += [f"{label} ({ex.kind}):", "", f"```{lang}", ex.body.rstrip("\n"), "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"
