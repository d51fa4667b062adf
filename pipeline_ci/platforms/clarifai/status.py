"""The Clarifai status codes pipeline-ci uses, by their names in ``clarifai_grpc``'s ``status_code_pb2``, and what
they mean to pipeline-ci: which are retried, which mean the PAT was rejected, how a pipeline version run's status
maps to an outcome of :mod:`pipeline_ci.runs.follow`, and which end a step build.

This module imports ``clarifai-grpc`` (the optional ``clarifai`` extra), so import it only where the Clarifai
platform is used, after :class:`~pipeline_ci.platforms.clarifai.api.ClarifaiClient` has checked that the extra is
installed; the lint path never imports it. The codes are defined in Clarifai's public API protos
(``proto/clarifai/api/status/status_code.proto``, e.g. in ``github.com/Clarifai/clarifai-nodejs-grpc``).
"""

from __future__ import annotations

from clarifai_grpc.grpc.api.status import status_code_pb2 as _codes

# --------------------------------------------------------------------------------------- request outcomes
ZERO: int = _codes.ZERO  # unset: e.g. a run without an orchestration status yet
SUCCESS: int = _codes.SUCCESS
MIXED_STATUS: int = _codes.MIXED_STATUS
CONN_DOES_NOT_EXIST: int = _codes.CONN_DOES_NOT_EXIST  # e.g. "pipeline version does not exist" on a run start
COMPUTE_CLUSTER_DOES_NOT_EXIST: int = _codes.COMPUTE_CLUSTER_DOES_NOT_EXIST
NODEPOOL_DOES_NOT_EXIST: int = _codes.NODEPOOL_DOES_NOT_EXIST

# --------------------------------------------------------------------------------------- the PAT was rejected
CONN_TOKEN_INVALID: int = _codes.CONN_TOKEN_INVALID
CONN_CREDENTIALS_INVALID: int = _codes.CONN_CREDENTIALS_INVALID
CONN_INSUFFICIENT_SCOPES: int = _codes.CONN_INSUFFICIENT_SCOPES
CONN_KEY_INVALID: int = _codes.CONN_KEY_INVALID
CONN_KEY_NOT_FOUND: int = _codes.CONN_KEY_NOT_FOUND
CONN_AUTH_METHOD_DISABLED: int = _codes.CONN_AUTH_METHOD_DISABLED
AUTH = frozenset({CONN_TOKEN_INVALID, CONN_CREDENTIALS_INVALID, CONN_INSUFFICIENT_SCOPES, CONN_KEY_INVALID,
                  CONN_KEY_NOT_FOUND, CONN_AUTH_METHOD_DISABLED})

# --------------------------------------------------------------------------------------- worth retrying
CONN_THROTTLED: int = _codes.CONN_THROTTLED
RPC_REQUEST_QUEUE_FULL: int = _codes.RPC_REQUEST_QUEUE_FULL
RPC_SERVER_UNAVAILABLE: int = _codes.RPC_SERVER_UNAVAILABLE
RPC_REQUEST_TIMEOUT: int = _codes.RPC_REQUEST_TIMEOUT
RPC_CANCELED: int = _codes.RPC_CANCELED
INTERNAL_UNCATEGORIZED: int = _codes.INTERNAL_UNCATEGORIZED
RETRYABLE = frozenset({CONN_THROTTLED, RPC_REQUEST_QUEUE_FULL, RPC_SERVER_UNAVAILABLE, RPC_REQUEST_TIMEOUT,
                       RPC_CANCELED})
INTERNAL = range(98000, 100000)  # INTERNAL_* (98xxx) and *_UNCATEGORIZED (99xxx): the server's own failures

# --------------------------------------------------------------------------------------- pipeline step builds
PIPELINE_STEP_BUILDING: int = _codes.PIPELINE_STEP_BUILDING
PIPELINE_STEP_BUILDING_FAILED: int = _codes.PIPELINE_STEP_BUILDING_FAILED
PIPELINE_STEP_BUILD_UNEXPECTED_ERROR: int = _codes.PIPELINE_STEP_BUILD_UNEXPECTED_ERROR
PIPELINE_STEP_READY: int = _codes.PIPELINE_STEP_READY
BUILD_FAILED = frozenset({PIPELINE_STEP_BUILDING_FAILED, PIPELINE_STEP_BUILD_UNEXPECTED_ERROR,
                          INTERNAL_UNCATEGORIZED})

# --------------------------------------------------------------------------------------- pipeline version runs
JOB_QUEUED: int = _codes.JOB_QUEUED
JOB_RUNNING: int = _codes.JOB_RUNNING
JOB_COMPLETED: int = _codes.JOB_COMPLETED
JOB_FAILED: int = _codes.JOB_FAILED
JOB_CANCELLED: int = _codes.JOB_CANCELLED
JOB_UNEXPECTED_ERROR: int = _codes.JOB_UNEXPECTED_ERROR
JOB_CONFLICT: int = _codes.JOB_CONFLICT
JOB_PAUSED: int = _codes.JOB_PAUSED

RUN_STATES: dict[int, str] = {
    ZERO: "running", MIXED_STATUS: "running", JOB_QUEUED: "running", JOB_RUNNING: "running",
    JOB_COMPLETED: "success", SUCCESS: "success",  # SUCCESS: the SDK's legacy terminal success
    JOB_FAILED: "failure", JOB_UNEXPECTED_ERROR: "failure", JOB_CONFLICT: "failure",
    JOB_CANCELLED: "cancelled",
    JOB_PAUSED: "paused",  # the follower applies its grace period
}
"""A run's ``orchestration_status.status.code`` → one of :data:`pipeline_ci.runs.follow.STATES`."""


def is_auth(code: int) -> bool:
    """Does this answer mean the PAT was rejected (or lacks a scope)?"""
    return code in AUTH


def is_retryable(code: int) -> bool:
    """Is this answer a throttle or a server-side failure that may pass if the call is sent again?"""
    return code in RETRYABLE or code in INTERNAL


def run_state(code: int) -> str:
    """The follower's outcome of a run status code; ``unknown`` for a code pipeline-ci does not know."""
    return RUN_STATES.get(code, "unknown")


def name(code: int) -> str:
    """The code's name (``NOT_STARTED`` for an unset run status); the number for a code this clarifai-grpc lacks."""
    if code == ZERO:
        return "NOT_STARTED"
    return _codes.StatusCode.Name(code) if code in _codes.StatusCode.values() else str(code)
