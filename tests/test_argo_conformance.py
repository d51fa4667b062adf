"""Conformance of the local executor with Argo, measured on Argo's own examples.

Each file in ``tests/data/argo-examples/`` is an example of ``examples/`` in argoproj/argo-workflows (its origin
and any local adaptation are in its header: container images replaced by ``sh``/``python`` commands, long sleeps
shortened; the control structure is kept verbatim). Each case asserts Argo's documented outcome: the phase of the
workflow (and the exit code), the phase of the nodes, what they printed or output, and order constraints. A case
the executor cannot run must be refused before anything runs (exit 2, no run record) naming the feature, its
position and why. The table in ``docs/local-executor.md`` summarises the results.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from pipeline_ci.platforms.local.executor import LocalRunResult, run_local
from pipeline_ci.testing.projects import base_files, root_config

from .conftest import write_files

DATA = Path(__file__).parent / "data" / "argo-examples"
EXIT = {"Succeeded": 0, "Failed": 1, "Error": 1}


@dataclass
class Case:
    phase: str = "Succeeded"
    nodes: dict[str, str] = field(default_factory=dict)  # display name -> phase of every node so named
    absent: tuple[str, ...] = ()  # display names with no node
    lines: tuple[str, ...] = ()  # console lines that must appear ({wf}: the workflow's name)
    order: tuple[tuple[str, str], ...] = ()  # (a, b): every node a finished before any node b started
    refused: tuple[str, ...] = ()  # refused before the run: substrings of the message
    params: dict[str, str] = field(default_factory=dict)
    semaphores: dict[str, int] = field(default_factory=dict)
    check: Callable[[LocalRunResult, list[str]], None] | None = None


def ts(node: dict, key: str) -> float:
    return datetime.fromisoformat(node[key].replace("Z", "+00:00")).timestamp()


def named(result: LocalRunResult, name: str) -> list[dict]:
    return [n for n in result.nodes if n["name"] == name]


def max_overlap(nodes: list[dict]) -> int:
    """The most of ``nodes`` that were running at the same moment."""
    events = sorted([(ts(n, "started_at"), 1) for n in nodes] + [(ts(n, "finished_at"), -1) for n in nodes])
    best = now = 0
    for _, delta in events:
        now += delta
        best = max(best, now)
    return best


def pods(result: LocalRunResult, prefix: str) -> list[dict]:
    return [n for n in result.nodes if n["type"] == "Pod" and n["name"].startswith(prefix)]


# ------------------------------------------------------------------------------------- extra checks


def _failures_list(result: LocalRunResult, lines: list[str]) -> None:
    line = next(x for x in lines if x.startswith("[notify] send e-mail:"))
    assert " Failed " in line and "Failed steps [{displayName:" in line  # a JSON list (the shell ate the quotes)
    assert "podName:" in line and "templateName:intentional-fail" in line


def _retried(count: int, phase: str = "Succeeded") -> Callable[[LocalRunResult, list[str]], None]:
    def check(result: LocalRunResult, lines: list[str]) -> None:
        for node in result.nodes:
            if node["type"] == "Pod":
                assert (node["attempts"], node["phase"]) == (count, phase), node
    return check


def _backoff(result: LocalRunResult, lines: list[str]) -> None:
    _retried(2)(result, lines)
    assert any("retrying in 1s" in line for line in lines)
    pod = next(n for n in result.nodes if n["type"] == "Pod")
    assert pod["duration"] >= 1.0


def _parallelism_limit(result: LocalRunResult, lines: list[str]) -> None:
    assert max_overlap(pods(result, "sleep(")) == 2


def _nested_parallelism(result: LocalRunResult, lines: list[str]) -> None:
    # A's parallelism 2 admits two child DAGs at a time, and each runs c2 and c3 together: 4 pods at once
    bs = [n for n in result.nodes if n["name"] in ("b2", "b3", "b4")]
    assert max_overlap(bs) == 2
    assert max_overlap([n for n in result.nodes if n["type"] == "Pod"]) == 4


def _mutex(result: LocalRunResult, lines: list[str]) -> None:
    for prefix in ("synchronization-acquire-lock(", "synchronization-acquire-lock1("):
        assert len(pods(result, prefix)) == 5 and max_overlap(pods(result, prefix)) == 1
    both = pods(result, "synchronization-acquire-lock")
    assert max_overlap(both) == 2  # two different mutexes do not exclude each other


def _semaphore(result: LocalRunResult, lines: list[str]) -> None:
    assert max_overlap(pods(result, "synchronization-acquire-lock(")) == 2


def _coinflip(result: LocalRunResult, lines: list[str]) -> None:
    flip = named(result, "flip-coin")[0]["outputs"]
    assert set(flip) == set()  # a script's result is its stdout, not an output parameter
    heads, tails = named(result, "heads")[0]["phase"], named(result, "tails")[0]["phase"]
    assert sorted([heads, tails]) == ["Skipped", "Succeeded"]
    said = "[heads] it was heads" if heads == "Succeeded" else "[tails] it was tails"
    assert said in lines


def _recursive(result: LocalRunResult, lines: list[str]) -> None:
    flips = named(result, "flip-coin")
    assert len(flips) >= 1 and len(named(result, "heads")) == len(flips)
    ran = [n for n in named(result, "heads") if n["phase"] == "Succeeded"]
    assert len(ran) == 1 and "[heads] it was heads" in lines  # the recursion ends at the first heads


def _complex(result: LocalRunResult, lines: list[str]) -> None:
    def said(step: str) -> str:
        node = named(result, step)[0]
        out = [x.split("] ", 1)[1] for x in lines if x.startswith(f"[{step}] ") and x.split("] ", 1)[1] in
               ("heads", "tails")]
        assert node["phase"] == "Succeeded" and out, (step, lines)
        return out[0]

    first, second = said("flip-coin"), said("flip-again")
    expect = {"heads": first == "heads", "tails": first == "tails",
              "complex-condition": (first, second) in (("heads", "tails"), ("tails", "tails")),
              "heads-regex": second == "heads", "tails-regex": second == "tails"}
    for step, runs in expect.items():
        assert named(result, step)[0]["phase"] == ("Succeeded" if runs else "Skipped"), step


def _random_int(result: LocalRunResult, lines: list[str]) -> None:
    line = next(x for x in lines if x.startswith("[print] result was: "))
    assert 1 <= int(line.rsplit(" ", 1)[1]) <= 101


def _aggregation(result: LocalRunResult, lines: list[str]) -> None:
    assert [n["phase"] for n in result.nodes if n["name"].startswith("divide-by-2(")] == [
        "Skipped", "Succeeded", "Skipped", "Succeeded"]
    assert {"[print(0:1)] 1", "[print(1:2)] 2"} <= set(lines)


def _sequences(result: LocalRunResult, lines: list[str]) -> None:
    def items(step: str) -> list[str]:
        return [re.sub(r"^.*:(.*)\)$", r"\1", n["name"]) for n in result.nodes
                if n["name"].startswith(step + "(") and n["type"] == "Pod"]

    assert items("sequence-count") == ["0", "1", "2", "3", "4"]
    assert items("sequence-start-end") == ["100", "101", "102", "103", "104", "105"]
    assert items("sequence-param") == ["200", "201", "202"]
    assert items("sequence-negative") == ["5", "4", "3", "2", "1", "0"]
    assert items("sequence-format") == [f"testuser{i:02X}" for i in range(5)]


def _timeout_workflow(result: LocalRunResult, lines: list[str]) -> None:
    assert "activeDeadlineSeconds" in result.message
    assert all(n["phase"] == "Failed" for n in result.nodes if n["type"] == "Pod") and len(pods(result, "")) == 6
    assert max(n["duration"] for n in pods(result, "")) < 5


def _global_art(result: LocalRunResult, lines: list[str]) -> None:
    assert result.outputs == {"my-global-param": "hello world"}
    assert lines.count("[consume-global-param] hello world") == 2  # in the steps and in the exit handler
    assert lines.count("[consume-global-art] hello world") == 2


def _memoized(result: LocalRunResult, lines: list[str]) -> None:
    assert result.nodes[0]["outputs"] == {"hello": "test-5"}


def _hook_param(result: LocalRunResult, lines: list[str]) -> None:
    assert named(result, "step-1")[0]["outputs"] == {"result": "hello world"}
    assert "[step-1.onExit] hello world" in lines


def _daemon(result: LocalRunResult, lines: list[str]) -> None:
    influx, consumer = named(result, "influx")[0], named(result, "consumer")[0]
    assert influx["message"].startswith("daemoned") and ts(influx, "finished_at") >= ts(consumer, "finished_at")
    assert sum(x.startswith("[consumer] cpu,") for x in lines) == 7


def _conditional(result: LocalRunResult, lines: list[str]) -> None:
    flip = next(x.split("] ", 1)[1] for x in lines if x in ("[flipcoin] heads", "[flipcoin] tails"))
    assert named(result, flip)[0]["phase"] == "Succeeded"
    assert named(result, "tails" if flip == "heads" else "heads")[0]["phase"] == "Skipped"
    assert result.nodes[0]["outputs"] == {"stepresult": flip}  # the expression picked the branch that ran


def _failfast_off(result: LocalRunResult, lines: list[str]) -> None:
    assert named(result, "C")[0]["attempts"] == 4 and named(result, "C")[0]["exit_code"] == 2


# -------------------------------------------------------------------------------------------- cases

CASES: dict[str, Case] = {
    "hello-world": Case(lines=("[{wf}] hello world",)),
    "steps": Case(nodes={"hello1": "Succeeded", "hello2a": "Succeeded", "hello2b": "Succeeded"},
                  lines=("[hello1] hello1", "[hello2a] hello2a", "[hello2b] hello2b"),
                  order=(("hello1", "hello2a"), ("hello1", "hello2b"))),
    "dag-diamond": Case(nodes={f"foo-bar-longname-{x}": "Succeeded" for x in "ABCD"},
                        order=(("foo-bar-longname-A", "foo-bar-longname-B"), ("foo-bar-longname-A", "foo-bar-longname-C"),
                               ("foo-bar-longname-B", "foo-bar-longname-D"), ("foo-bar-longname-C", "foo-bar-longname-D"))),
    "dag-diamond-steps": Case(nodes={"A": "Succeeded", "D": "Succeeded", "echo(2:3)": "Succeeded"},
                              lines=("[echo(0:1)] A1", "[echo(2:3)] D3"), order=(("A", "B"), ("B", "D"), ("C", "D"))),
    "dag-multiroot": Case(nodes={x: "Succeeded" for x in "ABCD"}, order=(("A", "C"), ("A", "D"), ("B", "D"))),
    "dag-nested": Case(nodes={x: "Succeeded" for x in "ABCD"}, lines=("[A] AA", "[D] DD", "[C] BC")),
    "dag-targets": Case(nodes={"A": "Succeeded", "C": "Succeeded", "E": "Succeeded"}, absent=("B", "D"),
                        order=(("A", "C"), ("C", "E"))),
    "dag-enhanced-depends": Case(nodes={"A": "Succeeded", "B": "Succeeded", "C": "Failed",
                                        "should-execute-1": "Succeeded", "should-execute-2": "Succeeded",
                                        "should-not-execute": "Omitted", "should-execute-3": "Succeeded"}),
    "dag-continue-on-fail": Case(phase="Failed",
                                 nodes={"A": "Succeeded", "B": "Failed", "C": "Succeeded", "D": "Succeeded",
                                        "E": "Failed", "F": "Succeeded", "G": "Omitted"},
                                 order=(("B", "D"), ("C", "D"))),
    "dag-disable-failFast": Case(phase="Failed", nodes={"A": "Succeeded", "B": "Succeeded", "C": "Failed",
                                                        "D": "Succeeded", "E": "Succeeded"}, check=_failfast_off),
    "continue-on-fail": Case(nodes={"A": "Succeeded", "B": "Succeeded", "C": "Failed", "D": "Succeeded"},
                             order=(("B", "D"), ("C", "D"))),
    "exit-handlers": Case(phase="Failed", nodes={"onExit": "Succeeded", "notify": "Succeeded", "cry": "Succeeded",
                                                 "celebrate": "Skipped"},
                          lines=("[cry] boohoo!",), check=_failures_list),
    "exit-handler-step-level": Case(nodes={"hello1.onExit": "Succeeded", "hello2a.onExit": "Succeeded",
                                           "hello2b.onExit": "Succeeded"},
                                    lines=("[hello1.onExit] step cleanup",),
                                    order=(("hello1", "hello1.onExit"), ("hello1.onExit", "hello2a"))),
    "exit-handler-dag-level": Case(nodes={f"{x}.onExit": "Succeeded" for x in "ABCD"},
                                   order=(("A", "A.onExit"), ("A.onExit", "B"), ("D", "D.onExit"))),
    "exit-handler-with-param": Case(nodes={"step-1": "Succeeded", "step-1.onExit": "Succeeded"}, check=_hook_param),
    "loops": Case(nodes={"print-message-loop(0:hello world)": "Succeeded", "print-message-loop(1:goodbye world)":
                         "Succeeded"}, lines=("[print-message-loop(1:goodbye world)] goodbye world",)),
    "loops-maps": Case(nodes={"test-linux(3:image:ubuntu,tag:17.10)": "Succeeded"},
                       lines=("[test-linux(0:image:debian,tag:9.1)] debian:9.1",)),
    "loops-param-argument": Case(nodes={"test-linux(2:image:alpine,tag:3.6)": "Succeeded"},
                                 lines=("[test-linux(3:image:ubuntu,tag:17.10)] ubuntu:17.10",)),
    "loops-param-result": Case(nodes={"sleep(0:20)": "Succeeded", "sleep(10:30)": "Succeeded"},
                               lines=("[sleep(10:30)] sleeping for 30 seconds",), order=(("generate", "sleep(0:20)"),)),
    "loops-sequence": Case(check=_sequences),
    "loops-dag": Case(nodes={"B(0:foo)": "Succeeded", "B(2:baz)": "Succeeded"},
                      order=(("A", "B(1:bar)"), ("B(2:baz)", "C"))),
    "output-parameter": Case(lines=("[consume-parameter] hello world",),
                             check=lambda r, _: named(r, "generate-parameter")[0]["outputs"] == {"hello-param": "hello world"}),
    "global-outputs": Case(nodes={"onExit": "Succeeded"}, check=_global_art),
    "global-parameters": Case(lines=("[{wf}] hello world",)),
    "arguments-parameters": Case(params={"message": "goodbye world"}, lines=("[{wf}] goodbye world",)),
    "retry-backoff": Case(check=_backoff),
    "retry-with-steps": Case(nodes={"hello1": "Succeeded", "hello2a": "Succeeded"}, check=_retried(2),
                             lines=("[hello1] retries: 1",)),
    "retry-on-error": Case(check=_retried(3)),
    "retry-script": Case(phase="Failed", check=_retried(11, "Failed"), lines=("[{wf}] attempt 10",)),
    "retry-conditional": Case(phase="Failed", check=_retried(2, "Failed")),
    "parallelism-limit": Case(check=_parallelism_limit),
    "parallelism-nested-dag": Case(nodes={f"b{i}": "Succeeded" for i in range(1, 6)}, check=_nested_parallelism),
    "timeouts-workflow": Case(phase="Failed", check=_timeout_workflow),
    "dag-task-level-timeout": Case(phase="Failed", nodes={"A": "Succeeded", "B": "Failed", "C": "Succeeded"}),
    "synchronization-mutex-tmpl-level": Case(check=_mutex),
    "synchronization-tmpl-level": Case(semaphores={"my-config/template": 2}, check=_semaphore),
    "synchronization-wf-level": Case(lines=("[{wf}] hello world",)),
    "memoize-simple": Case(check=_memoized),
    "artifact-passing": Case(lines=("[consume-artifact] hello world",),
                             order=(("generate-artifact", "consume-artifact"),)),
    "input-artifact-raw": Case(lines=("[{wf}] this is", "[{wf}] contents")),
    "life-cycle-hooks-tmpl-level": Case(nodes={"step-1.hooks.running": "Succeeded", "step-1.hooks.success": "Succeeded",
                                               "step2.hooks.success": "Succeeded"}),
    "life-cycle-hooks-wf-level": Case(nodes={"onExit": "Succeeded"}),
    "coinflip": Case(check=_coinflip),
    "coinflip-recursive": Case(check=_recursive),
    "conditionals-complex": Case(check=_complex),
    "scripts-bash": Case(check=_random_int),
    "parameter-aggregation": Case(check=_aggregation),
    "parameter-aggregation-dag": Case(check=_aggregation),
    "daemon-step": Case(nodes={"influx": "Succeeded", "consumer": "Succeeded"},
                        lines=("[consumer] CREATE DATABASE mydb at 127.0.0.1:8086", "[consumer] daemon still up",
                               "[consumer] cpu,host=server03,region=useast load=15.4"), check=_daemon),
    "sidecar": Case(lines=("[{wf}/influxdb] influxd up", "[{wf}] cpu,host=server01,region=uswest load=3"),
                    check=lambda r, _: r.nodes[0]["duration"] < 5),
    "dag-coinflip": Case(nodes={x: "Succeeded" for x in "ABCD"}, order=(("A", "B"), ("C", "D"))),
    "parallelism-template-limit": Case(check=_parallelism_limit),
    "dag-continueOn-fail": Case(phase="Failed", nodes={"A": "Succeeded", "B": "Failed", "C": "Succeeded",
                                                       "D": "Succeeded", "E": "Failed", "F": "Succeeded",
                                                       "G": "Omitted"}),
    "status-reference": Case(nodes={"flakey-container": "Failed", "failed": "Succeeded", "succeeded": "Skipped"},
                             lines=("[failed] the flakey container failed",)),
    "dag-conditional-parameters": Case(check=_conditional),
    "conditional-parameters": Case(check=_conditional),
    "dag-inline": Case(nodes={"a": "Succeeded", "b": "Succeeded"}, order=(("a", "b"),)),
    "steps-inline-workflow": Case(nodes={"a": "Succeeded"}, lines=("[a] hello",)),
    "template-defaults": Case(nodes={"retry-backoff": "Succeeded", "hello-world": "Succeeded"},
                              check=lambda r, _: named(r, "retry-backoff")[0]["attempts"] == 2),
    # refused before anything runs
    "suspend-template": Case(refused=("template 'approve': suspend without a duration", "nobody can resume it")),
    "http-hello-world": Case(refused=("template 'http': http template", "Argo's agent pod")),
    "k8s-jobs": Case(refused=("resource template", "creates Kubernetes resources", "valueFrom.jsonPath",
                              "valueFrom.jqFilter")),
}


def project(tmp_path: Path, name: str) -> Path:
    files = base_files()
    files["config.yaml"] = root_config((DATA / f"{name}.yaml").read_text(encoding="utf-8"))
    return write_files(tmp_path / name, files)


def run_case(root: Path, case: Case) -> tuple[LocalRunResult, list[str]]:
    lines: list[str] = []
    result = run_local(root, parameters=dict(case.params), isolation="none", out=lines.append, timeout=60,
                       semaphores=case.semaphores)
    return result, lines


def test_every_example_file_has_a_case_and_an_origin():
    files = {p.stem for p in DATA.glob("*.yaml")}
    assert files == set(CASES)
    for path in DATA.glob("*.yaml"):
        assert path.read_text(encoding="utf-8").startswith("# Origin: argoproj/argo-workflows examples/"), path


@pytest.mark.parametrize("name", sorted(CASES))
def test_argo_example(name: str, tmp_path: Path):
    case = CASES[name]
    root = project(tmp_path, name)
    result, lines = run_case(root, case)
    text = "\n".join(lines)
    refused = case.refused
    if refused:
        assert (result.phase, result.exit_code, result.run_id, result.record) == ("Error", 2, None, None), text
        assert not (root / ".pipeline-ci" / "runs").exists()
        for gist in refused:
            assert gist in text, (gist, text)
        assert re.search(r"config\.yaml:\d+:\d+: spec\.", text), text  # the position of each construct
        return
    assert (result.phase, result.exit_code) == (case.phase, EXIT[case.phase]), text
    assert result.record is not None and result.record["exit_code"] == EXIT[case.phase]
    for display, phase in case.nodes.items():
        found = named(result, display)
        assert found, f"no node {display!r}: {[n['name'] for n in result.nodes]}"
        assert {n["phase"] for n in found} == {phase}, (display, found)
    for display in case.absent:
        assert not named(result, display), display
    for line in case.lines:
        assert line.replace("{wf}", result.record["workflow"]) in lines, (line, text)
    for before, after in case.order:
        first, then = named(result, before), named(result, after)
        assert first and then, (before, after)
        assert max(ts(n, "finished_at") for n in first) <= min(ts(n, "started_at") for n in then), (before, after)
    if case.check is not None:
        assert case.check(result, lines) is not False, "the extra check failed"


def test_memoized_second_run_uses_the_cache_and_max_age_expires_it(tmp_path: Path):
    root = project(tmp_path, "memoize-simple")
    first, _ = run_case(root, CASES["memoize-simple"])
    assert first.phase == "Succeeded" and "memoized" not in first.nodes[0]["message"]
    second, lines = run_case(root, CASES["memoize-simple"])
    assert second.phase == "Succeeded" and second.nodes[0]["message"].startswith("memoized")
    assert second.nodes[0]["outputs"] == {"hello": "test-5"} and second.nodes[0]["pids"] == []
    entry = next((root / ".pipeline-ci" / "memo" / "my-config").glob("*.json"))
    saved = json.loads(entry.read_text())
    saved["created"] -= 11  # older than maxAge 10s
    entry.write_text(json.dumps(saved))
    third, _ = run_case(root, CASES["memoize-simple"])
    assert third.phase == "Succeeded" and "memoized" not in third.nodes[0]["message"]


def test_a_semaphore_without_a_limit_is_refused_and_allow_unsupported_runs_the_rest(tmp_path: Path):
    root = project(tmp_path, "synchronization-tmpl-level")
    result, lines = run_case(root, Case())
    assert (result.exit_code, result.record) == (2, None)
    assert any("semaphore my-config/template" in x and "--semaphore my-config/template=N" in x for x in lines)
    root = project(tmp_path, "k8s-jobs")
    lines = []
    result = run_local(root, isolation="none", out=lines.append, allow_unsupported=True, timeout=60)
    assert (result.phase, result.exit_code) == ("Error", 1), lines
    assert result.nodes[0]["message"].startswith("template 'rand-num' (resource) cannot run locally")
    assert any("running anyway (--allow-unsupported)" in x for x in lines)


def test_inputs_default_and_value_see_workflow_parameters(tmp_path: Path):
    spec = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: defaults-}
spec:
  entrypoint: main
  arguments:
    parameters: [{name: a, value: from-workflow}]
  templates:
  - name: main
    inputs:
      parameters:
      - {name: x, default: "a={{workflow.parameters.a}}"}
      - {name: y, value: "{{workflow.name}}"}
    script: {image: python, command: [sh], source: "echo {{inputs.parameters.x}} {{inputs.parameters.y}}"}
"""
    files = base_files()
    files["config.yaml"] = root_config(spec)
    root = write_files(tmp_path / "p", files)
    lines: list[str] = []
    result = run_local(root, isolation="none", out=lines.append)
    assert result.phase == "Succeeded", lines
    assert f"[{result.record['workflow']}] a=from-workflow {result.record['workflow']}" in lines


