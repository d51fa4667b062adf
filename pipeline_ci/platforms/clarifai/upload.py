"""The Clarifai backend: the SDK's upload RPC sequence, done idempotently and with build logs.

Per step: ``GetPipelineStep`` (``PostPipelineSteps`` when missing), then the streaming
``PostPipelineStepVersionsUpload`` (an ``upload_config`` message, then ≤14 MiB ``content_part``s)
with a client-proposed version id, then ``GetPipelineStepVersion`` polls (with backoff, a
timeout and builder logs) until ``PIPELINE_STEP_READY``. A retried upload first looks the
proposed id up, so a response lost on the way never yields a second version. Pipelines:
``PostPipelines`` with the pinned spec, secrets and visibility.

Content addressing, so that a re-run after a crash and two uploads racing from two clones never create a second
version of the same content: a step version's ``description`` records the step's content hash
(``… content md5 <hex>``; ``PipelineStepVersion`` has no metadata field) and its proposed id is derived from that
hash (:func:`candidate_id`: the n-th id for the hash, n > 0 only after failed builds of the same content). Before an
upload, :meth:`ClarifaiBackend.find_step_version` lists the step's ready and building versions
(``ListPipelineStepVersions``) for one with the same hash, then probes the derived ids (``GetPipelineStepVersion``).
A pipeline version records :func:`~pipeline_ci.lockfiles.pipeline_hash` in its ``metadata``
(``{"pipeline_ci": {"hash": …}}``); :meth:`ClarifaiBackend.find_pipeline_version` lists versions for it and picks the
oldest match, so racing uploads converge on one pin. A step pin is reused only if its version is ready and records
the lockfile's hash (:meth:`ClarifaiBackend.pin_problem`). Every look-up is a read: a dry run with credentials uses
them, and also names the app and pipeline steps the upload will create (:meth:`ClarifaiBackend.creations`).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any, cast

from ... import archive, crashpoints, lockfiles, progress
from ...errors import UsageError
from ...lockfiles import StepKey
from ...retry import Backoff
from ...textsafe import print_line
from ..base import DeployError, Log, StepUpload
from .api import ApiError, ClarifaiClient

CHUNK = 14 * 1024 * 1024
LOG_PER_PAGE = 50  # builder log entries per ListLogEntries page (what the SDK asks for)
LOG_PAGES = 20  # builder log pages read at most per build poll
VISIBILITY = {"UNKNOWN_VISIBILITY": 0, "PRIVATE": 10, "ORG": 30, "PUBLIC": 50}
LIST_PER_PAGE = 100  # versions per List… page when looking for one with the same content
LIST_PAGES = 20  # pages read at most per look-up
CANDIDATES = 20  # derived version ids tried per content hash (each failed build of that content uses one)
CONTENT_MD5 = re.compile(r"content md5 ([0-9a-f]{32})")
METADATA_KEY = "pipeline_ci"


def candidate_id(digest: str, attempt: int) -> str:
    """The ``attempt``-th step version id for content ``digest``: 16 hex characters, like the SDK's ``uuid4().hex[:16]``,
    the same in every clone, so two uploads of one content propose one id and the platform keeps one version."""
    return hashlib.md5(f"pipeline-ci/{digest}/{attempt}".encode()).hexdigest()[:16]


def step_description(digest: str) -> str:
    return f"Pipeline step version (pipeline-ci; content md5 {digest})"


def recorded_hash(description: str) -> str | None:
    """The content hash a step version's description records, if pipeline-ci created it."""
    match = CONTENT_MD5.search(description)
    return match.group(1) if match else None


