"""The step content hash (``hash_directory`` in ``clarifai/utils/hashing.py`` of Clarifai/clarifai-python),
``pipeline-ci hash``, and the lockfile rules L02-L05."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_ci.hashing import hash_files, hash_step, walk_files
from pipeline_ci.testing.projects import BASE_SPEC, base_files

from .conftest import REPO, lint, rules_of, write_files

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

STEP_A_MD5 = "56ab9911945432619e67adcace9fa0c3"  # stepA of the base project (tests/conftest.py, rules/examples.py)
STEP_B_MD5 = "eb137fab4f0aa078c76c3baf05215589"


def write_bytes(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def sdk_hash(step_dir: Path, exclude: tuple[str, ...] = ("config-lock.yaml",), algo: str = "md5",
             listing_order: bool = False) -> str:
    """A transcription of the SDK's ``hash_directory`` (clarifai-python ``clarifai/utils/hashing.py``): subfolders
    sorted, or with ``listing_order`` as the SDK walks them (``os.walk``'s order), with a configurable exclusion
    list."""
    digest = hashlib.new(algo)
    for top, dirs, files in os.walk(step_dir):
        if not listing_order:
            dirs.sort()
        for name in sorted(files):
            if name in exclude:
                continue
            path = os.path.join(top, name)
            digest.update(os.path.relpath(path, step_dir).encode("utf-8"))
            digest.update(str(os.path.getsize(path)).encode())
            with open(path, "rb") as fh:
                digest.update(fh.read())
    return digest.hexdigest()


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    hits = [n for n, line in enumerate(lines, start=1) if needle in line]
    assert len(hits) == 1, f"{needle!r} occurs {len(hits)} times in {path}"
    return hits[0]


def findings(result, rule: str) -> list[tuple[str, int, int, str, str]]:
    """``(file relative to the project, line, col, severity, message)`` of one rule's findings."""
    out = []
    for f in result.findings:
        if f.rule == rule:
            rel = Path(f.file).resolve().as_posix().split("/proj/", 1)[-1]
            out.append((rel, f.line, f.col, f.severity, f.message))
    return out


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t", "GIT_CONFIG_NOSYSTEM": "1", **(extra or {})}


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=cwd, env=git_env(), capture_output=True,
                          text=True, check=True)
    return proc.stdout


def git_commit_all(repo: Path) -> None:
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")


