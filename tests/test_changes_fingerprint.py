"""The root lockfile's fingerprint lets ``changed`` skip untouched projects, and never changes its answer.

Real git repositories: the history of ``bench/changes.py`` (``git fast-import``, lockfiles and fingerprints written
as ``upload`` writes them) in a fresh clone, and the base project uploaded for real to the gRPC Clarifai emulator.
Every case runs ``changed`` twice, with the fingerprints (the default) and with ``--all`` (every project loaded and
hashed, the general path), and asserts the same report: the projects ``--all`` finds with nothing to say are exactly
the ``unchanged`` ones, the others are reported identically. ``-v`` says which projects were vouched for without
being loaded, so each case also asserts how many the fast path could skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.changes import fast_import
from pipeline_ci.changes import fingerprint
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator
from pipeline_ci.testing.projects import base_files

from .conftest import write_files

PAT = "pat-fingerprint-0123456789"
VOUCHED = "its root lockfile's fingerprint matches git's index: not loaded"
KNOWN = "touched, its fingerprint vouching for what the range did not change: not loaded"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args], check=True,
                          capture_output=True, text=True, timeout=30).stdout


def changed(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CLARIFAI_", "PIPELINE_CI_"))}
    return subprocess.run([sys.executable, "-m", "pipeline_ci", "-v", "changed", "--format", "json", *args], cwd=root,
                          capture_output=True, text=True, timeout=120, env={**base, **(env or {})})


def quiet(project: dict) -> bool:
    return not project["pipeline_changed"] and all(s["reason"] == "unchanged" and not s["touched"]
                                                   for s in project["steps"])


def both(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[dict, int]:
    """The fast report, checked against ``--all``; and how many projects were vouched for without loading."""
    got, vouched, _ = counted(root, *args, env=env)
    return got, vouched


def counted(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[dict, int, int]:
    """:func:`both`, and how many touched projects were answered from their fingerprint (:data:`KNOWN`)."""
    fast, full = changed(root, *args, env=env), changed(root, *args, "--all", env=env)
    assert fast.returncode == 0 and full.returncode == 0, fast.stderr + full.stderr
    got, every = json.loads(fast.stdout), json.loads(full.stdout)
    assert every["unchanged"] == [] and VOUCHED not in full.stderr and KNOWN not in full.stderr
    expected = {**every, "projects": [p for p in every["projects"] if not quiet(p)],
                "unchanged": [p["project"] for p in every["projects"] if quiet(p)]}
    assert got == expected
    return got, fast.stderr.count(VOUCHED), fast.stderr.count(KNOWN)


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 pipelines x 5 steps; the last commit touches 3 steps of p0 without refreshing a lockfile (a pull request)."""
    root = tmp_path_factory.mktemp("fingerprint") / "origin"
    fast_import(root, 4, 14, 3)
    return root


@pytest.fixture
def repo(origin: Path, tmp_path: Path) -> Path:
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", "--no-local", str(origin), str(clone)], check=True, timeout=60)
    return clone


def test_untouched_projects_with_a_valid_fingerprint_are_not_loaded(repo: Path):
    report, vouched = both(repo, "--base", "HEAD~1")
    assert vouched == 3 and report["unchanged"] == ["p1", "p2", "p3"]
    assert [p["project"] for p in report["projects"]] == ["p0"]
    assert [(s["step_id"], s["reason"]) for s in report["selected"]] == [("s0x0", "content"), ("s0x1", "content"),
                                                                         ("s0x2", "content")]
    _, vouched = both(repo, "--baseline", "lock")  # p0's files are not those it was up to date with any more
    assert vouched == 3


