"""Where steps and pipeline versions are uploaded: ``local`` (the embedded default) or ``clarifai``.

A backend implements :class:`~pipeline_ci.backends.base.Backend`; :func:`get` builds one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .base import Backend, DeployError

NAMES = ("local", "clarifai")


def get(name: str, root: Path, env: Mapping[str, str]) -> Backend:
    if name == "local":
        from .local import LocalBackend

        return LocalBackend(root)
    if name == "clarifai":
        from .clarifai import ClarifaiBackend

        return ClarifaiBackend.from_env(env)
    raise DeployError(f"unknown backend {name!r}; choose from {', '.join(NAMES)}", exit_code=2)
