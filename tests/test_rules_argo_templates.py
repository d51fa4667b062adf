"""Argo spec rules about fields, names, templates, parameters and retries (A04–A06, A08–A15)."""

from __future__ import annotations

import textwrap

import pytest

from pipeline_ci.argo.durations import argo_duration, go_duration
from pipeline_ci.argo.fields import KNOWN, all_templates, objects
from pipeline_ci.rules.unknown_field import hint
from pipeline_ci.testing.projects import root_config

from .conftest import REPO, lint

MINE = {"A04", "A05", "A06", "A08", "A09", "A10", "A11", "A12", "A13", "A14", "A15"}

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

STEP_A = """\
  - name: main
    steps:
    - - name: step-a
        templateRef:
          name: users/u1/apps/a1/pipeline_steps/stepA
          template: users/u1/apps/a1/pipeline_steps/stepA
        arguments:
          parameters:
          - name: input_text
            value: "{{workflow.parameters.input_text}}"
"""

ECHO = """\
  - name: echo
    inputs:
      parameters:
      - name: text
    script:
      image: python:3.12-slim
      command: [python]
      source: |
        print("{{inputs.parameters.text}}")
"""


CALL_ECHO = """\
    - - name: e
        template: echo
        arguments:
          parameters:
          - name: text
            value: {value}
"""


def calling_echo(main: str = STEP_A, value: str = "x") -> str:
    """``main`` with a first step group that calls the local ``echo`` template."""
    return main.replace("    - - name: step-a", CALL_ECHO.format(value=value) + "    - - name: step-a", 1)


def spec_of(*parts: str) -> str:
    """The base head plus template entries; parts not already indented as list items are dedented and indented."""
    return HEAD + "".join(p if p.startswith("  - ") else textwrap.indent(textwrap.dedent(p), "  ") for p in parts)


def line(spec: str, needle: str, nth: int = 0) -> int:
    """Line of ``config.yaml`` holding the ``nth`` occurrence of ``needle`` in the embedded spec."""
    hits = [i for i, text in enumerate(root_config(spec).splitlines(), start=1) if needle in text]
    return hits[nth]


def found(result, rules=MINE) -> set[tuple[str, int]]:
    return {(f.rule, f.line) for f in result.findings if f.rule in rules}


def run(make_project, spec: str, **kwargs):
    return lint(make_project(spec=spec), **kwargs)


# --- acceptance tests ---------------------------------------------------------------------


def test_acceptance_2b_missing_entrypoint_reports_only_the_entrypoint(make_project):
    spec = spec_of(STEP_A).replace("  entrypoint: main\n", "")
    result = run(make_project, spec)
    assert {f.rule for f in result.findings} == {"A07"}
    assert "spec.entrypoint is required" in result.findings[0].message


def test_acceptance_3_duplicate_template_name(make_project):
    spec = spec_of(STEP_A, STEP_A.replace("step-a", "step-b").replace("stepA", "stepB"))
    result = run(make_project, spec)
    assert [(f.rule, f.line) for f in result.findings] == [("A09", line(spec, "- name: main", 1))]
    assert "spec.templates[1].name 'main' is not unique" in result.findings[0].message


def test_acceptance_3_invalid_template_name(make_project):
    spec = spec_of(STEP_A.replace("name: main", "name: my_tmpl")).replace("entrypoint: main", "entrypoint: my_tmpl")
    result = run(make_project, spec)
    assert [(f.rule, f.line) for f in result.findings] == [("A09", line(spec, "- name: my_tmpl"))]
    assert (
        "'my_tmpl' is invalid: name must consist of alpha-numeric characters or '-', and must start with an "
        "alpha-numeric character" in result.findings[0].message
    )


ACCEPTANCE_14 = spec_of(
    """\
      - name: main
        steps:
        - - name: step-a
            templateRef:
              name: users/u1/apps/a1/pipeline_steps/stepA
              template: users/u1/apps/a1/pipeline_steps/stepA
            arguments:
              parameters:
              - name: input_text
                value: true
        - - name: echo
            template: echo
            arguments:
              parameters:
              - name: text
                value: "{{workflow.parameters.input_text}}"
    """,
    ECHO.replace("    inputs:", "    retryStrategy:\n      limit: 3\n      retryPolicy: OnFailure\n    inputs:"),
).replace("value: hi", "value: 5")


def test_acceptance_14_argo_scalars_are_accepted(make_project):
    assert "value: 5" in ACCEPTANCE_14 and "limit: 3" in ACCEPTANCE_14
    assert run(make_project, ACCEPTANCE_14).findings == []


