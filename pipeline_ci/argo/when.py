"""Argo ``when`` expressions: the govaluate subset Argo uses (Argo docs ``walk-through/conditionals/``;
``Knetic/govaluate`` README and ``parsing.go``).

Argo substitutes ``{{...}}`` tags textually, lexes the result with govaluate, retypes every VARIABLE
token (a bare word) as a string literal and evaluates with no parameters; the result must be a bool.
This module reproduces that with a hand-written lexer, a precedence-climbing parser and a tree walk.

Choices and known deviations from govaluate (documented, all fail "clearly" rather than silently):

* Quoted strings that look like dates stay strings (govaluate makes TIME tokens). Ordering then
  compares them as text, which matches time order for same-format ISO dates.
* Identifiers containing ``.`` (ACCESSOR tokens) are rejected by :func:`parse`. Argo passes no
  parameters, so they can never evaluate; govaluate itself rejects ``a.b`` at lex time.
* As in govaluate, a string ends at the first ``'`` or ``"`` whichever quote opened it, a backslash
  escapes any character, and a run of operator characters without spaces is one token (``a==-1`` is
  the invalid token ``==-``).
* Token order is checked like govaluate's lexer states, except that a prefix may precede a string
  (a substituted tag such as ``!{{x}}`` must not be a lint error; ``!'x'`` fails at evaluation
  instead), and ``()`` / ``(a) b`` are rejected up front.
* ``a ? b`` yields ``b`` if ``a`` else nil (None); ``x : y`` and ``x ?? y`` yield ``x`` unless it is
  nil, else ``y`` -- govaluate's left-associative ternary. ``,`` builds lists (for ``in``).
* Numbers are floats with Go semantics: division by zero gives Inf/NaN, bit operators work on int64.
* Parenthesis nesting is limited to :data:`MAX_DEPTH`.
* ``=~`` / ``!~`` use RE2 (``google-re2``, imported only when a pattern is compiled), the engine of
  Go's ``regexp`` that govaluate uses: matching takes linear time whatever the pattern and text, and
  Perl-only syntax (backreferences, lookaround) is rejected with ``Unable to compile regexp pattern``.
* Quoted expressions in error messages are shortened to :data:`QUOTE_LIMIT` characters.

Lint support (:func:`check_template`): each ``{{...}}`` tag is replaced by a placeholder of the same
length (a quoted string, or plain characters inside a quoted string / ``[...]``) so error offsets
point into the original text. A literal pattern right of ``=~`` / ``!~`` without tags must compile
(govaluate compiles constant patterns when it parses). Warnings are token-based and deliberately simple:

* a bare word joined to others by ``-`` without spaces (``my-value`` is ``my - value``);
* a bare word containing ``.`` (an accessor);
* two bare values next to each other (``hello world``);
* an unquoted tag next to ``== != =~ !~`` whose other operand is a string or bare word, unless the
  tag is known to be a single word (``...status``, ``...exitCode``, ``retries``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from pipeline_ci.argo.depends import ExprError

MAX_DEPTH = 32
QUOTE_LIMIT = 200

VALUE_KINDS = frozenset({"NUMERIC", "BOOLEAN", "STRING", "VARIABLE", "ACCESSOR"})
OPERATOR_KINDS = frozenset({"MODIFIER", "COMPARATOR", "LOGICALOP", "TERNARY", "SEPARATOR"})
_COMPARATORS = {"==", "!=", ">", ">=", "<", "<=", "=~", "!~"}
_SYMBOL_KINDS = [
    ({"+", "-", "*", "/", "%", "**", "&", "|", "^", "<<", ">>"}, "MODIFIER"),
    ({"&&", "||"}, "LOGICALOP"),
    (_COMPARATORS, "COMPARATOR"),
    ({"?", ":", "??"}, "TERNARY"),
]
_PREFIXES = {"-", "!", "~"}
_LEVELS = [  # lowest precedence first
    [","],
    ["?", ":", "??"],
    ["||"],
    ["&&"],
    [*_COMPARATORS, "in"],
    ["&", "|", "^"],
    ["<<", ">>"],
    ["+", "-"],
    ["*", "/", "%"],
    ["**"],
]
PRECEDENCE = {op: level for level, ops in enumerate(_LEVELS, start=1) for op in ops}

_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
_SAFE_TAG = re.compile(r"(?:^|\.)(?:status|exitCode|retries)\Z")


@dataclass(frozen=True)
class Token:
    kind: str  # govaluate token kind: NUMERIC, STRING, VARIABLE, MODIFIER, CLAUSE, ...
    value: object  # float, bool or str
    offset: int
    end: int


@dataclass(frozen=True)
class Literal:
    """A NUMERIC (float), BOOLEAN, STRING or VARIABLE (str: its own name) value."""

    value: object
    kind: str
    offset: int


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node
    offset: int


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    offset: int


Node = Literal | Unary | Binary


# ---------------------------------------------------------------------------------------------- lexer


def _is_symbol(c: str) -> bool:
    return not (c.isspace() or c.isalpha() or c.isdecimal() or c in "()[]'\"")


def _read_until(text: str, i: int, closers: str, error: str) -> tuple[str, int]:
    """Read from after text[i] up to a closing character; backslash escapes anything."""
    buf: list[str] = []
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "\\" and j + 1 < len(text):
            buf.append(text[j + 1])
            j += 2
        elif c in closers:
            return "".join(buf), j + 1
        else:
            buf.append(c)
            j += 1
    raise ExprError(error, i)


def _read_number(text: str, i: int) -> tuple[float, int]:
    if text.startswith("0x", i):
        j = i + 2
        while j < len(text) and text[j] in "0123456789abcdefABCDEF":
            j += 1
        digits = text[i + 2 : j]
        if not digits or int(digits, 16) >= 1 << 64:
            raise ExprError(f"Unable to parse hex value '{digits}' to uint64", i)
        return float(int(digits, 16)), j
    j = i
    while j < len(text) and (text[j].isdecimal() or text[j] == "."):
        j += 1
    literal = text[i:j]
    try:
        value = float(literal) if literal.isascii() else math.inf
    except ValueError:
        value = math.inf
    if math.isinf(value):
        raise ExprError(f"Unable to parse numeric value '{literal}' to float64", i)
    return value, j


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into govaluate tokens (lexing errors raise :class:`ExprError`)."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        c, start = text[i], i
        value: object
        if c.isspace():
            i += 1
            continue
        if c.isdecimal() or c == ".":
            kind = "NUMERIC"
            value, i = _read_number(text, i)
        elif c == ",":
            kind, value, i = "SEPARATOR", ",", i + 1
        elif c == "[":
            kind = "VARIABLE"
            value, i = _read_until(text, i, "]", "Unclosed parameter bracket")
        elif c in "'\"":
            kind = "STRING"
            value, i = _read_until(text, i, "'\"", "Unclosed string literal")
        elif c in "()":
            kind, value, i = ("CLAUSE" if c == "(" else "CLAUSE_CLOSE"), c, i + 1
        elif c.isalpha():
            while i < len(text) and (text[i].isalpha() or text[i].isdecimal() or text[i] in "_."):
                i += 1
            value = text[start:i]
            kind = "ACCESSOR" if "." in value else "VARIABLE"
            if value in ("true", "false"):
                kind, value = "BOOLEAN", value == "true"
            elif value in ("in", "IN"):
                kind, value = "COMPARATOR", "in"
        else:
            while i < len(text) and _is_symbol(text[i]):
                i += 1
            value = text[start:i]
            previous = tokens[-1].kind if tokens else None
            kind = _symbol_kind(value, previous not in VALUE_KINDS | {"CLAUSE_CLOSE", "PREFIX"}, start)
        tokens.append(Token(kind, value, start, i))
    return tokens


def _symbol_kind(symbol: str, prefix_allowed: bool, offset: int) -> str:
    if prefix_allowed and symbol in _PREFIXES:
        return "PREFIX"
    for symbols, kind in _SYMBOL_KINDS:
        if symbol in symbols:
            return kind
    raise ExprError(f"Invalid token: '{symbol}'", offset)


# --------------------------------------------------------------------------------------------- parser


def _check_syntax(tokens: list[Token], length: int) -> None:
    """Parenthesis balance, then govaluate-style token-order checks."""
    if not tokens:
        raise ExprError("Empty expression", 0)
    opened: list[int] = []
    for token in tokens:
        if token.kind == "CLAUSE":
            opened.append(token.offset)
            if len(opened) > MAX_DEPTH:
                raise ExprError(f"Parentheses nested deeper than {MAX_DEPTH}", token.offset)
        elif token.kind == "CLAUSE_CLOSE":
            if not opened:
                raise ExprError("Unbalanced parenthesis", token.offset)
            opened.pop()
    if opened:
        raise ExprError("Unbalanced parenthesis", opened[-1])

    previous: Token | None = None
    for token in tokens:
        if token.kind == "ACCESSOR":
            raise _accessor_error(token)
        if previous is not None and previous.kind in VALUE_KINDS | {"CLAUSE_CLOSE"}:
            allowed = OPERATOR_KINDS | {"CLAUSE_CLOSE"}
        elif previous is not None and previous.kind == "PREFIX":
            allowed = VALUE_KINDS | {"CLAUSE"}
        else:
            allowed = VALUE_KINDS | {"CLAUSE", "PREFIX"}
        if token.kind not in allowed:
            source = f"{previous.kind} [{_go_str(previous.value)}]" if previous else "START"
            raise ExprError(
                f"Cannot transition token types from {source} to {token.kind} [{_go_str(token.value)}]",
                token.offset,
            )
        previous = token
    if previous is not None and previous.kind not in VALUE_KINDS | {"CLAUSE_CLOSE"}:
        raise ExprError("Unexpected end of expression", length)


def _accessor_error(token: Token) -> ExprError:
    name = str(token.value)
    if name.endswith("."):
        return ExprError(f"Hanging accessor on token '{name}'", token.offset)
    for part in name.split(".")[1:]:
        if part[:1].upper() != part[:1]:
            return ExprError(f"Unable to access unexported field '{part}' in token '{name}'", token.offset)
    return ExprError(
        f"Accessor '{name}' cannot be evaluated ('when' has no parameters); quote it: '{name}'", token.offset
    )


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def expression(self, min_level: int = 1) -> Node:
        left = self.operand()
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            level = PRECEDENCE.get(str(token.value), 0) if token.kind in OPERATOR_KINDS else 0
            if level < min_level:
                break
            self.pos += 1
            left = Binary(str(token.value), left, self.expression(level + 1), token.offset)
        return left

    def operand(self) -> Node:
        token = self.tokens[self.pos]
        self.pos += 1
        if token.kind == "PREFIX":
            return Unary(str(token.value), self.operand(), token.offset)
        if token.kind == "CLAUSE":
            node = self.expression()
            self.pos += 1  # the matching ')': guaranteed by _check_syntax
            return node
        return Literal(token.value, token.kind, token.offset)


def _parse_tokens(tokens: list[Token], length: int) -> Node:
    _check_syntax(tokens, length)
    return _Parser(tokens).expression()


def parse(text: str) -> Node:
    """Parse a ``when`` expression (after substitution); raise :class:`ExprError` with an offset."""
    return _parse_tokens(tokenize(text), len(text))


# ------------------------------------------------------------------------------------------ evaluator


def _go_float(f: float) -> str:
    """Format like Go's ``%v`` for float64 (shortest digits, exponent outside [-4, 6))."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(f)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    point = len(digit_tuple) + int(exponent)  # digits before the decimal point
    prefix = "-" if sign else ""
    if not -4 <= point - 1 < 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{point - 1:+03d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return prefix + digits + "0" * (point - len(digits))
    return f"{prefix}{digits[:point]}.{digits[point:]}"


def _go_str(value: object) -> str:
    """Format like Go's ``%v``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if value is None:
        return "<nil>"
    if isinstance(value, list):
        return "[" + " ".join(_go_str(v) for v in value) + "]"
    return str(value)


def _deep_equal(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _need(value: object, kind: type, what: str, op: str, offset: int) -> None:
    if not isinstance(value, kind):
        noun = {bool: "a bool", float: "a number", str: "a string", list: "an array"}[kind]
        raise ExprError(
            f"Value '{_go_str(value)}' cannot be used with the {what} '{op}', it is not {noun}", offset
        )


def _int64(value: float) -> int:
    """Go's float64 -> int64 conversion (out of range -> minimum int64, as on amd64)."""
    if not math.isfinite(value) or not -(2**63) <= value < 2**63:
        return -(2**63)
    return int(value)


def _wrap64(value: int) -> int:
    return (value + 2**63) % 2**64 - 2**63


def _arithmetic(op: str, a: float, b: float) -> float:
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1, b)
        return a / b
    if op == "%":
        try:
            return math.fmod(a, b)
        except ValueError:
            return math.nan
    if op == "**":
        try:
            return math.pow(a, b)
        except OverflowError:
            return -math.inf if a < 0 and b % 2 == 1 else math.inf
        except ValueError:
            return math.inf if a == 0 else math.nan
    x, y = _int64(a), _int64(b)
    if op == "&":
        return float(x & y)
    if op == "|":
        return float(x | y)
    if op == "^":
        return float(x ^ y)
    if op == "<<":
        return float(_wrap64(x << y)) if 0 <= y < 64 else 0.0
    return float(x >> y if 0 <= y < 64 else x >> 63)  # ">>"


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` for a message: at most ``limit`` characters, then how many more there were."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


_COMPILED: dict[str, object] = {}  # pattern -> compiled RE2 (immutable): a `when` or `matches` runs per step and item


def compile_regexp(pattern: str, offset: int = 0) -> object:
    """Compile a pattern with RE2 (Go ``regexp`` syntax, linear-time matching), cached; raise :class:`ExprError`."""
    hit = _COMPILED.get(pattern)
    if hit is not None:
        return hit
    try:
        import re2
    except ImportError:  # pragma: no cover - google-re2 is a dependency
        raise ExprError("regular expressions need the google-re2 package (pip install google-re2)", offset) from None
    options = re2.Options()
    options.log_errors = False
    try:
        compiled = re2.compile(_utf8(pattern), options)
    except re2.error as err:
        reason = err.args[0] if err.args else err
        reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise ExprError(
            f"Unable to compile regexp pattern '{clip(pattern)}': {reason} "
            "(RE2/Go syntax: no backreferences or lookaround)",
            offset,
        ) from None
    if len(_COMPILED) > 256:
        _COMPILED.clear()
    _COMPILED[pattern] = compiled
    return compiled


def _binary(op: str, a: object, b: object, offset: int) -> object:
    if op == ",":
        if isinstance(a, list):  # a list built by the ',' to our left: nothing else refers to it
            a.append(b)
            return a
        return [a, b]
    if op in ("==", "!="):
        return _deep_equal(a, b) == (op == "==")
    if op in ("=~", "!~"):
        _need(a, str, "comparator", op, offset)
        _need(b, str, "comparator", op, offset)
        found = compile_regexp(str(b), offset).search(_utf8(str(a))) is not None  # type: ignore[attr-defined]
        return found == (op == "=~")
    if op == "in":
        _need(b, list, "comparator", op, offset)
        return any(_deep_equal(a, item) for item in b)  # type: ignore[attr-defined]
    if op in ("<", "<=", ">", ">="):
        if not all(isinstance(v, str) for v in (a, b)) and not all(isinstance(v, float) for v in (a, b)):
            raise ExprError(
                f"Values '{_go_str(a)}' and '{_go_str(b)}' cannot be compared with '{op}': "
                "ordering needs two numbers or two strings",
                offset,
            )
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]  # type: ignore[operator]
    if op == "+" and (isinstance(a, str) or isinstance(b, str)):
        return _go_str(a) + _go_str(b)
    _need(a, float, "modifier", op, offset)
    _need(b, float, "modifier", op, offset)
    return a + b if op == "+" else _arithmetic(op, a, b)  # type: ignore[operator, arg-type]


def _evaluate(node: Node) -> object:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Unary):
        value = _evaluate(node.operand)
        if node.op == "!":
            _need(value, bool, "prefix", "!", node.offset)
            return not value
        _need(value, float, "prefix", node.op, node.offset)
        return -value if node.op == "-" else float(~_int64(value))  # type: ignore[operator, arg-type]
    op = node.op
    left = _evaluate(node.left)
    if op in ("&&", "||"):
        _need(left, bool, "logical operator", op, node.offset)
        if left == (op == "||"):
            return left
        right = _evaluate(node.right)
        _need(right, bool, "logical operator", op, node.offset)
        return right
    if op == "?":
        _need(left, bool, "ternary operator", op, node.offset)
        return _evaluate(node.right) if left else None
    if op in (":", "??"):
        return left if left is not None else _evaluate(node.right)
    return _binary(op, left, _evaluate(node.right), node.offset)


def evaluate(node: Node) -> object:
    """Evaluate a parsed expression: float, bool, str, list or None (VARIABLEs are their own names)."""
    try:
        return _evaluate(node)
    except RecursionError:
        raise ExprError("Expression too long to evaluate", 0) from None


def evaluate_when(text: str) -> bool:
    """Evaluate a substituted ``when`` like Argo: an empty text is true; errors carry Argo's wording."""
    if text == "":
        return True
    try:
        node = parse(text)
    except ExprError as err:
        hint = ' (hint: try wrapping the affected expression in quotes ("))'
        hint = hint if "Invalid token" in err.message else ""
        raise ExprError(f"Invalid 'when' expression '{clip(text)}': {err.message}{hint}", err.offset) from None
    try:
        value = evaluate(node)
    except ExprError as err:
        raise ExprError(f"Failed to evaluate 'when' expression '{clip(text)}': {err.message}", err.offset) from None
    if not isinstance(value, bool):
        raise ExprError(f"Expected boolean evaluation for '{clip(text)}'. Got {clip(_go_str(value))}", 0)
    return value


def substitute_and_evaluate(text: str, lookup: Callable[[str], str]) -> bool:
    """Replace each ``{{ tag }}`` by ``lookup(tag)`` (stripped name) textually, then :func:`evaluate_when`."""
    return evaluate_when(_TAG.sub(lambda m: lookup(m.group(1).strip()), text))


# ------------------------------------------------------------------------------------------- lint aid


def _mask_tags(text: str) -> tuple[str, dict[int, str]]:
    """Replace tags by same-length placeholders; return the text and the unquoted tags by offset."""
    out: list[str] = []
    unquoted: dict[int, str] = {}
    closer = ""  # "'\"" inside a string, "]" inside [...], "" outside
    escaped = False
    i = 0
    while i < len(text):
        end = text.find("}}", i + 2) if text.startswith("{{", i) else -1
        if end != -1:
            tag = re.sub(r"['\"\\\]]", "_", text[i : end + 2])
            if closer:
                out.append(tag)
            else:
                out.append("'" + tag[1:-1] + "'")
                unquoted[i] = text[i + 2 : end].strip()
            i, escaped = end + 2, False
            continue
        c = text[i]
        if escaped:
            escaped = False
        elif closer and c == "\\":
            escaped = True
        elif closer and c in closer:
            closer = ""
        elif not closer and c in "'\"[":
            closer = "]" if c == "[" else "'\""
        out.append(c)
        i += 1
    return "".join(out), unquoted


def _runs(tokens: list[Token], member: Callable[[Token], bool], touching: bool) -> list[list[Token]]:
    """Maximal runs of consecutive member tokens (with ``touching``: no gap between them)."""
    runs: list[list[Token]] = []
    current: list[Token] = []
    for token in tokens:
        if member(token) and current and (not touching or current[-1].end == token.offset):
            current.append(token)
            continue
        if current:
            runs.append(current)
        current = [token] if member(token) else []
    return [*runs, current] if current else runs


def _warnings(text: str, tokens: list[Token], unquoted: dict[int, str]) -> list[str]:
    warnings: list[str] = []
    for token in tokens:
        if token.kind == "ACCESSOR":
            warnings.append(
                f"unquoted value '{token.value}' contains '.', which govaluate reads as a field access; "
                f"quote it: '{token.value}'"
            )
    words = {"VARIABLE", "NUMERIC", "ACCESSOR"}
    for run in _runs(tokens, lambda t: t.kind in words or (t.kind == "MODIFIER" and t.value == "-"), True):
        if any(t.kind == "MODIFIER" for t in run) and any(t.kind in ("VARIABLE", "ACCESSOR") for t in run):
            word = text[run[0].offset : run[-1].end]
            warnings.append(
                f"unquoted value '{word}' is read as a subtraction and fails at run time; quote it: '{word}'"
            )
    for run in _runs(tokens, lambda t: t.kind in words | {"BOOLEAN"}, False):
        if len(run) > 1:
            words_text = text[run[0].offset : run[-1].end]
            warnings.append(f"unquoted value '{words_text}' contains spaces; quote it: '{words_text}'")
    for i, token in enumerate(tokens[1:-1], start=1):
        if token.kind != "COMPARATOR" or token.value not in ("==", "!=", "=~", "!~"):
            continue
        for tag_token, other in ((tokens[i - 1], tokens[i + 1]), (tokens[i + 1], tokens[i - 1])):
            tag = unquoted.get(tag_token.offset) if tag_token.kind == "STRING" else None
            if tag is not None and not _SAFE_TAG.search(tag) and other.kind in ("STRING", "VARIABLE"):
                warnings.append(
                    f"{{{{{tag}}}}} is compared without quotes: a value with spaces, '-', '.' or quotes "
                    f"breaks the expression; write '{{{{{tag}}}}}'"
                )
    return warnings


def check_template(text: str) -> tuple[list[ExprError], list[str]]:
    """Lint an unsubstituted ``when``: parse errors (offsets into ``text``) and quoting warnings."""
    masked, unquoted = _mask_tags(text)
    try:
        tokens = tokenize(masked)
    except ExprError as err:
        return [err], []
    warnings = _warnings(text, tokens, unquoted)
    try:
        _parse_tokens(tokens, len(masked))
    except ExprError as err:
        return [err], warnings
    return _pattern_errors(text, tokens), warnings


def _pattern_errors(text: str, tokens: list[Token]) -> list[ExprError]:
    """Literal patterns (no tags) right of ``=~`` / ``!~`` that RE2 rejects."""
    errors = []
    for op, right in zip(tokens, tokens[1:], strict=False):
        if op.kind != "COMPARATOR" or op.value not in ("=~", "!~") or right.kind != "STRING":
            continue
        if "{{" in text[right.offset : right.end]:
            continue
        try:
            compile_regexp(str(right.value), right.offset)
        except ExprError as err:
            errors.append(err)
    return errors
