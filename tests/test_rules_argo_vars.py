"""Variable, expression and Clarifai templateRef rules A28–A37, A39 and ``pipeline_ci.argo.variables``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_ci.argo import variables
from pipeline_ci.rules import (
    clarifai_templateref,
    expression_tag,
    input_parameter_ref,
    item_ref,
    ref_owner,
    step_arguments,
    steps_ref,
    tasks_ref,
    unknown_variable,
    when_expression,
    workflow_parameter_ref,
)
from pipeline_ci.testing.projects import BASE_SPEC

from .conftest import lint

MINE = (
    workflow_parameter_ref,
    input_parameter_ref,
    steps_ref,
    tasks_ref,
    item_ref,
    unknown_variable,
    expression_tag,
    when_expression,
    clarifai_templateref,
    ref_owner,
    step_arguments,
)
MY_IDS = {rule.ID for rule in MINE}

HEAD = """\
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
"""

GEN = """\
  - name: gen
    script:
      image: python:3.12-slim
      command: [python]
      source: |
        open("/outputs/out", "w").write("hello")
    outputs:
      parameters:
      - name: out
        valueFrom:
          path: /outputs/out
"""


def ref(step: str, pad: str, value: str = "{{workflow.parameters.input_text}}", name: str | None = None) -> str:
    """templateRef + input_text argument lines of a step/task body."""
    full = f"users/u1/apps/a1/pipeline_steps/{step}"
    return (
        f"{pad}templateRef:\n{pad}  name: {name or full}\n{pad}  template: {name or full}\n"
        f'{pad}arguments:\n{pad}  parameters:\n{pad}  - name: input_text\n{pad}    value: "{value}"\n'
    )


def step(name: str, *extra: str, step_id: str = "stepA", value: str = "{{workflow.parameters.input_text}}") -> str:
    pad = "        "
    return f"      - name: {name}\n" + "".join(f"{pad}{line}\n" for line in extra) + ref(step_id, pad, value)


def steps_spec(*groups: list[str], more: str = "") -> str:
    out = HEAD + "  - name: main\n    steps:\n"
    for group in groups:
        body = "".join(group)
        out += "    - " + body[6:]  # the first step of the group opens the group list
    return out + more


def findings(project: Path, ids: set[str] | None = None) -> list[tuple[str, int, str]]:
    result = lint(project)
    return sorted((f.rule, f.line, f.severity) for f in result.findings if ids is None or f.rule in ids)


def mine(project: Path) -> list[tuple[str, int, str]]:
    return findings(project, MY_IDS)


def line_of(project: Path, needle: str, file: str = "config.yaml", nth: int = 0) -> int:
    lines = [n for n, text in enumerate((project / file).read_text().splitlines(), start=1) if needle in text]
    return lines[nth]


def messages(project: Path, rule: str) -> list[str]:
    return [f.message for f in lint(project).findings if f.rule == rule]


# ------------------------------------------------------------------------------- acceptance tests


def test_acceptance_1_valid_sequential_pipeline(make_project):
    spec = steps_spec(
        [step("step-a")],
        [step("step-b", 'when: "{{steps.step-a.status}} == Succeeded"', step_id="stepB")],
    )
    assert lint(make_project(spec)).findings == []


def test_acceptance_1_base_project_is_clean(make_project):
    assert lint(make_project(BASE_SPEC)).findings == []


def test_acceptance_5_undeclared_workflow_parameter(make_project):
    project = make_project(steps_spec([step("step-a", value="{{workflow.parameters.missing}}")]))
    assert mine(project) == [("A28", line_of(project, "workflow.parameters.missing"), "error")]
    assert "failed to resolve {{workflow.parameters.missing}}" in messages(project, "A28")[0]


def test_acceptance_5_inner_spaces(make_project):
    project = make_project(steps_spec([step("step-a", value="{{ workflow.parameters.input_text }}")]))
    assert lint(project).findings == []


def test_acceptance_6_step_output_in_later_group(make_project):
    spec = steps_spec([step("s1").split("templateRef")[0] + "        template: gen\n"],
                      [step("s2", value="{{steps.s1.outputs.parameters.out}}")], more=GEN)  # fmt: skip
    project = make_project(spec)
    assert mine(project) == []


def test_acceptance_6_same_group_is_an_error(make_project):
    s1 = "      - name: s1\n        template: gen\n"
    spec = steps_spec([s1, step("s2", value="{{steps.s1.outputs.parameters.out}}")], more=GEN)
    project = make_project(spec)
    assert mine(project) == [("A30", line_of(project, "steps.s1.outputs"), "error")]
    assert "same parallel group" in messages(project, "A30")[0]


def test_acceptance_6_unknown_output(make_project):
    s1 = "      - name: s1\n        template: gen\n"
    spec = steps_spec([s1], [step("s2", value="{{steps.s1.outputs.parameters.nope}}")], more=GEN)
    project = make_project(spec)
    assert mine(project) == [("A30", line_of(project, "outputs.parameters.nope"), "error")]
    assert "failed to resolve {{steps.s1.outputs.parameters.nope}}" in messages(project, "A30")[0]


DAG12 = """\
  - name: main
    dag:
      tasks:
      - name: A
        template: gen
      - name: B
        template: gen
      - name: C
        depends: A
        template: echo
{extra}"""

ECHO = """\
  - name: echo
    inputs:
      parameters:
      - name: x
    script:
      image: python:3.12-slim
      command: [python]
      source: print("{{inputs.parameters.x}}")
