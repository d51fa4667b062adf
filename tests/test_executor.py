"""The local executor with real subprocesses (Argo's steps, DAG, loop, retry and exit-handler semantics, plus
smoke tests), and run-time overrides (``--set`` / ``--overrides-file``)."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from pipeline_ci import overrides as ov
from pipeline_ci.platforms.local.executor import LocalRunResult, run_local
from pipeline_ci.platforms.local.executor.isolation import READY, normalised_requirements, satisfied
from pipeline_ci.testing.projects import BASE_SPEC, base_files, root_config

from .conftest import REPO, write_files

ECHO_STEP = """\
import argparse, json, sys
parser = argparse.ArgumentParser()
parser.add_argument("--input_text", required=True)
args = parser.parse_args()
print("{name} argv=" + json.dumps(sys.argv[1:]))
"""


WHEN_A_SUCCEEDED = "    - - name: step-b\n        when: \"{{steps.step-a.status}} == Succeeded\"\n"


def make(tmp_path: Path, spec: str, files: dict[str, str] | None = None, secrets: str = "") -> Path:
    content = base_files()
    content["config.yaml"] = root_config(textwrap.dedent(spec)) + secrets
    content["stepA/1/pipeline_step.py"] = ECHO_STEP.format(name="A")
    content["stepB/1/pipeline_step.py"] = ECHO_STEP.format(name="B")
    content.update(files or {})
    return write_files(tmp_path / "proj", content)


def run(root: Path, **kwargs) -> tuple[LocalRunResult, list[str]]:
    lines: list[str] = []
    kwargs.setdefault("isolation", "none")
    kwargs.setdefault("parallelism", 8)
    result = run_local(root, out=kwargs.pop("out", lines.append), **kwargs)
    return result, lines


def ts(node: dict, key: str) -> float:
    return datetime.fromisoformat(node[key].replace("Z", "+00:00")).timestamp()


def phases(result: LocalRunResult) -> dict[str, str]:
    return {n["name"]: n["phase"] for n in result.nodes}


SCRIPT_SPEC = """\
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
{templates}
"""


def script_spec(templates: str) -> str:
    return SCRIPT_SPEC.format(templates=textwrap.indent(textwrap.dedent(templates), "  "))


# --------------------------------------------------------------------------------- smoke tests


def test_sequential_steps_run_in_order_with_arguments(tmp_path):
    spec = BASE_SPEC.replace("    - - name: step-b\n", WHEN_A_SUCCEEDED)
    result, lines = run(make(tmp_path, spec))
    assert (result.phase, result.exit_code) == ("Succeeded", 0), lines
    assert '[step-a] A argv=["--input_text=hi"]' in lines
    assert '[step-b] B argv=["--input_text=hi"]' in lines
    a, b = result.node("step-a"), result.node("step-b")
    assert ts(a, "finished_at") <= ts(b, "started_at")
    record = json.loads(Path(result.record_path).read_text())
    assert record["phase"] == "Succeeded" and record["parameters"] == {"input_text": "hi"}
    assert Path(a["log"]).read_text().count("A argv=") == 1


def test_failing_step_stops_later_groups(tmp_path):
    root = make(tmp_path, BASE_SPEC, {"stepA/1/pipeline_step.py": "import sys\nprint('boom')\nsys.exit(1)\n"})
    result, lines = run(root)
    assert (result.phase, result.exit_code) == ("Failed", 1)
    assert result.node("step-a")["phase"] == "Failed" and result.node("step-a")["exit_code"] == 1
    assert result.node("step-b") is None
    assert not any(line.startswith("[step-b]") for line in lines)


def test_continue_on_failed_then_when_skips(tmp_path):
    spec = BASE_SPEC.replace(
        "    - - name: step-a\n", "    - - name: step-a\n        continueOn:\n          failed: true\n"
    ).replace("    - - name: step-b\n", WHEN_A_SUCCEEDED)
    root = make(tmp_path, spec, {"stepA/1/pipeline_step.py": "import sys\nsys.exit(3)\n"})
    result, _ = run(root)
    assert (result.phase, result.exit_code) == ("Succeeded", 0)
    assert result.node("step-a")["exit_code"] == 3
    assert result.node("step-b")["phase"] == "Skipped"
    assert result.node("step-b")["message"] == "when 'Failed == Succeeded' evaluated false"


def test_step_output_passing_strips_one_trailing_newline(tmp_path):
    spec = script_spec("""\
        - name: main
          steps:
          - - name: s1
              template: gen
          - - name: s2
              template: show
              arguments:
                parameters:
                - name: x
                  value: "{{steps.s1.outputs.parameters.out}}"
        - name: gen
          outputs:
            parameters:
            - name: out
              valueFrom:
                path: /outputs/out
          script:
            image: python:3.12
            command: [python]
            source: |
              import os
              with open("/outputs/out", "w") as fh:
                  fh.write("hello\\n\\n")
        - name: show
          inputs:
            parameters:
            - name: x
          script:
            image: python:3.12
            command: [python]
            source: |
              print(repr('''{{inputs.parameters.x}}'''))
        """)
    result, lines = run(make(tmp_path, spec))
    assert result.phase == "Succeeded", lines
    assert result.node("s1")["outputs"] == {"out": "hello\n"}
    assert "[s2] 'hello\\n'" in lines


def test_fan_out_children_and_aggregated_result(tmp_path):
    spec = script_spec("""\
        - name: main
          dag:
            tasks:
            - name: A
              template: echo
              withItems: [1, 2]
              arguments:
                parameters:
                - name: x
                  value: "{{item}}"
            - name: B
              depends: A.AnySucceeded
              template: echo
              arguments:
                parameters:
                - name: x
                  value: "{{tasks.A.outputs.result}}"
        - name: echo
          inputs:
            parameters:
            - name: x
          script:
            image: python:3.12
            command: [python]
            source: print('{{inputs.parameters.x}}')
        """)
    result, lines = run(make(tmp_path, spec))
    assert result.phase == "Succeeded", lines
    assert phases(result)["A(0:1)"] == phases(result)["A(1:2)"] == "Succeeded"
    assert result.node("A")["type"] == "Loop"
    assert "[B] [1,2]" in lines


# ------------------------------------------------------------------------------ concurrency and loops


def test_dag_branches_run_in_parallel(tmp_path):
    tasks = "".join(f"    - name: t{i}\n      template: nap\n" for i in range(4))
    nap = "- name: nap\n  script: {image: python:3.12, command: [python], source: 'import time; time.sleep(1)'}\n"
    spec = script_spec("- name: main\n  dag:\n    tasks:\n" + textwrap.indent(tasks, "  ") + nap)
    result, lines = run(make(tmp_path, spec), parallelism=4)
    assert result.phase == "Succeeded", lines
    nodes = [result.node(f"t{i}") for i in range(4)]
    # all four were running at once: a proof of parallelism that, unlike a stopwatch, a busy machine cannot fail
    assert max(ts(n, "started_at") for n in nodes) < min(ts(n, "finished_at") for n in nodes)


def test_with_param_from_previous_step_output(tmp_path):
    spec = script_spec("""\
        - name: main
          steps:
          - - name: gen
              template: gen
          - - name: each
              template: echo
              withParam: "{{steps.gen.outputs.result}}"
              arguments:
                parameters:
                - name: x
                  value: "{{item.k}}"
        - name: gen
          script:
            image: python:3.12
            command: [python]
            source: |
              print('[{"k": "a"}, {"k": "b"}]')
        - name: echo
          inputs:
            parameters:
            - name: x
          script:
            image: python:3.12
            command: [sh]
            source: echo "got {{inputs.parameters.x}}"
        """)
    result, lines = run(make(tmp_path, spec))
    assert result.phase == "Succeeded", lines
    assert {"each(0:k:a)", "each(1:k:b)"} <= set(phases(result))
    assert "[each(1:k:b)] got b" in lines


def test_handled_failure_does_not_fail_the_dag(tmp_path):
    spec = script_spec("""\
        - name: main
          dag:
            tasks:
            - name: A
              template: fail
            - name: B
              depends: A.Failed
              template: ok
        - name: fail
          script: {image: python:3.12, command: [python], source: "raise SystemExit(1)"}
        - name: ok
          script: {image: python:3.12, command: [python], source: "print('handled')"}
        """)
    result, lines = run(make(tmp_path, spec))
    assert (result.phase, result.exit_code) == ("Succeeded", 0), lines
    assert phases(result)["A"] == "Failed" and phases(result)["B"] == "Succeeded"


def test_dag_target_runs_only_targets_and_their_ancestors(tmp_path):
    spec = script_spec("""\
        - name: main
          dag:
            target: C
            tasks:
            - {name: A, template: fail, continueOn: {failed: true}}
            - {name: B, template: ok}
            - {name: C, dependencies: [A, B], template: ok}
            - {name: D, dependencies: [C], template: fail}
        - name: fail
          script: {image: python:3.12, command: [sh], source: "exit 1"}
        - name: ok
          script: {image: python:3.12, command: [sh], source: "echo ok"}
        """)
    result, lines = run(make(tmp_path, spec))
    assert (result.phase, result.exit_code) == ("Succeeded", 0), lines
    assert phases(result) == {result.record["workflow"]: "Succeeded", "A": "Failed", "B": "Succeeded", "C": "Succeeded"}


# ------------------------------------------------------------------------------ retries, when, exit handler


def test_retries_until_success(tmp_path):
    counter = tmp_path / "count"
    spec = script_spec(f"""\
        - name: main
          steps:
          - - name: flaky
              template: flaky
        - name: flaky
          retryStrategy:
            limit: "2"
            backoff: {{duration: "50ms", factor: 2}}
          script:
            image: python:3.12
            command: [python]
            source: |
              import pathlib, sys
              p = pathlib.Path({str(counter)!r})
              n = int(p.read_text()) if p.exists() else 0
              p.write_text(str(n + 1))
              print("attempt {{{{retries}}}}")
              sys.exit(0 if n >= 2 else 1)
        """)
    result, lines = run(make(tmp_path, spec))
    assert result.phase == "Succeeded", lines
    node = result.node("flaky")
    assert node["attempts"] == 3 and node["exit_code"] == 0
    assert "[flaky] attempt 2" in lines and counter.read_text() == "3"


def test_when_false_skips_and_skipped_outputs_are_empty(tmp_path):
    spec = script_spec("""\
        - name: main
          steps:
          - - name: maybe
              template: gen
              when: "{{workflow.parameters.input_text}} == yes"
          - - name: after
              template: echo
              arguments:
                parameters:
                - name: x
                  value: "[{{steps.maybe.outputs.parameters.out}}|{{steps.maybe.status}}]"
        - name: gen
          outputs:
            parameters:
            - name: out
              valueFrom: {path: /tmp/out}
          script: {image: python:3.12, command: [sh], source: "echo x > /tmp/out"}
        - name: echo
          inputs:
            parameters:
            - name: x
          script: {image: python:3.12, command: [python], source: "print('{{inputs.parameters.x}}')"}
        """)
    result, lines = run(make(tmp_path, spec))
    assert result.phase == "Succeeded", lines
    assert result.node("maybe")["phase"] == "Skipped"
    assert result.node("maybe")["message"] == "when 'hi == yes' evaluated false"
    assert "[after] [|Skipped]" in lines


def test_exit_handler_runs_after_failure_and_sees_status(tmp_path):
    spec = script_spec("""\
        - name: main
          steps:
          - - name: bad
              template: fail
        - name: fail
          script: {image: python:3.12, command: [python], source: "raise SystemExit(2)"}
        - name: cleanup
          script:
            image: python:3.12
            command: [python]
            source: |
              import json
              failures = json.loads(r'''{{workflow.failures}}''')
              print("status={{workflow.status}} failed=" + ",".join(f["displayName"] for f in failures))
        """).replace("  entrypoint: main\n", "  entrypoint: main\n  onExit: cleanup\n")
    result, lines = run(make(tmp_path, spec))
    assert (result.phase, result.exit_code) == ("Failed", 1), lines
    assert result.node("onExit")["phase"] == "Succeeded"
    assert any(line.startswith("[onExit] status=Failed failed=") and "bad" in line for line in lines), lines


# ------------------------------------------------------------------------------ deadlines and cancellation


def test_template_deadline_kills_the_step(tmp_path):
    spec = script_spec("""\
        - name: main
          steps:
          - - name: slow
              template: slow
        - name: slow
          activeDeadlineSeconds: 1
          script: {image: python:3.12, command: [python], source: "import time; time.sleep(30)"}
        """)
    result, lines = run(make(tmp_path, spec))
    node = result.node("slow")
    assert (result.phase, result.exit_code) == ("Failed", 1)
    assert node["phase"] == "Failed" and node["message"] == "Step exceeded its deadline"
    assert node["duration"] < 5


def test_whole_run_timeout_exits_4(tmp_path):
    root = make(tmp_path, BASE_SPEC, {"stepA/1/pipeline_step.py": "import time\ntime.sleep(30)\n"})
    started = time.monotonic()
    result, _ = run(root, timeout=1)
    assert (result.phase, result.exit_code) == ("TimedOut", 4)
    assert time.monotonic() - started < 8
    assert result.node("step-b") is None


def _group_gone(pgid: int, within: float = 8.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_cancel_kills_steps_and_grandchildren(tmp_path):
    step = "import subprocess, time\nsubprocess.Popen(['sleep', '60'])\nprint('ready', flush=True)\ntime.sleep(60)\n"
    spec = BASE_SPEC.replace("  entrypoint: main\n", "  entrypoint: main\n  onExit: main\n")
    root = make(tmp_path, spec, {"stepA/1/pipeline_step.py": step})
    cancel = threading.Event()
    lines: list[str] = []

    def out(line: str) -> None:
        lines.append(line)
        if line == "[step-a] ready":
            cancel.set()

    result = run_local(root, parameters={}, parallelism=2, isolation="none", timeout=30, secrets_file=None,
                       out=out, cancel=cancel)
    assert (result.phase, result.exit_code) == ("Cancelled", 5), lines
    pgids = [pid for node in result.nodes for pid in node["pids"]]
    assert pgids
    assert all(_group_gone(pgid) for pgid in pgids)
    assert result.node("onExit") is None and result.node("step-b") is None


def test_workflow_deadline_fails_the_run_after_the_exit_handler(tmp_path):
    spec = script_spec("""\
        - name: main
          steps:
          - - name: slow
              template: slow
        - name: slow
          script: {image: python:3.12, command: [python], source: "import time; time.sleep(30)"}
        - name: bye
          script: {image: python:3.12, command: [sh], source: "echo status={{workflow.status}}"}
        """).replace("  entrypoint: main\n", "  entrypoint: main\n  onExit: bye\n  activeDeadlineSeconds: 1\n")
    result, lines = run(make(tmp_path, spec))
    assert (result.phase, result.exit_code) == ("Failed", 1), lines
    assert "activeDeadlineSeconds" in result.message and result.node("slow")["phase"] == "Failed"
    assert "[onExit] status=Failed" in lines


# ------------------------------------------------------------------------------ secrets

SECRETS = """\
  config:
    step_version_secrets:
      step-a:
        ENV_TOKEN: users/u1/secrets/env-token
        FILE_TOKEN: users/u1/secrets/file-token
