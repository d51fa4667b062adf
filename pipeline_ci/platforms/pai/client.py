"""A retrying client for the PAIFlow run APIs (ROA, JSON, ACS3-HMAC-SHA256), per Alibaba Cloud's PAIFlow 2021-02-02
API reference and its V3 signature docs (links in :mod:`pipeline_ci.platforms.pai`).

Credentials come from ``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` and optionally
``ALIBABA_CLOUD_SECURITY_TOKEN`` (STS); surrounding white space is ignored, and a value with white space, a
control or a non-ASCII character inside is refused before any request (it cannot be a header value or a
real key). The endpoint is always explicit (``--endpoint`` or ``--region`` →
``https://paiflow.<region>.aliyuncs.com``): the vendor's region-less default host is never used.

Idempotent calls (GET, Start, Terminate) are retried with exponential backoff and jitter on throttling (HTTP 429,
a ``Throttling*`` code or an ``x-acs-retry-after`` header in milliseconds, which is honoured), 5xx, timeouts and
dropped connections. Other 4xx are not retried; signature / key / permission errors are :class:`PaiError` of kind
``auth``. CreatePipelineRun is not idempotent: :meth:`PaiClient.create_run_once` looks a run up by its unique
``Name`` before re-sending a create whose response was lost. The AccessKey secret and the security token never
appear in exceptions, logs or reprs.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, cast
from urllib.parse import quote, urlparse

import requests

from ...console import traced
from ...errors import PlatformError
from ...exitcodes import ExitCode
from ...retry import Backoff, RetryableError, call_with_retries
from ...textsafe import credential_problem
from . import signing
from .arguments import build_arguments

API_VERSION = "2021-02-02"
USER_AGENT = "pipeline-ci (PAIFlow client)"
ENV_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
ENV_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"
AUTH_CODES = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "IncompleteSignature", "SignatureNonceUsed",
              "InvalidTimeStamp", "InvalidSecurityToken", "Forbidden", "NoPermission")
LIST_PAGE_SIZE = 10  # the documented default; the maximum is [UNCONFIRMED]
MAX_LOOKUP_PAGES = 10
_REGION = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_XML_FIELD = r"<{0}>\s*(.*?)\s*</{0}>"


class PaiError(PlatformError):
    """A PAIFlow call failed for good. ``kind``: config, auth, api or unavailable (gave up retrying); config: exit 2,
    else 3."""

    def __init__(self, message: str, kind: str = "api", *, status: int | None = None, code: str | None = None,
                 request_id: str | None = None):
        super().__init__(message, ExitCode.USAGE if kind == "config" else ExitCode.API)
        self.message = message
        self.kind = kind
        self.status = status
        self.code = code
        self.request_id = request_id


class _Transient(RetryableError):
    """A failure worth retrying. ``ambiguous``: the server may have acted on the request (not for throttling)."""

    def __init__(self, message: str, retry_after: float | None = None, ambiguous: bool = True):
        super().__init__(message, retry_after)
        self.ambiguous = ambiguous


def endpoint_for(region: str, vpc: bool = False) -> str:
    """``https://paiflow[-vpc].<region>.aliyuncs.com`` (PAIFlow's public and VPC endpoints)."""
    if not _REGION.match(region or ""):
        raise PaiError(f"invalid region {region!r} (expected e.g. cn-hangzhou)", "config")
    return f"https://paiflow{'-vpc' if vpc else ''}.{region}.aliyuncs.com"


def region_of(endpoint: str) -> str | None:
    """The region of a ``https://paiflow[-vpc].<region>.aliyuncs.com`` endpoint (:func:`endpoint_for`); None for
    any other host (e.g. a local emulator)."""
    match = re.match(r"^paiflow(?:-vpc)?\.([a-z0-9-]+)\.aliyuncs\.com$", urlparse(endpoint).hostname or "")
    return match.group(1) if match and _REGION.match(match.group(1)) else None


def _normalise_endpoint(endpoint: str) -> str:
    url = endpoint.strip().rstrip("/")
    parsed = urlparse(url if "//" in url else f"https://{url}")
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path or parsed.query:
        raise PaiError(f"invalid PAIFlow endpoint {endpoint!r} (expected https://paiflow.<region>.aliyuncs.com)",
                       "config")
    return f"{parsed.scheme}://{parsed.netloc}"


