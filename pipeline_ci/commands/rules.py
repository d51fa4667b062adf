"""``pipeline-ci rules [RULE]``: list the lint rules, or explain one (its ID, name, severity, target, the prose of its
docstring and its passing and failing examples); ``--format markdown`` generates ``docs/rules.md`` (every rule) or
one rule's section.

Rule docstrings are reStructuredText; on a terminal the text format shows ``literal`` markup in bold, elsewhere as
plain text, and Sphinx roles (``:class:`~a.b.C``` ) as their target's name (:func:`plain`). A misspelt RULE is a
usage error with the closest ID or name (``stale-lok``: did you mean ``stale-lock``?).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from types import ModuleType

from ..errors import UsageError
from ..exitcodes import ExitCode
from . import Env, Out

_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`~?([^`<]*?)(?:\s*<([^>]*)>)?`")
_LITERAL = re.compile(r"``(.+?)``")
_LINK = re.compile(r"`([^`<]+?)\s*<([^>]+)>`_+")
_EMPHASIS = re.compile(r"(?<![\w*])\*\*?([^*\s][^*]*?)\*\*?(?![\w*])")


TARGETS = {"clarifai": "Clarifai pipeline projects", "manifest": "PAI pipeline manifests",
           "overrides": "run overrides files"}


@dataclass(frozen=True)
class Options:
    format: str = "text"
    rule: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(args.format, getattr(args, "rule", None))


def plain(text: str, bold: bool = False) -> str:
    """reStructuredText markup of a rule docstring made readable in a terminal: ``literal`` in bold when ``bold``
    (else plain), ``:role:`~a.b.C``` as ``C``, ```text <url>`_`` as ``text (url)``, ``*emphasis*`` plain."""
    from ..console import BOLD, paint

    text = _ROLE.sub(lambda m: (m.group(2) or m.group(1)).rsplit(".", 1)[-1] if m.group(1).strip() else "", text)
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    text = _LITERAL.sub(lambda m: paint(m.group(1), BOLD, bold), text)
    return _EMPHASIS.sub(lambda m: m.group(1), text)


def find(key: str) -> ModuleType:
    """The rule with ID or name ``key``; a usage error naming the closest one otherwise."""
    from ..rules import find as find_rule
    from ..rules import suggest

    rule = find_rule(key)
    if rule is None:
        close = suggest(key)
        raise UsageError(f"no lint rule {key!r}",
                         hint=f"did you mean `{close}`?" if close else "`pipeline-ci rules` lists the rule IDs and names")
    return rule


def explain(rule: ModuleType, colour: bool = False) -> list[str]:
    """One rule for a terminal: header, prose (markup rendered), examples indented, ``# <--`` lines marked."""
    from ..console import BOLD, RED, paint
    from ..rules.examples import examples, prose

    lines = [f"{paint(rule.ID, BOLD, colour)} {paint(rule.NAME, BOLD, colour)} "
             f"(default severity: {rule.SEVERITY}; checks {TARGETS.get(rule.TARGET, rule.TARGET)})", ""]
    text = prose(rule).replace("::\n", ":\n")
    lines += [plain(line, colour) for line in text.splitlines()]
    for example in examples(rule):
        label = "Passing" if example.passing else "Failing"
        lines += ["", f"{label} ({example.kind}):", ""]
        for line in example.body.rstrip("\n").splitlines():
            marked = "# <--" in line and not example.passing
            lines.append(f"    {paint(line, RED, colour) if marked else line}" if line else "")
    return lines


def run(options: Options, env: Env, out: Out) -> int:
    from ..console import colour
    from ..rules import all_rules
    from ..rules.examples import prose, render_markdown
    from ..textsafe import safe_line

    if options.rule is not None:
        rule = find(options.rule)
        if options.format == "markdown":
            text = render_markdown()
            start = text.index(f"\n## {rule.ID} {rule.NAME}\n") + 1
            end = text.find("\n## ", start)
            sys.stdout.write(text[start:end if end != -1 else len(text)].rstrip("\n") + "\n")
            return ExitCode.OK
        on = colour(sys.stdout)
        for line in explain(rule, on):
            # the docstrings are ours (no untrusted text); safe_line would escape the colour: check before painting
            sys.stdout.write((line if on else safe_line(line)) + "\n")
        return ExitCode.OK
    if options.format == "markdown":
        sys.stdout.write(render_markdown())
    else:
        for rule in all_rules():
            summary = plain(prose(rule).splitlines()[0])
            sys.stdout.write(safe_line(f"{rule.ID}  {rule.NAME:<28} {rule.SEVERITY:<8} {summary}") + "\n")
    return ExitCode.OK