def test_every_way_a_project_can_differ_from_its_fingerprint_falls_back_to_loading_it(repo: Path):
    (repo / "p1/s1x0/1/pipeline_step.py").write_text("print('not committed')\n")  # dirty work tree
    (repo / "p2/s2x0/config-lock.yaml").write_text(
        (repo / "p2/s2x0/config-lock.yaml").read_text().replace("value: ", "value: 0"))  # a hand-edited lock, committed
    git(repo, "commit", "-qam", "edit a lockfile")
    script = repo / "p3/s3x0/1/pipeline_step.py"  # git is told not to look at this file
    git(repo, "update-index", "--assume-unchanged", "p3/s3x0/1/pipeline_step.py")
    script.write_text("print('hidden from git diff-files')\n")
    report, vouched = both(repo, "--baseline", "lock")
    assert vouched == 0 and report["unchanged"] == []
    stale = {(s["project"], s["step_id"]) for s in report["selected"]}
    assert {("p1", "s1x0"), ("p2", "s2x0"), ("p3", "s3x0")} <= stale


@pytest.mark.parametrize("setting", ["autocrlf", "gitattributes", "tampered", "untracked"])
def test_settings_that_could_change_bytes_and_other_edits_keep_the_answer(repo: Path, setting: str):
    if setting == "autocrlf":
        git(repo, "config", "core.autocrlf", "true")
    elif setting == "gitattributes":
        (repo / ".gitattributes").write_text("*.py text eol=lf\n")
    elif setting == "tampered":  # p1's fingerprint replaced
        lock = repo / "p1/config-lock.yaml"
        lock.write_bytes(fingerprint.MARK + b"0" * 40 + b"\n" + fingerprint.split(lock.read_bytes())[0])
    else:  # an untracked file in a step folder: the tracked-only hash does not read it
        (repo / "p1/s1x1/notes.txt").write_text("scratch\n")
    report, vouched = both(repo, "--baseline", "lock")
    assert vouched == {"autocrlf": 0, "gitattributes": 3, "tampered": 2, "untracked": 3}[setting]  # eol=lf: no change
    if setting == "tampered":
        assert "p1" in report["unchanged"]  # loaded, and still up to date: only the speed changed


# -- the writer: upload stamps the root lockfile, for real, against the emulator --------------------------------------


@pytest.fixture
def emulator():
    with ClarifaiEmulator({PAT}, build_polls=0) as emu:
        yield emu


def upload(root: Path, emu: ClarifaiEmulator, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "PIPELINE_CI_", "GITHUB_"))}
    result = subprocess.run([sys.executable, "-m", "pipeline_ci", "upload", "--backend", "clarifai", *extra, str(root)],
                            capture_output=True, text=True, timeout=90,
                            env={**env, "CLARIFAI_API_BASE": f"http://{emu.address}", "CLARIFAI_PAT": PAT})
    assert result.returncode == 0 and PAT not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def test_upload_stamps_an_up_to_date_project_and_changed_then_skips_it(tmp_path: Path, emulator: ClarifaiEmulator):
    root = write_files(tmp_path / "proj", base_files())
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "pipeline")
    upload(root, emulator)
    first = (root / "config-lock.yaml").read_bytes()
    rest, value = fingerprint.split(first)
    assert value is not None and first.startswith(fingerprint.MARK) and b"version_id" in rest
    git(root, "add", "-A")
    git(root, "commit", "-qm", "lockfiles")  # the release job commits them
    report, vouched = both(root, "--baseline", "lock")
    assert vouched == 1 and report["unchanged"] == ["."] and report["changed"] is False

    script = next(root.glob("*/1/pipeline_step.py"))
    script.write_text(script.read_text() + "# changed\n")
    git(root, "commit", "-qam", "change a step")
    report, vouched = both(root, "--baseline", "lock")
    assert vouched == 0 and [s["reason"] for s in report["selected"]] == ["content"]
    report, _, known = counted(root, "--base", "HEAD~1")  # the facts upload recorded, guessed from what it wrote
    assert known == 1 and [s["reason"] for s in report["selected"]] == ["content"]
    plan = upload(root, emulator, "--dry-run").stdout
    assert "starts with a new '# pipeline-ci fingerprint:' line" in plan
    assert (root / "config-lock.yaml").read_bytes() == first  # the dry run wrote nothing
    upload(root, emulator)
    again = fingerprint.split((root / "config-lock.yaml").read_bytes())[1]
    assert again is not None and again != value
    git(root, "add", "-A")
    git(root, "commit", "-qm", "lockfiles again")
    assert both(root, "--baseline", "lock")[1] == 1

    # a project up to date but never stamped (lockfiles from an older release): a no-op upload stamps it, as planned
    lock = root / "config-lock.yaml"
    lock.write_bytes(fingerprint.split(lock.read_bytes())[0])
    git(root, "commit", "-qam", "lockfile without the line")
    assert both(root, "--baseline", "lock")[1] == 0
    plan = upload(root, emulator, "--dry-run").stdout
    assert "config-lock.yaml: fingerprint line written" in plan and fingerprint.split(lock.read_bytes())[1] is None
    done = upload(root, emulator).stdout
    assert "config-lock.yaml: fingerprint line written" in done and fingerprint.split(lock.read_bytes())[1] == again
    again_plan = upload(root, emulator, "--dry-run").stdout
    assert "fingerprint line written" not in again_plan  # current now: the next no-op upload writes nothing


