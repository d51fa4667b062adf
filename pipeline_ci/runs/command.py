"""``pipeline-ci run``, ``watch`` and ``cancel``: the same gating contract on every backend.

The first SIGINT/SIGTERM while following a run cancels the remote run (or stops the local
processes) and exits 5; a second one exits at once. As soon as a run id is known it is written to
the state file (``--state-file``, default ``$RUNNER_TEMP/pipeline-ci-run.json`` in Actions, else
``.pipeline-ci/run.json``) and to ``$GITHUB_STATE``, so a later ``pipeline-ci cancel`` finds it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .. import github, overrides
from . import API_ERROR, CANCELLED, SUCCEEDED, USAGE
from .follow import FollowResult, RemoteRun, follow

Out = Callable[[str], None]


class UsageError(Exception):
    """Bad flags, ids or overrides: nothing was started (exit 2)."""


def state_path(args: argparse.Namespace, env: Mapping[str, str]) -> Path:
    if getattr(args, "state_file", None):
        return Path(args.state_file)
    if env.get("RUNNER_TEMP"):
        return Path(env["RUNNER_TEMP"]) / "pipeline-ci-run.json"
    return Path(".pipeline-ci") / "run.json"


def save_state(path: Path, data: dict[str, Any], env: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    github.save_state("run-id", str(data.get("run_id")), env)
    github.save_state("run-state-file", os.path.realpath(path), env)


def install_signals(cancel: threading.Event, out: Out) -> None:
    """First SIGINT/SIGTERM: ask to cancel; second: exit 5 at once."""

    def handler(signum: int, _frame: object) -> None:
        if cancel.is_set():
            out("pipeline-ci: second signal: exiting now")
            os._exit(CANCELLED)
        out(f"pipeline-ci: received {signal.Signals(signum).name}; cancelling")
        cancel.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def parameters(args: argparse.Namespace) -> dict[str, str]:
    """Overrides from ``--overrides-file`` and ``--set`` (which wins), as strings."""
    try:
        from_file = overrides.load_overrides_file(args.overrides_file) if args.overrides_file else {}
        return overrides.merge(from_file, overrides.parse_set(args.set or []))
    except overrides.OverridesError as exc:
        raise UsageError(str(exc)) from None


def validate_for_project(root: Path | None, values: dict[str, str]) -> None:
    """Offline check of override names and values against the project's spec and step params."""
    if root is None:
        return
    from ..argo.walk import parameters as params_of
    from ..argo.walk import spec_body
    from ..executor.preflight import accepted_values, map_refs
    from ..project import load_project

    project = load_project(root)
    spec = project.spec.data if project.spec and isinstance(project.spec.data, dict) else None
    if spec is None:
        return
    declared = {p["name"]: p for _, p in params_of(spec_body(spec), "arguments") if isinstance(p.get("name"), str)}
    steps = map_refs(project, [], [])
    errors = overrides.validate(values, declared, accepted_values(spec, steps))
    if errors:
        raise UsageError("; ".join(errors))


STATUS_WORDS = {0: "succeeded", 1: "failed", 3: "error", 4: "timed-out", 5: "cancelled"}


def report(result: FollowResult, run: RemoteRun, backend: str, env: Mapping[str, str], out: Out) -> int:
    from ..report.summary import cell, link

    status = STATUS_WORDS.get(result.exit_code, "error")
    out(f"pipeline-ci: run {run.run_id} {status} (status {result.status or 'unknown'}, exit {result.exit_code})")
    github.set_output("status", status, env)
    github.append_summary(f"### pipeline-ci run ({backend})\n\n| run | status | backend status |\n|---|---|---|\n"
                          f"| {link(run.run_id, run.url)} | {status} | {cell(result.status)} |\n", env)
    return result.exit_code


def project_root(path: Path | None) -> Path | None:
    from ..discovery import find_root

    if path is None:
        return find_root(Path.cwd())
    if not path.exists():
        raise UsageError(f"no such file or directory: {path}")
    root = find_root(path)
    if root is None:
        raise UsageError(f"no pipeline project (config.yaml with 'pipeline:') in or above {path}")
    return root


def run(args: argparse.Namespace, env: Mapping[str, str], out: Out) -> int:
    """``pipeline-ci run``."""
    cancel = threading.Event()
    install_signals(cancel, out)  # before the start request: a signal during it still cancels the run
    try:
        values = parameters(args)
        if args.backend == "local":
            return _run_local(args, values, cancel, env, out)
        root = project_root(args.path) if args.backend == "clarifai" or args.path else None
        if args.backend == "clarifai":
            validate_for_project(root, values)
            remote, start = _clarifai(args, root, env, out)
        else:
            remote, start = _pai(args, root, values, env, out)
    except UsageError as exc:
        out(f"pipeline-ci: {exc}")
        return USAGE
    try:
        start(values)
    except RemoteStartError as exc:
        out(f"pipeline-ci: could not start the run: {exc}")
        return exc.exit_code
    save_state(state_path(args, env), {"backend": args.backend, "run_id": remote.run_id, **_address(args, remote)},
               env)
    github.set_output("run-id", remote.run_id, env)
    github.set_output("run-url", remote.url or "", env)
    target = getattr(remote, "target", None)
    if target is not None:
        github.set_output("pipeline-version-id", target.version_id, env)
    out(f"pipeline-ci: started run {remote.run_id}" + (f" ({remote.url})" if remote.url else ""))
    if args.no_wait:
        return SUCCEEDED
    return _follow(args, remote, env, out, cancel)


