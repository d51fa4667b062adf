"""Argo's expression language: expr-lang (``github.com/expr-lang/expr``) with Argo's environment.

Used by ``{{=…}}`` tags, ``valueFrom.expression``, ``retryStrategy.expression`` and hook ``expression``
fields (Argo docs ``variables.md`` "Expression"; ``util/expr/env/env.go`` and
``util/template/expression_template.go`` in argoproj/argo-workflows). A hand-written lexer, a Pratt
parser that follows expr-lang's ``parser/parser.go`` (operator precedences of ``parser/operator``) and a
tree walk; nothing is ever handed to Python's ``eval``: an unknown name is an error, and the only
callables are the functions listed below.

Environment (:func:`environment`): Argo passes its flat variable map (``inputs.parameters.x`` ->
``"1"``, every value a string) through ``expand.Expand``: dotted names become nested maps and a name
that is also a prefix of another (``item`` next to ``item.a``) is dropped. Argo adds ``asInt`` and
``asFloat`` (expr's ``int``/``float``), ``jsonpath(json, path)``, ``toJson`` (compact, Go's
``json.Marshal``) and ``sprig`` (Sprig's generic functions minus ``env``/``expandenv``).

Language covered: integer (decimal, ``0x``, ``0o``, ``0b``, ``_`` separators), float, string (both
quotes, Go escapes, backquoted raw strings), ``true``/``false``/``nil``, arrays, maps (``{a: 1}``);
``+ - * / % ** ^``, ``== != < <= > >=`` (chained comparisons), ``&& and || or ! not``, ``c ? a : b``
and ``c ?: b`` (both need a bool condition), ``??``, ``in``/``not in``, ``matches`` (RE2), ``contains``,
``startsWith``, ``endsWith`` (each with ``not``), ``..`` ranges, ``a.b``, ``a?.b``, ``a["b"]``, ``a[i]`` (negative from the end),
``a[i:j]``, the pipe ``x | f(y)``, ``let x = …; …``, comments, and closures with ``#``, ``#index``,
``#acc`` and ``.field`` in ``all any none one filter map count sum find findIndex findLast
findLastIndex groupBy sortBy reduce``. Builtins: see :data:`BUILTINS`; Sprig: see :data:`SPRIG` (the
other Sprig names are known to :func:`check` but fail at run time with "not supported locally").

Semantics follow expr's runtime: ``int + int`` is an int, ``/`` always gives a float, ``%`` needs
ints, ``**`` a float; ``==`` compares numbers by value across int/float and is false across other
types; ordering needs two numbers or two strings; a missing map key is ``nil``; a member of ``nil``
is an error except after ``?.`` or on the left of ``??``. JSON decoded by ``jsonpath``,
``fromJSON`` and ``sprig.fromJson`` has float numbers (Go's ``float64``); ``string()`` and
``sprig.toString`` format with Go's ``%v`` (:func:`go_string`: ``[1 2]``, ``map[a:1]``, ``1e+06``).

A tag's result is inserted as in Argo's current ``expressionReplace``: a string as it is, any other value
as JSON (``[1,2]``, ``{"a":1}``, ``1000000``); a ``nil`` result is an error. At the workflow level (not
``strict``) a failing tag stays as written to be evaluated later, and so does one that names a variable
the scope does not have yet (:func:`missing_variables`).

Known deviations (all fail clearly rather than silently): no ``now()``/``date()``/``duration()``
builtins and no time values (``sprig.date`` formats the current time, as Sprig does for a string);
``jsonpath`` knows no filters or scripts; ``sprig.semverCompare`` knows ``= != < <= > >=`` only;
``len`` of a string counts UTF-8 bytes like Go, but indexing a string yields a one-character
string; older Argo releases inserted results with ``%v`` (``[1 2]``) and pre-evaluated the condition of
a ternary textually; pipeline-ci follows the current behaviour.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import posixpath
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .depends import ExprError
from .when import _go_float as go_float
from .when import _utf8

MAX_DEPTH = 64  # nesting of brackets / calls / operators
MAX_ITEMS = 1_000_000  # elements a range, repeat or list operation may build
MAX_SIZE = 10_000_000  # characters or elements a concatenation may build
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class ExpressionError(ExprError):
    """A syntax, name or evaluation error; ``offset`` is the 0-based character offset into the expression."""

    @property
    def column(self) -> int:
        """1-based column within the expression text."""
        return self.offset + 1

    def __str__(self) -> str:
        return f"{self.message} (at character {self.offset + 1})"


# ---------------------------------------------------------------------------------------------- lexer

NUM, STR, IDENT, OP, BRACKET, EOF = "number", "string", "identifier", "operator", "bracket", "end"
WORD_OPS = frozenset({"not", "in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let"})
SYMBOL_OPS = sorted(
    ["==", "!=", "<=", ">=", "&&", "||", "**", "??", "?.", "..", "::", "<", ">", "+", "-", "*", "/", "%", "^",
     "!", "=", "?", ":", ",", ";", ".", "|", "#"],
    key=len,
    reverse=True,
)
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'",
            '"': '"'}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: Any
    offset: int
    text: str = ""

    def is_(self, kind: str, *values: str) -> bool:
        return self.kind == kind and (not values or self.value in values)

    def __str__(self) -> str:
        if self.kind == EOF:
            return "end of expression"
        return f"{self.kind} {self.text or self.value!r}" if self.kind in (NUM, STR) else f"'{self.value}'"


def _is_alpha(c: str) -> bool:
    return c == "_" or c == "$" or c.isalpha()


def _is_alnum(c: str) -> bool:
    return _is_alpha(c) or c.isdigit()


def _read_string(text: str, i: int) -> tuple[str, int]:
    quote, j = text[i], i + 1
    out: list[str] = []
    while j < len(text):
        c = text[j]
        if c == quote:
            return "".join(out), j + 1
        if c == "\n":
            break
        if c != "\\":
            out.append(c)
            j += 1
            continue
        if j + 1 >= len(text):
            break
        e = text[j + 1]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            j += 2
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = text[j + 2 : j + 2 + width]
            if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise ExpressionError(f"invalid escape sequence \\{e}{digits}", j)
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code < 0xE000:
                raise ExpressionError(f"invalid Unicode code point \\{e}{digits}", j)
            out.append(chr(code))
            j += 2 + width
        elif e in "01234567":
            digits = text[j + 1 : j + 4]
            if len(digits) != 3 or any(d not in "01234567" for d in digits) or int(digits, 8) > 255:
                raise ExpressionError(f"invalid octal escape \\{digits}", j)
            out.append(chr(int(digits, 8)))
            j += 4
        else:
            raise ExpressionError(f"invalid escape sequence \\{e}", j)
    raise ExpressionError("literal not terminated", i)


def _read_number(text: str, i: int) -> tuple[Token, int]:
    j = i
    digits = "0123456789_"
    if text.startswith(("0x", "0X"), i):
        digits, j = "0123456789abcdefABCDEF_", i + 2
    elif text.startswith(("0o", "0O"), i):
        digits, j = "01234567_", i + 2
    elif text.startswith(("0b", "0B"), i):
        digits, j = "01_", i + 2
    while j < len(text) and text[j] in digits:
        j += 1
    is_float = False
    if j < len(text) and text[j] == "." and not text.startswith("..", j) and digits == "0123456789_":
        is_float, j = True, j + 1
        while j < len(text) and text[j] in digits:
            j += 1
    if j < len(text) and text[j] in "eE" and digits == "0123456789_":
        is_float, j = True, j + 1
        if j < len(text) and text[j] in "+-":
            j += 1
        while j < len(text) and text[j] in digits:
            j += 1
    if j < len(text) and _is_alnum(text[j]):
        raise ExpressionError(f"bad number syntax: {text[i : j + 1]!r}", i)
    word = text[i:j]
    clean = word.replace("_", "")
    try:
        value: Any = float(clean) if is_float else int(clean, 0) if clean[:2].lower() in ("0x", "0o", "0b") else int(clean)
    except ValueError:
        raise ExpressionError(f"bad number syntax: {word!r}", i) from None
    if isinstance(value, int) and value > INT64_MAX:
        raise ExpressionError("integer literal is too large", i)
    if isinstance(value, float) and math.isinf(value):
        raise ExpressionError("float literal is too large", i)
    return Token(NUM, value, i, word), j


def tokenize(text: str) -> list[Token]:
    """expr-lang tokens of ``text``; lexing errors raise :class:`ExpressionError`."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end == -1 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end == -1:
                raise ExpressionError("unclosed comment", i)
            i = end + 2
        elif c in "'\"":
            value, j = _read_string(text, i)
            tokens.append(Token(STR, value, i, text[i:j]))
            i = j
        elif c == "`":
            end = text.find("`", i + 1)
            if end == -1:
                raise ExpressionError("literal not terminated", i)
            tokens.append(Token(STR, text[i + 1 : end], i, text[i : end + 1]))
            i = end + 1
        elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            token, i = _read_number(text, i)
            tokens.append(token)
        elif c in "()[]{}":
            tokens.append(Token(BRACKET, c, i))
            i += 1
        elif _is_alpha(c):
            j = i
            while j < n and _is_alnum(text[j]):
                j += 1
            word = text[i:j]
            tokens.append(Token(OP if word in WORD_OPS else IDENT, word, i))
            i = j
        else:
            op = next((o for o in SYMBOL_OPS if text.startswith(o, i)), None)
            if op is None:
                raise ExpressionError(f"unrecognized character: {c!r}", i)
            tokens.append(Token(OP, op, i))
            i += len(op)
            if op == "#":  # #index, #acc: the pointer's name follows without a space
                j = i
                while j < n and _is_alnum(text[j]):
                    j += 1
                if j > i:
                    tokens.append(Token(IDENT, text[i:j], i))
                    i = j
    tokens.append(Token(EOF, "", n))
    return tokens


# --------------------------------------------------------------------------------------------- parser

UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}
BINARY: dict[str, tuple[int, bool]] = {  # precedence, right-associative
    "|": (0, False), "or": (10, False), "||": (10, False), "and": (15, False), "&&": (15, False),
    "==": (20, False), "!=": (20, False), "<": (20, False), ">": (20, False), ">=": (20, False), "<=": (20, False),
    "in": (20, False), "matches": (20, False), "contains": (20, False), "startsWith": (20, False),
    "endsWith": (20, False), "..": (25, False), "+": (30, False), "-": (30, False), "*": (60, False),
    "/": (60, False), "%": (60, False), "**": (100, True), "^": (100, True), "??": (500, False),
}
NEGATABLE = frozenset({"in", "matches", "contains", "startsWith", "endsWith"})
PREDICATES: dict[str, tuple[int, int]] = {  # name -> (minimum, maximum) arguments; the second is a closure
    "all": (2, 2), "none": (2, 2), "any": (2, 2), "one": (2, 2), "filter": (2, 2), "map": (2, 2),
    "count": (1, 2), "sum": (1, 2), "find": (2, 2), "findIndex": (2, 2), "findLast": (2, 2),
    "findLastIndex": (2, 2), "groupBy": (2, 2), "sortBy": (2, 3), "reduce": (2, 3),
}


@dataclass(frozen=True, slots=True)
class Node:
    """One AST node. ``kind``: lit, ident, ptr, array, map, unary, binary, cond, member, slice, call,
    builtin, pred, let, chain, empty. ``value``: the literal, name or operator; ``args``: the children."""

    kind: str
    offset: int
    value: Any = None
    args: tuple[Node, ...] = ()


