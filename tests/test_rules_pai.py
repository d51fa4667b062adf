"""PAI pipeline manifests (Alibaba Cloud's "PAI-Flow manifest parameters"): discovery, loading, and the P rules
(docs/rules.md), one test group per rule (numbered "row 1" = P01 ... "row 13" = P13), with exact positions."""

from __future__ import annotations

import copy
import functools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline_ci.discovery import discover, looks_like_manifest
from pipeline_ci.lint import lint_paths, lint_project
from pipeline_ci.platforms.pai.manifest import Manifest, load_manifest, parse_range
from pipeline_ci.rules.base import Options
from pipeline_ci.settings import Settings
from pipeline_ci.testing.projects import base_files

from .conftest import MUTATION_KINDS, REPO, mutate_lines, write_files

HEAD = """\
apiVersion: core/v1
metadata:
  provider: "1234567890"
  identifier: train
  version: v1.0.0
"""


def step(name: str, identifier: str | None = None, body: str = "") -> str:
    """A registered-component step of ``spec.pipelines`` (indented for it), with an optional ``spec`` body."""
    text = (f"  - metadata:\n      provider: pai\n      identifier: {identifier or name}\n      version: v1\n"
            f"      name: {name}\n")
    if body:
        text += "    spec:\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "      ") + "\n"
    return text


