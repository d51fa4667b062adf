"""Shared step virtualenvs (``--isolation venv``) and ``pipeline-ci envs``: real ``pipeline-ci run`` processes,
real ``python -m venv`` and pip, a hand-written local wheel (:mod:`pipeline_ci.testing.wheels`) installed with
``--no-index``, and the cache in a temporary ``$PIPELINE_CI_HOME``."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipeline_ci.platforms.local.executor import isolation, run_local
from pipeline_ci.platforms.local.executor.isolation import READY, USED, env_key, normalised_requirements
from pipeline_ci.testing.projects import base_files
from pipeline_ci.testing.wheels import make_wheel

from .conftest import run_cli as pipeline_ci_cli
from .conftest import write_files

STEP = "import sys, pcitinypkg\nprint('prefix=' + sys.prefix + ' value=' + pcitinypkg.VALUE)\n"
INSTALL = "--- install requirements ---"


def requirements(wheels: Path) -> str:
    return f"--no-index\n--find-links {wheels}\npcitinypkg==1.0\n"


def project(folder: Path, reqs: str, step: str = STEP) -> Path:
    files = base_files()
    for name in ("stepA", "stepB"):
        files[f"{name}/requirements.txt"] = reqs
        files[f"{name}/1/pipeline_step.py"] = step
    return write_files(folder, files)


def start(root: Path, home: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    out = root.parent / f"{root.name}.out"
    with open(out, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "pipeline_ci", *args], stdout=fh, stderr=subprocess.STDOUT,
                                env={**os.environ, "PIPELINE_CI_HOME": str(home)}, start_new_session=True)
    return proc, out


def run_cli(root: Path, home: Path) -> tuple[int, str]:
    proc, out = start(root, home, "run", str(root), "--isolation", "venv")
    return proc.wait(60), out.read_text()


def envs_cli(home: Path, *args: str) -> tuple[int, str]:
    done = pipeline_ci_cli(["envs", *args], {**os.environ, "PIPELINE_CI_HOME": str(home)}, timeout=60)
    return done.returncode, done.stdout + done.stderr


def pip_runs(*roots: Path) -> int:
    """How many times pip ran, from the step logs of every run of these projects."""
    return sum(log.read_text().count(INSTALL) for root in roots for log in root.glob(".pipeline-ci/runs/*/logs/*"))


def wait_for(check, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def the_env(home: Path) -> Path:
    found = [p for p in (home / "envs").iterdir() if p.is_dir()]
    assert len(found) == 1, found
    return found[0]


def test_two_racing_runs_build_once_and_another_project_reuses_the_env(tmp_path):
    home, wheels = tmp_path / "home", tmp_path / "wheels"
    make_wheel(wheels)
    reqs = requirements(wheels)
    one, two, three = (project(tmp_path / name, reqs) for name in ("one", "two", "three"))
    lock = home / "envs" / f"{env_key(normalised_requirements(reqs))}.lock"
    lock.parent.mkdir(parents=True)
    with open(lock, "w") as held:  # both runs reach the lock before either can build
        fcntl.flock(held, fcntl.LOCK_EX)
        runs = [start(root, home, "run", str(root), "--isolation", "venv") for root in (one, two)]
        for _, out in runs:
            wait_for(lambda out=out: "waiting for virtualenv" in out.read_text(), f"{out} to wait")
    codes = [proc.wait(60) for proc, _ in runs]
    outputs = [out.read_text() for _, out in runs]
    assert codes == [0, 0], outputs
    assert sum("building virtualenv" in text for text in outputs) == 1, outputs
    assert sum("is ready (built by the other run): using it" in text for text in outputs) == 1, outputs
    assert pip_runs(one, two) == 1
    env = the_env(home)
    assert all(f"prefix={env} value=installed" in text for text in outputs), outputs
    marker = (env / READY).stat().st_mtime_ns

    code, output = run_cli(three, home)  # another project, same requirements: no build at all
    assert code == 0 and f"[step-a] prefix={env} value=installed" in output, output
    assert "virtualenv" not in output and pip_runs(three) == 0
    assert (env / READY).stat().st_mtime_ns == marker


def _kill_processes_using(path: Path) -> None:
    """SIGKILL what the killed run left behind (pip runs in its own session) and wait for it to go."""
    needle = str(path).encode()
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if needle in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(int(pid))
                os.kill(int(pid), signal.SIGKILL)
        except OSError:
            continue
    wait_for(lambda: not any(Path(f"/proc/{p}").exists() and "Z" not in _state(p) for p in pids), "pip to die", 10)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


def test_an_env_whose_build_was_killed_is_detected_and_rebuilt(tmp_path):
    home, wheels = tmp_path / "home", tmp_path / "wheels"
    make_wheel(wheels)
    root = project(tmp_path / "proj", requirements(wheels))
    env = home / "envs" / env_key(normalised_requirements(requirements(wheels)))
    proc, out = start(root, home, "run", str(root), "--isolation", "venv")
    wait_for(lambda: (env / "pyvenv.cfg").exists(), "the virtualenv to be created")
    os.killpg(proc.pid, signal.SIGKILL)  # mid-build: pip has not even started or is installing
    proc.wait(10)
    _kill_processes_using(env)
    assert env.is_dir() and not (env / READY).exists(), out.read_text()

    code, output = run_cli(root, home)
    assert code == 0, output
    assert f"virtualenv {env.name} in {env} is incomplete (an earlier build failed or was killed): building it " \
           "again" in output
    assert (env / READY).is_file() and f"[step-b] prefix={env} value=installed" in output
    assert pip_runs(root) >= 1


def test_progress_names_the_package_pip_is_on(tmp_path, monkeypatch):
    home, wheels = tmp_path / "home", tmp_path / "wheels"
    make_wheel(wheels)
    monkeypatch.setenv("PIPELINE_CI_HOME", str(home))
    monkeypatch.setenv("PIPELINE_CI_PROGRESS_INTERVAL", "0.05")  # not a terminal: a plain line every 15 s, here 0.05 s
    root = project(tmp_path / "proj", requirements(wheels))
    lines: list[str] = []
    result = run_local(root, isolation="venv", out=lines.append)
    assert result.exit_code == 0, lines
    progress = [line for line in lines if line.startswith("[step-a] virtualenv ") and line.endswith("s)")]
    assert progress, lines
    assert any("pcitinypkg" in line for line in progress), progress
    assert any(line.startswith("[step-a] virtualenv ") and " ready after " in line for line in lines), lines


def test_envs_list_and_prune(tmp_path):
    home, wheels = tmp_path / "home", tmp_path / "wheels"
    make_wheel(wheels)
    code, output = envs_cli(home, "list")
    assert code == 0 and f"no shared virtualenvs in {home / 'envs'}" in output
    empty = project(tmp_path / "empty", "# nothing to install\n", step="print('ok')\n")
    full = project(tmp_path / "full", requirements(wheels))
    for root in (empty, full):
        code, output = run_cli(root, home)
        assert code == 0, output
    bare = home / "envs" / env_key([])
    wheel = home / "envs" / env_key(normalised_requirements(requirements(wheels)))
    half = home / "envs" / "0123456789abcdef"
    (half / "bin").mkdir(parents=True)  # a build killed before its marker: incomplete

    code, output = envs_cli(home, "list")
    assert code == 0, output
    rows = {line.split()[0]: line for line in output.splitlines() if line.startswith(str(home))}
    assert set(rows) == {str(bare), str(wheel), str(half)}, output
    assert isolation.requirements_hash(normalised_requirements(requirements(wheels))) in rows[str(wheel)]
    assert rows[str(wheel)].rstrip().endswith("ready") and "ago)" in rows[str(wheel)]
    assert rows[str(half)].rstrip().endswith("incomplete")
    assert "3 virtualenv(s)" in output

    code, output = envs_cli(home, "prune", "--older-than", "1")  # both were just used: only the incomplete one goes
    assert code == 0 and f"removed {half}" in output and "removed 1 of 3" in output, output
    assert bare.is_dir() and wheel.is_dir() and not half.exists()
    old = time.time() - 3 * 86400
    os.utime(bare / USED, (old, old))
    code, output = envs_cli(home, "prune", "--older-than", "2")
    assert code == 0 and f"removed {bare}" in output and "removed 1 of 2" in output, output
    assert not bare.exists() and not (home / "envs" / f"{bare.name}.lock").exists() and wheel.is_dir()

    building = home / "envs" / "fedcba9876543210"
    building.mkdir()
    with open(home / "envs" / f"{wheel.name}.lock", "w") as held, \
            open(home / "envs" / f"{building.name}.lock", "w") as held_too:  # runs hold their locks: never removed
        fcntl.flock(held, fcntl.LOCK_EX)
        fcntl.flock(held_too, fcntl.LOCK_EX)
        code, output = envs_cli(home, "list")
        assert [line.split()[-1] for line in output.splitlines()[1:3]] == ["ready", "building"], output
        code, output = envs_cli(home, "prune", "--all")
        assert code == 0 and f"kept {wheel}: a run is building it" in output and wheel.is_dir(), output
        assert f"kept {building}: a run is building it" in output and building.is_dir()
    code, output = envs_cli(home, "prune", "--all")
    assert code == 0 and f"removed {wheel}" in output and not wheel.exists() and not building.exists(), output
    assert "removed 2 of 2" in output and list((home / "envs").iterdir()) == []
    code, output = run_cli(full, home)  # a pruned env is simply built again
    assert code == 0 and "building virtualenv" in output and (wheel / READY).is_file(), output

    code, output = envs_cli(home, "prune", "--all", "--older-than", "3")
    assert code == 2 and "--all and --older-than contradict each other" in output
    code, output = envs_cli(home, "prune", "--older-than", "-1")
    assert code == 2 and "--older-than must be a number of days >= 0" in output


def test_relative_file_references_make_the_env_specific_to_the_step_folder(tmp_path):
    shared = ["--no-index", f"--find-links {tmp_path}", "pcitinypkg==1.0"]
    assert env_key(shared, step_dir=tmp_path / "a") == env_key(shared, step_dir=tmp_path / "b")
    for line in ("-r other.txt", "-rother.txt", "-e ./pkg", "./pkg", "--find-links wheels", "pkg @ file:../p.whl"):
        assert env_key([line], step_dir=tmp_path / "a") != env_key([line], step_dir=tmp_path / "b"), line
    for line in (f"-r {tmp_path}/r.txt", "pkg @ file:///abs/p.whl", "pkg @ https://example.org/p.whl",
                 "--index-url https://example.org/simple", "numpy>=1; python_version < '4'"):
        assert env_key([line], step_dir=tmp_path / "a") == env_key([line], step_dir=tmp_path / "b"), line
    assert env_key(["numpy"]) != env_key(["numpy", "scipy"])
