"""What ``run``, ``deploy --run``, ``watch`` and ``cancel`` share, whatever the platform: the run flags, the state
file, signal handling, parameters, addressing a remote run, following it and reporting its status.

The commands themselves are in :mod:`pipeline_ci.commands`. Everything here raises
:class:`~pipeline_ci.errors.UsageError` for bad flags, ids or overrides (nothing was started) and
:class:`RemoteStartError` when the platform refused or failed the start request.

- The first SIGINT/SIGTERM while a run is starting or being followed asks to cancel it (:func:`cancel_on_signals`:
  the follower cancels the remote run, exit 5); a second one exits at once.
- As soon as a run id is known it is written to the state file (``--state-file``, default
  ``$RUNNER_TEMP/pipeline-ci-run.json`` in Actions, else ``.pipeline-ci/run.json``) and to ``$GITHUB_STATE``, so
  a later ``pipeline-ci cancel`` finds it. Both are checked writable before anything starts
  (:func:`check_state_writable`: a usage error otherwise).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import github, overrides
from ..errors import PlatformError, UsageError
from ..exitcodes import ExitCode, status_word
from . import active
from .follow import FollowResult, RemoteRun, follow

if TYPE_CHECKING:
    from ..platforms.clarifai.api import ClarifaiClient
    from ..platforms.clarifai.run import RunTarget
    from ..platforms.clarifai.target import Resolved
    from ..platforms.local.executor import LocalRunResult

Out = Callable[[str], None]
Start = Callable[[dict[str, str]], None]


class RemoteStartError(PlatformError):
    """The platform refused or failed the start request (exit 3, or 2 when the request itself was wrong)."""

    def __init__(self, message: str, exit_code: int = ExitCode.API):
        super().__init__(f"could not start the run: {message}", exit_code)


DESTS = {"set_args": "set"}
"""The :class:`RunFlags` fields whose argparse destination (and flag) is named otherwise."""


@dataclass(frozen=True)
class RunFlags:
    """The flags of ``run``, ``deploy``, ``watch`` and ``cancel`` (see ``pipeline-ci run --help``), parsed."""

    backend: str
    path: Path | None = None
    run_id: str | None = None
    overrides_file: Path | None = None
    set_args: tuple[str, ...] = ()
    timeout: float | None = None
    max_interval: float = 30.0
    paused_grace: float = 600.0
    no_wait: bool = False
    state_file: Path | None = None
    user_id: str | None = None
    app_id: str | None = None
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None
    compute_cluster_id: str | None = None
    nodepool_id: str | None = None
    instance: str | None = None  # Clarifai: instance type whose compute is got or created
    cloud: str | None = None
    dry_run: bool = False  # run: resolve everything, start nothing
    workspace_id: str | None = None
    region: str | None = None
    endpoint: str | None = None
    manifest: Path | None = None
    parallelism: int | None = None
    isolation: str = "auto"
    secrets_file: Path | None = None
    allow_unsupported: bool = False
    semaphore: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunFlags:
        """From the parsed arguments of any of the four commands (their destinations are named like the fields,
        ``--set`` but)."""
        values: dict[str, Any] = {}
        for item in fields(cls):
            dest = DESTS.get(item.name, item.name)
            if hasattr(args, dest):
                values[item.name] = getattr(args, dest)
        values["set_args"] = tuple(values.get("set_args") or ())
        values["semaphore"] = tuple(values.get("semaphore") or ())
        return cls(**values)

    def clarifai_ids(self) -> dict[str, str | None]:
        """The Clarifai ids given as flags, keyed as :func:`pipeline_ci.platforms.clarifai.target.resolve` wants."""
        return {"user_id": self.user_id, "app_id": self.app_id, "pipeline_id": self.pipeline_id,
                "version_id": self.pipeline_version_id, "compute_cluster_id": self.compute_cluster_id,
                "nodepool_id": self.nodepool_id, "instance": self.instance, "cloud": self.cloud, "region": self.region}


# ----------------------------------------------------------------------------------------------- state file


def state_path(flags: RunFlags, env: Mapping[str, str]) -> Path:
    if flags.state_file:
        return Path(flags.state_file)
    if env.get("RUNNER_TEMP"):
        return Path(env["RUNNER_TEMP"]) / "pipeline-ci-run.json"
    return Path(".pipeline-ci") / "run.json"


def check_state_writable(path: Path, env: Mapping[str, str]) -> None:
    """Before anything starts: the state file ``path`` and ``$GITHUB_STATE`` (when set) can be written (a usage error
    otherwise), so that a started run's id is never lost to an unwritable path. Creates nothing."""
    for where, name in ((path, "--state-file"), (Path(env["GITHUB_STATE"]) if env.get("GITHUB_STATE") else None,
                                                  "$GITHUB_STATE")):
        if where is None:
            continue
        if where.is_dir():
            raise UsageError(f"{name} {where} is a folder, not a file: the run id could not be saved there",
                             hint="give the path of a file")
        folder = where.absolute().parent  # the nearest existing ancestor is where the folders would be created
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        writable = where.exists() and os.access(where, os.W_OK) or not where.exists() and os.access(folder, os.W_OK)
        if not folder.is_dir() or not writable:
            what = f"{folder} is not a folder" if not folder.is_dir() else "permission denied"
            raise UsageError(f"cannot write {name} {where}: {what}; the run id could not be saved there",
                             hint="give a path in a writable folder")


