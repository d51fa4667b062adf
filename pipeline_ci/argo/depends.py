"""The DAG ``depends`` language (Argo docs ``enhanced-depends-logic/``): parse, list references, evaluate.

Grammar (``&&`` binds tighter than ``||``, as in expr-lang)::

    expr    := or
    or      := and ( '||' and )*
    and     := unary ( '&&' unary )*
    unary   := '!' unary | '(' expr ')' | operand
    operand := TASK [ '.' RESULT ]     TASK = [a-zA-Z0-9][-a-zA-Z0-9]*

RESULT is one of the eight case-sensitive names in :data:`RESULTS`. The words ``and`` / ``or`` / ``not``
are rejected although expr-lang accepts them, because Argo's validator reads them as task names.
A bare task name ``A`` means ``A.Succeeded || A.Skipped || A.Daemoned`` (plus ``A.Failed`` /
``A.Errored`` when the task has ``continueOn.failed`` / ``continueOn.error``).

:class:`ExprError` is shared with :mod:`pipeline_ci.argo.when`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..errors import UsageError
from ..lazyre import lazy_re
from ..records import NamedTuple

RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed")
TASK_RE = lazy_re(r"[a-zA-Z0-9][-a-zA-Z0-9]*\Z")
MAX_DEPTH = 100  # combined nesting of '(' and '!', so hostile input cannot exhaust the stack

_WORD = lazy_re(r"[A-Za-z0-9_-]+")
_KEYWORDS = {"and": "&&", "or": "||", "not": "!"}
# A flat chain of valid operands joined by one operator (``a && b.Failed && c``), the common shape, is
# parsed with one regex pass instead of the tokenizer; anything else (every error included) takes the parser.
_VALID_OPERAND = rf"[a-zA-Z0-9][-a-zA-Z0-9]*(?:\.(?:{'|'.join(RESULTS)}))?(?![\w.-])"
_FLAT = {op: lazy_re(rf"\s*{_VALID_OPERAND}(?:\s*{re.escape(op)}\s*{_VALID_OPERAND})*\s*\Z") for op in ("&&", "||")}
_FLAT_OPERAND = lazy_re(rf"([a-zA-Z0-9][-a-zA-Z0-9]*)(?:\.({'|'.join(RESULTS)}))?")
_FLAT_TASK = lazy_re(rf"([a-zA-Z0-9][-a-zA-Z0-9]*)(?:\.(?:{'|'.join(RESULTS)}))?")
_KEYWORD_OPERAND = lazy_re(r"(?<![\w.-])(?:and|or|not)(?![\w-])")


class ExprError(UsageError, ValueError):
    """A syntax or evaluation error; ``offset`` is the 0-based character offset into the source text."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class Ref(NamedTuple):
    """An operand ``task`` or ``task.result``; ``offset`` is where the task name starts (a named tuple: a
    spec can hold hundreds of thousands of operands, and tuples are built several times faster)."""

    task: str
    result: str | None
    offset: int


class Not(NamedTuple):
    """``!operand``."""

    operand: Node


class And(NamedTuple):
    """``a && b && ...``."""

    operands: tuple[Node, ...]


class Or(NamedTuple):
    """``a || b || ...``."""

    operands: tuple[Node, ...]


Node = Ref | Not | And | Or


