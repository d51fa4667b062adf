"""Clarifai pipeline runs through ``clarifai-grpc``: start, poll, logs, cancel.

Status codes map to outcomes (the SDK's gaps fixed): ``JOB_COMPLETED`` (and legacy ``SUCCESS``)
→ success; ``JOB_FAILED``, ``JOB_UNEXPECTED_ERROR``, ``JOB_CONFLICT`` → failure;
``JOB_CANCELLED`` → cancelled; ``JOB_PAUSED`` → paused (the follower applies the grace period);
``JOB_QUEUED``, ``JOB_RUNNING``, ``MIXED_STATUS`` and an unset status → running; anything else →
unknown (keep waiting, reported). The run id is generated here and sent with the start request,
so a retried start never creates a second run.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from ...runs.follow import FatalError, Poll, TransientError
from .api import SUCCESS, ApiError, ClarifaiClient

CONN_DOES_NOT_EXIST = 11101
JOB_CANCELLED, JOB_PAUSED, JOB_RUNNING = 64004, 64008, 64001
STATES = {
    0: "running", 10000: "success", 10010: "running", 64000: "running", 64001: "running", 64002: "success",
    64003: "failure", 64004: "cancelled", 64006: "failure", 64007: "failure", 64008: "paused",
}
NAMES = {
    0: "NOT_STARTED", 10000: "SUCCESS", 10010: "MIXED_STATUS", 64000: "JOB_QUEUED", 64001: "JOB_RUNNING",
    64002: "JOB_COMPLETED", 64003: "JOB_FAILED", 64004: "JOB_CANCELLED", 64006: "JOB_UNEXPECTED_ERROR",
    64007: "JOB_CONFLICT", 64008: "JOB_PAUSED",
}
PER_PAGE = 50


@dataclass
class RunTarget:
    """Everything needed to address a pipeline version and place a run."""

    user_id: str
    app_id: str
    pipeline_id: str
    version_id: str
    compute_cluster_id: str | None = None
    nodepool_id: str | None = None


def compute_ids(instance: str, cloud: str | None, region: str | None) -> tuple[str, str]:
    """Cluster and nodepool ids the SDK derives from an instance type (reference §7.2)."""
    cluster = f"deploy-cc-{cloud or 'aws'}-{region or 'us-east-1'}"
    nodepool = "deploy-np-" + re.sub(r"-+", "-", re.sub(r"[^A-Za-z0-9_-]", "-", instance))
    return cluster, nodepool


class ClarifaiRun:
    """One pipeline version run; implements :class:`~pipeline_ci.runs.follow.RemoteRun`."""

    def __init__(self, client: ClarifaiClient, target: RunTarget, run_id: str | None = None):
        from clarifai_grpc.grpc.api import resources_pb2, service_pb2

        self.client, self.target = client, target
        self.run_id = run_id or uuid.uuid4().hex
        self.pb, self.res = service_pb2, resources_pb2
        self._page = 1
        self._seen: set[str] = set()

    @property
    def url(self) -> str:
        t = self.target
        return (f"https://clarifai.com/{t.user_id}/{t.app_id}/pipelines/{t.pipeline_id}/versions/{t.version_id}"
                f"/runs/{self.run_id}")

    def _ids(self) -> Any:
        return self.res.UserAppIDSet(user_id=self.target.user_id, app_id=self.target.app_id)

    def _call(self, method: str, request: Any) -> Any:
        try:
            return self.client.call(method, request)
        except ApiError as exc:
            if exc.kind == "unavailable":
                raise TransientError(exc.message) from None
            raise FatalError(exc.message) from None

    def start(self, parameters: list[tuple[str, str]]) -> None:
        """Start the run (idempotent thanks to the client-generated id). Raises ApiError."""
        run = self.res.PipelineVersionRun(id=self.run_id)
        t = self.target
        if t.compute_cluster_id and t.nodepool_id:
            nodepool = self.res.Nodepool(id=t.nodepool_id, compute_cluster=self.res.ComputeCluster(
                id=t.compute_cluster_id, user_id=t.user_id))
            run.nodepools.append(nodepool)
        for name, value in parameters:
            run.input_args_override.argo_args_override.parameters.append(
                self.res.ArgoParameterOverride(name=name, value=value))
        request = self.pb.PostPipelineVersionRunsRequest(
            user_app_id=self._ids(), pipeline_id=t.pipeline_id, pipeline_version_id=t.version_id,
            pipeline_version_runs=[run])
        if t.compute_cluster_id and t.nodepool_id:
            request.runner_selector.nodepool.CopyFrom(run.nodepools[0])
        response = self.client.call("PostPipelineVersionRuns", request)
        code = response.status.code
        if code == CONN_DOES_NOT_EXIST:
            raise ApiError(f"pipeline {t.pipeline_id} version {t.version_id} does not exist "
                           "(run `pipeline-ci upload` first)", "config", code)
        if code != SUCCESS:
            raise ApiError(f"failed to start the run: {response.status.description} {response.status.details}".strip(),
                           "api", code)
        if response.pipeline_version_runs and response.pipeline_version_runs[0].id:
            self.run_id = response.pipeline_version_runs[0].id

    def poll(self) -> Poll:
        t = self.target
        response = self._call("GetPipelineVersionRun", self.pb.GetPipelineVersionRunRequest(
            user_app_id=self._ids(), pipeline_id=t.pipeline_id, pipeline_version_id=t.version_id,
            pipeline_version_run_id=self.run_id))
        if response.status.code != SUCCESS:
            raise FatalError(f"cannot read run {self.run_id}: {response.status.description}")
        code = response.pipeline_version_run.orchestration_status.status.code
        return Poll(STATES.get(code, "unknown"), NAMES.get(code, str(code)))

    def new_logs(self) -> list[str]:
        t = self.target
        response = self._call("ListLogEntries", self.pb.ListLogEntriesRequest(
            user_app_id=self._ids(), pipeline_id=t.pipeline_id, pipeline_version_id=t.version_id,
            pipeline_version_run_id=self.run_id, log_type="pipeline.version.run", page=self._page,
            per_page=PER_PAGE))
        if response.status.code != SUCCESS:
            raise TransientError(f"logs: {response.status.description}")
        lines: list[str] = []
        for entry in response.log_entries:
            key = entry.url or hashlib.sha256(entry.message.encode()).hexdigest()
            if key in self._seen:
                continue
            self._seen.add(key)
            lines += [_message(line) for line in entry.message.strip().split("\n")]
        if len(response.log_entries) >= PER_PAGE:
            self._page += 1
        return lines

    def patch(self, code: int) -> None:
        t = self.target
        run = self.res.PipelineVersionRun(id=self.run_id)
        run.orchestration_status.status.code = code
        response = self._call("PatchPipelineVersionRuns", self.pb.PatchPipelineVersionRunsRequest(
            user_app_id=self._ids(), pipeline_id=t.pipeline_id, pipeline_version_id=t.version_id,
            pipeline_version_runs=[run], action="overwrite"))
        if response.status.code != SUCCESS:
            raise FatalError(f"cannot change run {self.run_id}: {response.status.description}")

    def cancel(self) -> None:
        self.patch(JOB_CANCELLED)


def _message(line: str) -> str:
    """A log line; JSON lines are replaced by their ``msg`` field."""
    try:
        data = json.loads(line)
    except ValueError:
        return line
    return str(data.get("msg", line)) if isinstance(data, dict) else line