"""


def args_x(value: str) -> str:
    return f'        arguments:\n          parameters:\n          - name: x\n            value: "{value}"\n'


def test_acceptance_12_non_ancestor_argument(make_project):
    extra = args_x("{{tasks.B.outputs.result}}")
    project = make_project(HEAD + DAG12.format(extra=extra) + GEN + ECHO)
    assert mine(project) == [("A31", line_of(project, "tasks.B.outputs.result"), "error")]
    assert "missing dependency 'B' for parameter 'x'" in messages(project, "A31")[0]


def test_acceptance_12_non_ancestor_in_when(make_project):
    extra = "        when: \"'{{tasks.B.outputs.result}}' == 'hello'\"\n" + args_x("{{tasks.A.outputs.result}}")
    project = make_project(HEAD + DAG12.format(extra=extra) + GEN + ECHO)
    assert mine(project) == [("A31", line_of(project, "tasks.B.outputs.result"), "error")]


def test_dag_transitive_ancestor_is_fine(make_project):
    extra = args_x("{{tasks.A.outputs.result}}")
    dag = DAG12.format(extra=extra) + "      - name: D\n        depends: C\n        template: echo\n" + extra
    project = make_project(HEAD + dag + GEN + ECHO)
    assert mine(project) == []


def test_acceptance_13c_item_without_loop(make_project):
    project = make_project(steps_spec([step("step-a", value="{{item}}")]))
    assert mine(project) == [("A32", line_of(project, "{{item}}"), "error")]


def test_acceptance_13d_unknown_item_key(make_project):
    project = make_project(steps_spec([step("step-a", "withItems: [{name: a}]", value="{{item.nam}}")]))
    assert mine(project) == [("A32", line_of(project, "{{item.nam}}"), "error")]
    assert "failed to resolve {{item.nam}}" in messages(project, "A32")[0]
    assert "did you mean 'name'?" in messages(project, "A32")[0]


def test_acceptance_15a_name_must_equal_template(make_project):
    spec = BASE_SPEC.replace("template: users/u1/apps/a1/pipeline_steps/stepA", "template: stepA")
    project = make_project(spec)
    assert mine(project) == [("A36", line_of(project, "template: stepA"), "error")]
    assert messages(project, "A36") == [
        "templateRef name 'users/u1/apps/a1/pipeline_steps/stepA' must match template 'stepA'"
    ]


def test_acceptance_15b_name_pattern(make_project):
    spec = BASE_SPEC.replace("users/u1/apps/a1/pipeline_steps/stepA", "users/u1/pipeline_steps/stepA")
    project = make_project(spec)
    assert [f for f in mine(project) if f[0] == "A36"] == [
        ("A36", line_of(project, "name: users/u1/pipeline"), "error")
    ]
    (message,) = messages(project, "A36")
    assert message.startswith("templateRef name 'users/u1/pipeline_steps/stepA' must match either pattern:")
    assert "'apps/' segment is missing" in message


# ----------------------------------------------------------------------------------------- A28, A29


def test_bare_workflow_parameters_needs_one(make_project):
    spec = steps_spec([step("step-a", value="{{workflow.parameters}}")])
    assert mine(make_project(spec)) == []
    no_params = spec.replace("  arguments:\n    parameters:\n    - name: input_text\n      value: hi\n", "", 1)
    assert [f[0] for f in mine(make_project(no_params))] == ["A28"]


def test_workflow_parameter_suggestion(make_project):
    project = make_project(steps_spec([step("step-a", value="{{workflow.parameters.input_txt}}")]))
    assert "did you mean 'input_text'?" in messages(project, "A28")[0]


def test_input_parameter_refs(make_project):
    echo = ECHO.replace('print("{{inputs.parameters.x}}")', 'print("{{inputs.parameters.y}}")')
    s = "      - name: s\n        template: echo\n        arguments:\n          parameters:\n          - name: x\n"
    project = make_project(steps_spec([s + '            value: "1"\n'], more=echo))
    assert mine(project) == [("A29", line_of(project, "inputs.parameters.y"), "error")]
    assert "declares no input parameter 'y'" in messages(project, "A29")[0]


# ----------------------------------------------------------------------------------------- A30, A31


def test_steps_ref_later_group_unknown_step_and_outside(make_project):
    spec = steps_spec(
        [step("step-a", value="{{steps.step-b.outputs.result}}")],
        [step("step-b", value="{{steps.nope.status}}", step_id="stepB")],
    )
    project = make_project(spec)
    assert mine(project) == [
        ("A30", line_of(project, "steps.step-b.outputs"), "error"),
        ("A30", line_of(project, "steps.nope.status"), "error"),
    ]
    assert any("later group" in m for m in messages(project, "A30"))


@pytest.mark.parametrize("attr", ["outputs.parameters.result", "outputs.result", "exitCode", "status", "startedAt"])
def test_steps_ref_templateref_known_outputs(make_project, attr):
    spec = steps_spec([step("step-a")], [step("step-b", value=f"{{{{steps.step-a.{attr}}}}}", step_id="stepB")])
    assert mine(make_project(spec)) == []


def test_hello_pipeline_example_is_clean():
    assert lint(Path(__file__).resolve().parents[1] / "examples" / "hello-pipeline").findings == []


def test_steps_ref_templateref_output_parameter_is_a_warning(make_project):
    spec = steps_spec(
        [step("step-a")], [step("step-b", value="{{steps.step-a.outputs.parameters.x}}", step_id="stepB")]
    )
    project = make_project(spec)
    assert mine(project) == [("A30", line_of(project, "outputs.parameters.x"), "warning")]


def test_steps_ref_result_of_steps_template_and_template_outputs(make_project):
    inner = "  - name: inner\n    steps:\n    - - name: g\n        template: gen\n"
    inner += "    outputs:\n      parameters:\n      - name: o\n        valueFrom:\n"
    inner += '          parameter: "{{steps.g.outputs.parameters.out}}"\n'
    s1 = "      - name: s1\n        template: inner\n"
    project = make_project(steps_spec([s1], [step("s2", value="{{steps.s1.outputs.result}}")], more=inner + GEN))
    assert mine(project) == [("A30", line_of(project, "steps.s1.outputs.result"), "error")]
    assert "a steps template, which has no outputs.result" in messages(project, "A30")[0]


def test_steps_ref_in_dag_and_tasks_ref_in_steps(make_project):
    dag = HEAD + "  - name: main\n    dag:\n      tasks:\n" + step("a", value="{{steps.x.status}}")
    project = make_project(dag)
    assert [f[0] for f in mine(project)] == ["A30"]
    assert "use {{tasks.<name>.…}}" in messages(project, "A30")[0]
    project2 = make_project(steps_spec([step("step-a", value="{{tasks.x.status}}")]))
    assert [f[0] for f in mine(project2)] == ["A31"]


def test_tasks_ref_unknown_task_and_loop_outputs(make_project):
    tasks = (
        "      - name: A\n        template: gen\n        withItems: [1, 2]\n"
        + step("B", "depends: A", value="{{tasks.A.outputs.parameters}}")
        + step("C", "depends: B", value="{{tasks.Z.outputs.result}}")
    )
    project = make_project(HEAD + "  - name: main\n    dag:\n      tasks:\n" + tasks + GEN)
    assert mine(project) == [("A31", line_of(project, "tasks.Z.outputs"), "error")]


def test_self_reference_allowed_in_hooks_only(make_project):
    hook = (
        "hooks:\n          exit:\n            template: echo\n            arguments:\n              parameters:\n"
        '              - name: x\n                value: "{{steps.step-a.status}}"'
    )
    project = make_project(steps_spec([step("step-a", hook)], more=ECHO))
    assert mine(project) == []
    project2 = make_project(steps_spec([step("step-a", value="{{steps.step-a.status}}")]))
    assert [f[0] for f in mine(project2)] == ["A30"]


# ---------------------------------------------------------------------------------------------- A32


@pytest.mark.parametrize(
    ("loop", "value", "ok"),
    [
        ("withItems: [a, b]", "{{item}}", True),
        ("withItems: [{name: a}, {other: b}]", "{{item.other}}", True),
        ("withItems: [[a, b]]", "{{item.[1]}}", True),
        ("withItems: [[a, b]]", "{{item.[2]}}", False),
        ("withItems: [a, b]", "{{item.name}}", False),
        ('withParam: "{{workflow.parameters.input_text}}"', "{{item.anything}}", True),
        ("withSequence: {count: '3'}", "{{item}}", True),
        ("withSequence: {count: '3'}", "{{item.x}}", False),
    ],
)
def test_item_refs(make_project, loop, value, ok):
    project = make_project(steps_spec([step("step-a", loop, value=value)]))
    assert [f[0] for f in mine(project)] == ([] if ok else ["A32"])


def test_item_in_leaf_template(make_project):
    echo = ECHO.replace('print("{{inputs.parameters.x}}")', 'print("{{item}}")')
    s = "      - name: s\n        template: echo\n        withItems: [a]\n        arguments:\n          parameters:\n"
    project = make_project(steps_spec([s + '          - name: x\n            value: "{{item}}"\n'], more=echo))
    assert mine(project) == [("A32", line_of(project, 'print("{{item}}")'), "error")]
    assert "outside a step or task" in messages(project, "A32")[0]


# ------------------------------------------------------------------------------------------ A33, A34


@pytest.mark.parametrize(
    ("value", "warn"),
    [
        ("{{workflow.name}}-{{workflow.uid}}", False),
        ("{{workflow.creationTimestamp.Y}}", False),
        ("{{workflow.labels.team}}", False),
        ("{{workflow.outputs.parameters.g}}", False),
        ("{{pod.name}} {{retries}} {{lastRetry.status}}", False),
        ("{{workflow.nme}}", True),
        ("{{foo}}", True),
        ("{{pod.ip}}", True),
        ("{{workflow.name", True),
        ("{{=workflow.name}}", False),
    ],
)
def test_unknown_variables(make_project, value, warn):
    project = make_project(steps_spec([step("step-a", value=value)]))
    got = [f for f in mine(project) if f[0] == "A33"]
    assert got == ([("A33", line_of(project, value), "warning")] if warn else [])


def test_unknown_variable_suggestion_and_unterminated(make_project):
    project = make_project(steps_spec([step("step-a", value="{{workfow.name}} {{workflow.name}} {{ x")]))
    msgs = sorted(messages(project, "A33"))
    assert len(msgs) == 2
    assert "did you mean 'workflow'?" in msgs[0]
    assert msgs[1].startswith("unterminated '{{' in '{{ x'")


def test_expression_tags(make_project):
    project = make_project(steps_spec([step("step-a", value="{{=asInt(workflow.parameters.input_text) + 1}}")]))
    assert [f for f in mine(project) if f[0] == "A34"] == []
    project = make_project(steps_spec([step("step-a", value="{{=asInt(workflow.parameters.input_text) +}}")]))
    assert [f for f in mine(project) if f[0] == "A34"] == [("A34", line_of(project, "{{=asInt"), "error")]


# ---------------------------------------------------------------------------------------------- A35


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{{steps.step-a.status}} == Succeeded", []),
        ("'{{workflow.parameters.input_text}}' == 'a b'", []),
        ("{{workflow.parameters.input_text}} == hi", ["warning"]),
        ("'{{workflow.parameters.input_text}}' == my-value", ["warning"]),
        ("'{{workflow.parameters.input_text}}' == 'x' &&", ["error"]),
        ("'{{workflow.parameters.input_text}}' === 'x'", ["error"]),
    ],
)
def test_when_expression(make_project, when, expected):
    spec = steps_spec([step("step-a")], [step("step-b", f'when: "{when}"', step_id="stepB")])
    project = make_project(spec)
    assert [f for f in mine(project) if f[0] == "A35"] == [("A35", line_of(project, "when:"), s) for s in expected]


def test_when_error_message_matches_argo(make_project):
    spec = steps_spec([step("step-a", "when: \"'a' === 'b'\"")])
    (message,) = messages(make_project(spec), "A35")
    assert message.startswith("Invalid 'when' expression ''a' === 'b'': Invalid token: '==='")
    assert "hint: try wrapping" in message


# ------------------------------------------------------------------------------------------ A36, A37


def test_dag_task_templateref_checked(make_project):
    dag = HEAD + "  - name: main\n    dag:\n      tasks:\n" + step("a", step_id="stepA")
    dag = dag.replace("template: users/u1/apps/a1/pipeline_steps/stepA", "template: users/u1/apps/a1/pipeline_steps/x")
    project = make_project(dag)
    assert ("A36", line_of(project, "pipeline_steps/x"), "error") in mine(project)


def test_versioned_ref_and_bad_shapes(make_project):
    versioned = BASE_SPEC.replace("pipeline_steps/stepB", "pipeline_steps/stepB/versions/v1")
    assert [f for f in mine(make_project(versioned)) if f[0] == "A36"] == []
    trailing = BASE_SPEC.replace("pipeline_steps/stepB", "pipeline_steps/stepB/")
    project = make_project(trailing)
    assert any("trailing '/'" in m for m in messages(project, "A36"))


def test_ref_owner(make_project):
    spec = BASE_SPEC.replace(
        "users/u1/apps/a1/pipeline_steps/stepB", "users/u2/apps/a9/pipeline_steps/stepB/versions/1"
    )
    project = make_project(spec)
    assert [f for f in mine(project) if f[0] == "A37"] == [("A37", line_of(project, "name: users/u2"), "warning")]
    assert "user 'u2'" in messages(project, "A37")[0] and "app 'a9'" in messages(project, "A37")[0]


def test_placeholders_give_warnings_at_most(make_project):
    root = (
        "pipeline:\n  id: demo\n  user_id: <YOUR_USER_ID>\n  app_id: <YOUR_APP_ID>\n  step_directories:\n"
        "  - stepA\n  - stepB\n  orchestration_spec:\n    argo_orchestration_spec: |\n"
    )
    spec = BASE_SPEC.replace("users/u1/apps/a1", "users/<YOUR_USER_ID>/apps/<YOUR_APP_ID>")
    body = "".join("      " + line + "\n" if line else "\n" for line in spec.splitlines())
    files = {"config.yaml": root + body}
    for s in ("stepA", "stepB"):
        files[f"{s}/config.yaml"] = (
            f"pipeline_step:\n  id: {s}\n  user_id: <YOUR_USER_ID>\n  app_id: <YOUR_APP_ID>\n"
            "pipeline_step_input_params:\n- name: input_text\npipeline_step_compute_info:\n  cpu_limit: 500m\n"
        )
    project = make_project(files=files)
    assert [f for f in mine(project) if f[2] == "error"] == []
    assert [f for f in mine(project) if f[0] == "A37"] == []


# ---------------------------------------------------------------------------------------------- A39

STEP_A = """\
pipeline_step:
  id: stepA
  user_id: u1
  app_id: a1
