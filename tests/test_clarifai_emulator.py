"""The Clarifai emulator, exercised through the official ``clarifai-grpc`` client stub."""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel  # noqa: E402
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc  # noqa: E402
from clarifai_grpc.grpc.api.status import status_code_pb2 as sc  # noqa: E402

from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator  # noqa: E402

PAT = "test-pat-0123456789"
AUTH = (("authorization", f"Key {PAT}"),)
USER, APP, STEP, PIPELINE = "u1", "a1", "stepA", "hello-pipeline"
UAI = resources_pb2.UserAppIDSet(user_id=USER, app_id=APP)


@pytest.fixture
def emu():
    with ClarifaiEmulator(pats={PAT}, deadline_delay=0.5) as emulator:
        yield emulator


@pytest.fixture
def stub(emu):
    channel = emu.channel()
    yield service_pb2_grpc.V2Stub(channel)
    channel.close()


def step_tarball() -> bytes:
    files = {"config.yaml": b"pipeline_step:\n  id: stepA\n", "1/pipeline_step.py": b"print('hi')\n" * 50}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def upload_messages(data: bytes, version_id: str, chunk: int, gap: int = 0):
    config = service_pb2.PostPipelineStepVersionsUploadConfig(
        user_app_id=UAI,
        pipeline_step_id=STEP,
        pipeline_step_version=resources_pb2.PipelineStepVersion(
            id=version_id,
            description="Pipeline step version",
            pipeline_step_input_params=[resources_pb2.PipelineStepInputParam(name="input_text", default_value="x")],
            pipeline_step_compute_info=resources_pb2.ComputeInfo(cpu_limit="500m", cpu_memory="1Gi"),
        ),
        total_size=len(data),
    )
    yield service_pb2.PostPipelineStepVersionsUploadRequest(upload_config=config)
    for number, start in enumerate(range(0, len(data), chunk), start=1):
        part = resources_pb2.UploadContentPart(data=data[start : start + chunk], part_number=number)
        part.range_start = start + (gap if number > 1 else 0)
        yield service_pb2.PostPipelineStepVersionsUploadRequest(content_part=part)


def ensure_app_and_step(stub) -> None:
    """The SDK's order (``clarifai pipeline upload``): GetApp → PostApps if missing; GetPipelineStep → PostPipelineSteps if missing."""
    if stub.GetApp(service_pb2.GetAppRequest(user_app_id=UAI), metadata=AUTH).status.code != sc.SUCCESS:
        post_apps = service_pb2.PostAppsRequest(user_app_id=UAI, apps=[resources_pb2.App(id=APP)])
        assert stub.PostApps(post_apps, metadata=AUTH).status.code == sc.SUCCESS
    get_step = service_pb2.GetPipelineStepRequest(user_app_id=UAI, pipeline_step_id=STEP)
    if stub.GetPipelineStep(get_step, metadata=AUTH).status.code == sc.PIPELINE_STEP_DOES_NOT_EXIST:
        steps = [resources_pb2.PipelineStep(id=STEP, user_id=USER)]
        post_steps = service_pb2.PostPipelineStepsRequest(user_app_id=UAI, pipeline_steps=steps)
        assert stub.PostPipelineSteps(post_steps, metadata=AUTH).status.code == sc.SUCCESS


