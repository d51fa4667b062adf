"""The local backend: no account, no network. A step version *is* its content hash.

Uploads go to ``<project>/.pipeline-ci/store/`` (git-ignored by a ``.gitignore`` inside it):
``steps/<user>/<app>/<step>/<version>.tar.gz`` with a ``.json`` manifest beside it, and
``pipelines/<user>/<app>/<pipeline>/<version>.json``. A pipeline version id is derived from the
resolved spec, secrets, compute and visibility, so re-deploying unchanged content is a no-op.

The local backend never writes a committed file: its pins (the lockfile texts a local deploy would have written)
live under ``store/locks/steps/<user>/<app>/<step>/<content-hash>.yaml`` and
``store/locks/pipelines/<user>/<app>/<pipeline>/<version>.yaml``; the project's ``config-lock.yaml`` files hold
remote pins only (see :func:`pipeline_ci.deploy.apply_local`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ... import archive, lockfiles
from ...hashing import STATE_DIR
from ...lockfiles import StepKey
from ..base import Log, StepUpload

STATE = Path(STATE_DIR)
STORE = STATE / "store"


def ensure_state_dir(root: Path) -> Path:
    """``<root>/.pipeline-ci`` with a ``.gitignore`` that ignores everything in it (the store, the upload lock)."""
    state = root / STATE
    state.mkdir(parents=True, exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# pipeline-ci local store and run records\n*\n", encoding="utf-8")
    return state


class LocalBackend:
    name = "local"
    verified = True

    def __init__(self, root: Path):
        self.root = root
        self.store = root / STORE

    def _ensure_store(self) -> None:
        ensure_state_dir(self.root)
        self.store.mkdir(parents=True, exist_ok=True)

    def _step_path(self, key: StepKey, version: str) -> Path:
        return self.store.joinpath("steps", *key) / version

    def step_pin_path(self, key: StepKey, digest: str) -> Path:
        """Where the local pin (lockfile text) of a step version is kept, keyed by its content hash."""
        return self.store.joinpath("locks", "steps", *key) / f"{digest}.yaml"

    def pipeline_pin_path(self, pipeline: dict[str, Any], version: str) -> Path:
        """Where the local pin (root lockfile text) of a pipeline version is kept."""
        return self.store.joinpath("locks", "pipelines", str(pipeline.get("user_id")), str(pipeline.get("app_id")),
                                   str(pipeline.get("id"))) / f"{version}.yaml"

    def _pipeline_path(self, pipeline: dict[str, Any], version: str) -> Path:
        return self.store.joinpath("pipelines", str(pipeline.get("user_id")), str(pipeline.get("app_id")),
                                   str(pipeline.get("id")), f"{version}.json")

    def pipeline_version_for(self, pipeline: dict[str, Any], resolved_spec: Any) -> str:
        """The pipeline version id ``resolved_spec`` gets (no side effects)."""
        return "pv-" + lockfiles.pipeline_hash(pipeline, resolved_spec)[:16]

    def has_pipeline_version(self, pipeline: dict[str, Any], version: str) -> bool:
        return self._pipeline_path(pipeline, version).is_file()

    def prepare(self, pipeline: dict[str, Any], log: Log) -> None:
        self._ensure_store()

    def planned_version(self, upload: StepUpload) -> str | None:
        return upload.change.digest

    def verify_step_version(self, key: StepKey, version: str) -> bool:
        return self._step_path(key, version).with_suffix(".json").is_file()

    def pin_problem(self, key: StepKey, version: str, digest: str | None) -> str | None:
        """A local version *is* its content hash: it can only be missing."""
        return None if self.verify_step_version(key, version) else f"is not on {self.name}"

    def creations(self, pipeline: dict[str, Any], uploads: list[StepUpload]) -> list[str]:
        return []  # the store's folders are made as versions are written

    def find_step_version(self, upload: StepUpload) -> str | None:
        digest = str(upload.change.digest)
        return digest if self.verify_step_version(upload.key, digest) else None

    def adopt_step_version(self, upload: StepUpload, version: str, log: Log) -> None:
        """A stored version is usable as it is."""

    def verify_pipeline_version(self, pipeline: dict[str, Any], version: str, resolved_spec: Any) -> bool:
        return version == self.pipeline_version_for(pipeline, resolved_spec) and self.has_pipeline_version(pipeline,
                                                                                                          version)

    def find_pipeline_version(self, pipeline: dict[str, Any], resolved_spec: Any) -> str | None:
        version = self.pipeline_version_for(pipeline, resolved_spec)
        return version if self.has_pipeline_version(pipeline, version) else None

    def upload_step(self, upload: StepUpload, log: Log) -> str:
        version = str(upload.change.digest)
        packed = archive.build(upload.step.path, upload.files, expected_digest=version, entry=upload.step.entry)
        target = self._step_path(upload.key, version)
        target.parent.mkdir(parents=True, exist_ok=True)
        lockfiles.write_atomic_bytes(target.with_suffix(".tar.gz"), packed.data)
        manifest = {"step": upload.key[2], "version": version, "files": packed.members, "links": packed.links,
                    "size": packed.uncompressed_size, "config": upload.config}
        lockfiles.write_atomic(target.with_suffix(".json"), json.dumps(manifest, indent=2, default=str) + "\n")
        log(f"stored {upload.key[2]} version {version} ({len(packed.members)} files, {len(packed.data)} bytes)")
        return version

    def create_pipeline_version(self, pipeline: dict[str, Any], resolved_spec: Any, log: Log) -> str:
        record = lockfiles.pipeline_record(pipeline, resolved_spec)
        version = self.pipeline_version_for(pipeline, resolved_spec)
        path = self._pipeline_path(pipeline, version)
        path.parent.mkdir(parents=True, exist_ok=True)
        lockfiles.write_atomic(path, json.dumps(record, indent=2, default=str) + "\n")
        log(f"stored pipeline version {version}")
        return version
