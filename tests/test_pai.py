"""PAIFlow: ACS3 signing vectors (Alibaba Cloud's "V3 request structure and signature"), the client against the
emulator, statuses, arguments."""

from __future__ import annotations

import hashlib
import json
import logging

import pytest
import requests
import yaml

from pipeline_ci.platforms.pai import client as client_module
from pipeline_ci.platforms.pai import signing
from pipeline_ci.platforms.pai.arguments import build_arguments
from pipeline_ci.platforms.pai.client import PaiClient, PaiError, endpoint_for
from pipeline_ci.platforms.pai.status import STATUS_OUTCOMES, is_terminal, outcome
from pipeline_ci.retry import Backoff
from pipeline_ci.testing.pai_emulator import PaiEmulator

KEY_ID, SECRET, TOKEN = "test-key-id", "s3cr3t-K3Y-value-xyz", "sts-T0KEN-value-abc"
WORKSPACE = "12345"

# ---------------------------------------------------------------------- V3 signature vectors

EX_KEY_ID, EX_SECRET = "EXAMPLEACCESSKEYID", "EXAMPLEACCESSKEYSECRET"
EX_HOST = "paiflow.cn-hangzhou.aliyuncs.com"
EX_DATE, EX_NONCE = "2026-01-02T03:04:05Z", "6a1f0e3c9b2d4c7e8f0a1b2c3d4e5f60"
EMPTY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _example_headers(action: str) -> dict[str, str]:
    return {"host": EX_HOST, "x-acs-action": action, "x-acs-version": "2021-02-02", "x-acs-date": EX_DATE,
            "x-acs-signature-nonce": EX_NONCE, "accept": "application/json"}


EX1 = {
    "parts": signing.RequestParts("GET", "/api/v1/pipelineruns/flow-abc123", {"ManifestType": "Raw", "Verbose": "True"},
                                  _example_headers("GetPipelineRun"), b""),
    "canonical": (
        "GET\n"
        "/api/v1/pipelineruns/flow-abc123\n"
        "ManifestType=Raw&Verbose=True\n"
        "host:paiflow.cn-hangzhou.aliyuncs.com\n"
        "x-acs-action:GetPipelineRun\n"
        f"x-acs-content-sha256:{EMPTY_HASH}\n"
        "x-acs-date:2026-01-02T03:04:05Z\n"
        "x-acs-signature-nonce:6a1f0e3c9b2d4c7e8f0a1b2c3d4e5f60\n"
        "x-acs-version:2021-02-02\n"
        "\n"
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n"
        f"{EMPTY_HASH}"
    ),
    "payload_hash": EMPTY_HASH,
    "canonical_hash": "cf7c8c7f965b573678c6d314dc0897ca334bc210fe0afe942e75a602711f3e84",
    "signature": "19da27e231875987d59d5851799a4262c109a904f9a911c4658cc7bf97fea711",
    "authorization": "ACS3-HMAC-SHA256 Credential=EXAMPLEACCESSKEYID,SignedHeaders=host;x-acs-action;"
                     "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
                     "Signature=19da27e231875987d59d5851799a4262c109a904f9a911c4658cc7bf97fea711",
}
EX2_BODY = b'{"WorkspaceId":"12345","PipelineId":"pipeline-abc","Name":"ci demo #1","NoConfirmRequired":true}'
EX2_HASH = "cc704f07b77c975b0272e9710c4e2b6a7551f9f73d547d8441c24c0e782b8053"
EX2 = {
    "parts": signing.RequestParts("POST", "/api/v1/pipelineruns", {},
                                  {**_example_headers("CreatePipelineRun"),
                                   "content-type": "application/json; charset=utf-8"}, EX2_BODY),
    "canonical": (
        "POST\n"
        "/api/v1/pipelineruns\n"
        "\n"
        "content-type:application/json; charset=utf-8\n"
        "host:paiflow.cn-hangzhou.aliyuncs.com\n"
        "x-acs-action:CreatePipelineRun\n"
        f"x-acs-content-sha256:{EX2_HASH}\n"
        "x-acs-date:2026-01-02T03:04:05Z\n"
        "x-acs-signature-nonce:6a1f0e3c9b2d4c7e8f0a1b2c3d4e5f60\n"
        "x-acs-version:2021-02-02\n"
        "\n"
        "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n"
        f"{EX2_HASH}"
    ),
    "payload_hash": EX2_HASH,
    "canonical_hash": "7f077a68ba7598524dd6da903cb9229f5a6e009d178830332cba168bc4aa3a26",
    "signature": "510146b432e3d118fecc739dc00d8a3abde23111de97de3b3bc4575d651d28fb",
    "authorization": "ACS3-HMAC-SHA256 Credential=EXAMPLEACCESSKEYID,SignedHeaders=content-type;host;x-acs-action;"
                     "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
                     "Signature=510146b432e3d118fecc739dc00d8a3abde23111de97de3b3bc4575d651d28fb",
}
EXAMPLES = pytest.mark.parametrize("example", [EX1, EX2], ids=["GetPipelineRun", "CreatePipelineRun"])


