"""Run overrides files as lint sees them: finding them in a project folder and loading them with positions.

A run overrides file is the flat ``{parameter: value}`` mapping of ``pipeline-ci run --overrides-file``.
Lint finds them by name (:data:`OVERRIDES_NAME`) anywhere under a Clarifai project's root, except in its
step folders, :data:`~pipeline_ci.discovery.SKIP_DIRS`, nested projects and symlinked folders
(:func:`overrides_files`), and loads each with the YAML loader (JSON is YAML's flow syntax, so ``.json``
files load too). How a run reads and sends one is :mod:`pipeline_ci.overrides`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from ..discovery import CONFIG, SKIP_DIRS, _inside, is_pipeline_config, real
from ..records import NamedTuple
from ..yamldoc import Document, FileError, load_inside

#: Names of run overrides files: ``overrides*.yaml|yml|json`` or ``*.overrides.yaml|yml|json``, any case.
OVERRIDES_NAME = re.compile(r"^(?:overrides.*|.+\.overrides)\.(?:ya?ml|json)$", re.IGNORECASE)


class OverridesFile(NamedTuple):
    """One loaded run overrides file (files that do not load are :class:`~pipeline_ci.yamldoc.FileError` s)."""

    path: Path
    doc: Document

    @property
    def file(self) -> str:
        """The file as shown to users (and in findings)."""
        return self.doc.file


def overrides_files(root: Path, skip: Iterable[Path] = ()) -> list[Path]:
    """Run overrides files under ``root`` (resolved), in path order.

    The folders in ``skip`` (resolved; a project's step folders), :data:`~pipeline_ci.discovery.SKIP_DIRS`
    and nested projects (a folder with its own pipeline ``config.yaml``) are not searched; symlinked folders
    are not followed.
    """
    skipped = set(skip)
    out: list[Path] = []
    for top, dirs, files in os.walk(root):  # ``root`` is resolved and links are not followed: ``top`` is real
        folder = Path(top)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and folder / d not in skipped
                         and not os.path.islink(folder / d) and not _nested_project(folder / d, root))
        out += [folder / name for name in sorted(files) if OVERRIDES_NAME.match(name)]
    return out


def load_overrides(root: Path, skip: Iterable[Path], errors: list[FileError]) -> list[OverridesFile]:
    """Every overrides file under ``root`` that loads; what keeps the others from loading goes to ``errors``."""
    out: list[OverridesFile] = []
    for path in overrides_files(root, skip):
        doc = load_inside(path, errors, root)
        if doc is not None:
            out.append(OverridesFile(path, doc))
    return out


def _nested_project(folder: Path, root: Path) -> bool:
    """Does ``folder`` (a real folder inside ``root``) hold a pipeline ``config.yaml`` of its own?"""
    config = folder / CONFIG
    if os.path.islink(config) and not _inside(real(config), root):
        return False
    return config.is_file() and is_pipeline_config(config)