def save_state(path: Path, data: dict[str, Any], env: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    github.save_state("run-id", str(data.get("run_id")), env)
    github.save_state("run-state-file", os.path.realpath(path), env)


def load_state(path: Path) -> dict[str, Any] | None:
    """The state file as a mapping, or None when it is missing, unreadable or not a JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def state_of(flags: RunFlags, remote: Any) -> dict[str, Any]:
    """What the state file records about a started run: enough for ``cancel`` to address it again."""
    target = getattr(remote, "target", None)
    where = {"target": vars(target)} if target is not None else {"endpoint": flags.endpoint, "region": flags.region}
    return {"backend": flags.backend, "run_id": remote.run_id, **where}


# ----------------------------------------------------------------------------------------------- signals


@contextlib.contextmanager
def cancel_on_signals(out: Out) -> Iterator[threading.Event]:
    """SIGINT/SIGTERM handlers for the duration of the block: the first sets the returned event (the follower
    cancels the run), a second exits 5 at once. The previous handlers are put back afterwards."""
    cancel = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        if cancel.is_set():
            out("pipeline-ci: second signal: exiting now")
            os._exit(ExitCode.CANCELLED)
        out(f"pipeline-ci: received {signal.Signals(signum).name}; cancelling")
        cancel.set()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
    try:
        yield cancel
    finally:
        for number, old in previous.items():
            signal.signal(number, old if old is not None else signal.SIG_DFL)


# ----------------------------------------------------------------------------------------------- parameters


REMOTE_ONLY = ("clarifai", "pai")
APPLIES: dict[str, tuple[str, ...]] = {
    "no_wait": REMOTE_ONLY, "run_id": ("clarifai",), "max_interval": REMOTE_ONLY, "paused_grace": REMOTE_ONLY,
    "state_file": REMOTE_ONLY, "user_id": ("clarifai",), "app_id": ("clarifai",), "pipeline_id": REMOTE_ONLY,
    "pipeline_version_id": ("clarifai",), "compute_cluster_id": ("clarifai",), "nodepool_id": ("clarifai",),
    "instance": ("clarifai",), "cloud": ("clarifai",), "dry_run": ("clarifai",), "region": REMOTE_ONLY,
    "workspace_id": ("pai",), "endpoint": ("pai",), "manifest": ("pai",), "parallelism": ("local",),
    "isolation": ("local",), "secrets_file": ("local",), "allow_unsupported": ("local",), "semaphore": ("local",),
}
"""The run flags that only some backends read (the others apply to every backend)."""


def flag_name(field_name: str) -> str:
    return "--" + DESTS.get(field_name, field_name).replace("_", "-")


def given_flags(flags: RunFlags) -> list[str]:
    """The fields of ``flags`` set to something else than their default (``set_args``, ``timeout`` ...)."""
    out = []
    for field in fields(RunFlags):
        value = getattr(flags, field.name)
        if field.name not in ("backend", "path") and value != field.default and (value or field.default):
            out.append(field.name)
    return out


def check_applies(flags: RunFlags) -> None:
    """Nothing silent: a run flag the backend would ignore is a usage error, before anything starts."""
    stray = [name for name in given_flags(flags) if flags.backend not in APPLIES.get(name, (flags.backend,))]
    if stray:
        for_ = {name: " or ".join(APPLIES[name]) for name in stray}
        listed = ", ".join(f"{flag_name(n)} (for {for_[n]})" for n in stray)
        raise UsageError(f"{listed} {'does' if len(stray) == 1 else 'do'} not apply to --backend {flags.backend}",
                         hint="leave them out, or pick the backend they are for")


def parameters(flags: RunFlags) -> dict[str, str]:
    """Overrides from ``--overrides-file`` and ``--set`` (which wins), as strings (an
    :class:`~pipeline_ci.overrides.OverridesError` is a usage error)."""
    errors: list[overrides.OverridesError] = []  # every problem of the file and of --set at once
    from_file: dict[str, Any] = {}
    set_values: dict[str, str] = {}
    try:
        from_file = overrides.load_overrides_file(flags.overrides_file) if flags.overrides_file else {}
    except overrides.OverridesError as exc:
        errors.append(exc)
    try:
        set_values = overrides.parse_set(list(flags.set_args))
    except overrides.OverridesError as exc:
        errors.append(exc)
    if errors:
        raise overrides.combine(errors)
    return overrides.merge(from_file, set_values)


def validate_for_project(root: Path | None, values: dict[str, str]) -> None:
    """Offline check of override names and values against the project's spec and step params."""
    if root is None:
        return
    from ..argo.walk import parameters as params_of
    from ..argo.walk import spec_body
    from ..project import load_project

    project = load_project(root)
    spec = project.spec.data if project.spec and isinstance(project.spec.data, dict) else None
    if spec is None:
        return
    declared = {p["name"]: p for _, p in params_of(spec_body(spec), "arguments") if isinstance(p.get("name"), str)}
    steps = overrides.map_refs(project, [], [])
    errors = overrides.validate(values, declared, overrides.accepted_values(spec, steps))
    if len(errors) == 1:
        raise UsageError(errors[0])
    if errors:
        raise UsageError(f"{len(errors)} problems with the run parameters", details=errors)


def project_root(path: Path | None, *, required: bool = False, committed: bool = False) -> Path | None:
    """The pipeline project at or above ``path`` (default: the current directory). Without ``path``, no project
    is a usage error only when ``required``. A Python-defined pipeline (a ``.py`` file, or named by the settings)
    stands for its generated bundle; with ``committed`` (remote runs), for its committed bundle when there is one,
    whose lockfile holds the pipeline version (:func:`pipeline_ci.dsl.resolve.dsl_root`)."""

    from ..discovery import find_root
    from ..dsl.resolve import dsl_root

    python_file = path is not None and path.suffix == ".py"
    searched = path is None or (not python_file and path.is_dir())  # a folder: looked up once, here
    root = find_root(path or Path.cwd()) if searched else None
    if python_file or (searched and root is None):
        dsl = dsl_root(path, os.environ, committed=committed, strict=path is not None or required)
        if dsl is not None:
            return dsl
    if path is None:
        if root is None and required:
            raise UsageError("no pipeline project (config.yaml with 'pipeline:') in or above the current directory",
                             hint="give the project folder: pipeline-ci run PATH")
        return root
    if not path.exists():
        raise UsageError(f"no such file or directory: {path}")
    if not searched:
        root = find_root(path)
    if root is None:
        raise UsageError(f"no pipeline project (config.yaml with 'pipeline:') in or above {path}")
    return root


# ----------------------------------------------------------------------------------------------- remote runs


def clarifai_run(flags: RunFlags, root: Path | None, env: Mapping[str, str], out: Out, *,
                 place: bool = True) -> tuple[RemoteRun, Start]:
    """A Clarifai run addressed by the flags, the lockfile and the config (each id's source is printed), and the
    function that starts it. Credentials: ``CLARIFAI_PAT`` (or the Clarifai CLI context, filled in by the CLI).
    ``place``: get or create the compute of an instance type (a new run; an existing one has its compute)."""
    from ..platforms.clarifai.api import ApiError
    from ..platforms.clarifai.run import ClarifaiRun

    client, resolved = clarifai_target(flags, root, env, out, place=place)
    assert client is not None  # only a dry run goes without
    remote = ClarifaiRun(client, resolved.target, flags.run_id)

    def start(values: dict[str, str]) -> None:
        try:
            remote.start(list(values.items()))
        except ApiError as exc:
            raise RemoteStartError(exc.message, exc.exit_code) from None

    return remote, start


def clarifai_target(flags: RunFlags, root: Path | None, env: Mapping[str, str], out: Out, *,
                    place: bool = True) -> tuple[ClarifaiClient | None, Resolved]:
    """The client and the resolved target of a Clarifai run, each id's source printed, its compute got or created
    (only looked up in a dry run). A dry run without a PAT has no client: it says what it could not check."""
    from ..platforms.clarifai.api import ApiError, ClarifaiClient
    from ..platforms.clarifai.target import resolve

    resolved = resolve(root, flags.clarifai_ids(), env.get("CLARIFAI_USER_ID") or None)
    client: ClarifaiClient | None = None
    try:
        client = ClarifaiClient.from_env(env, log=lambda line: out(f"  retry: {line}"))
    except ApiError as exc:
        if not (flags.dry_run and not env.get("CLARIFAI_PAT", "").strip()):
            raise UsageError(exc.message) from None
        out("  credentials: no CLARIFAI_PAT: nothing on the platform was checked")
    for name, source in resolved.sources.items():
        out(f"  {name}: from {source}")
    if resolved.instance is not None and place:
        _place(client, resolved.target, resolved.instance, dry_run=flags.dry_run, out=out)
    return client, resolved


def _place(client: ClarifaiClient | None, target: RunTarget, instance: tuple[str, str | None, str | None], *,
           dry_run: bool, out: Out) -> None:
    """Get or create the compute of an instance type (:mod:`pipeline_ci.platforms.clarifai.compute`) and put its
    ids in the target; a dry run only looks."""
    from ..platforms.clarifai import compute

    name, cloud, region = instance
    placed = compute.plan(client, target.user_id, name, cloud, region, target.compute_cluster_id, target.nodepool_id,
                          warn=lambda message: out(f"  warning: {message}"))
    for line in placed.describe():
        out(f"  {line}")
    if not dry_run:
        compute.ensure(client, target.user_id, placed, out)
    target.compute_cluster_id, target.nodepool_id = placed.cluster_id, placed.nodepool_id


def pai_run(flags: RunFlags, root: Path | None, values: dict[str, str], env: Mapping[str, str],
            out: Out) -> tuple[RemoteRun, Start | None]:
    """A PAI run (``--workspace-id``, ``--pipeline-id`` or ``--manifest``, ``--region``/``--endpoint``; credentials
    ``ALIBABA_CLOUD_*``) and its start function; with ``flags.run_id``, the existing run and no start function."""
    from ..platforms.pai.run import make_pai_run

    pai_flags = argparse.Namespace(region=flags.region, endpoint=flags.endpoint, run_id=flags.run_id,
                                   workspace_id=flags.workspace_id, pipeline_id=flags.pipeline_id,
                                   manifest=flags.manifest)  # the attributes make_pai_run reads
    remote, start = make_pai_run(pai_flags, root, values, env, out, UsageError, RemoteStartError)
    return remote, start


def existing_run(flags: RunFlags, env: Mapping[str, str], out: Out) -> RemoteRun:
    """The run ``flags.run_id`` on ``flags.backend``, for ``watch`` and ``cancel``."""
    from ..platforms import names

    if flags.backend not in names("attach"):
        raise UsageError(f"runs on {flags.backend!r} cannot be addressed by id; choose from {', '.join(names('attach'))}",
                         hint="a local run is followed by `pipeline-ci run --backend local` itself and stopped with "
                              "Ctrl-C or SIGTERM to its process")
    if not flags.run_id:
        raise UsageError("no run id given")
    root = project_root(flags.path, committed=True) if flags.backend == "clarifai" or flags.path else None
    if flags.backend == "clarifai":
        return clarifai_run(flags, root, env, out, place=False)[0]  # an existing run has its compute
    return pai_run(flags, root, {}, env, out)[0]


# ----------------------------------------------------------------------------------------------- reporting


def follow_and_report(flags: RunFlags, remote: RemoteRun, env: Mapping[str, str], out: Out,
                      cancel: threading.Event, *, started_here: bool) -> int:
    """Follow ``remote`` to its final status (relaying its logs), report it; the exit code.

    ``started_here``: this process started the run (``run``, ``deploy --run``; not ``watch``). Such a run is
    registered as active (:mod:`.active`) until the follower takes it over: from then on the follower cancels it
    itself if anything escapes the follow, and otherwise it ended, was cancelled or timed out as reported."""
    following = False
    try:
        with github.relay(out, env) as log:
            following = True
            result = follow(remote, timeout=3600.0 if flags.timeout is None else flags.timeout, max_interval=flags.max_interval,
                            paused_grace=flags.paused_grace, out=log, cancel=cancel, cancel_on_error=started_here)
    finally:
        if following:
            active.unregister(remote)
    return report(result, remote, flags.backend, env, out)


def report(result: FollowResult, run: RemoteRun, backend: str, env: Mapping[str, str], out: Out) -> int:
    from ..report.summary import cell, link

    status = status_word(result.exit_code)
    out(f"pipeline-ci: run {run.run_id} {status} (status {result.status or 'unknown'}, exit {result.exit_code})")
    github.set_output("status", status, env)
    if not env.get("GITHUB_STEP_SUMMARY"):  # the summary (its Mermaid chart) is built only where it is written
        return result.exit_code
    from ..report import mermaid

    bars = mermaid.argo_status_bars(result.nodes)
    chart = mermaid.fenced(mermaid.run_gantt(f"run {run.run_id}", bars)) if bars else ""
    github.append_summary(f"### pipeline-ci run ({backend})\n\n| run | status | backend status |\n|---|---|---|\n"
                          f"| {link(run.run_id, run.url)} | {status} | {cell(result.status)} |\n"
                          + (f"\n{chart}" if chart else ""), env)
    return result.exit_code


def report_local(result: LocalRunResult, env: Mapping[str, str]) -> int:
    """GitHub outputs and the job summary of a local run; its exit code."""
    from ..report.summary import cell

    github.set_output("run-id", result.run_id, env)
    github.set_output("status", status_word(result.exit_code), env)
    if not env.get("GITHUB_STEP_SUMMARY"):  # the summary (its Mermaid chart) is built only where it is written
        return result.exit_code
    rows = [f"| {cell(n['path'])} | {n['phase']} | {n.get('duration') or 0:.2f}s | {n.get('exit_code', '')} | "
            f"{cell(n.get('log') or '')} |" for n in result.nodes if n.get("type") not in ("DAG", "Steps", "StepGroup")]
    from ..report import mermaid

    bars = mermaid.record_bars(result.nodes)
    chart = f"\n{mermaid.fenced(mermaid.run_gantt(f'run {result.run_id}', bars))}" if bars else ""
    github.append_summary(f"### pipeline-ci local run `{result.run_id}`: {result.phase}\n\n"
                          "| step | status | duration | exit | log |\n|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
                          + chart, env)
    return result.exit_code
