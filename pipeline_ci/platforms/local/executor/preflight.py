"""Checks made before a local run starts anything; any problem is a usage/config error (exit code 2).

* the project loads and has an embedded Argo spec with an existing ``entrypoint`` (and ``onExit``);
* overrides name declared workflow parameters, respect a parameter's ``enum`` and the
  ``accepted_values`` of each step param that receives the parameter literally
  (``value: "{{workflow.parameters.X}}"``), via :func:`pipeline_ci.overrides.validate`;
* every workflow parameter ends up with a value;
* every templateRef maps to exactly one local step folder whose ``pipeline_step`` ``(user_id, app_id, id)``
  equal the ref's segments (versioned refs too: the local code runs, with a warning when the
  folder's lockfile pins another version), and the folder has ``1/pipeline_step.py``;
* nothing the executor cannot run (:mod:`pipeline_ci.argo.local_support`, the list lint rule A41 reports), unless
  ``--allow-unsupported``;
* every secret a step needs is set (:func:`check_secrets`, called by ``run_local`` with the secrets).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .... import overrides as ov
from ....argo.local_support import constructs
from ....argo.walk import argo_string, nodes, parameters, spec_body, template_map
from ....errors import UsageError
from ....findings import json_path
from ....overrides import accepted_values, map_refs
from ....overrides import spec_where as _where
from ....project import Project, load_project
from ....project import id_text as _text
from .model import StepTarget
from .secrets import MissingSecret, Secrets


class RunPlanError(UsageError):
    """Problems found by :func:`plan_run`, one message per entry of ``errors`` (exit code 2)."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class RunPlan:
    """What a local run needs, checked: the project, its Argo spec, the final workflow parameters, the
    templateRef -> step folder mapping and warnings. (Not :class:`pipeline_ci.deploy.Plan`, the upload plan.)"""

    project: Project
    spec: dict
    parameters: dict[str, str]
    targets: dict[str, StepTarget]
    warnings: list[str] = field(default_factory=list)


def _unsupported(project: Project, spec: dict, errors: list[str], warnings: list[str], *, allow: bool,
                 semaphores: Mapping[str, int]) -> None:
    """What the local executor cannot run (:mod:`pipeline_ci.argo.local_support`): errors, or warnings with ``allow``."""
    for item in constructs(spec, semaphores):
        pos = project.spec.pos(item.path, key=isinstance(item.path[-1], str)) if project.spec else None
        where = f"{project.config_file}:{pos.line}:{pos.col}" if pos else project.config_file
        text = f"{where}: {json_path(item.path)}: {item.message()}"
        if allow:
            warnings.append(f"{text}; running anyway (--allow-unsupported): the node will end in Error")
        else:
            errors.append(f"{text}; pass --allow-unsupported to run the rest")


def check_secrets(project: Project, spec: dict, secrets: Secrets) -> list[str]:
    """A message per step/task whose mapped secrets are missing (before anything runs)."""
    problems: list[str] = []
    seen: set[str] = set()
    for node in nodes(spec):
        name = node.name
        if not isinstance(name, str) or name in seen or not secrets.names_for(name):
            continue
        seen.add(name)
        try:
            secrets.env_for(name)
        except MissingSecret as exc:
            problems.append(f"{_where(project, node.path)}: {exc}")
    return problems


def _workflow_parameters(spec: dict, values: dict[str, str], errors: list[str]) -> dict[str, str]:
    declared: dict[str, Any] = {}
    for _, param in parameters(spec_body(spec), "arguments"):
        if isinstance(param.get("name"), str):
            declared.setdefault(param["name"], param)
    out: dict[str, str] = {}
    for name, param in declared.items():
        source = param.get("valueFrom") if isinstance(param.get("valueFrom"), dict) else {}
        if name in values:
            out[name] = values[name]
        elif param.get("value") is not None:
            out[name] = argo_string(param["value"])
        elif source.get("default") is not None:
            out[name] = argo_string(source["default"])
        else:
            errors.append(f"workflow parameter '{name}' has no value: pass it with --set {name}=VALUE")
    return out


def plan_run(root: Path, values: dict[str, str], *, allow_unsupported: bool = False,
             semaphores: Mapping[str, int] | None = None) -> RunPlan:
    """Load and check the project at ``root`` for a local run with the (merged, stringified) overrides.

    ``allow_unsupported``: constructs the executor cannot run become warnings instead of errors.
    ``semaphores``: the limits of ConfigMap semaphores (``CONFIGMAP/KEY`` or ``KEY`` -> N)."""
    if not (root / "config.yaml").is_file():
        raise RunPlanError([f"{root}: no config.yaml (not a pipeline project)"])
    project = load_project(root)
    errors = [str(e) for e in project.load_errors]
    spec = project.spec.data if project.spec else None
    if errors or not isinstance(spec, dict):
        raise RunPlanError(errors or [f"{project.config_file}: pipeline.orchestration_spec.argo_orchestration_spec "
                                      "is missing or is not a YAML string holding a mapping"])
    body, templates = spec_body(spec), template_map(spec)
    entry = body.get("entrypoint")
    if entry is None:
        errors.append(f"{project.config_file}: spec.entrypoint is required")
    elif entry not in templates:
        errors.append(f"{_where(project, ('spec', 'entrypoint'))}: template name '{entry}' undefined (entrypoint)")
    if body.get("onExit") is not None and body.get("onExit") not in templates:
        errors.append(f"{_where(project, ('spec', 'onExit'))}: template name '{body['onExit']}' undefined (onExit)")
    warnings: list[str] = []
    _unsupported(project, spec, errors, warnings, allow=allow_unsupported, semaphores=semaphores or {})
    steps = map_refs(project, errors, warnings)
    declared = {p["name"]: p for _, p in parameters(body, "arguments") if isinstance(p.get("name"), str)}
    errors += ov.validate(values, declared, accepted_values(spec, steps))
    params = _workflow_parameters(spec, values, errors)
    if errors:
        raise RunPlanError(errors)
    targets = {name: StepTarget(str(_text(step.ids[2])), step.path) for name, step in steps.items()}
    return RunPlan(project, spec, params, targets, warnings)