EMPTY = Node("empty", 0)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0  # predicate (closure) depth
        self.nesting = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> None:
        if self.pos < len(self.tokens) - 1:
            self.pos += 1

    def error(self, message: str, token: Token | None = None) -> ExpressionError:
        token = token or self.current
        if token.kind == EOF and message.startswith("unexpected token"):
            message = "unexpected end of expression"
        return ExpressionError(message, token.offset)

    def expect(self, kind: str, *values: str) -> Token:
        token = self.current
        if not token.is_(kind, *values):
            wanted = f"'{values[0]}'" if values else f"an {kind}"
            raise self.error(f"unexpected token {token}: expected {wanted}")
        self.next()
        return token

    def parse(self) -> Node:
        node = self.expression(0)
        if self.current.kind != EOF:
            raise self.error(f"unexpected token {self.current}")
        return node

    def expression(self, precedence: int) -> Node:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise self.error(f"expression nested deeper than {MAX_DEPTH} levels")
        try:
            return self._expression(precedence)
        finally:
            self.nesting -= 1

    def _expression(self, precedence: int) -> Node:
        if precedence == 0 and self.current.is_(OP, "let"):
            return self.let()
        left = self.primary()
        previous = ""
        while self.current.kind == OP:
            token = self.current
            op, negate = str(token.value), False
            if op == "not":
                following = self.tokens[self.pos + 1]
                if following.kind != OP or following.value not in NEGATABLE:
                    raise self.error(f"unexpected token {following}", following)
                if BINARY[str(following.value)][0] < precedence:
                    break
                self.next()
                op, negate = str(following.value), True
            info = BINARY.get(op)
            if info is None or info[0] < precedence:
                break
            self.next()
            if op == "|":
                name = self.expect(IDENT)
                left = self.call(name, [left])
                previous = op
                continue
            if previous == "??" and op != "??":
                raise self.error(f"operator ({op}) and coalesce expressions (??) cannot be mixed; "
                                 "wrap either in parentheses", token)
            if info[0] == 20:
                left = self.comparison(left, op, token, negate)
            else:
                right = self.expression(info[0] if info[1] else info[0] + 1)
                left = Node("binary", token.offset, op, (left, right))
                if negate:
                    left = Node("unary", token.offset, "not", (left,))
            previous = op
        if precedence == 0:
            left = self.conditional(left)
        return left

    def comparison(self, left: Node, op: str, token: Token, negate: bool) -> Node:
        """``a < b < c`` is ``a < b && b < c`` (expr-lang chains comparisons)."""
        right = self.expression(21)
        node = Node("binary", token.offset, op, (left, right))
        if negate:
            node = Node("unary", token.offset, "not", (node,))
        while self.current.kind == OP and BINARY.get(str(self.current.value), (0, False))[0] == 20:
            nxt = self.current
            self.next()
            third = self.expression(21)
            node = Node("binary", nxt.offset, "&&", (node, Node("binary", nxt.offset, str(nxt.value), (right, third))))
            right = third
        return node

    def let(self) -> Node:
        self.next()
        name = self.expect(IDENT)
        self.expect(OP, "=")
        value = self.expression(0)
        self.expect(OP, ";")
        body = self.expression(0)
        return Node("let", name.offset, name.value, (value, body))

    def conditional(self, node: Node) -> Node:
        while self.current.is_(OP, "?"):
            token = self.current
            self.next()
            if self.current.is_(OP, ":"):  # a ?: b
                self.next()
                node = Node("cond", token.offset, None, (node, node, self.expression(0)))
                continue
            yes = self.expression(0)
            self.expect(OP, ":")
            no = self.expression(0)
            node = Node("cond", token.offset, None, (node, yes, no))
        return node

    def primary(self) -> Node:
        token = self.current
        if token.kind == OP and token.value in UNARY:
            self.next()
            operand = self.expression(UNARY[str(token.value)])
            return self.postfix(Node("unary", token.offset, token.value, (operand,)))
        if token.is_(BRACKET, "("):
            self.next()
            node = self.expression(0)
            self.expect(BRACKET, ")")
            return self.postfix(node)
        if token.is_(OP, "#") or token.is_(OP, "."):
            if self.depth == 0:
                raise self.error("cannot use pointer accessor outside a closure")
            name = ""
            if token.value == "#":
                self.next()
                if self.current.kind == IDENT:
                    name = str(self.current.value)
                    self.next()
                return self.postfix(Node("ptr", token.offset, name))
            return self.postfix(Node("ptr", token.offset, ""))  # `.name` is `#.name`: postfix reads it
        return self.secondary()

    def secondary(self) -> Node:
        token = self.current
        if token.kind == IDENT:
            self.next()
            if token.value in ("true", "false"):
                return self.postfix(Node("lit", token.offset, token.value == "true"))
            if token.value == "nil":
                return self.postfix(Node("lit", token.offset, None))
            if self.current.is_(BRACKET, "("):
                return self.postfix(self.call(token, []))
            return self.postfix(Node("ident", token.offset, token.value))
        if token.kind in (NUM, STR):
            self.next()
            return self.postfix(Node("lit", token.offset, token.value))
        if token.is_(BRACKET, "["):
            return self.postfix(self.array())
        if token.is_(BRACKET, "{"):
            return self.postfix(self.mapping())
        raise self.error(f"unexpected token {token}")

    def call(self, name: Token, args: list[Node]) -> Node:
        fn = str(name.value)
        if fn in PREDICATES:
            low, high = PREDICATES[fn]
            self.expect(BRACKET, "(")
            first = len(args)  # 1 after a pipe: the closure comes first
            while not self.current.is_(BRACKET, ")"):
                if len(args) > first:
                    self.expect(OP, ",")
                    if self.current.is_(BRACKET, ")"):
                        break
                args.append(self.predicate() if len(args) == 1 else self.expression(0))
            self.expect(BRACKET, ")")
            if not low <= len(args) <= high:
                raise self.error(f"{fn}() takes {low if low == high else f'{low} to {high}'} arguments, "
                                 f"got {len(args)}", name)
            return Node("builtin", name.offset, fn, tuple(args))
        args = self.arguments(args)
        return Node("call", name.offset, None, (Node("ident", name.offset, fn), *args))

    def arguments(self, args: list[Node]) -> list[Node]:
        first = len(args)
        self.expect(BRACKET, "(")
        while not self.current.is_(BRACKET, ")"):
            if len(args) > first:
                self.expect(OP, ",")
                if self.current.is_(BRACKET, ")"):
                    break
            args.append(self.expression(0))
        self.expect(BRACKET, ")")
        return args

    def predicate(self) -> Node:
        start = self.current
        braced = start.is_(BRACKET, "{")
        if braced:
            self.next()
        self.depth += 1
        body = self.expression(0)
        self.depth -= 1
        if braced:
            self.expect(BRACKET, "}")
        return Node("pred", start.offset, None, (body,))

    def array(self) -> Node:
        start = self.expect(BRACKET, "[")
        items: list[Node] = []
        while not self.current.is_(BRACKET, "]"):
            if items:
                self.expect(OP, ",")
                if self.current.is_(BRACKET, "]"):
                    break
            items.append(self.expression(0))
        self.expect(BRACKET, "]")
        return Node("array", start.offset, None, tuple(items))

    def mapping(self) -> Node:
        start = self.expect(BRACKET, "{")
        pairs: list[Node] = []
        while not self.current.is_(BRACKET, "}"):
            if pairs:
                self.expect(OP, ",")
                if self.current.is_(BRACKET, "}"):
                    break
            token = self.current
            if token.kind in (NUM, STR):
                key = Node("lit", token.offset, token.value if token.kind == STR else token.text)
                self.next()
            elif token.kind == IDENT or (token.kind == OP and str(token.value).isalpha()):
                key = Node("lit", token.offset, token.value)
                self.next()
            elif token.is_(BRACKET, "("):
                key = self.expression(0)
            else:
                raise self.error(f"a map key must be a quoted string, a number, an identifier or an expression in "
                                 f"parentheses (unexpected token {token})")
            self.expect(OP, ":")
            pairs += [key, self.expression(0)]
        self.expect(BRACKET, "}")
        return Node("map", start.offset, None, tuple(pairs))

    def postfix(self, node: Node) -> Node:
        chained = False
        while True:
            token = self.current
            if token.is_(OP, ".", "?."):
                optional = token.value == "?."
                self.next()
                if optional and self.current.is_(BRACKET, "["):
                    continue_token = self.current
                    self.next()
                    index = self.expression(0)
                    self.expect(BRACKET, "]")
                    node = Node("member", continue_token.offset, True, (node, index))
                    chained = True
                    continue
                prop = self.current
                if prop.kind != IDENT and not (prop.kind == OP and str(prop.value).isalpha()):
                    raise self.error(f"unexpected token {prop}: expected a name")
                self.next()
                member = Node("member", prop.offset, optional, (node, Node("lit", prop.offset, prop.value)))
                chained = chained or optional
                if self.current.is_(BRACKET, "("):
                    node = Node("call", prop.offset, None, (member, *self.arguments([])))
                else:
                    node = member
            elif token.is_(BRACKET, "["):
                self.next()
                if self.current.is_(OP, ":"):
                    self.next()
                    upper = EMPTY if self.current.is_(BRACKET, "]") else self.expression(0)
                    node = Node("slice", token.offset, None, (node, EMPTY, upper))
                else:
                    index = self.expression(0)
                    if self.current.is_(OP, ":"):
                        self.next()
                        upper = EMPTY if self.current.is_(BRACKET, "]") else self.expression(0)
                        node = Node("slice", token.offset, None, (node, index, upper))
                    else:
                        node = Node("member", token.offset, False, (node, index))
                self.expect(BRACKET, "]")
            else:
                break
        return Node("chain", node.offset, None, (node,)) if chained else node


MAX_TREE_DEPTH = 200  # the tree walks recurse: deeper trees (a sum of 500 terms) are refused


def parse(text: str) -> Node:
    """Parse an expression; raise :class:`ExpressionError` (with the offset) on a syntax error."""
    if not text.strip():
        raise ExpressionError("empty expression", 0)
    node = _Parser(tokenize(text)).parse()
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise ExpressionError(f"expression nested deeper than {MAX_TREE_DEPTH} levels", current.offset)
        stack.extend((child, depth + 1) for child in current.args)
    return node


# ------------------------------------------------------------------------------------- Go formatting


def go_string(value: Any) -> str:
    """A value as Go's ``fmt.Sprintf("%v", v)`` prints it (how a ``{{=…}}`` result is inserted)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, list):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{go_string(k)}:{go_string(value[k])}" for k in sorted(value, key=go_string)) + "]"
    if callable(value):
        return "<func>"
    return str(value)


def _json_float(f: float) -> str:
    if not math.isfinite(f):
        raise _Fail(f"json: unsupported value: {go_float(f)}")
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    if 1e-6 <= abs(f) < 1e21:
        text = format(Decimal(repr(f)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    text = repr(f)
    return re.sub(r"e-0(\d)$", r"e-\1", text)


def go_json(value: Any, *, indent: str | None = None, html: bool = True, level: int = 0) -> str:
    """``json.Marshal`` (``indent``: ``json.MarshalIndent``): sorted map keys, floats the Go way and, with
    ``html``, ``<``, ``>`` and ``&`` escaped as Go does by default."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        if html:
            text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if isinstance(value, list | dict):
        if isinstance(value, list):
            items = [go_json(v, indent=indent, html=html, level=level + 1) for v in value]
        else:
            items = [go_json(strval(k), html=html) + (": " if indent is not None else ":")
                     + go_json(value[k], indent=indent, html=html, level=level + 1) for k in sorted(value, key=strval)]
        open_, close = ("[", "]") if isinstance(value, list) else ("{", "}")
        if not items:
            return open_ + close
        if indent is None:
            return open_ + ",".join(items) + close
        inner, outer = "\n" + indent * (level + 1), "\n" + indent * level
        return open_ + inner + ("," + inner).join(items) + outer + close
    raise _Fail(f"json: unsupported type: {type_name(value)}")