def test_a_project_outside_git_or_with_an_untracked_step_is_not_stamped(tmp_path: Path, emulator: ClarifaiEmulator):
    plain = write_files(tmp_path / "plain", base_files())
    upload(plain, emulator)
    assert fingerprint.split((plain / "config-lock.yaml").read_bytes())[1] is None
    partly = write_files(tmp_path / "partly", base_files())
    git(partly, "init", "-q", "-b", "main")
    git(partly, "add", "config.yaml")  # the step folders are not in git: their hash covers the work tree
    git(partly, "commit", "-qm", "only the config")
    upload(partly, emulator)
    assert fingerprint.split((partly / "config-lock.yaml").read_bytes())[1] is None
    assert not fingerprint.stamp(partly)


def test_split_only_accepts_the_line_it_writes():
    text = "pipeline:\n  id: p\n"
    for value in ("a" * 40 + " " + "b" * 40, "a" * 40):  # one word: an older release's line, split off to be replaced
        stamped = fingerprint.with_line(text, value)
        assert fingerprint.split(stamped.encode()) == (text.encode(), value)
    for bad in ("# pipeline-ci fingerprint: xyz\n" + text, "# pipeline-ci fingerprint: " + "A" * 40 + "\n" + text,
                text + "# pipeline-ci fingerprint: " + "a" * 40 + "\n", "# pipeline-ci fingerprint: " + "a" * 40,
                "# pipeline-ci fingerprint: " + " ".join(["a" * 40] * 3) + "\n" + text):
        assert fingerprint.split(bad.encode())[1] is None
    assert fingerprint.blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"  # git hash-object


def test_the_broken_examples_give_the_same_report_both_ways(tmp_path: Path):
    """``examples/broken`` (load errors, stale locks, step folders escaping the project): none of them carries a
    fingerprint (``upload`` never stamps a project that is not up to date), so both ways load every project."""
    import shutil

    from .conftest import REPO

    root = tmp_path / "broken"
    shutil.copytree(REPO / "examples" / "broken", root, symlinks=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "broken")
    report, vouched = both(root, "--baseline", "lock")
    assert vouched == 0 and report["projects"], report
    assert "stale-step-lock" in {p["project"] for p in report["projects"]}


# -- every way an independent review found to make the two paths disagree (each now refused by the fast path) -------


