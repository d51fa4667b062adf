"""In-process emulator of the PAIFlow run APIs (Alibaba Cloud API reference, PAIFlow 2021-02-02: CreatePipelineRun,
GetPipelineRun, ListPipelineRuns, GetPipelineRunNode, ListPipelineRunNodeStatus, ListPipelineRunNodeLogs,
TerminatePipelineRun ...), for tests.

An HTTP server on ``127.0.0.1:<free port>`` in a background thread, speaking the real wire protocol: ROA paths,
JSON bodies, ``x-acs-action`` headers and ACS3-HMAC-SHA256 signatures, which it verifies on every request.

    with PaiEmulator({"key-id": "key-secret"}) as emu:
        emu.script_run(statuses=[("Initialized", 1), ("Running", 2), ("Succeeded", 1)], node_logs={"train": [...]})
        client = PaiClient(emu.endpoint, "key-id", "key-secret")

Time does not advance by itself: a run moves through its scripted statuses as GetPipelineRun polls it, and its
scripted "late" log lines appear once its final status has been answered (log ingestion lagging behind). Errors
answer like the Alibaba Cloud gateway: an HTTP error status and a JSON body ``{Code, Message, RequestId}``.
Choices the public API reference leaves open are marked [UNCONFIRMED]: the HTTP statuses of auth errors, the
security-token error codes, the not-found answer, and Name filtering (exact by default, ``name_match="fuzzy"``).
Secrets are never logged, recorded or echoed.
"""

from __future__ import annotations

import hmac
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import yaml

from ..platforms.pai import signing

API_VERSION = "2021-02-02"
FAULT_KINDS = ("throttle", "5xx", "drop", "lose_create_response", "slow", "forbidden")
TERMINAL = frozenset({"Succeeded", "Failed", "Terminated", "Skipped"})
DEFAULT_SCRIPT: list[tuple[str, int]] = [("Running", 1), ("Succeeded", 1)]
DEFAULT_NODE_LOGS: dict[str, list[str]] = {"main": ["main: started", "main: finished"]}
MAX_CLOCK_SKEW = 15 * 60  # seconds: x-acs-date skew accepted before InvalidTimeStamp.Expired (the emulator's window)

_RUN = r"/api/v1/pipelineruns/(?P<run>[^/]+)"
_NODE = _RUN + r"/nodes/(?P<node>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(f"^{pattern}$"), action) for method, pattern, action in [
        ("POST", r"/api/v1/pipelineruns", "CreatePipelineRun"),
        ("GET", r"/api/v1/pipelineruns", "ListPipelineRuns"),
        ("GET", _RUN, "GetPipelineRun"),
        ("PUT", _RUN + "/start", "StartPipelineRun"),
        ("PUT", _RUN + "/termination", "TerminatePipelineRun"),
        ("GET", _NODE, "GetPipelineRunNode"),
        ("GET", _NODE + "/status", "ListPipelineRunNodeStatus"),
        ("GET", _NODE + "/logs", "ListPipelineRunNodeLogs"),
    ]
]