def upload(stub, version_id: str = "v0001", chunk: int | None = None, gap: int = 0) -> list:
    data = step_tarball()
    messages = upload_messages(data, version_id, chunk or len(data) // 2 + 1, gap)
    return list(stub.PostPipelineStepVersionsUpload(messages, metadata=AUTH))


def get_step_version(stub, version_id: str):
    request = service_pb2.GetPipelineStepVersionRequest(
        user_app_id=UAI, pipeline_step_id=STEP, pipeline_step_version_id=version_id
    )
    return stub.GetPipelineStepVersion(request, metadata=AUTH)


def ready_step_version(stub, version_id: str = "v0001") -> str:
    ensure_app_and_step(stub)
    assert upload(stub, version_id)[-1].status.code == sc.PIPELINE_STEP_BUILDING
    while get_step_version(stub, version_id).pipeline_step_version.status.code == sc.PIPELINE_STEP_BUILDING:
        pass
    return version_id


def spec_json(*refs: str) -> str:
    steps = [[{"name": f"step-{i}", "templateRef": {"name": ref, "template": ref}}] for i, ref in enumerate(refs)]
    spec = {"entrypoint": "sequence", "templates": [{"name": "sequence", "steps": steps}]}
    return json.dumps({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "spec": spec})


def post_pipeline(stub, *refs: str):
    version = resources_pb2.PipelineVersion(
        orchestration_spec=resources_pb2.OrchestrationSpec(
            argo_orchestration_spec=resources_pb2.ArgoOrchestrationSpec(
                api_version="argoproj.io/v1alpha1", spec_json=spec_json(*refs)
            )
        ),
        visibility=resources_pb2.Visibility(gettable=resources_pb2.Visibility.PUBLIC),
    )
    version.config.step_version_secrets["step-0"].update({"API_KEY": "users/u1/secrets/my-api-key"})
    pipeline = resources_pb2.Pipeline(id=PIPELINE, user_id=USER, app_id=APP, pipeline_version=version)
    return stub.PostPipelines(service_pb2.PostPipelinesRequest(user_app_id=UAI, pipelines=[pipeline]), metadata=AUTH)


def ref(version_id: str | None = None, user: str = USER) -> str:
    base = f"users/{user}/apps/{APP}/pipeline_steps/{STEP}"
    return f"{base}/versions/{version_id}" if version_id else base


def pipeline_version(stub) -> str:
    response = post_pipeline(stub, ref(ready_step_version(stub)))
    assert response.status.code == sc.SUCCESS
    return response.pipelines[0].pipeline_version.id


def start_run(stub, version_id: str, run_id: str):
    run = resources_pb2.PipelineVersionRun(id=run_id)
    run.input_args_override.argo_args_override.parameters.add(name="input_text", value="hello")
    request = service_pb2.PostPipelineVersionRunsRequest(
        user_app_id=UAI, pipeline_id=PIPELINE, pipeline_version_id=version_id, pipeline_version_runs=[run]
    )
    return stub.PostPipelineVersionRuns(request, metadata=AUTH)


def get_run(stub, version_id: str, run_id: str, **kwargs):
    request = service_pb2.GetPipelineVersionRunRequest(
        user_app_id=UAI, pipeline_id=PIPELINE, pipeline_version_id=version_id, pipeline_version_run_id=run_id
    )
    return stub.GetPipelineVersionRun(request, metadata=AUTH, **kwargs)


def run_code(stub, version_id: str, run_id: str) -> int:
    return get_run(stub, version_id, run_id).pipeline_version_run.orchestration_status.status.code


def patch_run(stub, version_id: str, run_id: str, code: int):
    run = resources_pb2.PipelineVersionRun(id=run_id)
    run.orchestration_status.status.code = code
    request = service_pb2.PatchPipelineVersionRunsRequest(
        user_app_id=UAI, pipeline_id=PIPELINE, pipeline_version_id=version_id,
        pipeline_version_runs=[run], action="overwrite",
    )  # fmt: skip
    return stub.PatchPipelineVersionRuns(request, metadata=AUTH)


def run_logs(stub, version_id: str, run_id: str, page: int):
    request = service_pb2.ListLogEntriesRequest(
        user_app_id=UAI, pipeline_id=PIPELINE, pipeline_version_id=version_id, pipeline_version_run_id=run_id,
        log_type="pipeline.version.run", page=page, per_page=50,
    )  # fmt: skip
    return stub.ListLogEntries(request, metadata=AUTH)


# ----------------------------------------------------------------------------- auth


def test_bad_or_missing_pat_is_reported_in_status_and_never_echoed(emu, stub):
    request = service_pb2.GetAppRequest(user_app_id=UAI)
    bad = stub.GetApp(request, metadata=(("authorization", "Key not-a-valid-pat"),))
    missing = stub.GetApp(request)
    assert bad.status.code == sc.CONN_KEY_NOT_FOUND
    assert missing.status.code == sc.CONN_INVALID_REQUEST
    assert "not-a-valid-pat" not in str(bad) and PAT not in repr(emu)
    streamed = list(stub.PostPipelineStepVersionsUpload(iter(upload_messages(step_tarball(), "v", 100))))
    assert [r.status.code for r in streamed] == [sc.CONN_INVALID_REQUEST]
    assert emu.step_versions == []


def test_context_manager_records_calls_in_order():
    with ClarifaiEmulator(pats={PAT}) as emulator:
        emulator.channel().close()  # installs clarifai-grpc's gRPC response deserializer (see channel())
        stub = service_pb2_grpc.V2Stub(grpc.insecure_channel(emulator.address))
        ensure_app_and_step(stub)
        assert [name for name, _ in emulator.calls] == ["GetApp", "PostApps", "GetPipelineStep", "PostPipelineSteps"]
        assert emulator.calls[1][1].apps[0].id == APP


# ----------------------------------------------------------------------------- upload and build


def test_full_upload_sequence_builds_to_ready_with_builder_logs(emu, stub):
    ensure_app_and_step(stub)
    responses = upload(stub, "v0001")
    codes = [r.status.code for r in responses]
    assert codes == [sc.PIPELINE_STEP_UPLOADING] * 3 + [sc.PIPELINE_STEP_BUILDING]
    assert responses[-1].pipeline_step_version_id == "v0001"
    assert [r.bytes_remaining for r in responses[:3]][-1] == 0

    [done] = emu.uploads
    assert (done.step_id, done.version_id, done.parts, done.size) == (STEP, "v0001", 2, len(step_tarball()))
    assert "./1/pipeline_step.py" in done.members

    first, second = get_step_version(stub, "v0001"), get_step_version(stub, "v0001")
    assert first.pipeline_step_version.status.code == sc.PIPELINE_STEP_BUILDING
    version = second.pipeline_step_version
    assert version.status.code == sc.PIPELINE_STEP_READY
    assert version.pipeline_step_compute_info.cpu_limit == "500m"
    assert version.pipeline_step_input_params[0].name == "input_text"

    request = service_pb2.ListLogEntriesRequest(
        user_app_id=UAI, log_type="builder", pipeline_step_id=STEP, pipeline_step_version_id="v0001", per_page=50
    )
    logs = stub.ListLogEntries(request, metadata=AUTH)
    assert logs.status.code == sc.SUCCESS and len(logs.log_entries) >= 2
    assert len({entry.url for entry in logs.log_entries}) == len(logs.log_entries)

    listed = stub.ListPipelineStepVersions(
        service_pb2.ListPipelineStepVersionsRequest(user_app_id=UAI, pipeline_step_id=STEP), metadata=AUTH
    )
    assert [v.id for v in listed.pipeline_step_versions] == ["v0001"]


def test_upload_with_range_gap_or_unknown_step_creates_nothing(emu, stub):
    ensure_app_and_step(stub)
    assert upload(stub, "gap", gap=3)[-1].status.code == sc.PIPELINE_STEP_UPLOADING_FAILED
    other = upload_messages(step_tarball(), "x", 100)
    first = next(other)
    first.upload_config.pipeline_step_id = "nope"
    answer = list(stub.PostPipelineStepVersionsUpload(iter([first, *other]), metadata=AUTH))
    assert answer[-1].status.code == sc.PIPELINE_STEP_DOES_NOT_EXIST
    assert emu.uploads == [] and emu.step_versions == []


def test_scripted_build_failure_reports_logs(emu, stub):
    emu.build_outcome(STEP, sc.PIPELINE_STEP_BUILDING_FAILED, ["ERROR: pip install failed"])
    ensure_app_and_step(stub)
    upload(stub, "bad")
    codes = [get_step_version(stub, "bad").pipeline_step_version.status.code for _ in range(3)]
    assert codes == [sc.PIPELINE_STEP_BUILDING, sc.PIPELINE_STEP_BUILDING_FAILED, sc.PIPELINE_STEP_BUILDING_FAILED]
    request = service_pb2.ListLogEntriesRequest(
        user_app_id=UAI, log_type="builder", pipeline_step_id=STEP, pipeline_step_version_id="bad"
    )
    messages = [e.message for e in stub.ListLogEntries(request, metadata=AUTH).log_entries]
    assert messages[-1] == "ERROR: pip install failed"
    assert post_pipeline(stub, ref("bad")).status.code == sc.PIPELINE_INVALID_ARGUMENT


# ----------------------------------------------------------------------------- pipelines


def test_post_pipelines_validates_versioned_refs(emu, stub):
    version_id = ready_step_version(stub)
    ok = post_pipeline(stub, ref(version_id), ref(), ref("elsewhere", user="someone-else"))
    assert ok.status.code == sc.SUCCESS
    pv_id = ok.pipelines[0].pipeline_version.id
    assert pv_id and [v.id for v in emu.pipeline_versions] == [pv_id]

    unknown = post_pipeline(stub, ref("no-such-version"))
    assert unknown.status.code == sc.PIPELINE_INVALID_ARGUMENT
    assert "no-such-version" in unknown.status.details
    assert len(emu.pipeline_versions) == 1

    got = stub.GetPipelineVersion(
        service_pb2.GetPipelineVersionRequest(user_app_id=UAI, pipeline_id=PIPELINE, pipeline_version_id=pv_id),
        metadata=AUTH,
    ).pipeline_version
    assert json.loads(got.orchestration_spec.argo_orchestration_spec.spec_json)["kind"] == "Workflow"
    assert dict(got.config.step_version_secrets["step-0"]) == {"API_KEY": "users/u1/secrets/my-api-key"}
    assert got.visibility.gettable == resources_pb2.Visibility.PUBLIC

    again = post_pipeline(stub, ref(version_id)).pipelines[0].pipeline_version.id
    listed = stub.ListPipelineVersions(
        service_pb2.ListPipelineVersionsRequest(user_app_id=UAI, pipeline_id=PIPELINE), metadata=AUTH
    )
    assert [v.id for v in listed.pipeline_versions] == [again, pv_id]


# ----------------------------------------------------------------------------- runs


def test_run_goes_queued_running_completed_with_paged_logs(emu, stub):
    version_id = pipeline_version(stub)
    lines = [f"line {i}" for i in range(60)]
    emu.script_run(logs={sc.JOB_RUNNING: lines, sc.JOB_COMPLETED: ["done"]})
    run_id = uuid.uuid4().hex
    started = start_run(stub, version_id, run_id)
    assert started.status.code == sc.SUCCESS and started.pipeline_version_runs[0].id == run_id

    codes = [run_code(stub, version_id, run_id) for _ in range(5)]
    assert codes == [sc.JOB_QUEUED, sc.JOB_RUNNING, sc.JOB_RUNNING, sc.JOB_COMPLETED, sc.JOB_COMPLETED]

    page1, page2 = run_logs(stub, version_id, run_id, 1), run_logs(stub, version_id, run_id, 2)
    assert len(page1.log_entries) == 50 and page2.page == 2
    entries = [*page1.log_entries, *page2.log_entries]
    assert [e.message for e in entries] == [*lines, "done"]
    urls = [e.url for e in entries]
    assert len(set(urls)) == len(urls) and all(urls)

    history = stub.ListPipelineVersionRunStatusLogs(
        service_pb2.ListPipelineVersionRunStatusLogsRequest(
            user_app_id=UAI, pipeline_id=PIPELINE, pipeline_version_id=version_id, pipeline_version_run_id=run_id
        ),
        metadata=AUTH,
    )
    assert [e.status.code for e in history.pipeline_version_run_status_logs] == [
        sc.JOB_QUEUED, sc.JOB_RUNNING, sc.JOB_COMPLETED,
    ]  # fmt: skip
    run = emu.runs[run_id]
    assert run.input_args_override.argo_args_override.parameters[0].value == "hello"
    assert run.started_at.seconds and run.ended_at.seconds


def test_run_of_unknown_version_is_conn_does_not_exist(emu, stub):
    ready_step_version(stub)
    assert start_run(stub, "no-such-version", "r1").status.code == sc.CONN_DOES_NOT_EXIST
    assert emu.runs == {}


def test_duplicate_run_id_is_idempotent(emu, stub):
    version_id = pipeline_version(stub)
    first = start_run(stub, version_id, "run-1")
    run_code(stub, version_id, "run-1")
    second = start_run(stub, version_id, "run-1")
    assert second.status.code == sc.SUCCESS
    assert second.pipeline_version_runs[0].id == first.pipeline_version_runs[0].id == "run-1"
    assert second.pipeline_version_runs[0].orchestration_status.status.code == sc.JOB_RUNNING
    assert list(emu.runs) == ["run-1"]
    assert get_run(stub, "", "run-1").status.code == sc.SUCCESS  # the SDK may poll without a version id


def test_concurrent_starts_with_repeated_ids_create_each_run_once(emu, stub):
    version_id = pipeline_version(stub)
    run_ids = [f"run-{i}" for i in range(20)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda run_id: start_run(stub, version_id, run_id).status.code, run_ids * 2))
    assert set(codes) == {sc.SUCCESS}
    assert sorted(emu.runs) == sorted(run_ids)