@EXAMPLES
def test_signing_reproduces_the_worked_examples(example):
    parts = example["parts"]
    assert signing.hashed_payload(parts.body) == example["payload_hash"]
    headers = {**parts.headers, "x-acs-content-sha256": example["payload_hash"]}
    names = signing.signed_header_names(headers)
    canonical = signing.canonical_request(signing.RequestParts(parts.method, parts.path, parts.query, headers,
                                                               parts.body), names)
    assert canonical == example["canonical"]
    assert hashlib.sha256(canonical.encode()).hexdigest() == example["canonical_hash"]
    to_sign = signing.string_to_sign(canonical)
    assert to_sign == f"ACS3-HMAC-SHA256\n{example['canonical_hash']}"
    assert signing.signature(EX_SECRET, to_sign) == example["signature"]
    signed = signing.sign(parts, EX_KEY_ID, EX_SECRET)
    assert signed["authorization"] == example["authorization"]
    assert signed["x-acs-content-sha256"] == example["payload_hash"]
    assert signed["accept"] == "application/json"  # sent, not signed


def test_example_body_is_the_96_bytes_given():
    assert len(EX2_BODY) == 96


def test_query_values_are_percent_encoded_rfc3986():
    assert signing.canonical_query_string({"Name": "ci run*1"}) == "Name=ci%20run%2A1"
    assert signing.canonical_query_string({"b": "", "a": "x~y-_.+/"}) == "a=x~y-_.%2B%2F&b="


def _fake_session(answer: dict, calls: list, status: int = 200, content_type: str = "application/json"):
    class Session:
        def request(self, method, url, data=None, headers=None, timeout=None, allow_redirects=True):
            calls.append({"method": method, "url": url, "data": data, "headers": headers})
            response = requests.Response()
            response.status_code = status
            response.headers["content-type"] = content_type
            response._content = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            return response

        def close(self):
            pass

    return Session()


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setattr(client_module, "_utc_timestamp", lambda: EX_DATE)
    monkeypatch.setattr(client_module, "_new_nonce", lambda: EX_NONCE)


def test_client_sends_example_1_byte_for_byte(fixed_clock):
    calls: list = []
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": EX_KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": EX_SECRET}
    client = PaiClient.from_env(env, region="cn-hangzhou", session=_fake_session({"Status": "Running"}, calls))
    assert client.get_pipeline_run("flow-abc123", verbose=True, manifest_type="Raw")["Status"] == "Running"
    (call,) = calls
    assert call["method"] == "GET" and call["data"] is None
    assert call["url"] == f"https://{EX_HOST}/api/v1/pipelineruns/flow-abc123?ManifestType=Raw&Verbose=True"
    assert call["headers"]["authorization"] == EX1["authorization"]
    assert call["headers"]["x-acs-action"] == "GetPipelineRun" and call["headers"]["host"] == EX_HOST


def test_client_sends_example_2_byte_for_byte(fixed_clock):
    calls: list = []
    client = PaiClient(f"https://{EX_HOST}", EX_KEY_ID, EX_SECRET,
                       session=_fake_session({"PipelineRunId": "flow-1"}, calls))
    assert client.create_pipeline_run("ci demo #1", "12345", pipeline_id="pipeline-abc") == "flow-1"
    (call,) = calls
    assert (call["method"], call["url"], call["data"]) == ("POST", f"https://{EX_HOST}/api/v1/pipelineruns", EX2_BODY)
    assert call["headers"]["content-type"] == "application/json; charset=utf-8"
    assert call["headers"]["authorization"] == EX2["authorization"]