def test_acceptance_14_bad_retry_policy(make_project):
    spec = ACCEPTANCE_14.replace("retryPolicy: OnFailure", "retryPolicy: Sometimes")
    result = run(make_project, spec)
    assert [(f.rule, f.line) for f in result.findings] == [("A15", line(spec, "retryPolicy: Sometimes"))]
    assert "Sometimes is not a valid RetryPolicy" in result.findings[0].message


def test_acceptance_15d_misspelt_step_key_is_an_error(make_project):
    spec = spec_of(STEP_A).replace("        arguments:", "        argument:")
    result = run(make_project, spec)
    hits = [f for f in result.findings if f.rule == "A04"]
    assert [(f.line, f.severity) for f in hits] == [(line(spec, "argument:"), "error")]
    assert 'unknown field "argument"' in hits[0].message and "did you mean 'arguments'" in hits[0].message


@pytest.mark.parametrize(("strict", "severity"), [(False, "warning"), (True, "error")])
def test_acceptance_15d_unknown_spec_key_is_a_warning_or_strict_error(make_project, strict, severity):
    spec = spec_of(STEP_A).replace("  entrypoint: main\n", "  entrypoint: main\n  entrypoints: main\n")
    result = run(make_project, spec, strict=strict)
    assert [(f.rule, f.line, f.severity) for f in result.findings] == [("A04", line(spec, "entrypoints:"), severity)]
    assert 'unknown field "spec.entrypoints"' in result.findings[0].message
    assert "did you mean 'entrypoint'" in result.findings[0].message


# --- A04 unknown-field ----------------------------------------------------------------------


def test_unknown_field_everywhere_but_untyped_objects(make_project):
    spec = spec_of(
        STEP_A.replace("    steps:", "    paralelism: 2\n    steps:"),
        ECHO.replace("      image:", "      whatever: 1\n      image:").replace(
            "      - name: text", "      - name: text\n        defualt: x"
        ),
    ).replace("kind: Workflow", "kind: Workflow\nstatuss: {}")
    result = run(make_project, spec)
    assert found(result, {"A04"}) == {
        ("A04", line(spec, "statuss:")),
        ("A04", line(spec, "paralelism:")),
        ("A04", line(spec, "defualt:")),
    }
    messages = " ".join(f.message for f in result.findings if f.rule == "A04")
    assert "did you mean 'parallelism'" in messages and "did you mean 'default'" in messages
    assert "did you mean 'status'" in messages


def test_unknown_field_in_dag_task_is_a_warning_and_in_inline_step_an_error(make_project):
    spec = spec_of(
        """\
          - name: main
            dag:
              tasks:
              - name: a
                dependson: b
                inline:
                  steps:
                  - - name: inner
                      templat: echo
        """,
        ECHO,
    )
    result = run(make_project, spec)
    hits = {(f.line, f.severity) for f in result.findings if f.rule == "A04"}
    assert hits == {(line(spec, "dependson:"), "warning"), (line(spec, "templat:"), "error")}


RICH_HEAD = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: p-
  namespace: argo
  labels: {team: ml}
  annotations: {owner: me}
spec:
  entrypoint: main
  serviceAccountName: runner
  podGC: {strategy: OnPodSuccess, deleteDelayDuration: 30s}
  ttlStrategy: {secondsAfterCompletion: 60}
  workflowMetadata: {labels: {a: b}, labelsFrom: {c: {expression: workflow.name}}}
  podMetadata: {annotations: {x: y}}
  nodeSelector: {disk: ssd}
  tolerations: [{key: gpu, operator: Exists}]
  volumes: [{name: scratch, emptyDir: {}}]
  templateDefaults: {timeout: 1h, retryStrategy: {limit: 1}}
  arguments:
    parameters:
    - name: input_text
      value: hi
      description: the text
      enum: [hi, ho]
  templates:
"""


RICH_ECHO = """\
  - name: echo
    metadata: {labels: {k: v}}
    nodeSelector: {a: b}
    memoize: {key: k, maxAge: 1h, cache: {configMap: {name: c}}}
    synchronization: {mutexes: [{name: m}]}
    retryStrategy:
      limit: 2
      expression: 'true'
      affinity: {nodeAntiAffinity: {}}
      backoff: {duration: 5s, factor: 2, maxDuration: 1m, cap: 30s}
    inputs:
      parameters:
      - name: text
    outputs:
      parameters:
      - name: o
        globalName: o
        valueFrom: {path: /tmp/o, default: x}
    script:
      image: python:3.12-slim
      env: [{name: A, value: b}]
      resources: {limits: {cpu: 1}}
      command: [python]
      source: print(1)
