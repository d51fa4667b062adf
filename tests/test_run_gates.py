"""What `pipeline-ci run` refuses before anything starts, through the real CLI: a spec with lint errors (the gate of
`upload`/`deploy`, exit 2, no run record), the Argo settings the local executor cannot honour (`spec.shutdown`, a
container's `workingDir` and `stdin`), an undeclared workflow parameter reaching the executor when lint is told to
look away, and the final message of a DAG without `target`. Projects are built from
pipeline_ci/testing/projects.py (our own lint-clean base project)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from pipeline_ci.testing.projects import BASE_SPEC

from .conftest import run_cli
from .test_executor import make
from .test_runs_pai import MANIFEST

ONE_STEP = BASE_SPEC.split("    - - name: step-b\n")[0]  # the base project's spec with its first step only


def step_spec(value: str, extra: str = "") -> str:
    """:data:`ONE_STEP` passing ``value`` to the step, with ``extra`` lines added to the step."""
    return ONE_STEP.replace('"{{workflow.parameters.input_text}}"', f'"{value}"') + extra

# (what the reviewer wrote, the rule that reports it)
LINT_ERRORS = {
    "undeclared-parameter": (step_spec("{{workflow.parameters.zzz}}"), "A28"),
    "unknown-step-output": (step_spec("{{steps.nope.outputs.result}}"), "A30"),
    "withparam-not-json": (step_spec("{{item}}", '        withParam: "not json"\n'), "A19"),
}


def run_local_cli(root: Path, *more: str):
    return run_cli(["run", str(root), "--backend", "local", "--isolation", "none", *more], timeout=120)


@pytest.mark.parametrize("case", sorted(LINT_ERRORS))
def test_lint_errors_stop_a_local_run_before_anything_starts(tmp_path: Path, case: str):
    spec, rule = LINT_ERRORS[case]
    root = make(tmp_path, spec)
    result = run_local_cli(root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("pipeline-ci: error: lint errors: nothing was started"), result.stderr
    line = next(x for x in result.stdout.splitlines() if f"error [{rule}]" in x)
    where = line.split(": error", 1)[0]  # config.yaml:LINE:COL (the finding's position, as `lint` prints it)
    assert where.endswith(tuple(f":{n}" for n in range(1, 200))) and where.count(":") == 2, line
    assert "A argv=" not in result.stdout and not (root / ".pipeline-ci" / "runs").exists()  # no step, no record


def test_a_clean_spec_still_runs_and_deploy_run_refuses_the_same(tmp_path: Path):
    good = make(tmp_path / "good", step_spec("{{workflow.parameters.input_text}}"))
    ran = run_local_cli(good)
    assert ran.returncode == 0 and "A argv=" in ran.stdout and "lint" not in ran.stdout, ran.stdout + ran.stderr
    bad = make(tmp_path / "bad", LINT_ERRORS["undeclared-parameter"][0])
    deployed = run_cli(["deploy", str(bad), "--backend", "local", "--run", "--isolation", "none"], timeout=120)
    assert deployed.returncode == 2 and "lint errors: nothing was uploaded" in deployed.stderr


def test_the_executor_fails_an_undeclared_workflow_parameter_instead_of_passing_its_text(tmp_path: Path):
    root = make(tmp_path, LINT_ERRORS["undeclared-parameter"][0],
                files={".pipeline-ci.yaml": "disable: [A28]\n"})  # lint looks away: the executor must not
    result = run_local_cli(root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "{{workflow.parameters.zzz}}" not in result.stdout.split("failed to resolve", 1)[0]  # never passed on
    assert "A argv=" not in result.stdout
    record = json.loads(next((root / ".pipeline-ci" / "runs").glob("*/record.json")).read_text())
    node = next(n for n in record["nodes"] if n["name"] == "step-a")
    assert node["phase"] == "Error" and "failed to resolve {{workflow.parameters.zzz}}" in node["message"], node


INLINE = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: p-
spec:
  entrypoint: main
{top}  templates:
  - name: main
    container:
      image: python:3.12
      command: [sh, -c, "pwd; echo ran"]
{container}"""


