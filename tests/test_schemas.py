"""Tests of the JSON Schemas in pipeline_ci/schemas (the files the Clarifai SDK, Clarifai/clarifai-python, reads and
writes; https://docs.clarifai.com/compute/pipelines/create-api)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from pipeline_ci import schemas

REPO_ROOT = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------------------------
# Realistic documents (what ``clarifai pipeline init`` scaffolds and ``clarifai pipeline upload`` locks)
# --------------------------------------------------------------------------------------------

SCAFFOLD_ROOT_CONFIG = """\
pipeline:
  id: hello-world-pipeline
  user_id: u1
  app_id: a1
  visibility:
    gettable: PUBLIC
  step_directories:
    - stepA
    - stepB
  orchestration_spec:
    argo_orchestration_spec: |
      apiVersion: argoproj.io/v1alpha1
      kind: Workflow
      spec:
        entrypoint: sequence
        arguments:
          parameters:
            - name: input_text
              value: "Input Text Here"
        templates:
          - name: sequence
            steps:
              - - name: step-0
                  templateRef:
                    name: users/u1/apps/a1/pipeline_steps/stepA
                    template: users/u1/apps/a1/pipeline_steps/stepA
                  arguments:
                    parameters:
                      - name: input_text
                        value: "{{workflow.parameters.input_text}}"
              - - name: step-1
                  templateRef:
                    name: users/u1/apps/a1/pipeline_steps/stepB
                    template: users/u1/apps/a1/pipeline_steps/stepB
                  arguments:
                    parameters:
                      - name: input_text
                        value: "{{workflow.parameters.input_text}}"
  # config:
  #   step_version_secrets:
  #     step-0:
  #       API_KEY: users/u1/secrets/my-api-key
"""

SCAFFOLD_STEP_CONFIG = """\
pipeline_step:
  id: stepA
  user_id: u1
  app_id: a1
  visibility:
    gettable: PRIVATE
pipeline_step_input_params:
  - name: input_text
    description: Text input for processing
build_info:
  python_version: "3.12"
  # platform: linux/amd64
pipeline_step_compute_info:
  cpu_limit: 500m
  cpu_memory: 500Mi
  num_accelerators: 0
"""

STEP_LOCK_EXAMPLE = """\
build_info:
  python_version: '3.12'
hash:
  algo: md5
  value: 8647252bcec7472cfb95b94462dfb074
id: ver0000000000001
pipeline_step:
  app_id: a1
  id: stepA
  user_id: u1
  visibility:
    gettable: PRIVATE
pipeline_step_compute_info:
  cpu_limit: 500m
  cpu_memory: 500Mi
  num_accelerators: 0
pipeline_step_input_params:
- description: Text input for processing
  name: input_text
"""

ROOT_LOCK_EXAMPLE = """\
pipeline:
  id: hello-world-pipeline
  user_id: u1
  app_id: a1
  version_id: pv2
  orchestration_spec:
    argo_orchestration_spec: |
      apiVersion: argoproj.io/v1alpha1
      kind: Workflow
      spec:
        arguments:
          parameters:
          - name: input_text
            value: Input Text Here
        entrypoint: sequence
        templates:
        - name: sequence
          steps:
          - - arguments:
                parameters:
                - name: input_text
                  value: '{{workflow.parameters.input_text}}'
              name: step-0
              templateRef:
                name: users/u1/apps/a1/pipeline_steps/stepA/versions/ver0000000000001
                template: users/u1/apps/a1/pipeline_steps/stepA/versions/ver0000000000001
          - - arguments:
                parameters:
                - name: input_text
                  value: '{{workflow.parameters.input_text}}'
              name: step-1
              templateRef:
                name: users/u1/apps/a1/pipeline_steps/stepB/versions/ver0000000000002
                template: users/u1/apps/a1/pipeline_steps/stepB/versions/ver0000000000002
  config:
    step_version_secrets:
      step-0:
        API_KEY: users/u1/secrets/my-api-key