def from_go_json(text: Any, what: str = "fromJSON") -> Any:
    """Go's ``json.Unmarshal`` into ``any``: numbers are floats."""
    if not isinstance(text, str):
        raise _Fail(f"{what}: expected a string, got {type_name(text)}")
    try:
        return json.loads(text, parse_int=float, parse_constant=_no_constant)
    except ValueError as exc:
        raise _Fail(f"{what}: invalid JSON: {exc}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}'")


def type_name(value: Any) -> str:
    """Go's name for the dynamic type of ``value`` (in messages)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "func"


# ------------------------------------------------------------------------------------------ evaluator


class _Fail(Exception):
    """An evaluation error without a position yet (builtins raise it; the call site adds the offset)."""


class _ChainNil(Exception):
    """``a?.b`` met nil: the whole chain is nil."""


@dataclass
class _Ctx:
    env: Mapping[str, Any]
    pointers: list[dict[str, Any]]
    lets: dict[str, Any]
    lenient: int = 0  # > 0 on the left of ``??``: a member of nil is nil
    missing: tuple[str, int] | None = None  # the first member that was not found (for the nil-result message)
    steps: int = 0


MAX_STEPS = 500_000  # evaluation budget (node visits), so a hostile expression ends


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _wrap(v: int) -> int:
    return (v - INT64_MIN) % 2**64 + INT64_MIN


def _mismatch(op: str, a: Any, b: Any) -> _Fail:
    return _Fail(f"invalid operation: {op} (mismatched types {type_name(a)} and {type_name(b)})")


def equal(a: Any, b: Any) -> bool:
    """expr-lang's ``==``: numbers by value across int and float, otherwise same type and deep equality."""
    if _is_num(a) and _is_num(b):
        return bool(a == b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_deep(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_deep(a[k], b[k]) for k in a)
    return bool(a == b)


def _deep(a: Any, b: Any) -> bool:  # reflect.DeepEqual: no int/float conversion inside containers
    return type(a) is type(b) and equal(a, b)


def _concat(a: Any, b: Any) -> Any:
    """``+`` on two strings or two arrays, bounded by :data:`MAX_SIZE`."""
    if len(a) + len(b) > MAX_SIZE:
        raise _Fail(f"result too large (more than {MAX_SIZE:,} elements or characters)")
    return a + b


def _arith(op: str, a: Any, b: Any) -> Any:
    if op == "+" and isinstance(a, str | list) and type(a) is type(b):
        return _concat(a, b)
    if not (_is_num(a) and _is_num(b)):
        raise _mismatch(op, a, b)
    if op == "/":
        x, y = float(a), float(b)
        if y == 0:
            return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x) * math.copysign(1, y)
        return x / y
    if op in ("**", "^"):
        try:
            return math.pow(float(a), float(b))
        except OverflowError:
            return math.inf
        except ValueError:
            return math.inf if a == 0 else math.nan
    if op == "%":
        if not (isinstance(a, int) and isinstance(b, int)):
            raise _mismatch(op, a, b)
        if b == 0:
            raise _Fail("integer divide by zero")
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    if isinstance(a, int) and isinstance(b, int):
        return _wrap(a + b if op == "+" else a - b if op == "-" else a * b)
    x, y = float(a), float(b)
    return x + y if op == "+" else x - y if op == "-" else x * y


def _order(op: str, a: Any, b: Any) -> bool:
    if not ((_is_num(a) and _is_num(b)) or (isinstance(a, str) and isinstance(b, str))):
        raise _mismatch(op, a, b)
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])


def _regex(pattern: Any) -> Any:
    """A compiled RE2 pattern (Go ``regexp`` syntax, linear time), via :func:`pipeline_ci.argo.when.compile_regexp`."""
    from .when import compile_regexp

    if not isinstance(pattern, str):
        raise _Fail(f"a regular expression must be a string, got {type_name(pattern)}")
    try:
        return compile_regexp(pattern)
    except ExprError as exc:
        raise _Fail(exc.message) from None


def regex_search(pattern: Any, text: Any) -> bool:
    if not isinstance(text, str):
        raise _Fail(f"matches needs a string on its left, got {type_name(text)}")
    return _regex(pattern).search(_utf8(text)) is not None


def _binary(op: str, a: Any, b: Any) -> Any:
    if op in ("==", "!="):
        return equal(a, b) == (op == "==")
    if op in ("<", "<=", ">", ">="):
        return _order(op, a, b)
    if op in ("+", "-", "*", "/", "%", "**", "^"):
        return _arith(op, a, b)
    if op == "in":
        if isinstance(b, list):
            return any(equal(a, x) for x in b)
        if isinstance(b, dict):
            return a in b if isinstance(a, str | int | float | bool) else False
        if b is None:
            return False
        raise _Fail(f"operator in not defined on {type_name(b)}")
    if op == "matches":
        return regex_search(b, a)
    if op in ("contains", "startsWith", "endsWith"):
        if not (isinstance(a, str) and isinstance(b, str)):
            raise _mismatch(op, a, b)
        return b in a if op == "contains" else a.startswith(b) if op == "startsWith" else a.endswith(b)
    if op == "..":
        if not (isinstance(a, int) and isinstance(b, int)) or isinstance(a, bool) or isinstance(b, bool):
            raise _mismatch(op, a, b)
        if b - a >= MAX_ITEMS:
            raise _Fail(f"range {a}..{b} is too large")
        return list(range(a, b + 1))
    raise _Fail(f"unknown operator {op}")  # pragma: no cover - the parser knows only the operators above


def _index(obj: Any, key: Any, ctx: _Ctx, node: Node) -> Any:
    if isinstance(obj, dict):
        if key in obj if isinstance(key, str | int | float | bool) else False:
            return obj[key]
        if ctx.missing is None and not ctx.lenient:
            ctx.missing = (str(key), node.offset)
        return None
    if isinstance(obj, list | str):
        if isinstance(key, str):
            raise _Fail(f"cannot fetch {key} from {type_name(obj)}")
        if not isinstance(key, int) or isinstance(key, bool):
            raise _Fail(f"cannot use {type_name(key)} as index to {type_name(obj)}")
        i = key + len(obj) if key < 0 else key
        if not 0 <= i < len(obj):
            raise _Fail(f"index out of range: {key} (array length is {len(obj)})")
        return obj[i]
    if obj is None:
        raise _Fail(f"cannot fetch {go_string(key)} from nil")
    raise _Fail(f"cannot fetch {go_string(key)} from {type_name(obj)}")


def _slice(obj: Any, low: Any, high: Any) -> Any:
    if not isinstance(obj, list | str):
        raise _Fail(f"cannot slice {type_name(obj)}")
    n = len(obj)
    bounds = []
    for value, default in ((low, 0), (high, n)):
        if value is None:
            bounds.append(default)
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Fail(f"slice bounds must be integers, got {type_name(value)}")
        value = value + n if value < 0 else value
        bounds.append(min(max(value, 0), n))
    return obj[bounds[0] : max(bounds)]


