"""The fast paths give exactly the results of the general ones.

Fast paths under test (issue 13, cold lint and ``changed``):

- schema validation by the predicates generated from the JSON Schemas (``pipeline_ci/schemas/fastcheck.py``), with
  ``jsonschema`` only for documents they cannot vouch for;
- requirement lines recognised by a regular expression before ``packaging`` is imported;
- lint and ``changed`` running with the cyclic garbage collector paused, ``changed --format json`` written in one go;
- PyYAML's reader pattern replaced in re's cache by a cheaper equivalent one, git spawned without ``subprocess``.

Each is compared with the general path on the broken examples (``examples/broken/*``), the example project, a
monorepo and mutated documents (the fuzzers' mutation helper).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline_ci import schemas
from pipeline_ci.lint import lint_paths
from pipeline_ci.rules import requirements
from pipeline_ci.schema_check import _jsonschema_issues, _string_keys, check_data
from pipeline_ci.schemas import fastcheck, generate
from pipeline_ci.testing.projects import base_files

from .conftest import MUTATION_KINDS, REPO, mutate_lines, write_files

EXAMPLES = REPO / "examples"
SCHEMA_OF = {"config.yaml": "step-config", "config-lock.yaml": "step-lock"}


# Every xdist worker builds DOCUMENTS while collecting: libyaml's safe loader (when PyYAML was built with it) reads
# these documents as the pure-Python one does, in a tenth of the time.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _documents() -> list[tuple[str, Any]]:
    """``(schema name, data)`` for every config and lockfile of the examples, plus mutated copies."""
    texts: list[tuple[str, str]] = []
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.name in SCHEMA_OF:
            root = text.lstrip().startswith("pipeline:")
            texts.append(({"config.yaml": "root-config", "config-lock.yaml": "root-lock"}[path.name] if root
                          else SCHEMA_OF[path.name], text))
        elif "overrides" in path.name:
            texts.append(("overrides", text))
    for name, text in list(base_files().items()):
        if name.endswith("config.yaml"):
            texts.append(("root-config" if name == "config.yaml" else "step-config", text))
    rng = random.Random(13)
    snippets = ["x", ": 1", "- 2", "id: 3", "cpu_limit: 1.5", "  extra: true", "'", "0", "null", "[1, 2]", "PUBLIC"]
    mutated = []
    for name, text in texts:
        for _ in range(12):
            edits = [(rng.choice(MUTATION_KINDS), rng.randrange(200), rng.choice(snippets))
                     for _ in range(rng.randint(1, 3))]
            mutated.append((name, mutate_lines(text, edits)))
    out = []
    for name, text in texts + mutated:
        try:
            data = yaml.load(text, Loader=SAFE_LOADER)
        except yaml.YAMLError:
            continue
        out.append((name, data))
    return out


DOCUMENTS = _documents()


def test_the_generated_validators_are_up_to_date():
    assert generate.OUT.read_text(encoding="utf-8") == generate.generate(), (
        "run: python -m pipeline_ci.schemas.generate")


def test_enough_documents_of_every_schema_and_both_verdicts():
    by_schema = {name: [data for n, data in DOCUMENTS if n == name] for name in schemas.NAMES}
    assert all(len(docs) >= 10 for docs in by_schema.values()), {k: len(v) for k, v in by_schema.items()}
    verdicts = [fastcheck.valid(name, _string_keys(data, (), [])) for name, data in DOCUMENTS]
    assert verdicts.count(True) >= 30 and verdicts.count(False) >= 30


@pytest.mark.parametrize("index", range(0, len(DOCUMENTS), max(1, len(DOCUMENTS) // 400)))
def test_generated_validator_agrees_with_jsonschema(index: int):
    name, data = DOCUMENTS[index]
    plain = _string_keys(data, (), [])
    errors = _jsonschema_issues(plain, name)
    # sound: "valid" only when jsonschema finds nothing; and for our schemas also complete (no needless fallback)
    assert fastcheck.valid(name, plain) == (not errors), (name, data, errors)


def test_check_data_is_the_same_with_and_without_the_fast_path(monkeypatch):
    fast = [check_data(data, name) for name, data in DOCUMENTS]
    monkeypatch.setattr(fastcheck, "valid", lambda _name, _data: False)
    slow = [check_data(data, name) for name, data in DOCUMENTS]
    assert fast == slow
    assert sum(map(bool, slow)) >= 30  # the comparison covers documents with violations


def test_generated_validator_is_conservative_where_jsonschema_differs_from_python():
    # an integral float is an integer to jsonschema, a boolean is not: the predicate leaves both to jsonschema
    config = {"pipeline_step": {"id": "s", "user_id": "u", "app_id": "a"}, "build_info": {"python_version": "3.12"},
              "pipeline_step_compute_info": {"cpu_limit": "1", "cpu_memory": "1Gi", "num_accelerators": 0}}
    assert fastcheck.valid("step-config", config)
    for odd in (0.0, True, 1.5, "0"):
        changed = {**config, "pipeline_step_compute_info": {**config["pipeline_step_compute_info"],
                                                             "num_accelerators": odd}}
        assert not fastcheck.valid("step-config", changed) or not _jsonschema_issues(changed, "step-config")


def test_the_rule_target_index_is_complete_and_right():
    import importlib

    from pipeline_ci.rules import RULE_MODULES, all_rules, for_target
    from pipeline_ci.rules.base import TARGETS
    from pipeline_ci.rules.targets import TARGET_OF

    actual = {name: importlib.import_module(f"pipeline_ci.rules.{name}").TARGET for name in RULE_MODULES}
    assert actual == TARGET_OF, "run: python -m pipeline_ci.rules.targets"
    # lint through the index runs exactly the rules the modules declare for each target
    assert {t: [r.ID for r in for_target(t)] for t in TARGETS} == {
        t: [r.ID for r in all_rules() if t == r.TARGET] for t in TARGETS}


def test_generation_refuses_an_unknown_keyword():
    with pytest.raises(ValueError, match="does not support: const"):
        generate.Generator().node({"const": 1})


REQUIREMENTS = ["requests", "requests==2.32.0", "numpy>=1.26,<3", "a~=1", "a~=1.2", "a==1.*", "a >= 1",
                "a>=1 , <2", "-a", "a-", "a_b.c-d==0", "A==01.0", "a===1", "a==", "x ==1", "a,b", "a==1,",
                "pkg[extra]>=1", "requests=2.32.0", "numpy >= 1.0 scipy", "a>1.0.0.0", "Django<5;python_version<'3'"]


def test_requirements_fast_path_is_sound():
    from packaging.requirements import InvalidRequirement, Requirement

    rng = random.Random(7)
    cases = REQUIREMENTS + ["".join(rng.choice("ab0=<>!~., -_*") for _ in range(rng.randint(1, 9)))
                            for _ in range(20_000)]
    for case in cases:
        if requirements.SIMPLE_RE.fullmatch(case):
            try:
                Requirement(case)
            except InvalidRequirement as exc:  # pragma: no cover - the assertion below reports it
                pytest.fail(f"{case!r} is taken by the fast path but packaging rejects it: {exc}")


def test_requirement_problems_are_the_same_without_the_fast_path(monkeypatch):
    fast = [requirements.requirement_problem(r) for r in REQUIREMENTS]
    monkeypatch.setattr(requirements, "SIMPLE_RE", __import__("re").compile(r"(?!)"))
    assert [requirements.requirement_problem(r) for r in REQUIREMENTS] == fast
    assert sum(p is not None for p in fast) >= 3


def _os_walk_listing(step_dir: Path) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """The reference: the step walk as ``os.walk`` gives it (files sorted, then subfolders sorted, links not entered)."""
    from pipeline_ci.hashing import EXCLUDED_NAMES, _reason

    files: list[str] = []
    links: list[str] = []
    errors: list[tuple[str, str]] = []
    base = os.fspath(step_dir)

    def rel(top: str, name: str) -> str:
        rel_top = os.path.relpath(top, base)
        return name if rel_top == "." else f"{rel_top}/{name}"

    def failed(exc: OSError) -> None:
        where = os.path.relpath(exc.filename, base) if exc.filename else "."
        errors.append((where if where != "." else "", _reason(exc)))

    for top, dirs, names in os.walk(base, onerror=failed, followlinks=False):
        linked = [d for d in dirs if os.path.islink(os.path.join(top, d))]
        dirs[:] = sorted(d for d in dirs if d not in linked)
        links += [rel(top, d) for d in sorted(linked)]
        files += [rel(top, n) for n in sorted(names) if n not in EXCLUDED_NAMES]
    return files, links, errors


def test_the_step_walk_lists_what_os_walk_lists(tmp_path: Path):
    from pipeline_ci.hashing import _walk, hash_step

    step = tmp_path / "step"
    for name in ("config.yaml", "config-lock.yaml", "requirements.txt", "1/pipeline_step.py", "1/config-lock.yaml",
                 "1/b/z.txt", "1/a/y.txt", "1/a/deep/er/x.bin", "data/é ü.txt", "data/.hidden", "Z/upper.txt"):
        (step / name).parent.mkdir(parents=True, exist_ok=True)
        (step / name).write_text(name)
    (step / "1" / "link-to-dir").symlink_to(step / "data")
    (step / "1" / "link-to-file").symlink_to(step / "requirements.txt")
    (step / "dangling").symlink_to(tmp_path / "nowhere")
    (step / "loop").symlink_to(step / "loop")
    (step / "outside").symlink_to(tmp_path)
    (step / "fifo-dir").mkdir()
    os.mkfifo(step / "fifo-dir" / "pipe")
    got = _walk(step)
    assert (got.files, got.dir_links, got.errors) == _os_walk_listing(step)
    assert "1/a/deep/er/x.bin" in got.files and "1/link-to-dir" in got.dir_links
    assert not any(f.endswith("config-lock.yaml") for f in got.files)
    assert hash_step(step, boundary=tmp_path).files == got.files
    missing = _walk(tmp_path / "no-such-step")
    assert (missing.files, missing.dir_links, missing.errors) == _os_walk_listing(tmp_path / "no-such-step")
    assert missing.errors


def _yaml_texts() -> list[str]:
    rng = random.Random(5)
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(EXAMPLES.rglob("*.yaml"))]
    texts += [text for name, text in base_files().items() if name.endswith(".yaml")]
    texts += ["a: 1\nb: !!str 2\nc: 2024-01-01\nd: 0x1F\ne: .inf\nf: ~\ng: 'yes'\nh: yes\n", "a: &x [1]\nb: *x\n",
              "<<: {a: 1}\nb: 2\n", "a: 1\na: 2\n", "[1, {2: 3}]", "", "? [a]\n: 1\n", "a: '1'\nb: \"1\"\nc: 1\n"]
    snippets = ["x", ": 1", "- 2", "&a", "*a", "!!int", "'", '"', "[", "{", "<<: *a", "~", "0o17", "1e3", "yes"]
    for text in list(texts):
        for _ in range(8):
            edits = [(rng.choice(MUTATION_KINDS), rng.randrange(200), rng.choice(snippets))
                     for _ in range(rng.randint(1, 3))]
            texts.append(mutate_lines(text, edits))
    return texts


def _load(text: str, **kwargs: Any) -> tuple[str, Any]:
    from pipeline_ci.yamldoc import LoadError, load_text

    try:
        return "ok", load_text(text, "f.yaml", **kwargs).data
    except LoadError as exc:
        return "error", (exc.message, exc.pos)


def test_position_free_loading_and_the_tag_memo_give_the_same_data_and_errors(monkeypatch):
    from pipeline_ci import yamldoc

    texts = _yaml_texts()
    assert len(texts) >= 200
    general = [_load(text) for text in texts]
    assert [_load(text, positions=False) for text in texts] == general
    monkeypatch.setattr(yamldoc, "_ComposeLoader", yamldoc.Loader)  # the stock resolver
    assert [_load(text) for text in texts] == general
    kinds = [kind for kind, _ in general]
    assert kinds.count("ok") >= 50 and kinds.count("error") >= 20


@pytest.mark.parametrize("value", ["!!int", "!!bool maybe", "!!timestamp 2020-13-45", "!!float x"])
def test_an_explicit_tag_on_a_value_it_cannot_hold_is_a_load_error_not_a_crash(make_project, value: str):
    files = base_files()
    root = make_project(files={"stepA/config.yaml": files["stepA/config.yaml"] + f"extra: {value}\n"})
    findings = lint_paths([root]).findings
    assert [(f.rule, f.line, f.col) for f in findings if f.rule == "F01"] == [
        ("F01", files["stepA/config.yaml"].count("\n") + 1, 8)]
    assert "invalid !!" in next(f.message for f in findings if f.rule == "F01")


def _lint_all(paths: list[Path]) -> list:
    return [lint_paths([p]).findings for p in paths]


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    for i in range(20):
        files = base_files()
        files["config.yaml"] = files["config.yaml"].replace("id: demo", f"id: demo{i}")
        if i % 3 == 0:
            files["stepA/config.yaml"] += "colour: red\n"
        if i % 4 == 0:
            files["stepB/requirements.txt"] = "requests=2.0\nnumpy>=1.26,<3\n"
        if i % 5 == 0:
            files["stepA/config.yaml"] = files["stepA/config.yaml"].replace("cpu_limit: 500m", "cpu_limit: 0.5")
        write_files(tmp_path / "mono" / f"p{i:02d}", files)
    return tmp_path / "mono"


def test_lint_findings_are_the_same_without_the_fast_paths(monkeypatch, monorepo: Path):
    targets = sorted(p for p in (EXAMPLES / "broken").iterdir()) + [EXAMPLES / "hello-pipeline", monorepo]
    fast = _lint_all(targets)
    monkeypatch.setattr(fastcheck, "valid", lambda _name, _data: False)
    monkeypatch.setattr(requirements, "SIMPLE_RE", __import__("re").compile(r"(?!)"))
    slow = _lint_all(targets)
    assert fast == slow
    assert {f.rule for findings in slow for f in findings} >= {"S01", "S02", "C12"}


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_changed_output_is_the_same_as_the_detector_computes_in_process(tmp_path: Path):
    """``changed --format json`` (gc paused, one write) equals the report built from the detector with the collector
    running, on a repository of several projects with a touched step, a new step and a renamed one."""
    from pipeline_ci.changes import detect, project_view, repo_diff
    from pipeline_ci.commands.changed import json_text, report
    from pipeline_ci.discovery import discover
    from pipeline_ci.project import load_project

    repo = tmp_path / "repo"
    for i in range(4):
        files = base_files()
        files["config.yaml"] = files["config.yaml"].replace("id: demo", f"id: demo{i}")
        write_files(repo / f"p{i}", files)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    (repo / "p1" / "stepA" / "1" / "pipeline_step.py").write_text("print('changed')\n")
    (repo / "p2" / "stepB" / "requirements.txt").write_text("requests==2.0\n")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "touch")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    cli = subprocess.run([sys.executable, "-m", "pipeline_ci", "changed", "--base", "HEAD~1", "--format", "json"],
                         cwd=repo, env=env, capture_output=True, text=True, check=True)
    cwd = os.getcwd()
    os.chdir(repo)
    try:
        roots, _ = discover([Path(".")])
        diff = repo_diff(roots[0], "HEAD~1", None, env)
        results = [detect(p, tracked_only=p.in_git, git=project_view(diff, r))
                   for r, p in ((r, load_project(r)) for r in roots)]
        expected = report(results, "both", diff.rng)
    finally:
        os.chdir(cwd)
    assert json.loads(cli.stdout) == expected
    touched = [(p["project"], s["step_id"]) for p in expected["projects"] for s in p["steps"] if s["touched"]]
    assert touched == [("p1", "stepA"), ("p2", "stepB")]
    assert cli.stdout == json_text(expected)  # the one-write output, one list item per line


def test_the_one_command_parser_is_the_whole_parser_s_sub_parser():
    """``cli._parse`` builds only the sub-parser of the command being run: it must be that of the whole parser (same
    help, same parsed values), and an error in it is reported by the whole parser."""
    from pipeline_ci import cli
    from pipeline_ci.errors import UsageError

    whole = cli._commands(cli._parser())
    assert tuple(whole) == cli.COMMANDS
    for name in cli.COMMANDS:
        alone = cli._commands(cli._parser(name))
        assert list(alone) == [name]
        assert alone[name].format_help() == whole[name].format_help(), name
    for argv in (["lint", "--no-cache", "x", "-q"], ["-v", "run", ".", "--set", "a=b", "--max-interval", "0.2"],
                 ["envs", "prune", "--all"], ["changed", "--base", "HEAD~1", "--format", "json"]):
        assert cli._parse(argv) == cli._parser().parse_args(argv), argv
    with pytest.raises(UsageError, match="unrecognized arguments: --paralelism") as error:
        cli._parse(["run", ".", "--paralelism", "3"])
    assert "did you mean `--parallelism`" in str(error.value.hint)


def test_the_printable_ascii_shortcut_of_escape_controls_changes_nothing():
    """``textsafe.escape_controls`` returns printable-ASCII text without the regular expression (compiled lazily):
    every character alone and mixed into text escapes exactly as the expression does."""
    import re

    from pipeline_ci import textsafe

    unsafe = re.compile(textsafe.UNSAFE.pattern)
    samples = [chr(code) for code in range(0x3000)] + ["plain line", "tab\there", "a\x1b[31mred", "bidi\u202eevil",
                                                       "::warning::x", "é and ✓", "\udc80lone", ""]
    samples += ["".join(random.Random(seed).choice(samples[:300]) for _ in range(12)) for seed in range(200)]
    for text in samples:
        assert textsafe.escape_controls(text) == unsafe.sub(textsafe._escape, text), repr(text)
        assert textsafe.escape_controls(text, keep="\n") == unsafe.sub(
            lambda m: m.group() if m.group() in "\n" else textsafe._escape(m), text), repr(text)


def test_the_cheap_yaml_non_printable_pattern_is_pyyaml_s_and_is_used():
    """``yamldoc`` puts a cheap-to-compile pattern in re's cache under the pattern ``yaml/reader.py`` compiles at
    import: it must be PyYAML's pattern still (read from its source), match exactly the same code points (all of
    them), and be the one a fresh process's ``yaml.reader`` ends up with."""
    import ast
    import re

    import yaml.reader

    from pipeline_ci import yamldoc

    tree = ast.parse(Path(yaml.reader.__file__).read_text(encoding="utf-8"))
    theirs = [ast.literal_eval(node.value.args[0]) for node in ast.walk(tree) if isinstance(node, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id == "NON_PRINTABLE" for t in node.targets)]
    assert theirs == [yamldoc.YAML_NON_PRINTABLE]
    every = "".join(map(chr, range(0x110000)))
    general = re.compile(yamldoc.YAML_NON_PRINTABLE, re.UNICODE)  # another cache key: really compiled
    cheap = re.compile(yamldoc.NON_PRINTABLE, re.UNICODE)
    assert [m.start() for m in cheap.finditer(every)] == [m.start() for m in general.finditer(every)]
    assert cheap.search("\t\n\r plain é ✓ \U0001f600") is None and cheap.search("bad \x7f") is not None
    fresh = subprocess.run([sys.executable, "-c", "import pipeline_ci.yamldoc as d, yaml.reader as r; "
                            "print(r.Reader.NON_PRINTABLE.pattern == d.NON_PRINTABLE)"],
                           capture_output=True, text=True, check=True, cwd=REPO)
    assert fresh.stdout.strip() == "True"