def _utc_timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_nonce() -> str:
    return uuid.uuid4().hex


def _segment(value: str) -> str:
    """A percent-encoded path parameter (everything but RFC 3986 unreserved characters is encoded)."""
    if not value:
        raise PaiError("an id in the request path is empty", "config")
    return quote(value, safe="-_.~")


def _query_value(value: Any) -> str:
    # Booleans as the SDK sends them ("True"/"False"); lower-case acceptance is [UNCONFIRMED].
    return str(value)


def _error_fields(response: requests.Response) -> tuple[str, str, str]:
    """(code, message, request id) from a JSON or XML error body; empty strings when absent."""
    text = response.text or ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        def pick(*names: str) -> str:
            return next((str(body[name]) for name in names if body.get(name)), "")

        return pick("Code", "code"), pick("Message", "message"), pick("RequestId", "requestId")
    fields = [re.search(_XML_FIELD.format(name), text, re.S) for name in ("Code", "Message", "RequestId")]
    return tuple(match.group(1) if match else "" for match in fields)  # type: ignore[return-value]


def _retry_after(response: requests.Response) -> float | None:
    """The ``x-acs-retry-after`` header in seconds (the header is in milliseconds), when positive."""
    try:
        millis = int(response.headers.get("x-acs-retry-after", ""))
    except ValueError:
        return None
    return millis / 1000 if millis > 0 else None


