"""Hostile specs for the linter: an alias bomb inside the embedded Argo spec, DAGs of thousands of tasks with
hundreds of dependencies each (lint must stay linear in the spec's size), and unconditional recursion."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from pipeline_ci.findings import Finding
from pipeline_ci.lint import lint_paths, lint_project
from pipeline_ci.project import load_project
from pipeline_ci.rules.base import Options
from pipeline_ci.settings import Settings
from pipeline_ci.testing.projects import BASE_SPEC, base_files, root_config

from .conftest import calls_made, write_files

STEP_REF = "users/u1/apps/a1/pipeline_steps/stepA"


def big_dag_spec(tasks: int, deps: int) -> str:
    """One DAG of ``tasks`` tasks calling the base project's ``stepA``; task ``i`` depends on the ``deps`` tasks
    before it (``depends: "t1 && t2 && ..."``) and passes on the output of the last of them."""
    lines = [
        "apiVersion: argoproj.io/v1alpha1", "kind: Workflow", "metadata:", "  generateName: big-", "spec:",
        "  entrypoint: main", "  arguments:", "    parameters:", "    - name: input_text", "      value: hi",
        "  templates:", "  - name: main", "    dag:", "      tasks:",
    ]
    for i in range(tasks):
        before = [f"t{j}" for j in range(max(0, i - deps), i)]
        lines.append(f"      - name: t{i}")
        if before:
            lines.append(f'        depends: "{" && ".join(before)}"')
        value = f"{{{{tasks.{before[-1]}.outputs.parameters.result}}}}" if before else "{{workflow.parameters.input_text}}"
        lines += [
            "        templateRef:", f"          name: {STEP_REF}", f"          template: {STEP_REF}",
            "        arguments:", "          parameters:", "          - name: input_text", f'            value: "{value}"',
        ]
    return "\n".join(lines) + "\n"


def big_project(root: Path, tasks: int, deps: int) -> Path:
    """A project shaped like ``examples/hello-pipeline`` (root ``config.yaml`` with ``pipeline:`` and the spec
    embedded as a ``|`` block, two step folders) whose spec is :func:`big_dag_spec`."""
    files = base_files()
    files["config.yaml"] = root_config(big_dag_spec(tasks, deps))
    return write_files(root, files)


def lint_once(root: Path) -> list[Finding]:
    return lint_project(load_project(root), Options(), Settings())


def calls(root: Path) -> int:
    findings: list[Finding] = []
    made = calls_made(lambda: findings.extend(lint_once(root)))
    assert findings == []
    return made


# --- alias bomb inside the embedded spec ---------------------------------------------------------


def test_alias_bomb_in_the_embedded_spec_is_reported_at_its_anchor_fast_and_in_bounded_memory(tmp_path: Path):
    bomb = "  lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"  lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10)
    )  # 10**10 strings once expanded
    files = base_files()
    files["config.yaml"] = root_config(BASE_SPEC + bomb)
    root = write_files(tmp_path / "p", files)
    lines = files["config.yaml"].splitlines()
    results = []
    tracemalloc.start()
    try:
        made = calls_made(lambda: results.append(lint_paths([root])))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [result] = results
    assert made < 200_000  # about 31,000 here, imports included; the expansion would never end
    assert peak < 20 * 1024 * 1024
    [finding] = [f for f in result.findings if "alias bomb" in f.message]
    assert finding.rule == "F01" and finding.file.endswith("config.yaml")
    # lol3 is the first anchor past the limit (10 × 97 nodes + 10,000): 11,111 nodes once expanded
    line = next(n for n, text in enumerate(lines, start=1) if "lol3: &l3" in text)
    assert (finding.line, finding.col) == (line, lines[line - 1].index("&l3") + 1)
    assert finding.line > 9  # inside the block, not config.yaml:1:1


# --- linear time on huge DAGs ----------------------------------------------------------------------


def test_lint_work_grows_linearly_with_the_number_of_tasks(tmp_path: Path):
    small, large = big_project(tmp_path / "small", 150, 40), big_project(tmp_path / "large", 600, 40)
    # 4x the tasks and dependencies: linear work is ~4x, the quadratic ancestor search this replaced was ~8.5x
    work = calls(large) / calls(small)
    assert work < 5, f"lint made {work:.1f}x the calls for 4x the spec"


def test_a_dag_of_1500_tasks_with_400_dependencies_each_lints_in_seconds(tmp_path: Path):
    root = big_project(tmp_path / "p", 1500, 400)
    assert (root / "config.yaml").stat().st_size > 4_500_000
    made = calls(root)
    # about 3.6 million calls (1 s); the quadratic ancestor search this replaced took 13 s, 80 s under a profiler
    assert made < 10_000_000, f"{made:,} calls"


def test_non_direct_ancestors_and_cycles_in_a_big_dag(tmp_path: Path):
    """References to transitive ancestors take the strongly-connected-components path, cycles the one-pass
    cycle search: both still give the right answers at size."""
    spec = big_dag_spec(300, 20)
    spec = spec.replace('value: "{{tasks.t298.outputs.parameters.result}}"',  # t299 → t298 → ... → t0
                        'value: "{{tasks.t0.outputs.parameters.result}}"')
    spec = spec.replace('value: "{{tasks.t1.outputs.parameters.result}}"',  # t2 → t1 → t0 only
                        'value: "{{tasks.t3.outputs.parameters.result}}"')
    spec = spec.replace('- name: t10\n        depends: "', '- name: t10\n        depends: "t15 && ')  # t15 → t10
    files = base_files()
    files["config.yaml"] = root_config(spec)
    findings = lint_once(write_files(tmp_path / "p", files))
    assert {f.rule for f in findings} == {"A24", "A31"}, findings
    [cycle] = [f for f in findings if f.rule == "A24"]
    assert "t10 -> t15 -> t10" in cycle.message
    [ref] = [f for f in findings if f.rule == "A31"]
    assert "task 't3' is not an ancestor of task 't2'" in ref.message


# --- unguarded recursion --------------------------------------------------------------------------

MUTUAL = """\
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
    - - name: start
        template: ping
  - name: ping
    steps:
    - - name: work
        templateRef:
          name: users/u1/apps/a1/pipeline_steps/stepA
          template: users/u1/apps/a1/pipeline_steps/stepA
        arguments:
          parameters:
          - name: input_text
            value: "{{workflow.parameters.input_text}}"
    - - name: to-pong
        template: pong
  - name: pong
    dag:
      tasks:
      - name: back
        template: ping
