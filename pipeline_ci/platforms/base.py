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


class Backend(Protocol):
    name: str

    def prepare(self, pipeline: dict[str, Any], log: Log) -> None:
        """Make sure the pipeline's app exists (remote backends)."""

    def planned_version(self, upload: StepUpload) -> str | None:
        """The version id an upload will get, when it is known in advance (local: the content hash)."""

    def verify_step_version(self, key: StepKey, version: str) -> bool:
        """Does a pinned step version still exist and is it ready to use?"""

    def upload_step(self, upload: StepUpload, log: Log) -> str:
        """Upload one step version and wait until it is usable; returns its version id."""

    def create_pipeline_version(self, pipeline: dict[str, Any], resolved_spec: Any, log: Log) -> str:
        """Create a pipeline version for the resolved (pinned) spec; returns its id."""