def _lock_run(repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[dict, int]:
    return both(repo, "--baseline", "lock", *args, env=env)


def _checkout_again(repo: Path, path: str) -> None:
    (repo / path).unlink()
    git(repo, "checkout", "--", path)


# p0 is stale at the fixture's head (the last commit touched three of its steps), p1..p3 are up to date: each case
# breaks p1 in a way its fingerprint cannot see, so the fast path would wrongly skip it if it trusted the fingerprint.


def test_a_path_holding_a_newline_cannot_stand_for_two_entries(repo: Path):
    blob = git(repo, "rev-parse", ":p1/s1x1/1/pipeline_step.py").strip()
    weird = repo / f"p1/s1x0/requirements.txt\n{blob} s1x1/1"  # its record would read as two real ones
    weird.mkdir(parents=True)
    git(repo, "mv", "p1/s1x0/requirements.txt", str(weird / "pipeline_step.py"))
    git(repo, "rm", "-q", "p1/s1x1/1/pipeline_step.py")
    git(repo, "commit", "-qm", "craft")
    report, vouched = _lock_run(repo)
    assert vouched == 2 and [p["project"] for p in report["projects"]] == ["p0", "p1"]


def test_an_untracked_gitattributes_that_converts_on_checkout(repo: Path):
    (repo / "p1/.gitattributes").write_text("* text eol=crlf\n")
    _checkout_again(repo, "p1/s1x0/1/pipeline_step.py")  # now CRLF on disk, and git calls it clean
    assert b"\r\n" in (repo / "p1/s1x0/1/pipeline_step.py").read_bytes()
    report, vouched = _lock_run(repo)
    assert vouched == 2 and ("p1", "s1x0") in {(s["project"], s["step_id"]) for s in report["selected"]}


def test_a_global_attributes_file_that_converts_on_checkout(repo: Path, tmp_path: Path):
    home = tmp_path / "xdg"
    (home / "git").mkdir(parents=True)
    (home / "git" / "attributes").write_text("*.py eol=crlf\n")
    env = {**os.environ, "XDG_CONFIG_HOME": str(home)}
    (repo / "p1/s1x0/1/pipeline_step.py").unlink()
    subprocess.run(["git", "-C", str(repo), "checkout", "--", "p1/s1x0/1/pipeline_step.py"], check=True, env=env)
    assert b"\r\n" in (repo / "p1/s1x0/1/pipeline_step.py").read_bytes()
    report, vouched = _lock_run(repo, env={"XDG_CONFIG_HOME": str(home)})
    assert vouched == 0 and ("p1", "s1x0") in {(s["project"], s["step_id"]) for s in report["selected"]}  # every .py


@pytest.mark.parametrize("config", ["[core]\n\tautocrlf\n", "[core]\n\tautocrlf = input\n",
                                    "[core]\n\ttrustctime = false\n", "[core]\n\tcheckStat = minimal\n",
                                    "[core]\n\tignoreStat\n", "[core]\n\tfsmonitor = true\n"])
def test_settings_that_convert_bytes_or_weaken_the_stat_cache(repo: Path, config: str):
    with open(repo / ".git" / "config", "a") as fh:
        fh.write(config)
    script = repo / "p1/s1x0/1/pipeline_step.py"  # the same size and time: only content tells the edit
    info = script.stat()
    text = script.read_text()
    script.write_text(text.replace("1", "2", 1) if "1" in text else text.upper())
    os.utime(script, ns=(info.st_atime_ns, info.st_mtime_ns))
    _, vouched = _lock_run(repo)
    assert vouched == 0


def test_an_empty_git_folder_inside_a_project(repo: Path):
    (repo / "p1/.git").mkdir()  # git skips it and works in the outer repository, from p1/
    (repo / "p1/s1x0/1/pipeline_step.py").write_text("print('edited')\n")
    report, vouched = _lock_run(repo)
    assert vouched == 2 and ("p1", "s1x0") in {(s["project"], s["step_id"]) for s in report["selected"]}


def test_a_repository_nested_in_a_step_folder(repo: Path):
    git(repo / "p1/s1x0", "init", "-q")  # its hash follows the inner index, which tracks nothing yet
    report, vouched = _lock_run(repo)
    assert vouched == 2 and "p1" not in report["unchanged"]


def test_a_project_below_a_state_folder_is_hashed_as_the_general_path_does(repo: Path):
    (repo / "tools").mkdir()
    git(repo, "mv", "p3", "tools/.pipeline-ci")
    git(repo, "commit", "-qm", "move")
    (repo / "tools/.pipeline-ci/s3x0/notes.txt").write_text("untracked, hashed here\n")
    _, vouched = _lock_run(repo, "tools/.pipeline-ci")
    assert vouched == 0


def test_no_stamp_for_untracked_configs_or_a_step_reached_through_a_symlink(repo: Path):
    from pipeline_ci import hashing

    recorded = fingerprint.split((repo / "p1/config-lock.yaml").read_bytes())[1]
    assert recorded and fingerprint.compute(repo / "p1") == recorded  # the bench wrote what upload writes
    assert fingerprint.stamp(repo / "p1") is False  # already current: nothing written
    git(repo, "rm", "-q", "--cached", "p1/s1x0/config.yaml")
    lock = repo / "p1/s1x0/config-lock.yaml"  # made up to date with the tracked-only hash, as an upload would
    old = hashing.hash_step(repo / "p1/s1x0", tracked_only=False).digest
    assert old in lock.read_text()
    lock.write_text(lock.read_text().replace(old, hashing.hash_step(repo / "p1/s1x0", tracked_only=True).digest))
    git(repo, "commit", "-qam", "untrack a step config")
    assert fingerprint.compute(repo / "p1") is None
    git(repo, "rm", "-q", "--cached", "p2/config.yaml")
    git(repo, "commit", "-qm", "untrack the root config")
    assert fingerprint.compute(repo / "p2") is None
    (repo / "p3/impl").mkdir()
    git(repo, "mv", "p3/s3x0", "p3/impl/s3x0")
    git(repo, "commit", "-qm", "move a step")
    (repo / "p3/s3x0").symlink_to("impl/s3x0", target_is_directory=True)  # config.yaml still lists s3x0
    with open(repo / ".git/info/exclude", "a") as fh:
        fh.write("p3/s3x0\n")
    assert fingerprint.compute(repo / "p3") is None


# -- touched projects: answered from the fingerprint when the range changed only what steps hash -------------------
# ``--base HEAD~2`` is the last commit at which every lockfile was fresh (the fixture's two last commits touch p0's
# steps without refreshing a lockfile); the base must be a state the fingerprint vouched for.


def test_a_touched_project_is_answered_from_its_fingerprint_and_steps_hashed(repo: Path):
    report, vouched, known = counted(repo, "--base", "HEAD~2")
    assert (vouched, known) == (3, 1) and [p["project"] for p in report["projects"]] == ["p0"]
    assert [(s["step_id"], s["reason"]) for s in report["selected"]] == [("s0x0", "content"), ("s0x1", "content"),
                                                                         ("s0x2", "content")]
    assert report["projects"][0]["pipeline_reasons"] == ["step versions"]
    _, vouched, known = counted(repo, "--base", "HEAD~1")  # at HEAD~1, s0x0 was already edited: not a vouched state
    assert (vouched, known) == (3, 0)


def test_adds_deletes_renames_and_files_no_step_reads(repo: Path):
    step = repo / "p1/s1x2"
    (step / "1/helper.py").write_text("X = 1\n")
    git(repo, "rm", "-q", "p1/s1x3/requirements.txt")
    git(repo, "mv", "p1/s1x4/1/pipeline_step.py", "p1/s1x4/1/main.py")
    (repo / "p1/README.md").write_text("notes\n")  # in the project, in no step
    (repo / "p1/s1x0/docs").mkdir()
    (repo / "p1/s1x0/docs/a.md").write_text("a\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "add, delete, rename")
    report, vouched, known = counted(repo, "--base", "HEAD~3")
    assert known == 2 and vouched == 2  # p0 (its three steps) and p1 answered; p2, p3 untouched
    assert {s["step_id"] for s in report["selected"] if s["project"] == "p1"} == {"s1x0", "s1x2", "s1x3", "s1x4"}


def test_a_change_back_to_what_the_lockfile_pins_is_unchanged(repo: Path):
    script = repo / "p1/s1x0/1/pipeline_step.py"
    before = script.read_text()
    script.write_text("print('elsewhere')\n")
    git(repo, "commit", "-qam", "edit")
    script.write_text(before)
    git(repo, "commit", "-qam", "revert")
    git(repo, "mv", "p1/s1x1/requirements.txt", "p1/s1x1/reqs.txt")  # touched, and its hash differs
    git(repo, "commit", "-qm", "rename")
    report, _, known = counted(repo, "--base", "HEAD~5")
    assert known == 2
    p1 = next(p for p in report["projects"] if p["project"] == "p1")
    assert {s["step_id"]: s["reason"] for s in p1["steps"] if s["touched"]} == {"s1x1": "content"}


@pytest.mark.parametrize("edit", ["step config", "step lockfile", "root config", "nested config", "dirty"])
def test_what_detect_reads_as_yaml_changed_loads_the_project(repo: Path, edit: str):
    target = {"step config": "p1/s1x0/config.yaml", "step lockfile": "p1/s1x0/config-lock.yaml",
              "root config": "p1/config.yaml", "nested config": "p1/s1x0/1/config.yaml",
              "dirty": "p1/s1x0/1/pipeline_step.py"}[edit]
    path = repo / target
    path.write_text((path.read_text() if path.exists() else "x: 1\n") + "# edited\n")
    (repo / "p1/s1x1/1/pipeline_step.py").write_text("print('touched')\n")
    git(repo, "add", "p1/s1x1", *([] if edit == "dirty" else [target]))
    git(repo, "commit", "-qm", "touch p1")
    if edit == "dirty":
        path.write_text(path.read_text() + "# not committed\n")
    _, _, known = counted(repo, "--base", "HEAD~3")
    assert known == 1  # p0 only: p1 is loaded


def _restamp(repo: Path, project: str, spec_edit=None, versions: dict[str, str] | None = None) -> bool:
    """Rewrite ``project``'s root lockfile as ``upload`` would after ``spec_edit`` of its config's spec and with step
    ``versions`` (step id -> version id, written into the step lockfiles too), stamp it for real, commit; whether it
    was stamped (up to date)."""
    import yaml

    from bench.changes import root_lock

    root = repo / project
    if spec_edit is not None:
        (root / "config.yaml").write_text(spec_edit((root / "config.yaml").read_text()))
    pins = {}
    for lock in sorted(root.glob("*/config-lock.yaml")):
        step = lock.parent.name
        if versions and step in versions:
            lock.write_text(lock.read_text().replace(f"id: {yaml.safe_load(lock.read_text())['id']}\n",
                                                     f"id: {versions[step]}\n"))
        pins[step] = str(yaml.safe_load(lock.read_text())["id"])
    (root / "config-lock.yaml").write_text(root_lock((root / "config.yaml").read_text(), pins, "pv-restamped"))
    stamped = fingerprint.stamp(root)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"restamp {project}")
    return stamped


def _drop_last_step_from_the_spec(text: str) -> str:
    head, _, _ = text.rpartition("        - - name: step-4")
    return head


def test_a_step_the_spec_does_not_reference_needs_a_version_but_not_the_pipeline(repo: Path):
    assert _restamp(repo, "p1", _drop_last_step_from_the_spec)
    recorded = fingerprint.split((repo / "p1/config-lock.yaml").read_bytes())[1]
    assert recorded == fingerprint.compute(repo / "p1")
    (repo / "p1/s1x4/1/pipeline_step.py").write_text("print('unreferenced')\n")
    git(repo, "commit", "-qam", "edit the unreferenced step")
    report, _, known = counted(repo, "--base", "HEAD~1")
    assert known == 1
    p1 = next(p for p in report["projects"] if p["project"] == "p1")
    assert p1["pipeline_reasons"] == [] and [s["step_id"] for s in p1["steps"] if s["needs_upload"]] == ["s1x4"]
    (repo / "p1/s1x3/1/pipeline_step.py").write_text("print('referenced')\n")
    git(repo, "commit", "-qam", "edit a referenced step")
    report, _, known = counted(repo, "--base", "HEAD~2")
    assert known == 1 and next(p for p in report["projects"] if p["project"] == "p1")["pipeline_reasons"] == [
        "step versions"]


@pytest.mark.parametrize("version", ["v 7", "'v7'", "7"])
def test_version_ids_the_facts_cannot_vouch_for_load_the_project(repo: Path, version: str):
    """A version id that is not plain (a space), quoted, or read by YAML as a number: the fingerprint still vouches
    for the untouched project, but a touched one is loaded (its facts are not recorded, or not guessed from the text)."""
    assert _restamp(repo, "p1", versions={"s1x0": version}) is (version != "7")  # an integer is no version id
    _, vouched, _ = counted(repo, "--base", "HEAD")
    assert vouched == (2 if version == "7" else 3)  # p0 is stale at the fixture's head
    (repo / "p1/s1x1/1/pipeline_step.py").write_text("print('touched')\n")
    git(repo, "commit", "-qam", "touch p1")
    _, _, known = counted(repo, "--base", "HEAD~1")
    assert known == 0


def test_hash_files_is_the_tracked_only_step_hash(tmp_path: Path):
    """The hash the touched path computes from the index's listing equals the general path's walk, whatever the order
    of files and folders (files of a folder before its subfolders, both sorted)."""
    from pipeline_ci.hashing import hash_files, hash_step

    files = {"config.yaml": "pipeline_step:\n  id: s\n", "b.txt": "b\n", "1/pipeline_step.py": "print(1)\n",
             "1/z/deep.py": "x = 1\n", "1/a.py": "a\n", "a-b/c": "c\n", "a/b": "ab\n", "1/config-lock.yaml": "x\n",
             "é/ü.txt": "utf-8 names\n", "empty": ""}
    write_files(tmp_path / "s", files)
    git(tmp_path / "s", "init", "-q")
    git(tmp_path / "s", "add", "-A")
    listed = [p for p in files if p.rpartition("/")[2] != "config-lock.yaml"]
    assert hash_files(str(tmp_path / "s"), listed) == hash_step(tmp_path / "s", tracked_only=True).digest
    assert hash_files(str(tmp_path / "s"), listed[::-1]) == hash_step(tmp_path / "s", tracked_only=True).digest


def test_a_step_file_bigger_than_one_read_is_hashed_whole(repo: Path):
    """The touched path streams each file to its end, as the general path does (a review found a single ``read``
    hashing only the first 2 GiB of a bigger file); 3 MiB here spans several reads of 1 MiB."""
    (repo / "p1/s1x0/weights.bin").write_bytes(bytes(range(256)) * (3 * 4096 + 7))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "weights")
    report, _, known = counted(repo, "--base", "HEAD~3")
    assert known == 2 and ("p1", "s1x0") in {(s["project"], s["step_id"]) for s in report["selected"]}