class PaiClient:
    """PAIFlow pipeline-run operations with signing, retries and typed errors."""

    def __init__(self, endpoint: str, access_key_id: str, access_key_secret: str, security_token: str | None = None,
                 *, session: requests.Session | None = None, timeout: float = 30, attempts: int = 6,
                 backoff: Backoff = Backoff(), sleep: Callable[[float], None] = time.sleep,
                 log: Callable[[str], None] | None = None):
        if not access_key_id or not access_key_secret:
            raise PaiError(f"PAIFlow credentials missing: set {ENV_KEY_ID} and {ENV_KEY_SECRET}", "config")
        for name, value in ((ENV_KEY_ID, access_key_id), (ENV_KEY_SECRET, access_key_secret),
                            (ENV_TOKEN, security_token or "")):
            problem = credential_problem(value)  # the one check: every client is built here, before any request
            if problem:
                raise PaiError(f"{name} {problem}", "config")
        self.endpoint = _normalise_endpoint(endpoint)
        self.host = urlparse(self.endpoint).netloc
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self._token = security_token or None
        self.session = session or requests.Session()
        self.timeout, self.attempts, self.backoff, self.sleep = timeout, attempts, backoff, sleep
        self.log = log or (lambda _line: None)

    @classmethod
    def from_env(cls, env: Mapping[str, str], region: str | None = None, endpoint: str | None = None,
                 **kwargs: Any) -> PaiClient:
        """A client from the ``ALIBABA_CLOUD_*`` variables and ``--endpoint`` (wins) or ``--region``."""
        key_id, secret = env.get(ENV_KEY_ID, "").strip(), env.get(ENV_KEY_SECRET, "").strip()
        missing = [name for name, value in ((ENV_KEY_ID, key_id), (ENV_KEY_SECRET, secret)) if not value]
        if missing:
            raise PaiError(f"PAIFlow credentials missing: set {' and '.join(missing)}", "config")
        if endpoint:
            url = endpoint
        elif region:
            url = endpoint_for(region)
        else:
            raise PaiError("no PAIFlow endpoint: pass --endpoint or --region (e.g. --region cn-hangzhou)", "config")
        return cls(url, key_id, secret, env.get(ENV_TOKEN, "").strip() or None, **kwargs)

    def __repr__(self) -> str:  # never shows the secret or the token
        return f"PaiClient(endpoint={self.endpoint!r}, access_key_id={self.access_key_id!r}, sts={bool(self._token)})"

    def close(self) -> None:
        self.session.close()

    # ----------------------------------------------------------------- transport

    @property
    def secrets(self) -> tuple[str, ...]:
        """The credential values this client holds (masked wherever remote text is shown)."""
        return tuple(secret for secret in (self._secret, self._token) if secret)

    def _scrub(self, text: str) -> str:
        from ...error_handler import mask

        return mask(text, self.secrets)

    def _send(self, action: str, method: str, path: str, query: Mapping[str, Any] | None = None,
              body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One signed request. Raises :class:`_Transient` (retryable) or :class:`PaiError`."""
        query_text = {name: _query_value(value) for name, value in (query or {}).items() if value is not None}
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() if body is not None else b""
        headers = {"host": self.host, "x-acs-action": action, "x-acs-version": API_VERSION,
                   "x-acs-date": _utc_timestamp(), "x-acs-signature-nonce": _new_nonce(),
                   "accept": "application/json", "user-agent": USER_AGENT}
        if body is not None:
            headers["content-type"] = "application/json; charset=utf-8"
        parts = signing.RequestParts(method, path, query_text, headers, payload)
        signed = signing.sign(parts, self.access_key_id, self._secret, self._token)
        query_string = signing.canonical_query_string(query_text)
        url = f"{self.endpoint}{path}" + (f"?{query_string}" if query_string else "")
        try:
            response = traced(f"pai {action}", self.session.request, method, url, data=payload or None,
                              headers=signed, timeout=self.timeout, allow_redirects=False,
                              detail=lambda r: f"HTTP {r.status_code}, request id "
                                               f"{r.headers.get('x-acs-request-id') or _error_fields(r)[2] or '-'}")
        except requests.Timeout:
            raise _Transient(f"{action}: no answer within {self.timeout}s") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise _Transient(f"{action}: connection failed ({type(exc).__name__})") from None
        return self._result(action, response)

    def _result(self, action: str, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        if 200 <= status < 300:
            try:
                data = response.json()
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise PaiError(f"{action}: HTTP {status} with a body that is not a JSON object", "api", status=status)
            return data
        code, message, request_id = _error_fields(response)
        message = " ".join(self._scrub(message).split())  # one line, without secrets
        where = f"{action}: HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
        where += f" (request id {request_id})" if request_id else ""
        retry_after = _retry_after(response)
        if status == 429 or code.startswith("Throttling") or retry_after is not None:
            raise _Transient(where, retry_after, ambiguous=False)
        if status >= 500:
            raise _Transient(where)
        if code.startswith(AUTH_CODES) or status in (401, 403):
            raise PaiError(self._auth_hint(action, code, where), "auth", status=status, code=code,
                           request_id=request_id)
        raise PaiError(where, "api", status=status, code=code or None, request_id=request_id or None)

    def _auth_hint(self, action: str, code: str, where: str) -> str:
        if code.startswith("InvalidTimeStamp"):
            return f"{where} — the host clock is off: x-acs-date must be the current UTC time"
        if code.startswith(("Forbidden", "NoPermission")):
            return f"{where} — the RAM user needs the permission paiflow:{action}"
        if code.startswith("InvalidSecurityToken"):
            return f"{where} — check {ENV_TOKEN} (STS tokens expire)"
        return f"{where} — check {ENV_KEY_ID} / {ENV_KEY_SECRET}"

    def _on_retry(self, number: int, exc: RetryableError, delay: float) -> None:
        self.log(f"{exc}; retrying in {delay:.1f}s (attempt {number + 1}/{self.attempts})")

    def _call(self, action: str, method: str, path: str, query: Mapping[str, Any] | None = None,
              body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """An idempotent call, retried on throttling, 5xx, timeouts and dropped connections."""
        try:
            return cast("dict[str, Any]", call_with_retries(lambda: self._send(action, method, path, query, body),
                                                            attempts=self.attempts, backoff=self.backoff,
                                                            sleep=self.sleep, on_retry=self._on_retry))
        except RetryableError as exc:
            raise PaiError(f"{exc} (gave up after {self.attempts} attempts)", "unavailable") from None

    # ----------------------------------------------------------------- runs

    def _create_body(self, name: str, workspace_id: str, pipeline_id: str | None, manifest: str | None,
                     arguments: str | Mapping[str, Any] | None, no_confirm_required: bool) -> dict[str, Any]:
        if bool(pipeline_id) == bool(manifest):
            raise PaiError("CreatePipelineRun needs exactly one of a pipeline id and a manifest", "config")
        if not workspace_id:
            raise PaiError("CreatePipelineRun needs a workspace id", "config")
        body: dict[str, Any] = {"WorkspaceId": str(workspace_id)}
        body["PipelineId" if pipeline_id else "PipelineManifest"] = pipeline_id or manifest
        if name:
            body["Name"] = name
        if arguments is not None:
            body["Arguments"] = arguments if isinstance(arguments, str) else build_arguments(arguments)
        body["NoConfirmRequired"] = bool(no_confirm_required)
        return body

    def _create(self, body: Mapping[str, Any]) -> str:
        run_id = self._send("CreatePipelineRun", "POST", "/api/v1/pipelineruns", body=body).get("PipelineRunId")
        if not run_id:
            raise PaiError("CreatePipelineRun: the answer has no PipelineRunId", "api")
        return str(run_id)

    def create_pipeline_run(self, name: str, workspace_id: str, pipeline_id: str | None = None,
                            manifest: str | None = None, arguments: str | Mapping[str, Any] | None = None,
                            no_confirm_required: bool = True) -> str:
        """Create a run (saved pipeline *or* inline manifest); returns its id. ``arguments``: the ``Arguments`` string or a
        mapping of parameter overrides. Only throttled attempts are re-sent: a lost answer raises
        :class:`PaiError` (kind ``unavailable``) — use :meth:`create_run_once` to recover from it."""
        body = self._create_body(name, workspace_id, pipeline_id, manifest, arguments, no_confirm_required)

        def attempt() -> str:
            try:
                return self._create(body)
            except _Transient as exc:
                if exc.ambiguous:
                    raise PaiError(f"{exc}; the run may have been created", "unavailable") from None
                raise

        try:
            return cast(str, call_with_retries(attempt, attempts=self.attempts, backoff=self.backoff, sleep=self.sleep,
                                               on_retry=self._on_retry))
        except RetryableError as exc:
            raise PaiError(f"{exc} (gave up after {self.attempts} attempts)", "unavailable") from None

    def create_run_once(self, name: str, workspace_id: str, pipeline_id: str | None = None,
                        manifest: str | None = None, arguments: str | Mapping[str, Any] | None = None,
                        no_confirm_required: bool = True) -> str:
        """Create a run at most once, even when the create answer is lost (CreatePipelineRun is not
        idempotent).

        ``name`` must be unique for this attempt (e.g. ``ci-<repo>-<build>-<attempt>``). Runs already carrying
        the name before we send are noted and never adopted (name uniqueness is not enforced by PAI
        [UNCONFIRMED]). After a dropped connection, a timeout or a 5xx, the runs are listed by name and a new
        match is adopted; only when there is none is the create sent again. Throttled creates are re-sent as is.
        """
        if not name:
            raise PaiError("create_run_once needs a unique run name", "config")
        body = self._create_body(name, workspace_id, pipeline_id, manifest, arguments, no_confirm_required)
        before = {run.get("PipelineRunId") for run in self.find_runs_by_name(workspace_id, name)}
        if before:
            self.log(f"warning: {len(before)} earlier run(s) named {name!r} exist; they will not be adopted")
        delays = self.backoff.delays()
        for number in range(1, self.attempts + 1):
            try:
                return self._create(body)
            except _Transient as exc:
                if number == self.attempts:
                    raise PaiError(f"{exc} (gave up after {self.attempts} attempts)", "unavailable") from None
                delay = exc.retry_after if exc.retry_after is not None else next(delays)
                self._on_retry(number, exc, delay)
                self.sleep(delay)
                if exc.ambiguous:
                    adopted = self._adopt(workspace_id, name, before)
                    if adopted:
                        return adopted
        raise AssertionError("unreachable")

    def _adopt(self, workspace_id: str, name: str, before: set[Any]) -> str | None:
        """The id of a run named ``name`` created since ``before`` was taken, if any (the oldest of them)."""
        new = [run for run in self.find_runs_by_name(workspace_id, name) if run.get("PipelineRunId") not in before]
        if not new:
            self.log(f"CreatePipelineRun: no run named {name!r} was created; sending the create again")
            return None
        run_id = str(new[-1]["PipelineRunId"])  # newest first → the last one is the oldest
        extra = f" ({len(new) - 1} more with that name!)" if len(new) > 1 else ""
        self.log(f"CreatePipelineRun: the answer was lost but run {run_id} named {name!r} exists; using it{extra}")
        return run_id

    def start_pipeline_run(self, run_id: str) -> None:
        """Start a run created with ``no_confirm_required=False``."""
        self._call("StartPipelineRun", "PUT", f"/api/v1/pipelineruns/{_segment(run_id)}/start")

    def get_pipeline_run(self, run_id: str, *, verbose: bool = False, manifest_type: str | None = None
                         ) -> dict[str, Any]:
        """The run (``Status``, ``Message``, root ``NodeId``, ``PipelineRunUri`` …, see GetPipelineRun)."""
        query = {"Verbose": True if verbose else None, "ManifestType": manifest_type}
        return self._call("GetPipelineRun", "GET", f"/api/v1/pipelineruns/{_segment(run_id)}", query)

    def list_pipeline_runs(self, workspace_id: str, name: str | None = None, *, status: str | None = None,
                           page_number: int = 1, page_size: int = LIST_PAGE_SIZE, sort_by: str = "GmtCreateTime",
                           order: str = "DESC") -> list[dict[str, Any]]:
        """One page of runs, newest first by default (the ``Name`` filter may be exact or fuzzy [UNCONFIRMED])."""
        query = {"WorkspaceId": workspace_id, "Name": name, "Status": status, "PageNumber": page_number,
                 "PageSize": page_size, "SortBy": sort_by, "Order": order}
        return list(self._call("ListPipelineRuns", "GET", "/api/v1/pipelineruns", query).get("PipelineRuns") or [])

    def find_runs_by_name(self, workspace_id: str, name: str) -> list[dict[str, Any]]:
        """Runs whose ``Name`` is exactly ``name``, newest first (filtered here too, so a fuzzy server filter works)."""
        found: list[dict[str, Any]] = []
        for page in range(1, MAX_LOOKUP_PAGES + 1):
            runs = self.list_pipeline_runs(workspace_id, name, page_number=page)
            found += [run for run in runs if run.get("Name") == name]
            if len(runs) < LIST_PAGE_SIZE:
                break
        return found

    def terminate_pipeline_run(self, run_id: str) -> None:
        """Ask the run to stop (asynchronous: ``Terminating`` → ``Terminated``)."""
        self._call("TerminatePipelineRun", "PUT", f"/api/v1/pipelineruns/{_segment(run_id)}/termination")

    # ----------------------------------------------------------------- nodes and logs

    def _node_path(self, run_id: str, node_id: str) -> str:
        return f"/api/v1/pipelineruns/{_segment(run_id)}/nodes/{_segment(node_id)}"

    def get_pipeline_run_node(self, run_id: str, node_id: str, *, depth: int = 2, node_type: str = "Logical"
                              ) -> dict[str, Any]:
        """A node and its children down to ``depth`` (``Metadata``, ``Spec.Pipelines``, ``StatusInfo``, see GetPipelineRunNode)."""
        return self._call("GetPipelineRunNode", "GET", self._node_path(run_id, node_id),
                          {"Depth": depth, "Type": node_type})

    def list_pipeline_run_node_status(self, run_id: str, node_id: str, *, depth: int = 2,
                                      node_type: str = "Logical") -> list[dict[str, Any]]:
        """Flat ``[{NodeId, NodeName, Status, StartedAt, FinishedAt, RuntimeInfo}]`` under a node (ListPipelineRunNodeStatus)."""
        data = self._call("ListPipelineRunNodeStatus", "GET", f"{self._node_path(run_id, node_id)}/status",
                          {"Depth": depth, "Type": node_type})
        return list(data.get("Status") or [])

    def list_pipeline_run_node_logs(self, run_id: str, node_id: str, offset: int = 0, page_size: int = 100, *,
                                    reverse: bool = False) -> list[str]:
        """One page of a node's log lines. ``offset`` is sent as is: alipai treats it as a line offset, the docs
        call it a page number [UNCONFIRMED]. ``reverse=True`` asks for newest first (tail with offset 0)."""
        query = {"Offset": offset, "PageSize": page_size, "Reverse": True if reverse else None}
        data = self._call("ListPipelineRunNodeLogs", "GET", f"{self._node_path(run_id, node_id)}/logs", query)
        return [str(line) for line in data.get("Logs") or []]