def _truth(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise _Fail(f"{what} needs a bool, got {type_name(value)} ({go_string(value)[:40]})")
    return value


class _Evaluator:
    def __init__(self, ctx: _Ctx) -> None:
        self.ctx = ctx

    def eval(self, node: Node) -> Any:
        ctx = self.ctx
        ctx.steps += 1
        if ctx.steps > MAX_STEPS:
            raise ExpressionError("expression is too expensive to evaluate", node.offset)
        try:
            return getattr(self, "e_" + node.kind)(node)
        except _Fail as exc:
            raise self.located(str(exc), node.offset) from None

    def located(self, message: str, offset: int) -> ExpressionError:
        """An error; one caused by a nil that came from a missing name points at that name."""
        if "nil" in message and self.ctx.missing is not None:
            key, where = self.ctx.missing
            return ExpressionError(f"{message} (nothing named '{key}' here)", where)
        return ExpressionError(message, offset)

    def e_lit(self, node: Node) -> Any:
        return node.value

    def e_empty(self, node: Node) -> Any:
        return None

    def e_ident(self, node: Node) -> Any:
        name = node.value
        if name in self.ctx.lets:
            return self.ctx.lets[name]
        if name in self.ctx.env:
            return self.ctx.env[name]
        raise ExpressionError(f"unknown name {name}", node.offset)

    def e_ptr(self, node: Node) -> Any:
        if not self.ctx.pointers:  # pragma: no cover - the parser refuses pointers outside closures
            raise ExpressionError("cannot use pointer accessor outside a closure", node.offset)
        frame = self.ctx.pointers[-1]
        name = node.value or "#"
        if name not in frame:
            raise ExpressionError(f"unknown pointer #{name}", node.offset)
        return frame[name]

    def e_array(self, node: Node) -> Any:
        return [self.eval(item) for item in node.args]

    def e_map(self, node: Node) -> Any:
        out: dict[Any, Any] = {}
        for key_node, value_node in zip(node.args[::2], node.args[1::2], strict=True):
            key = self.eval(key_node)
            if not isinstance(key, str | int | float | bool):
                raise ExpressionError(f"a map key cannot be {type_name(key)}", key_node.offset)
            out[key] = self.eval(value_node)
        return out

    def e_unary(self, node: Node) -> Any:
        value = self.eval(node.args[0])
        if node.value in ("!", "not"):
            return not _truth(value, f"operator {node.value}")
        if not _is_num(value):
            raise ExpressionError(f"invalid operation: {node.value}{type_name(value)}", node.offset)
        return (_wrap(-value) if isinstance(value, int) else -value) if node.value == "-" else value

    def e_binary(self, node: Node) -> Any:
        op = node.value
        left_node, right_node = node.args
        if op in ("&&", "and", "||", "or"):
            left = _truth(self.eval(left_node), f"operator {op}")
            if left == (op in ("||", "or")):
                return left
            return _truth(self.eval(right_node), f"operator {op}")
        if op == "??":
            self.ctx.lenient += 1
            try:
                left = self.eval(left_node)
            finally:
                self.ctx.lenient -= 1
            return left if left is not None else self.eval(right_node)
        left = self.eval(left_node)
        right = self.eval(right_node)
        return _binary(op, left, right)

    def e_cond(self, node: Node) -> Any:
        cond, yes, no = node.args
        return self.eval(yes) if _truth(self.eval(cond), "ternary operator") else self.eval(no)

    def e_member(self, node: Node) -> Any:
        obj = self.eval(node.args[0])
        key = self.eval(node.args[1])
        if obj is None and (node.value is True or self.ctx.lenient):
            if node.value is True:
                raise _ChainNil
            return None
        return _index(obj, key, self.ctx, node)

    def e_chain(self, node: Node) -> Any:
        try:
            return self.eval(node.args[0])
        except _ChainNil:
            return None

    def e_slice(self, node: Node) -> Any:
        obj, low, high = (self.eval(n) for n in node.args)
        return _slice(obj, low, high)

    def e_let(self, node: Node) -> Any:
        value = self.eval(node.args[0])
        saved = self.ctx.lets.get(node.value, _UNSET)
        self.ctx.lets[node.value] = value
        try:
            return self.eval(node.args[1])
        finally:
            if saved is _UNSET:
                del self.ctx.lets[node.value]
            else:
                self.ctx.lets[node.value] = saved

    def e_call(self, node: Node) -> Any:
        callee, *arg_nodes = node.args
        fn: Any
        if callee.kind == "ident":
            name = callee.value
            if name in self.ctx.lets or name in self.ctx.env:
                fn = self.ctx.lets[name] if name in self.ctx.lets else self.ctx.env[name]
            elif name in BUILTINS:
                fn = BUILTINS[name]
            else:
                hint = _suggest(name, [*BUILTINS, *ARGO_FUNCTIONS, *PREDICATES])
                raise ExpressionError(f"unknown function {name}(){hint}", callee.offset)
            label = name
        else:
            target = self.eval(callee.args[0])
            prop = self.eval(callee.args[1])
            label = f"{_label(callee.args[0])}.{prop}"
            if isinstance(target, _Namespace):
                fn = target.get(str(prop))
            elif isinstance(target, dict) and prop in target:
                fn = target[prop]
            else:
                raise ExpressionError(f"{label} is not a function ({type_name(target)} has no method {prop})",
                                      callee.offset)
        if not callable(fn):
            raise ExpressionError(f"{label} is not a function (it is a {type_name(fn)})", callee.offset)
        args = [self.eval(a) for a in arg_nodes]
        try:
            return fn(*args)
        except _Fail as exc:
            raise self.located(f"{label}(): {exc}", node.offset) from None
        except TypeError as exc:
            if "argument" in str(exc):
                raise ExpressionError(f"{label}(): wrong number of arguments ({len(args)})", node.offset) from None
            raise ExpressionError(f"{label}(): invalid arguments ({exc})", node.offset) from None
        except (ArithmeticError, ValueError, LookupError, AttributeError) as exc:
            raise self.located(f"{label}(): {exc}", node.offset) from None

    def e_builtin(self, node: Node) -> Any:
        name = node.value
        collection = self.eval(node.args[0])
        if name in ("count", "sum") and len(node.args) == 1:
            if not isinstance(collection, list):
                raise ExpressionError(f"{name}() needs an array, got {type_name(collection)}", node.offset)
            if name == "count":
                return sum(1 for x in collection if _truth(x, "count"))
            return _sum(collection)
        if isinstance(collection, dict) and name in ("all", "any", "none", "one", "filter", "map", "count"):
            collection = list(collection.values())  # expr ranges over a map's values
        if not isinstance(collection, list):
            raise ExpressionError(f"{name}() needs an array, got {type_name(collection)}", node.args[0].offset)
        body = node.args[1].args[0]
        extra = [self.eval(n) for n in node.args[2:]]

        def run(item: Any, index: int, acc: Any = None) -> Any:
            self.ctx.pointers.append({"#": item, "index": index, "acc": acc})
            try:
                return self.eval(body)
            finally:
                self.ctx.pointers.pop()

        def test(item: Any, index: int) -> bool:
            return _truth(run(item, index), f"{name}() closure")

        try:
            return _PREDICATE_FUNCS[name](collection, run, test, extra)
        except (_Fail, ArithmeticError, ValueError, LookupError, TypeError) as exc:
            raise ExpressionError(f"{name}(): {exc}", node.offset) from None

    def e_pred(self, node: Node) -> Any:  # pragma: no cover - predicates are run by e_builtin
        raise ExpressionError("a closure can only be an argument of a builtin such as filter()", node.offset)


_UNSET = object()


def _label(node: Node) -> str:
    if node.kind == "ident":
        return str(node.value)
    if node.kind == "member" and node.args[1].kind == "lit":
        return f"{_label(node.args[0])}.{node.args[1].value}"
    return "(value)"


def _sum(items: list[Any]) -> Any:
    total: Any = 0
    for x in items:
        if not _is_num(x):
            raise _Fail(f"sum() of {type_name(x)}")
        total = _arith("+", total, x)
    return total


def _sort_by(items: list, run: Callable, test: Callable, extra: list) -> list:
    order = extra[0] if extra else "asc"
    if order not in ("asc", "desc"):
        raise _Fail(f"unknown order {go_string(order)}, use asc or desc")
    keyed = [(run(x, i), x) for i, x in enumerate(items)]
    return [x for _, x in _sorted(keyed, order == "desc", key=lambda p: p[0])]


def _sorted(items: list, reverse: bool, key: Callable[[Any], Any] = lambda x: x) -> list:
    keys = [key(x) for x in items]
    if not (all(_is_num(k) for k in keys) or all(isinstance(k, str) for k in keys)):
        raise _Fail("sort needs numbers or strings")
    return sorted(items, key=key, reverse=reverse)


def _reduce(items: list, run: Callable, test: Callable, extra: list) -> Any:
    if not items and not extra:
        raise _Fail("reduce of empty array with no initial value")
    acc, start = (extra[0], 0) if extra else (items[0], 1)
    for i in range(start, len(items)):
        acc = run(items[i], i, acc)
    return acc


def _group_by(items: list, run: Callable, test: Callable, extra: list) -> dict:
    out: dict[Any, list] = {}
    for i, x in enumerate(items):
        key = run(x, i)
        if not isinstance(key, str | int | float | bool):
            raise _Fail(f"groupBy key cannot be {type_name(key)}")
        out.setdefault(key, []).append(x)
    return out


def _find(items: list, test: Callable, last: bool, index: bool) -> Any:
    order = range(len(items) - 1, -1, -1) if last else range(len(items))
    for i in order:
        if test(items[i], i):
            return i if index else items[i]
    return -1 if index else None


_PREDICATE_FUNCS: dict[str, Callable[[list, Callable, Callable, list], Any]] = {
    "all": lambda xs, run, test, extra: all(test(x, i) for i, x in enumerate(xs)),
    "any": lambda xs, run, test, extra: any(test(x, i) for i, x in enumerate(xs)),
    "none": lambda xs, run, test, extra: not any(test(x, i) for i, x in enumerate(xs)),
    "one": lambda xs, run, test, extra: sum(1 for i, x in enumerate(xs) if test(x, i)) == 1,
    "filter": lambda xs, run, test, extra: [x for i, x in enumerate(xs) if test(x, i)],
    "map": lambda xs, run, test, extra: [run(x, i) for i, x in enumerate(xs)],
    "count": lambda xs, run, test, extra: sum(1 for i, x in enumerate(xs) if test(x, i)),
    "sum": lambda xs, run, test, extra: _sum([run(x, i) for i, x in enumerate(xs)]),
    "find": lambda xs, run, test, extra: _find(xs, test, False, False),
    "findIndex": lambda xs, run, test, extra: _find(xs, test, False, True),
    "findLast": lambda xs, run, test, extra: _find(xs, test, True, False),
    "findLastIndex": lambda xs, run, test, extra: _find(xs, test, True, True),
    "groupBy": _group_by,
    "sortBy": _sort_by,
    "reduce": _reduce,
}


# ------------------------------------------------------------------------------------------- builtins

_GO_INT = re.compile(r"[+-]?[0-9]+")
_GO_FLOAT = re.compile(r"[+-]?(?:inf(?:inity)?|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)", re.I)


def _need(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float, (int, float))):
        names = {str: "a string", list: "an array", dict: "a map", int: "an int", bool: "a bool"}
        noun = names.get(kind, "a number") if isinstance(kind, type) else "a number"
        raise _Fail(f"{what} must be {noun}, got {type_name(value)}")
    return value


def to_int(value: Any) -> int:
    """expr's ``int()`` (Argo's ``asInt``): floats truncate, strings must be decimal integers."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Fail(f"invalid operation: int({type_name(value)})")
    if isinstance(value, str):
        if not _GO_INT.fullmatch(value):
            raise _Fail(f"invalid operation: int({value})")
        number = int(value)
        if not INT64_MIN <= number <= INT64_MAX:
            raise _Fail(f"invalid operation: int({value})")
        return number
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and INT64_MIN <= value <= INT64_MAX else INT64_MIN
    return value


def to_float(value: Any) -> float:
    """expr's ``float()`` (Argo's ``asFloat``): strings as Go's ``strconv.ParseFloat``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Fail(f"invalid operation: float({type_name(value)})")
    if isinstance(value, str):
        if not _GO_FLOAT.fullmatch(value):
            raise _Fail(f"invalid operation: float({value})")
        return float(value)
    return float(value)


def _len(value: Any) -> int:
    if isinstance(value, str):
        return len(_utf8(value))
    if isinstance(value, list | dict):
        return len(value)
    raise _Fail(f"invalid argument for len (type {type_name(value)})")


def _numbers(args: tuple, what: str) -> list:
    items: list = []
    for a in args:
        items += a if isinstance(a, list) else [a]
    if not items:
        raise _Fail(f"{what}() needs at least one number")
    for x in items:
        if not _is_num(x):
            raise _Fail(f"invalid argument for {what} (type {type_name(x)})")
    return items


def _round(value: Any) -> float:
    x = float(_need(value, (int, float), "round()"))
    return math.copysign(math.floor(abs(x) + 0.5), x) if math.isfinite(x) else x


def _trim(s: Any, cutset: Any = None) -> str:
    _need(s, str, "the string")
    return s.strip() if cutset is None else s.strip(_need(cutset, str, "the cutset"))


def _split(s: Any, sep: Any, n: Any = -1, after: bool = False) -> list:
    _need(s, str, "the string")
    _need(sep, str, "the separator")
    _need(n, int, "the count")
    if n == 0:
        return []
    if sep == "":
        parts = list(s)
        if n > 0 and len(parts) > n:
            parts = [*parts[: n - 1], "".join(parts[n - 1 :])]
        return parts
    parts = s.split(sep, n - 1 if n > 0 else -1)
    if after:
        parts = [p + sep for p in parts[:-1]] + parts[-1:]
    return parts


def _join(items: Any, sep: Any = "") -> str:
    _need(items, list, "join()'s first argument")
    _need(sep, str, "the separator")
    for x in items:
        _need(x, str, "every element")
    return str(sep).join(items)


def _get(obj: Any, key: Any) -> Any:
    try:
        if isinstance(obj, dict):
            return obj.get(key)
        if isinstance(obj, list | str) and isinstance(key, int) and not isinstance(key, bool):
            i = key + len(obj) if key < 0 else key
            return obj[i] if 0 <= i < len(obj) else None
    except TypeError:
        return None
    return None


def _flatten(items: Any) -> list:
    out: list = []
    for x in _need(items, list, "flatten()'s argument"):
        out += _flatten(x) if isinstance(x, list) else [x]
    return out


def _uniq(items: Any) -> list:
    out: list = []
    for x in _need(items, list, "uniq()'s argument"):
        if not any(_deep(x, y) for y in out):
            out.append(x)
    return out


def _expr_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "map"
    return {"float64": "float", "func": "func"}.get(type_name(value), type_name(value))


def _unsupported(name: str) -> Callable[..., Any]:
    def fail(*_: Any) -> Any:
        raise _Fail(f"{name} is not supported by pipeline-ci's local evaluator (it runs on the platform)")

    fail.unsupported = True  # type: ignore[attr-defined]  # read by local_gaps()
    return fail


def _median(args: tuple) -> float:
    items = sorted(_numbers(args, "median"))
    mid = len(items) // 2
    return float(items[mid]) if len(items) % 2 else (items[mid - 1] + items[mid]) / 2