# ----------------------------------------------------------------------------- verify

@EXAMPLES
def test_verify_accepts_the_examples(example):
    signed = signing.sign(example["parts"], EX_KEY_ID, EX_SECRET)
    parts = signing.RequestParts(example["parts"].method, example["parts"].path, example["parts"].query, signed,
                                 example["parts"].body)
    assert signing.verify(parts, {EX_KEY_ID: EX_SECRET}.get) == EX_KEY_ID


@pytest.mark.parametrize("tamper, code", [
    (lambda p, h: (p, h, "WRONG"), "SignatureDoesNotMatch"),
    (lambda p, h: (signing.RequestParts(p.method, p.path, p.query, h, p.body + b" "), h, EX_SECRET),
     "SignatureDoesNotMatch"),
    (lambda p, h: (signing.RequestParts(p.method, "/api/v1/pipelineruns/other", p.query, h, p.body), h, EX_SECRET),
     "SignatureDoesNotMatch"),
    (lambda p, h: (p, {**h, "x-acs-extra": "1"}, EX_SECRET), "IncompleteSignature"),
    (lambda p, h: (p, {k: v for k, v in h.items() if k != "authorization"}, EX_SECRET), "IncompleteSignature"),
    (lambda p, h: (p, {**h, "authorization": h["authorization"].replace(EX_KEY_ID, "NOPE")}, EX_SECRET),
     "InvalidAccessKeyId.NotFound"),
])
def test_verify_rejects(tamper, code):
    headers = signing.sign(EX2["parts"], EX_KEY_ID, EX_SECRET)
    parts, headers, secret = tamper(EX2["parts"], headers)
    parts = signing.RequestParts(parts.method, parts.path, parts.query, headers, parts.body)
    with pytest.raises(signing.SignatureError) as info:
        signing.verify(parts, {EX_KEY_ID: secret}.get)
    assert info.value.code == code
    assert EX_SECRET not in str(info.value)


def test_security_token_is_signed():
    headers = signing.sign(EX1["parts"], EX_KEY_ID, EX_SECRET, security_token="tok")
    assert headers["x-acs-security-token"] == "tok" and headers["x-acs-accesskey-id"] == EX_KEY_ID
    assert "x-acs-security-token" in headers["authorization"] and "x-acs-accesskey-id" in headers["authorization"]
    assert headers["authorization"] != EX1["authorization"]


# ----------------------------------------------------------------------------- status and arguments

@pytest.mark.parametrize("status, expected", [
    ("Succeeded", "success"), ("Failed", "failure"), ("Skipped", "failure"), ("Terminated", "cancelled"),
    ("Suspended", "paused"), ("Initialized", "running"), ("Running", "running"), ("Terminating", "running"),
    ("ReadyToSchedule", "running"), ("Starting", "running"), ("WorkflowServiceStarting", "running"),
    ("Unknown", "unknown"), ("SomethingNew", "unknown"), ("", "unknown"), (None, "unknown"), ("succeeded", "success"),
])
def test_status_outcomes(status, expected):
    assert outcome(status) == expected
    assert is_terminal(expected) == (expected in ("success", "failure", "cancelled"))


def test_skipped_can_be_made_a_pass():
    assert outcome("Skipped", skipped_is_success=True) == "success"
    assert set(STATUS_OUTCOMES.values()) == {"success", "failure", "cancelled", "paused", "running"}


def test_arguments_string():
    text = build_arguments({"threshold": 0.5, "execution": {"endpoint": "http://svc", "odpsProject": "proj"},
                            "enabled": True, "epochs": 3, "label": "yes", "layers": [1, 2]},
                           {"inputTable": {"location": {"project": "p", "table": "t"}}})
    data = json.loads(text)
    assert yaml.safe_load(text) == data  # JSON that reads the same as YAML
    assert data == {"arguments": {
        "parameters": [{"name": "threshold", "value": 0.5},
                       {"name": "execution", "value": {"endpoint": "http://svc", "odpsProject": "proj"}},
                       {"name": "enabled", "value": True}, {"name": "epochs", "value": 3},
                       {"name": "label", "value": "yes"}, {"name": "layers", "value": [1, 2]}],
        "artifacts": [{"name": "inputTable", "value": '{"location":{"project":"p","table":"t"}}'}]}}
    assert json.loads(build_arguments({})) == {"arguments": {"parameters": []}}


