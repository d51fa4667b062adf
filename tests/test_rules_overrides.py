"""Run overrides files in the project (O01 overrides-schema, O02 overrides-parameter, plus F01/F02 on them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline_ci.model.overrides import OVERRIDES_NAME
from pipeline_ci.project import load_project
from pipeline_ci.testing.projects import BASE_SPEC, STEP_TEMPLATE

from .conftest import REPO, lint

ENUM_SPEC = BASE_SPEC.replace("      value: hi\n", "      value: hi\n      enum: [hi, hello]\n")
STEP_A_ACCEPTING = STEP_TEMPLATE.format(step="stepA").replace(
    "  description: Text to process\n", '  description: Text to process\n  accepted_values: ["hi", "hello", "true", "1.0"]\n'
)


def found(path: Path, rules: set[str] | None = None) -> list[tuple[str, str, int, int]]:
    """``(rule, file relative to path, line, col)`` of every finding (of ``rules`` when given)."""
    out = []
    for f in lint(path).findings:
        if rules is None or f.rule in rules:
            out.append((f.rule, Path(os.path.relpath(os.path.abspath(f.file), path.resolve())).as_posix(), f.line, f.col))
    return out


def messages(path: Path, rule: str) -> list[str]:
    return [f.message for f in lint(path).findings if f.rule == rule]


@pytest.mark.parametrize("name", [
    "overrides.yaml", "overrides.yml", "overrides.json", "OVERRIDES.YAML", "overrides-prod.json", "overrides_ci.yml",
    "nightly.overrides.yaml", "Nightly.Overrides.JSON", "a.b.overrides.yml",
])
def test_overrides_file_names(name: str):
    assert OVERRIDES_NAME.match(name)


@pytest.mark.parametrize("name", [
    "overrides.txt", "my-overrides.yaml", "overrides.yaml.bak", ".overrides.yaml", "overrides", "config.yaml",
    "xoverrides.json",
])
def test_other_file_names(name: str):
    assert not OVERRIDES_NAME.match(name)


def test_unknown_key_is_reported_at_the_key_with_a_suggestion(make_project):
    root = make_project(files={"overrides.json": '{\n  "input_txt": "hi"\n}\n'})
    assert found(root) == [("O02", "overrides.json", 2, 3)]
    (message,) = messages(root, "O02")
    assert message == ("unknown parameter 'input_txt': the workflow declares input_text; "
                       "did you mean 'input_text'?")


def test_value_outside_the_enum_is_reported_at_the_value(make_project):
    root = make_project(spec=ENUM_SPEC, files={"overrides.yaml": "# nightly\ninput_text:   bye\n"})
    assert found(root) == [("O02", "overrides.yaml", 2, 15)]
    assert messages(root, "O02") == ["value 'bye' of parameter 'input_text' is not in its enum: hi, hello"]
    make_project(spec=ENUM_SPEC, files={"overrides.yaml": "input_text: hello\n"})
    assert found(root) == []


def test_value_outside_the_accepted_values_of_a_step_is_reported_at_the_value(make_project):
    root = make_project(files={"stepA/config.yaml": STEP_A_ACCEPTING, "overrides.yaml": "x-other: 1\ninput_text: bye\n"})
    assert found(root, {"O01", "O02"}) == [("O02", "overrides.yaml", 1, 1), ("O02", "overrides.yaml", 2, 13)]
    assert messages(root, "O02")[1] == ("value 'bye' of parameter 'input_text' is not in the accepted_values of "
                                        "step 'stepA' (input 'input_text'); accepted values: hi, hello, true, 1.0")


@pytest.mark.parametrize("value", ["hello", "true", "True", "1.0", "'1.0'", '"true"'])
def test_values_are_compared_as_run_sends_them(make_project, value: str):
    root = make_project(files={"stepA/config.yaml": STEP_A_ACCEPTING, "overrides.yaml": f"input_text: {value}\n"})
    assert found(root, {"O01", "O02"}) == []


@pytest.mark.parametrize("value", ["Hello", "1", "1.00", "1e0"])
def test_values_keep_their_spelling(make_project, value: str):
    root = make_project(files={"stepA/config.yaml": STEP_A_ACCEPTING, "overrides.yaml": f"input_text: {value}\n"})
    assert found(root, {"O01", "O02"}) == [("O02", "overrides.yaml", 1, 13)]


def test_null_value_is_a_schema_error_at_its_line(make_project):
    root = make_project(files={"overrides.yaml": "input_text: hi\nother:\n"})
    assert ("O01", "overrides.yaml", 2, 7) in found(root)
    assert "parameter 'other' is null; write '' for an empty string" in messages(root, "O01")
    root = make_project(files={"overrides.yaml": "input_text: ~\n"})
    assert found(root) == [("O01", "overrides.yaml", 1, 13)]


@pytest.mark.parametrize(("text", "what"), [
    ("", "empty"), ("# nothing yet\n", "empty"), ("- input_text\n", "a list"), ("hello\n", "a str"),
])
def test_top_level_must_be_a_mapping(make_project, text: str, what: str):
    root = make_project(files={"overrides.yaml": text})
    assert found(root) == [("O01", "overrides.yaml", 1, 1)]
    assert messages(root, "O01") == [f"the overrides file must be a mapping of parameter name to value, but it is {what}"]


def test_bad_names_and_key_types(make_project):
    root = make_project(files={"overrides.yaml": "input_text: hi\n'input text': hi\n7: x\n"})
    assert set(found(root, {"O01"})) == {("O01", "overrides.yaml", 2, 1), ("O01", "overrides.yaml", 3, 1)}
    assert "invalid parameter name 'input text': parameter names may only contain letters, digits, '-' and '_'" \
        in messages(root, "O01")


def test_json_syntax_error_is_f01_at_its_position(make_project):
    root = make_project(files={"overrides.json": '{\n  "input_text": "hi"\n  "other": 1\n}\n'})
    assert found(root) == [("F01", "overrides.json", 3, 3)]


def test_json_that_yaml_accepts_is_fine(make_project):
    root = make_project(files={"overrides.json": '{\n\t"input_text": "hi",\n}\n'})
    assert found(root) == []


def test_duplicate_keys_are_f02(make_project):
    root = make_project(files={"overrides.yaml": "input_text: hi\ninput_text: hello\n"})
    assert found(root) == [("F02", "overrides.yaml", 2, 1)]


def test_inline_suppressions_work_in_overrides_files(make_project):
    root = make_project(files={"overrides.yaml": "input_txt: hi  # pipeline-ci: disable=overrides-parameter\n"})
    assert found(root) == []


def test_hello_pipeline_overrides_lint_clean():
    example = REPO / "examples" / "hello-pipeline"
    assert [Path(d.file).name for d in load_project(example).overrides] == ["overrides.yaml"]
    assert found(example) == []


def test_a_project_without_overrides_files_is_unaffected(make_project):
    root = make_project()
    assert load_project(root).overrides == []
    assert found(root) == []


def test_files_are_found_at_depth_but_not_in_step_folders(make_project):
    bad = "input_txt: hi\n"
    root = make_project(files={
        "runs/ci/nightly.overrides.yml": bad,
        "runs/Overrides-Prod.JSON": '{"input_txt": "hi"}\n',
        "stepA/overrides.yaml": bad,  # a step folder
        "stepA/1/overrides.yaml": bad,
        ".pipeline-ci/overrides.yaml": bad,
        "node_modules/overrides.yaml": bad,
        "runs/notes.yaml": bad,
        "nested/config.yaml": "pipeline:\n  id: other\n",  # another project: its overrides are its own
        "nested/overrides.yaml": bad,
    })
    names = sorted(Path(d.file).resolve().relative_to(root.resolve()).as_posix() for d in load_project(root).overrides)
    assert names == ["runs/Overrides-Prod.JSON", "runs/ci/nightly.overrides.yml"]
    outer = {(rule, file) for rule, file, _, _ in found(root) if not file.startswith("nested/")}
    assert outer == {("O02", "runs/Overrides-Prod.JSON"), ("O02", "runs/ci/nightly.overrides.yml")}


def test_nested_step_entries_are_skipped_but_their_parent_folder_is_searched(make_project):
    root = make_project(files={"group/stepX/overrides.yaml": "input_txt: hi\n", "group/overrides.yaml": "input_text: a\n"})
    config = (root / "config.yaml").read_text().replace("  - stepB\n", "  - stepB\n  - ./group/stepX/\n")
    (root / "config.yaml").write_text(config)
    names = [Path(d.file).resolve().relative_to(root.resolve()).as_posix() for d in load_project(root).overrides]
    assert names == ["group/overrides.yaml"]


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_symlinks_leading_out_are_not_read(make_project, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "overrides.yaml").write_text("input_txt: hi\n")
    root = make_project()
    (root / "overrides.yaml").symlink_to(outside / "overrides.yaml")
    (root / "runs").symlink_to(outside, target_is_directory=True)
    project = load_project(root)
    assert project.overrides == []
    assert [(Path(e.file).name, e.error.message) for e in project.overrides_errors] == [
        ("overrides.yaml", "symlink leading out of the project; not read")]
    assert found(root) == [("F01", "overrides.yaml", 1, 1)]


@pytest.mark.parametrize("spec", [
    BASE_SPEC.replace("name: users/u1/apps/a1/pipeline_steps/stepA\n", "name: [x]\n", 1),
    BASE_SPEC.replace("          - name: input_text\n", "          - name: [input_text]\n", 1),
    BASE_SPEC.replace("    parameters:\n    - name: input_text\n      value: hi\n", "    parameters: 3\n"),
    "[]\n",
])
def test_malformed_specs_do_not_crash(make_project, spec: str):
    root = make_project(spec=spec, files={"overrides.yaml": "input_text: hi\nx: [1, {a: null}]\n"})
    lint(root)