BUILTINS: dict[str, Callable[..., Any]] = {
    "len": _len,
    "abs": lambda x: abs(_need(x, (int, float), "abs()'s argument")),
    "ceil": lambda x: float(math.ceil(_need(x, (int, float), "ceil()'s argument"))),
    "floor": lambda x: float(math.floor(_need(x, (int, float), "floor()'s argument"))),
    "round": _round,
    "int": to_int,
    "float": to_float,
    "string": go_string,
    "upper": lambda s: _need(s, str, "upper()'s argument").upper(),
    "lower": lambda s: _need(s, str, "lower()'s argument").lower(),
    "trim": _trim,
    "trimPrefix": lambda s, p=" ": _need(s, str, "the string").removeprefix(_need(p, str, "the prefix")),
    "trimSuffix": lambda s, p=" ": _need(s, str, "the string").removesuffix(_need(p, str, "the suffix")),
    "split": lambda s, sep, n=-1: _split(s, sep, n),
    "splitAfter": lambda s, sep, n=-1: _split(s, sep, n, after=True),
    "replace": lambda s, old, new: _need(s, str, "the string").replace(_need(old, str, "old"), _need(new, str, "new")),
    "repeat": lambda s, n: _need(s, str, "the string") * _limit(_need(n, int, "the count"), len(s)),
    "join": _join,
    "indexOf": lambda s, sub: _need(s, str, "the string").find(_need(sub, str, "the substring")),
    "lastIndexOf": lambda s, sub: _need(s, str, "the string").rfind(_need(sub, str, "the substring")),
    "hasPrefix": lambda s, p: _need(s, str, "the string").startswith(_need(p, str, "the prefix")),
    "hasSuffix": lambda s, p: _need(s, str, "the string").endswith(_need(p, str, "the suffix")),
    "max": lambda *a: max(_numbers(a, "max")),
    "min": lambda *a: min(_numbers(a, "min")),
    "mean": lambda *a: float(sum(_numbers(a, "mean"))) / len(_numbers(a, "mean")),
    "median": lambda *a: _median(a),
    "first": lambda xs: _get(_need(xs, list, "first()'s argument"), 0),
    "last": lambda xs: _get(_need(xs, list, "last()'s argument"), -1),
    "get": _get,
    "keys": lambda m: list(_need(m, dict, "keys()'s argument")),
    "values": lambda m: list(_need(m, dict, "values()'s argument").values()),
    "toPairs": lambda m: [[k, v] for k, v in _need(m, dict, "toPairs()'s argument").items()],
    "fromPairs": lambda xs: {p[0]: p[1] for p in _need(xs, list, "fromPairs()'s argument")
                             if isinstance(p, list) and len(p) == 2},
    "sort": lambda xs, order="asc": _sorted(list(_need(xs, list, "sort()'s argument")), order == "desc"),
    "reverse": lambda xs: list(reversed(_need(xs, list, "reverse()'s argument"))),
    "uniq": _uniq,
    "concat": lambda *xs: [x for part in xs for x in _need(part, list, "every argument of concat()")],
    "flatten": _flatten,
    "take": lambda xs, n: _need(xs, list, "take()'s argument")[: max(0, _need(n, int, "the count"))],
    "toJSON": lambda v: go_json(v, indent="  "),
    "fromJSON": lambda s: from_go_json(s),
    "toBase64": lambda s: base64.b64encode(_utf8(_need(s, str, "toBase64()'s argument"))).decode("ascii"),
    "fromBase64": lambda s: _b64decode(s, strict=True),
    "type": _expr_type,
    "bitand": lambda a, b: _need(a, int, "the first argument") & _need(b, int, "the second argument"),
    "bitor": lambda a, b: _need(a, int, "the first argument") | _need(b, int, "the second argument"),
    "bitxor": lambda a, b: _need(a, int, "the first argument") ^ _need(b, int, "the second argument"),
    "bitnand": lambda a, b: _need(a, int, "the first argument") & ~_need(b, int, "the second argument"),
    "bitnot": lambda a: ~_need(a, int, "the argument"),
    "bitshl": lambda a, b: _wrap(_need(a, int, "the first argument") << min(_need(b, int, "the shift"), 64)),
    "bitshr": lambda a, b: _need(a, int, "the first argument") >> min(_need(b, int, "the shift"), 64),
    "bitushr": lambda a, b: _wrap((_need(a, int, "the first argument") % 2**64) >> min(_need(b, int, "the shift"), 64)),
    "now": _unsupported("now()"),
    "duration": _unsupported("duration()"),
    "date": _unsupported("date()"),
    "timezone": _unsupported("timezone()"),
}


def _limit(count: int, size: int) -> int:
    if count < 0:
        raise _Fail("negative repeat count")
    if count * max(size, 1) > MAX_SIZE:
        raise _Fail("result too large")
    return count


def _b64decode(s: Any, strict: bool) -> str:
    _need(s, str, "the string")
    try:
        return base64.b64decode(s, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError) as exc:
        if strict:
            raise _Fail(f"illegal base64 data: {exc}") from None
        return str(exc)


# --------------------------------------------------------------------------------------- Argo helpers


_JP_NAME = re.compile(r"[^.\[\]\s]+")
_JP_KEY = r"(?:'[^']*'|\"[^\"]*\"|-?[0-9]+)"
_JP_KEYS = re.compile(rf"\[\s*({_JP_KEY}(?:\s*,\s*{_JP_KEY})*)\s*\]")
_JP_SLICE = re.compile(r"\[\s*(-?[0-9]*)\s*:\s*(-?[0-9]*)\s*(?::\s*(-?[0-9]*)\s*)?\]")
_JP_SUPPORTED = "supported: $, .key, ..key, ['key'], [n], [a,b], [start:end:step], [*], .*"


def _descendants(value: Any) -> list:
    out, stack = [], [value]
    while stack:
        current = stack.pop()
        out.append(current)
        children = list(current.values()) if isinstance(current, dict) else current if isinstance(current, list) else []
        stack.extend(reversed(children))
    return out


def _children(value: Any) -> list:
    return list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, list) else []


def jsonpath(document: Any, path: Any) -> Any:
    """Argo's ``jsonpath(json, path)`` on a JSON string, for a JSONPath subset: ``$``, ``.key``, ``..key``
    (recursive), ``['key']``, ``[n]`` (negative from the end), unions ``[0,2]`` / ``['a','b']``, slices
    ``[start:end:step]`` and wildcards ``[*]`` / ``.*``. A path with a wildcard, union, slice or ``..`` gives a
    list; filters (``[?(...)]``) and scripts are refused with a clear message."""
    data = from_go_json(document, "the JSON document") if isinstance(document, str) else document
    text = _need(path, str, "the JSONPath").strip()
    if not text.startswith("$"):
        raise _Fail(f"{text!r} must start with '$'")
    current, multi, i = [data], False, 1
    while i < len(text):
        deep = text.startswith("..", i)
        if deep:
            current, multi, i = [d for v in current for d in _descendants(v)], True, i + 2
        elif text[i] == ".":
            i += 1
        elif text[i] != "[":
            raise _Fail(f"unexpected {text[i]!r} at character {i + 1} of {text!r} ({_JP_SUPPORTED})")
        if text.startswith("*", i) or text.startswith("[*]", i):
            i += 1 if text[i] == "*" else 3
            current, multi = [c for v in current for c in _children(v)], True
            continue
        keys: list[str | int]
        if i < len(text) and text[i] == "[":
            if (sliced := _JP_SLICE.match(text, i)) is not None:
                bounds = [int(g) if g else None for g in sliced.groups()]
                if bounds[2] == 0:
                    raise _Fail(f"a slice step cannot be 0 in {text!r}")
                current = [x for v in current if isinstance(v, list) for x in v[slice(*bounds)]]
                multi, i = True, sliced.end()
                continue
            found = _JP_KEYS.match(text, i)
            if found is None:
                raise _Fail(f"unsupported or invalid selector at character {i + 1} of {text!r} "
                            f"({_JP_SUPPORTED})")
            keys = [k[1:-1] if k[0] in "'\"" else int(k) for k in re.findall(_JP_KEY, found.group(1))]
            multi, i = multi or len(keys) > 1, found.end()
        else:
            name = _JP_NAME.match(text, i)
            if name is None:
                raise _Fail(f"a name is missing at character {i + 1} of {text!r}")
            keys, i = [name.group(0)], name.end()
        nxt: list = []
        for v in current:
            for key in keys:
                if isinstance(key, str) and isinstance(v, dict) and key in v:
                    nxt.append(v[key])
                elif isinstance(key, int) and isinstance(v, list) and -len(v) <= key < len(v):
                    nxt.append(v[key])
                elif not multi:
                    raise _Fail(f"{go_string(key)} not found in {text!r}")
        current = nxt
    return current if multi else current[0]


class _Namespace(dict):
    """``sprig``: a map of functions; a known but unimplemented name fails when called."""

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self:
            return self[key]
        if key in SPRIG_NAMES:
            return _unsupported(f"sprig.{key}")
        raise _Fail(f"sprig.{key} is not a Sprig function (Argo removes env and expandenv)"
                    if key in ("env", "expandenv") else f"sprig.{key} is not a Sprig function")


# ---------------------------------------------------------------------------------------------- sprig


def strval(value: Any) -> str:
    """Sprig's ``strval`` / ``toString``."""
    return value if isinstance(value, str) else go_string(value)


def to_int64(value: Any) -> int:
    """Sprig's ``toInt64`` (``cast.ToInt64``): a bad value is 0, strings as Go's ``ParseInt(s, 0, 0)``."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and INT64_MIN <= value <= INT64_MAX else INT64_MIN
    if isinstance(value, str):
        text = re.sub(r"\.0+$", "", value)  # cast's trimZeroDecimal
        if text != text.strip():
            return 0
        try:
            number = int(text.replace("_", ""), 8) if re.fullmatch(r"[+-]?0[0-7_]+", text) else int(text, 0)
        except ValueError:
            return 0
        return number if INT64_MIN <= number <= INT64_MAX else 0
    return 0


def to_float64(value: Any) -> float:
    """``cast.ToFloat64``: a bad value is 0."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return to_float(value)
        except _Fail:
            return 0.0
    return 0.0


def empty(value: Any) -> bool:
    """Sprig's ``empty``: nil, false, 0, "" and empty collections."""
    if value is None:
        return True
    if isinstance(value, str | list | dict):
        return len(value) == 0
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value == 0
    return False


def _div(a: Any, b: Any) -> int:
    x, y = to_int64(a), to_int64(b)
    if y == 0:
        raise _Fail("runtime error: integer divide by zero")
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y >= 0) else -q


def _mod(a: Any, b: Any) -> int:
    x, y = to_int64(a), to_int64(b)
    if y == 0:
        raise _Fail("runtime error: integer divide by zero")
    r = abs(x) % abs(y)
    return -r if x < 0 else r


def _dict(*args: Any) -> dict:
    out: dict[str, Any] = {}
    for i in range(0, len(args), 2):
        out[strval(args[i])] = args[i + 1] if i + 1 < len(args) else ""
    return out


def _slice_of(value: Any, what: str) -> list:
    if isinstance(value, list):
        return value
    raise _Fail(f"cannot {what} on type {type_name(value)}")


def _strings(value: Any) -> list[str]:
    if isinstance(value, list):
        return [strval(v) for v in value if v is not None]
    return [] if value is None else [strval(value)]


def _trunc(count: Any, s: Any) -> str:
    n, text = to_int64(count), _need(s, str, "the string")
    if n < 0 and len(text) + n > 0:
        return text[len(text) + n :]
    if n >= 0 and len(text) > n:
        return text[:n]
    return text


def _substr(start: Any, end: Any, s: Any) -> str:
    a, b, text = to_int64(start), to_int64(end), _need(s, str, "the string")
    if a < 0:
        return text[:b]
    if b < 0 or b > len(text):
        return text[a:]
    return text[a:b]