def test_cancel_pause_resume_and_terminal_runs_cannot_be_patched(emu, stub):
    version_id = pipeline_version(stub)
    emu.script_run(statuses=[(sc.JOB_RUNNING, 2), (sc.JOB_COMPLETED, 0)])
    start_run(stub, version_id, "p")
    assert patch_run(stub, version_id, "p", sc.JOB_PAUSED).status.code == sc.SUCCESS
    assert [run_code(stub, version_id, "p") for _ in range(3)] == [sc.JOB_PAUSED] * 3
    assert patch_run(stub, version_id, "p", sc.JOB_RUNNING).status.code == sc.SUCCESS
    assert [run_code(stub, version_id, "p") for _ in range(3)] == [sc.JOB_RUNNING] * 2 + [sc.JOB_COMPLETED]
    assert patch_run(stub, version_id, "p", sc.JOB_CANCELLED).status.code == sc.FAILURE

    start_run(stub, version_id, "c")
    cancelled = patch_run(stub, version_id, "c", sc.JOB_CANCELLED)
    assert cancelled.status.code == sc.SUCCESS
    assert run_code(stub, version_id, "c") == sc.JOB_CANCELLED
    assert patch_run(stub, version_id, "c", sc.JOB_RUNNING).status.code == sc.FAILURE
    assert run_code(stub, version_id, "c") == sc.JOB_CANCELLED


