"""Checks made before a local run starts anything; any problem is a usage/config error (exit code 2).

* the project loads and has an embedded Argo spec with an existing ``entrypoint`` (and ``onExit``);
* overrides name declared workflow parameters, respect a parameter's ``enum`` and the
  ``accepted_values`` of each step param that receives the parameter literally
  (``value: "{{workflow.parameters.X}}"``), via :func:`pipeline_ci.overrides.validate`;
* every workflow parameter ends up with a value;
* every templateRef maps to exactly one local step folder whose ``pipeline_step`` ``(user_id, app_id, id)``
  equal the ref's segments (versioned refs too: the local code runs, with a warning when the
  folder's lockfile pins another version), and the folder has ``1/pipeline_step.py``;
* no expr-lang features the executor does not implement: ``{{=...}}`` tags, ``retryStrategy.expression``,
  ``valueFrom.expression``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .... import overrides as ov
from ....argo.walk import argo_string, nodes, parameters, spec_body, strings, template_map
from ....errors import UsageError
from ....findings import json_path
from ....project import Project, StepDir, load_project
from .model import StepTarget

WORKFLOW_REF = re.compile(r"^\s*\{\{\s*workflow\.parameters\.([-a-zA-Z0-9_]+)\s*\}\}\s*$")


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


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def step_params(step: StepDir) -> dict[str, dict]:
    items = step.config.get(("pipeline_step_input_params",)) if step.config else None
    out: dict[str, dict] = {}
    for item in items if isinstance(items, list) else []:
        entry = {"name": item} if isinstance(item, str) else item
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            out.setdefault(entry["name"], entry)
    return out


def _where(project: Project, path: tuple) -> str:
    pos = project.spec.pos(path) if project.spec else None
    return f"{project.config_file}:{pos.line}:{pos.col}" if pos else project.config_file


def map_refs(project: Project, errors: list[str], warnings: list[str]) -> dict[str, StepDir]:
    """templateRef name -> the step folder it runs locally."""
    out: dict[str, StepDir] = {}
    for ref in project.refs:
        if not ref.name or ref.name in out:
            continue
        where = _where(project, ref.path)
        if ref.step_id is None:
            errors.append(f"{where}: templateRef '{ref.name}' is not a Clarifai step reference "
                          "(users/<user>/apps/<app>/pipeline_steps/<step>[/versions/<version>])")
            continue
        wanted: tuple[str | None, ...] = (ref.user_id, ref.app_id, ref.step_id)
        matches = [s for s in project.steps if s.exists and tuple(map(_text, s.ids)) == wanted]
        if not matches:
            errors.append(f"{where}: templateRef '{ref.name}' maps to no local step folder: none of step_directories "
                          f"has pipeline_step user_id/app_id/id = {'/'.join(w or '?' for w in wanted)}")
            continue
        if len(matches) > 1:
            errors.append(f"{where}: templateRef '{ref.name}' matches several step folders: "
                          f"{', '.join(s.entry for s in matches)}")
            continue
        step = matches[0]
        if not (step.path / "1" / "pipeline_step.py").is_file():
            errors.append(f"{where}: step folder '{step.entry}' has no 1/pipeline_step.py")
            continue
        pinned = step.lock.get(("id",)) if step.lock else None
        if ref.version and pinned != ref.version:
            warnings.append(f"templateRef '{ref.name}' pins version {ref.version}; running the local code of "
                            f"'{step.entry}' (its lockfile {'pins ' + str(pinned) if pinned else 'is missing'})")
        out[ref.name] = step
    return out


def accepted_values(spec: dict, steps: dict[str, StepDir]) -> dict[str, list[str]]:
    """Workflow parameter -> values accepted by every step param it is passed to literally."""
    out: dict[str, list[str]] = {}
    for node in nodes(spec):
        ref = node.body.get("templateRef")
        name = ref.get("name") if isinstance(ref, dict) else None
        step = steps.get(name) if isinstance(name, str) else None
        if step is None:
            continue
        declared = step_params(step)
        for _, param in parameters(node.body, "arguments"):
            match = WORKFLOW_REF.match(param["value"]) if isinstance(param.get("value"), str) else None
            pname = param.get("name")
            allowed = declared.get(pname, {}).get("accepted_values") if isinstance(pname, str) else None
            if not match or not isinstance(allowed, list) or not allowed:
                continue
            values = [argo_string(a) for a in allowed]
            name = match.group(1)
            out[name] = [v for v in out[name] if v in values] if name in out else values
    return out


def _unsupported(project: Project, spec: dict, errors: list[str]) -> None:
    for path, text in strings(spec_body(spec), ("spec",)):
        if re.search(r"\{\{\s*=", text):
            errors.append(f"{_where(project, path)}: {json_path(path)}: expression tags {{{{=...}}}} are not "
                          "supported by the local executor")
    for i, tmpl in enumerate(spec_body(spec).get("templates") or []):
        if not isinstance(tmpl, dict):
            continue
        base = ("spec", "templates", i)
        retry = tmpl.get("retryStrategy")
        if isinstance(retry, dict) and retry.get("expression"):
            path = (*base, "retryStrategy", "expression")
            errors.append(f"{_where(project, path)}: retryStrategy.expression is not supported by the local executor")
        for j, param in enumerate((tmpl.get("outputs") or {}).get("parameters") or []):
            source = param.get("valueFrom") if isinstance(param, dict) else None
            if isinstance(source, dict) and source.get("expression"):
                path = (*base, "outputs", "parameters", j, "valueFrom", "expression")
                errors.append(f"{_where(project, path)}: valueFrom.expression is not supported by the local executor")


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


def plan_run(root: Path, values: dict[str, str]) -> RunPlan:
    """Load and check the project at ``root`` for a local run with the (merged, stringified) overrides."""
    if not (root / "config.yaml").is_file():
        raise RunPlanError([f"{root}: no config.yaml (not a pipeline project)"])
    project = load_project(root)
    errors = [f"{e.file}:{e.error.pos.line}:{e.error.pos.col}: {e.error.message}" for e in project.load_errors]
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
    _unsupported(project, spec, errors)
    warnings: list[str] = []
    steps = map_refs(project, errors, warnings)
    declared = {p["name"]: p for _, p in parameters(body, "arguments") if isinstance(p.get("name"), str)}
    errors += ov.validate(values, declared, accepted_values(spec, steps))
    params = _workflow_parameters(spec, values, errors)
    if errors:
        raise RunPlanError(errors)
    targets = {name: StepTarget(str(_text(step.ids[2])), step.path) for name, step in steps.items()}
    return RunPlan(project, spec, params, targets, warnings)
