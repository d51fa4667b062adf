"""The root lockfile pins every step of ``config.yaml`` to the version held in that step's own lockfile.

``clarifai pipeline upload`` writes ``config-lock.yaml`` with every templateRef of the spec
resolved to ``…/pipeline_steps/<step>/versions/<version>`` (``name`` and ``template`` alike),
taking the version of a local step from the step folder's ``config-lock.yaml`` ``id``. The step
folder is found the SDK's way: the ``step_directories`` entry equal to the step id, else the
first entry that ends with or merely contains it. ``clarifai pipeline run`` and
``pipelinerun`` start what the root lockfile says, so a ref left unversioned (the SDK logs
``Could not find version for step``), a version that differs from the step lockfile's ``id``
(e.g. after ``clarifai pipeline run --dev``, which rewrites the step lockfiles but not this
file) or a step added to or removed from ``config.yaml`` since the last upload means the lock
no longer describes the project: upload again with ``pipeline-ci upload --backend clarifai <project>`` (or
``clarifai pipeline upload``), which rewrites it. A step added to or removed from ``config.yaml`` is what every
pull request that adds or removes a step looks like in the CI-uploads workflow (README "Team workflows"), whose
release job rewrites the lock: that case is a **warning**, an error only with ``require-fresh-locks``, as a stale
step lockfile is (L04).

Passing project::

    # file: config-lock.yaml
    pipeline:
      id: demo
      user_id: u1
      app_id: a1
      version_id: pv1
      orchestration_spec:
        argo_orchestration_spec: |
          apiVersion: argoproj.io/v1alpha1
          kind: Workflow
          metadata:
            generateName: p-
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
                    name: users/u1/apps/a1/pipeline_steps/stepA/versions/ver1
                    template: users/u1/apps/a1/pipeline_steps/stepA/versions/ver1
                  arguments:
                    parameters:
                    - name: input_text
                      value: "{{workflow.parameters.input_text}}"
              - - name: step-b
                  templateRef:
                    name: users/u1/apps/a1/pipeline_steps/stepB/versions/ver2
                    template: users/u1/apps/a1/pipeline_steps/stepB/versions/ver2
                  arguments:
                    parameters:
                    - name: input_text
                      value: "{{workflow.parameters.input_text}}"
    # file: stepA/config-lock.yaml
    hash:
      algo: md5
      value: 56ab9911945432619e67adcace9fa0c3
    id: ver1

Failing project::

    # file: config-lock.yaml
    pipeline:
      id: demo
      user_id: u1
      app_id: a1
      version_id: pv1
      orchestration_spec:
        argo_orchestration_spec: |
          apiVersion: argoproj.io/v1alpha1
          kind: Workflow
          metadata:
            generateName: p-
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
                    name: users/u1/apps/a1/pipeline_steps/stepA/versions/ver0  # <-- stepA/config-lock.yaml has ver1
                    template: users/u1/apps/a1/pipeline_steps/stepA/versions/ver0
                  arguments:
                    parameters:
                    - name: input_text
                      value: "{{workflow.parameters.input_text}}"
              - - name: step-b
                  templateRef:
                    name: users/u1/apps/a1/pipeline_steps/stepB  # <-- not pinned to a version
                    template: users/u1/apps/a1/pipeline_steps/stepB
                  arguments:
                    parameters:
                    - name: input_text
                      value: "{{workflow.parameters.input_text}}"
    # file: stepA/config-lock.yaml
    hash:
      algo: md5
      value: 56ab9911945432619e67adcace9fa0c3
    id: ver1
"""

from __future__ import annotations

from collections.abc import Iterator

from ..argo.walk import spec_body
from ..project import LOCK, SPEC_PATH, Project, StepDir, TemplateRef, template_refs
from ..yamldoc import Document
from .base import ClarifaiContext, Hit, at
from .upload_fix import upload_fix

ID = "L02"
NAME = "lock-refs"
SEVERITY = "error"
TARGET = "clarifai"

def upload_again(project: Project) -> str:
    """The fix: upload again, which rewrites the root lockfile."""
    return f"{upload_fix(project.root)} to rewrite the root lockfile"


def locked_step(project: Project, step_id: str) -> StepDir | None:
    """The step folder whose lockfile ``id`` the SDK pins ``step_id`` to (exact entry, else ends-with/substring)."""
    listed = [s for s in project.steps if s.listed and not s.escapes]
    exact = next((s for s in listed if s.entry == step_id), None)
    return exact or next((s for s in listed if step_id in s.entry), None)


def _version_hits(project: Project, spec: Document, refs: list[TemplateRef]) -> Iterator[Hit]:
    for ref in refs:
        if ref.name is None:
            continue
        where = (*ref.path, "name")
        if ref.version is None or ref.step_id is None:
            yield at(spec, where, f"templateRef '{ref.name}' in {LOCK} is not pinned to a step version "
                     "(users/<user>/apps/<app>/pipeline_steps/<step>/versions/<version>): the SDK could not find a "
                     f"version for it when the lockfile was written; {upload_again(project)}")
            continue
        if ref.template is not None and ref.template != ref.name:
            yield at(spec, (*ref.path, "template"), f"templateRef template '{ref.template}' differs from its name "
                     f"'{ref.name}' (validate-lock: templateRef name must match template)")
        step = locked_step(project, ref.step_id)
        lock_id = step.lock.get(("id",)) if step is not None and step.lock is not None else None
        if step is not None and lock_id and str(lock_id) != ref.version:
            yield at(spec, where, f"templateRef pins step '{ref.step_id}' to version '{ref.version}' but "
                     f"{step.entry}/{LOCK} has id '{lock_id}': {upload_again(project)}")


def check(ctx: ClarifaiContext) -> Iterator[Hit]:
    project = ctx.project
    lock_spec = project.lock_spec
    if project.lock is None or lock_spec is None or not spec_body(lock_spec.data):
        return  # no lock, or a lock spec without a ``spec`` mapping (other rules report it)
    refs = template_refs(lock_spec.data)
    yield from _version_hits(project, lock_spec, refs)
    if project.spec is None:
        return
    in_config = {r.step_id for r in project.refs if r.step_id}
    first_in_lock: dict[str, TemplateRef] = {}
    for ref in refs:
        if ref.step_id:
            first_in_lock.setdefault(ref.step_id, ref)
    # A step added to or removed from the spec since the last upload: in the CI-uploads workflow the release job
    # rewrites the root lockfile, so this is a warning, as a stale step lockfile is (L04); an error with
    # require-fresh-locks (developers upload).
    severity = None if ctx.options.require_fresh_locks else "warning"
    fix = (upload_again(project) + " and commit it" if ctx.options.require_fresh_locks
           else f"the next release (`pipeline-ci upload` or `deploy` in CI) rewrites it; to do it yourself, "
                f"{upload_again(project)}")
    for step_id in sorted(in_config - set(first_in_lock)):
        yield at(project.lock, SPEC_PATH, f"step '{step_id}' is referenced in config.yaml but not in {LOCK}: "
                 f"the root lockfile is out of date; {fix}", severity=severity)
    for step_id in sorted(set(first_in_lock) - in_config):
        yield at(lock_spec, (*first_in_lock[step_id].path, "name"), f"step '{step_id}' is pinned in {LOCK} "
                 f"but no longer referenced in config.yaml: the root lockfile is out of date; {fix}",
                 severity=severity)
