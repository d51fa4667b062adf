"""A thin, retrying client for the Clarifai gRPC API (``clarifai-grpc``, an optional extra).

Credentials: ``CLARIFAI_PAT`` (required; never printed; surrounding white space is ignored, and a PAT with
white space, a control or a non-ASCII character inside is refused before any call, as gRPC metadata
cannot carry it), API base: ``CLARIFAI_API_BASE``
(default ``https://api.clarifai.com``; a ``localhost``/``127.0.0.1`` base uses an insecure channel).
Transient failures (gRPC UNAVAILABLE / RESOURCE_EXHAUSTED / DEADLINE_EXCEEDED / INTERNAL, Clarifai
throttling and internal 98xxx/99xxx statuses: :func:`.status.is_retryable`) are retried with exponential backoff and
jitter; invalid arguments are not. A rejected PAT (:func:`.status.is_auth`) is an :class:`ApiError` of kind ``auth``.
The status codes come by name from :mod:`.status`, imported once the extra is known to be installed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlparse

from ...console import traced
from ...errors import PlatformError
from ...exitcodes import ExitCode
from ...retry import Backoff, RetryableError, call_with_retries
from ...textsafe import credential_problem

DEFAULT_API_BASE = "https://api.clarifai.com"


class ApiError(PlatformError):
    """A Clarifai call failed for good. ``kind``: auth, config, unavailable or api (config: exit 2, else 3)."""

    def __init__(self, message: str, kind: str = "api", code: int | str | None = None):
        super().__init__(message, ExitCode.USAGE if kind == "config" else ExitCode.API)
        self.message = message
        self.kind = kind
        self.code = code


def _request_id(response: Any) -> str:
    """``-v``: what a response says about itself (its status code and request id; never a credential)."""
    status = getattr(response, "status", None)
    return f"status {status.code}, request id {status.req_id or '-'}" if status is not None else ""


def grpc_target(api_base: str) -> tuple[str, bool]:
    """``(host:port, secure)`` for an API base URL or ``host[:port]``."""
    parsed = urlparse(api_base if "//" in api_base else f"//{api_base}")
    host = parsed.hostname or ""
    if not host:
        raise ApiError(f"CLARIFAI_API_BASE {api_base!r} has no host", "config")
    local = host in ("localhost", "127.0.0.1", "::1")
    port = parsed.port or (443 if parsed.scheme == "https" or not local else 80)
    return f"{host}:{port}", not local


class ClarifaiClient:
    """Unary and streaming calls on ``clarifai.api.V2`` with auth metadata and retries."""

    def __init__(self, pat: str, api_base: str = DEFAULT_API_BASE, *, timeout: float = 60.0, attempts: int = 6,
                 backoff: Backoff = Backoff(), sleep: Callable[[float], None] = time.sleep,
                 log: Callable[[str], None] | None = None):
        problem = credential_problem(pat)  # the one check: every client is built here, before any request
        if problem:
            raise ApiError(f"CLARIFAI_PAT {problem}", "config")
        try:
            import grpc
            from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
            from clarifai_grpc.grpc.api import service_pb2_grpc
        except ImportError:
            raise ApiError("the Clarifai backend needs the clarifai extra: pip install 'pipeline-ci[clarifai]'",
                           "config") from None
        from . import status

        self._grpc, self._status = grpc, status
        target, secure = grpc_target(api_base)
        host, port = target.rsplit(":", 1)
        # The official channel factories (they also switch clarifai-grpc's stubs to gRPC mode).
        channel = (ClarifaiChannel.get_grpc_channel(base=target) if secure
                   else ClarifaiChannel.get_insecure_grpc_channel(base=host, port=int(port)))
        self._channel = channel
        self.stub = service_pb2_grpc.V2Stub(channel)
        self._metadata = (("authorization", f"Key {pat}"),)
        self.secrets = (pat.strip(),)  # masked in relayed log lines (error_handler.mask)
        self.timeout, self.attempts, self.backoff, self.sleep = timeout, attempts, backoff, sleep
        self.log = log or (lambda _line: None)

    @classmethod
    def from_env(cls, env: Mapping[str, str], **kwargs: Any) -> ClarifaiClient:
        pat = env.get("CLARIFAI_PAT", "").strip()
        if not pat:
            raise ApiError("CLARIFAI_PAT is not set: create a personal access token and export it", "config")
        return cls(pat, env.get("CLARIFAI_API_BASE") or DEFAULT_API_BASE, **kwargs)

    def close(self) -> None:
        self._channel.close()

    def _check(self, method: str, response: Any) -> Any:
        status = getattr(response, "status", None)
        if status is None:
            return response
        code = int(status.code)
        if self._status.is_auth(code):
            raise ApiError(f"{method}: the Clarifai API rejected CLARIFAI_PAT ({status.description})", "auth", code)
        if self._status.is_retryable(code):
            raise RetryableError(f"{method}: {status.description or code} (status {code})")
        return response

    def _rpc_error(self, method: str, exc: Exception) -> Exception:
        code = exc.code() if hasattr(exc, "code") else None
        names = self._grpc.StatusCode
        detail = exc.details() if hasattr(exc, "details") else str(exc)
        if code in (names.UNAVAILABLE, names.RESOURCE_EXHAUSTED, names.DEADLINE_EXCEEDED, names.INTERNAL,
                    names.ABORTED, names.UNKNOWN):
            return RetryableError(f"{method}: gRPC {code.name}: {detail}")
        if code in (names.UNAUTHENTICATED, names.PERMISSION_DENIED):
            return ApiError(f"{method}: the Clarifai API rejected CLARIFAI_PAT ({detail})", "auth", code.name)
        return ApiError(f"{method}: gRPC {getattr(code, 'name', code)}: {detail}", "api", getattr(code, "name", None))

    def _retrying(self, method: str, attempt: Callable[[], Any]) -> Any:
        def on_retry(number: int, exc: RetryableError, delay: float) -> None:
            self.log(f"{exc}; retrying in {delay:.1f}s (attempt {number + 1}/{self.attempts})")

        try:
            return call_with_retries(attempt, attempts=self.attempts, backoff=self.backoff, sleep=self.sleep,
                                     on_retry=on_retry)
        except RetryableError as exc:
            raise ApiError(f"{exc} (gave up after {self.attempts} attempts)", "unavailable") from None

    def call(self, method: str, request: Any, *, timeout: float | None = None) -> Any:
        """A unary call; returns the response whatever its (non-auth, non-transient) status."""

        def attempt() -> Any:
            try:
                response = traced(f"clarifai {method}", getattr(self.stub, method), request, metadata=self._metadata,
                                  timeout=timeout or self.timeout, detail=_request_id)
            except self._grpc.RpcError as exc:
                raise self._rpc_error(method, exc) from None
            return self._check(method, response)

        return self._retrying(method, attempt)

    def stream(self, method: str, make_requests: Callable[[], Iterable[Any]], *, retry: bool = True) -> list[Any]:
        """A client+server streaming call; ``make_requests`` is called again for each attempt."""

        def attempt() -> list[Any]:
            try:
                responses = traced(f"clarifai {method}", lambda: list(getattr(self.stub, method)(
                    iter(make_requests()), metadata=self._metadata, timeout=self.timeout * 10)),
                    detail=lambda rs: _request_id(rs[-1]) if rs else "")
            except self._grpc.RpcError as exc:
                raise self._rpc_error(method, exc) from None
            for response in responses:
                self._check(method, response)
            return responses

        return self._retrying(method, attempt) if retry else attempt()