"""


def test_real_argo_fields_are_known(make_project):
    main = calling_echo().replace("template: echo", "template: echo\n        continueOn: {failed: true}")
    assert found(run(make_project, RICH_HEAD + main + RICH_ECHO), {"A04"}) == set()


@pytest.mark.parametrize(
    ("kind", "key", "expected"),
    [
        ("WorkflowStep", "argument", "did you mean 'arguments'"),
        ("WorkflowStep", "TemplateRef", "did you mean 'templateRef'"),
        ("WorkflowStep", "depends", "exists only on DAG tasks"),
        ("Template", "tasks", "'tasks' belongs under 'dag'"),
        ("Template", "parameters", "belongs under 'inputs' or 'outputs'"),
        ("WorkflowSpec", "zzz", ""),
    ],
)
def test_unknown_field_hints(kind, key, expected):
    assert expected in hint(kind, key) and bool(hint(kind, key)) is bool(expected)


def test_every_typed_object_knows_its_fields():
    assert "arguments" in KNOWN["WorkflowStep"] and "depends" not in KNOWN["WorkflowStep"]
    assert {"depends", "dependencies"} <= KNOWN["DAGTask"]
    assert {"entrypoint", "templates", "onExit", "podGC", "ttlStrategy", "hooks"} <= KNOWN["WorkflowSpec"]


def test_shipped_example_has_no_findings_of_these_rules():
    result = lint(REPO / "examples" / "hello-pipeline")
    assert found(result) == set()


# --- A05 field-types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('value: "{{workflow.parameters.input_text}}"', "value: [a, b]", "value: [a, b]"),
        ("        templateRef:", "        when: true\n        templateRef:", "when: true"),
        ("        templateRef:", "        withParam: [1, 2]\n        templateRef:", "withParam: [1, 2]"),
        ("        templateRef:", "        withItems: abc\n        templateRef:", "withItems: abc"),
        ("        arguments:\n", "        arguments: []\n        x:\n", "arguments: []"),
        ("    steps:", "    parallelism: '2'\n    steps:", "parallelism: '2'"),
        ("    steps:", "    activeDeadlineSeconds: [1]\n    steps:", "activeDeadlineSeconds: [1]"),
        ("          parameters:\n", "          parameters:\n          - 5\n", "- 5"),
        ("    steps:\n", "    steps:\n    - {name: x}\n", "- {name: x}"),
        ("    - - name: step-a", "    - - just-a-string\n    - - name: step-a", "just-a-string"),
    ],
)
def test_field_types_rejects(make_project, old, new, needle):
    spec = spec_of(STEP_A.replace(old, new, 1))
    result = run(make_project, spec)
    assert ("A05", line(spec, needle)) in found(result, {"A05"})


def test_field_types_spec_level(make_project):
    spec = spec_of(STEP_A).replace(
        "  entrypoint: main\n", "  entrypoint: main\n  activeDeadlineSeconds: 1h\n  parallelism: true\n  onExit: [x]\n"
    )
    result = run(make_project, spec)
    assert found(result, {"A05"}) == {
        ("A05", line(spec, "activeDeadlineSeconds: 1h")),
        ("A05", line(spec, "parallelism: true")),
        ("A05", line(spec, "onExit: [x]")),
    }


def test_field_types_dag_shapes(make_project):
    no_tasks = spec_of("  - name: main\n    dag:\n      target: a\n")
    assert ("A05", line(no_tasks, "dag:")) in found(run(make_project, no_tasks), {"A05"})
    messages = [f.message for f in run(make_project, no_tasks).findings if f.rule == "A05"]
    assert messages == ["dag template must contain a 'tasks' field"]
    bad_list = spec_of("  - name: main\n    dag:\n      tasks: {a: 1}\n")
    assert ("A05", line(bad_list, "tasks: {a: 1}")) in found(run(make_project, bad_list), {"A05"})
    bad_item = spec_of("  - name: main\n    dag:\n      tasks:\n      - a\n")
    result = run(make_project, bad_item)
    assert ("A05", line(bad_item, "      - a")) in found(result, {"A05"})
    assert any("each item in dag 'tasks' must be a dict" in f.message for f in result.findings)


def test_field_types_template_not_a_mapping(make_project):
    spec = spec_of(STEP_A, "  - echo\n")
    assert ("A05", line(spec, "- echo")) in found(run(make_project, spec), {"A05"})


def test_field_types_accepts_what_argo_accepts(make_project):
    spec = spec_of(
        STEP_A.replace('value: "{{workflow.parameters.input_text}}"', "value: 0.5"),
        ECHO.replace(
            "    inputs:",
            "    activeDeadlineSeconds: '60'\n    retryStrategy:\n      limit: '2'\n      backoff:\n"
            "        factor: 2\n        duration: 1m\n    inputs:",
        ).replace("      - name: text", "      - name: text\n        default: 1.0\n        enum: [1, true, x]"),
    ).replace("value: hi", "value: false")
    spec = spec.replace("    - - name: step-a", "    - - name: e\n        template: echo\n    - - name: step-a")
    assert found(run(make_project, spec)) == set()


# --- A06 workflow-name ----------------------------------------------------------------------


def test_workflow_name_too_long_is_an_error(make_project):
    name = "a" * 64
    spec = spec_of(STEP_A).replace("generateName: p-", f"name: {name}")
    result = run(make_project, spec)
    assert [(f.rule, f.line, f.severity) for f in result.findings] == [("A06", line(spec, "name: aaaa"), "error")]
    gist = f'workflow name "{name}" must not be more than 63 characters long (currently 64)'
    assert gist in result.findings[0].message


def test_generate_name_problems_are_warnings(make_project):
    spec = spec_of(STEP_A).replace("generateName: p-", "generateName: " + "p" * 59 + "-")
    result = run(make_project, spec)
    assert [(f.rule, f.severity) for f in result.findings] == [("A06", "warning")]
    spec = spec_of(STEP_A).replace("generateName: p-", "generateName: My_Pipe-")
    result = run(make_project, spec)
    assert [(f.rule, f.severity) for f in result.findings] == [("A06", "warning")]


def test_valid_dotted_workflow_name(make_project):
    spec = spec_of(STEP_A).replace("generateName: p-", "name: run.v1-2")
    assert run(make_project, spec).findings == []


# --- A08 on-exit ----------------------------------------------------------------------------


def test_on_exit_hooks_and_step_handlers(make_project):
    spec = spec_of(
        STEP_A.replace(
            "        templateRef:",
            "        onExit: gone\n        hooks:\n          exit:\n"
            "            template: missing\n        templateRef:",
        ),
        ECHO,
    ).replace(
        "  entrypoint: main\n",
        "  entrypoint: main\n  hooks:\n    exit:\n      template: echo\n"
        "      arguments:\n        parameters:\n        - name: text\n          value: bye\n",
    )
    result = run(make_project, spec)
    assert found(result, {"A08"}) == {("A08", line(spec, "onExit: gone")), ("A08", line(spec, "template: missing"))}
    assert found(result, {"A11"}) == set()  # echo runs as the workflow exit hook


# --- A09 template-name ----------------------------------------------------------------------


def test_template_name_required_and_length(make_project):
    spec = spec_of(STEP_A, ECHO.replace("- name: echo", "- name: " + "e" * 129), "  - container:\n      image: x\n")
    result = run(make_project, spec)
    assert found(result, {"A09"}) == {("A09", line(spec, "- name: eeee")), ("A09", line(spec, "- container:"))}
    messages = sorted(f.message for f in result.findings if f.rule == "A09")
    assert "spec.templates[2].name is required" in messages
    assert any("must be no more than 128 characters" in m for m in messages)


# --- A10 workflow-parameters ----------------------------------------------------------------


def test_workflow_parameters(make_project):
    params = """\
    - name: input_text
      value: hi
    - name: input_text
      value: again
    - name: bad.name
      value: x
    - name: no_value
    - name: empty_enum
      value: a
      enum: []
    - name: from_path
      valueFrom:
        path: /tmp/x
    - name: n
      value: 5
      enum: ["5", "6"]
    - name: b
      value: true
      enum: ["true"]
    - name: supplied
      valueFrom:
        supplied: {}
