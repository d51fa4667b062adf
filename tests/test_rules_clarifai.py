"""Clarifai step-folder and cross-file rules (C01, C10-C14, X01, X02, X04, X05).

Covers what the SDK's upload-time validators reject (``PipelineConfigValidator`` in
``clarifai/runners/utils/pipeline_validation.py`` and ``PipelineStepBuilder`` in
``clarifai/runners/pipeline_steps/pipeline_step_builder.py``, Clarifai/clarifai-python) as lint
findings (with whichever rule catches each: schema S01, yaml-syntax F01, spec-document A01, ...),
plus escapes out of the project, requirements, step scripts and argparse options.
"""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path

import pytest

from pipeline_ci.rules import by_key
from pipeline_ci.rules.argparse_params import resolve, scan
from pipeline_ci.rules.compute_quantity import QUANTITY_RE
from pipeline_ci.rules.placeholder_id import is_placeholder
from pipeline_ci.rules.requirements import line_problems
from pipeline_ci.testing.projects import BASE_SPEC, SCRIPT, STEP_TEMPLATE, root_config

from .conftest import lint

MINE = {"C01", "C10", "C11", "C12", "C13", "C14", "X01", "X02", "X04", "X05"}

STEP_REF = """\
    - - name: {name}
        templateRef:
          name: {ref}
          template: {ref}
        arguments:
          parameters:
          - name: input_text
            value: "{{{{workflow.parameters.input_text}}}}"
"""

SPEC_HEAD = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: p-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: input_text
      value: hi
  templates:
  - name: main
    steps:
"""


def spec_with(*refs: str) -> str:
    """A base spec whose ``main`` template calls each ref in its own step group."""
    return SPEC_HEAD + "".join(STEP_REF.format(name=f"s{i}", ref=ref) for i, ref in enumerate(refs))


def ref(step: str, version: str | None = None, user: str = "u1", app: str = "a1") -> str:
    name = f"users/{user}/apps/{app}/pipeline_steps/{step}"
    return f"{name}/versions/{version}" if version else name


def root_with(spec: str, step_dirs: str = "  step_directories:\n  - stepA\n  - stepB\n", extra: str = "") -> str:
    """A root config; ``step_dirs`` is the literal ``step_directories`` block (may be empty)."""
    body = root_config(spec)
    body = body.replace("  step_directories:\n  - stepA\n  - stepB\n", step_dirs)
    return body + extra


def step_config(step: str = "stepA", **replace: str) -> str:
    text = STEP_TEMPLATE.format(step=step)
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


def found(result, root: Path) -> set[tuple[str, str, int]]:
    out = set()
    for f in result.findings:
        out.add((f.rule, Path(f.file).resolve().relative_to(root.resolve()).as_posix(), f.line))
    return out


def mine(result, root: Path) -> set[tuple[str, str, int]]:
    return {f for f in found(result, root) if f[0] in MINE}


def line_of(text: str, needle: str, nth: int = 1) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[nth - 1]


def needs(*ids: str) -> None:
    missing = [i for i in ids if i not in by_key()]
    if missing:
        pytest.skip(f"rule(s) {', '.join(missing)} not registered yet")


def errors_of(result) -> set[str]:
    return {f.rule for f in result.findings if f.severity == "error"}


# --------------------------------------------------------------------------------------------
# The base project is clean; placeholders only warn
# --------------------------------------------------------------------------------------------


def test_base_project_is_clean(make_project):
    root = make_project()
    assert lint(root).findings == []


def test_placeholder_project_lints_with_warnings_only(make_project):
    def fill(text: str) -> str:
        text = text.replace("users/u1/apps/a1/", "users/<YOUR_USER_ID>/apps/your-app-id/")
        return text.replace("user_id: u1", "user_id: <YOUR_USER_ID>").replace("app_id: a1", "app_id: your-app-id")

    root = make_project()
    for name in ("config.yaml", "stepA/config.yaml", "stepB/config.yaml"):
        path = root / name
        path.write_text(fill(path.read_text()))
    result = lint(root)
    text = (root / "config.yaml").read_text()
    assert result.errors == 0, [f for f in result.findings if f.severity == "error"]
    assert found(result, root) == {
        ("C01", "config.yaml", 3),
        ("C01", "config.yaml", 4),
        ("C01", "config.yaml", line_of(text, "name: users/<YOUR_USER_ID>")),
        ("C01", "config.yaml", line_of(text, "name: users/<YOUR_USER_ID>", 2)),
        ("C01", "stepA/config.yaml", 3),
        ("C01", "stepA/config.yaml", 4),
        ("C01", "stepB/config.yaml", 3),
        ("C01", "stepB/config.yaml", 4),
    }


@pytest.mark.parametrize(
    "value",
    ["<YOUR_USER_ID>", "YOUR_USER_ID", "your-app-id", "yourAppId", "{{user_id}}", "${USER_ID}", "xxx", "XXXX",
     "changeme", "replace-me", "TODO", "...", "<user>"],
)
def test_placeholder_values(value):
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["u1", "demo-app", "xx", "my_app", "youth-app", "todo-list", 123, None, ""])
def test_not_placeholder_values(value):
    assert not is_placeholder(value)


# --------------------------------------------------------------------------------------------
# Root config validation (what the SDK's PipelineConfigValidator rejects)
# --------------------------------------------------------------------------------------------


def test_sdk_1_empty_config(make_project):
    root = make_project(files={"config.yaml": "{}\n"})
    result = lint(root / "config.yaml")
    assert ("S01", "config.yaml", 1) in found(result, root)
    assert mine(result, root) == set()


def test_sdk_2_empty_pipeline_and_empty_id(make_project):
    root = make_project(files={"config.yaml": "pipeline: {}\n"})
    result = lint(root)
    assert found(result, root) == {("S01", "config.yaml", 1)}

    text = root_config(BASE_SPEC).replace("id: demo", 'id: ""')
    root = make_project(files={"config.yaml": text})
    assert found(lint(root), root) == {("S01", "config.yaml", 2)}


def test_sdk_3_no_orchestration_spec(make_project):
    text = "pipeline:\n  id: demo\n  user_id: u1\n  app_id: a1\n  step_directories: [stepA, stepB]\n"
    root = make_project(files={"config.yaml": text})
    assert found(lint(root), root) == {("S01", "config.yaml", 2)}


def test_sdk_4_invalid_embedded_yaml(make_project):
    text = 'pipeline:\n  id: demo\n  user_id: u1\n  app_id: a1\n  step_directories: [stepA, stepB]\n' \
        '  orchestration_spec:\n    argo_orchestration_spec: "invalid: yaml: :"\n'
    root = make_project(files={"config.yaml": text})
    assert found(lint(root), root) == {("F01", "config.yaml", 7)}


def test_sdk_5_step_directories_not_a_list(make_project):
    text = root_with(BASE_SPEC, step_dirs='  step_directories: "not-a-list"\n')
    root = make_project(files={"config.yaml": text})
    result = lint(root)
    assert ("S01", "config.yaml", 5) in found(result, root)
    assert errors_of(result) == {"S01"}
    assert mine(result, root) == set()


def test_sdk_6_api_version_and_kind(make_project):
    for old, new, needle in [
        ("apiVersion: argoproj.io/v1alpha1\n", "", None),
        ("apiVersion: argoproj.io/v1alpha1", "apiVersion: v1", "apiVersion: v1"),
        ("kind: Workflow", "kind: Pod", "kind: Pod"),
    ]:
        text = root_config(BASE_SPEC.replace(old, new))
        root = make_project(files={"config.yaml": text})
        result = lint(root)
        assert "A01" in errors_of(result)
        if needle:
            assert ("A01", "config.yaml", line_of(text, needle)) in found(result, root)
        assert mine(result, root) == set()


def test_sdk_7_templateref_shape(make_project):
    needs("A18", "A36")
    stepa = "users/u1/apps/a1/pipeline_steps/stepA"
    cases = [
        (BASE_SPEC.replace(f"          template: {stepa}\n", ""), "A18", "templateRef:"),
        (BASE_SPEC.replace(f"template: {stepa}", "template: users/u1/apps/a1/pipeline_steps/stepB"), "A36",
         "template: users/u1/apps/a1/pipeline_steps/stepB"),
        (BASE_SPEC.replace(stepa, "invalid-pattern"), "A36", "name: invalid-pattern"),
    ]
    for spec, rule, needle in cases:
        text = root_config(spec)
        root = make_project(files={"config.yaml": text})
        result = lint(root)
        assert found(result, root) == {(rule, "config.yaml", line_of(text, needle))}


def test_sdk_8_only_unversioned_refs_need_folders(make_project):
    spec = spec_with(ref("stepA"), ref("stepB", "123"))
    text = root_with(spec, step_dirs="  step_directories: []\n")
    root = make_project(files={"config.yaml": text})
    result = lint(root)
    assert mine(result, root) == {("X01", "config.yaml", line_of(text, "name: users/u1/apps/a1/pipeline_steps/stepA"))}
    message = next(f.message for f in result.findings if f.rule == "X01")
    assert "step_directories is empty but these steps need versions: ['stepA']" in message

    # refs inside dag.tasks are treated the same
    dag = SPEC_HEAD.replace("    steps:\n", "    dag:\n      tasks:\n") + (
        "      - name: a\n        templateRef:\n          name: {r}\n          template: {r}\n"
        "        arguments:\n          parameters:\n          - name: input_text\n            value: hi\n"
    ).format(r=ref("stepC"))
    text = root_with(dag)
    root = make_project(files={"config.yaml": text})
    expected = {("X01", "config.yaml", line_of(text, "name: users/u1/apps/a1/pipeline_steps/stepC"))}
    assert mine(lint(root), root) == expected


def test_sdk_9_versioned_refs_need_no_folders(make_project):
    spec = spec_with(ref("stepA", "v1"), ref("stepB", "v2"))
    root = make_project(files={"config.yaml": root_with(spec, step_dirs="")})
    result = lint(root)
    assert result.errors == 0 and mine(result, root) == set()

    spec = spec_with(ref("stepA"))
    text = root_with(spec, step_dirs="  step_directories: []\n")
    root = make_project(files={"config.yaml": text})
    result = lint(root)
    assert errors_of(result) == {"X01"}
    assert mine(result, root) == {("X01", "config.yaml", line_of(text, "name: users/u1/apps/a1/pipeline_steps/stepA"))}


# --------------------------------------------------------------------------------------------
# Step config (what the SDK's PipelineStepBuilder rejects)
# --------------------------------------------------------------------------------------------


def test_sdk_14_step_folder_files(make_project):
    root = make_project()
    (root / "stepA" / "config.yaml").unlink()
    result = lint(root)
    assert found(result, root) == {("X02", "config.yaml", 6)}
    assert "Required file 'config.yaml' not found in stepA" in result.findings[0].message

    root = make_project()
    (root / "stepB" / "1" / "pipeline_step.py").unlink()
    result = lint(root)
    assert found(result, root) == {("C13", "config.yaml", 7)}
    assert "Required file '1/pipeline_step.py' not found in stepB" in result.findings[0].message

    root = make_project(files={"stepA/config.yaml": "pipeline_step: [\n"})
    assert found(lint(root), root) == {("F01", "stepA/config.yaml", 2)}


@pytest.mark.parametrize(
    ("config", "line"),
    [
        ("pipeline_step_compute_info: {}\n", 1),
        ("pipeline_step:\n  id: stepA\npipeline_step_compute_info: {}\n", 2),
        ('pipeline_step:\n  id: ""\n  user_id: u1\n  app_id: a1\npipeline_step_compute_info: {}\n', 2),
        ("pipeline_step:\n  id: stepA\n  user_id: u1\n  app_id: a1\n", 1),
    ],
)
def test_sdk_15_step_config_sections(make_project, config, line):
    root = make_project(files={"stepA/config.yaml": config})
    result = lint(root)
    assert ("S01", "stepA/config.yaml", line) in found(result, root)
    assert errors_of(result) - {"X01", "A39"} == {"S01"}
    assert not {f for f in mine(result, root) if f[0] not in ("X01", "C14")}


def test_sdk_16_compute_info(make_project):
    good = step_config(**{"  cpu_limit: 500m\n  cpu_memory: 500Mi\n  num_accelerators: 0\n":
                          '  cpu_limit: "1000m"\n  cpu_memory: "1Gi"\n  num_accelerators: 1\n'})
    root = make_project(files={"stepA/config.yaml": good})
    assert lint(root).findings == []

    root = make_project(files={"stepA/config.yaml": step_config(**{"cpu_limit: 500m": "cpu_limit: 1"})})
    assert lint(root).findings == []

    text = step_config(**{"cpu_limit: 500m": "cpu_limit: 0.5"})
    root = make_project(files={"stepA/config.yaml": text})
    assert found(lint(root), root) == {("S01", "stepA/config.yaml", line_of(text, "cpu_limit"))}


# --------------------------------------------------------------------------------------------
# Step folders that leave the project
# --------------------------------------------------------------------------------------------


@pytest.fixture
def opened(monkeypatch):
    """Every path opened through ``open``/``io.open`` (and so by pathlib) during the test."""
    paths: list[Path] = []
    real_open = builtins.open

    def spy(file, *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)):
            paths.append(Path(os.fsdecode(file)).resolve())
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(io, "open", spy)
    return paths


def outside_step(tmp_path: Path) -> Path:
    """A complete step folder outside the project."""
    out = tmp_path / "outside"
    (out / "1").mkdir(parents=True)
    (out / "config.yaml").write_text(step_config("stepA"))
    (out / "requirements.txt").write_text("requests=2\n")
    (out / "1" / "pipeline_step.py").write_text("def broken(:\n")
    return out


def test_symlinked_step_folder_outside_is_not_read(make_project, tmp_path, opened):
    outside = outside_step(tmp_path)
    root = make_project()
    for name in ("config.yaml", "requirements.txt", "1/pipeline_step.py"):
        (root / "stepA" / name).unlink()
    (root / "stepA" / "1").rmdir()
    (root / "stepA").rmdir()
    os.symlink(outside, root / "stepA", target_is_directory=True)
    opened.clear()
    result = lint(root)
    text = (root / "config.yaml").read_text()
    assert found(result, root) == {
        ("X02", "config.yaml", 6),
        ("X01", "config.yaml", line_of(text, "name: users/u1/apps/a1/pipeline_steps/stepA")),
    }
    x02 = next(f for f in result.findings if f.rule == "X02")
    assert "symlink" in x02.message and "outside the project" in x02.message
    assert not [p for p in opened if p.is_relative_to(outside.resolve())]


def test_symlinked_step_folder_to_etc(make_project, opened):
    if not Path("/etc").is_dir():
        pytest.skip("no /etc")
    root = make_project()
    os.symlink("/etc", root / "stepC", target_is_directory=True)
    text = root_config(BASE_SPEC).replace("  - stepB\n", "  - stepB\n  - stepC\n")
    (root / "config.yaml").write_text(text)
    opened.clear()
    result = lint(root)
    assert found(result, root) == {("X02", "config.yaml", 8)}
    assert not [p for p in opened if p.is_relative_to(Path("/etc").resolve())]


def test_step_directory_dotdot(make_project, opened):
    text = root_config(BASE_SPEC).replace("  - stepA\n  - stepB\n", '  - "../../etc"\n  - stepB\n')
    root = make_project(files={"config.yaml": text})
    result = lint(root)
    assert found(result, root) == {
        ("X02", "config.yaml", 6),
        ("X01", "config.yaml", line_of(text, "name: users/u1/apps/a1/pipeline_steps/stepA")),
    }
    x01 = next(f for f in result.findings if f.rule == "X01")
    assert "step folder 'stepA' exists but is not listed in pipeline.step_directories" in x01.message
    assert not [p for p in opened if not p.is_relative_to(root.resolve().parent)]


def test_symlinked_files_outside_are_not_read(make_project, tmp_path, opened):
    outside = outside_step(tmp_path)
    root = make_project()
    for name in ("requirements.txt", "1/pipeline_step.py"):
        (root / "stepA" / name).unlink()
        os.symlink(outside / name, root / "stepA" / name)
    opened.clear()
    result = lint(root)
    assert found(result, root) == {("C12", "config.yaml", 6), ("C13", "config.yaml", 6)}
    assert all("outside the project" in f.message for f in result.findings)
    assert not [p for p in opened if p.is_relative_to(outside.resolve())]


def test_step_directory_duplicates_and_missing(make_project):
    text = root_config(BASE_SPEC).replace("  - stepB\n", "  - stepB\n  - ./stepA/\n  - /abs/stepD\n  - stepE\n")
    root = make_project(files={"config.yaml": text})
    result = lint(root)
    assert mine(result, root) == {("X02", "config.yaml", 8), ("X02", "config.yaml", 9), ("X02", "config.yaml", 10)}
    messages = sorted(f.message for f in result.findings if f.rule == "X02")
    assert any("listed twice" in m for m in messages)
    assert any("absolute path" in m for m in messages)
    assert any(m == "Pipeline step directory not found: stepE" for m in messages)


# --------------------------------------------------------------------------------------------
# templateRef -> step folder
# --------------------------------------------------------------------------------------------


def test_templateref_wrong_app_in_step_config(make_project):
    text = step_config(**{"app_id: a1": "app_id: other"})
    root = make_project(files={"stepA/config.yaml": text})
    result = lint(root)
    spec_text = (root / "config.yaml").read_text()
    expected = {("X01", "config.yaml", line_of(spec_text, "name: users/u1/apps/a1/pipeline_steps/stepA"))}
    assert mine(result, root) == expected
    assert "folder 'stepA' declares app_id 'other' (ref: 'a1')" in result.findings[0].message


def test_templateref_no_substring_matching(make_project):
    # the SDK would match ref "B" to folder "stepB" by substring; we do not
    spec = BASE_SPEC.replace("pipeline_steps/stepB", "pipeline_steps/B")
    root = make_project(spec=spec)
    result = lint(root)
    assert {f[0] for f in mine(result, root)} == {"X01"}


def test_templateref_two_folders_declare_the_same_step(make_project):
    files = {"stepC/config.yaml": step_config("stepA"), "stepC/1/pipeline_step.py": SCRIPT}
    text = root_config(BASE_SPEC).replace("  - stepB\n", "  - stepB\n  - stepC\n")
    files["config.yaml"] = text
    root = make_project(files=files)
    result = lint(root)
    assert mine(result, root) == {("X01", "config.yaml", line_of(text, "name: users/u1/apps/a1/pipeline_steps/stepA"))}
    assert "several step folders ('stepA', 'stepC')" in result.findings[0].message


def test_templateref_unlisted_folder(make_project):
    text = root_config(BASE_SPEC).replace("  - stepB\n", "")
    root = make_project(files={"config.yaml": text})
    result = lint(root)
    assert mine(result, root) == {("X01", "config.yaml", line_of(text, "name: users/u1/apps/a1/pipeline_steps/stepB"))}
    assert "step folder 'stepB' exists but is not listed" in result.findings[0].message


# --------------------------------------------------------------------------------------------
# Step files: python_version, compute, requirements, script, argparse
# --------------------------------------------------------------------------------------------


def test_python_version_unquoted_is_schema_only(make_project):
    text = step_config(**{'python_version: "3.12"': "python_version: 3.10"})
    root = make_project(files={"stepA/config.yaml": text})
    assert found(lint(root), root) == {("S01", "stepA/config.yaml", line_of(text, "python_version"))}


def test_python_version_quoted_unsupported(make_project):
    text = step_config(**{'python_version: "3.12"': 'python_version: "3.10"'})
    root = make_project(files={"stepA/config.yaml": text})
    result = lint(root)
    assert found(result, root) == {("C10", "stepA/config.yaml", line_of(text, "python_version"))}
    assert result.findings[0].severity == "warning"


@pytest.mark.parametrize("value", ["500m", "1", "0.5", ".5", "1.", "1Gi", "500Mi", "2G", "1e3", "2E", "+1", "10k"])
def test_quantity_good(value):
    assert QUANTITY_RE.match(value)


@pytest.mark.parametrize("value", ["2GB", "1.5 Gi", "half", "1e", "Gi", "1KI", "10K", "1..5", " 1"])
def test_quantity_bad(value):
    assert not QUANTITY_RE.match(value)


def test_compute_quantity_camel_case_and_negative(make_project):
    text = step_config(**{"  cpu_memory: 500Mi\n": "  cpuMemory: 512MB\n  cpu_requests: \"-1\"\n"})
    root = make_project(files={"stepA/config.yaml": text})
    result = lint(root)
    assert found(result, root) == {
        ("C11", "stepA/config.yaml", line_of(text, "cpuMemory")),
        ("C11", "stepA/config.yaml", line_of(text, "cpu_requests")),
    }
    assert any("did you mean '512M'?" in f.message for f in result.findings)


def test_bad_requirement_line(make_project):
    root = make_project(files={"stepA/requirements.txt": "numpy==1.26.4\n  requests=2.32.0\nscipy\n"})
    result = lint(root)
    assert [(f.rule, f.line, f.col) for f in result.findings] == [("C12", 2, 11)]
    assert "Invalid requirement: 'requests=2.32.0'" in result.findings[0].message
    assert result.findings[0].file.endswith("stepA/requirements.txt")


def test_requirements_accepted_forms():
    text = "\n".join([
        "# comment", "", "requests==2.32.0  # inline", "-r base.txt", "-c constraints.txt", "-e ./pkg",
        "-e git+https://github.com/o/r.git#egg=r", "--index-url https://pypi.org/simple",
        "--extra-index-url=https://x/simple", "-i https://x", "--find-links ./wheels", "-f https://x/links",
        "--no-index", "--pre", "--trusted-host x.org", "--only-binary :all:", "torch==2.3.0 \\",
        "    --hash=sha256:abcdef \\", "    --hash=sha256:012345", "./local/pkg", "../sibling",
        "git+https://github.com/o/r.git@v1", "https://x/y-1.0-py3-none-any.whl", "pkg @ https://x/y.whl",
        "pkg[extra]>=1; python_version < '3.12'", "pkg-1.0.tar.gz", "${PRIVATE_PKG}==1.0", "clarifai==12.5.0", "",
    ])
    assert list(line_problems(text)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("requests==2.32.0clarifai==12.5.0\n", [(1, 18)]),  # "2.32.0c" is a valid version (rc)
        ("numpy >= 1.0 scipy\n", [(1, 14)]),
        ("--frobnicate\n", [(1, 1)]),
        ("-e\n", [(1, 1)]),
        ("--pre=yes\n", [(1, 1)]),
        ("x==1 --hash=md5\n", [(1, 1)]),
        ("bad \\\n  line\nok==1\n", [(1, 1)]),
        ("# a\n    foo==\n", [(2, 8)]),
    ],
)
def test_requirement_problems(text, expected):
    assert [(line, col) for line, col, _ in line_problems(text)] == expected


def test_requirements_without_final_newline(make_project):
    root = make_project(files={"stepA/requirements.txt": "numpy==1.26.4\nrequests==2.32.0"})
    result = lint(root)
    assert [(f.rule, f.severity, f.line, f.col) for f in result.findings] == [("C12", "warning", 2, 17)]
    assert "requests==2.32.0" in result.findings[0].message

    root = make_project(files={"stepA/requirements.txt": "requests==2.32.0\nclarifai==12.5.0"})
    assert lint(root).findings == []


def test_requirements_not_utf8(make_project):
    root = make_project()
    (root / "stepA" / "requirements.txt").write_bytes(b"requests==2\n\xff\n")
    result = lint(root)
    assert [(f.rule, f.line) for f in result.findings] == [("C12", 2)]


def test_syntax_error_line_and_column(make_project):
    root = make_project(files={"stepA/1/pipeline_step.py": "x = 1\ndef f(:\n    pass\n"})
    result = lint(root)
    assert [(f.rule, f.line, f.col) for f in result.findings] == [("C13", 2, 7)]
    assert result.findings[0].file.endswith("stepA/1/pipeline_step.py")
    assert "syntax error" in result.findings[0].message

    script = SCRIPT.replace("    args = parser.parse_args()\n", "    args = parser.parse_args()\n      print(args)\n")
    root = make_project(files={"stepA/1/pipeline_step.py": script})
    result = lint(root)
    assert [(f.rule, f.line, f.col) for f in result.findings] == [("C13", line_of(script, "print(args)"), 6)]
    assert "unexpected indent" in result.findings[0].message


def test_compile_errors_that_parse(make_project):
    root = make_project(files={"stepA/1/pipeline_step.py": "import argparse\n\n\nreturn 5\n"})
    result = lint(root)
    assert [(f.rule, f.line, f.col) for f in result.findings] == [("C13", 4, 1)]
    assert "'return' outside function" in result.findings[0].message


def test_script_is_never_executed(make_project, tmp_path):
    marker = tmp_path / "executed"
    script = f"open({str(marker)!r}, 'w').write('x')\nimport argparse\n"
    root = make_project(files={"stepA/1/pipeline_step.py": script})
    lint(root)
    assert not marker.exists()


def test_script_with_coding_cookie(make_project):
    root = make_project()
    (root / "stepA" / "1" / "pipeline_step.py").write_bytes(
        b"# -*- coding: latin-1 -*-\n" + SCRIPT.encode() + b"NAME = '\xe9'\n"
    )
    assert lint(root).findings == []


def test_script_not_decodable(make_project):
    root = make_project()
    (root / "stepA" / "1" / "pipeline_step.py").write_bytes(b"x = 1\ny = '\xff'\n")
    result = lint(root)
    assert [(f.rule, f.line) for f in result.findings] == [("C13", 2)]


def test_argparse_mismatch(make_project):
    script = (
        "import argparse\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--text', required=True)\n"
        "p.add_argument('--mode', default='x')\n"
        "p.parse_args()\n"
    )
    root = make_project(files={"stepA/1/pipeline_step.py": script})
    result = lint(root)
    step_text = (root / "stepA" / "config.yaml").read_text()
    assert found(result, root) == {
        ("C14", "stepA/config.yaml", line_of(step_text, "- name: input_text")),
        ("C14", "stepA/1/pipeline_step.py", 3),
    }
    assert all(f.severity == "warning" for f in result.findings)
    messages = " ".join(f.message for f in result.findings)
    assert "unrecognized arguments: --input_text" in messages
    assert "the following arguments are required: --text" in messages


def test_argparse_tolerant_cases(make_project):
    cases = [
        "import sys\nprint(sys.argv)\n",  # no argparse at all
        "import argparse\np = argparse.ArgumentParser()\np.add_argument('--x')\np.parse_known_args()\n",
        "import argparse\np = argparse.ArgumentParser()\nfor n in ['input_text']:\n    p.add_argument('--' + n)\n",
        "import argparse\np = argparse.ArgumentParser()\n"
        "p.add_argument('-i', '--input_text_raw', required=True)\np.parse_args()\n",
    ]
    for script in cases:
        root = make_project(files={"stepA/1/pipeline_step.py": script})
        assert lint(root).findings == [], script


def test_argparse_scan_and_abbreviations():
    import ast

    options = scan(ast.parse("p.add_argument('--input_text', '-t')\np.add_argument('--input_file')\n"))
    assert options.long == {"input_text", "input_file"} and options.calls == 2
    assert resolve(options, "input_text") == "input_text"
    assert resolve(options, "input_t") == "input_text"
    assert resolve(options, "input") is None  # ambiguous


# --------------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------------

SECRETS = """\
  config:
    step_version_secrets:
      {key}:
        {var}: {path}
