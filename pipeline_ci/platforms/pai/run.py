"""PAI (PAIFlow) runs as a :class:`~pipeline_ci.runs.follow.RemoteRun`: start once, poll, node logs, terminate.

The run gets a unique client-generated ``Name``; :meth:`PaiClient.create_run_once` looks it up
before re-sending a create whose answer was lost, so a retry never starts a second run.
Statuses map through :func:`pipeline_ci.platforms.pai.status.outcome` (only ``Succeeded`` passes;
``Terminated`` is cancelled; ``Suspended`` is paused and the follower applies the grace period).
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ...error_handler import mask
from ...runs.follow import FatalError, Poll, TransientError
from .arguments import build_arguments
from .client import PaiClient, PaiError, region_of
from .status import outcome

LOG_PAGE = 100
CONSOLE = "https://pai.console.aliyun.com/"


def console_url(run_id: str, workspace_id: str | None, region: str | None) -> str:
    """The console page of a run, the shape of GetPipelineRun's ``PipelineRunUri``
    (``?regionId=<region>&workspaceId=<id>#/studio/task/detail/<run id>``; a part not known is left out)."""
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in (("regionId", region), ("workspaceId", workspace_id)) if v)
    return f"{CONSOLE}{'?' + query if query else ''}#/studio/task/detail/{quote(run_id, safe='')}"


class PaiRun:
    """One pipeline run on PAI."""

    def __init__(self, client: PaiClient, run_id: str | None = None):
        self.client = client
        self.run_id = run_id or ""
        self.url: str | None = None
        self._offsets: dict[str, int] = {}  # leaf node id -> log lines read (the next Offset)
        self._cancelled = False

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PaiError as exc:
            if exc.kind == "unavailable":
                raise TransientError(exc.message) from None
            raise FatalError(exc.message) from None

    def start(self, name: str, workspace_id: str, pipeline_id: str | None, manifest: str | None,
              values: dict[str, str]) -> None:
        arguments = build_arguments(values) if values else None
        self.run_id = self.client.create_run_once(name, workspace_id, pipeline_id=pipeline_id, manifest=manifest,
                                                  arguments=arguments)
        self.url = console_url(self.run_id, workspace_id, region_of(self.client.endpoint))

    def poll(self) -> Poll:
        run = self._call(self.client.get_pipeline_run, self.run_id)
        status = str(run.get("Status") or "")
        workspace = run.get("WorkspaceId")
        self.url = run.get("PipelineRunUri") or console_url(self.run_id, workspace if isinstance(workspace, str)
                                                            else None, region_of(self.client.endpoint))
        self._root = run.get("NodeId")
        return Poll(outcome(status), status or "Unknown")

    def log_pages(self) -> Iterator[list[str]]:
        """New log lines of the leaf nodes, ``[node name] line``, one list per ListPipelineRunNodeLogs page: each
        node is read from its line offset until a page is not full, then the next node. The client's credentials
        are masked in them."""
        root = getattr(self, "_root", None)
        if not root:
            return
        for node in self._call(self.client.list_pipeline_run_node_status, self.run_id, root):
            node_id = node.get("NodeId") if isinstance(node, dict) else None
            if not node_id or node_id == root:
                continue
            name = node.get("NodeName") or node_id
            while True:
                offset = self._offsets.get(node_id, 0)
                page = self._call(self.client.list_pipeline_run_node_logs, self.run_id, node_id, offset, LOG_PAGE)
                self._offsets[node_id] = offset + len(page)  # before yielding: a caller may stop after this page
                yield [mask(f"[{name}] {line}", self.client.secrets) for line in page]
                if len(page) < LOG_PAGE:
                    break

    def cancel(self) -> None:
        """Terminate the run; a second call on this object sends nothing."""
        if not self._cancelled:
            self._call(self.client.terminate_pipeline_run, self.run_id)
            self._cancelled = True


def make_pai_run(args: argparse.Namespace, root: Path | None, values: dict[str, str], env: Mapping[str, str],
                 out: Callable[[str], None], usage_error: type[Exception], start_error: type[Exception]):
    """A :class:`PaiRun` and its start function from the CLI flags (``--workspace-id``, ``--pipeline-id`` or
    ``--manifest``, ``--region``/``--endpoint``); credentials from ``ALIBABA_CLOUD_*``."""
    try:
        client = PaiClient.from_env(env, region=args.region, endpoint=args.endpoint,
                                    log=lambda line: out(f"  retry: {line}"))
    except PaiError as exc:
        raise usage_error(exc.message) from None
    remote = PaiRun(client, getattr(args, "run_id", None))
    if getattr(args, "run_id", None):
        return remote, None
    if not args.workspace_id:
        raise usage_error("--workspace-id is required for PAI runs")
    if bool(args.pipeline_id) == bool(args.manifest):
        raise usage_error("give exactly one of --pipeline-id or --manifest")
    manifest = _manifest_text(Path(args.manifest), values, usage_error) if args.manifest else None
    name = f"pipeline-ci-{uuid.uuid4().hex[:12]}"

    def start(_values: dict[str, str]) -> None:
        try:
            remote.start(name, args.workspace_id, args.pipeline_id, manifest, values)
        except PaiError as exc:
            raise start_error(exc.message, 2 if exc.kind == "config" else 3) from None

    return remote, start


def _manifest_text(path: Path, values: dict[str, str], usage_error: type[Exception]) -> str:
    """The text of the manifest to send, loaded with the manifest model (:func:`.manifest.load_manifest`, bounded:
    size, depth, alias expansion, with positions). Override names must be declared in the entry pipeline's
    ``spec.inputs.parameters`` when it declares any, and their values fit the declared ``type`` and
    ``feasible.range`` (:func:`_value_errors`, the checks lint rule P09 makes of the defaults)."""
    from ... import overrides
    from .manifest import load_manifest

    manifest = load_manifest(path)
    if manifest.errors:
        err = manifest.errors[0]
        raise usage_error(f"{err.file}:{err.error.pos.line}:{err.error.pos.col}: cannot load the manifest: "
                          f"{err.error.message}")
    params = manifest.entry.get(("spec", "inputs", "parameters")) if manifest.entry is not None else None
    if isinstance(params, list):
        declared = {p["name"]: p for p in params if isinstance(p, dict) and isinstance(p.get("name"), str)}
        errors = overrides.validate(values, declared, {}) or _value_errors(values, declared)
        if errors:
            raise usage_error("; ".join(errors))
    return manifest.text


def _value_errors(values: Mapping[str, str], declared: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Override values that do not fit their declaration: a ``--set`` string is read as a YAML scalar (``5`` a
    number, ``true`` a boolean) unless the type is ``String``, then checked with :func:`.manifest.fits_type` and
    :func:`.manifest.parse_range` as rule P09 checks a default."""
    import yaml

    from .manifest import PARAM_TYPES, fits_type, parse_range

    errors: list[str] = []
    for name, text in values.items():
        decl = declared.get(name) or {}
        kind = decl.get("type")
        try:
            value: Any = text if kind == "String" else yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        if isinstance(kind, str) and kind in PARAM_TYPES and not fits_type(kind, value):
            errors.append(f"value '{text}' of parameter '{name}' does not fit its type {kind}")
            continue
        feasible = decl.get("feasible")
        rule = feasible.get("range") if isinstance(feasible, Mapping) else None
        bounds = parse_range(rule)
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if bounds is not None and number is not None and not bounds.contains(number):
            errors.append(f"value '{text}' of parameter '{name}' is outside its feasible.range {rule}")
    return errors
