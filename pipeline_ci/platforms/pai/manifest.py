"""PAIFlow pipeline manifests (``apiVersion: core/v1``, Alibaba Cloud's "PAI-Flow manifest parameters"): the model, loading and views.

The model: :class:`Manifest`, one manifest file with every YAML document in it, loaded by :func:`load_manifest`
(never raises for bad input; what kept the file from loading is in ``Manifest.errors``). It is a lint target of
its own, next to the Clarifai project (:mod:`pipeline_ci.project`), and what ``pipeline-ci run --backend pai
--manifest`` reads. :func:`pipeline_ci.discovery.looks_like_manifest` is the cheap discovery test;
:func:`load_stream` loads every YAML document of the text with positions in the file (alipai submits
inline components as a multi-document YAML: component definitions with ``metadata.guid`` first, the entry
pipeline last).

Views for the lint rules, all tolerant of malformed shapes (they skip what they cannot read; the shape
rule reports it): :class:`Node` (a document or a step of a ``spec.pipelines`` list), :func:`nodes`,
:func:`declarations` (``spec.inputs``/``spec.outputs`` entries), :func:`arguments`, :func:`component`
(the inline component a ``guid`` step runs), :func:`resolve` (a step name among siblings) and
:func:`references` (every ``{{...}}`` with the scope it resolves in).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from ...argo.walk import strings
from ...discovery import display, real
from ...yamldoc import MAX_BYTES, Document, FileError, JsonPath, Loader, LoadError, Pos, decode, load_text

API_VERSION = "core/v1"
KINDS = ("parameters", "artifacts")
SIDES = ("inputs", "outputs")
LOOP_KEYS = ("withItems", "withParam", "withSequence")
TAG_RE = re.compile(r"\{\{(.*?)\}\}", re.S)
SINGLE_TAG_RE = re.compile(r"^\s*\{\{[^{}]*\}\}\s*$")
_INPUT_RE = re.compile(r"^inputs(?:\.([^.]*)(?:\.(.*))?)?$")
_OUTPUT_RE = re.compile(r"^pipelines\.(.+)\.outputs\.(parameters|artifacts)\.([^.]+)$")
_RESULT_RE = re.compile(r"^pipelines\.(.+)\.outputs\.result$")


# -- the model and loading -----------------------------------------------------------------------------------


@dataclass
class Manifest:
    """A PAI pipeline manifest file.

    ``documents`` holds every document in file order (inline components first), ``entry`` is the entry pipeline
    (the last document); ``errors`` says what kept the file from loading (reported by the PAI rules). ``text``
    is the file's text as PAI receives it.
    """

    path: Path
    documents: list[Document] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    text: str = ""

    @property
    def root(self) -> Path:
        """The folder holding the manifest (where its settings are looked up)."""
        return self.path.parent

    @property
    def file(self) -> str:
        """The file as shown to users."""
        return display(self.path)

    @property
    def entry(self) -> Document | None:
        return self.documents[-1] if self.documents else None

    def file_documents(self) -> list[Document]:
        """Every document loaded from the file, for inline suppressions."""
        return self.documents


def load_manifest(path: Path) -> Manifest:
    """Load the PAI pipeline manifest at ``path`` (resolved); never raises for bad input."""
    manifest = Manifest(real(path))
    shown = manifest.file
    try:
        manifest.text = read_text(manifest.path, shown)
        manifest.documents = load_stream(manifest.text, shown)
    except LoadError as exc:
        manifest.errors.append(FileError(shown, exc))
    return manifest


def read_text(path: Path, file: str) -> str:
    """The text of the manifest at ``path``; raises :class:`LoadError` when it is too large, binary or unreadable."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise LoadError(f"file is {path.stat().st_size:,} bytes; manifests larger than {MAX_BYTES:,} bytes are "
                            "refused")
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}") from None
    return decode(raw, file)


