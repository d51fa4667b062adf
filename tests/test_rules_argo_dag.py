"""Steps and DAG rules A17–A27 and the dependency-graph helper ``pipeline_ci.argo.dag``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline_ci.argo import dag
from pipeline_ci.project import load_project
from pipeline_ci.rules import (
    argument_values,
    callee_inputs,
    dag_cycle,
    dag_target,
    dag_tasks,
    dependency_style,
    depends_expression,
    items_condition,
    loops,
    step_callee,
    step_name,
)
from pipeline_ci.rules.base import ClarifaiContext, Options

from .conftest import lint

MINE = (
    step_name,
    step_callee,
    loops,
    argument_values,
    callee_inputs,
    dag_tasks,
    depends_expression,
    dag_cycle,
    dependency_style,
    items_condition,
    dag_target,
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


def ref_call(step: str, indent: int, value: str = "{{workflow.parameters.input_text}}") -> str:
    """templateRef + input_text argument lines of a step/task body at ``indent`` spaces."""
    pad = " " * indent
    ref = f"users/u1/apps/a1/pipeline_steps/{step}"
    return (
        f"{pad}templateRef:\n{pad}  name: {ref}\n{pad}  template: {ref}\n"
        f'{pad}arguments:\n{pad}  parameters:\n{pad}  - name: input_text\n{pad}    value: "{value}"\n'
    )


def task(name: str, *extra: str, step: str = "stepA") -> str:
    """A DAG task calling a Clarifai step; ``extra`` lines go right after the name."""
    lines = [f"      - name: {name}", *(f"        {line}" for line in extra)]
    return "\n".join(lines) + "\n" + ref_call(step, 8)


def dag_spec(*tasks: str) -> str:
    return HEAD + "  - name: main\n    dag:\n      tasks:\n" + "".join(tasks)


def steps_spec(*groups: list[str], more: str = "") -> str:
    """``groups`` of step bodies (each body: name line first, without the leading ``- ``)."""
    out = HEAD + "  - name: main\n    steps:\n"
    for group in groups:
        for i, body in enumerate(group):
            lead = "    - - " if i == 0 else "      - "
            lines = body.rstrip("\n").split("\n")
            out += lead + lines[0] + "\n" + "".join(" " * 8 + line + "\n" for line in lines[1:])
    return out + more


def step(name: str, *extra: str, step_dir: str = "stepA", value: str = "{{workflow.parameters.input_text}}") -> str:
    return "\n".join([f"name: {name}", *extra]) + "\n" + ref_call(step_dir, 0, value)


def run(make_project, spec: str) -> tuple[list, list[int]]:
    """Findings and the config.yaml lines marked ``# <--``."""
    yaml.safe_load(spec)  # the test spec itself must be valid YAML
    root = make_project(spec=spec)
    lines = (root / "config.yaml").read_text().splitlines()
    marks = [n for n, line in enumerate(lines, start=1) if "# <--" in line]
    return lint(root).findings, marks


def mine(findings: list) -> list[tuple[str, int]]:
    return sorted((f.rule, f.line) for f in findings if f.rule in MY_IDS)


def only(findings: list, rule: str) -> list:
    return [f for f in findings if f.rule == rule]


# ---------------------------------------------------------------- the specs are well formed


def test_helpers_build_clean_specs(make_project):
    findings, _ = run(make_project, dag_spec(task("A"), task("B", "depends: A", step="stepB")))
    assert findings == []
    findings, _ = run(make_project, steps_spec([step("step-a")], [step("step-b", step_dir="stepB")]))
    assert findings == []


# ---------------------------------------------------------------------------- acceptance tests


def test_acceptance_4_step_names(make_project):
    findings, marks = run(make_project, steps_spec([step("step_one  # <--")]))
    assert mine(findings) == [("A17", marks[0])]
    assert "'step_one' is invalid" in only(findings, "A17")[0].message

    spec = steps_spec([step("step-a")], [step("step-a  # <--", step_dir="stepB")])
    findings, marks = run(make_project, spec)
    assert mine(findings) == [("A17", marks[0])]
    assert "templates.main.steps[1].name 'step-a' is not unique" in only(findings, "A17")[0].message


def test_acceptance_7_cycle(make_project):
    findings, marks = run(make_project, dag_spec(task("A", "depends: B  # <--"), task("B", "depends: A")))
    assert mine(findings) == [("A24", marks[0])]
    message = only(findings, "A24")[0].message
    assert "A -> B -> A" in message and "sorting failed: graph with cycle" in message


def test_acceptance_7_self_dependency(make_project):
    findings, marks = run(make_project, dag_spec(task("A", "depends: A  # <--")))
    assert mine(findings) == [("A24", marks[0])]
    assert "A -> A" in only(findings, "A24")[0].message


