"""Compute get-or-create for Clarifai runs, against the gRPC emulator (which refuses a run on a nodepool that does
not exist, as the platform does): the SDK's instance-type resolution and deterministic ids, creation on the first
run only, a dry run that only looks, and two jobs racing to create the same compute."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline_ci.errors import UsageError
from pipeline_ci.platforms.clarifai import compute
from pipeline_ci.platforms.clarifai.api import ClarifaiClient
from pipeline_ci.testing.clarifai_emulator import ClarifaiEmulator
from pipeline_ci.testing.projects import base_files

from .conftest import clarifai_env, run_cli, write_files

PAT = "pat-compute-tests-secret"


@pytest.fixture
def emulator():
    with ClarifaiEmulator({PAT}, build_polls=1) as emu:
        emu.require_compute = True
        yield emu


def client_for(emu: ClarifaiEmulator) -> ClarifaiClient:
    return ClarifaiClient(PAT, f"http://{emu.address}")


def calls(emu: ClarifaiEmulator, method: str) -> int:
    return sum(1 for name, _ in emu.calls if name == method)


def test_ids_are_the_sdks():
    assert compute.cluster_id("aws", "us-east-1") == "deploy-cc-aws-us-east-1"
    assert compute.nodepool_id("g6e.xlarge") == "deploy-np-g6e-xlarge"
    assert compute.nodepool_id("gpu-nvidia..a10g/x") == "deploy-np-gpu-nvidia-a10g-x"


def test_offline_presets_and_unknown_names():
    a10g = compute.resolve_instance(None, "A10G")
    assert (a10g.id, a10g.cloud, a10g.region, a10g.source) == ("gpu-nvidia-a10g", "aws", "us-east-1", "offline preset")
    assert compute.resolve_instance(None, "gpu-nvidia-l40s").id == "gpu-nvidia-l40s"
    with pytest.raises(UsageError, match="unknown instance type 'h100'") as info:
        compute.resolve_instance(None, "h100")
    assert "A10G" in (info.value.hint or "")


def test_catalog_resolution_matches_the_sdks_order(emulator):
    client = client_for(emulator)
    assert compute.resolve_instance(client, "g6e.xlarge").id == "g6e.xlarge"  # exact id
    assert compute.resolve_instance(client, "A10G").id == "g5.xlarge"  # GPU name in an accelerator type
    most = compute.resolve_instance(client, "L40S")  # most accelerators first within a cloud
    assert (most.id, most.region) == ("g6e.12xlarge", "us-west-2")
    assert compute.resolve_instance(client, "gpu-nvidia-t4").cloud == "gcp"
    # --cloud/--region name the cluster only (the SDK's `pipeline run` searches the whole catalog)
    placed = compute.plan(client, "user-1", "L40S", "aws", "us-east-1")
    assert (placed.cluster_id, placed.nodepool_id) == ("deploy-cc-aws-us-east-1", "deploy-np-g6e-12xlarge")
    assert calls(emulator, "ListInstanceTypes") == 5 * 3 and calls(emulator, "PostComputeClusters") == 0


def test_a_failing_catalog_listing_is_skipped_with_a_warning_then_presets(emulator):
    emulator.inject("ListCloudRegions", "internal", times=99)
    warnings: list[str] = []
    client = ClarifaiClient(PAT, f"http://{emulator.address}", attempts=1)
    found = compute.resolve_instance(client, "A10G", warnings.append)
    assert (found.id, found.source) == ("gpu-nvidia-a10g", "offline preset")
    assert warnings and all("ListCloudRegions" in w and "skipped" in w for w in warnings)


def test_two_jobs_racing_end_with_one_cluster_and_nodepool(emulator):
    first, second = client_for(emulator), client_for(emulator)
    plans = [compute.plan(c, "user-1", "g5.xlarge") for c in (first, second)]
    assert all(p.cluster_exists is False and p.nodepool_exists is False for p in plans)  # both saw nothing
    said: list[str] = []
    compute.ensure(first, "user-1", plans[0], said.append)
    compute.ensure(second, "user-1", plans[1], said.append)  # its creates fail: found by the gets
    assert said == ["  created compute cluster deploy-cc-aws-us-east-1", "  created nodepool deploy-np-g5-xlarge",
                    "  compute cluster deploy-cc-aws-us-east-1 was created by another job meanwhile; using it",
                    "  nodepool deploy-np-g5-xlarge was created by another job meanwhile; using it"]
    assert len(emulator._clusters) == 1 and len(emulator._nodepools) == 1
    nodepool = next(iter(emulator._nodepools.values()))
    assert [t.id for t in nodepool.instance_types] == ["g5.xlarge"] and nodepool.max_instances == 5
    assert next(iter(emulator._clusters.values())).cloud_provider.id == "aws"


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_cli(args, env, timeout=120, secrets=(PAT,))


def test_first_run_creates_the_compute_and_the_next_reuses_it(emulator, tmp_path):
    env = clarifai_env(emulator, tmp_path, PAT)
    root = write_files(tmp_path / "proj", base_files())
    assert cli(["upload", "--backend", "clarifai", str(root)], env).returncode == 0
    fast = ["--max-interval", "0.2"]
    refused = cli(["run", str(root), "--backend", "clarifai", "--compute-cluster-id", "cc", "--nodepool-id", "np",
                   *fast], env)
    assert refused.returncode in (2, 3) and "nodepool 'np' does not exist" in refused.stdout + refused.stderr

    plan = cli(["run", str(root), "--backend", "clarifai", "--instance", "A10G", "--dry-run"], env)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "compute cluster deploy-cc-aws-us-east-1: will be created" in plan.stdout
    assert "nodepool deploy-np-g5-xlarge: will be created" in plan.stdout and "nothing was started" in plan.stdout
    assert calls(emulator, "PostComputeClusters") == 0 and calls(emulator, "PostPipelineVersionRuns") == 1

    no_pat = {k: v for k, v in env.items() if k != "CLARIFAI_PAT"}
    offline = cli(["run", str(root), "--backend", "clarifai", "--instance", "A10G", "--dry-run"], no_pat)
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "deploy-np-gpu-nvidia-a10g" in offline.stdout and "not checked (no credentials)" in offline.stdout
    unknown = cli(["run", str(root), "--backend", "clarifai", "--instance", "g5.xlarge", "--dry-run"], no_pat)
    assert unknown.returncode == 0 and "deploy-np-g5-xlarge" in unknown.stdout and "(not checked)" in unknown.stdout

    first = cli(["run", str(root), "--backend", "clarifai", "--instance", "g5.xlarge", *fast], env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "created compute cluster deploy-cc-aws-us-east-1" in first.stdout
    config = yaml.safe_load((root / "config.yaml").read_text())
    config["pipeline"]["compute"] = {"instance": "g5.xlarge"}
    (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    again = cli(["run", str(root), "--backend", "clarifai", *fast], env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nodepool deploy-np-g5-xlarge: exists" in again.stdout and "  created " not in again.stdout
    assert calls(emulator, "PostComputeClusters") == 1 and calls(emulator, "PostNodepools") == 1
    local = cli(["run", str(root), "--backend", "local", "--dry-run"], env)
    assert local.returncode == 2 and "--dry-run (for clarifai) does not apply to --backend local" in local.stderr


def test_addressing_an_existing_run_never_touches_compute(emulator, tmp_path):
    env = clarifai_env(emulator, tmp_path, PAT)
    root = write_files(tmp_path / "proj", base_files())
    config = yaml.safe_load((root / "config.yaml").read_text())
    config["pipeline"]["compute"] = {"instance": "g5.xlarge"}
    (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert cli(["upload", "--backend", "clarifai", str(root)], env).returncode == 0
    from pipeline_ci.platforms.clarifai import status

    emulator.script_run([(status.JOB_RUNNING, 50)])
    started = cli(["run", str(root), "--backend", "clarifai", "--no-wait"], env)
    assert started.returncode == 0, started.stdout + started.stderr
    run_id = started.stdout.split("started run ", 1)[1].split()[0]
    before = [name for name, _ in emulator.calls]
    for command in ("pause", "resume", "cancel"):
        done = cli([command, run_id, "--path", str(root)], env)
        assert done.returncode == 0, done.stdout + done.stderr
    after = [name for name, _ in emulator.calls][len(before):]
    assert not [m for m in after if "Compute" in m or "Nodepool" in m or m.startswith("List")], after


def test_unknown_instance_is_a_usage_error_before_anything_is_created(emulator, tmp_path: Path):
    env = clarifai_env(emulator, tmp_path, PAT)
    root = write_files(tmp_path / "proj", base_files())
    assert cli(["upload", "--backend", "clarifai", str(root)], env).returncode == 0
    result = cli(["run", str(root), "--backend", "clarifai", "--instance", "h100"], env)
    assert result.returncode == 2 and "unknown instance type 'h100'" in result.stderr
    assert calls(emulator, "PostComputeClusters") == 0 and calls(emulator, "PostPipelineVersionRuns") == 0