def load_stream(text: str, file: str) -> list[Document]:
    """Each document of ``text`` as a :class:`Document` whose positions (and ``lines``) are those of the file."""
    try:
        bounds = _document_bounds(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        parts = ", ".join(p for p in (exc.context, exc.problem) if p)
        raise LoadError(f"invalid YAML: {parts}" if parts else "invalid YAML",
                        Pos(mark.line + 1, mark.column + 1) if mark else Pos(1, 1)) from None
    except yaml.YAMLError as exc:
        raise LoadError(f"invalid YAML: {exc}") from None
    lines = text.splitlines()
    if len(bounds) <= 1:
        doc = load_text(text, file)
        docs = [doc]
        first = [bounds[0][0] if bounds else 0]
    else:
        docs, first = [], []
        for start_line, start, end in bounds:
            docs.append(load_text(text[start:end], file, _shifted(start_line)))
            first.append(start_line)
    for doc, line in zip(docs, first, strict=True):
        doc.lines = lines
        if doc.data is None:  # an empty document: at its start ("---"), not at the null after it
            doc.values[()] = Pos(line + 1, 1)
    return docs


def _shifted(first_line: int) -> Callable[[int, int], Pos]:
    """Maps 0-based positions in a document that starts at 0-based line ``first_line`` to 1-based file positions."""
    return lambda line, col: Pos(first_line + line + 1, col + 1)


def _document_bounds(text: str) -> list[tuple[int, int, int]]:
    """``(first line, start offset, end offset)`` of each document, whole lines from the document's start."""
    out: list[tuple[int, int, int]] = []
    start: Any = None  # a yaml Mark (the C and the pure-Python loaders have different Mark types)
    for event in yaml.parse(text, Loader=Loader):
        if isinstance(event, yaml.DocumentStartEvent):
            start = event.start_mark
        elif isinstance(event, yaml.DocumentEndEvent) and start is not None:
            out.append((start.line, start.index - start.column, event.end_mark.index if event.end_mark else len(text)))
            start = None
    return out


# -- nodes ---------------------------------------------------------------------------------------------------


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, eq=False)
class Node:
    """A manifest document (``parent`` None) or a step in its parent's ``spec.pipelines``."""

    doc: Document
    path: JsonPath
    body: dict
    parent: Node | None = None
    index: int = 0  # document index for documents, list index for steps

    @property
    def metadata(self) -> dict:
        return _mapping(self.body.get("metadata"))

    @property
    def spec(self) -> dict:
        return _mapping(self.body.get("spec"))

    @property
    def name(self) -> str | None:
        name = self.metadata.get("name")
        return name if isinstance(name, str) and name else None

    @property
    def identifier(self) -> str | None:
        ident = self.metadata.get("identifier")
        return ident if isinstance(ident, str) and ident else None

    @property
    def guid(self) -> str | None:
        guid = self.metadata.get("guid")
        return guid if isinstance(guid, str) and guid else None

    @property
    def is_step(self) -> bool:
        return self.parent is not None

    @property
    def loops(self) -> bool:
        return any(key in self.spec for key in LOOP_KEYS)

    def at(self, *rel: Any) -> JsonPath:
        """The document path of ``rel`` inside this node."""
        return (*self.path, *rel)

    @property
    def label(self) -> str:
        """``step 'x'``, ``pipeline 'x'``, ``component 'guid'`` or ``document N`` for messages."""
        if self.is_step:
            shown = self.name or self.identifier or self.guid
            return f"step '{shown}'" if shown else f"step #{self.index + 1}"
        if self.guid:
            return f"component '{self.guid}'"
        return f"pipeline '{self.identifier}'" if self.identifier else f"document {self.index + 1}"

    @cached_property
    def steps(self) -> list[Node]:
        items = self.spec.get("pipelines")
        return [
            Node(self.doc, self.at("spec", "pipelines", i), step, self, i)
            for i, step in enumerate(items if isinstance(items, list) else [])
            if isinstance(step, dict)
        ]

    @cached_property
    def step_index(self) -> tuple[dict[str, Node], dict[str, Node]]:
        """This node's steps by name and by identifier (the first wins)."""
        by_name: dict[str, Node] = {}
        by_identifier: dict[str, Node] = {}
        for step in self.steps:
            if step.name:
                by_name.setdefault(step.name, step)
            if step.identifier:
                by_identifier.setdefault(step.identifier, step)
        return by_name, by_identifier


def roots(manifest: Manifest) -> list[Node]:
    """One node per document that is a mapping, in file order."""
    return [Node(doc, (), doc.data, None, i) for i, doc in enumerate(manifest.documents) if isinstance(doc.data, dict)]


def nodes(manifest: Manifest) -> Iterator[Node]:
    """Every document and every step, depth-first in file order."""
    todo = list(reversed(roots(manifest)))
    while todo:
        node = todo.pop()
        yield node
        todo.extend(reversed(node.steps))


@dataclass(frozen=True)
class Entry:
    """One mapping of ``spec.<side>.<kind>`` or ``spec.arguments.<kind>`` with its document path."""

    path: JsonPath
    kind: str  # parameters | artifacts
    body: dict

    @property
    def name(self) -> str | None:
        name = self.body.get("name")
        return name if isinstance(name, str) and name else None


def _entries(node: Node, key: str, kinds: tuple[str, ...] = KINDS) -> Iterator[Entry]:
    holder = node.spec.get(key)
    for kind in kinds:
        items = holder.get(kind) if isinstance(holder, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict):
                yield Entry(node.at("spec", key, kind, i), kind, item)