# ----------------------------------------------------------------------------- faults


def test_unavailable_fault_every_other_call(emu, stub):
    emu.add_app(USER, APP)
    emu.inject("GetApp", "unavailable", every=2)
    outcomes = []
    for _ in range(4):
        try:
            outcomes.append(stub.GetApp(service_pb2.GetAppRequest(user_app_id=UAI), metadata=AUTH).status.code)
        except grpc.RpcError as error:
            outcomes.append(error.code())
    unavailable = grpc.StatusCode.UNAVAILABLE
    assert outcomes == [unavailable, sc.SUCCESS, unavailable, sc.SUCCESS]


def test_sdk_channel_retries_unavailable_transparently(emu):
    """ClarifaiChannel's retry policy (UNAVAILABLE, 5 attempts) hides short outages from SDK callers."""
    emu.add_app(USER, APP)
    emu.inject("GetApp", "unavailable", times=2)
    host, port = emu.address.rsplit(":", 1)
    stub = service_pb2_grpc.V2Stub(ClarifaiChannel.get_insecure_grpc_channel(base=host, port=int(port)))
    assert stub.GetApp(service_pb2.GetAppRequest(user_app_id=UAI), metadata=AUTH).status.code == sc.SUCCESS
    assert [name for name, _ in emu.calls] == ["GetApp"] * 3


