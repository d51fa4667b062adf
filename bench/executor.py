"""Local executor overhead against running the same processes directly, measured in the same run.

    python bench/executor.py [--quick]

The steps are Clarifai steps whose ``pipeline_step.py`` parses its argument and prints it; the
baseline runs exactly those processes (same argv, folder, captured stdout/stderr) with
``subprocess.run``, one after the other, as the sequential pipeline does.

1. Cold, first: one fresh ``pipeline-ci run`` process (``--isolation none``) of a 20-step sequential
   pipeline against one fresh ``python`` process that runs the 20 steps directly. The difference
   includes pipeline-ci's start-up (imports, loading the project, the run record); per step, it is
   that difference / 20.
2. Warm, in process (best of N): ``run_local`` on pipelines of 1 and 20 steps against the direct
   runs of 1 and 20 steps. Overhead per step = the slope between the two differences
   (``((run20 - direct20) - (run1 - direct1)) / 19``), the fixed part = what is left of a 1-step run.
   Target: <= 5 ms per step.
3. Shared virtualenvs: a step with requirements (a local wheel installed with ``--no-index``): the
   first run builds the env (cold), the next ones reuse it; the extra start time of a cached env
   against ``--isolation none``. Target <= 0.5 s. The envs go to a temporary ``$PIPELINE_CI_HOME``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline_ci.testing.projects import SCRIPT, STEP_TEMPLATE, root_config  # noqa: E402
from pipeline_ci.testing.wheels import make_wheel  # noqa: E402

CLI = [sys.executable, "-m", "pipeline_ci", "run"]
STEPS = 20
TARGET_MS = 5.0
LEAF_RUNS = 50
DIRECT = """\
import subprocess, sys
for folder in sys.argv[1:]:
    subprocess.run([sys.executable, "1/pipeline_step.py", "--input_text=hi"], cwd=folder, check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
"""


def project(root: Path, steps: int, requirements: str = "# none\n") -> Path:
    groups = "".join(
        f"""  - - name: s{i}
      templateRef:
        name: users/u1/apps/a1/pipeline_steps/step{i}
        template: users/u1/apps/a1/pipeline_steps/step{i}
      arguments:
        parameters:
        - name: input_text
          value: "{{{{workflow.parameters.input_text}}}}"
"""
        for i in range(steps)
    )
    spec = ("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  entrypoint: main\n  arguments:\n"
            "    parameters:\n    - name: input_text\n      value: hi\n  templates:\n  - name: main\n    steps:\n"
            + groups.replace("\n  ", "\n    ").replace("  - - name", "    - - name", 1))
    config = root_config(spec).replace("  - stepA\n  - stepB\n", "".join(f"  - step{i}\n" for i in range(steps)))
    (root / "config.yaml").parent.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(config)
    for i in range(steps):
        step = root / f"step{i}"
        (step / "1").mkdir(parents=True, exist_ok=True)
        (step / "config.yaml").write_text(STEP_TEMPLATE.format(step=f"step{i}"))
        (step / "requirements.txt").write_text(requirements)
        (step / "1" / "pipeline_step.py").write_text(SCRIPT)
    return root


def folders(root: Path, steps: int) -> list[str]:
    return [str(root / f"step{i}") for i in range(steps)]


def timed(cmd: list[str], **kwargs) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}")
    return time.perf_counter() - start


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # this process, all its threads; not the steps
    return usage.ru_utime + usage.ru_stime


def direct(root: Path, steps: int) -> tuple[float, float]:
    """The baseline in this process: the step processes, one after the other (wall and CPU seconds)."""
    start, cpu = time.perf_counter(), _cpu()
    for folder in folders(root, steps):
        subprocess.run([sys.executable, "1/pipeline_step.py", "--input_text=hi"], cwd=folder, check=True,
                       capture_output=True)
    return time.perf_counter() - start, _cpu() - cpu


def in_process(root: Path) -> tuple[float, float]:
    from pipeline_ci.platforms.local.executor import run_local

    start, cpu = time.perf_counter(), _cpu()
    result = run_local(root, isolation="none", out=lambda line: None)
    elapsed = time.perf_counter() - start, _cpu() - cpu
    if result.exit_code != 0:
        raise SystemExit(f"benchmark run failed: {result.message}")
    return elapsed


def leaf_runner(tmp: Path, runs: int) -> tuple[float, float]:
    """Seconds per process: :class:`LeafRunner` (as the subreaper, like a run) and ``subprocess.run`` capturing output."""
    from pipeline_ci.platforms.local.executor import procs
    from pipeline_ci.platforms.local.executor.leaf import Job, LeafRunner
    from pipeline_ci.platforms.local.executor.model import Stop

    previous = procs.set_subreaper(True)
    runner = LeafRunner(lambda line: None)
    job = Job("bench", ["/bin/true"], tmp, dict(os.environ), tmp / "leaf.log", echo=False)

    def each(run) -> float:
        start = time.perf_counter()
        for _ in range(LEAF_RUNS):
            run()
        return (time.perf_counter() - start) / LEAF_RUNS

    try:
        leaf = min(each(lambda: runner.run(job, Stop())) for _ in range(runs))
        plain = min(each(lambda: subprocess.run(job.argv, cwd=tmp, capture_output=True)) for _ in range(runs))
    finally:
        runner.close()
        if previous is False:
            procs.set_subreaper(False)
    return leaf, plain


def slope(run1: float, run_n: float, direct1: float, direct_n: float) -> tuple[float, float]:
    """(per step, fixed per run) of the overhead, from 1-step and STEPS-step runs."""
    per_step = ((run_n - direct_n) - (run1 - direct1)) / (STEPS - 1)
    return per_step, (run1 - direct1) - per_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    runs = 3 if parser.parse_args().quick else 9
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (wall times need an idle machine; "
          "the CPU figure is steadier)")
    with tempfile.TemporaryDirectory() as tmp:
        many, one = project(Path(tmp) / "seq", STEPS), project(Path(tmp) / "one", 1)

        cold_run = timed([*CLI, str(many), "--isolation", "none"])
        cold_direct = timed([sys.executable, "-c", DIRECT, *folders(many, STEPS)])
        print(f"1. cold (fresh processes, {STEPS} steps): pipeline-ci run {cold_run:.2f} s vs direct "
              f"{cold_direct:.2f} s -> {cold_run - cold_direct:+.2f} s ({cold_run / cold_direct:.2f}x), "
              f"{(cold_run - cold_direct) / STEPS * 1000:.1f} ms per step including start-up")

        in_process(one), in_process(many)  # imports and file caches
        samples: list[list[tuple[float, float]]] = [[], [], [], []]  # run 1, run STEPS, direct 1, direct STEPS
        for _ in range(runs):  # interleaved, so that a busy moment of the machine hits both sides
            for i, measure in enumerate((lambda: in_process(one), lambda: in_process(many),
                                         lambda: direct(one, 1), lambda: direct(many, STEPS))):
                samples[i].append(measure())
        wall = [min(x[0] for x in v) for v in samples]
        cpu = [min(x[1] for x in v) for v in samples]
        per_step, fixed = slope(*wall)
        cpu_step, _ = slope(*cpu)
        verdict = "ok" if per_step * 1000 <= TARGET_MS else "OVER TARGET"
        print(f"2. warm (in process, best of {runs}): {STEPS} steps {wall[1]:.3f} s vs direct {wall[3]:.3f} s -> "
              f"{(wall[1] - wall[3]) * 1000:+.0f} ms ({wall[1] / wall[3]:.2f}x); 1 step {wall[0] * 1000:.1f} ms vs "
              f"{wall[2] * 1000:.1f} ms -> overhead {per_step * 1000:.2f} ms per step (target <= {TARGET_MS:g} ms: "
              f"{verdict}) + {fixed * 1000:.1f} ms per run; CPU of pipeline-ci itself {cpu_step * 1000:.2f} ms per "
              "step")

        leaf, plain_run = leaf_runner(Path(tmp), runs)
        print(f"   of which the leaf runner (start, stream, wait, reap; {LEAF_RUNS} x /bin/true, best of {runs}): "
              f"{leaf * 1000:.2f} ms vs subprocess.run {plain_run * 1000:.2f} ms -> {(leaf - plain_run) * 1000:+.2f} ms "
              "per process")

        wheels = make_wheel(Path(tmp) / "wheels").parent
        venv_root = project(Path(tmp) / "venv", 1, requirements=f"--no-index\n--find-links {wheels}\npcitinypkg\n")
        env = {**os.environ, "PIPELINE_CI_HOME": str(Path(tmp) / "home")}
        build = timed([*CLI, str(venv_root), "--isolation", "venv"], env=env)
        cached = min(timed([*CLI, str(venv_root), "--isolation", "venv"], env=env) for _ in range(runs))
        plain = min(timed([*CLI, str(venv_root), "--isolation", "none"], env=env) for _ in range(runs))
        print(f"3. shared virtualenv: first run (builds it) {build:.2f} s; cached {cached:.2f} s vs no isolation "
              f"{plain:.2f} s -> {cached - plain:+.2f} s (target <= 0.5 s)")


if __name__ == "__main__":
    main()
