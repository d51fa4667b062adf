"""Where a Clarifai run is placed: the compute cluster and nodepool, got or created from an instance type the way
``clarifai pipeline run --instance`` does it (``_ensure_pipeline_compute`` in ``clarifai/cli/pipeline.py`` and
``clarifai/utils/compute_presets.py`` of Clarifai/clarifai-python, 12.5).

- **Instance type** (:func:`resolve_instance`): the platform's whole catalog (``ListCloudProviders`` →
  ``ListCloudRegions`` → ``ListInstanceTypes``; a listing that fails is skipped with a warning), sorted by cloud,
  accelerator count (most first) and id; an exact id match first, then a GPU name (``A10G``, ``gpu-nvidia-a10g``)
  found in an id or an accelerator type; the SDK's four offline presets last. As in ``clarifai pipeline run``,
  ``--cloud``/``--region`` do not narrow this search: they name the cluster.
- **Ids** (:func:`cluster_id`, :func:`nodepool_id`): ``deploy-cc-<cloud>-<region>`` and
  ``deploy-np-<instance type id with anything but [A-Za-z0-9_-] as "-", runs of "-" collapsed>``; cloud and region
  default to the instance type's own.
- **Get or create** (:func:`ensure`): ``GetComputeCluster``/``PostComputeClusters`` and ``GetNodepool``/
  ``PostNodepools`` with the SDK's auto-create settings (a dedicated, Clarifai-managed cluster; a nodepool of 0 to 5
  on-demand instances). A create that fails because another job created the same id meanwhile is found by the
  next get: two jobs racing both end with the one cluster and nodepool.

A dry run (:func:`plan`) reads only: it says which of the two exist and what would be created.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...errors import PlatformError, UsageError

# clarifai/utils/compute_presets.py FALLBACK_GPU_PRESETS: (instance type id, cloud, region, compute info)
FALLBACK_PRESETS: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "CPU": ("t3a.2xlarge", "aws", "us-east-1", {"cpu_limit": "4", "cpu_memory": "16Gi", "num_accelerators": 0,
                                                "accelerator_type": [], "accelerator_memory": ""}),
    "A10G": ("gpu-nvidia-a10g", "aws", "us-east-1", {"cpu_limit": "4", "cpu_memory": "16Gi", "num_accelerators": 1,
                                                     "accelerator_type": ["NVIDIA-A10G"], "accelerator_memory": "24Gi"}),
    "L40S": ("gpu-nvidia-l40s", "aws", "us-east-1", {"cpu_limit": "8", "cpu_memory": "32Gi", "num_accelerators": 1,
                                                     "accelerator_type": ["NVIDIA-L40S"], "accelerator_memory": "48Gi"}),
    "G6E": ("gpu-nvidia-g6e-2x-large", "aws", "us-east-1", {"cpu_limit": "16", "cpu_memory": "64Gi",
                                                            "num_accelerators": 2, "accelerator_type": ["NVIDIA-L40S"],
                                                            "accelerator_memory": "48Gi"}),
}


class ComputeError(PlatformError):
    """The compute could not be resolved or created (exit 3; 2 when the instance type is unknown)."""


@dataclass(frozen=True)
class InstanceType:
    id: str
    cloud: str
    region: str
    compute_info: dict[str, Any] = field(default_factory=dict)
    source: str = "catalog"  # "catalog" (the platform's) or "offline preset"


@dataclass
class ComputePlan:
    """The cluster and nodepool a run goes to, and (once looked up) whether each exists."""

    cluster_id: str
    nodepool_id: str
    instance: InstanceType | None = None  # None: ids given, nothing to create
    cloud: str = ""  # of a cluster to create: the given one, else the instance type's
    region: str = ""
    cluster_exists: bool | None = None  # None: not looked up (no credentials, or ids given)
    nodepool_exists: bool | None = None

    def describe(self) -> list[str]:
        where = f"compute cluster {self.cluster_id}, nodepool {self.nodepool_id}"
        if self.instance is None:
            return [f"compute: {where}"]
        lines = [f"compute: {where} (instance type {self.instance.id} on {self.instance.cloud}/{self.instance.region}, "
                 f"from the {self.instance.source})"]
        for what, exists in (("compute cluster", self.cluster_exists), ("nodepool", self.nodepool_exists)):
            name = self.cluster_id if what == "compute cluster" else self.nodepool_id
            state = {True: "exists", False: "will be created", None: "not checked (no credentials)"}[exists]
            lines.append(f"  {what} {name}: {state}")
        return lines


def cluster_id(cloud: str, region: str) -> str:
    return f"deploy-cc-{cloud}-{region}"


def nodepool_id(instance_type_id: str) -> str:
    return "deploy-np-" + re.sub(r"-{2,}", "-", re.sub(r"[^a-zA-Z0-9_-]", "-", instance_type_id))


def _offline(name: str) -> InstanceType | None:
    wanted = name.upper()
    for key, (type_id, cloud, region, info) in FALLBACK_PRESETS.items():
        if wanted == key or name.lower() == type_id.lower():
            return InstanceType(type_id, cloud, region, dict(info), "offline preset")
    return None


def _normalized(name: str) -> str:
    lower = name.strip().lower()
    for prefix in ("gpu-nvidia-", "gpu-"):
        if lower.startswith(prefix):
            return name.strip()[len(prefix):].upper()
    return name.strip().upper()


def _pick(name: str, types: list[Any]) -> Any | None:
    """The SDK's matching over a sorted list of InstanceType protos: exact id, then GPU name in id or accelerator."""
    for item in types:
        if item.id.lower() == name.lower():
            return item
    gpu = _normalized(name)
    for item in types:
        if gpu in item.id.upper() or any(gpu in kind.upper() for kind in item.compute_info.accelerator_type):
            return item
    return None