def pipeline_ci(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline_ci", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def step_lock(value: str, version: str = "ver1", algo: str = "md5", extra: str = "") -> str:
    return f"hash:\n  algo: {algo}\n  value: {value}\nid: {version}\n{extra}"


def root_lock(spec: str = BASE_SPEC, *, pipeline_id: str = "demo", app_id: str = "a1", version_id: str = "pv1") -> str:
    body = "".join(f"      {line}\n" if line else "\n" for line in spec.splitlines())
    return (f"pipeline:\n  id: {pipeline_id}\n  user_id: u1\n  app_id: {app_id}\n  version_id: {version_id}\n"
            f"  orchestration_spec:\n    argo_orchestration_spec: |\n{body}")


def pinned(spec: str = BASE_SPEC, **versions: str) -> str:
    """``BASE_SPEC`` with the refs of the given steps pinned (name and template)."""
    for step, version in versions.items():
        spec = spec.replace(f"pipeline_steps/{step}\n", f"pipeline_steps/{step}/versions/{version}\n")
    return spec


# --------------------------------------------------------------------------------------------
# Test vectors (digests the SDK's hash_directory gives), walk order
# --------------------------------------------------------------------------------------------

VECTOR_A = {
    ".hidden": b"x",
    "config.yaml": b"a: 1\n",
    "requirements.txt": b"clarifai==12.5.0\n",
    "1/empty.txt": b"",
    "1/pipeline_step.py": b"print('hi')\n",
    "config-lock.yaml": b"id: x\n",
}
VECTOR_A_STREAM = (
    b".hidden1xconfig.yaml5a: 1\nrequirements.txt17clarifai==12.5.0\n1/empty.txt01/pipeline_step.py12print('hi')\n"
)

VECTOR_B = {
    "Dockerfile": b"FROM x\n",
    "config.yaml": b"a: 1\n",
    "1/pipeline_step.py": b"",
    "1/lib/u.py": b"u\n",
    "1/lib/\u00dcn\u00ef.txt": "\u00e9\n".encode(),
    "1/lib/config-lock.yaml": b"zz",
}
VECTOR_B_STREAM = (
    b"Dockerfile7FROM x\nconfig.yaml5a: 1\n1/pipeline_step.py01/lib/u.py2u\n1/lib/\xc3\x9cn\xc3\xaf.txt3\xc3\xa9\n"
)


def test_vector_a(tmp_path: Path):
    step = write_bytes(tmp_path / "a", VECTOR_A)
    assert hashlib.md5(VECTOR_A_STREAM).hexdigest() == "630ed1c34638d3cd8a6d7ddf7b41b85e"
    result = hash_step(step)
    assert result.digest == "630ed1c34638d3cd8a6d7ddf7b41b85e"
    assert result.files == [".hidden", "config.yaml", "requirements.txt", "1/empty.txt", "1/pipeline_step.py"]
    assert hash_step(step, algo="sha256").digest == "5df1a7487e3c00d2b1b53fe057ab1e59e8c04be3e7175453d11c6c53e147120a"
    assert sdk_hash(step) == result.digest
    assert sdk_hash(step, exclude=()) == "7bc1537c936da9882460165340b411b3"


def test_vector_b(tmp_path: Path):
    step = write_bytes(tmp_path / "b", VECTOR_B)
    result = hash_step(step)
    assert result.files == ["Dockerfile", "config.yaml", "1/pipeline_step.py", "1/lib/u.py", "1/lib/\u00dcn\u00ef.txt"]
    assert result.digest == hashlib.md5(VECTOR_B_STREAM).hexdigest() == "075a7625f57b1e54903c666152944ca8"


def test_subfolders_are_walked_sorted_whatever_the_creation_order(tmp_path: Path):
    step = tmp_path / "s"
    step.mkdir()
    (step / "top.txt").write_bytes(b"t")
    for name in ("zeta", "alpha", "mid", "1", "beta"):
        write_bytes(step, {f"{name}/f.txt": name.encode()})
    order = ["1", "alpha", "beta", "mid", "zeta"]
    assert walk_files(step) == ["top.txt", *(f"{d}/f.txt" for d in order)]
    stream = b"top.txt1t" + b"".join(f"{d}/f.txt{len(d)}{d}".encode() for d in order)
    assert hash_step(step).digest == hashlib.md5(stream).hexdigest() == sdk_hash(step)


def test_a_lockfile_the_sdk_wrote_in_its_own_folder_order_is_fresh(make_project, outside_git, tmp_path: Path):
    """The SDK walks subfolders in the file system's listing order (ext4: by name hash, not sorted): a step with
    several subfolders can get a lockfile hash that differs from our sorted one. Lint, ``changed`` and ``upload``
    accept it as the lockfile's (the SDK's) hash of this content; an edit is still seen."""
    root = make_project()
    step = root / "stepA"
    for name in ("zeta", "alpha", "models", "data", "utils"):
        write_bytes(step / "1", {f"{name}/f.py": name.encode()})
    listed = sdk_hash(step, listing_order=True)
    # both ways of computing it (a walk for the loaded project, a file list for changed's fingerprint) agree
    assert hash_step(step, sort_dirs=False).digest == hash_files(str(step), walk_files(step), sort_dirs=False) == listed
    if [e.name for e in os.scandir(step / "1")] != sorted(os.listdir(step / "1")):  # as on this ext4
        assert listed != sdk_hash(step) == hash_step(step).digest  # the case this test is about
    (step / "config-lock.yaml").write_text(step_lock(listed))
    (root / "stepB" / "config-lock.yaml").write_text(step_lock(STEP_B_MD5, "ver2"))
    assert findings(lint(root), "L04") == []
    report = pipeline_ci("changed", str(root), "--baseline", "lock", "--format", "json", "--all", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert '"reason": "content"' not in report.stdout and '"step_id": "stepA"' in report.stdout, report.stdout
    (step / "1" / "data" / "f.py").write_text("edited")
    assert [f[4].split(" ")[0] for f in findings(lint(root), "L04")] == ["stepA"]


def test_symlink_outside_the_boundary_is_not_read(tmp_path: Path):
    outside = write_bytes(tmp_path / "outside", {"secret.txt": b"s"})
    step = write_bytes(tmp_path / "proj" / "s", {"a.txt": b"a"})
    (step / "link.txt").symlink_to(outside / "secret.txt")
    result = hash_step(step, boundary=(tmp_path / "proj").resolve())
    assert result.escaping_links == ["link.txt"]
    assert result.digest == hashlib.md5(b"a.txt1a").hexdigest()
    assert hash_step(step).digest == sdk_hash(step)  # without a boundary the target is hashed, like the SDK


# --------------------------------------------------------------------------------------------
# pipeline-ci hash
# --------------------------------------------------------------------------------------------


def test_hash_cli_prints_like_md5sum(tmp_path: Path):
    write_bytes(tmp_path / "a", VECTOR_A)
    write_bytes(tmp_path / "b", VECTOR_B)
    proc = pipeline_ci("hash", "a", "b", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "630ed1c34638d3cd8a6d7ddf7b41b85e  a\n075a7625f57b1e54903c666152944ca8  b\n"


def test_hash_cli_missing_folder_is_a_usage_error(tmp_path: Path):
    write_bytes(tmp_path / "a", VECTOR_A)
    proc = pipeline_ci("hash", "a", "nope", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == "630ed1c34638d3cd8a6d7ddf7b41b85e  a\n"
    assert "nope" in proc.stderr and "not a directory" in proc.stderr


@needs_git
def test_hash_cli_tracked_only_in_a_git_repo(tmp_path: Path):
    repo = tmp_path / "repo"
    step = write_bytes(repo / "step", VECTOR_A)
    git_commit_all(repo)
    write_bytes(step, {"untracked.txt": b"u", "1/__pycache__/pipeline_step.cpython-311.pyc": b"\x00pyc"})
    proc = pipeline_ci("hash", "--tracked-only", "step", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "630ed1c34638d3cd8a6d7ddf7b41b85e  step\n"
    full = pipeline_ci("hash", "step", cwd=repo).stdout.split()[0]
    assert full == sdk_hash(step) != "630ed1c34638d3cd8a6d7ddf7b41b85e"

    write_bytes(step, {"staged.txt": b"st"})
    git(repo, "add", "step/staged.txt")
    expected = hashlib.md5(VECTOR_A_STREAM.replace(b"1/empty.txt", b"staged.txt2st1/empty.txt", 1)).hexdigest()
    proc = pipeline_ci("hash", "--tracked-only", "step", cwd=repo)
    assert proc.stdout == f"{expected}  step\n"


def test_hash_cli_tracked_only_outside_git_is_a_usage_error(tmp_path: Path):
    write_bytes(tmp_path / "a", VECTOR_A)
    proc = pipeline_ci("hash", "--tracked-only", "a", cwd=tmp_path,
                       env=git_env({"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)}))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "not inside a git work tree" in proc.stderr


# --------------------------------------------------------------------------------------------
# L04 stale-lock
# --------------------------------------------------------------------------------------------


@pytest.fixture
def outside_git(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))


def test_fresh_lock_is_silent(make_project, outside_git):
    root = make_project(files={"stepA/config-lock.yaml": step_lock(STEP_A_MD5),
                               "stepB/config-lock.yaml": step_lock(STEP_B_MD5, "ver2")})
    assert lint(root).findings == []


def test_one_changed_byte_makes_the_lock_stale(make_project, outside_git, tmp_path: Path):
    root = make_project(files={"stepA/config-lock.yaml": step_lock(STEP_A_MD5)})
    script = root / "stepA" / "1" / "pipeline_step.py"
    script.write_bytes(script.read_bytes().replace(b"upper", b"lower"))
    new = hash_step(root / "stepA").digest
    result = lint(root)
    assert findings(result, "L04") == [("stepA/config-lock.yaml", 3, 10, "warning",
                                       f"stepA changed since its lockfile was written (md5 {new}, lockfile "
                                       f"{STEP_A_MD5}): the next release (`pipeline-ci upload` or `deploy` in CI) "
                                       "uploads step 'stepA' and commits its lockfile; to pin it yourself, run "
                                       f"`pipeline-ci upload --backend clarifai {root}` "
                                       f"(or `clarifai pipeline upload {root}`) and commit the lockfiles")]
    assert rules_of(result) == {"L04"} and result.errors == 0

    strict = lint(root, require_fresh_locks=True)
    assert [(f.rule, f.line, f.severity) for f in strict.findings] == [("L04", 3, "error")]

    proc = pipeline_ci("lint", str(root), cwd=tmp_path)
    assert proc.returncode == 0 and "[L04]" in proc.stdout
    proc = pipeline_ci("lint", "--require-fresh-locks", str(root), cwd=tmp_path)
    assert proc.returncode == 1
    assert "proj/stepA/config-lock.yaml:3:10: error [L04] stepA changed since its lockfile was written" in proc.stdout


@pytest.mark.parametrize(
    ("lock", "line", "text"),
    [
        (step_lock(STEP_A_MD5, algo="sha256"), 2, "hash.algo 'sha256': the SDK only compares md5 hashes"),
        (f"hash:\n  algo: md5\n  value: {STEP_A_MD5}\n", 3, "matches the step's content but has no id"),
        (f"hash:\n  algo: md5\n  value: {STEP_A_MD5}\nid: ''\n", 4, "matches the step's content but has no id"),
        ("id: ver1\n", 1, "has no hash mapping"),
        ("hash:\n  algo: md5\nid: ver1\n", 2, "lockfile (none)"),
        ("", 1, "is empty"),
    ],
)
def test_locks_the_sdk_does_not_reuse_are_stale(make_project, outside_git, lock: str, line: int, text: str):
    root = make_project(files={"stepA/config-lock.yaml": lock})
    hits = findings(lint(root, select=["L04"]), "L04")
    assert [(h[0], h[1]) for h in hits] == [("stepA/config-lock.yaml", line)], hits
    assert text in hits[0][4]


def test_escaping_symlink_is_reported_and_not_read(make_project, outside_git, tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read\n")
    root = make_project(files={"stepA/config-lock.yaml": step_lock(STEP_A_MD5)})
    (root / "stepA" / "data.txt").symlink_to(secret)
    hits = [f for f in lint(root, select=["L04"]).findings if f.rule == "L04"]  # an error at the link, not at the lock
    assert [(Path(f.file).name, f.line, f.severity) for f in hits] == [("data.txt", 1, "error")]
    assert "data.txt is a symlink leading out of the step folder" in hits[0].message


BAD_NAME = os.fsdecode(b"\xff\xfe.txt")  # not valid UTF-8: kept by Python as lone surrogates


def add_unhashable(step: Path, kind: str) -> str:
    """Put into ``step`` an entry the SDK's ``hash_directory`` fails or hangs on; returns its relative path."""
    if kind == "broken-link":
        (step / "1" / "broken.py").symlink_to("nowhere")  # os.path.getsize raises FileNotFoundError
        return "1/broken.py"
    if kind == "fifo":
        os.mkfifo(step / "pipe")  # getsize works, then open() blocks until a writer comes
        return "pipe"
    (step / "1" / BAD_NAME).write_bytes(b"x")  # relative_path.encode("utf-8") raises UnicodeEncodeError
    return f"1/{BAD_NAME}"


@pytest.mark.parametrize("kind, why", [("broken-link", "is a broken symlink"), ("fifo", "is a FIFO (named pipe)"),
                                       ("not-utf8", "has a name that is not valid UTF-8")])
def test_entries_the_sdk_cannot_hash_are_lint_errors_at_their_path(make_project, outside_git, kind: str, why: str):
    root = make_project(files={"stepA/config-lock.yaml": step_lock(STEP_A_MD5)})
    rel = add_unhashable(root / "stepA", kind)
    if kind != "fifo":  # the transcription of the SDK's hash really fails (a FIFO would hang it)
        with pytest.raises(FileNotFoundError if kind == "broken-link" else UnicodeEncodeError):
            sdk_hash(root / "stepA")
    hits = [f for f in lint(root, select=["L04", "L05"]).findings if f.rule == "L04"]
    where = [(Path(f.file).parent.resolve() / Path(f.file).name).relative_to(root.resolve()) for f in hits]
    assert [(w.as_posix(), f.line, f.severity) for w, f in zip(where, hits, strict=True)] == [(f"stepA/{rel}", 1, "error")], hits
    assert f"{rel} {why}" in hits[0].message and "refuses to upload step folder 'stepA'" in hits[0].message


@pytest.mark.parametrize("kind", ["broken-link", "fifo", "not-utf8"])
def test_upload_refuses_what_the_sdk_cannot_hash_even_with_l04_disabled(make_project, outside_git, kind: str):
    root = make_project()
    rel = add_unhashable(root / "stepA", kind)
    (root / ".pipeline-ci.yaml").write_text("disable: [L04]\n")
    proc = subprocess.run([sys.executable, "-m", "pipeline_ci", "upload", "--dry-run", "--backend", "local", str(root)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PIPELINE_CI_NO_CACHE": "1"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    shown = rel.replace(BAD_NAME, "\\udcff\\udcfe.txt")  # escaped for the terminal (pipeline_ci.textsafe)
    assert f"stepA: refusing to upload the step: {shown} " in proc.stderr, proc.stderr
    assert not (root / ".pipeline-ci" / "store").exists()  # nothing stored


def test_the_archive_refuses_a_name_that_is_not_utf8_in_a_subfolder(tmp_path: Path):
    from pipeline_ci.archive import ArchiveError, build

    step = write_bytes(tmp_path / "step", VECTOR_A)
    write_bytes(step, {f"{BAD_NAME}/a.txt": b"a", f"{BAD_NAME}/b.txt": b"b"})
    hashed = hash_step(step, boundary=tmp_path)
    assert hashed.unhashable == [(BAD_NAME, hashed.unhashable[0][1])]  # the folder, once, not each file in it
    with pytest.raises(ArchiveError) as refused:  # packing checks it again, whatever the caller checked
        build(step, hashed.files, entry="step")
    assert refused.value.exit_code == 2
    assert f"step: refusing to upload the step: {BAD_NAME} has a name that is not valid UTF-8" in refused.value.message


def test_hash_cli_prints_the_digest_and_an_error_when_the_sdk_cannot_hash(tmp_path: Path):
    step = write_bytes(tmp_path / "a", VECTOR_A)
    add_unhashable(step, "not-utf8")
    add_unhashable(step, "broken-link")
    write_bytes(tmp_path / "b", VECTOR_B)
    proc = pipeline_ci("hash", "a", "b", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == f"{hash_step(step).digest}  a\n075a7625f57b1e54903c666152944ca8  b\n"
    assert "a: the Clarifai SDK cannot hash this folder" in proc.stderr
    assert "  | 1/broken.py is a broken symlink" in proc.stderr
    assert "  | 1/\\udcff\\udcfe.txt has a name that is not valid UTF-8" in proc.stderr  # escaped, not raw bytes


# --------------------------------------------------------------------------------------------
# L04 and L05 in a real git work tree
# --------------------------------------------------------------------------------------------


@needs_git
def test_untracked_pycache_is_named_and_ci_hash_stays_fresh(make_project):
    root = make_project(files={"stepA/config-lock.yaml": step_lock(STEP_A_MD5)})
    git_commit_all(root)
    write_bytes(root, {"stepA/1/__pycache__/m.cpython-311.pyc": b"\x00\x01"})
    result = lint(root)
    assert findings(result, "L04") == []  # CI hashes the tracked files only
    hits = findings(result, "L05")
    assert [(h[0], h[1], h[2], h[3]) for h in hits] == [("stepA/config-lock.yaml", 3, 10, "warning")]
    assert "1 file not tracked by git" in hits[0][4] and "1/__pycache__/m.cpython-311.pyc" in hits[0][4]


@needs_git
def test_lock_written_with_untracked_files_is_stale_in_ci(make_project):
    root = make_project()
    git_commit_all(root)
    write_bytes(root, {"stepA/.DS_Store": b"\x00", "stepA/notes.txt": b"todo\n"})
    working = hash_step(root / "stepA").digest  # what a local `clarifai pipeline upload` writes
    (root / "stepA" / "config-lock.yaml").write_text(step_lock(working))
    result = lint(root)
    l04 = findings(result, "L04")
    assert [(h[0], h[1]) for h in l04] == [("stepA/config-lock.yaml", 3)]
    assert f"md5 {STEP_A_MD5} of the files git tracks, lockfile {working}" in l04[0][4]
    assert "the working-tree hash matches" in l04[0][4]
    l05 = findings(result, "L05")
    assert [(h[0], h[1]) for h in l05] == [("stepA/config-lock.yaml", 3)]
    assert "2 files not tracked by git" in l05[0][4] and ".DS_Store, notes.txt" in l05[0][4]


@needs_git
def test_staged_files_count_and_many_untracked_are_summarised(make_project):
    root = make_project()
    git_commit_all(root)
    write_bytes(root, {f"stepB/tmp/f{i}.txt": b"x" for i in range(7)})
    write_bytes(root, {"stepA/1/util.py": b"X = 1\n"})
    git(root, "add", "stepA/1/util.py")
    (root / "stepA" / "config-lock.yaml").write_text(step_lock(hash_step(root / "stepA").digest))
    result = lint(root)
    assert findings(result, "L04") == []
    hits = findings(result, "L05")  # stepB has no lockfile: reported at its step_directories entry
    assert [(h[0], h[1]) for h in hits] == [("config.yaml", line_of(root / "config.yaml", "- stepB"))]
    assert "7 files not tracked by git" in hits[0][4] and "tmp/f4.txt and 2 more" in hits[0][4]


@needs_git
def test_step_not_yet_added_to_git_uses_the_working_tree(make_project):
    root = make_project(files={"stepA/config-lock.yaml": step_lock(STEP_A_MD5)})
    git(root, "init", "-q")  # nothing tracked yet, as for a new project before its first commit
    assert lint(root).findings == []
    write_bytes(root, {"stepA/1/__pycache__/pipeline_step.cpython-312.pyc": b"\x00"})
    result = lint(root)
    assert rules_of(result) == {"L04", "L05"}
    assert "normally not committed" in findings(result, "L05")[0][4]


def test_local_only_files_outside_git(make_project, outside_git):
    root = make_project(files={"stepB/.venv/lib/site.py": "x = 1\n", "stepB/1/notes.md": "fine\n"})
    hits = findings(lint(root), "L05")
    assert [(h[0], h[1]) for h in hits] == [("config.yaml", line_of(root / "config.yaml", "- stepB"))]
    assert ".venv/lib/site.py" in hits[0][4] and "notes.md" not in hits[0][4]


# --------------------------------------------------------------------------------------------
# L02 lock-refs, L03 lock-ids
# --------------------------------------------------------------------------------------------


def locked_project(make_project, spec: str, **files: str) -> Path:
    return make_project(files={"config-lock.yaml": root_lock(spec), "stepA/config-lock.yaml": step_lock(STEP_A_MD5),
                               "stepB/config-lock.yaml": step_lock(STEP_B_MD5, "ver2"), **files})


def test_consistent_locks_are_clean(make_project, outside_git):
    assert lint(locked_project(make_project, pinned(stepA="ver1", stepB="ver2"))).findings == []


def test_ref_version_differs_from_step_lockfile(make_project, outside_git):
    root = locked_project(make_project, pinned(stepA="ver1", stepB="ver0"))
    line = line_of(root / "config-lock.yaml", "name: users/u1/apps/a1/pipeline_steps/stepB/versions/ver0")
    assert findings(lint(root), "L02") == [
        ("config-lock.yaml", line, 23, "error", "templateRef pins step 'stepB' to version 'ver0' but "
         "stepB/config-lock.yaml has id 'ver2': run `pipeline-ci upload --backend clarifai "
         f"{root}` (or `clarifai pipeline upload {root}`) to rewrite the root lockfile")]


def test_unversioned_ref_and_template_mismatch(make_project, outside_git):
    spec = pinned(stepA="ver1").replace("template: users/u1/apps/a1/pipeline_steps/stepA/versions/ver1",
                                        "template: users/u1/apps/a1/pipeline_steps/stepA/versions/ver9")
    root = locked_project(make_project, spec)
    lock = root / "config-lock.yaml"
    hits = findings(lint(root), "L02")
    assert [(h[1], h[2]) for h in hits] == [
        (line_of(lock, "template: users/u1/apps/a1/pipeline_steps/stepA/versions/ver9"), 27),
        (line_of(lock, "name: users/u1/apps/a1/pipeline_steps/stepB"), 23),
    ]
    assert "differs from its name" in hits[0][4] and "is not pinned to a step version" in hits[1][4]


def test_lock_and_config_reference_different_steps(make_project, outside_git):
    spec = pinned(stepA="ver1", stepB="ver2").replace("pipeline_steps/stepB/", "pipeline_steps/stepC/")
    root = locked_project(make_project, spec)
    lock = root / "config-lock.yaml"
    hits = findings(lint(root), "L02")
    assert [(h[1], h[2]) for h in hits] == [
        (line_of(lock, "argo_orchestration_spec"), 30),
        (line_of(lock, "name: users/u1/apps/a1/pipeline_steps/stepC"), 23),
    ]
    assert "'stepB' is referenced in config.yaml but not in config-lock.yaml" in hits[0][4]
    assert "'stepC' is pinned in config-lock.yaml but no longer referenced in config.yaml" in hits[1][4]
    # a pull request adding or removing a step, in the CI-uploads workflow: the release rewrites the lock (warning);
    # developers upload (require-fresh-locks): an error naming the command
    assert [h[3] for h in hits] == ["warning", "warning"] and "the next release" in hits[0][4]
    strict = findings(lint(root, require_fresh_locks=True), "L02")
    assert [h[3] for h in strict] == ["error", "error"] and "and commit it" in strict[0][4]


def test_root_lock_ids_must_match_config(make_project, outside_git):
    spec = pinned(stepA="ver1", stepB="ver2")
    root = locked_project(make_project, spec, **{"config-lock.yaml": root_lock(spec, app_id="a2")})
    assert findings(lint(root), "L03") == [
        ("config-lock.yaml", 4, 11, "error", "pipeline.app_id is 'a2' in config-lock.yaml but 'a1' in config.yaml: "
         "`clarifai pipeline run` and `clarifai pipelinerun` would use the lockfile's pipeline; run "
         f"`pipeline-ci upload --backend clarifai {root}` (or `clarifai pipeline upload {root}`), or delete the stale "
         "lockfile")]


def test_empty_version_id_is_left_to_the_schema_rule(make_project, outside_git):
    spec = pinned(stepA="ver1", stepB="ver2")
    root = locked_project(make_project, spec, **{"config-lock.yaml": root_lock(spec, version_id="''")})
    result = lint(root)
    assert [(f.rule, f.line) for f in result.findings] == [("S01", 5)]


def test_step_lock_written_for_another_step(make_project, outside_git):
    extra = "pipeline_step:\n  id: stepA\n  user_id: u1\n  app_id: a1\n"
    root = make_project(files={"stepA/config-lock.yaml": step_lock(STEP_A_MD5, extra=extra),
                               "stepB/config-lock.yaml": step_lock(STEP_B_MD5, "ver2", extra=extra)})
    hits = findings(lint(root), "L03")
    assert [(h[0], h[1], h[2]) for h in hits] == [("stepB/config-lock.yaml", 6, 7)]
    assert "pipeline_step.id is 'stepA' in stepB/config-lock.yaml but 'stepB' in stepB/config.yaml" in hits[0][4]


@pytest.mark.parametrize(
    "lock",
    ["pipeline: [1, 2]\n", "pipeline:\n  id: [x]\n  user_id: {a: 1}\n  app_id: 3\n", "- just\n- a list\n",
     "pipeline:\n  orchestration_spec:\n    argo_orchestration_spec: |\n      spec:\n        templates: 5\n",
     "pipeline:\n  orchestration_spec:\n    argo_orchestration_spec: |\n      spec: 5\n",
     "pipeline:\n  orchestration_spec:\n    argo_orchestration_spec: |\n      [1, 2]\n"],
)
def test_malformed_locks_do_not_crash(make_project, outside_git, lock: str):
    root = make_project(files={"config-lock.yaml": lock, "stepA/config-lock.yaml": lock})
    result = lint(root, select=["L02", "L03", "L04", "L05"])
    assert all(f.rule in ("L02", "L03", "L04") for f in result.findings)


# --------------------------------------------------------------------------------------------
# Bundled examples
# --------------------------------------------------------------------------------------------


@needs_git
def test_hello_pipeline_is_clean_when_committed(tmp_path: Path):
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / "hello-pipeline", repo / "hello",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git_commit_all(repo)
    assert lint(repo / "hello", select=["L02", "L03", "L04", "L05"]).findings == []
    assert lint(repo / "hello").errors == 0


@needs_git
@pytest.mark.parametrize("case", ["stale-step-lock", "root-lock-version-mismatch"])
def test_broken_lock_examples_do_not_depend_on_git_state(tmp_path: Path, case: str):
    src = REPO / "examples" / "broken" / case
    untracked = {(f.rule, Path(f.file).resolve().relative_to(src.resolve()).as_posix(), f.line)
                 for f in lint(src).findings}
    repo = tmp_path / "repo"
    shutil.copytree(src, repo / case)
    git_commit_all(repo)
    committed = {(f.rule, Path(f.file).resolve().relative_to((repo / case).resolve()).as_posix(), f.line)
                 for f in lint(repo / case).findings}
    assert committed == untracked and committed


def test_lockfile_messages_name_the_upload_command_for_the_project(tmp_path: Path, outside_git):
    """Seen from the folder above, the fix is `pipeline-ci upload --backend clarifai <path>` (quoted), then the Clarifai CLI."""
    files = base_files()
    files["stepA/config-lock.yaml"] = step_lock("0" * 32)  # stale: L04
    files["stepB/config-lock.yaml"] = step_lock(STEP_B_MD5, extra="pipeline_step:\n  id: other\n")  # L03
    files["stepA/1/__pycache__/x.pyc"] = "compiled"  # L05
    write_files(tmp_path / "my pipelines" / "p", files)
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", "lint", "my pipelines/p"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    fix = "run `pipeline-ci upload --backend clarifai 'my pipelines/p'` (or `clarifai pipeline upload 'my pipelines/p'`)"
    lines = {rule: [line for line in result.stdout.splitlines() if rule in line] for rule in ("L03", "L04", "L05")}
    assert all(lines.values()), result.stdout + result.stderr
    for rule, found in lines.items():
        assert all(fix in line for line in found), (rule, found)
    assert "clarifai pipeline upload` (or" not in result.stdout  # pipeline-ci first, the Clarifai CLI second