def _go_expand(template: str, match: Any) -> bytes:
    """Go's ``Regexp.Expand``: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``; unknown groups are empty."""
    out = bytearray()
    i, raw = 0, _utf8(template)
    while i < len(raw):
        c = raw[i : i + 1]
        if c != b"$" or i + 1 >= len(raw):
            out += c
            i += 1
            continue
        if raw[i + 1 : i + 2] == b"$":
            out += b"$"
            i += 2
            continue
        m = re.compile(rb"\{(\w+)\}|(\w+)").match(raw, i + 1)
        if not m:
            out += b"$"
            i += 1
            continue
        name = m.group(1) or m.group(2)
        i = m.end()
        try:
            group = match.group(int(name)) if name.isdigit() else match.group(name)
        except (IndexError, KeyError, ValueError):
            group = None
        out += group or b""
    return bytes(out)


def _regex_replace(pattern: Any, s: Any, repl: Any, literal: bool = False) -> str:
    regex = _regex(pattern)
    text, replacement = _utf8(_need(s, str, "the string")), _need(repl, str, "the replacement")
    out, last = bytearray(), 0
    for m in regex.finditer(text):
        out += text[last : m.start()] + (_utf8(replacement) if literal else _go_expand(replacement, m))
        last = m.end()
    out += text[last:]
    return out.decode("utf-8", "replace")


def _regex_find_all(pattern: Any, s: Any, n: Any = -1) -> list[str]:
    found = [m.group(0).decode("utf-8", "replace") for m in _regex(pattern).finditer(_utf8(_need(s, str, "the string")))]
    count = to_int64(n)
    return found if count < 0 else found[:count]


def _regex_split(pattern: Any, s: Any, n: Any = -1) -> list[str]:
    text, count = _utf8(_need(s, str, "the string")), to_int64(n)
    if count == 0:
        return []
    parts: list[bytes] = []
    last = 0
    for m in _regex(pattern).finditer(text):
        if count > 0 and len(parts) == count - 1:
            break
        if m.end() == 0 and m.start() == 0:
            continue
        parts.append(text[last : m.start()])
        last = m.end()
    parts.append(text[last:])
    return [p.decode("utf-8", "replace") for p in parts]


def _regex_match(pattern: Any, s: Any, must: bool = False) -> bool:
    try:
        return regex_search(pattern, strval(s))
    except _Fail:
        if must:
            raise
        return False


_GO_LAYOUT = [("2006", "%Y"), ("January", "%B"), ("Jan", "%b"), ("Monday", "%A"), ("Mon", "%a"), ("MST", "%Z"),
              ("-0700", "%z"), ("01", "%m"), ("02", "%d"), ("15", "%H"), ("03", "%I"), ("04", "%M"), ("05", "%S"),
              ("06", "%y"), ("PM", "%p"), ("_2", "%e")]


def _date(layout: Any, when: Any = None) -> str:
    """Sprig's ``date``: ints are Unix seconds; anything else (a string too) is the current time, as in Sprig."""
    fmt, i = "", 0
    text = _need(layout, str, "the layout")
    while i < len(text):
        for go, py in _GO_LAYOUT:
            if text.startswith(go, i):
                fmt, i = fmt + py, i + len(go)
                break
        else:
            fmt, i = fmt + text[i].replace("%", "%%"), i + 1
    seconds = float(when) if _is_num(when) else time.time()
    return time.strftime(fmt, time.localtime(seconds))


def _title(s: Any) -> str:
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), _need(s, str, "the string"))


def _ternary(yes: Any, no: Any, cond: Any) -> Any:
    return yes if _need(cond, bool, "the condition") else no


def _pluck(name: Any, *dicts: Any) -> list:
    return [d[name] for d in dicts if isinstance(d, dict) and name in d]


def _has_key(d: Any, key: Any) -> bool:
    return key in _need(d, dict, "the map")


def _set(d: Any, key: Any, value: Any) -> dict:
    _need(d, dict, "the map")[strval(key)] = value
    return d


def _unset(d: Any, key: Any) -> dict:
    _need(d, dict, "the map").pop(strval(key), None)
    return d


def _sprig_first(xs: Any) -> Any:
    items = _slice_of(xs, "find first")
    return items[0] if items else None


def _sprig_last(xs: Any) -> Any:
    items = _slice_of(xs, "find last")
    return items[-1] if items else None


def _until_step(start: Any, stop: Any, step: Any) -> list[int]:
    a, b, s = to_int64(start), to_int64(stop), to_int64(step)
    if s == 0 or (b - a) // s > MAX_ITEMS:
        return [] if s == 0 else _fail_large()
    return list(range(a, b, s))


def _fail_large() -> list:
    raise _Fail("result too large")


def _merge(dst: Any, *sources: Any) -> dict:
    _need(dst, dict, "the destination")
    for src in sources:
        for k, v in _need(src, dict, "every source").items():
            if k not in dst or empty(dst[k]):
                dst[k] = v
            elif isinstance(dst[k], dict) and isinstance(v, dict):
                _merge(dst[k], v)
    return dst


def _json_or_empty(value: Any, **kw: Any) -> str:
    try:
        return go_json(value, **kw)
    except _Fail:
        return ""


def _sprig_from_json(text: Any) -> Any:
    try:
        return from_go_json(text, "fromJson")
    except _Fail:
        return None


def _b32decode(s: Any) -> str:
    try:
        return base64.b32decode(_need(s, str, "the string")).decode("utf-8", "replace")
    except (binascii.Error, ValueError) as exc:
        return str(exc)


def _adler32(s: Any) -> str:
    import zlib

    return str(zlib.adler32(_utf8(_need(s, str, "the string"))))


SPRIG: dict[str, Callable[..., Any]] = {
    # strings
    "trim": lambda s: _need(s, str, "the string").strip(),
    "trimAll": lambda cut, s: _need(s, str, "the string").strip(_need(cut, str, "the cutset")),
    "trimall": lambda cut, s: _need(s, str, "the string").strip(_need(cut, str, "the cutset")),
    "trimPrefix": lambda p, s: _need(s, str, "the string").removeprefix(_need(p, str, "the prefix")),
    "trimSuffix": lambda p, s: _need(s, str, "the string").removesuffix(_need(p, str, "the suffix")),
    "upper": lambda s: _need(s, str, "the string").upper(),
    "lower": lambda s: _need(s, str, "the string").lower(),
    "title": _title,
    "replace": lambda old, new, s: _need(s, str, "the string").replace(_need(old, str, "old"), _need(new, str, "new")),
    "repeat": lambda n, s: _need(s, str, "the string") * _limit(to_int64(n), len(s)),
    "substr": _substr,
    "trunc": _trunc,
    "nospace": lambda s: re.sub(r"\s", "", _need(s, str, "the string")),
    "contains": lambda sub, s: _need(sub, str, "the substring") in _need(s, str, "the string"),
    "hasPrefix": lambda p, s: _need(s, str, "the string").startswith(_need(p, str, "the prefix")),
    "hasSuffix": lambda p, s: _need(s, str, "the string").endswith(_need(p, str, "the suffix")),
    "quote": lambda *xs: " ".join(go_json(strval(x), html=False) for x in xs if x is not None),
    "squote": lambda *xs: " ".join(f"'{strval(x)}'" for x in xs if x is not None),
    "cat": lambda *xs: " ".join(strval(x) for x in xs if x is not None),
    "indent": lambda n, s: " " * to_int64(n) + _need(s, str, "the string").replace("\n", "\n" + " " * to_int64(n)),
    "nindent": lambda n, s: "\n" + " " * to_int64(n) + _need(s, str, "the string").replace("\n", "\n" + " " * to_int64(n)),
    "toString": strval,
    "toStrings": lambda xs: [strval(x) for x in (xs if isinstance(xs, list) else [xs])],
    "split": lambda sep, s: {f"_{i}": p for i, p in enumerate(_split(s, sep))},
    "splitList": lambda sep, s: _split(s, sep),
    "splitn": lambda sep, n, s: {f"_{i}": p for i, p in enumerate(_split(s, sep, to_int64(n)))},
    "join": lambda sep, xs: _need(sep, str, "the separator").join(_strings(xs)),
    "sortAlpha": lambda xs: sorted(_strings(xs)),
    # numbers
    "atoi": lambda s: to_int(s) if isinstance(s, str) and _GO_INT.fullmatch(s) else 0,
    "int": to_int64,
    "int64": to_int64,
    "float64": to_float64,
    "toDecimal": lambda s: int(s, 8) if isinstance(s, str) and re.fullmatch(r"[0-7]+", s) else 0,
    "add1": lambda x: _wrap(to_int64(x) + 1),
    "add": lambda *xs: _wrap(sum(to_int64(x) for x in xs)),
    "sub": lambda a, b: _wrap(to_int64(a) - to_int64(b)),
    "mul": lambda a, *xs: _wrap(math.prod([to_int64(a), *(to_int64(x) for x in xs)])),
    "div": _div,
    "mod": _mod,
    "max": lambda a, *xs: max([to_int64(a), *(to_int64(x) for x in xs)]),
    "biggest": lambda a, *xs: max([to_int64(a), *(to_int64(x) for x in xs)]),
    "min": lambda a, *xs: min([to_int64(a), *(to_int64(x) for x in xs)]),
    "add1f": lambda x: to_float64(x) + 1,
    "addf": lambda *xs: math.fsum(to_float64(x) for x in xs),
    "subf": lambda a, *xs: to_float64(a) - math.fsum(to_float64(x) for x in xs),
    "mulf": lambda a, *xs: math.prod([to_float64(a), *(to_float64(x) for x in xs)]),
    "divf": lambda a, *xs: _divf(a, xs),
    "maxf": lambda a, *xs: max([to_float64(a), *(to_float64(x) for x in xs)]),
    "minf": lambda a, *xs: min([to_float64(a), *(to_float64(x) for x in xs)]),
    "floor": lambda x: float(math.floor(to_float64(x))),
    "ceil": lambda x: float(math.ceil(to_float64(x))),
    "round": lambda x, p, *r: _sprig_round(x, p, r),
    "until": lambda n: _until_step(0, n, 1 if to_int64(n) >= 0 else -1),
    "untilStep": _until_step,
    "seq": _unsupported("sprig.seq"),
    # defaults and logic
    "default": lambda d, *given: d if not given or empty(given[0]) else given[0],
    "empty": empty,
    "coalesce": lambda *xs: next((x for x in xs if not empty(x)), None),
    "all": lambda *xs: all(not empty(x) for x in xs),
    "any": lambda *xs: any(not empty(x) for x in xs),
    "compact": lambda xs: [x for x in _slice_of(xs, "compact") if not empty(x)],
    "ternary": _ternary,
    "fail": lambda msg: (_ for _ in ()).throw(_Fail(strval(msg))),
    "deepEqual": _deep,
    "typeOf": type_name,
    "kindOf": lambda v: {"[]interface {}": "slice", "map[string]interface {}": "map", "nil": "invalid",
                         "func": "func"}.get(type_name(v), type_name(v)),
    "typeIs": lambda t, v: type_name(v) == t,
    # JSON
    "toJson": lambda v: _json_or_empty(v),
    "mustToJson": lambda v: go_json(v),
    "toPrettyJson": lambda v: _json_or_empty(v, indent="  "),
    "mustToPrettyJson": lambda v: go_json(v, indent="  "),
    "toRawJson": lambda v: _json_or_empty(v, html=False),
    "mustToRawJson": lambda v: go_json(v, html=False),
    "fromJson": _sprig_from_json,
    "mustFromJson": lambda s: from_go_json(s, "mustFromJson"),
    # paths and encodings
    "base": lambda p: posixpath.basename(_need(p, str, "the path").rstrip("/")) or ("/" if p.startswith("/") else "."),
    "dir": lambda p: posixpath.dirname(_need(p, str, "the path").rstrip("/") or "/") or ".",
    "clean": lambda p: posixpath.normpath(_need(p, str, "the path")) if p else ".",
    "ext": lambda p: posixpath.splitext(_need(p, str, "the path"))[1],
    "isAbs": lambda p: _need(p, str, "the path").startswith("/"),
    "b64enc": lambda s: base64.b64encode(_utf8(strval(s))).decode("ascii"),
    "b64dec": lambda s: _b64decode(s, strict=False),
    "b32enc": lambda s: base64.b32encode(_utf8(strval(s))).decode("ascii"),
    "b32dec": _b32decode,
    "sha1sum": lambda s: hashlib.sha1(_utf8(_need(s, str, "the string"))).hexdigest(),  # noqa: S324 - Sprig's sha1sum
    "sha256sum": lambda s: hashlib.sha256(_utf8(_need(s, str, "the string"))).hexdigest(),
    "adler32sum": _adler32,
    "uuidv4": lambda: str(uuid.uuid4()),
    "date": _date,
    # lists and dicts
    "list": lambda *xs: list(xs),
    "tuple": lambda *xs: list(xs),
    "dict": _dict,
    "get": lambda d, k: _need(d, dict, "the map").get(k, ""),
    "set": _set,
    "unset": _unset,
    "hasKey": _has_key,
    "pluck": _pluck,
    "keys": lambda *ds: [k for d in ds for k in _need(d, dict, "every argument")],
    "values": lambda d: list(_need(d, dict, "the map").values()),
    "pick": lambda d, *ks: {k: v for k, v in _need(d, dict, "the map").items() if k in ks},
    "omit": lambda d, *ks: {k: v for k, v in _need(d, dict, "the map").items() if k not in ks},
    "merge": _merge,
    "append": lambda xs, v: [*_slice_of(xs, "push"), v],
    "push": lambda xs, v: [*_slice_of(xs, "push"), v],
    "prepend": lambda xs, v: [v, *_slice_of(xs, "prepend")],
    "first": _sprig_first,
    "last": _sprig_last,
    "rest": lambda xs: _slice_of(xs, "find rest")[1:],
    "initial": lambda xs: _slice_of(xs, "find initial")[:-1],
    "reverse": lambda xs: list(reversed(_slice_of(xs, "reverse"))),
    "uniq": _uniq,
    "without": lambda xs, *omit: [x for x in _slice_of(xs, "find without") if not any(_deep(x, o) for o in omit)],
    "has": lambda needle, xs: any(_deep(needle, x) for x in _slice_of(xs, "find has")),
    "concat": lambda *xs: [x for part in xs for x in _slice_of(part, "concat")],
    # regular expressions (RE2)
    "regexMatch": lambda r, s: _regex_match(r, s),
    "mustRegexMatch": lambda r, s: _regex_match(r, s, must=True),
    "regexFind": lambda r, s: next(iter(_regex_find_all(r, s, 1)), ""),
    "regexFindAll": _regex_find_all,
    "regexReplaceAll": lambda r, s, repl: _regex_replace(r, s, repl),
    "regexReplaceAllLiteral": lambda r, s, repl: _regex_replace(r, s, repl, literal=True),
    "regexSplit": _regex_split,
    "regexQuoteMeta": lambda s: re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", _need(s, str, "the string")),
}


