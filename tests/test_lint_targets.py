"""The models split by target (Clarifai project, PAI manifest, overrides file) and rules that declare their target."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_ci.lint import lint_paths
from pipeline_ci.model.overrides import OverridesFile
from pipeline_ci.platforms.pai.manifest import Manifest, load_manifest
from pipeline_ci.platforms.pai.run import _manifest_text
from pipeline_ci.project import Project, load_project
from pipeline_ci.rules import all_rules, for_target
from pipeline_ci.rules.base import TARGETS, ClarifaiContext, ManifestContext, Options, OverridesContext, contexts
from pipeline_ci.rules.examples import examples

from .conftest import REPO, write_files

INLINE = REPO / "examples" / "pai" / "inline-component.yaml"


def test_every_rule_declares_a_known_target_and_runs_on_that_kind_only():
    assert all(rule.TARGET in TARGETS for rule in all_rules())
    grouped = [rule for target in TARGETS for rule in for_target(target)]
    assert sorted(r.ID for r in grouped) == sorted(r.ID for r in all_rules())  # each rule in exactly one group
    assert {r.ID[0] for r in for_target("manifest")} == {"P"}
    assert {r.ID for r in for_target("overrides")} == {"O01", "O02"}


def test_manifest_rules_and_only_they_are_documented_with_manifest_examples():
    for rule in all_rules():
        kinds = {ex.kind for ex in examples(rule)}
        assert (kinds == {"manifest"}) == (rule.TARGET == "manifest"), (rule.ID, kinds)


def test_contexts_of_a_clarifai_project_and_of_a_manifest(make_project, tmp_path: Path):
    root = make_project(files={"overrides.yaml": "input_text: a\n", "runs/overrides-b.json": '{"input_text": "b"}\n',
                               "runs/overrides-broken.yaml": "a: [\n"})
    project = load_project(root)
    got = list(contexts(project, Options(strict=True)))
    assert [kind for kind, _ in got] == ["clarifai", "overrides", "overrides"]
    clarifai, first, second = (ctx for _, ctx in got)
    assert isinstance(clarifai, ClarifaiContext) and clarifai.project is project
    assert isinstance(first, OverridesContext) and isinstance(second, OverridesContext)
    assert [Path(c.overrides.file).name for c in (first, second)] == ["overrides.yaml", "overrides-b.json"]
    assert first.project is project and first.options.strict
    assert first.memo is clarifai.memo is second.memo  # one memo per project: rules share work across targets
    assert [Path(e.file).name for e in project.overrides_errors] == ["overrides-broken.yaml"]  # F01's business

    manifest = load_manifest(INLINE)
    (kind, ctx), = contexts(manifest, Options())
    assert kind == "manifest" and isinstance(ctx, ManifestContext) and ctx.manifest is manifest


def test_each_model_has_only_its_own_fields(make_project):
    project = load_project(make_project(files={"overrides.yaml": "input_text: a\n"}))
    assert not any(hasattr(project, name) for name in ("manifest", "manifest_docs", "manifest_errors", "is_manifest"))
    assert all(isinstance(o, OverridesFile) for o in project.overrides)
    assert [Path(d.file).name for d in project.file_documents()] == [
        "config.yaml", "config.yaml", "config.yaml", "overrides.yaml"]  # root, stepA, stepB, overrides
    manifest = load_manifest(INLINE)
    assert isinstance(manifest, Manifest) and not isinstance(manifest, Project)
    assert not any(hasattr(manifest, name) for name in ("config", "spec", "steps", "overrides", "lock"))
    assert manifest.text == INLINE.read_text(encoding="utf-8")


@pytest.mark.parametrize(("module", "forbidden"), [
    ("pipeline_ci.platforms.pai.manifest", ("pipeline_ci.project", "pipeline_ci.model.overrides")),
    ("pipeline_ci.project", ("pipeline_ci.platforms.pai.manifest",)),
    ("pipeline_ci.model.overrides", ("pipeline_ci.project", "pipeline_ci.platforms.pai.manifest")),
])
def test_models_do_not_import_each_other(module: str, forbidden: tuple[str, ...]):
    code = f"import sys, {module}\nprint(sorted(m for m in {forbidden!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_broken_overrides_file_is_reported_by_the_clarifai_target_and_not_checked_further(make_project):
    root = make_project(files={"overrides.yaml": "input_txt: [\n"})
    assert [(f.rule, Path(f.file).name) for f in lint_paths([root]).findings] == [("F01", "overrides.yaml")]


# -- pipeline-ci run --backend pai --manifest: the manifest model's loader -----------------------------------


def test_run_manifest_uses_the_entry_pipeline_of_a_multi_document_manifest():
    assert _manifest_text(INLINE, {"final_lr": "0.1"}, ValueError) == INLINE.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="unknown parameter 'learning_rate'.*final_lr"):
        _manifest_text(INLINE, {"learning_rate": "0.1"}, ValueError)  # a component input, not the entry's


@pytest.mark.parametrize(("text", "message"), [
    ("apiVersion: core/v1\nspec: [\n", r"pipeline\.yaml:3:1: cannot load the manifest: invalid YAML"),
    ("apiVersion: core/v1\nmetadata: {a: 1, a: 2}\nspec: *nowhere\n", r"pipeline\.yaml:3:7: cannot load the manifest"),
    ("apiVersion: core/v1\n\0", r"pipeline\.yaml:2:1: cannot load the manifest: binary file"),
])
def test_run_manifest_that_does_not_load_is_a_usage_error_with_a_position(tmp_path: Path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {"pipeline.yaml": text})
    with pytest.raises(ValueError, match=message):
        _manifest_text(tmp_path / "pipeline.yaml", {}, ValueError)


@pytest.mark.parametrize("text", ["apiVersion: core/v1\nspec: [1, 2]\n", "apiVersion: core/v1\nspec:\n  inputs: 7\n",
                                  "- a list\n", ""])
def test_run_manifest_of_an_odd_shape_is_sent_as_is(tmp_path: Path, text: str):
    path = write_files(tmp_path, {"pipeline.yaml": text}) / "pipeline.yaml"
    assert _manifest_text(path, {"anything": "1"}, ValueError) == text  # nothing declared: nothing to check