@pytest.mark.parametrize("value", [1e20, float("nan"), object()])
def test_arguments_refuse_ambiguous_values(value):
    with pytest.raises(ValueError):
        build_arguments({"x": value})


# ----------------------------------------------------------------------------- client ↔ emulator

class Recorder:
    """Captures the client's log lines and sleeps (nothing really sleeps)."""

    def __init__(self):
        self.lines: list[str] = []
        self.sleeps: list[float] = []


@pytest.fixture
def emu():
    with PaiEmulator({KEY_ID: SECRET}) as emulator:
        yield emulator


@pytest.fixture
def rec():
    return Recorder()


def make_client(emulator: PaiEmulator, rec: Recorder, secret: str = SECRET, key_id: str = KEY_ID,
                token: str | None = None, **kwargs) -> PaiClient:
    options = {"backoff": Backoff(first=0.25, factor=2, cap=4, jitter=0), "sleep": rec.sleeps.append,
               "log": rec.lines.append, "timeout": 5, **kwargs}
    return PaiClient(emulator.endpoint, key_id, secret, token, **options)


def poll_until_done(client: PaiClient, run_id: str, limit: int = 20) -> list[str]:
    statuses = []
    for _ in range(limit):
        statuses.append(client.get_pipeline_run(run_id)["Status"])
        if is_terminal(outcome(statuses[-1])):
            return statuses
    raise AssertionError(f"not finished: {statuses}")


def actions(emulator: PaiEmulator) -> list[str | None]:
    return [seen.action for seen in emulator.requests_seen]


MANIFEST = """\
apiVersion: core/v1
metadata: {provider: "1234", identifier: demo, version: v1.0.0}
spec:
  inputs:
    parameters: [{name: threshold, type: Double, value: 0.5}]
"""


@pytest.mark.parametrize("source", ["pipeline_id", "manifest"])
def test_full_run(emu, rec, source):
    emu.script_run(statuses=[("Initialized", 1), ("Running", 2), ("Succeeded", 1)],
                   node_logs={"train": [f"epoch {i}" for i in range(5)], "eval": ["auc 0.9"]})
    client = make_client(emu, rec)
    target = {"pipeline_id": "pipeline-abc"} if source == "pipeline_id" else {"manifest": MANIFEST}
    run_id = client.create_pipeline_run("ci-demo-1", WORKSPACE, arguments={"threshold": 0.7}, **target)
    create = emu.requests_seen[-1]
    assert (create.method, create.path, create.headers["x-acs-action"]) == ("POST", "/api/v1/pipelineruns",
                                                                           "CreatePipelineRun")
    assert create.body["NoConfirmRequired"] is True and create.body["WorkspaceId"] == WORKSPACE
    assert ("PipelineId" in create.body) == (source == "pipeline_id")
    assert ("PipelineManifest" in create.body) == (source == "manifest")

    assert poll_until_done(client, run_id) == ["Initialized", "Running", "Running", "Succeeded"]
    run = client.get_pipeline_run(run_id)
    assert json.loads(run["Arguments"]) == {"arguments": {"parameters": [{"name": "threshold", "value": 0.7}]}}
    root = run["NodeId"]
    tree = client.get_pipeline_run_node(run_id, root)
    leaves = {child["Metadata"]["Name"]: child["Metadata"]["NodeId"] for child in tree["Spec"]["Pipelines"]}
    assert set(leaves) == {"train", "eval"}
    statuses = client.list_pipeline_run_node_status(run_id, root)
    assert {s["NodeName"]: s["Status"] for s in statuses if s["NodeId"] != root} == {"train": "Succeeded",
                                                                                    "eval": "Succeeded"}
    lines, offset = [], 0
    while page := client.list_pipeline_run_node_logs(run_id, leaves["train"], offset, 2):
        lines += page
        offset += len(page)
    assert lines == [f"epoch {i}" for i in range(5)]
    assert client.list_pipeline_run_node_logs(run_id, leaves["train"], 0, 2, reverse=True) == ["epoch 4", "epoch 3"]
    logs_request = emu.requests_seen[-1]
    assert logs_request.path == f"/api/v1/pipelineruns/{run_id}/nodes/{leaves['train']}/logs"
    assert logs_request.query == {"Offset": "0", "PageSize": "2", "Reverse": "True"}
    assert rec.sleeps == [] and all(seen.status == 200 for seen in emu.requests_seen)


