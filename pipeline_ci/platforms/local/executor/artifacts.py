"""Artifacts passed between the nodes of a local run through the run folder (Argo docs
``walk-through/artifacts/``, ``walk-through/hardwired-artifacts/``).

An output artifact (``outputs.artifacts[].path``) of a leaf is copied, file or folder, after the leaf ends
to ``<run folder>/artifacts/<node id>-<name>``; that location is the artifact's value locally:
``{{steps.X.outputs.artifacts.Y}}`` / ``{{tasks.X.outputs.artifacts.Y}}`` / ``{{inputs.artifacts.Y}}``
resolve to it, so an argument ``from:`` carries it to the next node, where it is copied to the input
artifact's ``path`` (below the attempt's temporary ``fs/`` folder, like any absolute container path; see
:mod:`.leaf`). ``raw.data`` inputs are written the same way. ``archive``, ``mode`` and ``optional`` are read;
remote locations (``s3``, ``http``, ``git``, ...) are refused before the run (:mod:`pipeline_ci.argo.local_support`). A missing
output artifact fails the node (Error) unless it is ``optional``; a composite template's output artifacts
come from ``from:``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....argo.local_support import mapping
from .leaf import LeafError, map_path

ART = "\0artifact:"  # prefix of the artifact entries in the path map given to :func:`.leaf.local_command`


@dataclass(frozen=True)
class InputArtifact:
    """An input artifact of a leaf: where it goes in the container, and its local source (or raw text)."""

    name: str
    path: str
    source: Path | None = None
    raw: str | None = None
    optional: bool = False


def declared(tmpl: dict, kind: str) -> list[dict]:
    """The template's ``inputs``/``outputs`` artifacts (mappings with a name)."""
    items = mapping(tmpl.get(kind)).get("artifacts") or []
    return [a for a in items if isinstance(a, dict) and isinstance(a.get("name"), str)] if isinstance(items, list) else []


def argument_sources(body: dict) -> dict[str, str]:
    """A (substituted) call's ``arguments.artifacts``: name -> local location (``from``) or raw data."""
    out: dict[str, str] = {}
    for art in mapping(body.get("arguments")).get("artifacts") or []:
        if not isinstance(art, dict) or not isinstance(art.get("name"), str):
            continue
        if art.get("from") is not None:
            out[art["name"]] = str(art["from"])
        elif isinstance(art.get("raw"), dict):
            out[art["name"]] = "raw:" + str(art["raw"].get("data", ""))
    return out


def resolve_inputs(tmpl: dict, given: dict[str, str], store: Path, node_id: str) -> dict[str, InputArtifact]:
    """The input artifacts of a template from the call's artifacts (or the template's own ``raw``/``from``);
    raw data is written to the store so every artifact is a location. Raises LeafError for a missing one."""
    out: dict[str, InputArtifact] = {}
    for art in declared(tmpl, "inputs"):
        name = art["name"]
        value = given.get(name)
        if value is None and art.get("from") is not None:
            value = str(art["from"])
        if value is None and isinstance(art.get("raw"), dict):
            value = "raw:" + str(art["raw"].get("data", ""))
        optional = bool(art.get("optional"))
        if value is None:
            if optional:
                continue
            raise LeafError(f"inputs.artifacts.{name} was not supplied")
        if value.startswith("raw:"):
            store.mkdir(parents=True, exist_ok=True)
            target = store / f"{node_id}-input-{name}"
            target.write_text(value[4:], encoding="utf-8")
            value = str(target)
        source = Path(value)
        if not source.exists():
            if optional:
                continue
            raise LeafError(f"inputs.artifacts.{name}: {value} does not exist (an artifact of a node that did not "
                            "produce it?)")
        out[name] = InputArtifact(name, str(art.get("path") or f"/tmp/{name}"), source, optional=optional)
    return out


def path_map(tmpl: dict, inputs: dict[str, InputArtifact]) -> dict[str, str]:
    """Entries for the path map of :func:`.leaf.local_command`: every artifact's container path."""
    out = {f"{ART}in:{a.name}": a.path for a in inputs.values()}
    for art in declared(tmpl, "outputs"):
        if isinstance(art.get("path"), str):
            out[f"{ART}out:{art['name']}"] = art["path"]
    return out


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)


def place_inputs(inputs: dict[str, InputArtifact], tmpdir: Path, tmpl: dict) -> None:
    """Copy the input artifacts into the attempt's folder; make the parents of the output paths."""
    for art in inputs.values():
        if art.source is not None:
            _copy(art.source, map_path(tmpdir, art.path))
    for out in declared(tmpl, "outputs"):
        if isinstance(out.get("path"), str):
            map_path(tmpdir, out["path"]).parent.mkdir(parents=True, exist_ok=True)


def collect_outputs(tmpl: dict, tmpdir: Path, store: Path, node_id: str) -> dict[str, str]:
    """Copy the leaf's output artifacts to the run folder; name -> location. Raises LeafError for a missing one."""
    out: dict[str, str] = {}
    for art in declared(tmpl, "outputs"):
        path = art.get("path")
        if not isinstance(path, str):
            continue
        local = map_path(tmpdir, path)
        if not local.exists():
            if art.get("optional"):
                continue
            raise LeafError(f"output artifact '{art['name']}': {path} was not written")
        target = store / f"{node_id}-{art['name']}"
        _copy(local, target)
        out[art["name"]] = str(target)
    return out


def composite_outputs(tmpl: dict, resolve: Any) -> dict[str, str]:
    """A steps/DAG template's output artifacts: ``from`` resolved by ``resolve(text) -> str``."""
    out: dict[str, str] = {}
    for art in declared(tmpl, "outputs"):
        if art.get("from") is not None:
            out[art["name"]] = str(resolve(art["from"]))
    return out
