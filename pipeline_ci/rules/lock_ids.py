"""Lockfiles belong to this project: their pipeline and step ids equal those of the ``config.yaml`` next to them.

``clarifai pipeline run`` and ``clarifai pipelinerun pause|cancel|resume|monitor`` take the user,
app, pipeline and pipeline version ids from the root ``config-lock.yaml`` (silently over the
command-line flags), so a root lockfile whose ``pipeline.id``, ``user_id`` or ``app_id`` differs
from ``config.yaml`` (copied from another project, or left behind after a rename) starts or
controls another pipeline. A step lockfile carries an informational copy of the step config's
``pipeline_step``; when its ``id``, ``user_id`` or ``app_id`` differs, the lockfile (and the
step version ``id`` it holds) was written for another step, e.g. a folder copied from another
project. The fix is an upload that rewrites the lockfile, ``pipeline-ci upload --backend clarifai <project>`` (or
``clarifai pipeline upload``), after deleting a step lockfile written for another step. Missing or empty ids, including
``version_id`` (validate-lock: ``Required field 'version_id' cannot be empty``), are reported by
the ``schema`` rule.

Passing project::

    # file: config-lock.yaml
    pipeline:
      id: demo
      user_id: u1
      app_id: a1
      version_id: pv1

Failing project::

    # file: config-lock.yaml
    pipeline:
      id: demo-old  # <-- config.yaml says demo
      user_id: u1
      app_id: a1
      version_id: pv1

Failing project::

    # file: stepA/config-lock.yaml
    hash:
      algo: md5
      value: 56ab9911945432619e67adcace9fa0c3
    id: ver1
    pipeline_step:
      id: stepB  # <-- written for another step
      user_id: u1
      app_id: a1
"""

from __future__ import annotations

from collections.abc import Iterator

from ..project import CONFIG, LOCK
from ..yamldoc import Document
from .base import ClarifaiContext, Hit, at
from .upload_fix import upload_fix

ID = "L03"
NAME = "lock-ids"
SEVERITY = "error"
TARGET = "clarifai"

KEYS = ("id", "user_id", "app_id")


def _differences(lock: Document, config: Document, section: str) -> Iterator[tuple[str, object, object]]:
    """``(key, lock value, config value)`` for ids set in both files that differ."""
    if not isinstance(lock.get((section,)), dict) or not isinstance(config.get((section,)), dict):
        return
    for key in KEYS:
        got, want = lock.get((section, key)), config.get((section, key))
        if got not in (None, "") and want not in (None, "") and str(got) != str(want):
            yield key, got, want


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    project = ctx.project
    if project.lock is not None and project.config is not None:
        for key, got, want in _differences(project.lock, project.config, "pipeline"):
            yield at(project.lock, ("pipeline", key), f"pipeline.{key} is '{got}' in {LOCK} but '{want}' in {CONFIG}: "
                     "`clarifai pipeline run` and `clarifai pipelinerun` would use the lockfile's pipeline; "
                     f"{upload_fix(project.root)}, or delete the stale lockfile")
    for step in project.steps:
        if step.lock is None or step.config is None:
            continue
        for key, got, want in _differences(step.lock, step.config, "pipeline_step"):
            yield at(step.lock, ("pipeline_step", key), f"pipeline_step.{key} is '{got}' in {step.entry}/{LOCK} but "
                     f"'{want}' in {step.entry}/{CONFIG}: the lockfile and its step version id were written for "
                     f"another step; delete it, then {upload_fix(project.root)} to upload the step")
