"""Safe YAML loading that remembers where every key and value came from.

``load_file`` returns a :class:`Document`: the plain Python value (dicts, lists, scalars, as
``yaml.safe_load`` would build them) plus, for every JSON path, the 1-based line and column of
the value and of its key: of its content's first character, past an anchor (``&a``) or tag (``!!str``) written
before it (a block collection's is that of its first entry, as without them). Duplicate keys are kept (last wins,
like PyYAML) and recorded as problems. Inputs that are too large, binary, not UTF-8, too deeply nested or that expand through
aliases far beyond their size (an "alias bomb") raise :class:`LoadError` with a position. An alias bomb
is refused before anything is expanded (time and memory stay linear in the input); inside an embedded
document it is reported at the anchor of the first node that expands past the limit, in the outer file.

A YAML document embedded in a string (``argo_orchestration_spec: |``) is loaded with
:func:`load_embedded`, which maps inner positions back to the outer file: exactly for literal
block scalars, and to the scalar's own position for every other style.

:func:`load_inside` loads one file of a project folder without ever raising for bad input: what keeps it
from loading (including a symlink leading out of the folder) is appended to a list of :class:`FileError`.
It is shared by the project models (:mod:`pipeline_ci.project`, :mod:`pipeline_ci.model.overrides`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from .discovery import _inside, display, real
from .errors import UsageError
from .gcpause import gc_paused
from .lazyre import lazy_re
from .records import NamedTuple

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path (a cold lint's start-up)
if TYPE_CHECKING:
    from typing import Any

# PyYAML's pure-Python reader, which the C loader used here never runs, compiles this class attribute at import: a
# character class spanning all of Unicode, ~3 ms of compilation (a thirtieth of a cold lint). The same set written as
# its complement (a few small ranges) compiles six times faster and is put in re's cache under PyYAML's pattern, which
# re.compile looks up first (where the cache is not a dict, or PyYAML's pattern changes, PyYAML compiles its own).
# tests/test_speed_equivalence.py checks over every code point that both match the same characters.
YAML_NON_PRINTABLE = "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"  # yaml/reader.py
NON_PRINTABLE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
_re_cache = getattr(re, "_cache", None)
if isinstance(_re_cache, dict):
    _re_cache.setdefault((str, YAML_NON_PRINTABLE, 0), re.compile(NON_PRINTABLE))

import yaml  # noqa: E402 - after the cache entry above

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 200
_ALIAS = re.compile(r"(?:^|[\s\[{,:-])\*[^\s,\]}]")
# an anchor (`&name`) or a tag (`!t`, `!!str`, `!<uri>`, `!`) before a node: only documents with one need the node
# starts moved past them (`&&` and `!=` in expressions do not match)
# (the pattern starts with a character set, which re scans for quickly; compiled on first use: 0.2 ms)
_PROPERTY = lazy_re(r"[&!](?<![^\s\[{,]&)(?<![^\s\[{,]!)(?:(?<=&)[\w-]|(?<=!)(?:[!<\w\s]|$))", re.M)
JsonPath = tuple["Any", ...]  # the name quoted: typing is imported for type checking only
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"


class _ComposeLoader(Loader):  # type: ignore[misc,valid-type]
    """:data:`Loader` with a cheaper tag resolution: composing calls ``resolve`` (a series of regular expressions per
    plain scalar) and the path-resolver hooks for every node, a third of the time of composing a document. Without
    path resolvers (safe loaders have none) the tag of a plain scalar depends on its text only, so it is remembered
    per text; a quoted scalar is a string. Same tags, same nodes."""

    _plain: dict[str, str] = {}

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and not self.yaml_path_resolvers:
            if not implicit[0]:
                return _STR
            tag = self._plain.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(value) <= 64 and len(self._plain) < 50_000:
                    self._plain[value] = tag
            return tag
        return super().resolve(kind, value, implicit)

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        if self.yaml_path_resolvers:
            super().descend_resolver(current_node, current_index)

    def ascend_resolver(self) -> None:
        if self.yaml_path_resolvers:
            super().ascend_resolver()


class Pos(NamedTuple):
    """A 1-based line and column."""

    line: int
    col: int


class LoadError(UsageError):
    """The file cannot be loaded as YAML; ``pos`` says where."""

    def __init__(self, message: str, pos: Pos = Pos(1, 1)):
        super().__init__(message)
        self.message = message
        self.pos = pos


class Problem(NamedTuple):
    """A recoverable oddity found while loading (for now: a duplicate key)."""

    kind: str
    message: str
    path: JsonPath
    pos: Pos


class Document:
    """A loaded YAML document with positions. ``file`` is the path shown to users; ``values`` and ``keys`` are the
    positions of the values and keys by path, ``problems`` the duplicate keys, filled while the document is built."""

    # a plain class, not a dataclass: creating dataclasses is a tenth of a cold lint (see pipeline_ci.records)
    def __init__(self, file: str, data: Any, lines: list[str] | None = None, root: yaml.Node | None = None,
                 positioned: bool = True):
        self.file = file
        self.data = data
        self.values: dict[JsonPath, Pos] = {}
        self.keys: dict[JsonPath, Pos] = {}
        self.problems: list[Problem] = []
        self.lines = lines if lines is not None else []
        self.root = root
        self.positioned = positioned  # False: loaded with ``positions=False`` (no ``values``, ``keys``, ``problems``, ``lines``)

    def pos(self, path: JsonPath, *, key: bool = False) -> Pos:
        """Position of the value (or key) at ``path``, else of its nearest ancestor."""
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        while path:
            path = path[:-1]
            if path in self.values:
                return self.values[path]
        return Pos(1, 1)

    def get(self, path: JsonPath, default: Any = None) -> Any:
        """The value at ``path`` or ``default`` when any segment is missing."""
        node = self.data
        for part in path:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                return default
        return node

    def node_at(self, path: JsonPath) -> yaml.Node | None:
        """The composed YAML node at ``path`` (for scalar style and raw positions)."""
        node = self.root
        for part in path:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in reversed(node.value) if _key_matches(k, part)), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
            else:
                return None
        return node


def _key_matches(key_node: yaml.Node, part: Any) -> bool:
    return isinstance(key_node, yaml.ScalarNode) and _scalar(key_node) == part


_constructor = yaml.constructor.SafeConstructor()


_STR_TAG = "tag:yaml.org,2002:str"


def _scalar(node: yaml.ScalarNode) -> Any:
    if node.tag == _STR_TAG:  # the common case, without the constructor's bookkeeping
        return node.value
    try:
        return _constructor.construct_object(node)
    except yaml.constructor.ConstructorError as exc:
        raise LoadError(str(exc.problem), _mark(node.start_mark)) from None
    except (ValueError, IndexError, KeyError, TypeError, OverflowError):  # an explicit tag on a value it cannot
        # hold: PyYAML's constructors raise these for ``!!int`` (empty), ``!!bool maybe``, ``!!timestamp 2020-13-45``
        tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
        raise LoadError(f"invalid {tag} value {node.value!r}", _mark(node.start_mark)) from None
    finally:
        _constructor.constructed_objects.clear()


def _mark(mark: yaml.Mark | None, line_map: Callable[[int, int], Pos] | None = None) -> Pos:
    if mark is None:
        return Pos(1, 1)
    if line_map:
        return line_map(mark.line, mark.column)
    return Pos(mark.line + 1, mark.column + 1)


def decode(raw: bytes, file: str) -> str:
    """Bytes → text, refusing oversized, binary and non-UTF-8 input with a position."""
    if len(raw) > MAX_BYTES:
        raise LoadError(f"file is {len(raw):,} bytes; configs larger than {MAX_BYTES:,} bytes are refused")
    if b"\0" in raw:
        offset = raw.index(b"\0")
        raise LoadError("binary file (contains NUL bytes)", _offset_pos(raw, offset))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})", _offset_pos(raw, exc.start)
        ) from None


def _offset_pos(raw: bytes, offset: int) -> Pos:
    line = raw.count(b"\n", 0, offset) + 1
    start = raw.rfind(b"\n", 0, offset) + 1
    return Pos(line, len(raw[start:offset].decode("utf-8", "replace")) + 1)


def load_file(path: Path, file: str | None = None, *, positions: bool = True) -> Document:
    """Read and load ``path``; ``file`` is the name used in positions (default: ``str(path)``)."""
    shown = file if file is not None else str(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise LoadError(f"file is {path.stat().st_size:,} bytes; configs larger than {MAX_BYTES:,} bytes are refused")
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}") from None
    return load_text(decode(raw, shown), shown, positions=positions)


class FileError(NamedTuple):
    """A file that could not be loaded (parse error, unreadable, binary, ...)."""

    file: str
    error: LoadError

    def __str__(self) -> str:
        """``file:line:col: message``."""
        return f"{self.file}:{self.error.pos.line}:{self.error.pos.col}: {self.error.message}"


def load_inside(path: Path, errors: list[FileError], boundary: Path, *, positions: bool = True) -> Document | None:
    """Load a file whose folder is known to be inside ``boundary`` (the file itself may be a link); None and an
    entry in ``errors`` when it leads out of ``boundary``, is not a regular file or does not load."""
    if os.path.islink(path) and not _inside(real(path), boundary):
        errors.append(FileError(display(path), LoadError("symlink leading out of the project; not read")))
        return None
    try:
        regular = path.is_file()
    except OSError as exc:  # a symlink loop (ELOOP), a permission error on the folder
        errors.append(FileError(display(path), LoadError(f"{exc.strerror or exc}; not read")))
        return None
    if not regular:
        errors.append(FileError(display(path), LoadError("not a regular file; not read")))
        return None
    try:
        return load_file(path, display(path), positions=positions)
    except LoadError as exc:
        errors.append(FileError(display(path), exc))
        return None


def load_text(text: str, file: str, line_map: Callable[[int, int], Pos] | None = None, *,
              positions: bool = True) -> Document:
    """Load one YAML document from ``text``; positions go through ``line_map`` when given.

    ``positions=False`` is for callers that print no position (``changed``): the data, and every load error with
    its position, are exactly the same, but no position table, duplicate-key problem or line list is kept.
    """
    with gc_paused():
        return _load_text(text, file, line_map, positions)


def _load_text(text: str, file: str, line_map: Callable[[int, int], Pos] | None, positions: bool = True) -> Document:
    try:
        root = yaml.compose(text, Loader=_ComposeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise LoadError(_yaml_message(exc), _mark(mark, line_map)) from None
    except yaml.YAMLError as exc:
        raise LoadError(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise LoadError("document is nested too deeply") from None
    doc = Document(file=file, data=None, lines=text.splitlines() if positions else [], root=root,
                   positioned=positions)
    if root is None:
        return doc
    if "*" in text and _ALIAS.search(text):  # only documents with aliases can expand beyond their size
        _check_expansion(root, line_map)
    properties = positions and ("&" in text or "!" in text) and _PROPERTY.search(text) is not None
    doc.data = _Builder(doc, line_map, positions, properties).build(root, ())
    return doc


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return "invalid YAML: " + ", ".join(parts) if parts else "invalid YAML"


def _check_expansion(root: yaml.Node, line_map: Callable[[int, int], Pos] | None = None) -> None:
    """Refuse documents whose aliases expand to far more nodes than they contain.

    Sizes are counted on the node graph (an alias is the node it names), so nothing is expanded. The error is
    at the root of a file of its own (where a reader starts), and at the first node (in post-order: the
    innermost) that expands past the limit in an embedded document, whose root says nothing about where.
    """
    size: dict[int, int] = {}  # id(node) -> number of nodes once aliases are expanded
    order: list[yaml.Node] = []  # post-order
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # iterative post-order over the node graph
        node, done = stack.pop()
        if id(node) in size and not done:
            continue
        children = _children(node)
        if not done:
            size[id(node)] = 1  # provisional: also breaks recursive aliases
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)
        else:
            size[id(node)] = 1 + sum(size.get(id(c), 1) for c in children)
            order.append(node)
    expanded = size[id(root)]
    limit = 10 * len(size) + 10_000
    if expanded > limit:
        culprit = next(n for n in order if size[id(n)] > limit)
        where = _mark(culprit.start_mark, line_map)
        message = f"aliases expand {len(size):,} nodes into {expanded:,} (a YAML alias bomb?); refused"
        if line_map is None:
            if culprit is not root:
                message += f" (the first node to expand past {limit:,} starts at line {where.line}, column {where.col})"
            where = _mark(root.start_mark)
        raise LoadError(message, where)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _content_start(lines: list[str], node: yaml.Node) -> tuple[int, int]:
    """0-based line and column of the first character of ``node``'s content. The composer's ``start_mark`` is that of
    the node's properties when it has any (``&anchor``, ``!tag``, in either order): they are skipped with the blanks,
    comments and line breaks after them (a block collection then starts at its first key or ``-``). A node whose
    content is empty (``key: &a`` alone) keeps the position of its properties."""
    start, end = node.start_mark, node.end_mark
    line, col = start.line, start.column
    for _ in range(2):  # at most an anchor and a tag
        text = lines[line] if line < len(lines) else ""
        if col >= len(text) or text[col] not in "&!":
            break
        while col < len(text) and text[col] not in " \t,[]{}":  # the property
            col += 1
        while col < len(text) and text[col] in " \t":
            col += 1
        while col >= len(text) or text[col] == "#":  # end of line or a comment: the content is on a later line
            line += 1
            if line >= len(lines):
                return start.line, start.column
            text = lines[line]
            col = len(text) - len(text.lstrip(" \t"))
    if end is not None and (line, col) >= (end.line, end.column):
        return start.line, start.column  # empty content (or a position this scan cannot vouch for)
    return line, col


class _Builder:
    def __init__(self, doc: Document, line_map: Callable[[int, int], Pos] | None, positions: bool = True,
                 properties: bool = False):
        self.doc = doc
        self.line_map = line_map
        self.positions = positions
        self.properties = properties  # the text has anchors or tags: positions skip them (_content_start)

    def _pos(self, node: yaml.Node) -> Pos:
        """The position of ``node``'s content (of its first character, past any anchor and tag)."""
        if not self.properties:
            return _mark(node.start_mark, self.line_map)
        line, col = _content_start(self.doc.lines, node)
        return self.line_map(line, col) if self.line_map else Pos(line + 1, col + 1)

    def build(self, node: yaml.Node, path: JsonPath, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise LoadError(f"document is nested more than {MAX_DEPTH} levels deep", _mark(node.start_mark, self.line_map))
        if self.positions:
            self.doc.values[path] = self._pos(node)
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._merge(result, value_node, path, depth)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise LoadError("mapping keys must be scalars", _mark(key_node.start_mark, self.line_map))
            key = _scalar(key_node)
            if self.positions:
                key_pos = self._pos(key_node)
                if key in result:
                    self.doc.problems.append(
                        Problem("duplicate-key", f"duplicate key {key!r} (the later value wins)", (*path, key), key_pos)
                    )
                self.doc.keys[(*path, key)] = key_pos
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def _merge(self, result: dict, value_node: yaml.Node, path: JsonPath, depth: int) -> None:
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            merged = self.build(source, path, depth + 1)
            if not isinstance(merged, dict):
                raise LoadError("a merge key ('<<') needs a mapping", _mark(source.start_mark, self.line_map))
            for k, v in merged.items():
                result.setdefault(k, v)


def load_embedded(outer: Document, path: JsonPath) -> Document:
    """Load the YAML held in the string at ``path`` of ``outer``, with positions in the outer file (none when
    ``outer`` has none)."""
    text = outer.get(path)
    if not outer.positioned:
        return load_text(text, outer.file, positions=False)
    node = outer.node_at(path)
    scalar_pos = outer.pos(path)
    line_map: Callable[[int, int], Pos] = lambda _line, _col: scalar_pos  # noqa: E731
    if isinstance(node, yaml.ScalarNode) and node.style == "|" and isinstance(text, str):
        exact = _literal_line_map(outer.lines, node.start_mark.line, text)
        if exact is not None:
            line_map = exact
    return load_text(text, outer.file, line_map)


def _literal_line_map(lines: list[str], indicator_line: int, text: str) -> Callable[[int, int], Pos] | None:
    """Map (inner line, col) → outer Pos for a literal block starting after ``indicator_line`` (0-based)."""
    first = indicator_line + 1
    inner = text.split("\n")
    indent = None
    for i, inner_line in enumerate(inner):
        if first + i >= len(lines):
            break
        outer_line = lines[first + i]
        if inner_line and indent is None:
            indent = len(outer_line) - len(inner_line)
        if inner_line and (indent is None or indent < 0 or outer_line[indent:] != inner_line):
            return None
    if indent is None:
        return None
    return lambda line, col: Pos(first + line + 1, col + indent + 1)