@pytest.mark.parametrize("oddity", ["nul", "fifo"])
def test_an_odd_config_neither_crashes_nor_blocks_the_touched_path(repo: Path, oddity: str):
    """Found by a review: the texts are read only once the fingerprint vouched for them, and never block."""
    config = repo / "p1/config.yaml"
    if oddity == "nul":
        config.write_bytes(config.read_bytes().replace(b"  - s1x0\n", b"  - s1x0\x00\n"))
    else:
        config.write_text(config.read_text().replace("  - s1x0\n", "  - s1x0\n  - fifo\n"))
        (repo / "p1/fifo").mkdir()
        os.mkfifo(repo / "p1/fifo/config-lock.yaml")  # untracked
    git(repo, "commit", "-qam", oddity)
    (repo / "p1/s1x1/1/pipeline_step.py").write_text("print('touched')\n")
    git(repo, "commit", "-qam", "touch p1")
    _, _, known = counted(repo, "--base", "HEAD~1")
    assert known == 0


def test_answering_from_fingerprints_imports_neither_pyyaml_nor_the_project_model(repo: Path):
    """Every project vouched for or answered from its fingerprint: nothing is parsed as YAML, so the start-up costs
    neither PyYAML nor the loaders (``-X importtime`` lists every module imported)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "pipeline_ci", "-v", "changed", "--base", "HEAD~2"],
                          cwd=repo, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(VOUCHED) == 3 and done.stderr.count(KNOWN) == 1
    imported = {line.rpartition("|")[2].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert imported and not imported & {"yaml", "pipeline_ci.yamldoc", "pipeline_ci.project", "pipeline_ci.lockfiles"}