def _divf(a: Any, xs: tuple) -> float:
    result = to_float64(a)
    for x in xs:
        y = to_float64(x)
        result = _arith("/", result, y)
    return result


def _sprig_round(x: Any, places: Any, rounding: tuple) -> float:
    half = to_float64(rounding[0]) if rounding else 0.5
    scale = 10 ** to_int64(places)
    value = to_float64(x) * scale
    digit, frac = divmod(abs(value), 1)
    result = digit + 1 if frac >= half else digit
    return math.copysign(result, value) / scale


# Every function of Sprig's GenericFuncMap (Masterminds/sprig v3 functions.go); Argo deletes env and expandenv.
def _words(s: Any) -> list[str]:
    """Words of a string for Sprig's case helpers: split at non-alphanumerics and lower-to-upper changes."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", _need(s, str, "the string"))
    return [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]


def _chunk(size: Any, xs: Any) -> list:
    n, items = to_int64(size), _slice_of(xs, "chunk")
    if n <= 0:
        raise _Fail("chunk size must be positive")
    return [items[i : i + n] for i in range(0, len(items), n)]


def _dig(*args: Any) -> Any:
    if len(args) < 3:
        raise _Fail("dig needs keys, a default and a map")
    *keys, default, data = args
    node = _need(data, dict, "the map")
    for key in keys:
        if not isinstance(node, dict) or strval(key) not in node:
            return default
        node = node[strval(key)]
    return node


def _merge_overwrite(dst: Any, *sources: Any) -> dict:
    _need(dst, dict, "the destination")
    for src in sources:
        for k, v in _need(src, dict, "every source").items():
            if isinstance(dst.get(k), dict) and isinstance(v, dict):
                _merge_overwrite(dst[k], v)
            else:
                dst[k] = v
    return dst


def _random_string(alphabet: str) -> Callable[[Any], str]:
    return lambda n: "".join(secrets.choice(alphabet) for _ in range(_limit(to_int64(n), 1)))


def _wrap_text(width: Any, s: Any, sep: str = "\n") -> str:
    import textwrap

    return sep.join(textwrap.wrap(_need(s, str, "the string"), max(1, to_int64(width)), break_long_words=False))


def _abbrev(width: Any, s: Any) -> str:
    n, text = to_int64(width), _need(s, str, "the string")
    return text if n < 4 or len(text) <= n else text[: n - 3] + "..."


def _semver(version: Any) -> tuple[int, ...]:
    match = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?", strval(version).strip())
    if not match:
        raise _Fail(f"invalid semantic version {strval(version)!r}")
    return tuple(int(g or 0) for g in match.groups())


def _semver_compare(constraint: Any, version: Any) -> bool:
    """Sprig's ``semverCompare`` for comma-separated ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=`` constraints
    (``~``, ``^``, ranges and wildcards fail clearly)."""
    have = _semver(version)
    for part in strval(constraint).split(","):
        match = re.fullmatch(r"\s*(=|!=|>=|<=|>|<)?\s*(\S+)\s*", part)
        if not match or any(c in match.group(2) for c in "~^*xX|"):
            raise _Fail(f"semverCompare constraint {part.strip()!r} is not supported locally (use =, !=, <, <=, >, >=)")
        op, want = match.group(1) or "=", _semver(match.group(2))
        ok = {"=": have == want, "!=": have != want, ">": have > want, ">=": have >= want, "<": have < want,
              "<=": have <= want}[op]
        if not ok:
            return False
    return True


SPRIG.update({
    "snakecase": lambda s: "_".join(w.lower() for w in _words(s)),
    "kebabcase": lambda s: "-".join(w.lower() for w in _words(s)),
    "camelcase": lambda s: "".join(w[:1].upper() + w[1:] for w in _words(s)),
    "swapcase": lambda s: _need(s, str, "the string").swapcase(),
    "untitle": lambda s: re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).lower(), _need(s, str, "the string")),
    "initials": lambda s: "".join(w[0] for w in _need(s, str, "the string").split()),
    "abbrev": _abbrev,
    "wrap": lambda n, s: _wrap_text(n, s),
    "wrapWith": lambda n, sep, s: _wrap_text(n, s, _need(sep, str, "the separator")),
    "plural": lambda one, many, count: one if to_int64(count) == 1 else many,
    "randAlphaNum": _random_string("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
    "randAlpha": _random_string("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "randNumeric": _random_string("0123456789"),
    "randAscii": _random_string("".join(chr(c) for c in range(32, 127))),
    "deepCopy": lambda v: json.loads(json.dumps(v)),
    "mustDeepCopy": lambda v: json.loads(json.dumps(v)),
    "mergeOverwrite": _merge_overwrite,
    "mustMergeOverwrite": _merge_overwrite,
    "slice": lambda xs, *ix: _slice_of(xs, "slice")[slice(*(to_int64(i) for i in ix[:2])) if len(ix) > 1
                                                    else slice(to_int64(ix[0]) if ix else 0, None)],
    "hello": lambda: "Hello!",
    "randInt": lambda low, high: secrets.SystemRandom().randrange(to_int64(low), to_int64(high)),
    "shuffle": lambda s: "".join(secrets.SystemRandom().sample(_need(s, str, "the string"), len(s))),
    "chunk": _chunk,
    "dig": _dig,
    "osBase": lambda p: SPRIG["base"](p),
    "osDir": lambda p: SPRIG["dir"](p),
    "osClean": lambda p: SPRIG["clean"](p),
    "osExt": lambda p: SPRIG["ext"](p),
    "osIsAbs": lambda p: SPRIG["isAbs"](p),
    "semverCompare": _semver_compare,
    "typeIsLike": lambda t, v: type_name(v) == str(t).lstrip("*"),
})
for _name in ("Compact", "Append", "Push", "Prepend", "First", "Rest", "Last", "Initial", "Reverse", "Uniq", "Without",
              "Has", "Merge", "Slice", "Chunk", "RegexFindAll", "RegexFind", "RegexReplaceAll", "RegexReplaceAllLiteral",
              "RegexSplit"):
    _plain = _name[0].lower() + _name[1:]
    SPRIG.setdefault("must" + _name, SPRIG[_plain])


_OTHER_SPRIG = """
hello ago date_in_zone date_modify dateInZone dateModify duration durationRound htmlDate htmlDateInZone
must_date_modify mustDateModify mustToDate now toDate unixEpoch abbrev abbrevboth untitle initials randAlphaNum
randAlpha randAscii randNumeric swapcase shuffle snakecase camelcase kebabcase wrap wrapWith plural randInt
mustCompact deepCopy mustDeepCopy typeIsLike getHostByName osBase osClean osDir osExt osIsAbs mergeOverwrite
mustMerge mustMergeOverwrite mustAppend mustPush mustPrepend mustFirst mustRest mustLast mustInitial mustReverse
mustUniq mustWithout mustHas slice mustSlice dig chunk mustChunk bcrypt htpasswd genPrivateKey derivePassword
buildCustomCert genCA genCAWithKey genSelfSignedCert genSelfSignedCertWithKey genSignedCert genSignedCertWithKey
encryptAES decryptAES randBytes semver semverCompare mustRegexFindAll mustRegexFind mustRegexReplaceAll
mustRegexReplaceAllLiteral mustRegexSplit urlParse urlJoin
"""
SPRIG_NAMES = frozenset(SPRIG) | frozenset(_OTHER_SPRIG.split())


# ------------------------------------------------------------------------------------ environment, API

SPRIG_NAMESPACE = _Namespace(SPRIG)
ARGO_FUNCTIONS: dict[str, Any] = {
    "asInt": to_int,
    "asFloat": to_float,
    "jsonpath": jsonpath,
    "toJson": lambda value: go_json(value),
    "sprig": SPRIG_NAMESPACE,
}
# Roots of Argo's variables (docs ``variables.md``); anything else is an unknown name in every context.
ROOTS = frozenset({"inputs", "outputs", "workflow", "steps", "tasks", "item", "retries", "lastRetry", "pod", "node",
                   "status", "duration", "exitCode", "resourcesDuration", "request", "response", "cronworkflow"})
TAG_RE = re.compile(r"\{\{(.*?)\}\}", re.S)


def expand(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Argo's ``expand.Expand``: dotted names become nested maps; a name that is a prefix of another is dropped."""
    parents = {key[:i] for key in flat for i, c in enumerate(key) if c == "."}
    nested: dict[str, Any] = {}
    for key in sorted(flat):
        if key in parents:
            continue
        node, *_ = [nested]
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = flat[key]
    return nested