def test_two_phase_start_terminate_and_root_node(emu, rec):
    emu.script_run(statuses=[("Running", 5)], root_node_after=1)
    client = make_client(emu, rec)
    run_id = client.create_pipeline_run("ci-two-phase", WORKSPACE, pipeline_id="pipeline-abc",
                                        no_confirm_required=False)
    first = client.get_pipeline_run(run_id)
    assert (first["Status"], first["NodeId"]) == ("Initialized", "")
    assert client.get_pipeline_run(run_id)["Status"] == "Initialized"  # waits for StartPipelineRun
    client.start_pipeline_run(run_id)
    assert client.get_pipeline_run(run_id)["Status"] == "Running"
    client.terminate_pipeline_run(run_id)
    assert poll_until_done(client, run_id) == ["Terminating", "Terminated"]
    assert outcome("Terminated") == "cancelled"
    assert [seen.path for seen in emu.requests_seen if seen.method == "PUT"] == [
        f"/api/v1/pipelineruns/{run_id}/start", f"/api/v1/pipelineruns/{run_id}/termination"]


def test_bad_signature_is_rejected_the_pai_way(emu, rec):
    run_id = make_client(emu, rec).create_pipeline_run("ci-sig", WORKSPACE, pipeline_id="pipeline-abc")
    client = make_client(emu, rec, secret="not-the-secret")
    with pytest.raises(PaiError) as info:
        client.get_pipeline_run(run_id)
    assert (info.value.kind, info.value.status, info.value.code) == ("auth", 400, "SignatureDoesNotMatch")
    assert info.value.request_id and rec.sleeps == []  # not retried
    assert emu.requests_seen[-1].status == 400

    # the raw answer: HTTP status + JSON {Code, Message, RequestId}
    raw = requests.get(f"{emu.endpoint}/api/v1/pipelineruns/{run_id}",
                       headers={"authorization": "acs someone:c2lnbmF0dXJl"})  # not an ACS3 signature
    assert raw.status_code == 400 and raw.json()["Code"] == "IncompleteSignature"
    assert {"Code", "Message", "RequestId"} <= set(raw.json())


def test_unknown_access_key(emu, rec):
    with pytest.raises(PaiError) as info:
        make_client(emu, rec, key_id="nobody").list_pipeline_runs(WORKSPACE)
    assert (info.value.kind, info.value.status, info.value.code) == ("auth", 404, "InvalidAccessKeyId.NotFound")


def test_security_token_sent_and_checked(rec):
    with PaiEmulator({KEY_ID: SECRET}, security_tokens={KEY_ID: TOKEN}) as emulator:
        good = make_client(emulator, rec, token=TOKEN)
        run_id = good.create_pipeline_run("ci-sts", WORKSPACE, pipeline_id="pipeline-abc")
        seen = emulator.requests_seen[-1]
        assert seen.headers["x-acs-security-token"] == "<redacted>" and seen.headers["x-acs-accesskey-id"] == KEY_ID
        assert "x-acs-security-token" in seen.headers["authorization"]
        for token, code in ((None, "InvalidSecurityToken.Missing"),
                            ("wrong-token", "InvalidSecurityToken.MismatchWithAccessKey")):
            with pytest.raises(PaiError) as info:
                make_client(emulator, rec, token=token).get_pipeline_run(run_id)
            assert (info.value.kind, info.value.code) == ("auth", code)
        assert TOKEN not in repr(emulator.requests_seen) and TOKEN not in repr(good)


@pytest.mark.parametrize("status", [429, 400])  # PAIFlow's throttling status is [UNCONFIRMED]: both work
def test_throttling_honours_retry_after(emu, rec, status):
    client = make_client(emu, rec)
    run_id = client.create_pipeline_run("ci-throttle", WORKSPACE, pipeline_id="pipeline-abc")
    emu.inject("GetPipelineRun", "throttle", times=2, retry_after_ms=1500, status=status)
    assert client.get_pipeline_run(run_id)["Status"] == "Running"
    assert rec.sleeps == [1.5, 1.5]
    assert [seen.status for seen in emu.requests_seen[-3:]] == [status, status, 200]
    assert "Throttling.User" in rec.lines[0]