"""


def test_secret_for_unknown_step(make_project):
    text = root_config(BASE_SPEC) + SECRETS.format(key="stepA", var="API_KEY", path="users/u1/secrets/k")
    root = make_project(files={"config.yaml": text})
    result = lint(root)
    assert found(result, root) == {("X04", "config.yaml", line_of(text, "      stepA:"))}
    assert "did you mean 'step-a'?" in result.findings[0].message
    assert result.findings[0].col == 7


def test_secret_keyed_by_template_name(make_project):
    text = root_config(BASE_SPEC) + SECRETS.format(key="main", var="API_KEY", path="users/u1/secrets/k")
    root = make_project(files={"config.yaml": text})
    result = lint(root)
    assert [f.rule for f in result.findings] == ["X04"]
    assert "'main' is a template name" in result.findings[0].message


@pytest.mark.parametrize(
    ("var", "path", "warned"),
    [
        ("API_KEY", "users/u1/secrets/k", False),
        ("API_KEY", "users/u1/apps/secrets/k", True),
        ("API_KEY", "users/u1/apps//secrets/k", True),
        ("API_KEY", "users/someone/secrets/k", True),
        ("API-KEY", "users/u1/secrets/k", True),
        ("1KEY", "users/u1/secrets/k", True),
    ],
)
def test_secret_paths(make_project, var, path, warned):
    text = root_config(BASE_SPEC) + SECRETS.format(key="step-a", var=var, path=path)
    root = make_project(files={"config.yaml": text})
    result = lint(root)
    expected = {("X05", "config.yaml", line_of(text, f"{var}:"))} if warned else set()
    assert found(result, root) == expected
    assert all(f.severity == "warning" for f in result.findings)


# --------------------------------------------------------------------------------------------
# Robustness: malformed shapes never crash the rules
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "files",
    [
        {"stepA/config.yaml": "pipeline_step: 5\npipeline_step_input_params: nope\nbuild_info: []\n"
                              "pipeline_step_compute_info: [1]\n"},
        {"stepA/config.yaml": "- a\n- b\n"},
        {"stepA/config.yaml": "pipeline_step_input_params: [1, null, {name: 3}, input_text]\n"
                              "pipeline_step_compute_info: {cpu_limit: [1], cpu_memory: null, cpuMemory: true}\n"},
        {"config.yaml": "pipeline:\n  id: 1\n  user_id: [u]\n  app_id: {a: 1}\n  step_directories: [1, null, '']\n"
                        "  config: {step_version_secrets: {5: [1], x: {null: 3}}}\n"
                        "  orchestration_spec: {argo_orchestration_spec: 'spec: 5'}\n"},
        {"config.yaml": "pipeline:\n  step_directories: {a: 1}\n  config: {step_version_secrets: [1]}\n"},
    ],
)
def test_malformed_shapes_do_not_crash(make_project, files):
    root = make_project(files=files)
    lint(root, select=sorted(MINE))


def test_step_folder_is_a_file(make_project):
    text = root_config(BASE_SPEC).replace("  - stepB\n", "  - stepB\n  - notes.txt\n")
    root = make_project(files={"config.yaml": text, "notes.txt": "hi\n"})
    result = lint(root)
    assert mine(result, root) == {("X02", "config.yaml", 8)}


def test_fifo_is_not_opened(make_project):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs")
    root = make_project()
    (root / "stepA" / "requirements.txt").unlink()
    os.mkfifo(root / "stepA" / "requirements.txt")
    result = lint(root, select=sorted(MINE))  # only ours: the step hash (L04/L05) is not our concern here
    assert [(f.rule, f.line) for f in result.findings] == [("C12", 6)]
    assert "not a regular file" in result.findings[0].message