def test_throttled_and_internal_faults_answer_with_clarifai_status(emu, stub):
    emu.add_app(USER, APP)
    emu.inject("GetApp", "throttled")
    emu.inject("GetPipelineStep", "internal", times=2)
    request = service_pb2.GetAppRequest(user_app_id=UAI)
    assert stub.GetApp(request, metadata=AUTH).status.code == sc.CONN_THROTTLED
    assert stub.GetApp(request, metadata=AUTH).status.code == sc.SUCCESS
    step_request = service_pb2.GetPipelineStepRequest(user_app_id=UAI, pipeline_step_id=STEP)
    codes = [stub.GetPipelineStep(step_request, metadata=AUTH).status.code for _ in range(3)]
    assert codes == [sc.INTERNAL_UNCATEGORIZED, sc.INTERNAL_UNCATEGORIZED, sc.PIPELINE_STEP_DOES_NOT_EXIST]


def test_permission_faults_abort_or_answer_an_auth_status(emu, stub):
    emu.add_app(USER, APP)
    emu.inject("GetApp", "permission_denied")
    request = service_pb2.GetAppRequest(user_app_id=UAI)
    with pytest.raises(grpc.RpcError) as denied:
        stub.GetApp(request, metadata=AUTH)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    emu.inject("GetApp", "insufficient_scopes")
    assert stub.GetApp(request, metadata=AUTH).status.code == sc.CONN_INSUFFICIENT_SCOPES
    assert stub.GetApp(request, metadata=AUTH).status.code == sc.SUCCESS