def declarations(node: Node, side: str, kinds: tuple[str, ...] = KINDS) -> Iterator[Entry]:
    """The parameter/artifact declarations of ``spec.inputs`` or ``spec.outputs``."""
    return _entries(node, side, kinds)


def declared(node: Node, side: str, kind: str) -> dict[str, Entry] | None:
    """Declarations by name (first wins); None when ``spec.<side>.<kind>`` is malformed."""
    holder = node.spec.get(side)
    items = holder.get(kind) if isinstance(holder, dict) else None
    if holder is not None and not isinstance(holder, dict) or items is not None and not isinstance(items, list):
        return None
    out: dict[str, Entry] = {}
    for entry in declarations(node, side, (kind,)):
        if entry.name:
            out.setdefault(entry.name, entry)
    return out


def arguments(node: Node) -> Iterator[Entry]:
    """The entries of ``spec.arguments.parameters`` and ``spec.arguments.artifacts``."""
    return _entries(node, "arguments")


def components(manifest: Manifest) -> dict[str, Node]:
    """Inline components by ``metadata.guid`` (documents only; the first wins)."""
    out: dict[str, Node] = {}
    for root in roots(manifest):
        if root.guid:
            out.setdefault(root.guid, root)
    return out


def component(manifest: Manifest, step: Node) -> Node | None:
    """The inline component a ``guid`` step runs; None for registered components (not known offline)."""
    return components(manifest).get(step.guid) if step.is_step and step.guid else None


def resolve(parent: Node, name: str) -> tuple[Node | None, bool]:
    """The step of ``parent`` that ``name`` designates and whether only its identifier matched (rule P12)."""
    by_name, by_identifier = parent.step_index
    if name in by_name:
        return by_name[name], False
    return by_identifier.get(name), name in by_identifier


def step_names(parent: Node) -> list[str]:
    return [s.name for s in parent.steps if s.name]


# -- references ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    """A reference split into its parts; ``root`` is ``inputs``, ``pipelines`` or ``item``."""

    root: str
    kind: str | None = None  # parameters | artifacts | result (None: malformed)
    name: str | None = None  # input / output name
    step: str | None = None  # pipelines.<step>


def parse(tag: str) -> Parsed | None:
    """The parts of a ``{{...}}`` body; None for namespaces this linter does not know (not checked)."""
    if tag == "item" or tag.startswith("item."):
        return Parsed("item")
    if tag == "inputs" or tag.startswith("inputs."):
        m = _INPUT_RE.match(tag)
        kind, name = (m.group(1), m.group(2)) if m else (None, None)
        return Parsed("inputs", kind or None, name or None)
    if tag.startswith("pipelines."):
        if m := _OUTPUT_RE.match(tag):
            return Parsed("pipelines", m.group(2), m.group(3), m.group(1))
        if m := _RESULT_RE.match(tag):
            return Parsed("pipelines", "result", None, m.group(1))
        return Parsed("pipelines", None, None, tag.split(".")[1] or None)
    return None


@dataclass(frozen=True)
class Reference:
    """One ``{{...}}`` in a manifest string.

    ``scope`` is the node whose ``spec.inputs`` and ``spec.pipelines`` the reference resolves against;
    ``step`` is the step whose field holds it (None for a node's own outputs and containers); ``field`` is
    ``from``, ``value``, ``when``, ``withParam``, ``withItems`` or ``container``; ``category`` is the kind
    (parameters/artifacts) of the argument or output entry holding a ``from``/``value``, else None.
    """

    path: JsonPath
    tag: str  # the stripped body of the tag
    parsed: Parsed | None
    scope: Node
    step: Node | None
    field: str
    category: str | None = None


def _refs(path: JsonPath, text: str, scope: Node, step: Node | None, field: str,
          category: str | None = None) -> Iterator[Reference]:
    for match in TAG_RE.finditer(text):
        tag = match.group(1).strip()
        yield Reference(path, tag, parse(tag), scope, step, field, category)


def _argument_refs(step: Node, scope: Node) -> Iterator[Reference]:
    for entry in arguments(step):
        for key in ("from", "value"):
            value = entry.body.get(key)
            if key == "value" and isinstance(value, list) and entry.kind == "artifacts":  # a repeated artifact
                for i, item in enumerate(value):
                    for inner in ("from", "value") if isinstance(item, dict) else ():
                        for path, text in strings(item.get(inner), (*entry.path, "value", i, inner)):
                            yield from _refs(path, text, scope, step, inner, entry.kind)
                continue
            for path, text in strings(value, (*entry.path, key)):
                yield from _refs(path, text, scope, step, key, entry.kind)