def test_acceptance_8_unknown_dependency(make_project):
    findings, marks = run(make_project, dag_spec(task("A"), task("B", 'depends: "C && A"  # <--')))
    assert mine(findings) == [("A23", marks[0])]
    assert "invalid dependency C" in only(findings, "A23")[0].message


@pytest.mark.parametrize(
    ("depends", "gist"),
    [
        ("A.Succeded", "task result 'Succeded' for task 'A' is invalid"),
        ("A &&", "invalid depends expression"),
        ("A and B", "'and' is not an operator"),
    ],
)
def test_acceptance_9_depends_errors(make_project, depends, gist):
    findings, marks = run(
        make_project, dag_spec(task("A"), task("B", step="stepB"), task("C", f'depends: "{depends}"  # <--'))
    )
    assert mine(findings) == [("A23", marks[0])]
    assert gist in only(findings, "A23")[0].message


def test_acceptance_9c_valid_depends(make_project):
    findings, _ = run(
        make_project, dag_spec(task("A"), task("B", step="stepB"), task("C", 'depends: "A.Succeeded || B.Failed"'))
    )
    assert findings == []


def test_acceptance_10_mixed_styles(make_project):
    findings, marks = run(
        make_project, dag_spec(task("A"), task("B", "depends: A"), task("C", "dependencies: [A]  # <--"))
    )
    assert mine(findings) == [("A25", marks[0])]
    assert "cannot use both 'depends' and 'dependencies'" in only(findings, "A25")[0].message


def test_acceptance_10_continue_on_with_depends(make_project):
    findings, marks = run(
        make_project, dag_spec(task("A"), task("B", "depends: A", "continueOn:  # <--", "  failed: true"))
    )
    assert mine(findings) == [("A25", marks[0])]
    assert "cannot use 'continueOn' when using 'depends'" in only(findings, "A25")[0].message


def test_acceptance_11_items_condition(make_project):
    findings, marks = run(make_project, dag_spec(task("A"), task("B", "depends: A.AnySucceeded  # <--")))
    assert mine(findings) == [("A26", marks[0])]
    assert "does not contain any items" in only(findings, "A26")[0].message

    findings, _ = run(make_project, dag_spec(task("A", "withItems: [1, 2]"), task("B", "depends: A.AnySucceeded")))
    assert findings == []


def test_acceptance_13a_two_loop_sources(make_project):
    findings, marks = run(make_project, steps_spec([step("s", "withItems: [a, b]", "withParam: '[1]'  # <--")]))
    assert mine(findings) == [("A19", marks[0])]
    assert "only one of withItems, withParam, withSequence can be specified" in only(findings, "A19")[0].message


def test_acceptance_13b_with_param_not_json(make_project):
    findings, marks = run(make_project, steps_spec([step("s", 'withParam: "not json"  # <--', value="{{item}}")]))
    assert mine(findings) == [("A19", marks[0])]
    assert "could not be parsed as a JSON list" in only(findings, "A19")[0].message


def test_acceptance_15c_template_and_template_ref(make_project):
    more = "  - name: echo\n    container:\n      image: alpine:3.20\n"
    findings, marks = run(make_project, steps_spec([step("s", "template: echo  # <--")], more=more))
    assert mine(findings) == [("A18", marks[0])]
    assert "template name cannot be specified with templateRef" in only(findings, "A18")[0].message


# ---------------------------------------------------------------- targeted tests

LOCAL = """\
  - name: echo
    inputs:
      parameters:
      - name: message
      - name: times
        default: "1"
    container:
      image: alpine:3.20
      command: [echo, "{{inputs.parameters.message}}", "{{inputs.parameters.times}}"]
"""


def local_steps(*bodies: str) -> str:
    out = HEAD + "  - name: main\n    steps:\n"
    for body in bodies:
        lines = body.rstrip("\n").split("\n")
        out += "    - - " + lines[0] + "\n" + "".join(" " * 8 + line + "\n" for line in lines[1:])
    return out + LOCAL


def test_step_name_required_and_too_long(make_project):
    long = "a" * 129
    findings, marks = run(make_project, steps_spec([step(f"{long}  # <--")], [step('""  # <--', step_dir="stepB")]))
    assert mine(findings) == [("A17", marks[0]), ("A17", marks[1])]
    assert any("must be no more than 128 characters" in f.message for f in findings)
    assert any("steps[1].name is required" in f.message for f in findings)


def test_step_callee_problems(make_project):
    spec = local_steps(
        "name: a\ntemplate: ecoh  # <--",
        "name: b  # <--",
        "name: c\ntemplateRef:  # <--\n  name: users/u1/apps/a1/pipeline_steps/stepA",
    )
    findings, marks = run(make_project, spec)
    assert mine(findings) == [("A18", m) for m in marks]
    messages = " | ".join(f.message for f in only(findings, "A18"))
    assert "template name 'ecoh' undefined" in messages
    assert "calls no template" in messages
    assert "templateRef must have both 'name' and 'template' fields" in messages


