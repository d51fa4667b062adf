"""Where steps and pipeline versions are uploaded: ``local`` (the embedded default) or ``clarifai``.

A backend implements :class:`~pipeline_ci.backends.base.Backend`; :func:`get` builds one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .base import Backend, DeployError

NAMES = ("local", "clarifai")


class _RemotePlanner:
    """What a dry run needs of a remote backend: its name; version ids are assigned at upload."""

    def __init__(self, name: str):
        self.name = name

    def planned_version(self, _upload: object) -> None:
        return None


def planner(name: str, root: Path) -> Backend | _RemotePlanner:
    """A stand-in for ``get`` in dry runs: the local backend (which plans without side effects) or a
    remote planner that needs no credentials."""
    if name == "local":
        from .local import LocalBackend

        return LocalBackend(root)
    if name not in NAMES:
        raise DeployError(f"unknown backend {name!r}; choose from {', '.join(NAMES)}", exit_code=2)
    return _RemotePlanner(name)


def get(name: str, root: Path, env: Mapping[str, str]) -> Backend:
    if name == "local":
        from .local import LocalBackend

        return LocalBackend(root)
    if name == "clarifai":
        from .clarifai import ClarifaiBackend

        return ClarifaiBackend.from_env(env)
    raise DeployError(f"unknown backend {name!r}; choose from {', '.join(NAMES)}", exit_code=2)