def from_values(node: Node) -> Iterator[tuple[JsonPath, Any, Entry]]:
    """``(path, value, entry)`` of every ``from`` in the node's outputs and arguments (repeated artifacts too)."""
    for entry in declarations(node, "outputs"):
        if "from" in entry.body:
            yield (*entry.path, "from"), entry.body["from"], entry
    for entry in arguments(node):
        if "from" in entry.body:
            yield (*entry.path, "from"), entry.body["from"], entry
        items = entry.body.get("value") if entry.kind == "artifacts" else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict) and "from" in item:
                yield (*entry.path, "value", i, "from"), item["from"], entry


def step_references(step: Node, scope: Node) -> Iterator[Reference]:
    """References in a step's arguments, ``when`` and loop fields, resolved in ``scope``."""
    yield from _argument_refs(step, scope)
    for key in ("when", "withParam", "withItems"):
        for path, text in strings(step.spec.get(key), step.at("spec", key)):
            yield from _refs(path, text, scope, step, key)


def own_references(node: Node) -> Iterator[Reference]:
    """References in a node's ``spec.outputs`` entries and its containers, resolved in the node itself."""
    for entry in declarations(node, "outputs"):
        for path, text in strings(entry.body.get("from"), (*entry.path, "from")):
            yield from _refs(path, text, node, None, "from", entry.kind)
    for key in ("container", "initContainers", "sideCarContainers"):
        for path, text in strings(node.spec.get(key), node.at("spec", key)):
            yield from _refs(path, text, node, None, "container")


def references(manifest: Manifest) -> Iterator[Reference]:
    """Every reference of the manifest, each with its scope."""
    for node in nodes(manifest):
        yield from own_references(node)
        if not node.is_step:  # a document's own arguments (Terraform-style empty lists) resolve in itself
            yield from _argument_refs(node, node)
        for step in node.steps:
            yield from step_references(step, node)


def sibling_refs(step: Node) -> Iterator[tuple[Reference, Node, bool]]:
    """``(reference, sibling, by identifier)`` for each reference of ``step`` to a sibling's outputs."""
    if step.parent is None:
        return
    for ref in step_references(step, step.parent):
        if ref.parsed and ref.parsed.root == "pipelines" and ref.parsed.step:
            target, by_identifier = resolve(step.parent, ref.parsed.step)
            if target is not None:
                yield ref, target, by_identifier


def explicit_dependencies(step: Node) -> list[tuple[JsonPath, str]]:
    """``(path, name)`` of each string in ``spec.dependencies``."""
    deps = step.spec.get("dependencies")
    return [(step.at("spec", "dependencies", i), d) for i, d in enumerate(deps if isinstance(deps, list) else [])
            if isinstance(d, str)]


# -- parameter types -----------------------------------------------------------------------------------------

PARAM_TYPES = ("String", "Int", "Double", "Bool", "Map", "List", "Array")  # List (docs) and Array (alipai)
_RANGE_RE = re.compile(r"^\s*([\[(])\s*([^,\s]+)\s*,\s*([^,\s]+)\s*([\])])\s*$")


def same_type(a: str, b: str) -> bool:
    """Parameter types are equal (``List`` and ``Array`` are the same type)."""
    lists = ("List", "Array")
    return a == b or a in lists and b in lists


def fits_type(type_name: str, value: Any) -> bool:
    """``value`` has the YAML type that ``type_name`` expects (rule P09); unknown types accept anything."""
    if type_name == "Int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "Double":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "Bool":
        return isinstance(value, bool)
    if type_name == "String":
        return isinstance(value, str)
    if type_name == "Map":
        return isinstance(value, dict)
    if type_name in ("List", "Array"):
        return isinstance(value, list)
    return True


@dataclass(frozen=True)
class Range:
    """A ``feasible.range`` such as ``[0, 1)``: bounds (None = infinite) and whether each is inclusive."""

    low: float | None
    high: float | None
    low_inclusive: bool
    high_inclusive: bool

    def contains(self, x: float) -> bool:
        if self.low is not None and (x < self.low or x == self.low and not self.low_inclusive):
            return False
        return not (self.high is not None and (x > self.high or x == self.high and not self.high_inclusive))


def parse_range(text: Any) -> Range | None:
    """The range in ``text`` (``[lo, hi)`` with numbers or ``INF``/``-INF``), None when it cannot be read."""
    if not isinstance(text, str) or not (m := _RANGE_RE.match(text)):
        return None
    try:
        low = None if m.group(2).upper() == "-INF" else float(m.group(2))
        high = None if m.group(3).upper().lstrip("+") == "INF" else float(m.group(3))
    except ValueError:
        return None
    if low != low or high != high:  # NaN
        return None
    return Range(low, high, m.group(1) == "[", m.group(4) == "]")