class ApiFailure(Exception):
    """An error answer: HTTP ``status`` with ``{Code, Message, RequestId}``."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


@dataclass
class Fault:
    """One injected fault on an action name or a request path (``"*"``: every request)."""

    target: str
    kind: str
    times: int | None  # firings left; None = unlimited
    delay: float = 0.5  # "slow": seconds to wait before answering
    retry_after_ms: int = 1000  # "throttle": the x-acs-retry-after header
    status: int | None = None  # "throttle" (default 429) / "5xx" (default 503)

    def hits(self, action: str, path: str) -> bool:
        """Whether this fault strikes a request (and count the firing)."""
        if self.times == 0 or self.target not in ("*", action, path):
            return False
        if self.times is not None:
            self.times -= 1
        return True


@dataclass
class SeenRequest:
    """A request as received (``x-acs-security-token`` redacted)."""

    method: str
    path: str
    query: dict[str, str]
    action: str | None
    headers: dict[str, str]
    body: Any
    status: int | None = None  # answered status; None = connection dropped


@dataclass
class _Run:
    record: dict[str, Any]
    script: list[tuple[str, int]]
    nodes: dict[str, dict[str, Any]]  # leaf node id → {"Name", "Logs"}
    started: bool
    polls_left: int = 0
    root_node_after: int = 0  # GetPipelineRun polls answered with an empty NodeId
    root_node: str = ""
    late_logs: dict[str, list[str]] = field(default_factory=dict)  # leaf node name → lines logged after the end
    final_answered: bool = False


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def _flag(value: str | None) -> bool:
    return (value or "").lower() == "true"  # the SDK sends True/False; lower-case is accepted too


def _int(query: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(query.get(name, default))
    except ValueError:
        raise ApiFailure(400, "InvalidParameter", f"{name} must be an integer") from None


class PaiEmulator:
    """A local PAIFlow server with in-memory runs, signature checks, scripted statuses and fault injection."""

    def __init__(self, credentials: Mapping[str, str], *, security_tokens: Mapping[str, str] | None = None,
                 name_match: str = "exact", slow_delay: float = 0.5, terminating_polls: int = 1,
                 log: Callable[[str], None] | None = None):
        """``credentials``: AccessKey id → secret. ``security_tokens``: key id → the STS token that key must send.
        ``name_match``: how ListPipelineRuns filters ``Name`` ("exact" or "fuzzy" substring, [UNCONFIRMED]).
        ``terminating_polls``: GetPipelineRun polls answered ``Terminating`` after a TerminatePipelineRun."""
        if name_match not in ("exact", "fuzzy"):
            raise ValueError("name_match must be 'exact' or 'fuzzy'")
        self._secrets = dict(credentials)
        self._tokens = dict(security_tokens or {})
        self.name_match = name_match
        self.slow_delay = slow_delay
        self.terminating_polls = terminating_polls
        self.log = log or (lambda _line: None)
        self.faults: list[Fault] = []
        self.requests_seen: list[SeenRequest] = []
        self._runs: dict[str, _Run] = {}
        self._nonces: set[str] = set()
        self._script = list(DEFAULT_SCRIPT)
        self._node_logs = dict(DEFAULT_NODE_LOGS)
        self._late_logs: dict[str, list[str]] = {}
        self._root_node_after = 0
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.endpoint = ""

    def __repr__(self) -> str:  # never shows secrets or tokens
        return f"PaiEmulator(endpoint={self.endpoint!r}, keys={sorted(self._secrets)})"

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> str:
        """Serve on ``127.0.0.1:<free port>`` in a daemon thread; return the endpoint ``http://127.0.0.1:PORT``."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        # serve_forever's default poll of 0.5 s is how long stop() waits for it: half a second per test
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="pai-emulator", daemon=True)
        self._thread.start()
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.endpoint

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> PaiEmulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- test helpers

    def script_run(self, statuses: list[tuple[str, int]] | None = None,
                   node_logs: Mapping[str, list[str]] | None = None, root_node_after: int = 0,
                   late_logs: Mapping[str, list[str]] | None = None) -> None:
        """Script the runs created from now on: ``statuses`` = [(status, GetPipelineRun polls it is reported)]
        (the last one stays), ``node_logs`` = {leaf node name: log lines}; ``root_node_after``: polls answered
        before ``NodeId`` is set (the root node id may be empty right after creation); ``late_logs`` = {leaf
        node name (of ``node_logs``): lines added right after a final status is answered for the first time}. None → defaults."""
        if statuses is not None and not statuses:
            raise ValueError("statuses must not be empty")
        nodes = node_logs or DEFAULT_NODE_LOGS
        unknown = sorted(set(late_logs or {}) - set(nodes))
        if unknown:
            raise ValueError(f"late_logs for nodes that are not in node_logs: {unknown}")
        with self._lock:
            self._script = list(statuses or DEFAULT_SCRIPT)
            self._node_logs = {name: list(lines) for name, lines in nodes.items()}
            self._late_logs = {name: list(lines) for name, lines in (late_logs or {}).items()}
            self._root_node_after = root_node_after

    def inject(self, path_or_action: str, fault: str, times: int | None = 1, *, delay: float | None = None,
               retry_after_ms: int = 1000, status: int | None = None) -> Fault:
        """Make requests to an action (e.g. ``"GetPipelineRun"``), a path or ``"*"`` fail with ``fault``:
        "throttle" (429 — or ``status`` — + ``x-acs-retry-after`` + ``Throttling.User``), "5xx" (503 or ``status``,
        ``ServiceUnavailable``), "drop" (close without answering), "lose_create_response" (do the work, then
        drop), "slow" (do the work, wait ``delay`` s, then answer), "forbidden" (403 ``NoPermission``: the RAM user
        lacks the action's permission). ``times=None``: every matching request."""
        if fault not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {FAULT_KINDS}")
        entry = Fault(path_or_action, fault, times, self.slow_delay if delay is None else delay, retry_after_ms,
                      status)
        with self._lock:
            self.faults.append(entry)
        return entry

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    @property
    def runs(self) -> dict[str, dict[str, Any]]:
        """Copies of every run record by id, in creation order."""
        with self._lock:
            return {run_id: dict(run.record) for run_id, run in self._runs.items()}

    def node_ids(self, run_id: str) -> dict[str, str]:
        """Leaf node name → node id of a run."""
        with self._lock:
            return {node["Name"]: node_id for node_id, node in self._runs[run_id].nodes.items()}

    # ----------------------------------------------------------------- request handling

    def handle(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes
               ) -> tuple[int | None, dict[str, str], bytes]:
        """Answer one request: (status or None to drop the connection, headers, body)."""
        path, _, raw_query = raw_path.partition("?")
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        route = next(((action, match) for verb, pattern, action in ROUTES
                      if verb == method and (match := pattern.match(path))), None)
        action = route[0] if route else None
        seen = SeenRequest(method, path, query, action, self._redacted(headers), self._decoded(body))
        request_id = str(uuid.uuid4()).upper()
        with self._lock:
            self.requests_seen.append(seen)
            fault = next((f for f in self.faults if f.hits(action or "", path)), None)
        try:
            if fault and fault.kind == "drop":
                return self._answer(seen, None, {}, {})
            if fault and fault.kind == "throttle":
                raise ApiFailure(fault.status or 429, "Throttling.User", "Request was denied due to user flow control.",
                                 {"x-acs-retry-after": str(fault.retry_after_ms)})
            if fault and fault.kind == "5xx":
                raise ApiFailure(fault.status or 503, "ServiceUnavailable",
                                 "The request has failed due to a temporary failure of the server.")
            if fault and fault.kind == "forbidden":
                raise ApiFailure(fault.status or 403, "NoPermission",
                                 f"You are not authorized to do this action: paiflow:{action or '-'}.")
            self._authenticate(method, path, query, headers, body)
            if route is None or headers.get("x-acs-action") != action:
                raise ApiFailure(404, "InvalidApi.NotFound", "Specified api is not found, please check your url "
                                                             "and method.")
            if headers.get("x-acs-version") != API_VERSION:
                raise ApiFailure(400, "InvalidVersion", "Specified parameter Version is not valid.")
            with self._lock:
                data = getattr(self, f"_do_{action}")(route[1].groupdict(), query, seen.body)
        except ApiFailure as failure:
            self.log(f"{method} {path} {action or '-'} -> {failure.status} {failure.code}")
            payload = {"RequestId": request_id, "Code": failure.code, "Message": failure.message,
                       "HostId": headers.get("host", "")}
            return self._answer(seen, failure.status, failure.headers, payload)
        if fault and fault.kind == "lose_create_response":
            return self._answer(seen, None, {}, {})
        if fault and fault.kind == "slow":
            time.sleep(fault.delay)
        self.log(f"{method} {path} {action} -> 200")
        return self._answer(seen, 200, {}, {"RequestId": request_id, **data})

    def _answer(self, seen: SeenRequest, status: int | None, headers: dict[str, str], payload: dict[str, Any]
                ) -> tuple[int | None, dict[str, str], bytes]:
        seen.status = status
        if status is None:
            self.log(f"{seen.method} {seen.path} {seen.action or '-'} -> connection dropped")
        return status, {"content-type": "application/json;charset=utf-8", **headers}, json.dumps(payload).encode()

    @staticmethod
    def _redacted(headers: Mapping[str, str]) -> dict[str, str]:
        return {name: ("<redacted>" if name == "x-acs-security-token" else value) for name, value in headers.items()}

    @staticmethod
    def _decoded(body: bytes) -> Any:
        if not body:
            return None
        try:
            return json.loads(body)
        except ValueError:
            return body.decode("utf-8", "replace")

    def _authenticate(self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str],
                      body: bytes) -> None:
        """Signature, STS token, timestamp and nonce checks (auth statuses are [UNCONFIRMED] for PAIFlow)."""
        parts = signing.RequestParts(method, path, query, headers, body)
        try:
            key_id = signing.verify(parts, self._secrets.get)
        except signing.SignatureError as exc:
            raise ApiFailure(404 if exc.code == "InvalidAccessKeyId.NotFound" else 400, exc.code, exc.message
                             ) from None
        expected = self._tokens.get(key_id)
        sent = headers.get("x-acs-security-token")
        if expected is not None and not sent:
            raise ApiFailure(400, "InvalidSecurityToken.Missing", "The security token is required for this key.")
        if expected is not None and not hmac.compare_digest((sent or "").encode(), expected.encode()):
            raise ApiFailure(400, "InvalidSecurityToken.MismatchWithAccessKey",
                             "Specified SecurityToken mismatch with the AccessKey.")
        if sent and headers.get("x-acs-accesskey-id") != key_id:
            raise ApiFailure(400, "InvalidSecurityToken.MismatchWithAccessKey",
                             "Specified SecurityToken mismatch with the AccessKey.")
        try:
            stamp = datetime.strptime(headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            raise ApiFailure(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well "
                                                             "formatted.") from None
        if abs((datetime.now(timezone.utc) - stamp).total_seconds()) > MAX_CLOCK_SKEW:
            raise ApiFailure(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        nonce = headers.get("x-acs-signature-nonce", "")
        with self._lock:
            if not nonce or nonce in self._nonces:
                raise ApiFailure(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            self._nonces.add(nonce)

    # ----------------------------------------------------------------- runs

    def _find(self, run_id: str) -> _Run:
        run = self._runs.get(run_id)
        if run is None:  # the real business code is [UNCONFIRMED]; clients key on the HTTP status
            raise ApiFailure(404, "PipelineRunNotFound", f"pipeline run {run_id} does not exist")
        return run

    def _enter(self, run: _Run) -> None:
        """Move to the next scripted status whose poll budget is not used up."""
        while run.polls_left <= 0 and run.script:
            status, polls = run.script.pop(0)
            self._set_status(run, status)
            run.polls_left = polls

    @staticmethod
    def _set_status(run: _Run, status: str) -> None:
        record = run.record
        record["Status"] = status
        record["GmtModifiedTime"] = _now()
        if status != "Initialized" and not record.get("StartedAt"):
            record["StartedAt"] = record["GmtModifiedTime"]
        if status in TERMINAL and not record.get("FinishedAt"):
            record["FinishedAt"] = record["GmtModifiedTime"]
            record["Message"] = "" if status == "Succeeded" else f"run {status.lower()} (scripted)"

    def _do_CreatePipelineRun(self, _params: dict[str, str], _query: dict[str, str], body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiFailure(400, "InvalidParameter", "The request body must be a JSON object.")
        if not body.get("WorkspaceId"):
            raise ApiFailure(400, "MissingWorkspaceId", "WorkspaceId is mandatory for this action.")
        if bool(body.get("PipelineId")) == bool(body.get("PipelineManifest")):
            raise ApiFailure(400, "InvalidParameter", "Configure exactly one of PipelineId and PipelineManifest.")
        arguments = None
        for name in ("PipelineManifest", "Arguments"):
            if body.get(name) is not None:
                try:
                    documents = list(yaml.safe_load_all(str(body[name])))
                except yaml.YAMLError:
                    raise ApiFailure(400, "InvalidParameter", f"{name} is not valid YAML/JSON.") from None
                if name == "Arguments":
                    arguments = json.dumps(documents[0] if documents else None)
        run_id = _new_id("flow")
        now = _now()
        record = {
            "PipelineRunId": run_id, "Name": body.get("Name") or run_id, "Status": "Initialized", "Message": "",
            "NodeId": "", "Duration": 0, "StartedAt": "", "FinishedAt": "", "GmtCreateTime": now,
            "GmtModifiedTime": now, "WorkspaceId": str(body["WorkspaceId"]), "UserId": "emulator",
            "PipelineId": body.get("PipelineId") or "", "SourceType": body.get("SourceType") or "UNKNOWN",
            "SourceId": body.get("SourceId") or "", "Arguments": arguments, "Accessibility": "PUBLIC",
            "Manifest": body.get("PipelineManifest"),
            "PipelineRunUri": f"https://pai.console.aliyun.com/?workspaceId={body['WorkspaceId']}"
                              f"#/studio/task/detail/{run_id}",
        }
        nodes = {_new_id("node"): {"Name": name, "Logs": list(lines)} for name, lines in self._node_logs.items()}
        run = _Run(record, list(self._script), nodes, started=body.get("NoConfirmRequired", True) is not False,
                   root_node_after=self._root_node_after, root_node=_new_id("node"),
                   late_logs={name: list(lines) for name, lines in self._late_logs.items()})
        if run.started:
            self._enter(run)
        self._runs[run_id] = run
        return {"PipelineRunId": run_id}

    def _do_GetPipelineRun(self, params: dict[str, str], query: dict[str, str], _body: Any) -> dict[str, Any]:
        run = self._find(params["run"])
        if run.root_node_after > 0:
            run.root_node_after -= 1
        else:
            run.record["NodeId"] = run.root_node
        answer = dict(run.record)
        if not _flag(query.get("Verbose")):
            answer.pop("Manifest")
        if answer["Status"] in TERMINAL and not run.final_answered:
            run.final_answered = True
            for node in run.nodes.values():
                node["Logs"] += run.late_logs.get(node["Name"], [])
        if run.started:
            run.polls_left -= 1
            self._enter(run)
        return answer

    def _do_ListPipelineRuns(self, _params: dict[str, str], query: dict[str, str], _body: Any) -> dict[str, Any]:
        runs = [run.record for run in self._runs.values()]  # creation order
        for field_name in ("WorkspaceId", "Status", "PipelineRunId", "SourceType", "SourceId"):
            if query.get(field_name):
                runs = [record for record in runs if record[field_name] == query[field_name]]
        if query.get("Name"):
            name = query["Name"]
            runs = [record for record in runs
                    if (name in record["Name"] if self.name_match == "fuzzy" else record["Name"] == name)]
        sort_by = query.get("SortBy") or "GmtCreateTime"
        ranked = sorted(enumerate(runs), key=lambda item: (str(item[1].get(sort_by, "")), item[0]),
                        reverse=query.get("Order", "DESC").upper() != "ASC")  # creation order breaks ties
        runs = [record for _, record in ranked]
        page, size = _int(query, "PageNumber", 1), _int(query, "PageSize", 10)
        chosen = runs[(page - 1) * size: page * size]
        fields = ("PipelineRunId", "Name", "Status", "UserId", "StartedAt", "FinishedAt", "NodeId", "Duration",
                  "WorkspaceId", "Message", "SourceType", "SourceId", "GmtCreateTime", "GmtModifiedTime",
                  "PipelineId", "Accessibility", "PipelineRunUri")
        return {"TotalCount": len(runs), "PipelineRuns": [{k: record[k] for k in fields} for record in chosen]}

    def _do_StartPipelineRun(self, params: dict[str, str], _query: dict[str, str], _body: Any) -> dict[str, Any]:
        run = self._find(params["run"])
        if not run.started:
            run.started = True
            self._enter(run)
        return {}

    def _do_TerminatePipelineRun(self, params: dict[str, str], _query: dict[str, str], _body: Any
                                 ) -> dict[str, Any]:
        run = self._find(params["run"])
        if run.record["Status"] not in TERMINAL:  # terminating a finished run is a no-op here [UNCONFIRMED]
            run.started = True
            run.script = [("Terminating", self.terminating_polls), ("Terminated", 1)]
            run.polls_left = 0
            self._enter(run)
        return {}

    # ----------------------------------------------------------------- nodes and logs

    def _leaf(self, run: _Run, node_id: str) -> dict[str, Any]:
        status = run.record["Status"]
        return {"ApiVersion": "core/v1",
                "Metadata": {"NodeId": node_id, "Name": run.nodes[node_id]["Name"], "NodeType": "Pod",
                             "DisplayName": run.nodes[node_id]["Name"], "RelatedNodeIds": []},
                "Spec": {"HasPipelines": False, "Dependencies": [], "Pipelines": []},
                "StatusInfo": {"Status": status, "StartedAt": run.record["StartedAt"],
                               "FinishedAt": run.record["FinishedAt"], "Conditions": []}}

    def _node(self, params: dict[str, str]) -> tuple[_Run, str]:
        run = self._find(params["run"])
        node_id = params["node"]
        if node_id != run.root_node and node_id not in run.nodes:
            raise ApiFailure(404, "PipelineRunNodeNotFound", f"node {node_id} does not exist")  # [UNCONFIRMED]
        return run, node_id

    def _do_GetPipelineRunNode(self, params: dict[str, str], query: dict[str, str], _body: Any) -> dict[str, Any]:
        run, node_id = self._node(params)
        if node_id != run.root_node:
            return self._leaf(run, node_id)
        done = len(run.nodes) if run.record["Status"] == "Succeeded" else 0
        children = [self._leaf(run, child) for child in run.nodes] if _int(query, "Depth", 2) >= 2 else []
        return {"ApiVersion": "core/v1",
                "Metadata": {"NodeId": node_id, "Name": run.record["Name"], "NodeType": "Dag",
                             "DisplayName": run.record["Name"], "RelatedNodeIds": []},
                "Spec": {"HasPipelines": bool(run.nodes), "Dependencies": [], "Pipelines": children},
                "StatusInfo": {"Status": run.record["Status"], "StartedAt": run.record["StartedAt"],
                               "FinishedAt": run.record["FinishedAt"], "Conditions": [],
                               "Progress": f"{done}/{len(run.nodes)}"}}

    def _do_ListPipelineRunNodeStatus(self, params: dict[str, str], query: dict[str, str], _body: Any
                                      ) -> dict[str, Any]:
        run, node_id = self._node(params)
        ids = [node_id] + (list(run.nodes) if node_id == run.root_node and _int(query, "Depth", 2) >= 2 else [])
        record = run.record
        return {"Status": [{"NodeId": nid, "NodeName": run.nodes[nid]["Name"] if nid in run.nodes else record["Name"],
                            "Status": record["Status"], "StartedAt": record["StartedAt"],
                            "FinishedAt": record["FinishedAt"], "RuntimeInfo": "{}"} for nid in ids]}

    def _do_ListPipelineRunNodeLogs(self, params: dict[str, str], query: dict[str, str], _body: Any
                                    ) -> dict[str, Any]:
        """Logs of a leaf node; ``Offset`` is a line offset, as alipai uses it (the docs' meaning is [UNCONFIRMED])."""
        run, node_id = self._node(params)
        lines = list(run.nodes[node_id]["Logs"]) if node_id in run.nodes else []
        if _flag(query.get("Reverse")):
            lines.reverse()
        offset, size = max(0, _int(query, "Offset", 0)), max(1, _int(query, "PageSize", 100))
        return {"TotalCount": len(lines), "Logs": lines[offset: offset + size]}


def _handler_class(emulator: PaiEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers: dict[str, str] = {}
            for name in self.headers:
                headers[name.lower()] = ",".join(self.headers.get_all(name) or [])
            status, answer_headers, payload = emulator.handle(self.command, self.path, headers, body)
            if status is None:  # drop: close the connection without any answer
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            try:
                self.send_response(status)
                for name, value in answer_headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up (e.g. a timeout during a "slow" fault)
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr logging
            pass

    return Handler