def environment(scope: Mapping[str, Any]) -> dict[str, Any]:
    """The expr environment Argo builds from a flat variable map (``env.GetFuncMap(EnvMap(scope))``)."""
    env = expand(scope)
    env.update(ARGO_FUNCTIONS)
    env["sprig"] = _Namespace(SPRIG)  # a copy per evaluation: sprig.set/unset/merge must not change it for others
    return env


def _run(text: str, env: Mapping[str, Any]) -> tuple[Any, _Ctx]:
    node = parse(text)
    ctx = _Ctx(env, [], {})
    try:
        return _Evaluator(ctx).eval(node), ctx
    except RecursionError:
        raise ExpressionError("expression nested too deeply to evaluate", 0) from None
    except _ChainNil:  # pragma: no cover - chains catch their own
        return None, ctx


def evaluate(text: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate ``text`` against a flat Argo scope (``{"inputs.parameters.x": "1", ...}``); Python values out
    (int, float, str, bool, None, list, dict). Raises :class:`ExpressionError` with the offset in ``text``."""
    return _run(text, environment(scope))[0]


def _nil_error(text: str, ctx: _Ctx) -> ExpressionError:
    if ctx.missing is not None:
        key, offset = ctx.missing
        return ExpressionError(f"failed to evaluate expression '{text.strip()}': the result is nil "
                               f"(nothing named '{key}' here)", offset)
    return ExpressionError(f"failed to evaluate expression '{text.strip()}': the result is nil", 0)


def render(text: str, scope: Mapping[str, Any]) -> str:
    """The text a ``{{=text}}`` tag is replaced with, as Argo's ``expressionReplace``: a string as it is, any
    other value as JSON (``json.Marshal``: ``[1,2]``, ``{"a":1}``, ``35.8``, ``true``); nil is an error."""
    value, ctx = _run(text, environment(scope))
    if value is None:
        raise _nil_error(text, ctx)
    if isinstance(value, str):
        return value
    try:
        return go_json(value)
    except _Fail as exc:
        raise ExpressionError(f"failed to marshal evaluated expression: {exc}", 0) from None


def missing_variables(text: str, scope: Mapping[str, Any]) -> list[str]:
    """Variables ``text`` names that ``scope`` (flat) does not have yet, as in Argo's ``anyVarNotInEnv``: at the
    workflow level such a tag stays as written, to be evaluated when they exist (issues #5388, #10393,
    #15008), even where ``??`` or a comparison would give a value already. Unparsable text gives none."""
    try:
        node = parse(text)
    except ExpressionError:
        return []
    found: list[tuple[tuple[str, ...], int]] = []
    _references(node, set(), found, everywhere=True)
    missing = []
    for parts, _ in found:
        if parts[0] not in ROOTS:
            continue
        name = ".".join(parts)
        if name in scope or any(key.startswith(name + ".") or name.startswith(key + ".") for key in scope):
            continue
        missing.append(name)
    return list(dict.fromkeys(missing))


def evaluate_bool(text: str, scope: Mapping[str, Any]) -> bool:
    """A condition (``retryStrategy.expression``, a hook's ``expression``): must be a bool."""
    value, ctx = _run(text, environment(scope))
    if value is None:
        raise _nil_error(text, ctx)
    if not isinstance(value, bool):
        raise ExpressionError(f"unable to cast expression result '{go_string(value)}' to bool", 0)
    return value


def substitute_tags(text: str, scope: Mapping[str, Any]) -> str:
    """Replace the ``{{...}}`` tags inside an ``expression:`` field before it is evaluated, as Argo does when it
    substitutes the template: ``{{x}}`` by its value (unknown tags stay), ``{{=e}}`` by :func:`render`."""

    def replace(match: re.Match[str]) -> str:
        tag = match.group(1).strip()
        if tag.startswith("="):
            return render(tag[1:], scope)
        value = scope.get(tag)
        return match.group(0) if value is None else str(value)

    return TAG_RE.sub(replace, text)


def evaluate_field(text: str, scope: Mapping[str, Any]) -> Any:
    """An ``expression:`` field (``valueFrom.expression``, ``retryStrategy.expression``): tags first, then the
    expression. Offsets in errors refer to the text after tag substitution."""
    return evaluate(substitute_tags(text, scope), scope)


def mask_tags(text: str) -> str:
    """``text`` with every ``{{...}}`` tag replaced by ``_`` characters of the same length (an identifier
    :func:`check` accepts), so offsets of errors still point into the original text."""
    return TAG_RE.sub(lambda m: "_" * len(m.group(0)), text)


def check(text: str, *, placeholders: bool = False) -> list[ExpressionError]:
    """Static errors of an expression without running it: syntax, unknown names and functions, unknown
    ``sprig.*`` functions and constant regular expressions RE2 rejects. With ``placeholders``, identifiers
    made only of ``_`` (see :func:`mask_tags`) are accepted."""
    try:
        node = parse(text)
    except ExpressionError as exc:
        return [exc]
    errors: list[ExpressionError] = []
    _check(node, set(), errors, placeholders)
    return errors


_CONSTANT_KINDS = frozenset({"lit", "array", "map", "unary", "binary", "cond", "member", "slice", "empty"})


def _constant(node: Node) -> bool:
    """Made of literals and operators only: its value (or type error) is known without variables."""
    return node.kind in _CONSTANT_KINDS and all(_constant(child) for child in node.args)


def _suggest(name: str, choices: Any) -> str:
    """``"; did you mean 'x'?"`` (:func:`pipeline_ci.argo.variables.did_you_mean`), else ``""``."""
    from .variables import did_you_mean

    return did_you_mean(name, sorted(choices))


def _check(node: Node, lets: set[str], errors: list[ExpressionError], placeholders: bool) -> None:
    kind = node.kind
    if kind == "binary" and node.value == "matches" and node.args[1].kind == "lit":
        try:
            _regex(node.args[1].value)
        except _Fail as exc:
            errors.append(ExpressionError(str(exc), node.args[1].offset))
            return
    if kind in ("binary", "unary", "member", "slice", "cond") and _constant(node):
        try:
            _Evaluator(_Ctx({}, [], {})).eval(node)
        except ExpressionError as exc:
            errors.append(exc)
        except _ChainNil:  # ``nil?.x``: nil, no error
            pass
        return
    if kind == "ident":
        name = node.value
        if name not in lets and name not in ROOTS and name not in ARGO_FUNCTIONS and not (
                placeholders and set(name) == {"_"}):
            hint = _suggest(name, ROOTS) or " (Argo's variables start with inputs, workflow, steps, tasks, item, …)"
            errors.append(ExpressionError(f"unknown name {name}{hint}", node.offset))
        return
    if kind == "call":
        callee = node.args[0]
        if callee.kind == "ident" and callee.value not in lets:
            name = callee.value
            if name not in BUILTINS and name not in ARGO_FUNCTIONS and name not in PREDICATES:
                hint = _suggest(name, [*BUILTINS, *ARGO_FUNCTIONS, *PREDICATES])
                errors.append(ExpressionError(f"unknown function {name}(){hint}", callee.offset))
        elif callee.kind == "member" and callee.args[0].kind == "ident" and callee.args[0].value == "sprig" \
                and callee.args[1].kind == "lit" and "sprig" not in lets:
            name = callee.args[1].value
            if name not in SPRIG_NAMES:
                reason = "Argo removes it" if name in ("env", "expandenv") else "not a Sprig function"
                hint = _suggest(name, SPRIG_NAMES)
                errors.append(ExpressionError(f"unknown function sprig.{name}() ({reason}){hint}", callee.offset))
        else:
            _check(callee, lets, errors, placeholders)
        for arg in node.args[1:]:
            _check(arg, lets, errors, placeholders)
        return
    if kind == "let":
        _check(node.args[0], lets, errors, placeholders)
        _check(node.args[1], lets | {node.value}, errors, placeholders)
        return
    for child in node.args:
        _check(child, lets, errors, placeholders)


def references(text: str) -> list[tuple[tuple[str, ...], int]]:
    """Static variable paths an expression reads, with the offset of their last part:
    ``inputs.parameters['my-p'].x`` gives ``(("inputs", "parameters", "my-p", "x"), offset of x)``. Paths on the
    left of ``??``, after ``?.`` or shadowed by ``let`` are left out (a missing value is fine there).
    A text that does not parse gives no references."""
    try:
        node = parse(text)
    except ExpressionError:
        return []
    out: list[tuple[tuple[str, ...], int]] = []
    _references(node, set(), out)
    return out


def _static_path(node: Node) -> tuple[tuple[str, ...], int] | None:
    if node.kind == "ident":
        return (str(node.value),), node.offset
    if node.kind == "member" and node.args[1].kind == "lit" and isinstance(node.args[1].value, str):
        inner = _static_path(node.args[0])
        if inner is not None:
            return (*inner[0], node.args[1].value), node.args[1].offset
    return None


def _references(node: Node, lets: set[str], out: list[tuple[tuple[str, ...], int]], everywhere: bool = False) -> None:
    """Static paths read by ``node``; without ``everywhere``, not those where a missing value is fine."""
    if node.kind == "chain" and not everywhere:
        return
    if node.kind == "binary" and node.value == "??" and not everywhere:
        _references(node.args[1], lets, out, everywhere)
        return
    if node.kind == "let":
        _references(node.args[0], lets, out, everywhere)
        _references(node.args[1], lets | {node.value}, out, everywhere)
        return
    if node.kind == "call":  # a callee is a function, not a variable; its arguments are read
        callee = node.args[0]
        if callee.kind == "member" and callee.args[0].kind != "ident":
            _references(callee.args[0], lets, out, everywhere)
        for arg in node.args[1:]:
            _references(arg, lets, out, everywhere)
        return
    found = _static_path(node) if node.kind in ("ident", "member") else None
    if found is not None:
        if found[0][0] not in lets:
            out.append(found)
        return
    for child in node.args:
        _references(child, lets, out, everywhere)


def local_gaps(text: str) -> list[ExpressionError]:
    """Functions Argo has but this evaluator does not implement (``sprig.semver``, ``now()``, …), at their
    offsets: valid for the platform, an error when a local run reaches them. Unparsable text gives none."""
    try:
        node = parse(text)
    except ExpressionError:
        return []
    out: list[ExpressionError] = []
    stack = [node]
    while stack:
        current = stack.pop()
        stack.extend(current.args)
        if current.kind != "call":
            continue
        callee = current.args[0]
        if callee.kind == "ident" and BUILTINS.get(callee.value) is not None \
                and getattr(BUILTINS[callee.value], "unsupported", False):
            out.append(ExpressionError(f"{callee.value}() is not supported by pipeline-ci's local evaluator",
                                       callee.offset))
        elif callee.kind == "member" and callee.args[0].kind == "ident" and callee.args[0].value == "sprig" \
                and callee.args[1].kind == "lit" and callee.args[1].value in SPRIG_NAMES \
                and (callee.args[1].value not in SPRIG or getattr(SPRIG[callee.args[1].value], "unsupported", False)):
            out.append(ExpressionError(f"sprig.{callee.args[1].value}() is not supported by pipeline-ci's local "
                                       "evaluator", callee.offset))
    return sorted(out, key=lambda e: e.offset)