def resolve_instance(client: Any | None, name: str, warn: Callable[[str], None] | None = None) -> InstanceType:
    """The instance type ``name`` stands for (see the module docstring); ``client`` None: the offline presets only.
    Like ``clarifai pipeline run``, the whole catalog is searched: ``--cloud``/``--region`` name the cluster only."""
    types = _catalog(client, warn) if client is not None else []
    if types:
        types.sort(key=lambda t: (t.cloud_provider.id, -t.compute_info.num_accelerators, t.id))
        found = _pick(name, types)
        if found is not None:
            info = {"cpu_limit": found.compute_info.cpu_limit or "4", "cpu_memory": found.compute_info.cpu_memory or "16Gi",
                    "num_accelerators": found.compute_info.num_accelerators,
                    "accelerator_type": list(found.compute_info.accelerator_type),
                    "accelerator_memory": found.compute_info.accelerator_memory or ""}
            return InstanceType(found.id, found.cloud_provider.id, found.region, info)
    preset = _offline(name)
    if preset is None:
        known = ", ".join(sorted({t.id for t in types} | set(FALLBACK_PRESETS))) or "none"
        raise UsageError(f"unknown instance type {name!r}", hint=f"known here: {known}")
    return preset


def _catalog(client: Any, warn: Callable[[str], None] | None) -> list[Any]:
    """Every instance type of every cloud and region. Like the SDK, a cloud or region whose listing fails is
    skipped (one warning each); a rejected PAT still stops everything (the client raises)."""
    from clarifai_grpc.grpc.api import resources_pb2, service_pb2

    from . import status
    from .api import ApiError

    def listed(method: str, request: Any, field_name: str) -> list[Any]:
        try:
            response = client.call(method, request)
        except ApiError as exc:
            if exc.kind == "auth":
                raise
            problem = exc.message
        else:
            if response.status.code == status.SUCCESS:
                return list(getattr(response, field_name))
            problem = f"{method}: {response.status.description or response.status.code}"
        if warn is not None:
            warn(f"{problem}; skipped")
        return []

    out: list[Any] = []
    for provider in listed("ListCloudProviders", service_pb2.ListCloudProvidersRequest(), "cloud_providers"):
        request = service_pb2.ListCloudRegionsRequest(cloud_provider=resources_pb2.CloudProvider(id=provider.id))
        for region in listed("ListCloudRegions", request, "cloud_regions"):
            out += listed("ListInstanceTypes", service_pb2.ListInstanceTypesRequest(
                cloud_provider=resources_pb2.CloudProvider(id=provider.id), region=region.id), "instance_types")
    return out