def findings(tmp_path: Path, text: str, name: str = "pipeline.yaml") -> list[tuple[str, int, int, str]]:
    """``(rule, line, col, severity)`` of every finding for the manifest ``text``, sorted."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = lint_paths([path])
    return sorted((f.rule, f.line, f.col, f.severity) for f in result.findings)


def messages(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "pipeline.yaml"
    path.write_text(text, encoding="utf-8")
    return [f"{f.rule} {f.line}:{f.col} {f.message}" for f in lint_paths([path]).findings]


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line number of the ``nth`` line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[nth - 1]


# -- the examples --------------------------------------------------------------------------------------------


def test_examples_pai_lint_clean_from_the_cli():
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", "lint", "examples/pai/"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "no problems found in 2 project(s)"


def test_examples_pai_load_as_manifests():
    manifest = load_manifest(REPO / "examples" / "pai" / "inline-component.yaml")
    assert isinstance(manifest, Manifest) and manifest.errors == []
    assert not hasattr(manifest, "config") and not hasattr(manifest, "steps")  # a model of its own
    assert len(manifest.documents) == 2 and manifest.entry is manifest.documents[-1]
    assert manifest.entry.data["metadata"]["identifier"] == "lr_sweep"
    assert manifest.entry.pos(("spec", "pipelines", 0, "metadata", "guid")).line == 42
    assert manifest.root == (REPO / "examples" / "pai").resolve()


# -- project model and discovery -----------------------------------------------------------------------------


def test_detection_is_a_top_level_core_v1_api_version(tmp_path: Path):
    cases = {
        "a.yaml": "apiVersion: core/v1\n",
        "b.yml": '# comment\napiVersion: "core/v1"\nmetadata: {}\n',
        "c.YAML": "apiVersion: 'core/v1'\n",
        "d.yaml": "kind: x\n  apiVersion: core/v1\n",  # not top level
        "e.yaml": "apiVersion: argoproj.io/v1alpha1\n",
        "f.json": '{"apiVersion": "core/v1"}\n',
        "g.txt": "apiVersion: core/v1\n",
    }
    write_files(tmp_path, cases)
    got = {name for name in cases if looks_like_manifest(tmp_path / name)}
    assert got == {"a.yaml", "b.yml", "c.YAML"}
    os.mkfifo(tmp_path / "fifo.yaml")  # never opened: it would block
    assert not looks_like_manifest(tmp_path / "fifo.yaml")


def test_discovery_of_manifests_mixed_with_clarifai_projects(tmp_path: Path):
    write_files(tmp_path / "proj", base_files())
    write_files(tmp_path, {
        "pai/train.yaml": HEAD + "spec:\n  pipelines: []\n",
        "pai/nested/other.yml": HEAD + "spec:\n  pipelines: []\n",
        "pai/notes.yaml": "title: not a manifest\n",
        "proj/pai/inside.yaml": HEAD + "spec:\n  pipelines: []\n",
        "node_modules/pkg/skipped.yaml": HEAD + "spec: {}\n",
    })
    roots, unmatched = discover([tmp_path], manifests=True)
    shown = sorted(p.relative_to(tmp_path.resolve()).as_posix() for p in roots)
    assert shown == ["pai/nested/other.yml", "pai/train.yaml", "proj", "proj/pai/inside.yaml"]
    assert unmatched == []
    assert discover([tmp_path])[0] == [(tmp_path / "proj").resolve()]  # other callers see Clarifai roots only
    result = lint_paths([tmp_path])
    assert len(result.projects) == 4 and result.findings == []


def test_a_manifest_given_as_a_file_is_its_own_project(tmp_path: Path):
    proj = write_files(tmp_path / "proj", base_files())
    manifest = write_files(proj, {"pai.yaml": HEAD + "spec:\n  pipelines:\n" + step("a", body="dependencies: [b]")})
    path = manifest / "pai.yaml"
    assert discover([path], manifests=True) == ([path.resolve()], [])
    result = lint_paths([path])
    assert result.projects == [path.resolve()]
    assert [(f.rule, f.line) for f in result.findings] == [("P05", 14)]
    # a non-manifest file still maps to its enclosing Clarifai project
    assert lint_paths([proj / "stepA" / "config.yaml"]).projects == [proj.resolve()]


def test_only_pai_rules_look_at_manifest_projects(tmp_path: Path):
    text = (REPO / "examples" / "broken" / "pai-undeclared-input" / "pipeline.yaml").read_text()
    text += "---\n- not a mapping\n"  # an extra broken document
    project_path = tmp_path / "m.yaml"
    project_path.write_text(text)
    project = load_manifest(project_path)
    found = lint_project(project, Options(strict=True, require_fresh_locks=True), Settings())
    assert found and {f.rule[0] for f in found} == {"P"}


def test_symlinked_manifest_leading_out_of_the_folder_is_not_read(tmp_path: Path):
    outside = write_files(tmp_path / "outside", {"secret.yaml": HEAD + "spec: {}\n"})
    inside = tmp_path / "inside"
    inside.mkdir()
    os.symlink(outside / "secret.yaml", inside / "link.yaml")
    assert discover([inside], manifests=True) == ([], [inside])


def test_no_project_at_all_is_a_usage_error_naming_both_kinds(tmp_path: Path):
    from pipeline_ci.lint import UsageError

    with pytest.raises(UsageError, match="no Clarifai pipeline project .* or PAI pipeline manifest"):
        lint_paths([tmp_path])


def test_multi_document_positions_are_file_positions(tmp_path: Path):
    text = (REPO / "examples" / "pai" / "inline-component.yaml").read_text()
    text = text.replace("{{inputs.parameters.final_lr}}", "{{inputs.parameters.final_rl}}")
    assert findings(tmp_path, text) == [("P07", line_of(text, "final_rl"), 17, "error")]


def test_suppression_comments_work_in_manifests(tmp_path: Path):
    text = HEAD + "spec:\n  pipelines:\n" + step("a", body="dependencies: [b]  # pipeline-ci: disable=P05")
    assert findings(tmp_path, text) == []


# -- row 1: YAML, mappings, entry last (P01) -----------------------------------------------------------------


def test_p01_syntax_error_duplicate_key_and_non_mapping_documents(tmp_path: Path):
    assert findings(tmp_path, "apiVersion: core/v1\nmetadata: [a\n") == [("P01", 3, 1, "error")]
    text = HEAD + "  version: v2\nspec:\n  pipelines: []\n"
    assert findings(tmp_path, text) == [("P01", 6, 3, "error")]
    text = HEAD + "spec:\n  pipelines: []\n---\n- a list\n"  # (so the first document is not the entry either)
    assert findings(tmp_path, text) == [("P01", 2, 1, "error"), ("P01", 9, 1, "error")]
    text = HEAD + "spec:\n  pipelines: []\n---\n"  # a trailing empty document is the entry
    assert findings(tmp_path, text) == [("P01", 2, 1, "error"), ("P01", 8, 1, "error")]


def test_p01_syntax_error_in_a_later_document_has_its_file_position(tmp_path: Path):
    text = HEAD + "spec:\n  pipelines: []\n---\napiVersion: core/v1\nmetadata: {a: [}\n"
    assert findings(tmp_path, text) == [("P01", 10, 16, "error")]


def test_p01_documents_before_the_entry_are_guid_components(tmp_path: Path):
    text = HEAD + "spec:\n  pipelines: []\n---\n" + HEAD + "spec:\n  pipelines: []\n"
    assert findings(tmp_path, text) == [("P01", 2, 1, "error")]  # at the first document's metadata key
    component = "apiVersion: core/v1\nmetadata:\n  guid: g1\nspec:\n  container: {image: busybox}\n"
    entry_first = HEAD + "spec:\n  pipelines:\n  - metadata: {guid: g2, name: x}\n---\n"
    text = entry_first + component.replace("g1", "g2")
    assert findings(tmp_path, text) == [("P01", 2, 1, "error"), ("P01", 12, 9, "error")]
    assert findings(tmp_path, component + "---\n" + entry_first.replace("g2", "g1")[:-4]) == []


# -- row 2: apiVersion and the metadata triple (P02) ---------------------------------------------------------


def test_p02_api_version(tmp_path: Path):
    text = HEAD.replace("core/v1", "core/v1beta1") + "spec:\n  pipelines: []\n"
    assert findings(tmp_path, text) == [("P02", 1, 13, "error")]
    # a file whose documents all have another apiVersion is not a manifest; with a core/v1 component it is
    component = "apiVersion: core/v1\nmetadata: {guid: g1}\nspec: {container: {image: busybox}}\n---\n"
    text = component + HEAD.replace("core/v1", "core/v2") + "spec:\n  pipelines:\n  - metadata: {guid: g1, name: a}\n"
    assert findings(tmp_path, text) == [("P02", 5, 13, "error")]
    text = component + HEAD.replace("apiVersion: core/v1\n", "") + "spec:\n  pipelines:\n  - metadata: {guid: g1}\n"
    assert findings(tmp_path, text) == [("P02", 5, 1, "error")]
    # steps may omit apiVersion, but not state another one
    text = HEAD + "spec:\n  pipelines:\n  - apiVersion: core/v2\n    metadata: {guid: g1, name: a}\n"
    assert findings(tmp_path, component + text) == [("P02", 12, 17, "error")]


def test_p02_missing_triple_and_guid_steps(tmp_path: Path):
    text = "apiVersion: core/v1\nmetadata:\n  provider: p\nspec:\n  pipelines:\n" + step("a").replace(
        "      version: v1\n", "")
    assert findings(tmp_path, text) == [("P02", 2, 1, "error"), ("P02", 6, 5, "error")]
    assert "metadata.identifier and metadata.version are missing" in messages(tmp_path, text)[0]
    text = HEAD + "spec:\n  pipelines:\n  - metadata: {guid: g, name: a}\n"
    assert findings(tmp_path, text) == [("P11", 8, 22, "error")]  # no triple needed, but the guid must exist


def test_p02_types(tmp_path: Path):
    text = HEAD + textwrap.dedent("""\
        spec:
          inputs:
            parameters:
            - type: String
            - 3
          pipelines: just-a-string
          dependencies: [1]
        """)
    assert findings(tmp_path, text) == [
        ("P02", 9, 7, "error"),  # no name
        ("P02", 10, 7, "error"),  # not a mapping
        ("P02", 11, 14, "error"),  # pipelines: a string
        ("P02", 12, 18, "error"),  # dependencies[0]: not a name
    ]
    text = "apiVersion: core/v1\nmetadata: [a]\n"
    assert findings(tmp_path, text) == [("P02", 1, 1, "error"), ("P02", 2, 11, "error")]  # no spec; metadata a list


# -- row 3: step names (P03) ---------------------------------------------------------------------------------


def test_p03_duplicate_and_long_step_names(tmp_path: Path):
    text = HEAD + "spec:\n  pipelines:\n" + step("read") + step("read", "data_source")
    assert findings(tmp_path, text) == [("P03", 17, 13, "error")]
    long = "a" * 31
    text = HEAD + "spec:\n  pipelines:\n" + step(long, "data_source") + step("b" * 30, "data_source")
    assert findings(tmp_path, text) == [("P03", 12, 13, "warning")]


# -- row 4: one namespace for inputs and outputs (P04) -------------------------------------------------------


def test_p04_inputs_and_outputs_share_one_namespace(tmp_path: Path):
    text = HEAD + textwrap.dedent("""\
        spec:
          inputs:
            parameters:
            - {name: model, type: String}
          outputs:
            artifacts:
            - name: model
              from: "{{pipelines.train.outputs.artifacts.model}}"
          pipelines:
        """) + step("train", body="dependencies: []")
    assert findings(tmp_path, text) == [("P04", 12, 13, "error")]


# -- row 5: dependencies (P05) -------------------------------------------------------------------------------


def test_p05_unknown_and_self_dependencies(tmp_path: Path):
    text = HEAD + "spec:\n  pipelines:\n" + step("a") + step("b", body="dependencies: [a, c, b]")
    assert findings(tmp_path, text) == [("P05", 19, 25, "error"), ("P05", 19, 28, "error")]
    assert "did you mean" not in messages(tmp_path, text)[0]
    assert "depends on itself" in messages(tmp_path, text)[1]


# -- row 6: cycles and implicit dependencies (P06) -----------------------------------------------------------


def test_p06_cycle_path_over_explicit_and_implicit_edges(tmp_path: Path):
    text = HEAD + "spec:\n  pipelines:\n" + step("a", body="dependencies: [c]") + step(
        "b", body="dependencies: [a]") + step("c", body="""\
        dependencies: [b]
        """)
    assert findings(tmp_path, text) == [("P06", 14, 22, "error")]
    assert "a -> c -> b -> a" in messages(tmp_path, text)[0]
    # the same cycle through a from reference only: the cycle error and the unlisted-edge warning
    text = HEAD + "spec:\n  pipelines:\n" + step("a", body="""\
        arguments:
          artifacts:
          - name: inputTable
            from: "{{pipelines.b.outputs.artifacts.outputTable}}"
        """) + step("b", body="dependencies: [a]")
    assert findings(tmp_path, text) == [("P06", 17, 17, "error"), ("P06", 17, 17, "warning")]
    # a step referencing its own outputs
    text = HEAD + "spec:\n  pipelines:\n" + step("a", body="when: \"{{pipelines.a.outputs.parameters.x}} == 1\"")
    assert findings(tmp_path, text) == [("P06", 14, 13, "error")]


def test_p06_warns_about_references_missing_from_dependencies(tmp_path: Path):
    text = HEAD + "spec:\n  pipelines:\n" + step("gen") + step("loop", body="""\
        withParam: "{{pipelines.gen.outputs.result}}"
        arguments:
          parameters:
          - name: x
            value: "{{item}}"
        """)
    assert findings(tmp_path, text) == [("P06", 19, 18, "warning")]


# -- row 7: references (P07) ---------------------------------------------------------------------------------


REFS = HEAD + textwrap.dedent("""\
    spec:
      inputs:
        parameters:
        - {name: table, type: String, value: t}
        artifacts:
        - name: model_in
          metadata: {type: {Model: {locationType: OSS}}}
      outputs:
        parameters:
        - name: out
          from: "{{pipelines.read.outputs.parameters.rows}}"
      pipelines:
    """)


@pytest.mark.parametrize(("binding", "needle"), [
    ('- {name: x, from: "{{inputs.parameters.tabel}}"}', "declares no input parameter 'tabel'"),
    ('- {name: x, from: "{{inputs.params.table}}"}', "kind must be 'parameters' or 'artifacts'"),
    ('- {name: x, from: "{{inputs.parameters.model_in}}"}', "'model_in' is an input artifact"),
    ('- {name: x, from: "{{pipelines.raed.outputs.parameters.rows}}"}', "no step 'raed'"),
    ('- {name: x, from: "{{pipelines.read.output.parameters.rows}}"}', "kind must be"),
    ('- {name: x, from: "inputs.parameters.table"}', "from must be exactly one reference"),
    ('- {name: x, from: "{{inputs.parameters.table}}-suffix"}', "from must be exactly one reference"),
    ('- {name: x, value: "{{item}}"}', "{{item}} exists only in a loop step"),
    ('- {name: x, from: "{{inputs.artifacts.model_in}}"}', "a parameter takes parameters, not artifacts"),
])
def test_p07_unresolved_references(tmp_path: Path, binding: str, needle: str):
    body = "dependencies: [read]\narguments:\n  parameters:\n  " + binding
    text = REFS + step("read") + step("use", body=body)
    got = messages(tmp_path, text)
    assert len(got) == 1 and got[0].startswith(f"P07 {line_of(text, binding)}:") and needle in got[0], got


def test_p07_resolving_references_are_clean(tmp_path: Path):
    body = """\
        dependencies: [read]
        when: "{{pipelines.read.outputs.parameters.rows}} > {{inputs.parameters.table}}"
        withItems: [1, 2]
        arguments:
          parameters:
          - {name: x, value: "{{item}}"}
          - {name: y, from: "{{inputs.parameters.table}}"}
          artifacts:
          - {name: m, from: "{{inputs.artifacts.model_in}}"}
          - name: parts
            value:
            - {name: parts_0, from: "{{pipelines.read.outputs.artifacts.outputTable}}"}
        """
    assert findings(tmp_path, REFS + step("read") + step("use", body=body)) == []


def test_p07_pipeline_outputs_and_guid_component_outputs(tmp_path: Path):
    component = textwrap.dedent("""\
        apiVersion: core/v1
        metadata: {guid: g1, name: tmp-x}
        spec:
          outputs:
            parameters:
            - {name: accuracy, type: Double}
          container: {image: busybox, args: ["{{inputs.parameters.nope}}"]}
        ---
        """)
    text = component + HEAD + textwrap.dedent("""\
        spec:
          outputs:
            parameters:
            - {name: acc, type: Double, from: "{{pipelines.train.outputs.parameters.accuracy}}"}
            - {name: loss, type: Double, from: "{{pipelines.train.outputs.parameters.loss}}"}
          pipelines:
          - metadata: {guid: g1, name: train}
        """)
    got = findings(tmp_path, text)
    assert got == [("P07", 7, 38, "error"), ("P07", 18, 40, "error")]
    assert "which declares no output parameter 'loss' (declared: accuracy)" in messages(tmp_path, text)[1]


# -- row 8: arguments (P08) ----------------------------------------------------------------------------------


COMPONENT = textwrap.dedent("""\
    apiVersion: core/v1
    metadata: {guid: g1, name: tmp-train}
    spec:
      inputs:
        parameters:
        - {name: lr, type: Double, required: true, feasible: {range: "(0, 1]"}}
        - {name: epochs, type: Int, value: 3}
        artifacts:
        - name: data
          metadata: {type: {DataSet: {locationType: OSS}}}
      outputs:
        artifacts:
        - name: model
          metadata: {type: {Model: {locationType: OSS}}}
      container: {image: busybox}
    ---
    """)


def guid_step(arguments: str, name: str = "train") -> str:
    return COMPONENT + HEAD + "spec:\n  pipelines:\n" + (
        f"  - metadata: {{guid: g1, name: {name}}}\n    spec:\n      arguments:\n"
        + textwrap.indent(textwrap.dedent(arguments).strip("\n"), "        ") + "\n")


def test_p08_value_xor_from(tmp_path: Path):
    text = HEAD + "spec:\n  pipelines:\n" + step("a", body="""\
        arguments:
          parameters:
          - {name: both, value: 1, from: "{{inputs.parameters.x}}"}
          - name: neither
          artifacts:
          - name: parts
            value:
            - {name: parts_0}
        """)
    got = [f for f in findings(tmp_path, text) if f[0] == "P08"]
    assert got == [("P08", 16, 18, "error"), ("P08", 17, 17, "error"), ("P08", 21, 20, "error")]


def test_p08_arguments_against_a_known_component(tmp_path: Path):
    text = guid_step("""\
        parameters:
        - {name: lr, value: 0.1}
        - {name: epoch, value: 3}
        artifacts:
        - {name: lr, value: "{}"}
        """)
    assert findings(tmp_path, text) == [("P08", 29, 18, "error"), ("P08", 31, 18, "error")]
    assert "did you mean 'epochs'?" in messages(tmp_path, text)[0]
    assert "'lr' is an input parameter" in messages(tmp_path, text)[1]
    text = guid_step("parameters:\n- {name: epochs, value: 3}")
    assert findings(tmp_path, text) == [("P08", 24, 22, "warning")]  # required lr unbound, at the step's guid


# -- row 9: parameter types (P09) ----------------------------------------------------------------------------


def test_p09_types_values_and_ranges(tmp_path: Path):
    text = HEAD + textwrap.dedent("""\
        spec:
          inputs:
            parameters:
            - {name: a, type: string, value: x}
            - {name: b, type: Int, value: "5"}
            - {name: c, type: Int, value: true}
            - {name: d, type: Double, value: 1}
            - {name: e, type: List, value: [1]}
            - {name: f, type: Array, value: {k: v}}
            - {name: g, type: Double, value: 1.5, feasible: {range: "[0, 1)"}}
            - {name: h, type: Double, value: 1, feasible: {range: "[0, 1)"}}
            - {name: i, type: Int, value: 1, feasible: {range: "[0, INF)"}}
            - {name: j, type: Int, value: 1, feasible: {range: "0..1"}}
            - {name: k, type: Bool, value: false}
            - {name: l, type: Map, value: {endpoint: e}}
          pipelines: []
        """)
    assert findings(tmp_path, text) == [
        ("P09", 9, 23, "error"),  # string: not a type
        ("P09", 10, 35, "warning"),  # "5" is not an integer
        ("P09", 11, 35, "warning"),  # true is not an integer
        ("P09", 14, 37, "warning"),  # a mapping is not a sequence
        ("P09", 15, 38, "error"),  # 1.5 outside [0, 1)
        ("P09", 16, 38, "error"),  # 1 outside [0, 1)
        ("P09", 18, 56, "error"),  # unreadable range
    ]
    assert "did you mean 'String'?" in messages(tmp_path, text)[0]


def test_p09_arguments_of_a_known_component(tmp_path: Path):
    text = guid_step("parameters:\n- {name: lr, value: 0}\n- {name: epochs, value: many}")
    assert findings(tmp_path, text) == [("P09", 28, 29, "error"), ("P09", 29, 33, "warning")]


@pytest.mark.parametrize(("text", "inside", "outside"), [
    ("[0, 1)", [0, 0.5], [1, -0.1]),
    ("(0, 1]", [1, 0.5], [0]),
    ("(-INF, 0]", [-1e9, 0], [0.1]),
    ("[1,INF)", [1, 1e12], [0.9]),
])
def test_feasible_ranges(text, inside, outside):
    bounds = parse_range(text)
    assert bounds is not None
    assert all(bounds.contains(x) for x in inside) and not any(bounds.contains(x) for x in outside)


@pytest.mark.parametrize("text", ["0..1", "[0, 1", "[a, b]", "[nan, 1]", 5, None, "[0; 1]"])
def test_unreadable_ranges(text):
    assert parse_range(text) is None


# -- row 10: from types (P10) --------------------------------------------------------------------------------


def test_p10_parameter_types_and_artifact_metadata(tmp_path: Path):
    text = COMPONENT + HEAD + textwrap.dedent("""\
        spec:
          inputs:
            parameters:
            - {name: rate, type: String, value: "0.1"}
            artifacts:
            - name: table
              metadata: {type: {DataSet: {locationType: MaxComputeTable}}}
            - name: anything
              metadata: {type: {Any: {}}}
          outputs:
            artifacts:
            - name: model
              metadata: {type: {Model: {locationType: MaxComputeOfflineModel}}}
              from: "{{pipelines.train.outputs.artifacts.model}}"
            - name: model_any
              metadata: {type: {Any: {}}}
              from: "{{pipelines.train.outputs.artifacts.model}}"
          pipelines:
          - metadata: {guid: g1, name: train}
            spec:
              arguments:
                parameters:
                - {name: lr, from: "{{inputs.parameters.rate}}"}
                artifacts:
                - {name: data, from: "{{inputs.artifacts.table}}"}
        """)
    assert findings(tmp_path, text) == [
        ("P10", line_of(text, "from: \"{{pipelines.train.outputs.artifacts.model}}\""), 13, "error"),
        ("P10", line_of(text, "inputs.parameters.rate"), 28, "error"),
        ("P10", line_of(text, "inputs.artifacts.table"), 30, "error"),
    ]
    fixed = text.replace("{{inputs.artifacts.table}}", "{{inputs.artifacts.anything}}").replace(
        "type: String, value: \"0.1\"", "type: Double, value: 0.1").replace(
        "MaxComputeOfflineModel", "OSS")
    assert findings(tmp_path, fixed) == []


# -- row 11: guids (P11) -------------------------------------------------------------------------------------


def test_p11_unknown_and_duplicate_guids(tmp_path: Path):
    component = "apiVersion: core/v1\nmetadata: {guid: 3f9d2c1a}\nspec: {container: {image: busybox}}\n---\n"
    text = component + component + HEAD + "spec:\n  pipelines:\n  - metadata: {guid: 3f9d2c1b, name: a}\n"
    assert findings(tmp_path, text) == [("P11", 6, 18, "error"), ("P11", 16, 22, "error")]
    assert "did you mean '3f9d2c1a'?" in messages(tmp_path, text)[1]


# -- row 12: name vs identifier (P12) ------------------------------------------------------------------------


def test_p12_identifier_only_references_and_unsafe_names(tmp_path: Path):
    text = HEAD + "spec:\n  pipelines:\n" + step("data-source", "data_source") + step(
        "type transform", "type_transform", body="""\
        dependencies: [data_source]
        arguments:
          artifacts:
          - {name: inputTable, from: "{{pipelines.data_source.outputs.artifacts.outputTable}}"}
        """)
    assert findings(tmp_path, text) == [
        ("P12", 17, 13, "warning"),  # "type transform" is not identifier-safe
        ("P12", 19, 22, "warning"),  # dependency by identifier
        ("P12", 22, 36, "warning"),  # reference by identifier
    ]


# -- row 13: loops (P13) -------------------------------------------------------------------------------------


def test_p13_loops(tmp_path: Path):
    text = HEAD + "spec:\n  pipelines:\n" + step("a", body="""\
        withItems: [1, 2]
        withSequence: {start: "5", end: 2}
        parallelism: 0
        """)
    assert findings(tmp_path, text) == [
        ("P13", 15, 7, "warning"),  # two loop sources, at the second key
        ("P13", 15, 39, "warning"),  # start after end
        ("P13", 16, 20, "warning"),  # parallelism 0
    ]
    text = HEAD + "spec:\n  pipelines:\n" + step("a", body="withSequence: {start: 1, end: 1}\nparallelism: 2")
    assert findings(tmp_path, text) == []


# -- robustness ----------------------------------------------------------------------------------------------

SOURCES = [(REPO / "examples" / "pai" / name).read_text() for name in ("train-pipeline.yaml", "inline-component.yaml")]
MUTATIONS = st.sampled_from(MUTATION_KINDS)
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False)
    | st.text(alphabet="{}.ab-_", max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["name", "from", "value", "type"]),
                                                                inner, max_size=3),
    max_leaves=6,
)


@functools.cache
def _parsed(source: str) -> list:
    """The documents of one of SOURCES, parsed once (each example edits a deep copy)."""
    return list(yaml.safe_load_all(source))


def _lint_text(root: Path, text: str) -> None:
    path = root / "pipeline.yaml"
    path.write_text(text, encoding="utf-8")
    for f in lint_project(load_manifest(path), Options(), Settings()):
        assert f.line >= 1 and f.col >= 1 and f.message and f.rule.startswith("P")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.tuples(MUTATIONS, st.integers(0, 10_000),
                  st.text(alphabet=" -:[]{}\"'|>&*!#%@`,?\n\tabc019{}", max_size=12)),
        min_size=1, max_size=4),
    source=st.sampled_from(SOURCES),
)
def test_malformed_manifest_text_never_crashes(tmp_path_factory, edits, source):
    text = mutate_lines(source, edits)
    _lint_text(tmp_path_factory.mktemp("fuzz"), text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.tuples(st.integers(0, 10_000), JUNK), min_size=1, max_size=3),
       source=st.sampled_from(SOURCES))
def test_wrong_types_anywhere_never_crash(tmp_path_factory, picks, source):
    docs = copy.deepcopy(_parsed(source))
    for where, junk in picks:
        paths: list[tuple] = []

        def collect(value, path, out=paths):
            out.append(path)
            items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
            for k, v in items:
                collect(v, (*path, k))

        collect(docs, ())
        path = paths[where % len(paths)]
        if not path:
            continue
        holder = docs
        for part in path[:-1]:
            holder = holder[part]
        holder[path[-1]] = junk
    text = yaml.safe_dump_all([d for d in docs], sort_keys=False) if isinstance(docs, list) else ""
    _lint_text(tmp_path_factory.mktemp("types"), text)