def test_callee_inputs_missing_and_undeclared(make_project):
    spec = local_steps(
        "name: a\ntemplate: echo  # <--\narguments:\n  parameters:\n  - name: mesage  # <--\n    value: x",
        "name: b\ntemplate: echo\narguments:\n  parameters:\n  - name: message\n    value: x",
    )
    findings, marks = run(make_project, spec)
    hits = only(findings, "A21")
    assert [(f.line, f.severity) for f in hits] == [(marks[0], "error"), (marks[1], "warning")]
    assert "inputs.parameters.message was not supplied" in hits[0].message
    assert "'mesage'" in hits[1].message


def test_callee_inputs_entrypoint_receives_spec_arguments(make_project):
    spec = HEAD.replace("entrypoint: main", "entrypoint: echo  # <--") + LOCAL
    findings, marks = run(make_project, spec)
    assert mine(findings) == [("A21", marks[0])]
    spec = HEAD.replace("entrypoint: main", "entrypoint: echo").replace("input_text", "message") + LOCAL
    findings, _ = run(make_project, spec)
    assert mine(findings) == []


def test_loops_with_sequence(make_project):
    spec = steps_spec(
        [step("a", "withSequence:", "  count: 3", "  end: 5  # <--", value="{{item}}")],
        [step("b", "withSequence:  # <--", "  start: 1", value="{{item}}")],
        [step("c", "withSequence:", '  count: "three"  # <--', value="{{item}}")],
        [step("d", "withSequence:", '  count: "{{workflow.parameters.input_text}}"', value="{{item}}")],
    )
    findings, marks = run(make_project, spec)
    assert mine(findings) == [("A19", m) for m in marks]
    messages = [f.message for f in only(findings, "A19")]
    assert "only one of count or end" in messages[0]
    assert "neither end nor count" in messages[1]
    assert "'three' is not an integer" in messages[2]


def test_argument_values(make_project):
    spec = steps_spec(
        [
            "name: a\n" + ref_call("stepA", 0).rstrip("\n") + "\n    valueFrom:  # <--\n      path: /tmp/x"
            "\n  - name: bad.name  # <--\n    value: x\n  - name: input_text  # <--\n    value: y"
            "\n  - value: z  # <--\n  - name: nothing  # <--"
        ]
    )
    findings, marks = run(make_project, spec)
    assert mine(findings) == [("A20", m) for m in marks]


def test_argument_values_accepts_yaml_scalars_and_supplied(make_project):
    spec = steps_spec([step("a").replace('value: "{{workflow.parameters.input_text}}"', "value: true")])
    findings, _ = run(make_project, spec)
    assert mine(findings) == []


def test_dag_tasks(make_project):
    findings, marks = run(make_project, dag_spec(task("A"), task("A  # <--", step="stepB"), task("b_c  # <--")))
    assert mine(findings) == [("A22", m) for m in marks]
    assert "duplicated nodeName A" in only(findings, "A22")[0].message

    spec = HEAD + "  - name: main\n    dag:\n      tasks: []  # <--\n"
    findings, marks = run(make_project, spec)
    assert mine(findings) == [("A22", marks[0])]
    assert "must have at least one task" in only(findings, "A22")[0].message


def test_depends_suggests_close_name_and_checks_dependencies(make_project):
    findings, marks = run(make_project, dag_spec(task("prepare"), task("train", "depends: prepar  # <--")))
    assert mine(findings) == [("A23", marks[0])]
    assert "did you mean 'prepare'?" in only(findings, "A23")[0].message

    spec = dag_spec(
        task("prepare"), task("train", "dependencies: [prepare]"), task("c", "dependencies:", "- train", "- x  # <--")
    )
    findings, marks = run(make_project, spec)
    assert mine(findings) == [("A23", marks[0])]
    assert "dependencies names 'x' is not a task of this DAG" in only(findings, "A23")[0].message


def test_digit_task_names_with_dependencies(make_project):
    findings, marks = run(make_project, dag_spec(task("1a  # <--"), task("b", "depends: 1a")))
    assert mine(findings) == [("A25", marks[0])]
    findings, _ = run(make_project, dag_spec(task("1a"), task("b", step="stepB")))
    assert mine(findings) == []


def test_dag_target(make_project):
    spec = dag_spec(task("A"), task("B", step="stepB")).replace(
        "    dag:\n", "    dag:\n      target: A C {{x.y}}  # <--\n"
    )
    findings, marks = run(make_project, spec.replace("{{x.y}}", "B"))
    assert mine(findings) == [("A27", marks[0])]
    assert "target 'C' is not defined" in only(findings, "A27")[0].message