def test_5xx_retried_with_backoff_then_given_up(emu, rec):
    client = make_client(emu, rec, attempts=4)
    run_id = client.create_pipeline_run("ci-5xx", WORKSPACE, pipeline_id="pipeline-abc")
    emu.inject("GetPipelineRun", "5xx", times=2)
    assert client.get_pipeline_run(run_id)["Status"] == "Running"
    assert rec.sleeps == [0.25, 0.5]
    emu.inject(f"/api/v1/pipelineruns/{run_id}", "5xx", times=None, status=500)
    with pytest.raises(PaiError) as info:
        client.get_pipeline_run(run_id)
    assert info.value.kind == "unavailable" and "gave up after 4 attempts" in str(info.value)


def test_dropped_connection_and_timeout_retried(emu, rec):
    client = make_client(emu, rec, timeout=0.3)
    run_id = client.create_pipeline_run("ci-drop", WORKSPACE, pipeline_id="pipeline-abc")
    emu.inject("GetPipelineRun", "drop")
    emu.inject("GetPipelineRun", "slow", delay=1.0)
    assert client.get_pipeline_run(run_id)["PipelineRunId"] == run_id
    assert actions(emu)[-3:] == ["GetPipelineRun"] * 3
    assert (emu.requests_seen[-3].status, emu.requests_seen[-1].status) == (None, 200)
    assert len(rec.sleeps) == 2 and "connection failed" in rec.lines[0] and "no answer within 0.3s" in rec.lines[1]
    nonces = [seen.headers["x-acs-signature-nonce"] for seen in emu.requests_seen]
    assert len(set(nonces)) == len(nonces)  # every attempt is signed afresh


def test_client_errors_are_not_retried(emu, rec):
    client = make_client(emu, rec)
    with pytest.raises(PaiError) as info:
        client.get_pipeline_run("flow-missing")
    assert (info.value.kind, info.value.status) == ("api", 404) and rec.sleeps == []
    with pytest.raises(PaiError) as info:
        client.create_pipeline_run("x", WORKSPACE, pipeline_id="p", manifest=MANIFEST)
    assert info.value.kind == "config"


def test_lost_create_response_makes_exactly_one_run(emu, rec):
    client = make_client(emu, rec)
    emu.inject("CreatePipelineRun", "lose_create_response")
    run_id = client.create_run_once("ci-repo-42-1", WORKSPACE, pipeline_id="pipeline-abc")
    assert list(emu.runs) == [run_id]
    assert actions(emu) == ["ListPipelineRuns", "CreatePipelineRun", "ListPipelineRuns"]
    assert any("using it" in line for line in rec.lines)


def test_create_rejected_by_5xx_is_sent_again_once(emu, rec):
    client = make_client(emu, rec)
    emu.inject("CreatePipelineRun", "5xx")  # answered before the run is made
    run_id = client.create_run_once("ci-repo-42-2", WORKSPACE, manifest=MANIFEST)
    assert list(emu.runs) == [run_id]
    assert actions(emu) == ["ListPipelineRuns", "CreatePipelineRun", "ListPipelineRuns", "CreatePipelineRun"]


def test_throttled_create_is_resent_without_lookup(emu, rec):
    client = make_client(emu, rec)
    emu.inject("CreatePipelineRun", "throttle", retry_after_ms=200)
    run_id = client.create_run_once("ci-repo-42-3", WORKSPACE, pipeline_id="pipeline-abc")
    assert list(emu.runs) == [run_id] and rec.sleeps == [0.2]
    assert actions(emu) == ["ListPipelineRuns", "CreatePipelineRun", "CreatePipelineRun"]


def test_create_once_ignores_older_runs_and_fuzzy_name_matches(rec):
    with PaiEmulator({KEY_ID: SECRET}, name_match="fuzzy") as emulator:
        client = make_client(emulator, rec)
        older = client.create_pipeline_run("ci-repo-7", WORKSPACE, pipeline_id="pipeline-abc")
        similar = client.create_pipeline_run("ci-repo-7-retry", WORKSPACE, pipeline_id="pipeline-abc")
        emulator.inject("CreatePipelineRun", "lose_create_response")
        run_id = client.create_run_once("ci-repo-7", WORKSPACE, pipeline_id="pipeline-abc")
        assert run_id not in (older, similar) and len(emulator.runs) == 3
        assert any("will not be adopted" in line for line in rec.lines)