"""


def load_yaml(text: str):
    return yaml.safe_load(text)


def root_config() -> dict:
    return load_yaml(SCAFFOLD_ROOT_CONFIG)


def step_config() -> dict:
    return load_yaml(SCAFFOLD_STEP_CONFIG)


def step_lock() -> dict:
    return load_yaml(STEP_LOCK_EXAMPLE)


def root_lock() -> dict:
    return load_yaml(ROOT_LOCK_EXAMPLE)


def errors(name: str, doc) -> list:
    return sorted(schemas.validator(name).iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])


def path_of(error) -> str:
    return "/".join(str(p) for p in error.absolute_path)


def summary(errs) -> list[tuple[str, str]]:
    return [(path_of(e), e.validator) for e in errs]


def assert_valid(name: str, doc) -> None:
    errs = errors(name, doc)
    assert not errs, [(path_of(e), e.validator, e.message) for e in errs]


def assert_only_warnings(name: str, doc) -> list:
    """The document fails, but only with additionalProperties (the linter's warning rule)."""
    errs = errors(name, doc)
    assert errs, "expected an additionalProperties failure"
    assert {e.validator for e in errs} == {"additionalProperties"}, summary(errs)
    return errs


def assert_single_error(name: str, doc, path: str, keyword: str):
    errs = errors(name, doc)
    assert summary(errs) == [(path, keyword)], [(path_of(e), e.validator, e.message) for e in errs]
    return errs[0]


def with_compute(**compute) -> dict:
    doc = step_config()
    doc["pipeline_step_compute_info"] = compute
    return doc


def with_param(**param) -> dict:
    doc = step_config()
    doc["pipeline_step_input_params"] = [param]
    return doc


def with_step(**changes) -> dict:
    doc = step_config()
    doc["pipeline_step"].update(changes)
    return doc


def with_pipeline(**changes) -> dict:
    doc = root_config()
    doc["pipeline"].update(changes)
    return doc


# --------------------------------------------------------------------------------------------
# The schemas themselves
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", schemas.NAMES)
def test_schema_is_valid_draft_2020_12(name):
    schema = schemas.load(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://pipeline-ci.dev/schemas/{name}.json" == schemas.uri(name)
    assert schema["title"] and schema["description"]


@pytest.mark.parametrize("name", schemas.NAMES)
def test_schema_files_are_package_data(name):
    res = resources.files("pipeline_ci.schemas").joinpath(f"{name}.json")
    assert res.is_file()
    assert json.loads(res.read_text(encoding="utf-8")) == schemas.load(name)


def _walk(node, pointer=""):
    if isinstance(node, dict):
        yield pointer, node
        for key, value in node.items():
            yield from _walk(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{i}")


@pytest.mark.parametrize("name", schemas.NAMES)
def test_every_property_has_title_and_description(name):
    missing = []
    for pointer, node in _walk(schemas.load(name)):
        if pointer.endswith(("/examples", "/enum", "/const", "/default")) or "/examples/" in pointer:
            continue
        for keyword in ("properties", "patternProperties", "$defs"):
            for key, sub in node.get(keyword, {}).items() if isinstance(node.get(keyword), dict) else ():
                if not (isinstance(sub, dict) and sub.get("title") and sub.get("description")):
                    missing.append(f"{pointer}/{keyword}/{key}")
        items = node.get("items")
        if isinstance(items, dict) and not (items.get("title") and items.get("description")):
            missing.append(f"{pointer}/items")
    assert not missing


@pytest.mark.parametrize("name", schemas.NAMES)
def test_every_ref_resolves_through_the_registry(name):
    schema = schemas.load(name)
    resolver = schemas.registry().resolver(base_uri=schema["$id"])
    refs = [node["$ref"] for _, node in _walk(schema) if isinstance(node.get("$ref"), str)]
    for ref in refs:
        resolved = resolver.lookup(ref).contents
        assert isinstance(resolved, dict) and resolved, ref


def test_cross_schema_refs_are_relative():
    for name in schemas.NAMES:
        for _, node in _walk(schemas.load(name)):
            ref = node.get("$ref")
            if isinstance(ref, str):
                assert not ref.startswith(("http:", "https:")), ref


def test_registry_holds_all_five_schemas():
    reg = schemas.registry()
    for name in schemas.NAMES:
        assert reg.contents(schemas.uri(name)) == schemas.load(name)
    assert schemas.registry() is reg


def test_validators_are_cached_and_have_no_format_checker():
    for name in schemas.NAMES:
        v = schemas.validator(name)
        assert isinstance(v, Draft202012Validator)
        assert v is schemas.validator(name)
        assert v.format_checker is None


def test_unknown_schema_name():
    with pytest.raises(ValueError, match="unknown schema"):
        schemas.load("nope")
    with pytest.raises(ValueError, match="unknown schema"):
        schemas.validator("root-config.json")


def test_import_does_not_import_jsonschema():
    code = (
        "import sys, pipeline_ci.schemas as s; "
        "assert s.load('overrides'); "
        "bad = [m for m in ('jsonschema', 'referencing') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True)


# --------------------------------------------------------------------------------------------
# Realistic valid documents
# --------------------------------------------------------------------------------------------


def test_scaffold_root_config_is_valid():
    assert_valid("root-config", root_config())


def test_scaffold_step_config_is_valid():
    assert_valid("step-config", step_config())


def test_step_lock_example_is_valid():
    assert_valid("step-lock", step_lock())


def test_root_lock_example_is_valid():
    assert_valid("root-lock", root_lock())


def test_root_config_with_every_key_is_valid():
    doc = with_pipeline(
        visibility="private",
        config={
            "step_version_secrets": {"step-0": {"API_KEY": "users/u1/secrets/k", "DB": "users/u1/secrets/d"}}
        },
        compute={"instance": "g5.xlarge", "cloud": "aws", "region": "us-east-1"},
        version_id="pv1",
    )
    assert_valid("root-config", doc)


def test_root_lock_with_compute_and_no_optional_sections():
    doc = root_lock()
    doc["pipeline"]["compute"] = {"instance": "g5.xlarge", "cloud": "aws", "region": "us-east-1"}
    assert_valid("root-lock", doc)
    minimal = {"pipeline": {"id": "p", "user_id": "u", "app_id": "a", "version_id": "v1"}}
    assert_valid("root-lock", minimal)


def test_minimal_step_config_with_empty_compute_is_valid():
    assert_valid(
        "step-config",
        {"pipeline_step": {"id": "s", "user_id": "u", "app_id": "a"}, "pipeline_step_compute_info": {}},
    )


# --------------------------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["stepA", "my-step_1", "5"])
def test_id_accepted_by_sdk(value):
    assert_valid("step-config", with_step(id=value))
    assert_valid("root-config", with_pipeline(id=value))


@pytest.mark.parametrize(
    ("value", "keyword"), [("", "minLength"), (0, "type"), (5, "type"), (None, "type"), (False, "type"), ([], "type")]
)
def test_empty_or_bad_id_fails(value, keyword):
    assert_single_error("step-config", with_step(id=value), "pipeline_step/id", keyword)
    assert_single_error("root-config", with_pipeline(user_id=value), "pipeline/user_id", keyword)


@pytest.mark.parametrize("field", ["id", "user_id", "app_id"])
def test_missing_id_fields(field):
    doc = step_config()
    del doc["pipeline_step"][field]
    assert_single_error("step-config", doc, "pipeline_step", "required")
    doc = root_config()
    del doc["pipeline"][field]
    assert_single_error("root-config", doc, "pipeline", "required")


# --------------------------------------------------------------------------------------------
# Visibility
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "PRIVATE",
        "org",
        " Public ",
        "unknown_visibility",
        "10",
        "0",
        "050",
        " 30 ",
        0,
        10,
        30,
        50,
        None,
        {"gettable": "public"},
        {"gettable": 50},
        {"gettable": "10"},
        {"gettable": " Org\t"},
    ],
)
def test_visibility_accepted(value):
    assert_valid("step-config", with_step(visibility=value))
    assert_valid("root-config", with_pipeline(visibility=value))


@pytest.mark.parametrize(
    ("value", "path", "keyword"),
    [
        (True, "pipeline_step/visibility", "type"),
        (False, "pipeline_step/visibility", "type"),
        (1.5, "pipeline_step/visibility", "type"),
        (["PRIVATE"], "pipeline_step/visibility", "type"),
        (20, "pipeline_step/visibility", "enum"),
        ("20", "pipeline_step/visibility", "pattern"),
        ("secret", "pipeline_step/visibility", "pattern"),
        ("PRIVATE_", "pipeline_step/visibility", "pattern"),
        ({}, "pipeline_step/visibility", "required"),
        ({"gettable": True}, "pipeline_step/visibility/gettable", "type"),
        ({"gettable": None}, "pipeline_step/visibility/gettable", "type"),
        ({"gettable": 40}, "pipeline_step/visibility/gettable", "enum"),
        ({"gettable": "everyone"}, "pipeline_step/visibility/gettable", "pattern"),
    ],
)
def test_visibility_rejected(value, path, keyword):
    assert_single_error("step-config", with_step(visibility=value), path, keyword)


def test_visibility_unknown_key_is_only_a_warning():
    assert_only_warnings("step-config", with_step(visibility={"gettable": "PRIVATE", "listable": True}))


# --------------------------------------------------------------------------------------------
# Root config
# --------------------------------------------------------------------------------------------


def test_root_config_without_pipeline():
    assert_single_error("root-config", {}, "", "required")


def test_root_config_docs_style_top_level_keys():
    doc = {"step_directories": ["stepA"], "orchestration_spec": {"argo_orchestration_spec": "x: 1"}}
    errs = errors("root-config", doc)
    assert sorted(e.validator for e in errs) == ["additionalProperties", "required"]


def test_root_config_pipeline_without_orchestration_spec():
    doc = root_config()
    del doc["pipeline"]["orchestration_spec"]
    assert_single_error("root-config", doc, "pipeline", "required")


def test_argo_orchestration_spec_as_mapping_fails():
    doc = root_config()
    spec = doc["pipeline"]["orchestration_spec"]
    spec["argo_orchestration_spec"] = yaml.safe_load(spec["argo_orchestration_spec"])
    err = assert_single_error(
        "root-config", doc, "pipeline/orchestration_spec/argo_orchestration_spec", "type"
    )
    assert "argo_orchestration_spec" in err.schema.get("errorMessage", "")


@pytest.mark.parametrize(("value", "keyword"), [("", "minLength"), (None, "type"), (["a"], "type")])
def test_argo_orchestration_spec_must_be_non_empty_string(value, keyword):
    doc = with_pipeline(orchestration_spec={"argo_orchestration_spec": value})
    assert_single_error("root-config", doc, "pipeline/orchestration_spec/argo_orchestration_spec", keyword)


def test_orchestration_spec_missing_argo_spec():
    doc = with_pipeline(orchestration_spec={})
    assert_single_error("root-config", doc, "pipeline/orchestration_spec", "required")
    assert_single_error(
        "root-config", with_pipeline(orchestration_spec=None), "pipeline/orchestration_spec", "type"
    )


@pytest.mark.parametrize(
    ("value", "path", "keyword"),
    [
        ("not-a-list", "pipeline/step_directories", "type"),
        (None, "pipeline/step_directories", "type"),
        ({"a": 1}, "pipeline/step_directories", "type"),
        ([""], "pipeline/step_directories/0", "minLength"),
        (["stepA", 3], "pipeline/step_directories/1", "type"),
        (["stepA", None], "pipeline/step_directories/1", "type"),
    ],
)
def test_step_directories_rejected(value, path, keyword):
    assert_single_error("root-config", with_pipeline(step_directories=value), path, keyword)


@pytest.mark.parametrize("value", [[], ["stepA"], ["steps/stepA", "/abs/stepB"]])
def test_step_directories_accepted(value):
    assert_valid("root-config", with_pipeline(step_directories=value))


@pytest.mark.parametrize(
    "secrets",
    [
        None,
        {},
        {"step-0": None},
        {"step-0": {}},
        {
            "step-0": {"API_KEY": "users/u1/secrets/a", "DB_PASSWORD": "users/u1/secrets/b"},
            "step-1": {"EMAIL_TOKEN": "users/u1/secrets/c"},
        },
    ],
)
def test_step_version_secrets_accepted(secrets):
    assert_valid("root-config", with_pipeline(config={"step_version_secrets": secrets}))


@pytest.mark.parametrize(
    ("secrets", "path"),
    [
        ({"step-0": {"API_KEY": 5}}, "pipeline/config/step_version_secrets/step-0/API_KEY"),
        ({"step-0": {"API_KEY": None}}, "pipeline/config/step_version_secrets/step-0/API_KEY"),
        ({"step-0": "users/u1/secrets/a"}, "pipeline/config/step_version_secrets/step-0"),
        ({"step-0": ["users/u1/secrets/a"]}, "pipeline/config/step_version_secrets/step-0"),
        (["step-0"], "pipeline/config/step_version_secrets"),
    ],
)
def test_step_version_secrets_rejected(secrets, path):
    assert_single_error("root-config", with_pipeline(config={"step_version_secrets": secrets}), path, "type")


def test_pipeline_config_must_be_mapping():
    # pipeline_config.get("config", {}).get(...) crashes on null.
    assert_single_error("root-config", with_pipeline(config=None), "pipeline/config", "type")
    assert_only_warnings("root-config", with_pipeline(config={"other": 1}))


def test_compute():
    assert_valid("root-config", with_pipeline(compute={"instance": "g5.xlarge"}))
    assert_valid("root-config", with_pipeline(compute={}))
    assert_single_error(
        "root-config", with_pipeline(compute={"instance": 5}), "pipeline/compute/instance", "type"
    )
    assert_single_error("root-config", with_pipeline(compute="g5.xlarge"), "pipeline/compute", "type")
    assert_only_warnings("root-config", with_pipeline(compute={"instance": "g5.xlarge", "gpu": "a10"}))


def test_version_id_in_root_config():
    assert_valid("root-config", with_pipeline(version_id="pv1"))
    assert_valid("root-config", with_pipeline(version_id=""))
    assert_single_error("root-config", with_pipeline(version_id=12), "pipeline/version_id", "type")


def test_unknown_keys_in_root_config_are_only_warnings():
    doc = root_config()
    doc["metadata"] = {"owner": "me"}
    assert_only_warnings("root-config", doc)
    errs = assert_only_warnings("root-config", with_pipeline(description="x", step_dirs=["stepA"]))
    assert [path_of(e) for e in errs] == ["pipeline"]
    assert_only_warnings(
        "root-config", with_pipeline(orchestration_spec={"argo_orchestration_spec": "a: b", "other": 1})
    )


# --------------------------------------------------------------------------------------------
# Step config
# --------------------------------------------------------------------------------------------


def test_step_config_required_sections():
    doc = step_config()
    del doc["pipeline_step_compute_info"]
    assert_single_error("step-config", doc, "", "required")
    doc = step_config()
    del doc["pipeline_step"]
    assert_single_error("step-config", doc, "", "required")


def test_compute_info_null_fails():
    doc = load_yaml(
        SCAFFOLD_STEP_CONFIG.split("pipeline_step_compute_info:")[0] + "pipeline_step_compute_info:\n"
    )
    assert doc["pipeline_step_compute_info"] is None
    assert_single_error("step-config", doc, "pipeline_step_compute_info", "type")
    doc["pipeline_step_compute_info"] = []
    assert_single_error("step-config", doc, "pipeline_step_compute_info", "type")


@pytest.mark.parametrize(
    ("param", "path", "keyword"),
    [
        ({"name": "n", "default": 5}, "pipeline_step_input_params/0/default", "type"),
        ({"name": "n", "default": True}, "pipeline_step_input_params/0/default", "type"),
        ({"name": "n", "default": 0.7}, "pipeline_step_input_params/0/default", "type"),
        ({"name": "n", "default": None}, "pipeline_step_input_params/0/default", "type"),
        ({"name": "n", "description": 5}, "pipeline_step_input_params/0/description", "type"),
        ({"name": "n", "accepted_values": "a"}, "pipeline_step_input_params/0/accepted_values", "type"),
        ({"name": "n", "accepted_values": None}, "pipeline_step_input_params/0/accepted_values", "type"),
        ({"name": 5}, "pipeline_step_input_params/0/name", "type"),
        ({"description": "no name"}, "pipeline_step_input_params/0", "required"),
    ],
)
def test_input_param_pitfalls(param, path, keyword):
    assert_single_error("step-config", with_param(**param), path, keyword)


def test_input_param_default_5_from_yaml():
    doc = load_yaml(
        SCAFFOLD_STEP_CONFIG.replace(
            "    description: Text input for processing\n",
            "    description: Text input for processing\n    default: 5\n",
        )
    )
    err = assert_single_error("step-config", doc, "pipeline_step_input_params/0/default", "type")
    assert "quote" in err.schema["errorMessage"]


def test_accepted_values_must_be_strings():
    errs = errors("step-config", with_param(name="n", accepted_values=[1, True, "3"]))
    assert summary(errs) == [
        ("pipeline_step_input_params/0/accepted_values/0", "type"),
        ("pipeline_step_input_params/0/accepted_values/1", "type"),
    ]


def test_input_params_accepted():
    doc = with_param(name="mode", description="Mode", default="fast", accepted_values=["fast", "slow", "5"])
    assert_valid("step-config", doc)
    doc["pipeline_step_input_params"] = []
    assert_valid("step-config", doc)


def test_input_params_must_be_list():
    doc = step_config()
    doc["pipeline_step_input_params"] = None
    assert_single_error("step-config", doc, "pipeline_step_input_params", "type")
    doc["pipeline_step_input_params"] = {"name": "x"}
    assert_single_error("step-config", doc, "pipeline_step_input_params", "type")


def test_input_param_unknown_key_is_only_a_warning():
    assert_only_warnings("step-config", with_param(name="n", defaults="x"))


def test_python_version_float_fails():
    doc = load_yaml(SCAFFOLD_STEP_CONFIG.replace('python_version: "3.12"', "python_version: 3.10"))
    assert doc["build_info"]["python_version"] == 3.1
    assert_single_error("step-config", doc, "build_info/python_version", "type")


@pytest.mark.parametrize("value", ["3.11", "3.12", "3.13"])
def test_python_version_strings_accepted(value):
    doc = step_config()
    doc["build_info"] = {"python_version": value, "platform": "linux/amd64"}
    assert_valid("step-config", doc)


def test_build_info_shape():
    doc = step_config()
    doc["build_info"] = None
    assert_single_error("step-config", doc, "build_info", "type")
    doc["build_info"] = {"platform": ["linux/amd64"]}
    assert_single_error("step-config", doc, "build_info/platform", "type")
    doc["build_info"] = {"python_version": "3.12", "base_image": "x"}
    assert_only_warnings("step-config", doc)


@pytest.mark.parametrize(
    "compute",
    [
        {"cpu_limit": 1},
        {"cpu_limit": "1000m", "cpu_memory": "1Gi", "num_accelerators": 1},
        {
            "cpu_limit": "500m",
            "cpu_requests": "250m",
            "cpu_memory_requests": "256Mi",
            "accelerator_memory": "24Gi",
        },
        {"num_accelerators": "2"},
        {"accelerator_type": ["NVIDIA-*"], "accelerator_topology": ["2x2"]},
        {"accelerator_type": []},
        {
            "cpuLimit": "1",
            "cpuMemory": "1Gi",
            "cpuRequests": "1",
            "cpuMemoryRequests": "1Gi",
            "numAccelerators": 1,
            "acceleratorMemory": "16Gi",
            "acceleratorType": ["NVIDIA-A10G"],
            "acceleratorTopology": [],
        },
        {"cpu_memory": None, "accelerator_type": None, "num_accelerators": None, "cpu_limit": None},
    ],
)
def test_compute_info_accepted(compute):
    assert_valid("step-config", with_compute(**compute))


@pytest.mark.parametrize(
    ("compute", "path", "keyword"),
    [
        ({"cpu_limit": 0.5}, "pipeline_step_compute_info/cpu_limit", "type"),
        ({"cpu_limit": True}, "pipeline_step_compute_info/cpu_limit", "type"),
        ({"cpuLimit": 1}, "pipeline_step_compute_info/cpuLimit", "type"),
        ({"cpu_memory": 500}, "pipeline_step_compute_info/cpu_memory", "type"),
        ({"cpu_requests": 1}, "pipeline_step_compute_info/cpu_requests", "type"),
        ({"cpu_memory_requests": 1.5}, "pipeline_step_compute_info/cpu_memory_requests", "type"),
        ({"accelerator_memory": 16}, "pipeline_step_compute_info/accelerator_memory", "type"),
        ({"accelerator_type": "NVIDIA-A10G"}, "pipeline_step_compute_info/accelerator_type", "type"),
        ({"acceleratorType": "NVIDIA-A10G"}, "pipeline_step_compute_info/acceleratorType", "type"),
        ({"accelerator_type": [None]}, "pipeline_step_compute_info/accelerator_type/0", "type"),
        ({"accelerator_topology": "2x2"}, "pipeline_step_compute_info/accelerator_topology", "type"),
        ({"num_accelerators": -1}, "pipeline_step_compute_info/num_accelerators", "minimum"),
        ({"num_accelerators": 1.5}, "pipeline_step_compute_info/num_accelerators", "type"),
        ({"num_accelerators": True}, "pipeline_step_compute_info/num_accelerators", "type"),
        ({"num_accelerators": "two"}, "pipeline_step_compute_info/num_accelerators", "pattern"),
        ({"num_accelerators": "-1"}, "pipeline_step_compute_info/num_accelerators", "pattern"),
        ({"num_accelerators": 2**32}, "pipeline_step_compute_info/num_accelerators", "maximum"),
    ],
)
def test_compute_info_pitfalls(compute, path, keyword):
    assert_single_error("step-config", with_compute(**compute), path, keyword)


def test_accelerator_type_scalar_from_yaml():
    doc = load_yaml(SCAFFOLD_STEP_CONFIG + "  accelerator_type: NVIDIA-A10G\n")
    assert_single_error("step-config", doc, "pipeline_step_compute_info/accelerator_type", "type")


def test_unknown_compute_key_is_an_error_via_property_names():
    errs = errors("step-config", with_compute(cpu_limit="1", gpu=1))
    assert len(errs) == 1
    (err,) = errs
    assert "propertyNames" in err.schema_path
    assert err.validator == "enum"  # the keyword inside propertyNames
    assert err.validator != "additionalProperties"  # i.e. an error, not a warning
    assert err.instance == "gpu"
    assert path_of(err) == "pipeline_step_compute_info"


def test_unknown_top_level_key_is_only_a_warning():
    doc = step_config()
    doc["inference_compute_info"] = {"cpu_limit": "1"}
    errs = assert_only_warnings("step-config", doc)
    assert [path_of(e) for e in errs] == [""]
    assert_only_warnings("step-config", with_step(description="my step"))


# --------------------------------------------------------------------------------------------
# Step lock (<step>/config-lock.yaml)
# --------------------------------------------------------------------------------------------


def test_step_lock_minimal_and_without_algo():
    assert_valid(
        "step-lock", {"id": "v1", "hash": {"algo": "md5", "value": "8647252bcec7472cfb95b94462dfb074"}}
    )
    assert_valid("step-lock", {"id": "v1", "hash": {"value": "abc"}})
    assert_valid("step-lock", {"id": "v1", "hash": {"algo": "sha256", "value": "abc"}})


@pytest.mark.parametrize(
    ("mutate", "path", "keyword"),
    [
        (lambda d: d.update(id=""), "id", "minLength"),
        (lambda d: d.update(id=None), "id", "type"),
        (lambda d: d.pop("id"), "", "required"),
        (lambda d: d.pop("hash"), "", "required"),
        (lambda d: d["hash"].pop("value"), "hash", "required"),
        (lambda d: d["hash"].update(value=123), "hash/value", "type"),
        (lambda d: d.update(hash="8647252bcec7472cfb95b94462dfb074"), "hash", "type"),
        (
            lambda d: d["pipeline_step_input_params"][0].update(default=5),
            "pipeline_step_input_params/0/default",
            "type",
        ),
        (lambda d: d["pipeline_step_compute_info"].update(gpu=1), "pipeline_step_compute_info", "enum"),
        (lambda d: d["pipeline_step"].update(visibility=True), "pipeline_step/visibility", "type"),
        (lambda d: d["build_info"].update(python_version=3.1), "build_info/python_version", "type"),
    ],
)
def test_step_lock_rejected(mutate, path, keyword):
    doc = step_lock()
    mutate(doc)
    assert_single_error("step-lock", doc, path, keyword)


def test_step_lock_unknown_keys_are_only_warnings():
    doc = step_lock()
    doc["extra"] = 1
    assert_only_warnings("step-lock", doc)
    doc = step_lock()
    doc["hash"]["salt"] = "x"
    assert_only_warnings("step-lock", doc)


# --------------------------------------------------------------------------------------------
# Root lock (config-lock.yaml)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "path", "keyword"),
    [
        (lambda p: p.update(version_id=""), "pipeline/version_id", "minLength"),
        (lambda p: p.update(version_id=None), "pipeline/version_id", "type"),
        (lambda p: p.pop("version_id"), "pipeline", "required"),
        (lambda p: p.update(id=""), "pipeline/id", "minLength"),
        (lambda p: p.pop("app_id"), "pipeline", "required"),
        (
            lambda p: p["orchestration_spec"].update(argo_orchestration_spec={"kind": "Workflow"}),
            "pipeline/orchestration_spec/argo_orchestration_spec",
            "type",
        ),
        (lambda p: p.update(orchestration_spec={}), "pipeline/orchestration_spec", "required"),
        (
            lambda p: p["config"]["step_version_secrets"]["step-0"].update(API_KEY=1),
            "pipeline/config/step_version_secrets/step-0/API_KEY",
            "type",
        ),
        (lambda p: p.update(compute={"instance": 1}), "pipeline/compute/instance", "type"),
    ],
)
def test_root_lock_rejected(mutate, path, keyword):
    doc = root_lock()
    mutate(doc["pipeline"])
    assert_single_error("root-lock", doc, path, keyword)


def test_root_lock_without_orchestration_spec_is_valid():
    # validate-lock only checks the spec when it is present.
    doc = root_lock()
    del doc["pipeline"]["orchestration_spec"]
    assert_valid("root-lock", doc)


def test_root_lock_unknown_keys_are_only_warnings():
    doc = root_lock()
    doc["pipeline"]["visibility"] = {"gettable": "PUBLIC"}
    doc["pipeline"]["step_directories"] = ["stepA"]
    assert_only_warnings("root-lock", doc)
    doc = root_lock()
    doc["generated_by"] = "pipeline-ci"
    assert_only_warnings("root-lock", doc)


def test_root_lock_requires_pipeline():
    assert_single_error("root-lock", {}, "", "required")
    assert_single_error("root-lock", {"pipeline": None}, "pipeline", "type")


# --------------------------------------------------------------------------------------------
# Overrides (--overrides-file)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"a": 1, "b": True, "c": [1]},
        {"prompt": "File prompt", "model": "file-model"},
        {"system_prompt": "Be brief", "max_tokens": "150", "temperature": 0.7},
        {"inputs": {"prompt": "x"}},
        {"input-text": "x", "INPUT_2": {"a": [1, {"b": None}]}},
    ],
)
def test_overrides_accepted(doc):
    assert_valid("overrides", doc)


def test_overrides_null_value_fails():
    err = assert_single_error("overrides", {"a": None}, "a", "type")
    assert err.schema["errorMessage"] == "null is not a valid parameter value"


def test_overrides_null_from_yaml():
    assert_single_error("overrides", load_yaml("prompt: hello\nmax_tokens:\n"), "max_tokens", "type")


@pytest.mark.parametrize("key", ["bad key", "", "a.b", "a/b", "naïve"])
def test_overrides_bad_key_fails(key):
    errs = errors("overrides", {key: "x"})
    assert len(errs) == 1
    (err,) = errs
    assert err.validator == "pattern"
    assert "propertyNames" in err.schema_path
    assert err.instance == key


@pytest.mark.parametrize("doc", [None, [], ["a"], "a=1", 5])
def test_overrides_top_level_must_be_mapping(doc):
    assert_single_error("overrides", doc, "", "type")


def test_documents_are_not_mutated_by_validation():
    doc = step_lock()
    before = copy.deepcopy(doc)
    errors("step-lock", doc)
    assert doc == before
