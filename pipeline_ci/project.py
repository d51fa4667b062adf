"""The pipeline project model: a root ``config.yaml`` with a ``pipeline:`` mapping, its step folders
and both kinds of lockfiles, each loaded with positions (see :mod:`pipeline_ci.yamldoc`).

A PAI pipeline manifest (a ``*.yaml``/``*.yml`` file with a top-level ``apiVersion: core/v1``, see
:mod:`pipeline_ci.platforms.pai.manifest`) is a project of its own: :func:`load_manifest` returns a :class:`Project`
with ``manifest`` set and no Clarifai config, spec or steps, so only the PAI rules find anything in it.

Loading never raises for bad user input: every file that cannot be read or parsed is recorded in
``Project.load_errors`` and the rules report it. Nothing outside the project folder is read: step
folders that are absolute, contain ``..`` or resolve (through symlinks) outside the root are kept
as :class:`StepDir` entries with ``escapes=True`` and are never opened.

Run overrides files (the flat ``{parameter: value}`` mapping of ``pipeline-ci run --overrides-file``) are
found by name anywhere under the root, see :data:`OVERRIDES_NAME` and :func:`overrides_files`, and loaded
into ``Project.overrides`` with the YAML loader (JSON is YAML's flow syntax, so ``.json`` files load too).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from . import hashing
from .discovery import CONFIG, SKIP_DIRS, _inside, display, is_pipeline_config, real
from .platforms.pai.manifest import load_documents
from .yamldoc import Document, JsonPath, LoadError, load_embedded, load_file

LOCK = hashing.LOCKFILE_NAME
SPEC_PATH: JsonPath = ("pipeline", "orchestration_spec", "argo_orchestration_spec")
REF_WITH_VERSION = re.compile(r"^users/([^/]+)/apps/([^/]+)/pipeline_steps/([^/]+)/versions/([^/]+)$")
REF_WITHOUT_VERSION = re.compile(r"^users/([^/]+)/apps/([^/]+)/pipeline_steps/([^/]+)$")
#: Names of run overrides files: ``overrides*.yaml|yml|json`` or ``*.overrides.yaml|yml|json``, any case.
OVERRIDES_NAME = re.compile(r"^(?:overrides.*|.+\.overrides)\.(?:ya?ml|json)$", re.IGNORECASE)


@dataclass
class FileError:
    """A file that could not be loaded (parse error, unreadable, binary, ...)."""

    file: str
    error: LoadError


@dataclass
class TemplateRef:
    """One ``templateRef`` of a step or DAG task in the Argo spec."""

    path: JsonPath  # of the templateRef mapping inside the spec
    name: str | None
    template: str | None
    user_id: str | None = None
    app_id: str | None = None
    step_id: str | None = None
    version: str | None = None


def parse_ref(path: JsonPath, ref: dict) -> TemplateRef:
    name, template = ref.get("name"), ref.get("template")
    out = TemplateRef(path, name if isinstance(name, str) else None, template if isinstance(template, str) else None)
    if out.name:
        if m := REF_WITH_VERSION.match(out.name):
            out.user_id, out.app_id, out.step_id, out.version = m.groups()
        elif m := REF_WITHOUT_VERSION.match(out.name):
            out.user_id, out.app_id, out.step_id = m.groups()
    return out


def template_refs(spec: object) -> list[TemplateRef]:
    """Every templateRef in ``spec.templates[*].steps[*][*]`` and ``spec.templates[*].dag.tasks[*]``."""
    out: list[TemplateRef] = []
    body = spec.get("spec") if isinstance(spec, dict) else None
    templates = body.get("templates") if isinstance(body, dict) else None
    if not isinstance(templates, list):
        return out
    for ti, tmpl in enumerate(templates):
        if not isinstance(tmpl, dict):
            continue
        base: JsonPath = ("spec", "templates", ti)
        groups = tmpl.get("steps")
        if isinstance(groups, list):
            for gi, group in enumerate(groups):
                for si, step in enumerate(group if isinstance(group, list) else []):
                    if isinstance(step, dict) and isinstance(step.get("templateRef"), dict):
                        out.append(parse_ref((*base, "steps", gi, si, "templateRef"), step["templateRef"]))
        dag = tmpl.get("dag")
        tasks = dag.get("tasks") if isinstance(dag, dict) else None
        for ki, task in enumerate(tasks if isinstance(tasks, list) else []):
            if isinstance(task, dict) and isinstance(task.get("templateRef"), dict):
                out.append(parse_ref((*base, "dag", "tasks", ki, "templateRef"), task["templateRef"]))
    return out


@dataclass
class StepDir:
    """A step folder named by ``step_directories`` (``listed``) or found from an unversioned ref."""

    entry: str
    path: Path
    listed: bool
    index: int | None = None  # position in step_directories
    escapes: bool = False
    config: Document | None = None
    lock: Document | None = None
    load_errors: list[FileError] = field(default_factory=list)
    boundary: Path | None = None

    @property
    def exists(self) -> bool:
        return not self.escapes and self.path.is_dir()

    @property
    def ids(self) -> tuple[object, object, object]:
        """``(user_id, app_id, id)`` of ``pipeline_step`` in the step config, None where missing."""
        ps = self.config.get(("pipeline_step",)) if self.config else None
        ps = ps if isinstance(ps, dict) else {}
        return ps.get("user_id"), ps.get("app_id"), ps.get("id")

    def content_hash(self, tracked_only: bool) -> hashing.StepHash | None:
        """The Clarifai step hash (cached per mode); None when the folder cannot be hashed."""
        cache = self.__dict__.setdefault("_hashes", {})
        if tracked_only not in cache:
            try:
                cache[tracked_only] = hashing.hash_step(self.path, tracked_only=tracked_only, boundary=self.boundary)
            except hashing.HashError:
                cache[tracked_only] = None
        return cache[tracked_only]

    def ci_hash(self, in_git: bool) -> hashing.StepHash | None:
        """The hash CI computes: over the files git tracks or has staged when the project is in a git work
        tree and the step has any; otherwise (a step not added to git yet) over the working tree."""
        if in_git:
            tracked = self.content_hash(True)
            if tracked is not None and tracked.files:
                return tracked
        return self.content_hash(False)


@dataclass
class Project:
    """A Clarifai pipeline project rooted at the folder of its ``config.yaml``, or a PAI manifest.

    For a manifest (``manifest_path`` set) ``root`` is the file's folder, ``manifest`` the entry pipeline (the
    last document), ``manifest_docs`` every document in file order and ``manifest_errors`` what kept the file
    from loading (reported by the PAI rules, not by the generic ``yaml-syntax`` rule).
    """

    root: Path
    config: Document | None = None
    spec: Document | None = None
    lock: Document | None = None
    lock_spec: Document | None = None
    steps: list[StepDir] = field(default_factory=list)
    load_errors: list[FileError] = field(default_factory=list)
    manifest: Document | None = None
    manifest_path: Path | None = None
    manifest_docs: list[Document] = field(default_factory=list)
    manifest_errors: list[FileError] = field(default_factory=list)
    overrides: list[Document] = field(default_factory=list)
    overrides_errors: list[FileError] = field(default_factory=list)

    @property
    def is_manifest(self) -> bool:
        return self.manifest_path is not None

    @property
    def config_file(self) -> str:
        return display(self.root / CONFIG)

    @cached_property
    def refs(self) -> list[TemplateRef]:
        return template_refs(self.spec.data) if self.spec else []

    @cached_property
    def in_git(self) -> bool:
        return hashing.git_tracked_files(self.root) is not None

    def step_for_entry(self, entry: str) -> StepDir | None:
        return next((s for s in self.steps if s.entry == entry), None)


def _load(path: Path, errors: list[FileError], boundary: Path) -> Document | None:
    """Load a file of the project; its folder is known to be inside ``boundary`` (the file may be a link)."""
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
        return load_file(path, display(path))
    except LoadError as exc:
        errors.append(FileError(display(path), exc))
        return None


def _spec_of(doc: Document | None, errors: list[FileError]) -> Document | None:
    if doc is None or not isinstance(doc.get(SPEC_PATH), str):
        return None
    try:
        return load_embedded(doc, SPEC_PATH)
    except LoadError as exc:
        errors.append(FileError(doc.file, exc))
        return None


def load_project(root: Path) -> Project:
    """Load the project whose root ``config.yaml`` is in ``root``."""
    root = real(root)
    project = Project(root=root)
    project.config = _load(root / CONFIG, project.load_errors, root)
    if (root / LOCK).exists():
        project.lock = _load(root / LOCK, project.load_errors, root)
    spec_errors: list[FileError] = []
    project.spec = _spec_of(project.config, spec_errors)
    project.lock_spec = _spec_of(project.lock, spec_errors)
    project.load_errors.extend(spec_errors)
    entries = project.config.get(("pipeline", "step_directories")) if project.config else None
    seen: set[str] = set()
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, str) and entry and entry not in seen:
            seen.add(entry)
            project.steps.append(_step(root, entry, listed=True, index=i))
    listed_ids = {s.ids[2] for s in project.steps}
    for ref in project.refs:
        if ref.step_id and not ref.version and ref.step_id not in listed_ids and ref.step_id not in seen:
            seen.add(ref.step_id)
            candidate = _step(root, ref.step_id, listed=False)
            if candidate.exists:
                project.steps.append(candidate)
    for path in overrides_files(root, project.steps):  # their load errors are lint's business, not a run's
        doc = _load(path, project.overrides_errors, root)
        if doc is not None:
            project.overrides.append(doc)
    return project


def overrides_files(root: Path, steps: list[StepDir]) -> list[Path]:
    """Run overrides files under ``root`` (resolved), in path order.

    Step folders, :data:`~pipeline_ci.discovery.SKIP_DIRS` and nested projects (a folder with its own
    pipeline ``config.yaml``) are not searched; symlinked folders are not followed.
    """
    skip = {real(s.path) for s in steps if not s.escapes}
    out: list[Path] = []
    for top, dirs, files in os.walk(root):  # ``root`` is resolved and links are not followed: ``top`` is real
        folder = Path(top)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and folder / d not in skip
                         and not os.path.islink(folder / d) and not _nested_project(folder / d, root))
        out += [folder / name for name in sorted(files) if OVERRIDES_NAME.match(name)]
    return out


def _nested_project(folder: Path, root: Path) -> bool:
    """Does ``folder`` (a real folder inside ``root``) hold a pipeline ``config.yaml`` of its own?"""
    config = folder / CONFIG
    if os.path.islink(config) and not _inside(real(config), root):
        return False
    return config.is_file() and is_pipeline_config(config)


def load_manifest(path: Path) -> Project:
    """Load the PAI pipeline manifest at ``path`` as a project of its own (see :class:`Project`)."""
    path = real(path)
    project = Project(root=path.parent, manifest_path=path)
    shown = display(path)
    try:
        project.manifest_docs = load_documents(path, shown)
    except LoadError as exc:
        project.manifest_errors.append(FileError(shown, exc))
    project.manifest = project.manifest_docs[-1] if project.manifest_docs else None
    return project


def _step(root: Path, entry: str, *, listed: bool, index: int | None = None) -> StepDir:
    rel = Path(entry)
    path = root / rel
    step = StepDir(entry=entry, path=path, listed=listed, index=index, boundary=root)
    if rel.is_absolute() or ".." in rel.parts or not _inside(real(path), root):
        step.escapes = True
        return step
    if (path / CONFIG).exists():
        step.config = _load(path / CONFIG, step.load_errors, root)
    if (path / LOCK).exists():
        step.lock = _load(path / LOCK, step.load_errors, root)
    return step