"""
    spec = spec_of(STEP_A).replace("    - name: input_text\n      value: hi\n", params, 1)
    result = run(make_project, spec)
    got = {(f.rule, f.line, f.severity) for f in result.findings if f.rule == "A10"}
    assert got == {
        ("A10", line(spec, "- name: input_text", 1), "error"),
        ("A10", line(spec, "- name: bad.name"), "error"),
        ("A10", line(spec, "- name: no_value"), "warning"),
        ("A10", line(spec, "enum: []"), "error"),
        ("A10", line(spec, "valueFrom:"), "error"),
    }


# --- A11 unused-template --------------------------------------------------------------------


def test_unused_template_follows_inline_steps_and_on_exit(make_project):
    spec = spec_of(
        """\
          - name: main
            dag:
              tasks:
              - name: a
                inline:
                  steps:
                  - - name: inner
                      template: echo
                      arguments:
                        parameters:
                        - name: text
                          value: hi
        """,
        ECHO,
        ECHO.replace("name: echo", "name: bye"),
        ECHO.replace("name: echo", "name: orphan"),
    ).replace("  entrypoint: main\n", "  entrypoint: main\n  onExit: bye\n")
    result = run(make_project, spec)
    assert found(result, {"A11"}) == {("A11", line(spec, "- name: orphan"))}
    assert [f.severity for f in result.findings if f.rule == "A11"] == ["warning"]


def test_unused_template_is_quiet_without_a_valid_entrypoint(make_project):
    spec = spec_of(STEP_A, ECHO).replace("entrypoint: main", "entrypoint: nope")
    assert found(run(make_project, spec), {"A11"}) == set()


# --- A12 template-type ----------------------------------------------------------------------


def test_template_type(make_project):
    spec = spec_of(
        STEP_A.replace("    steps:", "    container:\n      image: x\n    steps:"),
        "  - name: empty-steps\n    steps: []\n",
        "  - name: null-steps\n    steps:\n    container:\n      image: x\n",
    )
    spec = spec.replace(
        "  entrypoint: main\n",
        "  entrypoint: main\n  hooks:\n    exit:\n      template: empty-steps\n"
        "    running:\n      expression: 'true'\n      template: null-steps\n",
    )
    result = run(make_project, spec)
    assert found(result, {"A12"}) == {("A12", line(spec, "    steps:", 0))}
    assert "multiple template types specified (container, steps)" in result.findings[0].message


# --- A13 leaf-only-fields -------------------------------------------------------------------


def test_leaf_only_fields(make_project):
    spec = spec_of(
        calling_echo(STEP_A.replace("    steps:", "    activeDeadlineSeconds: 60\n    steps:")),
        ECHO.replace("    inputs:", "    parallelism: 2\n    timeout: 30\n    inputs:"),
    )
    result = run(make_project, spec)
    assert found(result, {"A13"}) == {
        ("A13", line(spec, "activeDeadlineSeconds: 60")),
        ("A13", line(spec, "parallelism: 2")),
        ("A13", line(spec, "timeout: 30")),
    }


@pytest.mark.parametrize(
    ("value", "bad"),
    [("'30'", True), ("abc", True), ("30s", False), ("1h30m", False), ('"{{inputs.parameters.text}}"', False)],
)
def test_leaf_timeout_values(make_project, value, bad):
    spec = spec_of(
        calling_echo(value="5s"),
        ECHO.replace("    inputs:", f"    timeout: {value}\n    inputs:"),
    )
    assert bool(found(run(make_project, spec), {"A13"})) is bad


def test_leaf_active_deadline_must_not_be_negative(make_project):
    spec = spec_of(
        calling_echo(),
        ECHO.replace("    inputs:", "    activeDeadlineSeconds: -5\n    inputs:"),
    )
    assert found(run(make_project, spec), {"A13"}) == {("A13", line(spec, "activeDeadlineSeconds: -5"))}


# --- A14 io-parameters ----------------------------------------------------------------------


def test_io_parameters(make_project):
    gen = """\
      - name: gen
        inputs:
          parameters:
          - name: a.b
          - name: text
          - name: text
        outputs:
          parameters:
          - name: both
            value: x
            valueFrom:
              path: /tmp/x
          - name: neither
          - name: empty
            valueFrom: {}
          - name: two
            valueFrom:
              path: /tmp/x
              parameter: y
          - name: wrong
            valueFrom:
              parameter: "{{steps.x.outputs.result}}"
          - name: good
            valueFrom:
              path: /tmp/good
        script:
          image: python:3.12-slim
          command: [python]
          source: print(1)
    """
    call = CALL_ECHO.replace("echo", "gen").format(value="x").replace("- name: text", "- name: a.b")
    call += "          - name: text\n            value: x\n"
    spec = spec_of(STEP_A.replace("    - - name: step-a", call + "    - - name: step-a"), gen)
    result = run(make_project, spec)
    assert found(result, {"A14"}) == {
        ("A14", line(spec, "- name: a.b", 1)),
        ("A14", line(spec, "- name: text", 2)),
        ("A14", line(spec, "valueFrom:", 0)),
        ("A14", line(spec, "- name: neither")),
        ("A14", line(spec, "valueFrom: {}")),
        ("A14", line(spec, "valueFrom:", 2)),
        ("A14", line(spec, 'parameter: "{{steps.x.outputs.result}}"')),
    }


def test_steps_outputs_take_parameter_or_expression(make_project):
    spec = spec_of(
        STEP_A + "    outputs:\n      parameters:\n      - name: r\n        valueFrom:\n"
        '          parameter: "{{steps.step-a.outputs.parameters.result}}"\n'
        "      - name: e\n        valueFrom:\n          expression: \"'x'\"\n"
    )
    assert found(run(make_project, spec), {"A14"}) == set()


# --- A15 retry-strategy ---------------------------------------------------------------------


def test_retry_strategy_values(make_project):
    retry = (
        "  retryStrategy:\n    limit: three\n    retryPolicy: 5\n    backoff:\n      duration: 1 minute\n"
        "      maxDuration: 10\n      cap: '10'\n"
    )
    spec = spec_of(STEP_A).replace("  entrypoint: main\n", "  entrypoint: main\n" + retry)
    result = run(make_project, spec)
    assert found(result, {"A15"}) == {
        ("A15", line(spec, "limit: three")),
        ("A15", line(spec, "retryPolicy: 5")),
        ("A15", line(spec, "duration: 1 minute")),
        ("A15", line(spec, "maxDuration: 10")),
    }


def test_retry_limit_variable_is_fine(make_project):
    retry = '  retryStrategy:\n    limit: "{{workflow.parameters.input_text}}"\n'
    spec = spec_of(STEP_A).replace("  entrypoint: main\n", "  entrypoint: main\n" + retry)
    assert found(run(make_project, spec), {"A15"}) == set()


# --- helpers and robustness -----------------------------------------------------------------


def test_durations():
    assert go_duration("1m30s") == 90 and go_duration("0") == 0 and go_duration(".5h") == 1800
    assert go_duration("10") is None and go_duration("1 m") is None and go_duration("") is None
    assert argo_duration("10") == 10 and argo_duration("2m") == 120 and argo_duration("x") is None


def test_objects_types_nested_templates():
    data = {
        "spec": {
            "templates": [
                {"name": "t", "steps": [[{"name": "s", "inline": {"dag": {"tasks": [{"name": "x"}]}}}], "bad"]},
                "junk",
            ]
        }
    }
    kinds = [(o.kind, o.path) for o in objects(data)]
    assert ("DAGTask", ("spec", "templates", 0, "steps", 0, 0, "inline", "dag", "tasks", 0)) in kinds
    inline = ("spec", "templates", 0, "steps", 0, 0, "inline")
    assert [o.path for o in all_templates(data)] == [("spec", "templates", 0), inline]


MALFORMED = [
    "spec:\n  templates: abc",
    "spec:\n  entrypoint: [a]\n  templates:\n  - 5\n  - null\n  - name: [x]\n    steps: 3",
    "metadata: [x]\nspec:\n  onExit: {a: 1}\n  hooks: [1]\n  arguments: {parameters: {a: 1}}\n  templates: []",
    "metadata:\n  name: 5\n  generateName: [x]\nspec:\n  arguments:\n    parameters:\n    - name: 5\n      enum: x\n"
    "    - {}\n    - 7\n  templates:\n  - name: 7\n    dag: [x]\n    inputs: [1]\n    outputs:\n      parameters:\n"
    "      - name: x\n        valueFrom: abc\n      - 3\n    retryStrategy:\n      backoff: 5\n      limit: {a: 1}\n"
    "    steps:\n    - - name: s\n        hooks: {exit: 5, other: {template: [1]}}\n        inline: 5\n"
    "        onExit: 7\n      - null\n    timeout: [1]\n    activeDeadlineSeconds: true",
    "spec:\n  retryStrategy: {retryPolicy: [1], limit: 1.5, backoff: {duration: true, cap: null}}\n  templates:\n"
    "  - name: a\n    container: {}\n    timeout: {}\n    activeDeadlineSeconds: 'x'\n"
    "  - name: b\n    steps: [[{name: c, template: a, withSequence: 5, continueOn: 1, templateRef: 2}]]",
]


@pytest.mark.parametrize("body", MALFORMED)
def test_rules_survive_malformed_specs(make_project, body):
    spec = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n" + body + "\n"
    lint(make_project(spec=spec))  # must not raise