"""


def _recursion(tmp_path: Path, spec: str) -> list[Finding]:
    files = base_files()
    files["config.yaml"] = root_config(spec)
    return [f for f in lint_once(write_files(tmp_path / "p", files)) if f.rule == "A40"]


def test_mutual_recursion_is_reported_at_the_call_that_closes_the_cycle(tmp_path: Path):
    [finding] = _recursion(tmp_path, MUTUAL)
    lines = root_config(MUTUAL).splitlines()
    back = next(n for n, text in enumerate(lines, start=1) if "- name: back" in text)
    assert (finding.line, finding.severity) == (back + 1, "warning")  # `template: ping` of task 'back'
    assert "ping -> pong -> ping" in finding.message
    assert "task 'back' of template 'pong'" in finding.message


def test_a_guard_anywhere_on_the_cycle_breaks_the_recursion(tmp_path: Path):
    when = "        when: \"'{{steps.work.outputs.parameters.result}}' != 'done'\"\n"
    guarded_step = MUTUAL.replace("        template: pong\n", "        template: pong\n" + when)
    assert _recursion(tmp_path / "step", guarded_step) == []
    failed_only = MUTUAL.replace("      - name: back\n", "      - name: first\n        template: never\n"
                                 "      - name: back\n        depends: first.Failed\n")
    failed_only += "  - name: never\n    suspend: {}\n"
    assert _recursion(tmp_path / "depends", failed_only) == []
    unconditional = failed_only.replace("depends: first.Failed", "depends: first")
    assert len(_recursion(tmp_path / "plain", unconditional)) == 1


def test_a_task_name_of_the_wrong_type_next_to_a_dag_target_is_a_finding_not_a_crash(tmp_path: Path):
    spec = MUTUAL.replace("    dag:\n      tasks:\n      - name: back\n",
                          "    dag:\n      target: back\n      tasks:\n      - name: [back]\n")
    files = base_files()
    files["config.yaml"] = root_config(spec)
    findings = lint_once(write_files(tmp_path / "p", files))
    assert {"A05", "A27"} <= {f.rule for f in findings}  # the list-valued name; the target naming no task
    assert not [f for f in findings if f.rule == "A40"]  # a task the target does not need never runs