def test_plain_create_does_not_resend_after_a_lost_answer(emu, rec):
    emu.inject("CreatePipelineRun", "lose_create_response")
    with pytest.raises(PaiError) as info:
        make_client(emu, rec).create_pipeline_run("ci-plain", WORKSPACE, pipeline_id="pipeline-abc")
    assert info.value.kind == "unavailable" and "may have been created" in str(info.value)
    assert len(emu.runs) == 1 and actions(emu) == ["CreatePipelineRun"]


def test_secrets_never_leak(emu, rec, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    messages = []
    clients = [make_client(emu, rec, secret="wrong-" + SECRET, token=TOKEN), make_client(emu, rec, token=TOKEN,
                                                                                      attempts=2)]
    emu.inject("*", "5xx", times=None)
    for client in clients:
        messages.append(repr(client))
        for call in (lambda c=client: c.get_pipeline_run("flow-x"),
                     lambda c=client: c.create_run_once("ci-leak", WORKSPACE, pipeline_id="p")):
            with pytest.raises(PaiError) as info:
                call()
            messages += [str(info.value), repr(info.value)]
    emu.clear_faults()
    with pytest.raises(PaiError) as info:
        clients[0].get_pipeline_run("flow-x")  # signature rejected
    messages += [str(info.value), repr(emu), repr(emu.requests_seen)]
    # a server that echoes the secret in its message is scrubbed too
    echo = PaiClient("https://paiflow.cn-hangzhou.aliyuncs.com", KEY_ID, SECRET, TOKEN,
                     session=_fake_session({"Code": "InvalidParameter", "Message": f"bad {SECRET} {TOKEN}",
                                            "RequestId": "r"}, [], status=400))
    with pytest.raises(PaiError) as info:
        echo.get_pipeline_run("flow-x")
    messages.append(str(info.value))
    captured = capsys.readouterr()
    text = "\n".join(messages + rec.lines + [captured.out, captured.err, caplog.text])
    assert rec.lines and SECRET not in text and TOKEN not in text


def test_xml_error_body(rec):
    xml = b"<Error><Code>Forbidden.RAM</Code><Message>denied</Message><RequestId>r-1</RequestId></Error>"
    client = PaiClient("https://paiflow.cn-hangzhou.aliyuncs.com", KEY_ID, SECRET,
                       session=_fake_session(xml, [], status=403, content_type="text/xml;charset=utf-8"))
    with pytest.raises(PaiError) as info:
        client.terminate_pipeline_run("flow-1")
    assert (info.value.kind, info.value.code, info.value.request_id) == ("auth", "Forbidden.RAM", "r-1")
    assert "paiflow:TerminatePipelineRun" in str(info.value)


def test_from_env_endpoint_and_credentials():
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
           "ALIBABA_CLOUD_SECURITY_TOKEN": TOKEN}
    assert PaiClient.from_env(env, region="cn-shanghai").endpoint == "https://paiflow.cn-shanghai.aliyuncs.com"
    assert PaiClient.from_env(env, region="cn-shanghai", endpoint="http://127.0.0.1:9").endpoint == "http://127.0.0.1:9"
    assert PaiClient.from_env(env, endpoint="paiflow-vpc.eu-central-1.aliyuncs.com").host == \
        "paiflow-vpc.eu-central-1.aliyuncs.com"
    assert endpoint_for("cn-beijing", vpc=True) == "https://paiflow-vpc.cn-beijing.aliyuncs.com"
    for kwargs in ({}, {"region": "Not A Region"}, {"endpoint": "https://host/path"}):
        with pytest.raises(PaiError) as info:
            PaiClient.from_env(env, **kwargs)
        assert info.value.kind == "config"
    with pytest.raises(PaiError) as info:
        PaiClient.from_env({"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID}, region="cn-hangzhou")
    assert info.value.kind == "config" and "ALIBABA_CLOUD_ACCESS_KEY_SECRET" in str(info.value)
    client = PaiClient.from_env(env, region="cn-hangzhou")
    assert SECRET not in repr(client) and TOKEN not in repr(client)