def test_retry_strategy_on_a_steps_template_retries_the_whole_template(tmp_path: Path):
    spec = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: retry-steps-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: group, template: group}
  - name: group
    retryStrategy: {limit: 2, retryPolicy: Always, backoff: {duration: "10ms"}}
    steps:
    - - {name: first, template: ok}
    - - {name: flaky, template: flaky}
  - name: ok
    script: {image: python, command: [sh], source: "echo ok"}
  - name: flaky
    script:
      image: python
      command: [sh]
      source: "test -e {{workflow.parameters.marker}} || { touch {{workflow.parameters.marker}}; exit 1; }"
  arguments:
    parameters: [{name: marker, value: MARKER}]
"""
    files = base_files()
    files["config.yaml"] = root_config(spec)
    root = write_files(tmp_path / "p", files)
    lines: list[str] = []
    result = run_local(root, isolation="none", out=lines.append, parameters={"marker": str(tmp_path / "m")})
    assert result.phase == "Succeeded", lines
    group = result.node("group")
    assert (group["type"], group["attempts"], group["phase"]) == ("Retry", 2, "Succeeded")
    assert [n["phase"] for n in result.nodes if n["name"] in ("group(0)", "group(1)")] == ["Failed", "Succeeded"]
    assert len(named(result, "first")) == 2  # the whole template ran again


def test_cli_refuses_unsupported_with_exit_2_and_lint_warns_at_the_position(tmp_path: Path):
    import subprocess
    import sys

    root = project(tmp_path, "http-hello-world")
    run = subprocess.run([sys.executable, "-m", "pipeline_ci", "run", str(root), "--isolation", "none"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "template 'http': http template cannot run locally" in run.stdout + run.stderr
    assert not (root / ".pipeline-ci" / "runs").exists()
    lint = subprocess.run([sys.executable, "-m", "pipeline_ci", "lint", "--no-cache", str(root)],
                          capture_output=True, text=True, timeout=120)
    assert re.search(r"config\.yaml:\d+:\d+: warning.*A41", lint.stdout + lint.stderr) or "A41" in lint.stdout, lint.stdout
    allowed = subprocess.run([sys.executable, "-m", "pipeline_ci", "run", str(root), "--isolation", "none",
                              "--allow-unsupported"], capture_output=True, text=True, timeout=120)
    assert allowed.returncode == 1 and "running anyway (--allow-unsupported)" in allowed.stdout, allowed.stdout


def test_the_docs_table_lists_every_case_with_its_result():
    text = (Path(__file__).parents[1] / "docs" / "local-executor.md").read_text(encoding="utf-8")
    rows = {row.split("|")[1].strip(): row.split("|")[3] for row in text.splitlines()
            if row.startswith("| pass ") or row.startswith("| refused ")}
    refused = {name for name, case in CASES.items() if case.refused}
    passed = set(CASES) - refused
    assert {n.split(" (")[0].strip() for n in rows["pass"].split(", ")} == passed
    assert {n.split(" (")[0].strip() for n in rows["refused before anything runs"].split("), ")} == refused
    assert f"| pass | {len(passed)} ({round(100 * len(passed) / len(CASES))}%)" in text


def test_no_implicit_cpu_cap_and_the_safety_cap_says_so():
    spec = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: wide-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: nap, template: nap, withSequence: {count: "6"}}
  - name: nap
    script: {image: python, command: [sh], source: "sleep 0.3"}
"""
    import tempfile

    from pipeline_ci.platforms.local.executor.engine import _Capped

    with tempfile.TemporaryDirectory() as tmp:
        files = base_files()
        files["config.yaml"] = root_config(spec)
        root = write_files(Path(tmp) / "p", files)
        lines: list[str] = []
        result = run_local(root, isolation="none", out=lines.append)
        assert result.phase == "Succeeded", lines
        assert max_overlap(pods(result, "nap(")) == 6  # on any number of CPUs, as in Argo
    said: list[str] = []
    cap = _Capped(1, said.append)
    assert cap.acquire(timeout=0.01) and not cap.acquire(timeout=0.01) and not cap.acquire(timeout=0.01)
    assert len(said) == 1 and "safety cap" in said[0] and "--parallelism" in said[0]


