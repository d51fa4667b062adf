"""In-process emulator of the Clarifai API (gRPC service ``clarifai.api.V2``), pipeline methods only.

Subclasses the official generated servicer of ``clarifai-grpc``, so clients built on ``service_pb2_grpc.V2Stub``
(the Clarifai SDK, our upload/run code) talk to it unchanged. Behaviour follows the SDK's upload, run and
monitor code (Clarifai/clarifai-python: ``clarifai/runners/pipeline_steps/pipeline_step_builder.py``,
``clarifai/runners/pipelines/pipeline_builder.py``, ``clarifai/client/pipeline.py``, ``clarifai/cli/pipeline_run.py``).

    with ClarifaiEmulator(pats={"test-pat"}) as emu:
        stub = service_pb2_grpc.V2Stub(emu.channel())
        stub.GetApp(service_pb2.GetAppRequest(...), metadata=(("authorization", "Key test-pat"),))

Every RPC answers with a Clarifai ``status`` (auth errors included); only injected transport faults abort with a
gRPC status. Time does not advance by itself: builds finish and runs progress as clients poll
``GetPipelineStepVersion`` / ``GetPipelineVersionRun``; a run's scripted "late" log lines appear once its final
status has been answered (a platform whose log ingestion lags behind). Other V2 methods answer gRPC
``UNIMPLEMENTED``. Status codes are named as :mod:`pipeline_ci.platforms.clarifai.status` names them (the codes
the client under test also uses), the others straight from ``status_code_pb2``.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_code_pb2 as sc
from clarifai_grpc.grpc.api.status import status_pb2
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from ..platforms.clarifai import status as codes

AUTH_MISSING_CODE = sc.CONN_INVALID_REQUEST  # no / malformed `authorization` header (what the API answers)
AUTH_UNKNOWN_CODE = codes.CONN_KEY_NOT_FOUND  # "API key not found"
SCOPE_CODE = codes.CONN_INSUFFICIENT_SCOPES  # the PAT lacks a scope the method needs
THROTTLED_CODE = codes.CONN_THROTTLED
INTERNAL_CODE = codes.INTERNAL_UNCATEGORIZED
DUPLICATE_CODE = sc.DATABASE_DUPLICATE_KEY  # an id that already exists

FAULT_KINDS = ("unavailable", "throttled", "internal", "break_stream", "drop_response", "deadline",
               "permission_denied", "insufficient_scopes")
UPLOAD_METHOD = "PostPipelineStepVersionsUpload"
MAX_CHUNK = 14 * 1024 * 1024  # the SDK's upload chunk size (pipeline_step_builder.py)
DEFAULT_PER_PAGE = 50  # the SDK always pages logs by 50 (clarifai/client/pipeline.py)
BUILDER_LOG, RUN_LOG = "builder", "pipeline.version.run"

DEFAULT_RUN_SCRIPT: list[tuple[int, int]] = [(codes.JOB_QUEUED, 1), (codes.JOB_RUNNING, 2), (codes.JOB_COMPLETED, 0)]
DEFAULT_RUN_LOGS: dict[int, list[str]] = {
    codes.JOB_RUNNING: ["step-0: started"],
    codes.JOB_COMPLETED: ["step-0: finished", "workflow succeeded"],
}
# What the platform treats as final (not the client's policy: JOB_CONFLICT, for one, is not final here).
TERMINAL_RUN_CODES = frozenset({codes.JOB_COMPLETED, codes.JOB_FAILED, codes.JOB_CANCELLED, codes.JOB_UNEXPECTED_ERROR})
# PatchPipelineVersionRuns (action "overwrite"): target code -> codes it may be reached from
# (``clarifai pipelinerun pause|cancel|resume``, clarifai/cli/pipeline_run.py).
PATCH_ALLOWED_FROM: dict[int, frozenset[int]] = {
    codes.JOB_CANCELLED: frozenset({codes.JOB_QUEUED, codes.JOB_RUNNING, codes.JOB_PAUSED}),
    codes.JOB_PAUSED: frozenset({codes.JOB_QUEUED, codes.JOB_RUNNING}),
    codes.JOB_RUNNING: frozenset({codes.JOB_PAUSED}),
}
VERSIONED_REF = re.compile(r"^users/([^/]+)/apps/([^/]+)/pipeline_steps/([^/]+)/versions/([^/]+)$")

_SERVICE = service_pb2.DESCRIPTOR.services_by_name["V2"]


@dataclass
class Fault:
    """One injected fault; fires on calls 1, 1+every, 1+2·every, … of ``method`` until ``times`` is used up."""

    method: str
    kind: str
    times: int | None  # firings left; None = unlimited
    every: int = 1
    delay: float = 0.5  # sleep of a "deadline" fault, in seconds
    seen: int = 0  # calls of `method` since injection

    def fires(self) -> bool:
        """Count one call and tell whether the fault hits it."""
        self.seen += 1
        if (self.seen - 1) % self.every or self.times == 0:
            return False
        if self.times is not None:
            self.times -= 1
        return True


@dataclass
class StepUpload:
    """A completed ``PostPipelineStepVersionsUpload`` (one that created a step version)."""

    user_id: str
    app_id: str
    step_id: str
    version_id: str
    size: int
    parts: int
    members: list[str]
    data: bytes = field(repr=False)


@dataclass
class _StepVersion:
    proto: resources_pb2.PipelineStepVersion
    polls_left: int
    outcome: tuple[int, list[str]] | None
    logs: list[resources_pb2.LogEntry] = field(default_factory=list)


@dataclass
class _Run:
    proto: resources_pb2.PipelineVersionRun
    pending: list[tuple[int, int]]
    log_script: dict[int, list[str]]
    late_logs: list[str] = field(default_factory=list)  # logged once the final status has been answered
    polls_left: int = 0
    logs: list[resources_pb2.LogEntry] = field(default_factory=list)
    history: list[resources_pb2.PipelineVersionRunStatusLog] = field(default_factory=list)

    @property
    def code(self) -> int:
        return self.proto.orchestration_status.status.code


def _argo_status(run: resources_pb2.PipelineVersionRun, code: int) -> str:
    """The raw Argo ``WorkflowStatus`` (JSON) the platform reports in ``argo_status.status``: the workflow's phase
    and one ``Pod`` node per step or task of the entrypoint, started at the run's start and finished at its end
    (every node in the run's final phase; the emulator does not schedule nodes)."""
    phase = {codes.JOB_COMPLETED: "Succeeded", codes.JOB_FAILED: "Failed"}.get(code, "Error")
    started = run.started_at.ToJsonString() if run.HasField("started_at") else run.created_at.ToJsonString()
    ended = run.ended_at.ToJsonString()
    try:
        spec = json.loads(run.pipeline_version.orchestration_spec.argo_orchestration_spec.spec_json or "{}")
    except ValueError:
        spec = {}
    raw_body = spec.get("spec") if isinstance(spec, dict) else None
    body: dict = raw_body if isinstance(raw_body, dict) else {}
    entry: dict = next((t for t in body.get("templates") or [] if isinstance(t, dict)
                        and t.get("name") == body.get("entrypoint")), {})
    raw_dag = entry.get("dag")
    dag: dict = raw_dag if isinstance(raw_dag, dict) else {}
    names = [t.get("name") for t in dag.get("tasks") or [] if isinstance(t, dict)]
    names += [s.get("name") for group in entry.get("steps") or [] for s in (group if isinstance(group, list) else [])
              if isinstance(s, dict)]
    nodes = {f"{run.id}-{i}": {"id": f"{run.id}-{i}", "name": f"{run.id}.{name}", "displayName": name, "type": "Pod",
                               "phase": phase, "startedAt": started, "finishedAt": ended}
             for i, name in enumerate(n for n in names if isinstance(n, str))}
    return json.dumps({"phase": phase, "startedAt": started, "finishedAt": ended, "nodes": nodes})


# (id, cloud, region, accelerators, accelerator types): the catalog ListInstanceTypes answers by default
DEFAULT_INSTANCE_TYPES: list[tuple[str, str, str, int, tuple[str, ...]]] = [
    ("t3a.2xlarge", "aws", "us-east-1", 0, ()),
    ("g5.xlarge", "aws", "us-east-1", 1, ("NVIDIA-A10G",)),
    ("g6e.xlarge", "aws", "us-east-1", 1, ("NVIDIA-L40S",)),
    ("g6e.12xlarge", "aws", "us-west-2", 4, ("NVIDIA-L40S",)),
    ("n1-standard-8-t4", "gcp", "us-central1", 1, ("NVIDIA-T4",)),
]


def _instance_type(type_id: str, cloud: str, region: str, gpus: int, kinds: tuple[str, ...]) -> resources_pb2.InstanceType:
    info = resources_pb2.ComputeInfo(cpu_limit="4", cpu_memory="16Gi", num_accelerators=gpus,
                                     accelerator_type=list(kinds), accelerator_memory="24Gi" if gpus else "")
    return resources_pb2.InstanceType(id=type_id, description=type_id, compute_info=info, region=region,
                                      cloud_provider=resources_pb2.CloudProvider(id=cloud, name=cloud))


def _status(code: int, details: str = "") -> status_pb2.Status:
    known = code in sc.StatusCode.values()  # scripts may use codes newer than this clarifai-grpc
    description = "Ok" if code == sc.SUCCESS else sc.StatusCode.Name(code) if known else f"status {code}"
    return status_pb2.Status(code=code, description=description, details=details, req_id=uuid.uuid4().hex)


def _response(method: str, status: int | status_pb2.Status, details: str = "", **fields) -> Message:
    """A response of ``method``'s type carrying a Clarifai status (given as a code or a Status)."""
    cls = getattr(service_pb2, _SERVICE.methods_by_name[method].output_type.name)
    return cls(status=_status(status, details) if isinstance(status, int) else status, **fields)


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


def _copy(message: Message) -> Message:
    clone = type(message)()
    clone.CopyFrom(message)
    return clone


def _key(user_app_id: resources_pb2.UserAppIDSet, *ids: str) -> tuple[str, ...]:
    """State key: (user id, app id, *resource ids)."""
    return (user_app_id.user_id, user_app_id.app_id, *ids)


def _page(items: list, page: int, per_page: int) -> list:
    per_page = per_page or DEFAULT_PER_PAGE
    start = (max(page, 1) - 1) * per_page
    return items[start : start + per_page]


def _template_refs(spec: dict) -> list[str]:
    """templateRef names of step items and DAG tasks (as the SDK's ``pipeline_validation.py`` collects them);
    raises on a malformed spec."""
    refs = []
    for template in spec["spec"].get("templates") or []:
        items = [item for group in template.get("steps") or [] for item in group]
        items += (template.get("dag") or {}).get("tasks") or []
        refs += [item["templateRef"].get("name", "") for item in items if "templateRef" in item]
    return refs


class ClarifaiEmulator:
    """A local gRPC server emulating the pipeline part of the Clarifai API, with inspection and fault injection."""

    def __init__(
        self, pats: Iterable[str], *, build_polls: int = 1, deadline_delay: float = 0.5, max_workers: int = 16
    ) -> None:
        """``pats``: accepted PATs. ``build_polls``: polls answered BUILDING before a build ends.
        ``deadline_delay``: default sleep of a "deadline" fault."""
        self._pats = frozenset(pats)
        self.build_polls = build_polls
        self.deadline_delay = deadline_delay
        self.address: str | None = None
        self.faults: dict[str, list[Fault]] = {}
        self._max_workers = max_workers
        self._server: grpc.Server | None = None
        self._lock = threading.RLock()
        self._calls: list[tuple[str, Message | None]] = []
        self._uploads: list[StepUpload] = []
        # keyed by _key(): (user id, app id, *resource ids)
        self._apps: dict[tuple[str, ...], resources_pb2.App] = {}
        self._steps: dict[tuple[str, ...], resources_pb2.PipelineStep] = {}
        self._step_versions: dict[tuple[str, ...], _StepVersion] = {}
        self._build_outcomes: dict[str, tuple[int, list[str]]] = {}
        self._pipelines: dict[tuple[str, ...], resources_pb2.Pipeline] = {}
        self._versions: dict[tuple[str, ...], resources_pb2.PipelineVersion] = {}
        self._runs: dict[str, _Run] = {}
        # compute: the instance type catalog (see DEFAULT_INSTANCE_TYPES), clusters and nodepools by _key()
        self.instance_types: list[resources_pb2.InstanceType] = [_instance_type(*row) for row in DEFAULT_INSTANCE_TYPES]
        self._clusters: dict[tuple[str, ...], resources_pb2.ComputeCluster] = {}
        self._nodepools: dict[tuple[str, ...], resources_pb2.Nodepool] = {}
        self.require_compute = False  # True: a run on a nodepool that does not exist is refused, as the platform does
        self.final_status_reported: dict[str, float] = {}  # run id -> monotonic time of the first final answer
        self._run_script = list(DEFAULT_RUN_SCRIPT)
        self._run_logs = dict(DEFAULT_RUN_LOGS)
        self._late_logs: list[str] = []

    def __repr__(self) -> str:  # never shows the PATs
        return f"ClarifaiEmulator(address={self.address!r})"

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> str:
        """Start serving on ``127.0.0.1:<free port>``; return ``host:port``."""
        options = [("grpc.max_receive_message_length", MAX_CHUNK + 1024 * 1024)]
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=self._max_workers), options=options)
        service_pb2_grpc.add_V2Servicer_to_server(_Servicer(self), self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        self.address = f"127.0.0.1:{port}"
        return self.address

    def stop(self) -> None:
        """Stop the server, cancelling calls in flight."""
        if self._server is not None:
            self._server.stop(grace=0).wait()
            self._server = None

    def channel(self) -> grpc.Channel:
        """A plain insecure channel to the emulator (no client retry policy, so injected faults reach the caller).

        Also switches clarifai-grpc into gRPC mode: ``V2Stub(channel)`` needs the response deserializer that only
        ``ClarifaiChannel``'s factories install (a bare ``grpc.insecure_channel`` before that → ``TypeError``).
        """
        if self.address is None:
            raise RuntimeError("the emulator is not started")
        host, port = self.address.rsplit(":", 1)
        ClarifaiChannel.get_insecure_grpc_channel(base=host, port=int(port)).close()
        return grpc.insecure_channel(self.address)

    def __enter__(self) -> ClarifaiEmulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- test helpers

    def add_app(self, user_id: str, app_id: str) -> None:
        """Create an app directly (as if it already existed)."""
        with self._lock:
            self._apps[(user_id, app_id)] = resources_pb2.App(id=app_id, user_id=user_id, created_at=_now())

    def inject(
        self, method: str, fault: str, times: int | None = None, every: int | None = None, delay: float | None = None
    ) -> Fault:
        """Make ``method`` fail with ``fault`` (one of FAULT_KINDS).

        ``times``: how often it fires (default 1, or unlimited when ``every`` is given); ``every=N``: only calls
        1, 1+N, 1+2N, … are hit; ``delay``: sleep of a "deadline" fault (default ``deadline_delay``).
        Kinds: "unavailable" / "permission_denied" abort with that gRPC status; "throttled", "internal" and
        "insufficient_scopes" answer ``CONN_THROTTLED`` / ``INTERNAL_UNCATEGORIZED`` / ``CONN_INSUFFICIENT_SCOPES``;
        "deadline" answers late; "drop_response" does the work, then aborts UNAVAILABLE; "break_stream" breaks the
        upload stream after its first content part.
        """
        if fault not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {FAULT_KINDS}")
        if method not in _SERVICE.methods_by_name:
            raise ValueError(f"{method!r} is not a method of clarifai.api.V2")
        if fault == "break_stream" and method != UPLOAD_METHOD:
            raise ValueError(f"'break_stream' only applies to {UPLOAD_METHOD}")
        if times is None:
            times = 1 if every is None else None
        entry = Fault(method, fault, times, every or 1, self.deadline_delay if delay is None else delay)
        with self._lock:
            self.faults.setdefault(method, []).append(entry)
        return entry

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._lock:
            self.faults.clear()

    def script_run(
        self,
        statuses: list[tuple[int, int]] | None = None,
        logs: dict[int, list[str]] | None = None,
        late_logs: Iterable[str] = (),
    ) -> None:
        """Set the script of runs created from now on: ``statuses`` = [(status code, polls it is reported), …]
        (the last entry stays for good), ``logs`` = {status code: lines logged on entering it}. None → defaults.
        ``late_logs``: lines logged right after the run's final status is answered for the first time."""
        if statuses is not None and not statuses:
            raise ValueError("statuses must not be empty")
        with self._lock:
            self._run_script = list(statuses or DEFAULT_RUN_SCRIPT)
            self._run_logs = dict(DEFAULT_RUN_LOGS if logs is None else logs)
            self._late_logs = list(late_logs)

    def build_outcome(
        self, step_id: str, status_code: int = sc.PIPELINE_STEP_BUILDING_FAILED, log_lines: Iterable[str] = ()
    ) -> None:
        """Make the next build of ``step_id`` end with ``status_code`` and ``log_lines`` as builder logs."""
        with self._lock:
            self._build_outcomes[step_id] = (status_code, list(log_lines))

    def finish_builds(self) -> None:
        """Let every build in progress end at its next ``GetPipelineStepVersion`` poll (a test that held builds with a
        large ``build_polls`` releases them)."""
        with self._lock:
            for version in self._step_versions.values():
                version.polls_left = min(version.polls_left, 0)

    @property
    def calls(self) -> list[tuple[str, Message | None]]:
        """(method name, request) of every call received, in order (the upload stream records its first message)."""
        with self._lock:
            return list(self._calls)

    @property
    def uploads(self) -> list[StepUpload]:
        """Completed step-version uploads, in order."""
        with self._lock:
            return list(self._uploads)

    @property
    def pipeline_versions(self) -> list[resources_pb2.PipelineVersion]:
        """Copies of all pipeline versions, in creation order."""
        with self._lock:
            return [_copy(version) for version in self._versions.values()]

    @property
    def runs(self) -> dict[str, resources_pb2.PipelineVersionRun]:
        """Copies of all runs by run id, in creation order."""
        with self._lock:
            return {run_id: _copy(run.proto) for run_id, run in self._runs.items()}

    @property
    def step_versions(self) -> list[resources_pb2.PipelineStepVersion]:
        """Copies of all pipeline step versions, in creation order."""
        with self._lock:
            return [_copy(version.proto) for version in self._step_versions.values()]

    # ----------------------------------------------------------------- dispatch

    def _record(self, method: str, request: Message | None) -> Fault | None:
        """Log the call and return the fault that hits it, if any."""
        with self._lock:
            self._calls.append((method, request))
            hits = [fault for fault in self.faults.get(method, []) if fault.fires()]
        return hits[0] if hits else None

    def _pre_fault(self, fault: Fault | None, context: grpc.ServicerContext) -> status_pb2.Status | None:
        """Apply the faults that strike before the operation; return a Clarifai error status to answer with."""
        kind = fault.kind if fault else None
        if kind == "unavailable":
            context.abort(grpc.StatusCode.UNAVAILABLE, "injected fault: service unavailable")
        if fault is not None and kind == "deadline":
            time.sleep(fault.delay)
        if kind == "throttled":
            return _status(THROTTLED_CODE, "injected fault: too many requests")
        if kind == "internal":
            return _status(INTERNAL_CODE, "injected fault: internal error")
        if kind == "permission_denied":
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "injected fault: permission denied")
        if kind == "insufficient_scopes":
            return _status(SCOPE_CODE, "injected fault: the key lacks a scope this method needs")
        return None

    def _auth_error(self, context: grpc.ServicerContext) -> status_pb2.Status | None:
        """Check ``authorization: Key <PAT>``; the PAT never appears in the answer."""
        header = dict(context.invocation_metadata()).get("authorization", "")
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "key" or not token.strip():
            return _status(AUTH_MISSING_CODE, "Empty or malformed authorization header. Please provide a PAT.")
        if token.strip() not in self._pats:
            return _status(AUTH_UNKNOWN_CODE, "API key not found")
        return None

    def _unary(self, method: str, request: Message, context: grpc.ServicerContext) -> Message:
        fault = self._record(method, request)
        error = self._pre_fault(fault, context) or self._auth_error(context)
        if error is not None:
            return _response(method, error)
        with self._lock:
            response = getattr(self, f"_do_{method}")(request)
        if fault and fault.kind == "drop_response":
            context.abort(grpc.StatusCode.UNAVAILABLE, "injected fault: response dropped")
        return response

    # ----------------------------------------------------------------- apps and steps

    def _app_error(self, method: str, user_app_id: resources_pb2.UserAppIDSet) -> Message | None:
        if _key(user_app_id) in self._apps:
            return None
        return _response(method, sc.CONN_DOES_NOT_EXIST, f"app {user_app_id.app_id!r} does not exist")

    def _do_GetApp(self, req: service_pb2.GetAppRequest) -> Message:
        app = self._apps.get(_key(req.user_app_id))
        return self._app_error("GetApp", req.user_app_id) if app is None else _response("GetApp", sc.SUCCESS, app=app)

    def _do_PostApps(self, req: service_pb2.PostAppsRequest) -> Message:
        user_id = req.user_app_id.user_id
        if not req.apps or any(not app.id or (user_id, app.id) in self._apps for app in req.apps):
            return _response("PostApps", DUPLICATE_CODE, "app id missing or already exists")
        for app in req.apps:
            self.add_app(user_id, app.id)
            self._apps[(user_id, app.id)].MergeFrom(app)
        return _response("PostApps", sc.SUCCESS, apps=[self._apps[(user_id, app.id)] for app in req.apps])

    def _do_GetPipelineStep(self, req: service_pb2.GetPipelineStepRequest) -> Message:
        step = self._steps.get(_key(req.user_app_id, req.pipeline_step_id))
        if step is None:
            return _response("GetPipelineStep", sc.PIPELINE_STEP_DOES_NOT_EXIST, req.pipeline_step_id)
        return _response("GetPipelineStep", sc.SUCCESS, pipeline_step=step)

    def _do_PostPipelineSteps(self, req: service_pb2.PostPipelineStepsRequest) -> Message:
        error = self._app_error("PostPipelineSteps", req.user_app_id)
        if error is not None:
            return error
        keys = [_key(req.user_app_id, step.id) for step in req.pipeline_steps]
        if not keys or any(not key[2] or key in self._steps for key in keys):
            return _response("PostPipelineSteps", DUPLICATE_CODE, "pipeline step id missing or already exists")
        for key, step in zip(keys, req.pipeline_steps, strict=True):
            self._steps[key] = _copy(step)
            self._steps[key].user_id = req.user_app_id.user_id
            self._steps[key].created_at.CopyFrom(_now())
        return _response("PostPipelineSteps", sc.SUCCESS, pipeline_steps=[self._steps[key] for key in keys])

    # ----------------------------------------------------------------- step version upload and build

    def _upload(self, requests: Iterator[Message], context: grpc.ServicerContext) -> Iterator[Message]:
        """PostPipelineStepVersionsUpload: upload_config, then content parts; one response per message."""
        first = next(requests, None)
        fault = self._record(UPLOAD_METHOD, first)
        error = self._pre_fault(fault, context) or self._auth_error(context)
        if error is not None:
            yield _response(UPLOAD_METHOD, error)
            return
        if first is None or not first.HasField("upload_config"):
            yield _response(UPLOAD_METHOD, sc.PIPELINE_STEP_INVALID_REQUEST, "first message must be upload_config")
            return
        config = first.upload_config
        version_id = config.pipeline_step_version.id or uuid.uuid4().hex[:16]
        with self._lock:
            error = self._upload_config_error(config, version_id)
        if error is not None:
            yield _response(UPLOAD_METHOD, error)
            return
        progress = {"pipeline_step_version_id": version_id, "bytes_remaining": config.total_size}
        yield _response(UPLOAD_METHOD, sc.PIPELINE_STEP_UPLOADING, "upload config received", **progress)
        data = bytearray()
        parts = 0
        for message in requests:
            error = self._content_part_error(message, parts, len(data), config.total_size)
            if error is not None:
                yield _response(UPLOAD_METHOD, error)
                return
            data += message.content_part.data
            parts += 1
            if fault and fault.kind == "break_stream":
                context.abort(grpc.StatusCode.UNAVAILABLE, "injected fault: upload stream broken")
            progress["bytes_remaining"] = config.total_size - len(data)
            yield _response(UPLOAD_METHOD, sc.PIPELINE_STEP_UPLOADING, f"part {parts} received", **progress)
        if len(data) != config.total_size:
            details = f"stream ended after {len(data)} of {config.total_size} bytes"
            yield _response(UPLOAD_METHOD, sc.PIPELINE_STEP_UPLOADING_FAILED, details)
            return
        with self._lock:
            response = self._commit_upload(config, version_id, bytes(data), parts)
        if fault and fault.kind == "drop_response":
            context.abort(grpc.StatusCode.UNAVAILABLE, "injected fault: response dropped")
        yield response

    def _upload_config_error(
        self, config: service_pb2.PostPipelineStepVersionsUploadConfig, version_id: str
    ) -> status_pb2.Status | None:
        step_id = config.pipeline_step_id
        if _key(config.user_app_id) not in self._apps:
            return _status(sc.CONN_DOES_NOT_EXIST, f"app {config.user_app_id.app_id!r} does not exist")
        if _key(config.user_app_id, step_id) not in self._steps:
            return _status(sc.PIPELINE_STEP_DOES_NOT_EXIST, f"pipeline step {step_id!r} does not exist")
        if config.total_size == 0:
            return _status(sc.PIPELINE_STEP_INVALID_REQUEST, "total_size must be > 0")
        if _key(config.user_app_id, step_id, version_id) in self._step_versions:
            return _status(sc.PIPELINE_STEP_INVALID_ARGUMENT, f"version {version_id!r} already exists")
        return None

    @staticmethod
    def _content_part_error(message: Message, parts: int, received: int, total: int) -> status_pb2.Status | None:
        if not message.HasField("content_part"):
            return _status(sc.PIPELINE_STEP_INVALID_REQUEST, "expected content_part after upload_config")
        part = message.content_part
        if part.part_number != parts + 1:
            return _status(sc.PIPELINE_STEP_UPLOADING_FAILED, f"part_number {part.part_number}, expected {parts + 1}")
        if part.range_start != received:
            return _status(sc.PIPELINE_STEP_UPLOADING_FAILED, f"range_start {part.range_start}, expected {received}")
        if len(part.data) > MAX_CHUNK or received + len(part.data) > total:
            return _status(sc.PIPELINE_STEP_UPLOADING_FAILED, "part too large or beyond total_size")
        return None

    def _commit_upload(
        self, config: service_pb2.PostPipelineStepVersionsUploadConfig, version_id: str, data: bytes, parts: int
    ) -> Message:
        """Store a fully received upload as a BUILDING step version."""
        error = self._upload_config_error(config, version_id)  # state may have changed while streaming
        if error is not None:
            return _response(UPLOAD_METHOD, error)
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
                members = archive.getnames()
        except (tarfile.TarError, OSError, EOFError):
            return _response(UPLOAD_METHOD, sc.PIPELINE_STEP_UPLOADING_FAILED, "content is not a tar.gz archive")
        user_id, app_id, step_id = config.user_app_id.user_id, config.user_app_id.app_id, config.pipeline_step_id
        proto = _copy(config.pipeline_step_version)
        proto.id, proto.user_id, proto.app_id = version_id, user_id, app_id
        proto.pipeline_step.CopyFrom(resources_pb2.PipelineStep(id=step_id, user_id=user_id))
        proto.status.CopyFrom(_status(sc.PIPELINE_STEP_BUILDING))
        proto.created_at.CopyFrom(_now())
        version = _StepVersion(proto, self.build_polls, self._build_outcomes.pop(step_id, None))
        self._add_log(version.logs, BUILDER_LOG, f"{step_id}/{version_id}", f"Building image for {step_id}")
        self._step_versions[_key(config.user_app_id, step_id, version_id)] = version
        self._uploads.append(StepUpload(user_id, app_id, step_id, version_id, len(data), parts, members, data))
        return _response(UPLOAD_METHOD, sc.PIPELINE_STEP_BUILDING, "building", pipeline_step_version_id=version_id)

    def _finish_build(self, version: _StepVersion) -> None:
        code, lines = version.outcome or (sc.PIPELINE_STEP_READY, ["Image built and pushed"])
        version.proto.status.CopyFrom(_status(code))
        version.proto.modified_at.CopyFrom(_now())
        for line in lines:
            self._add_log(version.logs, BUILDER_LOG, f"{version.proto.pipeline_step.id}/{version.proto.id}", line)

    def _do_GetPipelineStepVersion(self, req: service_pb2.GetPipelineStepVersionRequest) -> Message:
        version = self._step_versions.get(_key(req.user_app_id, req.pipeline_step_id, req.pipeline_step_version_id))
        if version is None:
            return _response("GetPipelineStepVersion", sc.PIPELINE_STEP_DOES_NOT_EXIST, "no such step version")
        if version.proto.status.code == sc.PIPELINE_STEP_BUILDING:
            if version.polls_left <= 0:
                self._finish_build(version)
            version.polls_left -= 1
        return _response("GetPipelineStepVersion", sc.SUCCESS, pipeline_step_version=version.proto)

    def _do_ListPipelineStepVersions(self, req: service_pb2.ListPipelineStepVersionsRequest) -> Message:
        prefix = _key(req.user_app_id, req.pipeline_step_id)
        found = [v.proto for key, v in reversed(self._step_versions.items()) if key[:3] == prefix]
        found = [v for v in found if not req.status_codes or v.status.code in req.status_codes]
        page = _page(found, req.page, req.per_page)
        return _response("ListPipelineStepVersions", sc.SUCCESS, pipeline_step_versions=page)

    # ----------------------------------------------------------------- pipelines

    def _pipeline_error(self, user_id: str, app_id: str, pipeline: resources_pb2.Pipeline) -> str | None:
        """Why ``pipeline`` cannot get a new version, or None: bad spec, or a versioned ref to a missing/unready
        step version of this user/app (refs to other users/apps and unversioned refs are not checked)."""
        if not pipeline.id:
            return "pipeline id is empty"
        try:
            spec = json.loads(pipeline.pipeline_version.orchestration_spec.argo_orchestration_spec.spec_json)
            refs = _template_refs(spec)
        except (ValueError, TypeError, KeyError, AttributeError):
            return "argo_orchestration_spec.spec_json is not a valid Argo Workflow JSON document"
        for ref in refs:
            match = VERSIONED_REF.match(ref)
            if not match or match.group(1, 2) != (user_id, app_id):
                continue
            version = self._step_versions.get((user_id, app_id, match[3], match[4]))
            if version is None:
                return f"templateRef {ref!r}: pipeline step version does not exist"
            if version.proto.status.code != sc.PIPELINE_STEP_READY:
                return f"templateRef {ref!r}: step version is {sc.StatusCode.Name(version.proto.status.code)}"
        return None

    def _do_PostPipelines(self, req: service_pb2.PostPipelinesRequest) -> Message:
        user_id, app_id = req.user_app_id.user_id, req.user_app_id.app_id
        error = self._app_error("PostPipelines", req.user_app_id)
        if error is not None:
            return error
        if not req.pipelines:
            return _response("PostPipelines", sc.PIPELINE_INVALID_REQUEST, "no pipelines given")
        for pipeline in req.pipelines:
            reason = self._pipeline_error(user_id, app_id, pipeline)
            if reason is not None:
                return _response("PostPipelines", sc.PIPELINE_INVALID_ARGUMENT, reason)
        created = [self._create_pipeline_version(user_id, app_id, pipeline) for pipeline in req.pipelines]
        return _response("PostPipelines", sc.SUCCESS, pipelines=created)

    def _create_pipeline_version(self, user_id: str, app_id: str, request: resources_pb2.Pipeline) -> Message:
        key = (user_id, app_id, request.id)
        if key not in self._pipelines:
            pipeline = _copy(request)
            pipeline.ClearField("pipeline_version")
            pipeline.user_id, pipeline.app_id = user_id, app_id
            pipeline.created_at.CopyFrom(_now())
            self._pipelines[key] = pipeline
        version = _copy(request.pipeline_version)
        version.id, version.pipeline_id, version.user_id, version.app_id = uuid.uuid4().hex, request.id, user_id, app_id
        version.created_at.CopyFrom(_now())
        self._versions[(*key, version.id)] = version
        answer = _copy(self._pipelines[key])
        answer.pipeline_version.CopyFrom(version)
        return answer

    def _do_GetPipelineVersion(self, req: service_pb2.GetPipelineVersionRequest) -> Message:
        version = self._versions.get(_key(req.user_app_id, req.pipeline_id, req.pipeline_version_id))
        if version is None:
            return _response("GetPipelineVersion", sc.CONN_DOES_NOT_EXIST, "pipeline version does not exist")
        return _response("GetPipelineVersion", sc.SUCCESS, pipeline_version=version)

    def _do_ListPipelineVersions(self, req: service_pb2.ListPipelineVersionsRequest) -> Message:
        prefix = _key(req.user_app_id, req.pipeline_id)
        found = [version for key, version in reversed(self._versions.items()) if key[:3] == prefix]
        return _response("ListPipelineVersions", sc.SUCCESS, pipeline_versions=_page(found, req.page, req.per_page))

    # ----------------------------------------------------------------- runs

    def _find_run(
        self, user_app_id: resources_pb2.UserAppIDSet, pipeline_id: str, version_id: str, run_id: str
    ) -> _Run | None:
        """The run, if it belongs to this user/app/pipeline (and version, when one is given)."""
        run = self._runs.get(run_id)
        if run is None or (run.proto.user_id, run.proto.app_id) != _key(user_app_id):
            return None
        version = run.proto.pipeline_version
        return run if version.pipeline_id == pipeline_id and version_id in ("", version.id) else None

    def _enter(self, run: _Run, code: int, polls: int, message: str = "scripted", user_id: str = "") -> None:
        """Put ``run`` into status ``code`` for ``polls`` polls; record history and the status's log lines."""
        now = _now()
        run.proto.orchestration_status.status.CopyFrom(_status(code))
        run.proto.modified_at.CopyFrom(now)
        run.polls_left = polls
        if code == sc.JOB_RUNNING and not run.proto.HasField("started_at"):
            run.proto.started_at.CopyFrom(now)
        if code in TERMINAL_RUN_CODES:
            run.proto.ended_at.CopyFrom(now)
            run.pending.clear()
            run.proto.orchestration_status.argo_status.status = _argo_status(run.proto, code)
        entry = resources_pb2.PipelineVersionRunStatusLog(
            id=uuid.uuid4().hex, pipeline_version_run_id=run.proto.id, status=_status(code),
            message=message, triggered_by_user_id=user_id, created_at=now,
        )  # fmt: skip
        run.history.append(entry)
        for line in run.log_script.get(code, []):
            self._add_log(run.logs, RUN_LOG, run.proto.id, line)

    def _settle(self, run: _Run) -> None:
        """Move on through script entries whose polls are used up (zero-poll entries are passed through)."""
        while run.polls_left <= 0 and run.pending and run.code not in TERMINAL_RUN_CODES:
            code, polls = run.pending.pop(0)
            self._enter(run, code, polls)

    @staticmethod
    def _add_log(logs: list[resources_pb2.LogEntry], log_type: str, resource: str, message: str) -> None:
        url = f"emulator://logs/{log_type}/{resource}/{len(logs) + 1}"
        logs.append(resources_pb2.LogEntry(message=message, log_type=log_type, url=url))

    def _do_PostPipelineVersionRuns(self, req: service_pb2.PostPipelineVersionRunsRequest) -> Message:
        """Start runs with the client's ids; a known id returns the existing run (idempotent retries)."""
        version = self._versions.get(_key(req.user_app_id, req.pipeline_id, req.pipeline_version_id))
        if version is None:
            details = f"pipeline {req.pipeline_id!r} version {req.pipeline_version_id!r} does not exist"
            return _response("PostPipelineVersionRuns", sc.CONN_DOES_NOT_EXIST, details)
        if self.require_compute and (refusal := self._compute_refusal(req)):
            return _response("PostPipelineVersionRuns", sc.NODEPOOL_DOES_NOT_EXIST, refusal)
        requested = list(req.pipeline_version_runs) or [resources_pb2.PipelineVersionRun()]
        for item in requested:
            if item.id in self._runs and not self._find_run(req.user_app_id, req.pipeline_id, version.id, item.id):
                details = f"run id {item.id!r} is used by another pipeline version"
                return _response("PostPipelineVersionRuns", DUPLICATE_CODE, details)
        runs = [self._runs[item.id] if item.id in self._runs else self._create_run(item, version) for item in requested]
        return _response("PostPipelineVersionRuns", sc.SUCCESS, pipeline_version_runs=[run.proto for run in runs])

    def _create_run(self, item: resources_pb2.PipelineVersionRun, version: resources_pb2.PipelineVersion) -> _Run:
        proto = _copy(item)
        proto.id = item.id or uuid.uuid4().hex
        proto.user_id, proto.app_id = version.user_id, version.app_id
        proto.pipeline_version.CopyFrom(version)
        proto.orchestration_spec.CopyFrom(version.orchestration_spec)
        proto.created_at.CopyFrom(_now())
        run = _Run(proto, list(self._run_script[1:]), dict(self._run_logs), list(self._late_logs))
        self._runs[proto.id] = run
        self._enter(run, *self._run_script[0])
        self._settle(run)
        return run

    def _do_GetPipelineVersionRun(self, req: service_pb2.GetPipelineVersionRunRequest) -> Message:
        """Answer the current status, then count the poll (advancing the script unless paused or terminal)."""
        run = self._find_run(req.user_app_id, req.pipeline_id, req.pipeline_version_id, req.pipeline_version_run_id)
        if run is None:
            return _response("GetPipelineVersionRun", sc.CONN_DOES_NOT_EXIST, "pipeline version run does not exist")
        response = _response("GetPipelineVersionRun", sc.SUCCESS, pipeline_version_run=run.proto)
        if run.code in TERMINAL_RUN_CODES and run.proto.id not in self.final_status_reported:
            self.final_status_reported[run.proto.id] = time.monotonic()
            for line in run.late_logs:
                self._add_log(run.logs, RUN_LOG, run.proto.id, line)
        if run.code not in TERMINAL_RUN_CODES and run.code != sc.JOB_PAUSED:
            run.polls_left -= 1
            self._settle(run)
        return response

    def _do_PatchPipelineVersionRuns(self, req: service_pb2.PatchPipelineVersionRunsRequest) -> Message:
        """Pause / cancel / resume (action "overwrite"); all-or-nothing. Resuming continues the script."""
        if req.action != "overwrite":
            return _response("PatchPipelineVersionRuns", sc.FAILURE, "only action 'overwrite' is supported")
        changes = []
        for item in req.pipeline_version_runs:
            run = self._find_run(req.user_app_id, req.pipeline_id, req.pipeline_version_id, item.id)
            if run is None:
                return _response("PatchPipelineVersionRuns", sc.CONN_DOES_NOT_EXIST, f"run {item.id!r} not found")
            target = item.orchestration_status.status.code
            if run.code not in PATCH_ALLOWED_FROM.get(target, ()):
                names = sc.StatusCode.Name(run.code), sc.StatusCode.Name(target)
                details = "cannot change run from {} to {}".format(*names)
                return _response("PatchPipelineVersionRuns", sc.FAILURE, details)
            changes.append((run, target))
        for run, target in changes:
            self._enter(run, target, run.polls_left, "patched", req.user_app_id.user_id)
        return _response("PatchPipelineVersionRuns", sc.SUCCESS, pipeline_version_runs=[r.proto for r, _ in changes])

    def _do_ListPipelineVersionRunStatusLogs(self, req: service_pb2.ListPipelineVersionRunStatusLogsRequest) -> Message:
        method = "ListPipelineVersionRunStatusLogs"
        run = self._find_run(req.user_app_id, req.pipeline_id, req.pipeline_version_id, req.pipeline_version_run_id)
        if run is None:
            return _response(method, sc.CONN_DOES_NOT_EXIST, "pipeline version run does not exist")
        found = [entry for entry in run.history if not req.status_codes or entry.status.code in req.status_codes]
        return _response(method, sc.SUCCESS, pipeline_version_run_status_logs=_page(found, req.page, req.per_page))

    # ----------------------------------------------------------------- compute

    def _do_ListCloudProviders(self, req: service_pb2.ListCloudProvidersRequest) -> Message:
        clouds = dict.fromkeys(t.cloud_provider.id for t in self.instance_types)
        providers = [resources_pb2.CloudProvider(id=c, name=c) for c in clouds]
        return _response("ListCloudProviders", sc.SUCCESS, cloud_providers=providers)

    def _do_ListCloudRegions(self, req: service_pb2.ListCloudRegionsRequest) -> Message:
        regions = dict.fromkeys(t.region for t in self.instance_types if t.cloud_provider.id == req.cloud_provider.id)
        return _response("ListCloudRegions", sc.SUCCESS, cloud_regions=[resources_pb2.CloudRegion(id=r) for r in regions])

    def _do_ListInstanceTypes(self, req: service_pb2.ListInstanceTypesRequest) -> Message:
        found = [t for t in self.instance_types if t.cloud_provider.id == req.cloud_provider.id and t.region == req.region]
        return _response("ListInstanceTypes", sc.SUCCESS, instance_types=found)

    def _do_GetComputeCluster(self, req: service_pb2.GetComputeClusterRequest) -> Message:
        cluster = self._clusters.get((req.user_app_id.user_id, req.compute_cluster_id))
        if cluster is None:
            return _response("GetComputeCluster", sc.COMPUTE_CLUSTER_DOES_NOT_EXIST, "compute cluster does not exist")
        return _response("GetComputeCluster", sc.SUCCESS, compute_cluster=cluster)

    def _do_PostComputeClusters(self, req: service_pb2.PostComputeClustersRequest) -> Message:
        user = req.user_app_id.user_id
        for item in req.compute_clusters:
            if (user, item.id) in self._clusters:
                return _response("PostComputeClusters", sc.COMPUTE_CLUSTER_INVALID_ARGUMENT,
                                 f"compute cluster {item.id!r} already exists")
        created = []
        for item in req.compute_clusters:
            cluster = _copy(item)
            cluster.user_id = user
            cluster.created_at.CopyFrom(_now())
            self._clusters[(user, cluster.id)] = cluster
            created.append(cluster)
        return _response("PostComputeClusters", sc.SUCCESS, compute_clusters=created)

    def _do_GetNodepool(self, req: service_pb2.GetNodepoolRequest) -> Message:
        nodepool = self._nodepools.get((req.user_app_id.user_id, req.compute_cluster_id, req.nodepool_id))
        if nodepool is None:
            return _response("GetNodepool", sc.NODEPOOL_DOES_NOT_EXIST, "nodepool does not exist")
        return _response("GetNodepool", sc.SUCCESS, nodepool=nodepool)

    def _do_PostNodepools(self, req: service_pb2.PostNodepoolsRequest) -> Message:
        user, cluster = req.user_app_id.user_id, req.compute_cluster_id
        if (user, cluster) not in self._clusters:
            return _response("PostNodepools", sc.COMPUTE_CLUSTER_DOES_NOT_EXIST, "compute cluster does not exist")
        known = {t.id for t in self.instance_types}
        for item in req.nodepools:
            if (user, cluster, item.id) in self._nodepools:
                return _response("PostNodepools", sc.NODEPOOL_INVALID_ARGUMENT, f"nodepool {item.id!r} already exists")
            unknown = [t.id for t in item.instance_types if t.id not in known]
            if unknown or not item.instance_types:
                return _response("PostNodepools", sc.NODEPOOL_INVALID_ARGUMENT,
                                 f"unknown instance type {unknown[0] if unknown else '(none)'!r}")
        created = []
        for item in req.nodepools:
            nodepool = _copy(item)
            nodepool.created_at.CopyFrom(_now())
            self._nodepools[(user, cluster, nodepool.id)] = nodepool
            created.append(nodepool)
        return _response("PostNodepools", sc.SUCCESS, nodepools=created)

    def _compute_refusal(self, req: service_pb2.PostPipelineVersionRunsRequest) -> str | None:
        """Why a run cannot be placed (``require_compute``): its nodepool must exist in its compute cluster."""
        for item in req.pipeline_version_runs:
            for nodepool in item.nodepools:
                key = (req.user_app_id.user_id, nodepool.compute_cluster.id, nodepool.id)
                if key not in self._nodepools:
                    return f"nodepool {nodepool.id!r} does not exist in compute cluster {nodepool.compute_cluster.id!r}"
        return None

    # ----------------------------------------------------------------- logs

    def _do_ListLogEntries(self, req: service_pb2.ListLogEntriesRequest) -> Message:
        """Builder logs of a step version or logs of a pipeline run, oldest first, paged."""
        source: _StepVersion | _Run | None
        if req.log_type == BUILDER_LOG:
            source = self._step_versions.get(_key(req.user_app_id, req.pipeline_step_id, req.pipeline_step_version_id))
        elif req.log_type == RUN_LOG:
            source = self._find_run(
                req.user_app_id, req.pipeline_id, req.pipeline_version_id, req.pipeline_version_run_id
            )
        else:
            return _response("ListLogEntries", sc.CONN_INVALID_REQUEST, f"unsupported log_type {req.log_type!r}")
        if source is None:
            return _response("ListLogEntries", sc.CONN_DOES_NOT_EXIST, "no such step version or run")
        page, per_page = max(req.page, 1), req.per_page or DEFAULT_PER_PAGE
        entries = _page(source.logs, page, per_page)
        return _response("ListLogEntries", sc.SUCCESS, log_entries=entries, page=page, per_page=per_page)


class _Servicer(service_pb2_grpc.V2Servicer):
    """The official generated servicer; each ``ClarifaiEmulator._do_<Method>`` handler serves unary ``<Method>``."""

    def __init__(self, emulator: ClarifaiEmulator) -> None:
        self._emulator = emulator

    def PostPipelineStepVersionsUpload(self, request_iterator, context):
        return self._emulator._upload(request_iterator, context)


def _unary_method(name: str):
    def method(self: _Servicer, request: Message, context: grpc.ServicerContext) -> Message:
        return self._emulator._unary(name, request, context)

    method.__name__ = method.__qualname__ = name
    return method


for _name in [attr[len("_do_") :] for attr in vars(ClarifaiEmulator) if attr.startswith("_do_")]:
    setattr(_Servicer, _name, _unary_method(_name))