def test_git_spawned_without_subprocess_answers_as_subprocess_does(tmp_path: Path):
    """``changes.git._run`` (``os.posix_spawn`` and ``select.poll``, no :mod:`subprocess` import) gives what
    ``subprocess.run(capture_output=True)`` gives: exit status, stdout and stderr, in the given folder, for the real
    git (a success, a failure) and for a stand-in writing more than a pipe holds on both streams; a git that runs
    too long is killed (TimeoutError), and a PATH without git is FileNotFoundError."""
    from pipeline_ci.changes import git as layer

    if getattr(os, "posix_spawn", None) is None:  # pragma: no cover
        pytest.skip("no os.posix_spawn here: subprocess is used")
    env = layer.git_env(None, REPO)
    for args in (["rev-parse", "--show-prefix"], ["ls-files", "-z", "--cached"], ["rev-parse", "no-such-rev"]):
        for folder in (REPO, REPO / "examples"):
            ours = layer._run(args, folder, env, None)
            theirs = subprocess.run(["git", *args], cwd=folder, env=env, stdin=subprocess.DEVNULL,
                                    capture_output=True, check=False)
            assert ours == (theirs.returncode, theirs.stdout, theirs.stderr), (args, folder)
    stand_in = tmp_path / "bin" / "git"  # git -C <folder> <command>: writes 300 kB to stderr, 500 kB to stdout
    stand_in.parent.mkdir()
    stand_in.write_text("#!/bin/sh\nif [ \"$3\" = slow ]; then exec sleep 5; fi\n"
                        "head -c 300000 /dev/zero | tr '\\0' e >&2\nhead -c 500000 /dev/zero | tr '\\0' o\nexit 3\n")
    stand_in.chmod(0o755)
    fake = {**env, "PATH": f"{stand_in.parent}{os.pathsep}{env.get('PATH', '')}"}
    assert layer._run(["big"], tmp_path, fake, None) == (3, b"o" * 500_000, b"e" * 300_000)
    with pytest.raises(TimeoutError):
        layer._run(["slow"], tmp_path, fake, 0.3)
    with pytest.raises(FileNotFoundError):
        layer._run(["status"], tmp_path, {**env, "PATH": str(tmp_path / "nowhere")}, None)


