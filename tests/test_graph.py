"""Pipeline pictures: `pipeline-ci graph` and the Mermaid charts of the job summaries, checked by parsing them.

The flowchart must hold every step/task of the spec and every dependency edge, and highlight exactly the given
steps; hostile names cannot break out of a label; the run summaries (local and Clarifai) draw one gantt bar per
pod node with its phase.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline_ci.report import mermaid
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator
from pipeline_ci.testing.projects import base_files

from .conftest import run_cli, write_files

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "hello-pipeline"
NODE = re.compile(r'^\s*(?:subgraph )?(n\d+)\["([^"\n]*)"\]$')
EDGE = re.compile(r"^\s*(n\d+) (-->|-\.->) (n\d+)$")
CLASS = re.compile(r"^\s*class ([\w,]+) changed$")
BAR = re.compile(r"^\s*\u25b8 (.+) \((\w+) ([\d.]+)s\) :(?:(done|crit|active), )?b\d+, (\d+), (\d+)$")


def parse_flowchart(text: str) -> tuple[dict[str, str], set[tuple[str, str, str]], set[str]]:
    """Node id -> label, (from label, arrow, to label) edges, highlighted labels; fails on any other line."""
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "flowchart TD"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, str]] = []
    marked: set[str] = set()
    for line in lines[1:]:
        if m := NODE.match(line):
            nodes[m.group(1)] = m.group(2)
        elif m := EDGE.match(line):
            edges.append((m.group(1), m.group(2), m.group(3)))
        elif m := CLASS.match(line):
            marked |= set(m.group(1).split(","))
        else:
            assert line.strip() == "end" or line.strip().startswith("classDef changed "), line
    resolved = {(nodes[a], arrow, nodes[b]) for a, arrow, b in edges}
    return nodes, resolved, {nodes[i] for i in marked}


def spec_of(root: Path) -> dict:
    config = yaml.safe_load((root / "config.yaml").read_text())
    return yaml.safe_load(config["pipeline"]["orchestration_spec"]["argo_orchestration_spec"])


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return run_cli(list(args), env, cwd=cwd, timeout=120)


def test_example_flowchart_has_every_task_and_edge_and_highlights_exactly_the_changed_step():
    spec = spec_of(EXAMPLE)
    tasks = next(t for t in spec["spec"]["templates"] if "dag" in t)["dag"]["tasks"]
    nodes, edges, marked = parse_flowchart(mermaid.spec_flowchart(spec, {"analyze"}))
    by_name = {t["name"]: t for t in tasks}
    labels = {label.split(" (")[0] for label in nodes.values()}
    assert labels == set(by_name)
    expected = set()
    for task in tasks:
        for dep in re.findall(r"[\w-]+", task.get("depends", "")) + task.get("dependencies", []):
            expected.add((dep, task["name"]))
    assert {(a.split(" (")[0], b.split(" (")[0]) for a, arrow, b in edges if arrow == "-->"} == expected
    assert {m.split(" (")[0] for m in marked} == {n for n, t in by_name.items()
                                                   if t.get("templateRef", {}).get("name", "").endswith("/analyze")}


def test_steps_groups_nested_dag_and_exit_handler():
    spec = {"spec": {"entrypoint": "main", "onExit": "bye", "templates": [
        {"name": "main", "steps": [[{"name": "a", "template": "leaf"}],
                                   [{"name": "b", "template": "leaf"}, {"name": "c", "template": "inner"}],
                                   [{"name": "d", "template": "leaf"}]]},
        {"name": "inner", "dag": {"tasks": [{"name": "x", "template": "leaf"},
                                            {"name": "y", "template": "leaf", "dependencies": ["x"]}]}},
        {"name": "bye", "container": {"image": "i"}},
        {"name": "leaf", "container": {"image": "i"}}]}}
    text = mermaid.spec_flowchart(spec, {"d"})
    nodes, edges, marked = parse_flowchart(text)
    assert sorted(nodes.values()) == ["a", "b", "c", "d", "onExit: bye", "x", "y"]
    assert edges == {("a", "-->", "b"), ("a", "-->", "c"), ("b", "-->", "d"), ("c", "-->", "d"), ("x", "-->", "y"),
                     ("d", "-.->", "onExit: bye")}
    assert marked == {"d"}
    assert "subgraph" in text and text.count("\n  end") + text.count("\n    end") == 1
    assert mermaid.layers_text(spec).split("\n")[:4] == ["a", "b  after a", "c  after a", "  x"]


def test_recursive_template_and_missing_entrypoint_do_not_loop_or_crash():
    spec = {"spec": {"entrypoint": "loop", "templates": [{"name": "loop", "steps": [[{"name": "again", "template": "loop"}]]}]}}
    nodes, _, _ = parse_flowchart(mermaid.spec_flowchart(spec))
    assert list(nodes.values()) == ["again"]
    assert mermaid.spec_flowchart({"spec": {"entrypoint": "nope"}}) == "flowchart TD\n"
    assert mermaid.spec_flowchart("not a mapping") == "flowchart TD\n"


def test_hostile_names_stay_inside_their_label():
    evil = 'x"]\nclick n0 "javascript:alert(1)"\n<img src=x>`'
    spec = {"spec": {"entrypoint": "m", "templates": [{"name": "m", "dag": {"tasks": [{"name": evil, "template": "t"}]}}]}}
    text = mermaid.spec_flowchart(spec, {evil})
    nodes, _, marked = parse_flowchart(text)  # every line still parses: nothing escaped the label
    assert len(nodes) == 1 and "click" not in text.split("\n")[2].split('"')[0]
    assert not any(ch in text for ch in "<>`") and list(marked) == list(nodes.values())
    bars = mermaid.run_gantt("t", [mermaid.Bar("a:b;c#d\ne", "Failed", 10.0, 12.5),
                                   mermaid.Bar("```section x %%", "Succeeded", 10.0, 11.0)])
    rows = bars.rstrip("\n").split("\n")[-2:]
    assert sorted(BAR.match(row).groups()[1:4] for row in rows) == [("Failed", "2.5", "crit"), ("Succeeded", "1.0", "done")]
    assert "`" not in bars and "%%" not in bars and all(row.startswith("  \u25b8 ") for row in rows)


def test_graph_command_formats_and_errors(tmp_path):
    result = cli("graph", str(EXAMPLE), "--highlight", "analyze")
    assert result.returncode == 0, result.stderr
    nodes, _, marked = parse_flowchart(result.stdout)
    assert len(nodes) == 4 and len(marked) == 2
    fenced = cli("graph", str(EXAMPLE / "config.yaml"), "--format", "markdown")
    assert fenced.stdout.startswith("```mermaid\nflowchart TD\n") and fenced.stdout.endswith("```\n")
    text = cli("graph", str(EXAMPLE), "--format", "text", "--highlight", "analyze-words")
    assert text.stdout.split("\n")[0] == "prepare" and "report  after " in text.stdout
    assert [line for line in text.stdout.split("\n") if "*changed*" in line] == ["analyze-words (analyze) *changed*  after prepare"]
    by_task = cli("graph", str(EXAMPLE), "--highlight", "analyze-words")  # a task name, same as in text
    assert parse_flowchart(by_task.stdout)[2] == {"analyze-words (analyze)"}
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "config.yaml").write_text("pipeline:\n  orchestration_spec:\n    argo_orchestration_spec: |\n"
                                                    "      spec: {templates: []}\n")
    typo = cli("graph", str(EXAMPLE), "--highlight", "analyse")
    assert typo.returncode == 2 and "no step or task named 'analyse'" in typo.stderr and "analyze" in typo.stderr
    empty = cli("graph", str(tmp_path / "empty"))
    assert empty.returncode == 2 and "no entrypoint template" in empty.stderr
    missing = cli("graph", str(tmp_path))
    assert missing.returncode == 2 and "no config.yaml here" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "config.yaml").write_text("pipeline:\n  orchestration_spec:\n    argo_orchestration_spec: |\n      a: [\n")
    broken = cli("graph", str(tmp_path))
    assert broken.returncode == 2 and "config.yaml:" in broken.stderr and "pipeline-ci lint" in broken.stderr


def _gantt(summary: str) -> list[tuple[str, ...]]:
    block = summary.split("```mermaid\n", 1)[1].split("```", 1)[0]
    lines = block.rstrip("\n").split("\n")
    assert lines[0] == "gantt" and "dateFormat x" in block
    bars = [BAR.match(line) for line in lines[lines.index("  section nodes") + 1:]]
    assert all(bars), lines
    return [m.groups() for m in bars if m]


def test_local_run_summary_draws_one_bar_per_pod_with_phase(tmp_path):
    root = tmp_path / "hello"
    subprocess.run(["cp", "-r", str(EXAMPLE), str(root)], check=True)
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "REPORT_TOKEN": "t0ken-value"}
    result = cli("run", str(root), "--backend", "local", "--isolation", "none", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    bars = _gantt(summary.read_text())
    assert sorted(b[0] for b in bars) == ["analyze-chars", "analyze-words", "prepare", "report"]
    assert {b[1] for b in bars} == {"Succeeded"} and all(int(b[5]) >= int(b[4]) for b in bars)
    assert "t0ken-value" not in summary.read_text()


def test_clarifai_run_summary_draws_the_platform_nodes(tmp_path):
    pat = "pat-graph-secret"
    with ClarifaiEmulator({pat}, build_polls=1) as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "GITHUB_"))}
        env.update({"CLARIFAI_PAT": pat, "CLARIFAI_API_BASE": f"http://{emu.address}", "RUNNER_TEMP": str(tmp_path)})
        root = write_files(tmp_path / "proj", base_files())
        assert cli("upload", "--backend", "clarifai", str(root), env=env).returncode == 0
        emu.script_run([(emu_status("JOB_RUNNING"), 1), (emu_status("JOB_FAILED"), 1)])
        summary = tmp_path / "summary.md"
        result = cli("run", str(root), "--backend", "clarifai", "--max-interval", "0.2", "--compute-cluster-id", "cc1",
                     "--nodepool-id", "np1", env={**env, "GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 1, result.stdout + result.stderr
    bars = _gantt(summary.read_text())
    spec = spec_of(root)["spec"]
    entry = next(t for t in spec["templates"] if t["name"] == spec["entrypoint"])
    tasks = [t["name"] for t in entry.get("dag", {}).get("tasks", [])] + [
        s["name"] for group in entry.get("steps", []) for s in group]
    assert bars and {b[1] for b in bars} == {"Failed"} and {b[3] for b in bars} == {"crit"}
    assert tasks and sorted(b[0] for b in bars) == sorted(tasks)
    assert pat not in summary.read_text()


def emu_status(name: str) -> int:
    from pipeline_ci.platforms.clarifai import status

    return int(getattr(status, name))


@pytest.mark.parametrize("raw", [None, {}, {"nodes": "x"}, {"nodes": {"a": {"type": "Pod"}}}])
def test_malformed_platform_status_draws_nothing(raw):
    assert mermaid.argo_status_bars(raw) == []


def test_deploy_summary_highlights_exactly_the_uploaded_steps(tmp_path):
    root = tmp_path / "hello"
    subprocess.run(["cp", "-r", str(EXAMPLE), str(root)], check=True)
    with open(root / "analyze" / "1" / "pipeline_step.py", "a") as fh:
        fh.write("# changed\n")
    summary = tmp_path / "summary.md"
    result = cli("upload", str(root), env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 0, result.stdout + result.stderr
    chart = summary.read_text().split("```mermaid\n", 1)[1].split("```", 1)[0]
    nodes, edges, marked = parse_flowchart(chart)
    assert len(nodes) == 4 and len(edges) == 4
    assert marked == {"analyze-words (analyze)", "analyze-chars (analyze)"}


def test_changed_summary_draws_the_pipeline_with_the_selected_steps_highlighted(tmp_path):
    repo = tmp_path / "repo"
    subprocess.run(["cp", "-r", str(EXAMPLE), str(repo)], check=True)
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)
    with open(repo / "report" / "1" / "pipeline_step.py", "a") as fh:
        fh.write("# changed\n")
    subprocess.run([*git, "commit", "-qam", "change report"], cwd=repo, check=True)
    summary = tmp_path / "summary.md"
    result = cli("changed", ".", "--base", "HEAD~1", env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary)},
                 cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    chart = summary.read_text().split("```mermaid\n", 1)[1].split("```", 1)[0]
    nodes, edges, marked = parse_flowchart(chart)
    assert len(nodes) == 4 and len(edges) == 4 and marked == {"report"}
