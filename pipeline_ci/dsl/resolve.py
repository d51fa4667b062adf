"""Where commands meet Python-defined pipelines: which paths name one, and which project folder stands for it.

A path names a DSL pipeline when it is a ``*.py`` file, or a folder whose settings (``.pipeline-ci.yaml`` or
``[tool.pipeline-ci]``, searched upwards) list pipeline files inside it::

    dsl: pipelines/text.py                 # or a list; relative to the settings file
    dsl:
      - file: pipelines/text.py
        bundle: pipelines/generated-text   # the committed bundle (default: generated-<pipeline id> next to the file)
    python: .venv-sdk/bin/python           # the interpreter that compiles them (default: the one running pipeline-ci)

:func:`expand` replaces each by its generated bundle (:mod:`pipeline_ci.dsl.bundle`), which every command then
treats as a project. The *committed* bundle is the folder ``clarifai pipeline upload FILE.py`` writes
(``generated-<pipeline id>/`` next to the file) or the ``bundle:`` setting; ``upload``/``deploy`` to a remote backend
write the generated files there (:func:`publish`) and pin the lockfiles in it, as the SDK does.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from ..discovery import _head, find_settings, real
from ..records import NamedTuple
from . import _DSL_KEY
from .bundle import STATE, Bundle, bundle_meta, is_bundle, materialize


class Entry(NamedTuple):
    """One pipeline file named by a settings file, and its committed bundle if the setting names one."""

    file: Path
    bundle: Path | None = None


def _settings_error(message: str) -> Exception:
    from ..settings import SettingsError

    return SettingsError(message)


def settings_entries(settings: Path | None) -> tuple[list[Entry], str | None]:
    """The ``dsl:`` entries and the ``python:`` setting of a settings file (validated; paths made absolute)."""
    if settings is None:
        return [], None
    from ..settings import _read

    return entries_of(_read(settings) or {}, settings)


def entries_of(raw: Mapping[str, object], settings: Path) -> tuple[list[Entry], str | None]:
    """:func:`settings_entries` of the settings mapping ``raw`` already read from ``settings``."""
    raw = {str(k).replace("_", "-"): v for k, v in raw.items()}
    base = real(settings).parent
    python = raw.get("python")
    if python is not None and not isinstance(python, str):
        raise _settings_error(f"{settings}: 'python' must be the path or name of an interpreter")
    if python and ("/" in python or os.sep in python):
        python = str(base / python)
    value = raw.get("dsl")
    items = [] if value is None else value if isinstance(value, list) else [value]
    out: list[Entry] = []
    for item in items:
        if isinstance(item, str):
            out.append(Entry(base / item))
        elif isinstance(item, dict) and isinstance(item.get("file"), str) and set(item) <= {"file", "bundle"} \
                and isinstance(item.get("bundle", ""), str):
            out.append(Entry(base / item["file"], base / item["bundle"] if item.get("bundle") else None))
        else:
            raise _settings_error(f"{settings}: each 'dsl' entry must be a path to a Python pipeline file or "
                                  f"{{file: PATH, bundle: DIR}}, not {item!r}")
    for entry in out:
        if entry.file.suffix != ".py" or not entry.file.is_file():
            raise _settings_error(f"{settings}: dsl: no such Python pipeline file: {entry.file}")
    return out, python


def _entries_for(path: Path, config: Path | None = None) -> tuple[list[Entry], str | None]:
    """The DSL entries that ``path`` (a file or folder) names, and the ``python:`` setting that applies."""
    settings = config or find_settings(path if path.is_dir() else path.parent)
    entries, python = settings_entries(settings)
    if path.is_file():
        mine = [e for e in entries if real(e.file) == real(path)]
        return mine or [Entry(path)], python
    folder = real(path)
    return [e for e in entries if real(e.file).is_relative_to(folder)], python


_DSL_IMPORT = re.compile(rb"^\s*(?:from\s+clarifai\.runners\.pipelines\b|import\s+clarifai\.runners\.pipelines\b"
                         rb"|from\s+clarifai\.runners\s+import\s+(?:\(\s*)?pipelines\b)", re.M)


def is_pipeline_file(path: Path) -> bool:
    """Cheap: a ``*.py`` file that imports ``clarifai.runners.pipelines`` and calls ``Pipeline(`` (a step script
    given to ``lint`` by a pre-commit hook is not one: generated step scripts drop that import)."""
    if path.suffix != ".py":
        return False
    try:
        head = _head(path, 1 << 20)
    except OSError:
        return False
    return bool(_DSL_IMPORT.search(head)) and b"Pipeline(" in head


def names_dsl(path: Path, config: Path | None = None) -> bool:
    """Cheap: is ``path`` a pipeline file, or a folder whose settings name one? (no SDK is run)"""
    if path.suffix == ".py":
        return is_pipeline_file(path) or (path.is_file() and _named_by_settings(path, config))
    if not path.is_dir():
        return False
    settings = config or find_settings(path)
    try:
        if settings is None or not _DSL_KEY.search(settings.read_bytes()):
            return False
        return bool(_entries_for(path, config)[0])
    except OSError:
        return False


def _named_by_settings(path: Path, config: Path | None) -> bool:
    settings = config or find_settings(path.parent)
    try:
        if settings is None or not _DSL_KEY.search(settings.read_bytes()):
            return False
    except OSError:
        return False
    return any(real(e.file) == real(path) for e in settings_entries(settings)[0])


def expand(paths: list[Path], env: Mapping[str, str], config: Path | None = None) -> list[Path]:
    """``paths`` with each pipeline file replaced by its bundle, and the bundles of the pipeline files a folder's
    settings name added after the folder (a folder stays: it may hold ordinary projects too)."""
    out: list[Path] = []
    for path in paths:
        if is_bundle(path) or not path.exists() or not names_dsl(path, config):
            out.append(path)
            continue
        entries, python = _entries_for(path, config)
        if path.is_dir():
            out.append(path)
        for entry in entries:
            bundle = materialize(entry.file, env, python_setting=python)
            link(bundle, committed_for(bundle, entry))
            out.append(bundle.root)
    return list(dict.fromkeys(out))


def committed_for(bundle: Bundle, entry: Entry | None = None) -> Path:
    """The committed bundle folder of ``bundle`` (it may not exist): the ``bundle:`` setting, else
    ``generated-<pipeline id>`` next to the pipeline file (where ``clarifai pipeline upload FILE.py`` writes)."""
    if entry is not None and entry.bundle is not None:
        return entry.bundle
    return bundle.source.parent / f"generated-{bundle.pipeline_id}"


def link(bundle: Bundle, committed: Path) -> None:
    """Record, next to the bundle, the committed bundle it belongs to (read by the drift rule and ``upload``)."""
    path = bundle.root.parent / "link.json"
    data = {"committed": str(committed), "source": str(bundle.source)}
    try:
        if json.loads(path.read_text(encoding="utf-8")) == data:
            return
    except (OSError, ValueError):
        pass
    path.write_text(json.dumps(data), encoding="utf-8")


def linked(root: Path) -> tuple[Path, Path] | None:
    """``(pipeline file, committed bundle folder)`` of the DSL bundle at ``root``, or None."""
    if not is_bundle(root):
        return None
    try:
        data = json.loads((real(root).parent / "link.json").read_text(encoding="utf-8"))
        return Path(data["source"]), Path(data["committed"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def drop_committed(roots: list[Path]) -> list[Path]:
    """``roots`` without the committed bundles of the DSL bundles among them: those folders are generated from the
    Python file (rule D01 checks that they still are, a remote upload rewrites them), so a command that works on
    the Python file does not also work on its copy."""
    committed = {real(found[1]) for root in roots if (found := linked(root)) is not None}
    return [root for root in roots if real(root) not in committed] if committed else roots


def dsl_root(path: Path | None, env: Mapping[str, str], *, committed: bool = False, strict: bool = True) -> Path | None:
    """The project folder standing for the DSL pipeline ``path`` names (a ``.py`` file, or a folder, default the
    current one, whose settings name exactly one): its generated bundle, or with ``committed`` its committed bundle
    when that exists (its lockfile holds the remote ids). None when ``path`` names no DSL pipeline (or, without
    ``strict``, several of them)."""
    target = Path.cwd() if path is None else path
    if not target.exists() or not names_dsl(target):
        return None
    if not strict and len(_entries_for(target)[0]) != 1:
        return None  # several pipeline files and none chosen: not an error unless a project is required
    roots = [p for p in expand([target], env) if is_bundle(p)]
    if len(roots) != 1:
        from ..errors import UsageError

        raise UsageError(f"{target} names {len(roots)} Python pipeline files in its settings; give one of them")
    if committed and (found := linked(roots[0])) is not None and (found[1] / "config.yaml").is_file():
        return found[1]
    return roots[0]


def generated(root: Path) -> bool:
    """Are the files of the project at ``root`` written by pipeline-ci from a pipeline file (a bundle, its preview,
    or a committed bundle just published)? Such files are hashed as they are, tracked by git or not yet."""
    return root in _PUBLISHED or STATE in real(root).parts


_PUBLISHED: set[Path] = set()


def publish(root: Path, *, dry_run: bool, out: Callable[[str], None] | None = None) -> Path:
    """For a remote upload of the DSL bundle ``root``: the committed bundle with the generated files written into
    it (lockfiles kept; nothing deleted, like the SDK's ``generate``). With ``dry_run`` nothing of the repository
    is written: a preview copy in the cache (the committed folder overlaid with the generated files) stands for it."""
    found = linked(root)
    if found is None:
        return root
    committed = found[1]
    target = real(root).parent / "preview" if dry_run else committed
    if dry_run:  # the committed folder as it is (lockfiles, files the generator no longer writes), then overlaid
        import shutil  # with the compression modules it brings: only for a DSL preview

        shutil.rmtree(target, ignore_errors=True)
        if committed.is_dir():
            shutil.copytree(committed, target, symlinks=True, ignore=shutil.ignore_patterns(STATE))
    written = 0
    for file in sorted(real(root).rglob("*")):
        rel = file.relative_to(real(root))
        if not file.is_file() or rel.parts[0] == STATE:
            continue
        dest = target / rel
        data = file.read_bytes()
        if dest.is_file() and dest.read_bytes() == data:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        written += 1
    _PUBLISHED.add(target)
    if out is not None:
        from ..discovery import display

        out(f"{display(found[0])}: " + (f"the plan is for {display(committed)}/ (the generated files, which a real upload "
                                        f"writes there first), shown on a copy in {display(target)}/" if dry_run else
                                        f"{written} generated file(s) written into {display(committed)}/"))
    return target


def source_of(root: Path) -> Path | None:
    """The pipeline file a DSL bundle was generated from."""
    meta = bundle_meta(root)
    return Path(meta["source"]) if meta and isinstance(meta.get("source"), str) else None