@pytest.mark.parametrize("top, container, feature, path", [
    ("  shutdown: Terminate\n", "", "spec.shutdown: Terminate", "spec.shutdown"),
    ("  shutdown: Stop\n", "", "spec.shutdown: Stop", "spec.shutdown"),
    ("", "      workingDir: /app\n", "template 'main': workingDir", "spec.templates[0].container.workingDir"),
    ("", "      stdin: true\n", "template 'main': stdin", "spec.templates[0].container.stdin"),
    ("  templateDefaults:\n    container: {workingDir: /app}\n", "", "spec.templateDefaults: workingDir",
     "spec.templateDefaults.container.workingDir"),
])
def test_settings_the_executor_cannot_honour_are_refused_and_linted(tmp_path: Path, top: str, container: str,
                                                                    feature: str, path: str):
    root = make(tmp_path, INLINE.format(top=top, container=container))
    result = run_local_cli(root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{path}: {feature} cannot run locally" in result.stdout, result.stdout
    assert "ran" not in result.stdout.split() and not (root / ".pipeline-ci" / "runs").exists()
    linted = run_cli(["lint", str(root), "--no-cache"], timeout=60)
    assert f"warning [A41] {feature} cannot run locally" in linted.stdout, linted.stdout
    if "workingDir" in feature:
        allowed = run_local_cli(root, "--allow-unsupported")  # said again, then run as far as it goes
        assert f"{feature} cannot run locally" in allowed.stdout and "ran" in allowed.stdout.split(), allowed.stdout


DAG = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: p-
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
{target}      tasks:
      - {{name: A, template: fail}}
      - {{name: B, template: ok, depends: A.Failed}}
      - {{name: C, template: ok, depends: A.Errored}}
  - name: fail
    script: {{image: alpine, command: [sh], source: "exit 3"}}
  - name: ok
    script: {{image: alpine, command: [sh], source: "echo ok"}}
"""


@pytest.mark.parametrize("target, message", [
    ("", "task 'A' Failed (leaf task 'C' Omitted)"),
    ("      target: B C\n", "task 'A' Failed (target 'C' Omitted)"),
])
def test_a_dag_message_says_target_only_for_a_dag_target(tmp_path: Path, target: str, message: str):
    root = make(tmp_path, textwrap.dedent(DAG.format(target=target)))
    result = run_local_cli(root)
    assert result.returncode == 1, result.stdout + result.stderr
    final = next(x for x in result.stdout.splitlines() if x.startswith("workflow "))
    assert final.startswith("workflow p-") and final.endswith(f": {message}"), final
    assert ("target" in final) == bool(target), final


PAI_MANIFEST = MANIFEST.replace("type: Int\n", "type: Integer\n")  # not a PAI type: lint error P09


def test_a_pai_manifest_with_lint_errors_is_not_sent(tmp_path: Path):
    manifest = tmp_path / "pipeline.yaml"
    manifest.write_text(PAI_MANIFEST)
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret"}
    result = run_cli(["run", "--backend", "pai", "--manifest", str(manifest), "--workspace-id", "ws",
                      "--endpoint", "http://127.0.0.1:9"], env, timeout=60)  # nothing listens there: never asked
    assert result.returncode == 2, result.stdout + result.stderr
    assert "pipeline.yaml:10:13: error [P09]" in result.stdout, result.stdout
    assert "lint errors: nothing was started" in result.stderr


def test_a_python_defined_pipeline_is_gated_at_its_python_lines(tmp_path: Path):
    from .test_dsl import cli as dsl_cli
    from .test_dsl import copy, env_for, sdk_python

    flow = copy("local_flow", tmp_path) / "flow.py"  # tests/data/dsl/local_flow (see its README)
    text = flow.read_text().replace("shout(text=text, times=2)", 'shout(text="{{workflow.parameters.nope}}", times=2)')
    flow.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "workflow.parameters.nope" in t)
    result = dsl_cli(flow.parent, env_for(sdk_python()), "run", "flow.py", "--isolation", "none")
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"flow.py:{line}:" in result.stdout and "error [A28]" in result.stdout, result.stdout
    assert "lint errors: nothing was started" in result.stderr and "WORLD" not in result.stdout