pipeline_step_input_params:
- name: input_text
- name: mode
  accepted_values: ["fast", "slow"]
- name: count
  default: "1"
  accepted_values: ["1", "2"]
pipeline_step_compute_info:
  cpu_limit: 500m
"""


def test_step_arguments_unknown_missing_and_accepted(make_project):
    extra = "  - name: mode\n            value: medium\n          - name: count\n            value: 2\n"
    spec = BASE_SPEC.replace(
        '            value: "{{workflow.parameters.input_text}}"\n    - - name: step-b',
        '            value: "{{workflow.parameters.input_text}}"\n        ' + extra + "    - - name: step-b",
    )
    project = make_project(spec, files={"stepA/config.yaml": STEP_A})
    got = [f for f in mine(project) if f[0] == "A39"]
    assert got == [("A39", line_of(project, "value: medium"), "error")]
    assert "'medium' of 'mode' is not in the accepted_values" in messages(project, "A39")[0]
    no_mode = spec.replace("          - name: mode\n            value: medium\n", "")
    project = make_project(no_mode, files={"stepA/config.yaml": STEP_A})
    assert [f for f in mine(project) if f[0] == "A39"] == [("A39", line_of(project, "arguments:", nth=1), "error")]
    assert "does not pass 'mode'" in messages(project, "A39")[0]


def test_step_arguments_argo_stringification(make_project):
    step_a = STEP_A.replace('accepted_values: ["1", "2"]', 'accepted_values: ["true", "2"]')
    spec = BASE_SPEC.replace(
        '            value: "{{workflow.parameters.input_text}}"\n    - - name: step-b',
        '            value: "{{workflow.parameters.input_text}}"\n          - name: mode\n            value: fast\n'
        "          - name: count\n            value: true\n    - - name: step-b",
    )
    project = make_project(spec, files={"stepA/config.yaml": step_a})
    assert [f for f in mine(project) if f[0] == "A39"] == []


def test_step_arguments_unknown_name_suggestion(make_project):
    spec = BASE_SPEC.replace("- name: input_text\n            value", "- name: input_txt\n            value", 1)
    project = make_project(spec)
    assert [f for f in mine(project) if f[0] == "A39"] == [
        ("A39", line_of(project, "arguments:", nth=1), "error"),
        ("A39", line_of(project, "name: input_txt"), "error"),
    ]
    assert any("did you mean 'input_text'?" in m for m in messages(project, "A39"))


def test_step_arguments_skips_unmapped_refs(make_project):
    spec = BASE_SPEC.replace("pipeline_steps/stepA", "pipeline_steps/other/versions/1")
    project = make_project(spec)
    assert [f for f in mine(project) if f[0] == "A39"] == []


# ------------------------------------------------------------------------------------ malformed input


@pytest.mark.parametrize(
    "spec",
    [
        HEAD + "  - name: main\n    steps: [[{name: a, template: 5, arguments: {parameters: 3}}], 7, [x]]\n",
        HEAD + "  - name: main\n    dag: {tasks: [{name: [1], templateRef: {name: 3, template: [2]}}, 5]}\n",
        HEAD + "  - name: main\n    inputs: {parameters: x}\n    steps: [[{name: a, template: b, when: 3}]]\n",
        HEAD.replace("    parameters:\n    - name: input_text\n      value: hi\n", "    parameters: 5\n")
        + "  - name: main\n    container: {image: x, args: ['{{workflow.parameters.x}}', '{{item.a}}']}\n",
        HEAD + "  - 5\n  - name: main\n    steps:\n    - - name: a\n        template: main\n        withItems: 5\n"
        "        arguments: {parameters: [{name: x, value: '{{item.b}}'}, {name: {a: 1}}, 5]}\n"
        "        when: '{{tasks.a.outputs}} == {{steps.a}}'\n",
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {templates: {a: 1}, arguments: [1]}\n",
    ],
)
def test_malformed_specs_do_not_crash(make_project, spec):
    project = make_project(spec)
    mine(project)  # must not raise


def test_malformed_step_configs_do_not_crash(make_project):
    for params in ("5", "[5, {name: 3}, {default: x}, x]", "{a: 1}"):
        step_a = STEP_A.split("pipeline_step_input_params:")[0] + f"pipeline_step_input_params: {params}\n"
        mine(make_project(BASE_SPEC, files={"stepA/config.yaml": step_a + "pipeline_step_compute_info: {}\n"}))


# ------------------------------------------------------------------------------------------- helpers


def test_unterminated_offsets():
    assert variables.unterminated("a {{b}} c") is None
    assert variables.unterminated("a {{b}} {{c") == 8
    assert variables.unterminated("{{ {{b}}") is None  # same as Argo's scan: the first '{{' runs to '}}'


def test_output_problem_for_inline_and_malformed_callee():
    assert variables.output_problem("steps.s.outputs.result", "step 's'", "outputs.result", None, False) is None
    assert variables.output_problem("steps.s.x", "step 's'", "x", {"steps": [], "container": {}}, False) is None
    problem = variables.output_problem("steps.s.x", "step 's'", "x", {"container": {}}, False)
    assert problem is not None and problem[1] == "error"