"""

SECRET_STEP = """\
import os, tempfile
print("env token is", os.environ["ENV_TOKEN"])
ok = os.environ["ENV_TOKEN"] == "env-secret-1" and os.environ["FILE_TOKEN"] == "file secret 2"
open(os.path.join(tempfile.gettempdir(), "result"), "w").write(str(ok))
"""


def test_secrets_from_env_and_file_reach_the_step(tmp_path, monkeypatch):
    root = make(tmp_path, BASE_SPEC, {"stepA/1/pipeline_step.py": SECRET_STEP}, secrets=SECRETS)
    secrets_file = tmp_path / "s.env"
    secrets_file.write_text("# local secrets\nexport FILE_TOKEN='file secret 2'\nENV_TOKEN=from-file\n")
    monkeypatch.setenv("ENV_TOKEN", "env-secret-1")
    result, lines = run(root, secrets_file=secrets_file)
    assert result.phase == "Succeeded", lines
    assert result.node("step-a")["outputs"] == {"result": "True"}
    assert "[step-a] env token is ***" in lines
    text = "\n".join(lines) + Path(result.record_path).read_text() + Path(result.node("step-a")["log"]).read_text()
    assert "env-secret-1" not in text and "file secret 2" not in text


def test_missing_secret_of_the_third_step_exits_2_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("ENV_TOKEN", raising=False)
    monkeypatch.delenv("FILE_TOKEN", raising=False)
    spec = BASE_SPEC + BASE_SPEC.split("    steps:\n", 1)[1].replace("step-a", "step-c").replace("step-b", "step-d")
    secrets = SECRETS.replace("      step-a:\n", "      step-c:\n")
    root = make(tmp_path, spec, {"stepA/1/pipeline_step.py": SECRET_STEP}, secrets=secrets)
    secrets_file = tmp_path / "s.env"
    secrets_file.write_text("FILE_TOKEN=do-not-print-me\n")
    result, lines = run(root, secrets_file=secrets_file)
    assert (result.phase, result.exit_code, result.run_id, result.record) == ("Error", 2, None, None), lines
    message = "\n".join(lines)
    assert "step 'step-c' needs secret ENV_TOKEN" in message and "config.yaml:" in message
    assert "FILE_TOKEN" not in message and "do-not-print-me" not in message
    assert not (root / ".pipeline-ci" / "runs").exists()  # no run folder, so no step log


# ------------------------------------------------------------------------------ overrides


def test_overrides_file_format_is_chosen_by_content(tmp_path):
    yaml_file = tmp_path / "o.json"  # YAML content, misleading name
    yaml_file.write_text("input_text: hello\nflag: true\nratio: 1.0\nitems: [1, {a: b}]\n")
    json_file = tmp_path / "o.yaml"  # JSON content
    json_file.write_text('{"input_text": "from json", "flag": false, "ratio": 0.50}')
    assert ov.merge(ov.load_overrides_file(yaml_file), {}) == {
        "input_text": "hello", "flag": "true", "ratio": "1.0", "items": '[1,{"a":"b"}]'}
    assert ov.merge(ov.load_overrides_file(json_file), {}) == {
        "input_text": "from json", "flag": "false", "ratio": "0.50"}


def test_set_wins_over_file_and_keeps_file_order(tmp_path):
    path = tmp_path / "o.yaml"
    path.write_text("a: file-a\nb: file-b\n")
    merged = ov.merge(ov.load_overrides_file(path), ov.parse_set(["b=x=y", "c=", "b=last"]))
    assert merged == {"a": "file-a", "b": "last", "c": ""} and list(merged) == ["a", "b", "c"]
    with pytest.raises(ov.OverridesError, match="^invalid --set 'nope': expected KEY=VALUE$"):
        ov.parse_set(["nope"])
    with pytest.raises(ov.OverridesError, match="^invalid --set 'nope', 'also': expected KEY=VALUE$"):  # all at once
        ov.parse_set(["nope", "a=1", "also"])


def test_true_stays_true_all_the_way_to_the_step(tmp_path):
    path = tmp_path / "o.yaml"
    path.write_text("input_text: true\n")
    result, lines = run(make(tmp_path, BASE_SPEC), parameters=ov.merge(ov.load_overrides_file(path), {}))
    assert result.phase == "Succeeded"
    assert '[step-a] A argv=["--input_text=true"]' in lines


def test_malformed_overrides_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("input_text: hi\nother: [unclosed\nthird: x\n")
    with pytest.raises(ov.OverridesError, match=r"^.*bad\.yaml:\d+:\d+: invalid YAML"):
        ov.load_overrides_file(bad)
    cases = [
        ("- a\n", "but it is a list"),
        ("", "but it is empty"),
        ("x: null\n", "bad.yaml:1:4: parameter 'x' is null"),
        ("{ invalid json }", "bad.yaml:1:3: invalid JSON"),
        ("a: 1\na: 2\n", "bad.yaml:2:1: duplicate key"),
    ]
    for text, gist in cases:
        bad.write_text(text)
        with pytest.raises(ov.OverridesError, match=gist.replace(".", r"\.")):
            ov.load_overrides_file(bad)


def test_unknown_parameter_is_a_usage_error_with_suggestion(tmp_path):
    errors = ov.validate({"input_txt": "x"}, {"input_text": {}}, {})
    assert errors == ["unknown parameter 'input_txt': the workflow declares input_text; did you mean 'input_text'?"]
    result, lines = run(make(tmp_path, BASE_SPEC), parameters={"input_txt": "x"})
    assert (result.phase, result.exit_code, result.run_id) == ("Error", 2, None)
    assert any("did you mean 'input_text'?" in line for line in lines)


def test_accepted_values_of_steps_are_enforced(tmp_path):
    step_config = base_files()["stepA/config.yaml"].replace(
        "  description: Text to process\n", "  description: Text to process\n  accepted_values: [hi, ho]\n")
    root = make(tmp_path, BASE_SPEC, {"stepA/config.yaml": step_config})
    result, lines = run(root, parameters={"input_text": "hey"})
    assert result.exit_code == 2 and "accepted values: hi, ho" in "\n".join(lines)
    assert "not in the accepted_values of step 'stepA' (input 'input_text')" in "\n".join(lines)
    assert run(root, parameters={"input_text": "ho"})[0].exit_code == 0


def test_unmapped_template_ref_is_a_usage_error(tmp_path):
    spec = BASE_SPEC.replace("pipeline_steps/stepB", "pipeline_steps/stepC")
    result, lines = run(make(tmp_path, spec))
    assert result.exit_code == 2 and result.record is None
    assert any("maps to no local step folder" in line and "u1/a1/stepC" in line for line in lines)


# ------------------------------------------------------------------------------ isolation and the example


def test_requirements_checks():
    assert normalised_requirements("# only a comment\n\n  \n") == []
    assert normalised_requirements("b>=1  # why\na\\\n==2\nb>=1\n") == ["a ==2", "b>=1"]
    assert satisfied(["packaging>=20", "pyyaml; python_version > '3'"])
    assert not satisfied(["packaging<1"]) and not satisfied(["surely-not-installed-pkg-xyz"])
    assert not satisfied(["-r other.txt"])


def test_venv_isolation_is_created_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_CI_HOME", str(tmp_path / "home"))  # the shared envs: tests/test_envs.py
    step = "import sys\nprint('prefix=' + sys.prefix)\n"
    root = make(tmp_path, BASE_SPEC, {"stepA/1/pipeline_step.py": step, "stepB/1/pipeline_step.py": step})
    auto, lines = run(root, isolation="auto")  # requirements.txt holds only a comment: nothing to install
    assert auto.phase == "Succeeded" and not (tmp_path / "home" / "envs").exists()
    first, lines = run(root, isolation="venv")
    assert first.phase == "Succeeded", lines
    venvs = [p for p in (tmp_path / "home" / "envs").iterdir() if p.is_dir()]
    assert len(venvs) == 1 and (venvs[0] / READY).is_file()
    assert f"[step-a] prefix={venvs[0]}" in lines
    marker = (venvs[0] / READY).stat().st_mtime_ns
    started = time.monotonic()
    second, _ = run(root, isolation="venv")
    assert second.phase == "Succeeded" and time.monotonic() - started < 3
    assert (venvs[0] / READY).stat().st_mtime_ns == marker


def test_hello_pipeline_end_to_end(tmp_path, monkeypatch):
    root = tmp_path / "hello"
    ignore = shutil.ignore_patterns(".pipeline-ci", "__pycache__", "secrets.env")
    shutil.copytree(REPO / "examples" / "hello-pipeline", root, ignore=ignore)
    monkeypatch.setenv("REPORT_TOKEN", "dummy-token")
    result, lines = run(root, secrets_file=None)
    assert (result.phase, result.exit_code) == ("Succeeded", 0), lines
    assert json.loads(result.node("report")["outputs"]["result"])["top_word"] == "the"
    assert [n["name"] for n in result.nodes if n["type"] == "Pod"][0] == "prepare"
