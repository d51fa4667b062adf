"""Clarifai pipeline runs through ``clarifai-grpc``: start, poll, logs, cancel.

Status codes map to outcomes (the SDK's gaps fixed) in :data:`.status.RUN_STATES`: ``JOB_COMPLETED`` (and
legacy ``SUCCESS``) → success; ``JOB_FAILED``, ``JOB_UNEXPECTED_ERROR``, ``JOB_CONFLICT`` → failure;
``JOB_CANCELLED`` → cancelled; ``JOB_PAUSED`` → paused (the follower applies the grace period);
``JOB_QUEUED``, ``JOB_RUNNING``, ``MIXED_STATUS`` and an unset status → running; anything else →
unknown (keep waiting, reported). The run id is generated here and sent with the start request,
so a retried start never creates a second run. A run id given by the user (``--run-id``) is first looked up:
if a run with that id already exists, the start is refused (exit 2) rather than following that older run.

Logs (``ListLogEntries``, ``log_type="pipeline.version.run"``) are read page by page (``page`` from 1,
``per_page`` :data:`PER_PAGE`, oldest first): a full page moves on to the next one, a partial page is asked for
again later. Entries are de-duplicated by their ``url`` (by page position and text when they have none), so a
partial page read again prints only what is new. The PAT is masked in the lines (:func:`pipeline_ci.error_handler.mask`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ...error_handler import mask
from ...runs.follow import FatalError, Poll, TransientError
from .api import ApiError, ClarifaiClient

PER_PAGE = 50  # what the SDK asks for; the server's own page size wins when it answers with a smaller one


@dataclass
class RunTarget:
    """Everything needed to address a pipeline version and place a run."""

    user_id: str
    app_id: str
    pipeline_id: str
    version_id: str
    compute_cluster_id: str | None = None
    nodepool_id: str | None = None


class ClarifaiRun:
    """One pipeline version run; implements :class:`~pipeline_ci.runs.follow.RemoteRun`."""

    def __init__(self, client: ClarifaiClient, target: RunTarget, run_id: str | None = None):
        from clarifai_grpc.grpc.api import resources_pb2, service_pb2

        from . import status  # imports clarifai-grpc: only once a client exists (the extra is installed)

        self.client, self.target = client, target
        self.run_id = run_id or uuid.uuid4().hex
        self._check_id = run_id is not None  # a given id may name an older run: looked up once before the start
        self.pb, self.res, self.codes = service_pb2, resources_pb2, status
        self._page = 1
        self._seen: set[str] = set()
        self._cancelled = False

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
        """Start the run (idempotent thanks to the client-generated id). Raises ApiError, of kind ``config`` when a
        given run id already names a run (the platform would answer that run, not start a new one)."""
        t = self.target
        if self._check_id:
            self._refuse_existing_id()
        run = self.res.PipelineVersionRun(id=self.run_id)
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
        if code == self.codes.CONN_DOES_NOT_EXIST:
            raise ApiError(f"pipeline {t.pipeline_id} version {t.version_id} does not exist "
                           "(run `pipeline-ci upload` first)", "config", code)
        if code != self.codes.SUCCESS:
            raise ApiError(f"failed to start the run: {response.status.description} {response.status.details}".strip(),
                           "api", code)
        if response.pipeline_version_runs and response.pipeline_version_runs[0].id:
            self.run_id = response.pipeline_version_runs[0].id

    def _refuse_existing_id(self) -> None:
        """Raise ApiError (``config``) when a run with the given id exists; only before this object's first start
        request, so the client's retries of that request stay idempotent."""
        t = self.target
        response = self.client.call("GetPipelineVersionRun", self.pb.GetPipelineVersionRunRequest(
            user_app_id=self._ids(), pipeline_id=t.pipeline_id, pipeline_version_id=t.version_id,
            pipeline_version_run_id=self.run_id))
        code = response.status.code
        if code == self.codes.SUCCESS:
            raise ApiError(f"run {self.run_id} already exists on pipeline {t.pipeline_id} version {t.version_id}: "
                           f"nothing was started (follow that run with `pipeline-ci watch {self.run_id}`, or give "
                           "a new --run-id)", "config", code)
        if code != self.codes.CONN_DOES_NOT_EXIST:
            raise ApiError(f"cannot check whether run {self.run_id} exists: {response.status.description} "
                           f"{response.status.details}".strip(), "api", code)
        self._check_id = False

    def poll(self) -> Poll:
        t = self.target
        response = self._call("GetPipelineVersionRun", self.pb.GetPipelineVersionRunRequest(
            user_app_id=self._ids(), pipeline_id=t.pipeline_id, pipeline_version_id=t.version_id,
            pipeline_version_run_id=self.run_id))
        if response.status.code != self.codes.SUCCESS:
            raise FatalError(f"cannot read run {self.run_id}: {response.status.description}")
        orchestration = response.pipeline_version_run.orchestration_status
        code = orchestration.status.code
        return Poll(self.codes.run_state(code), self.codes.name(code), _argo_nodes(orchestration.argo_status.status))

    def log_pages(self) -> Iterator[list[str]]:
        """New run log lines, page by page, until a page is not full (see the module docstring)."""
        t = self.target
        while True:
            page = self._page
            response = self._call("ListLogEntries", self.pb.ListLogEntriesRequest(
                user_app_id=self._ids(), pipeline_id=t.pipeline_id, pipeline_version_id=t.version_id,
                pipeline_version_run_id=self.run_id, log_type="pipeline.version.run", page=page, per_page=PER_PAGE))
            code = response.status.code
            if code != self.codes.SUCCESS:
                detail = response.status.description
                raise TransientError(f"ListLogEntries answered {self.codes.name(code)}" + (f": {detail}" if detail else ""))
            entries = list(response.log_entries)
            full = len(entries) >= min(PER_PAGE, response.per_page or PER_PAGE)
            if full:
                self._page = page + 1  # before yielding: a caller that stops here goes on from the next page
            lines: list[str] = []
            for index, entry in enumerate(entries):
                key = entry.url or f"{page}:{index}:{hashlib.sha256(entry.message.encode()).hexdigest()}"
                if key in self._seen:
                    continue
                self._seen.add(key)
                lines += [mask(_message(line), self.client.secrets) for line in entry.message.strip().split("\n")]
            yield lines
            if not full:
                return

    def patch(self, code: int) -> None:
        t = self.target
        run = self.res.PipelineVersionRun(id=self.run_id)
        run.orchestration_status.status.code = code
        response = self._call("PatchPipelineVersionRuns", self.pb.PatchPipelineVersionRunsRequest(
            user_app_id=self._ids(), pipeline_id=t.pipeline_id, pipeline_version_id=t.version_id,
            pipeline_version_runs=[run], action="overwrite"))
        if response.status.code != self.codes.SUCCESS:
            raise FatalError(f"cannot change run {self.run_id}: {response.status.description} "
                             f"{response.status.details}".strip())

    def pause(self) -> None:
        """Pause the run (``JOB_PAUSED``, as ``clarifai pipelinerun pause`` does); the platform refuses unless it is
        queued or running."""
        self.patch(self.codes.JOB_PAUSED)

    def resume(self) -> None:
        """Resume a paused run (back to ``JOB_RUNNING``, as ``clarifai pipelinerun resume`` does)."""
        self.patch(self.codes.JOB_RUNNING)

    def cancel(self) -> None:
        """Cancel the run (``JOB_CANCELLED``); a second call on this object sends nothing."""
        if not self._cancelled:
            self.patch(self.codes.JOB_CANCELLED)
            self._cancelled = True


def _message(line: str) -> str:
    """A log line; JSON lines are replaced by their ``msg`` field."""
    try:
        data = json.loads(line)
    except ValueError:
        return line
    return str(data.get("msg", line)) if isinstance(data, dict) else line


def _argo_nodes(raw: str) -> dict | None:
    """The Argo ``WorkflowStatus`` the platform reports as a JSON string (``argo_status.status``); None when absent
    or not JSON (it is only used for the job summary's chart)."""
    if not raw:
        return None
    try:
        status = json.loads(raw)
    except ValueError:
        return None
    return status if isinstance(status, dict) else None
