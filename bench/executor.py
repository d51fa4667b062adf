"""Local executor overhead: per-step cost beyond the step's own run time, and cached-venv start.

    python bench/executor.py

1. A 20-step sequential pipeline whose steps do nothing, run with ``--isolation none``:
   (wall time of the run - wall time of 20 bare ``python step.py`` runs) / 20. Target <= 50 ms.
2. A step with its own requirements (satisfied by a venv): the second run, with the venv cached,
   minus the same run with ``--isolation none``. Target <= 0.5 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline_ci.testing.projects import SCRIPT, STEP_TEMPLATE, root_config  # noqa: E402

CLI = [sys.executable, "-m", "pipeline_ci", "run"]
STEPS = 20


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


def timed(cmd: list[str], **kwargs) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}")
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = project(Path(tmp) / "seq", STEPS)
        timed([*CLI, str(root), "--isolation", "none"])  # warm caches
        run = min(timed([*CLI, str(root), "--isolation", "none"]) for _ in range(3))
        bare = min(sum(timed([sys.executable, "1/pipeline_step.py", "--input_text", "hi"], cwd=root / f"step{i}")
                       for i in range(STEPS)) for _ in range(3))
        startup = min(timed([sys.executable, "-m", "pipeline_ci", "--version"]) for _ in range(3))
        per_step = (run - bare - startup) / STEPS
        print(f"1. executor overhead: run {run:.2f} s, bare steps {bare:.2f} s, CLI start {startup:.2f} s -> "
              f"{per_step * 1000:.1f} ms per step (target <= 50 ms)")

        venv_root = project(Path(tmp) / "venv", 1, requirements="pip>=1\n")
        env = {**os.environ}
        timed([*CLI, str(venv_root), "--isolation", "venv"], env=env)  # creates the cached venv
        cached = min(timed([*CLI, str(venv_root), "--isolation", "venv"], env=env) for _ in range(3))
        plain = min(timed([*CLI, str(venv_root), "--isolation", "none"], env=env) for _ in range(3))
        print(f"2. cached venv start: {cached:.2f} s vs no isolation {plain:.2f} s -> {cached - plain:.2f} s extra "
              "(target <= 0.5 s)")


if __name__ == "__main__":
    main()