def _follow(args: argparse.Namespace, remote: RemoteRun, env: Mapping[str, str], out: Out,
            cancel: threading.Event) -> int:
    relay = github.relay(out, env)
    with relay as log:
        result = follow(remote, timeout=args.timeout or 3600.0, max_interval=args.max_interval,
                        paused_grace=args.paused_grace, out=log, cancel=cancel)
    return report(result, remote, args.backend, env, out)


class RemoteStartError(Exception):
    def __init__(self, message: str, exit_code: int = API_ERROR):
        super().__init__(message)
        self.exit_code = exit_code


def _address(args: argparse.Namespace, remote: Any) -> dict[str, Any]:
    target = getattr(remote, "target", None)
    if target is not None:
        return {"target": vars(target)}
    return {"endpoint": getattr(args, "endpoint", None), "region": getattr(args, "region", None)}


def _clarifai(args: argparse.Namespace, root: Path | None, env: Mapping[str, str], out: Out):
    from ..platforms.clarifai.api import ApiError, ClarifaiClient
    from ..platforms.clarifai.run import ClarifaiRun
    from ..platforms.clarifai.target import TargetError, resolve

    flags = {"user_id": args.user_id, "app_id": args.app_id, "pipeline_id": args.pipeline_id,
             "version_id": args.pipeline_version_id, "compute_cluster_id": args.compute_cluster_id,
             "nodepool_id": args.nodepool_id}
    try:
        resolved = resolve(root, flags)
        client = ClarifaiClient.from_env(env, log=lambda line: out(f"  retry: {line}"))
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    except ApiError as exc:
        raise UsageError(exc.message) from None
    for name, source in resolved.sources.items():
        out(f"  {name}: from {source}")
    remote = ClarifaiRun(client, resolved.target, getattr(args, "run_id", None))

    def start(values: dict[str, str]) -> None:
        try:
            remote.start(list(values.items()))
        except ApiError as exc:
            raise RemoteStartError(exc.message, USAGE if exc.kind == "config" else API_ERROR) from None

    return remote, start


def _pai(args: argparse.Namespace, root: Path | None, values: dict[str, str], env: Mapping[str, str], out: Out):
    from ..platforms.pai.run import make_pai_run

    return make_pai_run(args, root, values, env, out, UsageError, RemoteStartError)


def _run_local(args: argparse.Namespace, values: dict[str, str], cancel: threading.Event, env: Mapping[str, str],
               out: Out) -> int:
    from ..executor import run_local

    root = project_root(args.path)
    result = run_local(root, parameters=values, parallelism=args.parallelism, isolation=args.isolation,
                       timeout=args.timeout, secrets_file=args.secrets_file,
                       out=out, cancel=cancel)
    github.set_output("run-id", result.run_id, env)
    github.set_output("status", STATUS_WORDS.get(result.exit_code, "error"), env)
    from ..report.summary import cell

    rows = [f"| {cell(n['path'])} | {n['phase']} | {n.get('duration') or 0:.2f}s | {n.get('exit_code', '')} | "
            f"{cell(n.get('log') or '')} |" for n in result.nodes if n.get("type") not in ("DAG", "Steps", "StepGroup")]
    github.append_summary(f"### pipeline-ci local run `{result.run_id}`: {result.phase}\n\n"
                          "| step | status | duration | exit | log |\n|---|---|---|---|---|\n" + "\n".join(rows) + "\n",
                          env)
    return result.exit_code


def watch(args: argparse.Namespace, env: Mapping[str, str], out: Out) -> int:
    """``pipeline-ci watch RUN_ID``: attach to a run with the same gating."""
    cancel = threading.Event()
    remote = _existing_run(args, env, out, "local runs are followed by `pipeline-ci run --backend local` itself")
    if remote is None:
        return USAGE
    install_signals(cancel, out)
    return _follow(args, remote, env, out, cancel)


def _existing_run(args: argparse.Namespace, env: Mapping[str, str], out: Out, local_message: str) -> RemoteRun | None:
    """The remote run ``args.run_id`` on ``args.backend`` (None after reporting a usage error)."""
    try:
        root = project_root(args.path) if args.backend == "clarifai" or args.path else None
        if args.backend == "clarifai":
            return _clarifai(args, root, env, out)[0]
        if args.backend == "pai":
            return _pai(args, root, {}, env, out)[0]
        raise UsageError(local_message)
    except UsageError as exc:
        out(f"pipeline-ci: {exc}")
        return None


def cancel(args: argparse.Namespace, env: Mapping[str, str], out: Out) -> int:
    """``pipeline-ci cancel [RUN_ID]``: cancel a run (the one in the state file by default)."""
    state: dict[str, Any] = {}
    path = state_path(args, env)
    if not args.run_id:
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            state = None
        if not isinstance(state, dict):
            out(f"pipeline-ci: no run id given and no readable state file at {path}")
            return USAGE
        args.run_id = state.get("run_id")
        args.backend = state.get("backend", args.backend)
        target = state.get("target")
        for key, value in (target if isinstance(target, dict) else {}).items():
            attr = {"version_id": "pipeline_version_id"}.get(key, key)
            if getattr(args, attr, None) is None:
                setattr(args, attr, value)
        for key in ("endpoint", "region"):
            if getattr(args, key, None) is None and state.get(key):
                setattr(args, key, state[key])
    remote = _existing_run(args, env, out, "a local run is cancelled with Ctrl-C or SIGTERM to its pipeline-ci process")
    if remote is None:
        return USAGE
    from .follow import FatalError, TransientError

    try:
        remote.cancel()
    except (FatalError, TransientError) as exc:
        out(f"pipeline-ci: could not cancel run {remote.run_id}: {exc}")
        return API_ERROR
    out(f"pipeline-ci: cancelled run {remote.run_id}")
    return SUCCEEDED