def test_late_logs_appear_once_the_final_status_was_answered(emu, stub):
    version_id = pipeline_version(stub)
    emu.script_run([(sc.JOB_RUNNING, 1), (sc.JOB_COMPLETED, 1)], logs={sc.JOB_RUNNING: ["early"]},
                   late_logs=["late 1", "late 2"])
    run_id = uuid.uuid4().hex
    start_run(stub, version_id, run_id)
    assert run_code(stub, version_id, run_id) == sc.JOB_RUNNING
    assert [e.message for e in run_logs(stub, version_id, run_id, 1).log_entries] == ["early"]
    assert run_code(stub, version_id, run_id) == sc.JOB_COMPLETED
    assert run_code(stub, version_id, run_id) == sc.JOB_COMPLETED  # answered again: logged once only
    assert [e.message for e in run_logs(stub, version_id, run_id, 1).log_entries] == ["early", "late 1", "late 2"]


def test_broken_upload_stream_leaves_no_version(emu, stub):
    ensure_app_and_step(stub)
    emu.inject("PostPipelineStepVersionsUpload", "break_stream")
    with pytest.raises(grpc.RpcError) as caught:
        upload(stub, "broken")
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert emu.uploads == [] and emu.step_versions == []
    assert get_step_version(stub, "broken").status.code == sc.PIPELINE_STEP_DOES_NOT_EXIST
    assert upload(stub, "broken")[-1].status.code == sc.PIPELINE_STEP_BUILDING  # the retry succeeds


def test_dropped_response_still_created_the_run_and_retry_is_idempotent(emu, stub):
    version_id = pipeline_version(stub)
    emu.inject("PostPipelineVersionRuns", "drop_response")
    with pytest.raises(grpc.RpcError) as caught:
        start_run(stub, version_id, "dropped")
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert list(emu.runs) == ["dropped"]
    retry = start_run(stub, version_id, "dropped")
    assert retry.status.code == sc.SUCCESS and list(emu.runs) == ["dropped"]


def test_deadline_fault_exceeds_client_deadline(emu, stub):
    emu.add_app(USER, APP)
    emu.inject("GetApp", "deadline", delay=0.5)
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetApp(service_pb2.GetAppRequest(user_app_id=UAI), metadata=AUTH, timeout=0.1)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert stub.GetApp(service_pb2.GetAppRequest(user_app_id=UAI), metadata=AUTH, timeout=2).status.code == sc.SUCCESS


def test_inject_rejects_unknown_faults_and_methods(emu):
    with pytest.raises(ValueError):
        emu.inject("GetApp", "explode")
    with pytest.raises(ValueError):
        emu.inject("NoSuchMethod", "unavailable")
    with pytest.raises(ValueError):
        emu.inject("GetApp", "break_stream")
