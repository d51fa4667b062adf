"""The platforms pipeline-ci talks to, one package each, and the one registry the CLI reads.

- :mod:`.local`: the embedded default. Its store (:mod:`.local.store`) keeps step and pipeline versions
  under the git-ignored ``.pipeline-ci/``; its executor (:mod:`.local.executor`) runs the Argo spec here.
- :mod:`.clarifai`: the Clarifai API over gRPC: client, upload, run adapter, id resolution, status codes.
- :mod:`.pai`: Alibaba Cloud PAI (PAIFlow) over signed HTTP: client, signing, manifests, run adapter.

:data:`PLATFORMS` says what each platform can do; every ``--backend`` choice of the CLI is derived from
it (:func:`names`). A backend that stores versions implements :class:`~.base.Backend`; :func:`get`
builds one. Nothing heavy is imported here: the lint path imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Backend, Planner


@dataclass(frozen=True)
class Platform:
    """One platform and the commands it supports."""

    name: str
    upload: bool  # stores step and pipeline versions: ``upload``, ``deploy``
    run: bool  # starts and follows runs: ``run``, ``deploy --run``
    attach: bool  # addresses an existing run by id: ``watch``, ``cancel``
    description: str
    pause: bool = False  # pauses and resumes an existing run: ``pause``, ``resume``


PLATFORMS = (
    Platform("local", upload=True, run=True, attach=False, description="this machine (no account)"),
    Platform("clarifai", upload=True, run=True, attach=True, description="Clarifai Pipelines (gRPC API)", pause=True),
    Platform("pai", upload=False, run=True, attach=True, description="Alibaba Cloud PAI pipelines (PAIFlow)"),
)
BY_NAME = {p.name: p for p in PLATFORMS}


def names(capability: str) -> tuple[str, ...]:
    """The platforms with ``capability`` (``upload``, ``run``, ``attach`` or ``pause``), in registry order."""
    return tuple(p.name for p in PLATFORMS if getattr(p, capability))


def _check(name: str) -> None:
    from ..errors import UsageError

    if name not in names("upload"):
        raise UsageError(f"unknown backend {name!r} for uploads; choose from {', '.join(names('upload'))}")


class _RemotePlanner:
    """A dry run's stand-in for a remote backend without credentials: nothing is verified (every pin is assumed to
    exist, no version of changed content to be there yet); version ids are assigned at upload."""

    verified = False

    def __init__(self, name: str):
        self.name = name

    def planned_version(self, _upload: object) -> None:
        return None

    def pin_problem(self, _key: object, _version: str, _digest: object) -> None:
        return None

    def creations(self, _pipeline: object, _uploads: object) -> list[str]:
        return []

    def find_step_version(self, _upload: object) -> None:
        return None

    def verify_pipeline_version(self, _pipeline: object, _version: str, _resolved: object) -> bool:
        return True

    def find_pipeline_version(self, _pipeline: object, _resolved: object) -> None:
        return None


CREDENTIALS = {"clarifai": "CLARIFAI_PAT"}  # the variable whose presence makes a dry run verify its pins


def planner(name: str, root: Path, env: Mapping[str, str] | None = None) -> Planner:
    """What a dry run asks (reads only): the local backend, the remote backend itself when ``env`` holds its
    credentials (pins are verified on the platform), else a stand-in that needs none and verifies nothing."""
    _check(name)
    if name == "local":
        from .local.store import LocalBackend

        return LocalBackend(root)
    if env is not None and env.get(CREDENTIALS.get(name, ""), "").strip():
        return get(name, root, env)
    return _RemotePlanner(name)


def get(name: str, root: Path, env: Mapping[str, str]) -> Backend:
    """The upload backend ``name`` for the project at ``root`` (credentials from ``env``)."""
    _check(name)
    if name == "local":
        from .local.store import LocalBackend

        return LocalBackend(root)
    from .clarifai.upload import ClarifaiBackend

    return ClarifaiBackend.from_env(env)
