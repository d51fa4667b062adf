"""Upload archives never follow symlinks out of the step folder, and always hold what the hash read.

Hostile step folders (a link to a file holding a fake ``CLARIFAI_PAT``, to ``/proc/self/environ``, to
a folder outside, symlink loops) go through the real command line: lint reports an error at the
link, ``upload``/``deploy`` refuse with exit 2 before anything is sent (the gRPC emulator receives
no call, the local store stays empty), and no output carries the secret. Links that stay inside
the step folder are stored the SDK's way, and the SDK hash recomputed from the archive equals the
lockfile's.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from pipeline_ci import cli
from pipeline_ci.archive import ArchiveError, build
from pipeline_ci.hashing import hash_order, hash_step
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator
from pipeline_ci.testing.projects import base_files

from .conftest import write_files

SECRET = "CLARIFAI_PAT=secret-value-7f3a9c\n"
PAT = "pat-0123456789abcdef-secret"
ENV = {k: v for k, v in os.environ.items() if not k.startswith("CLARIFAI_")} | {"PIPELINE_CI_NO_CACHE": "1"}
OUTSIDE_TARGETS = ["secret-file"] + (["/proc/self/environ"] if os.path.exists("/proc/self/environ") else [])


def sdk_hash(step_dir: Path) -> str:
    """A transcription of the SDK's ``hash_directory`` (clarifai/utils/hashing.py; subfolders sorted)."""
    digest = hashlib.md5()
    for top, dirs, files in os.walk(step_dir):
        dirs.sort()
        for name in sorted(files):
            if name == "config-lock.yaml":
                continue
            path = os.path.join(top, name)
            digest.update(os.path.relpath(path, step_dir).encode("utf-8"))
            digest.update(str(os.path.getsize(path)).encode())
            with open(path, "rb") as fh:
                digest.update(fh.read())
    return digest.hexdigest()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path / "proj", base_files())


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "credentials.env"
    path.parent.mkdir()
    path.write_text(SECRET)
    return path


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess whose environment holds a fake PAT (so /proc/self/environ has one)."""
    full = {**ENV, "CLARIFAI_PAT": "secret-value-7f3a9c", **(env or {})}
    return subprocess.run([sys.executable, "-m", "pipeline_ci", *args], capture_output=True, text=True, env=full,
                          timeout=120)


def run_in_process(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue() + err.getvalue()


def lint_json(project: Path) -> tuple[int, list[dict]]:
    code, output = run_in_process("lint", str(project), "--no-cache", "--format", "json")
    assert "Traceback" not in output and "internal error" not in output, output
    return code, json.loads(output)["findings"]


def l04(findings: list[dict]) -> list[tuple[str, int, str]]:
    return [(f["file"].rsplit("/proj/", 1)[-1], f["line"], f["severity"]) for f in findings if f["rule"] == "L04"]


def stored_archives(project: Path) -> list[Path]:
    return sorted((project / ".pipeline-ci" / "store").rglob("*.tar.gz"))


def no_secret(*texts: str) -> None:
    for text in texts:
        assert "secret-value" not in text


@pytest.mark.parametrize("target", OUTSIDE_TARGETS)
def test_link_out_of_the_step_is_a_lint_error_and_deploy_refuses(project: Path, secret: Path, target: str):
    link = project / "stepA" / "env.txt"
    link.symlink_to(secret if target == "secret-file" else target)
    code, findings = lint_json(project)
    assert code == 1 and l04(findings) == [("stepA/env.txt", 1, "error")]
    assert "symlink leading out of the step folder" in findings[0]["message"]

    result = run("deploy", "--backend", "local", str(project))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "stepA/env.txt" in result.stdout and "nothing was uploaded" in result.stderr
    output = result.stdout + result.stderr
    assert str(secret) not in output and "/proc/self" not in output  # the target is never named
    no_secret(result.stdout, result.stderr)
    assert not stored_archives(project) and not (project / "stepA" / "config-lock.yaml").exists()


@pytest.mark.parametrize("command", [("deploy", "--backend", "local"), ("upload", "--dry-run", "--backend", "local"),
                                     ("upload", "--dry-run", "--backend", "clarifai")])
def test_refused_even_with_the_lint_rule_disabled(project: Path, secret: Path, command: tuple[str, ...]):
    (project / "stepA" / "1" / "env.txt").symlink_to(secret)
    (project / ".pipeline-ci.yaml").write_text("disable: [L04]\n")
    code, output = run_in_process(*command, str(project))
    assert code == 2, output
    assert "stepA: refusing to upload the step: 1/env.txt is a symlink leading out of the step folder" in output
    assert str(secret.parent) not in output and "Traceback" not in output
    no_secret(output)
    assert not stored_archives(project) and not (project / "stepA" / "config-lock.yaml").exists()


@pytest.fixture
def emulator():
    with ClarifaiEmulator({PAT}, build_polls=1) as emu:
        yield emu


@pytest.mark.parametrize("disable", [False, True])
def test_clarifai_upload_sends_nothing(project: Path, secret: Path, emulator: ClarifaiEmulator, disable: bool):
    (project / "stepB" / "requirements-extra.txt").symlink_to(secret)
    if disable:  # the lint gate is off: the planner refuses before the backend is even built
        (project / ".pipeline-ci.yaml").write_text("disable: [L04]\n")
    result = run("upload", "--backend", "clarifai", str(project),
                 env={"CLARIFAI_API_BASE": f"http://{emulator.address}", "CLARIFAI_PAT": PAT})
    assert result.returncode == 2, result.stdout + result.stderr
    named = "stepB: refusing to upload the step: requirements-extra.txt" if disable else "stepB/requirements-extra.txt"
    output = result.stdout + result.stderr  # the lint report (stdout) or the refusal (stderr)
    assert named in output and "symlink leading out of the step folder" in output
    assert emulator.calls == [] and emulator.uploads == []
    no_secret(result.stdout, result.stderr)
    assert PAT not in result.stdout + result.stderr


def test_folder_link_out_of_the_step_is_refused(project: Path, secret: Path):
    (project / "stepA" / "1" / "shared").symlink_to(secret.parent, target_is_directory=True)
    code, findings = lint_json(project)
    assert code == 1 and l04(findings) == [("stepA/1/shared", 1, "error")]
    code, output = run_in_process("upload", "--backend", "local", str(project))
    assert code == 2 and "1/shared is a symlink leading out of the step folder" in output, output
    assert not stored_archives(project)


def test_links_up_and_back_into_another_step_are_out_of_the_step(project: Path):
    (project / "stepA" / "b-script.py").symlink_to("../stepB/1/pipeline_step.py")
    code, findings = lint_json(project)
    assert code == 1 and l04(findings) == [("stepA/b-script.py", 1, "error")]


@pytest.mark.parametrize("links", [{"loop": "loop"}, {"a": "b", "b": "a"}, {"1/deep": "../1/deep/x"}])
def test_symlink_loops_are_findings_not_internal_errors(project: Path, links: dict[str, str]):
    for name, target in links.items():
        (project / "stepA" / name).symlink_to(target)
    code, findings = lint_json(project)
    first = sorted(links)[0]
    assert code == 1 and (f"stepA/{first}", 1, "error") in l04(findings)
    assert any("symlink loop" in f["message"] for f in findings if f["rule"] == "L04")
    code, output = run_in_process("deploy", "--backend", "local", str(project))
    assert code == 2 and "symlink loop" in output and "Traceback" not in output and "internal error" not in output
    (project / ".pipeline-ci.yaml").write_text("disable: [L04]\n")
    code, output = run_in_process("deploy", "--backend", "local", str(project))
    assert code == 2 and "refusing to upload the step" in output and "symlink loop" in output, output
    assert not stored_archives(project)


def test_inside_links_are_stored_like_the_sdk_and_the_archive_hashes_to_the_lock(project: Path, tmp_path: Path):
    step = project / "stepA"
    write_files(step, {"1/helper.py": "VALUE = 42\n", "data/words.txt": "alpha\nbeta\n"})
    (step / "1" / "alias.py").symlink_to("helper.py")
    (step / "1" / "words.txt").symlink_to("../data/words.txt")
    (step / "absolute.txt").symlink_to(step.resolve() / "data" / "words.txt")  # absolute, but inside
    (step / "1" / "chain.py").symlink_to("alias.py")
    (step / "datadir").symlink_to("data", target_is_directory=True)
    code, findings = lint_json(project)
    assert code == 0 and l04(findings) == [("stepA/datadir", 1, "warning")]

    code, output = run_in_process("deploy", "--backend", "local", str(project))
    assert code == 0, output
    [pin] = (project / ".pipeline-ci" / "store" / "locks" / "steps").rglob("stepA/*.yaml")  # the local pin
    digest = yaml.safe_load(pin.read_text())["hash"]["value"]
    assert not (step / "config-lock.yaml").exists()  # a local deploy writes no lockfile
    assert digest == sdk_hash(step) == hash_step(step, boundary=project.resolve()).digest
    archive = next(p for p in stored_archives(project) if p.name == f"{digest}.tar.gz")
    with tarfile.open(archive) as tar:
        members = {m.name.removeprefix("./"): m for m in tar.getmembers()}
        links = {name: m.linkname for name, m in members.items() if m.issym()}
        assert links == {"1/alias.py": "helper.py", "1/chain.py": "helper.py", "1/words.txt": "../data/words.txt",
                         "absolute.txt": "data/words.txt"}
        assert "datadir" not in members and "config-lock.yaml" not in members
        assert all(m.isfile() or m.issym() for m in members.values())
        recomputed = hashlib.md5()  # the SDK hash of the archive, links read through the archive itself
        for name in hash_order(list(members)):
            data = tar.extractfile(members[name]).read()
            recomputed.update(name.encode() + str(len(data)).encode() + data)
        assert recomputed.hexdigest() == digest
        tar.extractall(tmp_path / "unpacked", filter="data")
    assert sdk_hash(tmp_path / "unpacked") == digest
    manifest = json.loads(archive.with_suffix("").with_suffix(".json").read_text())
    assert manifest["links"] == {"1/alias.py": "1/helper.py", "1/chain.py": "1/helper.py",
                                 "1/words.txt": "data/words.txt", "absolute.txt": "data/words.txt"}


def test_archive_refuses_a_path_swapped_for_a_link_and_changed_content(project: Path, secret: Path):
    step = project / "stepA"
    files = hash_step(step, boundary=project.resolve()).files
    (step / "sub").symlink_to(secret.parent, target_is_directory=True)
    with pytest.raises(ArchiveError) as swapped:  # as if "sub" had been a real folder when the walk listed it
        build(step, [*files, f"sub/{secret.name}"], entry="stepA")
    assert swapped.value.exit_code == 2 and "sub/credentials.env is a symlink leading out" in swapped.value.message
    assert str(secret.parent) not in swapped.value.message
    digest = hash_step(step, boundary=project.resolve()).digest
    assert build(step, files, expected_digest=digest).digest == digest
    (step / "requirements.txt").write_text("requests\n")
    with pytest.raises(ArchiveError, match="files changed after the step was hashed"):
        build(step, files, expected_digest=digest)


def test_clarifai_archive_holds_only_the_hashed_files_and_generated_ones(project: Path):
    step = project / "stepA"
    (step / "__pycache__").mkdir()
    (step / "__pycache__" / "x.pyc").write_bytes(b"\0pyc")
    (step / "config-lock.yaml").write_text("id: old\n")
    hashed = hash_step(step, boundary=project.resolve())
    packed = build(step, hashed.files, expected_digest=hashed.digest, platform_files=True)
    assert packed.generated == ["requirements.txt (+ clarifai)", "Dockerfile"]
    assert set(packed.members) == set(hashed.files) | {"Dockerfile"}
    assert "__pycache__/x.pyc" in packed.members and "config-lock.yaml" not in packed.members
    with tarfile.open(fileobj=io.BytesIO(packed.data)) as tar:
        assert tar.extractfile("./requirements.txt").read().endswith(b"clarifai\n")
