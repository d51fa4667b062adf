"""Inline suppression comments.

``# pipeline-ci: disable=A07,unknown-key`` silences those rules on its own line, or on the next
line when the comment stands alone. ``# pipeline-ci: disable-file=A07`` silences them in the
whole file. ``disable=all`` silences every rule. The rules are a comma-separated list (blanks around
the commas allowed); whatever follows it after a blank is a free-text reason
(``# pipeline-ci: disable=A09 -- the name is generated``).

Only real comments count: a ``#`` that starts the line or follows a blank, outside a quoted scalar
(``value: "x # pipeline-ci: disable=A28"`` is a string, not a comment; in a Python pipeline file, what
:mod:`tokenize` calls a comment). Each YAML line is read on its own,
so the lines of a block scalar (the embedded Argo spec) are read as the YAML they hold. Rule keys
that name no rule are reported by rule ``F03 suppression-comment`` (:func:`comments` gives their places).
"""

from __future__ import annotations

from .lazyre import lazy_re

# a directive at the start of a comment's text: the kind, then the list of rule keys
DIRECTIVE = lazy_re(r"#[ \t]*pipeline-ci:[ \t]*(disable-file|disable)\b[ \t]*(=?)[ \t]*")
KEYS = lazy_re(r"[\w\-]+(?:[ \t]*,[ \t]*[\w\-]+)*")  # the comma-separated rule keys after ``=``
# a scalar starts after these (or at the line's start): a quote there opens a quoted scalar
_VALUE_START = frozenset("[{,")


class Directive:
    """One ``# pipeline-ci: disable...=`` comment: ``kind``, the rule ``keys`` it names, where the list starts
    (``line``, ``col``, 1-based) and whether it stands alone on its line."""

    # a plain class, not a dataclass: creating dataclasses is a tenth of a cold lint (see pipeline_ci.records)
    def __init__(self, kind: str, keys: list[tuple[str, int]], line: int, col: int, alone: bool,
                 problem: str | None = None) -> None:
        self.kind = kind
        self.keys = keys  # (key, 1-based column)
        self.line = line
        self.col = col
        self.alone = alone
        self.problem = problem  # what is wrong with its syntax (the keys before it still count)


class Suppressions:
    """The inline ``# pipeline-ci: disable=...`` comments of one file: by line, and for the whole file."""

    # a plain class, not a dataclass: creating dataclasses is a tenth of a cold lint (see pipeline_ci.records)
    def __init__(self) -> None:
        self.by_line: dict[int, set[str]] = {}
        self.whole_file: set[str] = set()

    def covers(self, line: int, rule_id: str, rule_name: str) -> bool:
        names = self.whole_file | self.by_line.get(line, set())
        return bool(names & {rule_id, rule_name, "all"})


def comment_start(text: str) -> int:
    """The index of the ``#`` that starts a YAML comment on ``text`` (one line), or -1: a ``#`` at the start of the
    line or after a blank, outside a single- or double-quoted scalar (a quote opens one only where a scalar starts:
    after the indentation, ``- ``, ``: ``, ``? ``, ``[``, ``{`` or ``,``)."""
    if "#" not in text:
        return -1
    quote = ""
    at_start = True  # a scalar may start here
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if quote:
            if quote == '"' and char == "\\":
                i += 2
                continue
            if char == quote:
                if quote == "'" and text[i + 1:i + 2] == "'":  # '' inside a single-quoted scalar
                    i += 2
                    continue
                quote = ""
            i += 1
            continue
        if char == "#" and (i == 0 or text[i - 1] in " \t"):
            return i
        if char in "\"'" and at_start:
            quote = char
        elif char in " \t":
            pass  # blanks keep at_start as it is
        elif char in _VALUE_START:
            at_start = True
        elif char in "-:?" and (i + 1 == n or text[i + 1] in " \t"):
            at_start = True
        else:
            at_start = False
        i += 1
    return -1


def _python_comments(lines: list[str]) -> dict[int, int] | None:
    """Where each comment of a Python file starts, by 1-based line (:mod:`tokenize`: ``#`` in strings is text);
    None when the file does not tokenize."""
    import io
    import tokenize

    out: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            if token.type == tokenize.COMMENT:
                out[token.start[0]] = token.start[1]
    except (tokenize.TokenError, SyntaxError):
        return None
    return out


def comments(lines: list[str], *, python: bool = False) -> list[Directive]:
    """Every ``# pipeline-ci: disable...=`` directive in the real comments of ``lines`` (a YAML file's, or with
    ``python`` a Python file's)."""
    out: list[Directive] = []
    starts = _python_comments(lines) if python and any("pipeline-ci" in text for text in lines) else None
    for number, text in enumerate(lines, start=1):
        if "pipeline-ci" not in text:  # the common case: no need to scan the line
            continue
        start = starts.get(number, -1) if starts is not None else comment_start(text)
        if start < 0:
            continue
        for match in DIRECTIVE.finditer(text, start):
            at = match.end()
            listed = KEYS.match(text, at)
            keys: list[tuple[str, int]] = []
            problem = None
            if not match.group(2):  # `disable A09`: not a directive, but meant as one
                listed, problem = None, f"expected '=' and the rules after {match.group(1)!r}"
            elif listed is None:
                problem = "names no rule"
            else:
                for part in listed.group().split(","):
                    at += len(part) - len(part.lstrip())
                    keys.append((part.strip(), at + 1))
                    at += len(part.lstrip()) + 1
                rest = text[listed.end():listed.end() + 1]
                if rest and rest not in " \t":
                    problem = f"unexpected {rest!r} after the rule list (a reason follows the list after a blank)"
            col = (match.end() if match.group(2) else match.start(1)) + 1
            out.append(Directive(match.group(1), keys, number, col, not text[:start].strip(), problem))
    return out


def parse(lines: list[str], *, python: bool = False) -> Suppressions:
    """The suppressions of a file's ``lines`` (a Python file's with ``python``)."""
    out = Suppressions()
    for directive in comments(lines, python=python):
        rules = {key for key, _ in directive.keys}
        if directive.kind == "disable-file":
            out.whole_file |= rules
            continue
        target = directive.line + 1 if directive.alone else directive.line
        out.by_line.setdefault(target, set()).update(rules)
    return out