def visibility_value(raw: Any) -> int | None:
    """``visibility`` as the SDK's ``pipeline_builder.py`` / ``pipeline_step_builder.py`` parse it: a name, digits,
    an int or ``{gettable: ...}``."""
    if raw is None:
        return None
    if isinstance(raw, dict):
        raw = raw.get("gettable")
    if isinstance(raw, str):
        text = raw.strip().upper()
        return VISIBILITY.get(text, int(text) if text.isdigit() else None)
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def _recorded_pipeline_hash(version: Any) -> str | None:
    """The content hash a pipeline version's metadata records, if pipeline-ci created it."""
    recorded = version.metadata.fields.get(METADATA_KEY)
    value = recorded.struct_value.fields.get("hash") if recorded is not None else None
    return str(value.string_value) if value is not None and value.string_value else None


def _seconds(env: Mapping[str, str], name: str, default: str) -> float:
    """The positive number of seconds in the variable ``name`` (``default`` when unset); else a usage error."""
    raw = env.get(name, default)
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise UsageError(f"{name} must be a positive number of seconds, not {raw!r}")
    return seconds


class ClarifaiBackend:
    name = "clarifai"
    verified = True  # a plan built with it asks the platform

    def __init__(self, client: ClarifaiClient, *, build_timeout: float = 1800.0, poll: Backoff = Backoff(1, 1.5, 10)):
        from clarifai_grpc.grpc.api import resources_pb2, service_pb2

        from . import status  # imports clarifai-grpc: only once a client exists (the extra is installed)

        self.client, self.build_timeout, self.poll = client, build_timeout, poll
        self.pb, self.res, self.codes = service_pb2, resources_pb2, status
        self._usable = (status.PIPELINE_STEP_READY, status.PIPELINE_STEP_BUILDING)
        self._probed: dict[tuple[StepKey, str], tuple[str | None, str]] = {}  # (key, digest) -> (found, free id)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ClarifaiBackend:
        try:
            client = ClarifaiClient.from_env(env, log=lambda line: print_line(f"  retry: {line}"))
        except ApiError as exc:
            raise DeployError(exc.message, exit_code=2) from None
        timeout = _seconds(env, "PIPELINE_CI_BUILD_TIMEOUT", "1800")
        first_poll = _seconds(env, "PIPELINE_CI_BUILD_POLL", "1")  # the first pause between build polls
        return cls(client, build_timeout=timeout, poll=Backoff(first_poll, 1.5, max(10.0, first_poll)))

    def _call(self, method: str, request: Any) -> Any:
        try:
            return self.client.call(method, request)
        except ApiError as exc:
            raise DeployError(exc.message, exc.exit_code) from None

    def _ids(self, user: str, app: str) -> Any:
        return self.res.UserAppIDSet(user_id=user, app_id=app)

    def _app_exists(self, ids: Any) -> bool:
        return bool(self._call("GetApp", self.pb.GetAppRequest(user_app_id=ids)).status.code == self.codes.SUCCESS)

    def _step_exists(self, ids: Any, sid: str) -> bool:
        found = self._call("GetPipelineStep", self.pb.GetPipelineStepRequest(user_app_id=ids, pipeline_step_id=sid))
        return bool(found.status.code == self.codes.SUCCESS)

    def creations(self, pipeline: dict[str, Any], uploads: list[StepUpload]) -> list[str]:
        """What an apply creates before it uploads ``uploads`` (reads only; the dry run's lines): the app when
        :meth:`prepare` will create it, then each pipeline step :meth:`_ensure_step` will create."""
        ids = self._ids(str(pipeline.get("user_id")), str(pipeline.get("app_id")))
        out = [] if self._app_exists(ids) else [f"app {ids.app_id} (it does not exist on {self.name})"]
        out += [f"pipeline step {up.key[2]} (it does not exist on {self.name})" for up in uploads
                if not self._step_exists(self._ids(up.key[0], up.key[1]), up.key[2])]
        return out

    def prepare(self, pipeline: dict[str, Any], log: Log) -> None:
        ids = self._ids(str(pipeline.get("user_id")), str(pipeline.get("app_id")))
        if self._app_exists(ids):
            return
        log(f"app {ids.app_id} does not exist; creating it")
        app = self.res.App(id=ids.app_id, default_workflow=self.res.Workflow(id="Empty", app_id="main",
                                                                            user_id="clarifai"))
        response = self._call("PostApps", self.pb.PostAppsRequest(user_app_id=self.res.UserAppIDSet(
            user_id=ids.user_id), apps=[app]))
        if response.status.code != self.codes.SUCCESS:
            raise DeployError(f"cannot create app {ids.app_id}: {response.status.description}")

    def planned_version(self, upload: StepUpload) -> str | None:
        """The derived id the upload proposes (the first one no failed build of this content has used)."""
        return self._probe(upload.key, str(upload.change.digest))[1]

    def find_step_version(self, upload: StepUpload) -> str | None:
        key, digest = upload.key, str(upload.change.digest)
        found = self._list_step_versions(key, digest)
        return found or self._probe(key, digest)[0]

    def _list_step_versions(self, key: StepKey, digest: str) -> str | None:
        """The newest ready or building version whose description records ``digest``."""
        for page in range(1, LIST_PAGES + 1):
            request = self.pb.ListPipelineStepVersionsRequest(user_app_id=self._ids(key[0], key[1]),
                                                              pipeline_step_id=key[2], page=page,
                                                              per_page=LIST_PER_PAGE, status_codes=self._usable)
            response = self._call("ListPipelineStepVersions", request)
            if response.status.code != self.codes.SUCCESS:
                return None  # no such step yet
            versions = list(response.pipeline_step_versions)
            for version in versions:
                if self._holds(version, digest):
                    return str(version.id)
            if len(versions) < LIST_PER_PAGE:
                return None
        return None

    def _probe(self, key: StepKey, digest: str) -> tuple[str | None, str]:
        """``(usable version of this content, first free derived id)`` by reading the derived ids in turn."""
        if (key, digest) in self._probed:
            return self._probed[(key, digest)]
        for attempt in range(CANDIDATES):
            version_id = candidate_id(digest, attempt)
            response = self._get_version(key, version_id)
            if response.status.code != self.codes.SUCCESS:
                self._probed[(key, digest)] = (None, version_id)
                return None, version_id
            version = response.pipeline_step_version
            if self._holds(version, digest):
                self._probed[(key, digest)] = (version_id, version_id)
                return version_id, version_id
        raise DeployError(f"{key[2]}: {CANDIDATES} versions of this content failed to build; fix the build and "
                          "change the step (any change gives it new version ids)", 1)

    def adopt_step_version(self, upload: StepUpload, version: str, log: Log) -> None:
        self._wait_for_build(upload.key, version, log)

    def _get_version(self, key: StepKey, version: str) -> Any:
        request = self.pb.GetPipelineStepVersionRequest(user_app_id=self._ids(key[0], key[1]), pipeline_step_id=key[2],
                                                        pipeline_step_version_id=version)
        return self._call("GetPipelineStepVersion", request)

    def pin_problem(self, key: StepKey, version: str, digest: str | None) -> str | None:
        """Why the pinned step ``version`` cannot be reused for the content ``digest`` (None: it can): it is not
        ready on the platform, or the content hash its description records is not ``digest`` (a lockfile whose
        ``id`` and ``hash`` come from two versions, as a bad merge leaves it). A version pipeline-ci did not create
        records no hash: being ready is all that can be checked."""
        response = self._get_version(key, version)
        if (response.status.code != self.codes.SUCCESS
                or response.pipeline_step_version.status.code != self.codes.PIPELINE_STEP_READY):
            return f"is not on {self.name}"
        recorded = recorded_hash(response.pipeline_step_version.description)
        if digest is not None and recorded is not None and recorded != digest:
            return "holds other content than the lockfile's hash"
        return None

    def _ensure_step(self, upload: StepUpload, log: Log) -> None:
        user, app, sid = upload.key
        ids = self._ids(user, app)
        if self._step_exists(ids, sid):
            return
        step = self.res.PipelineStep(id=sid, user_id=user)
        vis = visibility_value((upload.config.get("pipeline_step") or {}).get("visibility"))
        if vis is not None:
            step.visibility.gettable = vis
        response = self._call("PostPipelineSteps", self.pb.PostPipelineStepsRequest(user_app_id=ids,
                                                                                    pipeline_steps=[step]))
        if response.status.code != self.codes.SUCCESS and not self._step_exists(ids, sid):  # lost a race: fine
            raise DeployError(f"{sid}: cannot create the pipeline step: {response.status.description}")
        log(f"{sid}: created pipeline step")
        crashpoints.reached("step-created")

    def _version_message(self, upload: StepUpload, version_id: str) -> Any:
        from google.protobuf import json_format

        config = upload.config
        params = [
            self.res.PipelineStepInputParam(
                name=str(p.get("name")),
                default_value=str(p.get("default", "")),
                description=str(p.get("description", "")),
                accepted_values=[str(v) for v in p.get("accepted_values") or []],
            )
            for p in config.get("pipeline_step_input_params") or [] if isinstance(p, dict)
        ]
        compute = dict(config.get("pipeline_step_compute_info") or {})
        if isinstance(compute.get("cpu_limit"), int):
            compute["cpu_limit"] = str(compute["cpu_limit"])
        version = self.res.PipelineStepVersion(id=version_id, description=step_description(str(upload.change.digest)),
                                               pipeline_step_input_params=params)
        try:
            json_format.ParseDict(compute, version.pipeline_step_compute_info)
        except json_format.ParseError as exc:
            raise DeployError(f"{upload.key[2]}: pipeline_step_compute_info: {exc}", exit_code=2) from None
        vis = visibility_value((config.get("pipeline_step") or {}).get("visibility"))
        if vis is not None:
            version.visibility.gettable = vis
        return version

    def upload_step(self, upload: StepUpload, log: Log) -> str:
        user, app, sid = upload.key
        python = str((upload.config.get("build_info") or {}).get("python_version", "3.12"))
        packed = archive.build(upload.step.path, upload.files, expected_digest=upload.change.digest,
                               python_version=python, platform_files=True, entry=upload.step.entry)  # before any call
        self._ensure_step(upload, log)
        for name in packed.generated:
            log(f"{sid}: generated {name} into the upload archive (your folder is not changed)")
        digest = str(upload.change.digest)
        version_id = self._probe(upload.key, digest)[1]
        self._probed.pop((upload.key, digest), None)  # the platform is about to change
        config = self.pb.PostPipelineStepVersionsUploadConfig(
            user_app_id=self._ids(user, app), pipeline_step_id=sid,
            pipeline_step_version=self._version_message(upload, version_id),
            total_size=len(packed.data), storage_request_size=packed.uncompressed_size)

        def requests() -> Iterator[Any]:
            yield self.pb.PostPipelineStepVersionsUploadRequest(upload_config=config)
            for part, start in enumerate(range(0, len(packed.data), CHUNK), start=1):
                yield self.pb.PostPipelineStepVersionsUploadRequest(content_part=self.res.UploadContentPart(
                    data=packed.data[start:start + CHUNK], part_number=part, range_start=start))

        def attempt() -> list[Any]:
            existing = self._get_version(upload.key, version_id)  # a lost response may have created it
            if existing.status.code == self.codes.SUCCESS:
                log(f"{sid}: version {version_id} already received; not uploading it again")
                return []
            return self.client.stream("PostPipelineStepVersionsUpload", requests, retry=False)

        log(f"{sid}: uploading {len(packed.data)} bytes as version {version_id}")
        progress.update(sid, f"uploading {len(packed.data)} bytes")
        responses = self._retry_upload(attempt, sid)
        if responses:
            last = responses[-1]
            if last.status.code != self.codes.PIPELINE_STEP_BUILDING:
                if not self._same_content(upload.key, version_id, digest):
                    raise DeployError(f"{sid}: upload failed: {last.status.description} ({last.status.code})", 1)
                log(f"{sid}: version {version_id} of the same content was just created by another upload; using it")
            else:
                version_id = last.pipeline_step_version_id or version_id
        crashpoints.reached("step-upload-sent")
        self._wait_for_build(upload.key, version_id, log)
        return version_id

    def _same_content(self, key: StepKey, version_id: str, digest: str) -> bool:
        """Does ``version_id`` exist, ready or building, with content ``digest`` (another upload won the race)?"""
        response = self._get_version(key, version_id)
        version = response.pipeline_step_version
        return response.status.code == self.codes.SUCCESS and self._holds(version, digest)

    def _holds(self, version: Any, digest: str) -> bool:
        """Whether step ``version`` is usable (ready or building) and holds the content ``digest``."""
        return recorded_hash(version.description) == digest and version.status.code in self._usable

    def _retry_upload(self, attempt: Any, sid: str) -> list[Any]:
        from ...retry import RetryableError, call_with_retries

        try:
            return cast("list[Any]", call_with_retries(attempt, attempts=self.client.attempts,
                                                       backoff=self.client.backoff, sleep=self.client.sleep))
        except RetryableError as exc:
            raise DeployError(f"{sid}: upload failed after retries: {exc}") from None
        except ApiError as exc:
            raise DeployError(exc.message, exc.exit_code) from None

    def _wait_for_build(self, key: StepKey, version: str, log: Log) -> None:
        deadline = time.monotonic() + self.build_timeout
        seen: set[str] = set()
        lines: list[str] = []
        page = 1
        delays = self.poll.delays()
        while True:
            response = self._get_version(key, version)
            code = (response.pipeline_step_version.status.code if response.status.code == self.codes.SUCCESS
                    else None)
            page = self._builder_logs(key, version, page, seen, lines, log)
            if code == self.codes.PIPELINE_STEP_READY:
                log(f"{key[2]}: version {version} is ready (waited "
                    f"{time.monotonic() - deadline + self.build_timeout:.1f}s)")
                return
            if code in self.codes.BUILD_FAILED:
                self._builder_logs(key, version, page, seen, lines, log)
                raise DeployError(f"{key[2]}: build of version {version} failed "
                                  f"({response.pipeline_step_version.status.description})", 1, lines[-50:])
            if time.monotonic() > deadline:
                raise DeployError(f"{key[2]}: build of version {version} did not finish within "
                                  f"{self.build_timeout:.0f}s", 4, lines[-50:])
            progress.update(key[2], "building")  # a live line, or a line every 15 s
            self.client.sleep(next(delays))

    def _builder_logs(self, key: StepKey, version: str, page: int, seen: set[str], lines: list[str], log: Log) -> int:
        """Print the new builder log lines: every full page (at most :data:`LOG_PAGES` per call) and the partial
        one; returns the page to ask for next time. Logs are best effort: an error ends this read."""
        for _ in range(LOG_PAGES):
            request = self.pb.ListLogEntriesRequest(log_type="builder", user_app_id=self._ids(key[0], key[1]),
                                                    pipeline_step_id=key[2], pipeline_step_version_id=version,
                                                    page=page, per_page=LOG_PER_PAGE)
            try:
                response = self.client.call("ListLogEntries", request)
            except ApiError:
                return page
            entries = list(response.log_entries) if response.status.code == self.codes.SUCCESS else []
            for index, entry in enumerate(entries):
                ident = entry.url or f"{page}:{index}:{entry.message}"
                if ident in seen:
                    continue
                seen.add(ident)
                for line in entry.message.strip().splitlines():
                    lines.append(line)
                    log(f"  [build {key[2]}] {line}")
            if len(entries) < LOG_PER_PAGE:
                return page
            page += 1
        return page

    def verify_pipeline_version(self, pipeline: dict[str, Any], version: str, resolved_spec: Any) -> bool:
        """The version exists and holds this content: its recorded hash when pipeline-ci created it, else its spec."""
        request = self.pb.GetPipelineVersionRequest(user_app_id=self._ids(str(pipeline.get("user_id")),
                                                                          str(pipeline.get("app_id"))),
                                                    pipeline_id=str(pipeline.get("id")), pipeline_version_id=version)
        response = self._call("GetPipelineVersion", request)
        if response.status.code != self.codes.SUCCESS:
            return False
        recorded = _recorded_pipeline_hash(response.pipeline_version)
        if recorded is not None:
            return recorded == lockfiles.pipeline_hash(pipeline, resolved_spec)
        try:  # created by the SDK: compare the spec
            spec = json.loads(response.pipeline_version.orchestration_spec.argo_orchestration_spec.spec_json)
        except ValueError:
            return False
        return lockfiles.canonical(spec) == lockfiles.canonical(resolved_spec)

    def find_pipeline_version(self, pipeline: dict[str, Any], resolved_spec: Any) -> str | None:
        """The oldest version whose metadata records this content's hash (racing uploads converge on it)."""
        digest = lockfiles.pipeline_hash(pipeline, resolved_spec)
        matches = []
        for page in range(1, LIST_PAGES + 1):
            request = self.pb.ListPipelineVersionsRequest(user_app_id=self._ids(str(pipeline.get("user_id")),
                                                                                str(pipeline.get("app_id"))),
                                                          pipeline_id=str(pipeline.get("id")), page=page,
                                                          per_page=LIST_PER_PAGE)
            response = self._call("ListPipelineVersions", request)
            if response.status.code != self.codes.SUCCESS:
                break  # no such pipeline yet
            versions = list(response.pipeline_versions)
            for version in versions:
                if _recorded_pipeline_hash(version) == digest:
                    matches.append((version.created_at.ToNanoseconds(), str(version.id)))
            if len(versions) < LIST_PER_PAGE:
                break
        return min(matches)[1] if matches else None

    def create_pipeline_version(self, pipeline: dict[str, Any], resolved_spec: Any, log: Log) -> str:
        from google.protobuf import struct_pb2

        user, app = str(pipeline.get("user_id")), str(pipeline.get("app_id"))
        version = self.res.PipelineVersion()
        digest = lockfiles.pipeline_hash(pipeline, resolved_spec)
        version.description = f"Pipeline version (pipeline-ci; content md5 {digest})"
        version.metadata.update({METADATA_KEY: {"hash": digest}})
        version.orchestration_spec.argo_orchestration_spec.api_version = str(resolved_spec.get("apiVersion", ""))
        version.orchestration_spec.argo_orchestration_spec.spec_json = json.dumps(resolved_spec)
        secrets = (pipeline.get("config") or {}).get("step_version_secrets") or {}
        for step_name, values in secrets.items():
            if values:
                struct = struct_pb2.Struct()
                struct.update({k: str(v) for k, v in values.items() if v})
                version.config.step_version_secrets[str(step_name)].CopyFrom(struct)
        item = self.res.Pipeline(id=str(pipeline.get("id")), user_id=user, app_id=app, pipeline_version=version)
        vis = visibility_value(pipeline.get("visibility"))
        if vis is not None:
            item.visibility.gettable = vis
            item.pipeline_version.visibility.gettable = vis
        response = self._call("PostPipelines", self.pb.PostPipelinesRequest(user_app_id=self._ids(user, app),
                                                                             pipelines=[item]))
        if response.status.code != self.codes.SUCCESS or not response.pipelines:
            raise DeployError(f"cannot create a pipeline version: {response.status.description} "
                              f"{response.status.details}".strip())
        version_id = response.pipelines[0].pipeline_version.id
        log(f"created pipeline version {version_id}")
        oldest = self.find_pipeline_version(pipeline, resolved_spec)
        if oldest and oldest != version_id:  # another upload of the same content created one at the same time
            log(f"pipeline version {oldest} has the same content and is older; pinning it")
            return oldest
        return str(version_id)
