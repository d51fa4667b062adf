"""Every unversioned templateRef maps to exactly one listed step folder with the same ids.

On upload the Clarifai SDK builds every folder of ``pipeline.step_directories`` and then pins each
unversioned ref ``users/<u>/apps/<a>/pipeline_steps/<id>`` to the version it just uploaded. It
matches refs to folders loosely (by folder name, falling back to a substring match, so ``B``
matches ``stepB`` and ``train`` matches ``pretrain``) and sends an unmatched ref unversioned
with only a warning; with no ``step_directories`` at all it fails (``step_directories is empty
but these steps need versions: [...]``). This rule is strict: the folder's
``pipeline_step.{user_id, app_id, id}`` must equal the ref's segments, and exactly one listed
folder may match. A step folder that exists (named after the step id) but is not listed is
reported too. Versioned refs (``.../versions/<v>``) are not checked, nor refs whose folder is
listed but has no loadable ``config.yaml`` (``step-directory`` and ``yaml-syntax`` report that).

Passing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    spec:
      entrypoint: main
      arguments:
        parameters:
        - name: input_text
          value: hi
      templates:
      - name: main
        steps:
        - - name: step-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"

Failing spec::

    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    spec:
      entrypoint: main
      arguments:
        parameters:
        - name: input_text
          value: hi
      templates:
      - name: main
        steps:
        - - name: step-a
            templateRef:
              name: users/u1/apps/a2/pipeline_steps/stepA  # <-- folder stepA declares app_id a1
              template: users/u1/apps/a2/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: "{{workflow.parameters.input_text}}"
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..project import StepDir, TemplateRef
from .base import ClarifaiContext, Hit, at

ID = "X01"
NAME = "templateref-step"
SEVERITY = "error"
TARGET = "clarifai"

FIELDS = ("user_id", "app_id", "id")


def text(value: object) -> str | None:
    """An id as text (ints are accepted by the SDK); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value)


def ids_of(step: StepDir) -> tuple[str | None, ...]:
    return tuple(text(v) for v in step.ids)


def near_misses(steps: list[StepDir], wanted: tuple[str, str, str]) -> list[str]:
    """Folders with the same step id, or named like it, and how their ids differ from the ref."""
    out = []
    for step in steps:
        ids = ids_of(step)
        if step.config is None or (ids[2] != wanted[2] and Path(step.entry).name != wanted[2]):
            continue
        pairs = zip(FIELDS, ids, wanted, strict=True)
        diffs = [f"{field} {have!r} (ref: {want!r})" for field, have, want in pairs if have != want]
        out.append(f"folder {step.entry!r} declares " + ", ".join(diffs))
    return out


def problem(ref: TemplateRef, wanted: tuple[str, str, str], listed: list[StepDir], others: list[StepDir],
            empty: bool) -> str | None:
    matches = [s for s in listed if s.config is not None and ids_of(s) == wanted]
    if len(matches) == 1:
        return None
    if matches:
        names = ", ".join(repr(s.entry) for s in matches)
        return (f"unversioned templateRef {ref.name!r} matches several step folders ({names}): each declares "
                f"pipeline_step user_id/app_id/id {'/'.join(wanted)}; keep exactly one")
    if any(s.config is None and Path(s.entry).name == ref.step_id for s in listed):
        return None  # its folder or config.yaml is missing or broken: step-directory / yaml-syntax report it
    head = f"unversioned templateRef {ref.name!r} has no step folder to upload"
    reasons = []
    if empty:
        reasons.append(f"pipeline.step_directories is missing or empty (SDK: step_directories is empty but "
                       f"these steps need versions: [{ref.step_id!r}])")
    reasons += [f"step folder {s.entry!r} exists but is not listed in pipeline.step_directories" for s in others
                if not s.listed and Path(s.entry).name == ref.step_id]
    reasons += [f"listed folder {s.entry!r} is outside the project (not read)" for s in others
                if s.listed and Path(s.entry).name == ref.step_id]
    reasons += near_misses(listed, wanted)
    if not reasons:
        reasons.append(f"no folder in pipeline.step_directories declares pipeline_step user_id {ref.user_id!r}, "
                       f"app_id {ref.app_id!r}, id {ref.step_id!r}")
    tail = "" if empty else " (the SDK would send it unversioned or pin the wrong step)"
    return f"{head}: {'; '.join(reasons)}{tail}"


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    project = ctx.project
    if project.spec is None or project.config is None:
        return
    entries = project.config.get(("pipeline", "step_directories"))
    if entries is not None and not isinstance(entries, list):
        return  # schema reports it; the SDK stops there
    listed: dict[Path, StepDir] = {}  # each real folder once
    for step in project.steps:
        if step.listed and not step.escapes:
            listed.setdefault(step.resolved, step)
    others = [s for s in project.steps if not s.listed or s.escapes]
    for ref in project.refs:
        if ref.user_id is None or ref.app_id is None or ref.step_id is None or ref.version is not None:
            continue
        message = problem(ref, (ref.user_id, ref.app_id, ref.step_id), list(listed.values()), others, empty=not entries)
        if message:
            yield at(project.spec, (*ref.path, "name"), message)