def plan(client: Any | None, user_id: str, instance: str, cloud: str | None = None, region: str | None = None,
         cluster: str | None = None, nodepool: str | None = None,
         warn: Callable[[str], None] | None = None) -> ComputePlan:
    """The compute for ``instance`` and whether it exists (read-only). ``client`` None (a dry run without
    credentials): nothing is looked up; a name no offline preset knows is taken as the instance type id."""
    try:
        found = resolve_instance(client, instance, warn)
    except UsageError:
        if client is not None:
            raise
        found = InstanceType(instance, cloud or "aws", region or "us-east-1", {}, "name as given (not checked)")
    cloud, region = cloud or found.cloud, region or found.region
    result = ComputePlan(cluster or cluster_id(cloud, region), nodepool or nodepool_id(found.id), found, cloud, region)
    if client is not None:
        result.cluster_exists = _exists(client, "GetComputeCluster", user_id, result)
        result.nodepool_exists = result.cluster_exists and _exists(client, "GetNodepool", user_id, result)
    return result


def _exists(client: Any, method: str, user_id: str, compute: ComputePlan) -> bool:
    from clarifai_grpc.grpc.api import resources_pb2, service_pb2

    ids = resources_pb2.UserAppIDSet(user_id=user_id)
    if method == "GetComputeCluster":
        request: Any = service_pb2.GetComputeClusterRequest(user_app_id=ids, compute_cluster_id=compute.cluster_id)
    else:
        request = service_pb2.GetNodepoolRequest(user_app_id=ids, compute_cluster_id=compute.cluster_id,
                                                 nodepool_id=compute.nodepool_id)
    from . import status

    response = client.call(method, request)
    code = response.status.code
    if code == status.SUCCESS:
        return True
    if code in (status.COMPUTE_CLUSTER_DOES_NOT_EXIST, status.NODEPOOL_DOES_NOT_EXIST, status.CONN_DOES_NOT_EXIST):
        return False
    raise ComputeError(f"{method}: {response.status.description or code}")


def ensure(client: Any, user_id: str, compute: ComputePlan, out: Any) -> ComputePlan:
    """Create what :func:`plan` found missing (cluster first); a create that loses a race is found by a get."""
    from clarifai_grpc.grpc.api import resources_pb2, service_pb2

    assert compute.instance is not None
    found = compute.instance
    ids = resources_pb2.UserAppIDSet(user_id=user_id)
    cloud, region = compute.cloud, compute.region
    if not compute.cluster_exists:
        cluster = resources_pb2.ComputeCluster(
            id=compute.cluster_id, description=f"Auto-created compute cluster for {cloud}/{region}",
            cloud_provider=resources_pb2.CloudProvider(id=cloud), region=region, managed_by="clarifai",
            cluster_type="dedicated")
        _create(client, "PostComputeClusters", "GetComputeCluster", user_id, compute,
                service_pb2.PostComputeClustersRequest(user_app_id=ids, compute_clusters=[cluster]), out)
        compute.cluster_exists = True
    if not compute.nodepool_exists:
        info = found.compute_info
        kind = resources_pb2.InstanceType(id=found.id, compute_info=resources_pb2.ComputeInfo(
            cpu_limit=str(info.get("cpu_limit", "")), cpu_memory=str(info.get("cpu_memory", "")),
            num_accelerators=int(info.get("num_accelerators") or 0),
            accelerator_type=[str(k) for k in info.get("accelerator_type") or []],
            accelerator_memory=str(info.get("accelerator_memory", ""))))
        nodepool = resources_pb2.Nodepool(
            id=compute.nodepool_id, description=f"Auto-created nodepool for {found.id}",
            compute_cluster=resources_pb2.ComputeCluster(id=compute.cluster_id, user_id=user_id), instance_types=[kind],
            node_capacity_type=resources_pb2.NodeCapacityType(capacity_types=[1]), min_instances=0, max_instances=5)
        _create(client, "PostNodepools", "GetNodepool", user_id, compute,
                service_pb2.PostNodepoolsRequest(user_app_id=ids, compute_cluster_id=compute.cluster_id,
                                                 nodepools=[nodepool]), out)
        compute.nodepool_exists = True
    return compute


def _create(client: Any, post: str, get: str, user_id: str, compute: ComputePlan, request: Any, out: Any) -> None:
    what = "compute cluster " + compute.cluster_id if post == "PostComputeClusters" else "nodepool " + compute.nodepool_id
    from . import status

    response = client.call(post, request)
    if response.status.code == status.SUCCESS:
        out(f"  created {what}")
        return
    if _exists(client, get, user_id, compute):  # another job created it meanwhile
        out(f"  {what} was created by another job meanwhile; using it")
        return
    raise ComputeError(f"could not create {what}: {response.status.description} {response.status.details}".strip())
