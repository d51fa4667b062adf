"""The interface between the deploy engine and a place that stores step and pipeline versions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..changes import StepChange
from ..errors import PlatformError
from ..exitcodes import ExitCode
from ..lockfiles import StepKey
from ..project import StepDir

Log = Callable[[str], None]


class DeployError(PlatformError):
    """A deploy cannot go on. ``exit_code``: 1 build failed, 2 configuration, 3 API/infrastructure (default),
    4 timeout. ``log``: the platform's lines about it (a build log), printed under the message."""

    def __init__(self, message: str, exit_code: int = ExitCode.API, log: list[str] | None = None):
        super().__init__(message, exit_code, details=log or [])
        self.log = self.details


@dataclass
class StepUpload:
    """One step to upload: its folder, the verdict, the files that were hashed and its config."""

    step: StepDir
    change: StepChange
    files: list[str]
    config: dict[str, Any]

    @property
    def key(self) -> StepKey:
        user, app, sid = self.step.ids
        return str(user), str(app), str(sid)


class Planner(Protocol):
    """The read-only half of a backend: what a plan (``--dry-run``) asks. ``verified``: the answers come from the
    platform (False for the credential-less stand-in of :func:`pipeline_ci.platforms.planner`, which assumes every
    pin exists and that no version of changed content is there yet)."""

    name: str
    verified: bool

    def planned_version(self, upload: StepUpload) -> str | None:
        """The version id an upload will get, when it is known in advance (local: the content hash)."""

    def pin_problem(self, key: StepKey, version: str, digest: str | None) -> str | None:
        """Why the pinned step ``version`` cannot be reused for the content ``digest`` (None: it can): it is gone or
        not ready, or, where the platform records content per version, it holds other content (a lockfile whose
        ``id`` and ``hash`` come from two versions, as a bad merge leaves it). A phrase that follows "pinned version
        <id>"."""

    def creations(self, pipeline: dict[str, Any], uploads: list[StepUpload]) -> list[str]:
        """What an apply creates before it uploads ``uploads`` (the app, pipeline steps: one phrase each), asked
        with reads only so that a dry run names them."""

    def find_step_version(self, upload: StepUpload) -> str | None:
        """A version of this step with the same content (hash) that is ready or building, or None."""

    def verify_pipeline_version(self, pipeline: dict[str, Any], version: str, resolved_spec: Any) -> bool:
        """Does a pinned pipeline version still exist, with this content (e.g. not after a git merge that kept one
        branch's ``version_id`` next to the other branch's pins)?"""

    def find_pipeline_version(self, pipeline: dict[str, Any], resolved_spec: Any) -> str | None:
        """A version of the pipeline with the same content (:func:`~pipeline_ci.lockfiles.pipeline_hash`), or None."""


class Backend(Planner, Protocol):
    def prepare(self, pipeline: dict[str, Any], log: Log) -> None:
        """Make sure the pipeline's app exists (remote backends)."""

    def upload_step(self, upload: StepUpload, log: Log) -> str:
        """Upload one step version (recording its content hash) and wait until it is usable; returns its id."""

    def adopt_step_version(self, upload: StepUpload, version: str, log: Log) -> None:
        """Wait until a version :meth:`find_step_version` returned is usable (its build may still be running)."""

    def create_pipeline_version(self, pipeline: dict[str, Any], resolved_spec: Any, log: Log) -> str:
        """Create a pipeline version for the resolved (pinned) spec, recording its content hash; returns its id."""
