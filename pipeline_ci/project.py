"""The Clarifai pipeline project model: a root ``config.yaml`` with a ``pipeline:`` mapping, the Argo spec embedded
in it, both kinds of lockfiles, its step folders and the run overrides files found in it, each loaded with
positions (see :mod:`pipeline_ci.yamldoc`).

Loading never raises for bad user input: every file that cannot be read or parsed is recorded in
``Project.load_errors`` (``StepDir.load_errors``, ``Project.overrides_errors``) and the rules report it. Nothing
outside the project folder is read: step folders that are absolute, contain ``..`` or resolve (through symlinks)
outside the root are kept as :class:`StepDir` entries with ``escapes=True`` and are never opened.

Run overrides files (:mod:`pipeline_ci.model.overrides`) are found by name anywhere under the root and loaded
into ``Project.overrides``. A PAI pipeline manifest is a model of its own,
:class:`pipeline_ci.platforms.pai.manifest.Manifest`.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from . import hashing
from .discovery import CONFIG, _inside, display, real
from .model.overrides import OverridesFile, load_overrides
from .records import NamedTuple
from .yamldoc import Document, FileError, JsonPath, LoadError, load_embedded, load_inside

LOCK = hashing.LOCKFILE_NAME
SPEC_PATH: JsonPath = ("pipeline", "orchestration_spec", "argo_orchestration_spec")
REF_WITH_VERSION = re.compile(r"^users/([^/]+)/apps/([^/]+)/pipeline_steps/([^/]+)/versions/([^/]+)$")
REF_WITHOUT_VERSION = re.compile(r"^users/([^/]+)/apps/([^/]+)/pipeline_steps/([^/]+)$")


class TemplateRef(NamedTuple):
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
    name = name if isinstance(name, str) else None
    template = template if isinstance(template, str) else None
    ids = (REF_WITH_VERSION.match(name) or REF_WITHOUT_VERSION.match(name)) if name else None
    return TemplateRef(path, name, template, *(ids.groups() if ids else ()))


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


class StepDir:
    """A step folder named by ``step_directories`` (``listed``, at ``index``) or found from an unversioned ref;
    ``escapes``: it lies outside the project, ``boundary``: the folder its files may not leave."""

    # a plain class, not a dataclass: creating dataclasses is a tenth of a cold lint (see pipeline_ci.records)
    def __init__(self, entry: str, path: Path, listed: bool, index: int | None = None, boundary: Path | None = None):
        self.entry = entry
        self.path = path
        self.listed = listed
        self.index = index  # position in step_directories
        self.escapes = False
        self.config: Document | None = None
        self.lock: Document | None = None
        self.load_errors: list[FileError] = []
        self.boundary = boundary

    @property
    def exists(self) -> bool:
        return not self.escapes and self.path.is_dir()

    @cached_property
    def resolved(self) -> Path:
        """The folder with every symlink resolved (:func:`~pipeline_ci.discovery.real`), asked for by several
        rules: resolved once."""
        return real(self.path)

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
                found = hashing.hash_step(self.path, tracked_only=tracked_only, boundary=self.boundary)
                _, value, algo, _ = self.lock_fields()
                # maybe the SDK's hash, in its listing order (it can differ only where a folder forks)
                if algo == "md5" and value and value != found.digest and hashing.forked(found.files):
                    listed = hashing.hash_step(self.path, tracked_only=tracked_only, boundary=self.boundary,
                                               sort_dirs=False)
                    found = listed if listed.digest == value else found
                cache[tracked_only] = found
            except hashing.HashError:
                cache[tracked_only] = None
        return cache[tracked_only]

    def lock_fields(self) -> tuple[str | None, str | None, str | None, dict]:
        """``(id, hash value, hash algo, data)`` of the step lockfile: None where a field is missing or mistyped (the
        algo defaults to md5, as the SDK's), ``{}`` for no lockfile."""
        data: dict = self.lock.data if self.lock and isinstance(self.lock.data, dict) else {}
        hsh: dict = data["hash"] if isinstance(data.get("hash"), dict) else {}
        lock_id = data.get("id") if isinstance(data.get("id"), str) and data.get("id") else None
        value = hsh.get("value") if isinstance(hsh.get("value"), str) else None
        algo = hsh.get("algo", "md5") if isinstance(hsh.get("algo", "md5"), str) else None
        return lock_id, value, algo, data

    def ci_hash(self, in_git: bool) -> hashing.StepHash | None:
        """The hash CI computes: over the files git tracks or has staged when the project is in a git work
        tree and the step has any; otherwise (a step not added to git yet) over the working tree."""
        if in_git:
            tracked = self.content_hash(True)
            if tracked is not None and tracked.files:
                return tracked
        return self.content_hash(False)


def id_text(value: object) -> str | None:
    """An id as text: strings and integers (not booleans); None otherwise."""
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def step_params(step: StepDir) -> dict[str, dict]:
    """The step's ``pipeline_step_input_params`` by name (the first of each name; a string entry ``x`` is
    ``{"name": "x"}``)."""
    items = step.config.get(("pipeline_step_input_params",)) if step.config else None
    out: dict[str, dict] = {}
    for item in items if isinstance(items, list) else []:
        entry = {"name": item} if isinstance(item, str) else item
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            out.setdefault(entry["name"], entry)
    return out


class Project:
    """A Clarifai pipeline project rooted at the folder of its ``config.yaml``.

    ``spec`` is the Argo Workflow embedded in ``config.yaml`` (``lock_spec`` the one in the root lockfile),
    ``steps`` the step folders, ``overrides`` the run overrides files found under the root that load;
    ``load_errors`` and ``overrides_errors`` say what did not load.
    """

    def __init__(self, root: Path):
        self.root = root
        self.config: Document | None = None
        self.spec: Document | None = None
        self.lock: Document | None = None
        self.lock_spec: Document | None = None
        self.steps: list[StepDir] = []
        self.load_errors: list[FileError] = []
        self.overrides: list[OverridesFile] = []
        self.overrides_errors: list[FileError] = []

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

    def file_documents(self) -> list[Document]:
        """Every document loaded from a file of its own (not the embedded specs), for inline suppressions."""
        docs = [self.config, self.lock, *(d for s in self.steps for d in (s.config, s.lock))]
        return [d for d in docs if d is not None] + [o.doc for o in self.overrides]


def _spec_of(doc: Document | None, errors: list[FileError]) -> Document | None:
    if doc is None or not isinstance(doc.get(SPEC_PATH), str):
        return None
    try:
        return load_embedded(doc, SPEC_PATH)
    except LoadError as exc:
        errors.append(FileError(doc.file, exc))
        return None


def load_project(root: Path, *, positions: bool = True, overrides: bool = True) -> Project:
    """Load the project whose root ``config.yaml`` is in ``root``.

    ``changed`` prints no position and needs no run overrides file: it passes ``positions=False`` (documents without
    position tables, see :func:`pipeline_ci.yamldoc.load_text`) and ``overrides=False`` (the folder is not searched
    for them), and gets the same data otherwise.
    """
    root = real(root)
    project = Project(root=root)
    project.config = load_inside(root / CONFIG, project.load_errors, root, positions=positions)
    if (root / LOCK).exists():
        project.lock = load_inside(root / LOCK, project.load_errors, root, positions=positions)
    spec_errors: list[FileError] = []
    project.spec = _spec_of(project.config, spec_errors)
    project.lock_spec = _spec_of(project.lock, spec_errors)
    project.load_errors.extend(spec_errors)
    entries = step_entries(project.config)
    seen = {entry for _, entry in entries}
    for i, entry in entries:
        project.steps.append(_step(root, entry, listed=True, index=i, positions=positions))
    listed_ids = {s.ids[2] for s in project.steps}
    for ref in project.refs:
        if ref.step_id and not ref.version and ref.step_id not in listed_ids and ref.step_id not in seen:
            seen.add(ref.step_id)
            candidate = _step(root, ref.step_id, listed=False, positions=positions)
            if candidate.exists:
                project.steps.append(candidate)
    if not overrides:
        return project
    step_folders = [s.resolved for s in project.steps if not s.escapes]
    # their load errors are lint's business, not a run's
    project.overrides = load_overrides(root, step_folders, project.overrides_errors)
    return project


def step_entries(config: Document | None) -> list[tuple[int, str]]:
    """``(index, entry)`` of every ``pipeline.step_directories`` entry that names a step folder: a non-empty string,
    the first time it comes."""
    entries = config.get(("pipeline", "step_directories")) if config else None
    seen: set[str] = set()
    out = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, str) and entry and entry not in seen:
            seen.add(entry)
            out.append((i, entry))
    return out


def _step(root: Path, entry: str, *, listed: bool, index: int | None = None, positions: bool = True) -> StepDir:
    rel = Path(entry)
    path = root / rel
    step = StepDir(entry=entry, path=path, listed=listed, index=index, boundary=root)
    if rel.is_absolute() or ".." in rel.parts or not _inside(step.resolved, root):
        step.escapes = True
        return step
    if (path / CONFIG).exists():
        step.config = load_inside(path / CONFIG, step.load_errors, root, positions=positions)
    if (path / LOCK).exists():
        step.lock = load_inside(path / LOCK, step.load_errors, root, positions=positions)
    return step