class TaskState(NamedTuple):
    """The outcome of a finished task as seen by ``depends``.

    ``phase`` is a node phase (Succeeded, Failed, Error, Skipped, Omitted); ``children`` holds the
    child phases of a fan-out (loop) task, ``None`` otherwise; ``continue_on`` holds "failed" and/or
    "error" and only widens the meaning of a bare task name.
    """

    phase: str
    daemoned: bool = False
    children: list[str] | None = None
    continue_on: frozenset[str] = frozenset()


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    """Split into (kind, text, offset) tokens; kinds: word, op, end."""
    tokens: list[tuple[str, str, int]] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith(("&&", "||"), i):
            tokens.append(("op", text[i : i + 2], i))
            i += 2
        elif c in "!()":
            tokens.append(("op", c, i))
            i += 1
        elif c in "&|":
            raise ExprError(f"invalid operator '{c}': use '{c * 2}'", i)
        elif m := _WORD.match(text, i):
            word_end = m.end()
            if text.startswith(".", word_end):
                r = _WORD.match(text, word_end + 1)
                word_end = r.end() if r else word_end + 1
            word = text[i:word_end]
            keyword = word.partition(".")[0]
            if keyword in _KEYWORDS:
                raise ExprError(
                    f"'{keyword}' is not an operator in depends: use '{_KEYWORDS[keyword]}' "
                    f"(Argo would read '{keyword}' as a task name)",
                    i,
                )
            tokens.append(("word", word, i))
            i = word_end
        else:
            raise ExprError(f"unexpected character '{c}'", i)
    tokens.append(("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.pos]

    def take(self) -> tuple[str, str, int]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node:
        if self.peek()[0] == "end":
            raise ExprError("empty depends expression", 0)
        node = self.parse_or()
        kind, value, offset = self.peek()
        if kind != "end":
            if value == ")":
                raise ExprError("unmatched ')'", offset)
            raise ExprError(f"unexpected '{value}': expected '&&', '||' or end of expression", offset)
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.peek()[1] == "||":
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_unary()]
        while self.peek()[1] == "&&":
            self.take()
            operands.append(self.parse_unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_unary(self) -> Node:
        negations = 0
        while self.peek()[1] == "!":
            self.take()
            negations += 1
        self.depth += negations
        if self.depth > MAX_DEPTH:
            raise ExprError("expression nested too deeply", self.peek()[2])
        node = self.parse_primary()
        self.depth -= negations
        for _ in range(negations):
            node = Not(node)
        return node

    def parse_primary(self) -> Node:
        kind, value, offset = self.take()
        if value == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExprError("expression nested too deeply", offset)
            node = self.parse_or()
            if self.peek()[1] != ")":
                raise ExprError(f"missing ')' to close '(' at offset {offset}", offset)
            self.take()
            self.depth -= 1
            return node
        if kind == "word":
            return _operand(value, offset)
        if kind == "end":
            after = f" after '{self.tokens[self.pos - 2][1]}'" if self.pos >= 2 else ""
            raise ExprError(f"unexpected end of expression{after}: expected a task", offset)
        raise ExprError(f"unexpected '{value}': expected a task", offset)


def _operand(word: str, offset: int) -> Ref:
    task, dot, result = word.partition(".")
    if not TASK_RE.match(task):
        raise ExprError(
            f"invalid task name '{task}': must consist of alpha-numeric characters or '-', "
            "and must start with an alpha-numeric character",
            offset,
        )
    if not dot:
        return Ref(task, None, offset)
    if result not in RESULTS:
        raise ExprError(
            f"task result '{result}' for task '{task}' is invalid (expected one of {', '.join(RESULTS)})",
            offset + len(task) + 1,
        )
    return Ref(task, result, offset)


def parse(text: str) -> Node:
    """Parse a ``depends`` expression; raise :class:`ExprError` on any syntax problem."""
    flat = _flat(text)
    if flat is None:
        return _Parser(text).parse()
    op, refs = flat
    if len(refs) == 1:
        return refs[0]
    return And(tuple(refs)) if op == "&&" else Or(tuple(refs))


def operands(text: str) -> list[Ref]:
    """``references(parse(text))``, without building the tree for the common flat chains."""
    flat = _flat(text)
    return flat[1] if flat is not None else references(_Parser(text).parse())


def task_names(text: str) -> list[str]:
    """``[r.task for r in operands(text)]``: plain strings, the cheapest form for long expressions."""
    if _is_flat(text):
        return _FLAT_TASK.findall(text)
    return [r.task for r in references(_Parser(text).parse())]


def _is_flat(text: str) -> str | None:
    """The operator of a flat ``&&`` or ``||`` chain of valid operands (``&&`` for a single operand), else None."""
    op = "||" if "||" in text else "&&"
    return op if _FLAT[op].match(text) and not _KEYWORD_OPERAND.search(text) else None


def _flat(text: str) -> tuple[str, list[Ref]] | None:
    """The operator and operands of a flat ``&&`` or ``||`` chain of valid operands; None for anything else."""
    op = _is_flat(text)
    if op is None:
        return None
    return op, [Ref(m[1], m[2], m.start()) for m in _FLAT_OPERAND.finditer(text)]


def references(node: Node) -> list[Ref]:
    """All operands in source order (each has ``.task``, ``.result`` and ``.offset``)."""
    refs: list[Ref] = []
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Ref):
            refs.append(current)
        elif isinstance(current, Not):
            stack.append(current.operand)
        else:
            stack.extend(reversed(current.operands))
    return refs


def from_dependencies(names: list[str]) -> str:
    """The ``depends`` text equivalent to ``dependencies: names`` (``A && B``; "" for no names)."""
    return " && ".join(names)


def _result(state: TaskState, result: str | None) -> bool:
    if result is None:
        allowed = {"Succeeded", "Skipped"}
        allowed |= {"Failed"} if "failed" in state.continue_on else set()
        allowed |= {"Error"} if "error" in state.continue_on else set()
        return state.phase in allowed or state.daemoned
    if result == "AnySucceeded":
        return any(phase == "Succeeded" for phase in state.children or ())
    if result == "AllFailed":
        return bool(state.children) and all(phase == "Failed" for phase in state.children or ())
    if result == "Daemoned":
        return state.daemoned
    return state.phase == ("Error" if result == "Errored" else result)


def evaluate(node: Node, results: Mapping[str, TaskState]) -> bool:
    """Evaluate a parsed expression; every referenced task must have an entry in ``results``."""
    if isinstance(node, Ref):
        if node.task not in results:
            raise ExprError(f"task '{node.task}' has no result", node.offset)
        return _result(results[node.task], node.result)
    if isinstance(node, Not):
        return not evaluate(node.operand, results)
    if isinstance(node, And):
        return all(evaluate(operand, results) for operand in node.operands)
    return any(evaluate(operand, results) for operand in node.operands)