def test_discovery_walks_the_folders_os_walk_would(tmp_path: Path):
    """``discovery._walk`` (scandir without an lstat per folder) visits what ``os.walk`` visits, in the same order:
    skipped folders and symlinks to folders not entered, a symlink to a file listed as a file."""
    from pipeline_ci import discovery

    write_files(tmp_path, {"a/config.yaml": "pipeline:\n", "a/s/config.yaml": "pipeline_step:\n", "b/c/d/x.txt": "",
                           "node_modules/p/config.yaml": "pipeline:\n", ".pipeline-ci/q/config.yaml": "pipeline:\n",
                           "z/config.yaml": "pipeline:\n", "B/config.yaml": "pipeline:\n"})
    (tmp_path / "link-to-a").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "b" / "config.yaml").symlink_to(tmp_path / "a" / "config.yaml")
    (tmp_path / "b" / "loop").symlink_to(tmp_path / "b", target_is_directory=True)
    expected = []
    for top, dirs, files in os.walk(tmp_path):
        dirs[:] = sorted(d for d in dirs if d not in discovery.SKIP_DIRS)
        expected.append((top, sorted(files)))
    got = [(top, sorted(files)) for top, files in discovery._walk(str(tmp_path))]
    assert got == expected
    roots, _ = discovery.discover([tmp_path])
    assert [r.relative_to(tmp_path).as_posix() for r in roots] == ["B", "a", "b", "z"]