def test_two_disjoint_cycles_are_both_reported(make_project):
    spec = dag_spec(
        task("A", "depends: B  # <--"), task("B", "depends: A"), task("C", "depends: D  # <--"), task("D", "depends: C")
    )
    findings, marks = run(make_project, spec)
    assert mine(findings) == [("A24", m) for m in marks]


# ---------------------------------------------------------------- pipeline_ci.argo.dag


def test_dag_helpers():
    tmpl = {
        "dag": {
            "tasks": [
                {"name": "A"},
                {"name": "B", "depends": "A.Succeeded || (C && !A.Failed)"},
                {"name": "C", "dependencies": ["A", 5, None]},
                {"name": "D", "depends": "B &&"},  # broken: read like Argo's regex scan
                {"name": "E", "depends": "E"},
                "junk",
                {"name": 7},
            ]
        }
    }
    deps = dag.graph(tmpl)
    assert deps == {"A": [], "B": ["A", "C"], "C": ["A"], "D": ["B"], "E": ["E"]}
    assert dag.ancestors(deps, "D") == {"A", "B", "C"}
    assert dag.ancestors(deps, "A") == set()
    assert dag.find_cycle(deps) == ["E", "E"]
    assert dag.find_cycle({"A": ["B"], "B": ["C"], "C": ["B"]}) == ["B", "C", "B"]
    assert dag.find_cycle({k: v for k, v in deps.items() if k != "E"}) is None
    refs = dag.dependency_refs(tmpl["dag"]["tasks"][1])
    assert [(r.task, r.result, r.path, r.offset) for r in refs] == [
        ("A", "Succeeded", ("depends",), 0),
        ("C", None, ("depends",), 16),
        ("A", "Failed", ("depends",), 22),
    ]
    assert dag.task_dependencies(tmpl["dag"]["tasks"][1]) == ["A", "C"]
    assert dag.task_dependencies({"depends": "a and b"}) == ["a", "b"]
    assert dag.loops({"withItems": [1]}) and dag.loops({"withSequence": {"count": 2}})
    assert not dag.loops({"withItems": []}) and not dag.loops("x")


# ---------------------------------------------------------------- robustness

MALFORMED = [
    "spec: 5",
    "spec:\n  templates: x",
    "spec:\n  entrypoint: 5\n  onExit: [x]\n  arguments: x\n  templates: [null, 1, x]",
    "spec:\n  entrypoint: m\n  arguments: {parameters: x}\n  templates:\n  - name: m\n"
    "    inputs: {parameters: [null, {name: 5}, {name: p}]}\n    steps: x",
    "spec:\n  templates:\n  - name: m\n"
    "    steps: [x, [null, 1, {name: 5}, {name: a, template: 5, templateRef: x, inline: x}]]",
    "spec:\n  templates:\n  - name: m\n"
    "    steps: [[{name: a, arguments: x}, {name: b, arguments: {parameters: [null, {name: 5}, {}]}}]]",
    "spec:\n  templates:\n  - {name: m, steps: [[{name: a, withItems: x, withParam: 5, withSequence: x}]]}",
    "spec:\n  templates:\n  - {name: m, steps: [[{name: a, withSequence: {count: [1], end: {}, start: 1.5}}]]}",
    "spec:\n  templates:\n  - {name: m, dag: x}\n  - {name: n, dag: {tasks: x, target: 5}}\n"
    "  - {name: o, dag: {tasks: [null]}}",
    "spec:\n  templates:\n  - name: m\n    dag:\n      target: [x]\n      tasks:\n"
    "      - {name: null, depends: 5, dependencies: A}\n"
    "      - {name: [1], dependencies: [1, null], continueOn: x}\n"
    "      - {name: '', depends: '((((', template: m}\n"
    "      - {name: x, depends: '!!!', inline: {inputs: x}}\n"
    "      - {name: y, depends: 'x.AnySucceeded', arguments: 7}",
    "spec:\n  templates:\n  - name: m\n    inputs: x\n"
    "    steps: [[{name: a, template: m, arguments: {parameters: [{name: q, valueFrom: 5}]}}]]",
]


@pytest.mark.parametrize("spec", MALFORMED)
def test_rules_never_crash(spec: str, make_project, tmp_path: Path):
    root = make_project(spec="apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n" + spec + "\n")
    ctx = ClarifaiContext(load_project(root), Options())
    for rule in MINE:
        list(rule.check(ctx))


def test_rules_accept_missing_spec(make_project):
    root = make_project(files={"config.yaml": "pipeline:\n  id: demo\n"})
    ctx = ClarifaiContext(load_project(root), Options())
    for rule in MINE:
        assert list(rule.check(ctx)) == []