def _run_spec(tmp_path: Path, spec: str) -> tuple[LocalRunResult, list[str]]:
    files = base_files()
    files["config.yaml"] = root_config(spec)
    root = write_files(tmp_path / "p", files)
    lines: list[str] = []
    return run_local(root, isolation="none", out=lines.append, timeout=60), lines


def test_unhappy_artifacts_memoize_and_hooks(tmp_path: Path):
    result, lines = _run_spec(tmp_path, """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: unhappy-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: no-art
        template: no-art
        continueOn: {failed: true, error: true}
        hooks:
          exit: {template: boom}
      - name: bad-memo
        template: bad-memo
        continueOn: {error: true}
    - - name: use
        template: use
        continueOn: {error: true}
        arguments:
          artifacts: [{name: in, from: "{{steps.no-art.outputs.artifacts.out}}"}]
  - name: no-art
    outputs:
      artifacts: [{name: out, path: /tmp/never-written}]
    script: {image: python, command: [sh], source: "true"}
  - name: bad-memo
    memoize: {key: k, maxAge: "soon", cache: {configMap: {name: c}}}
    script: {image: python, command: [sh], source: "true"}
  - name: use
    inputs:
      artifacts: [{name: in, path: /tmp/in}]
    script: {image: python, command: [sh], source: "cat /tmp/in"}
  - name: boom
    script: {image: python, command: [sh], source: "exit 3"}
""")
    assert result.phase == "Succeeded", lines  # every failure is tolerated by continueOn; a hook's does not count
    no_art, memo = result.node("no-art"), result.node("bad-memo")
    assert (no_art["phase"], no_art["message"]) == ("Error", "output artifact 'out': /tmp/never-written was not written")
    assert memo["phase"] == "Error" and "memoize.maxAge 'soon' is not a duration" in memo["message"]
    assert result.node("no-art.onExit")["phase"] == "Failed" and result.node("no-art.onExit")["exit_code"] == 3
    assert result.node("use")["phase"] == "Error" and "failed to resolve" in result.node("use")["message"]
