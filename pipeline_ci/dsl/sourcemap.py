"""Findings in a generated bundle, pointed back at the Python source line they come from.

The generator records where each ``@step`` (decorator, ``def``, parameters, decorator keywords), each
``step_ref(...)``, each node (the call that added it, its keyword arguments), each ``pipeline.input(...)`` and the
``Pipeline(...)`` call are (:mod:`pipeline_ci.dsl.generator`). A finding's generated file and JSON path say which
of them it is about:

- root ``config.yaml``: ``spec.templates[0].steps[i][j]...`` is a node (``...arguments.parameters[k]`` its
  keyword argument), ``spec.arguments.parameters[k]`` a ``pipeline.input``, ``pipeline.config.
  step_version_secrets.<node>`` the ``secrets=`` of that node's step, anything else the ``Pipeline(...)`` call;
- ``<step>/config.yaml``: ``pipeline_step_input_params[k]`` the function parameter, ``build_info``,
  ``pipeline_step_compute_info`` and ``pipeline_step`` the decorator's ``python_version=``, ``compute=`` or
  ``id=``, else the decorator;
- ``<step>/requirements.txt``: ``requirements=``; ``<step>/1/pipeline_step.py``: the ``def`` line.

A ``# pipeline-ci: disable=RULE`` comment on that Python line (or alone on the line before it) suppresses the
finding. The message keeps the generated location (``[generated <file>:<line>]``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..discovery import display, real
from ..findings import Finding
from .bundle import bundle_meta

_INDEX = re.compile(r"\[(\d+)\]")


def _parts(path: str) -> list[str | int]:
    out: list[str | int] = []
    for chunk in path.split("."):
        name = _INDEX.split(chunk)
        if name[0]:
            out.append(name[0])
        out += [int(n) for n in name[1::2]]
    return out


def _bundle_of(file: Path) -> Path | None:
    for parent in file.parents:
        if parent.name == "bundle" and parent.parent.parent.name == "dsl":
            return parent
    return None


class SourceMap:
    """The source positions of one generated bundle."""

    def __init__(self, root: Path, meta: dict[str, Any]):
        self.root = root
        self.meta = meta
        self.source = str(meta.get("source") or "")
        self._spec: dict[str, Any] | None = None

    def spec(self) -> dict[str, Any]:
        if self._spec is None:
            try:
                config = yaml.safe_load((self.root / "config.yaml").read_text(encoding="utf-8"))
                self._spec = yaml.safe_load(config["pipeline"]["orchestration_spec"]["argo_orchestration_spec"])
            except (OSError, yaml.YAMLError, KeyError, TypeError):
                self._spec = {}
        return self._spec if isinstance(self._spec, dict) else {}

    def _node_name(self, i: int, j: int) -> str | None:
        try:
            return str(self.spec()["spec"]["templates"][0]["steps"][i][j]["name"])
        except (KeyError, IndexError, TypeError):
            return None

    def _step(self, step_id: str) -> tuple[str, int, int] | None:
        step = self.meta.get("steps", {}).get(step_id)
        if isinstance(step, dict):
            return str(step["file"]), int(step["line"]), 1
        ref = self.meta.get("refs", {}).get(step_id)
        return (str(ref[0]), int(ref[1]), 1) if ref else None

    def _step_param(self, step_id: str, name: str) -> tuple[str, int, int] | None:
        step = self.meta.get("steps", {}).get(step_id)
        if not isinstance(step, dict):
            return None
        at = step.get("params", {}).get(name)
        return (str(step["file"]), int(at[0]), int(at[1])) if at else None

    def _pipeline(self) -> tuple[str, int, int]:
        at = self.meta.get("pipeline") or [self.source, 1]
        return str(at[0]), int(at[1]), 1

    def locate(self, rel: str, path: str) -> tuple[str, int, int]:
        """``(file, line, col)`` in the Python source for a finding at ``rel`` (generated) with JSON ``path``."""
        parts = _parts(path) if path else []
        top = rel.split("/", 1)[0]
        if rel == "config.yaml":
            return self._root_config(parts)
        step_id = top
        if rel.endswith("/config.yaml") and parts:
            if parts[0] == "pipeline_step_input_params" and len(parts) > 1 and isinstance(parts[1], int):
                name = self._param_name(step_id, parts[1])
                found = self._step_param(step_id, name) if name else None
                if found:
                    return found
            keyword = {"build_info": "@python_version", "pipeline_step_compute_info": "@compute",
                       "pipeline_step": "@id"}.get(str(parts[0]))
            if keyword and (found := self._step_param(step_id, keyword)):
                return found
        if rel.endswith("/requirements.txt") and (found := self._step_param(step_id, "@requirements")):
            return found
        if rel.endswith("/1/pipeline_step.py"):
            step = self.meta.get("steps", {}).get(step_id)
            if isinstance(step, dict):
                return str(step["file"]), int(step.get("def") or step["line"]), 1
        return self._step(step_id) or self._pipeline()

    def _param_name(self, step_id: str, index: int) -> str | None:
        try:
            data = yaml.safe_load((self.root / step_id / "config.yaml").read_text(encoding="utf-8"))
            return str(data["pipeline_step_input_params"][index]["name"])
        except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError):
            return None

    def _root_config(self, parts: list[str | int]) -> tuple[str, int, int]:
        nodes = self.meta.get("nodes", {})
        if parts[:3] == ["spec", "templates", 0] and len(parts) >= 6 and parts[3] == "steps" \
                and isinstance(parts[4], int) and isinstance(parts[5], int):
            name = self._node_name(parts[4], parts[5])
            node = nodes.get(name) if name else None
            if isinstance(node, dict):
                file, line = node["at"]
                if parts[6:9] == ["arguments", "parameters"] or (len(parts) > 8 and parts[6] == "arguments"):
                    index = parts[8] if len(parts) > 8 and isinstance(parts[8], int) else None
                    try:
                        arg = self.spec()["spec"]["templates"][0]["steps"][parts[4]][parts[5]]["arguments"][
                            "parameters"][index]["name"] if index is not None else None
                    except (KeyError, IndexError, TypeError):
                        arg = None
                    at = node.get("args", {}).get(arg) if arg else None
                    if at:
                        return str(file), int(at[0]), int(at[1])
                if parts[6:7] == ["templateRef"]:
                    return self._step(str(node.get("step"))) or (str(file), int(line), 1)
                return str(file), int(line), 1
        if parts[:3] == ["spec", "arguments", "parameters"] and len(parts) > 3 and isinstance(parts[3], int):
            try:
                name = str(self.spec()["spec"]["arguments"]["parameters"][parts[3]]["name"])
            except (KeyError, IndexError, TypeError):
                name = ""
            at = self.meta.get("inputs_params", {}).get(name)
            if at:
                return str(at[0]), int(at[1]), 1
        if parts[:3] == ["pipeline", "config", "step_version_secrets"] and len(parts) > 3:
            node = nodes.get(str(parts[3]))
            if isinstance(node, dict):
                step = str(node.get("step"))
                return self._step_param(step, "@secrets") or self._step(step) or self._pipeline()
        if parts[:2] == ["pipeline", "step_directories"] and len(parts) > 2 and isinstance(parts[2], int):
            try:
                step_id = str(yaml.safe_load((self.root / "config.yaml").read_text(encoding="utf-8"))["pipeline"][
                    "step_directories"][parts[2]])
            except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError):
                step_id = ""
            if found := self._step(step_id):
                return found
        return self._pipeline()


def remap(findings: list[Finding]) -> list[Finding]:
    """``findings`` with those in generated DSL bundles moved to the Python source (see the module docstring)."""
    from .. import suppress

    maps: dict[Path, SourceMap | None] = {}
    comments: dict[str, suppress.Suppressions] = {}
    out: list[Finding] = []
    for finding in findings:
        file = real(Path(finding.file))
        bundle = _bundle_of(file)
        if bundle is not None and bundle not in maps:
            meta = bundle_meta(bundle)
            maps[bundle] = SourceMap(bundle, meta) if meta else None
        smap = maps.get(bundle) if bundle is not None else None
        if smap is None or bundle is None:
            out.append(finding)
            continue
        rel = file.relative_to(bundle).as_posix()
        src, line, col = smap.locate(rel, finding.path)
        if src not in comments:
            try:
                comments[src] = suppress.parse(Path(src).read_text(encoding="utf-8").splitlines(), python=True)
            except (OSError, UnicodeDecodeError):
                comments[src] = suppress.Suppressions()
        if comments[src].covers(line, finding.rule, finding.name):  # `# pipeline-ci: disable=...` in the .py
            continue
        out.append(Finding(display(Path(src)), line, col, finding.rule, finding.name, finding.severity,
                           f"{finding.message} [generated {rel}:{finding.line}]", finding.path))
    return sorted(out)
