"""Lineage: dataset versions -> runs -> model versions -> deployments, walked both ways."""

from __future__ import annotations

from dataclasses import dataclass

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.data import service as data
from loopwise.registry import service as registry
from loopwise.registry.models import ModelVersion
from loopwise.tracking import service as tracking


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # dataset_version, run, model_version, deployment
    label: str
    detail: str = ""


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    relation: str  # used_by (role), produced, deployed_as


@dataclass(frozen=True)
class Lineage:
    root: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


class _Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []

    def node(self, node: Node) -> None:
        self.nodes.setdefault(node.id, node)

    def edge(self, source: str, target: str, relation: str) -> None:
        e = Edge(source, target, relation)
        if e not in self.edges:
            self.edges.append(e)

    def done(self, root: str) -> Lineage:
        return Lineage(root, tuple(self.nodes.values()), tuple(self.edges))


def _run_nodes(ctx: Context, graph: _Graph, run_ids: list[str]) -> None:
    for run in tracking.runs_by_ids(ctx, run_ids):
        graph.node(Node(run.id, "run", run.name, f"{run.status.value} in {run.experiment_name}"))


def _version_node(graph: _Graph, v: ModelVersion) -> str:
    node_id = v.id
    graph.node(Node(node_id, "model_version", f"{v.model} v{v.version}", v.stage.value))
    return node_id


def from_dataset_version(ctx: Context, version_id: str) -> Lineage:
    """Everything built on a dataset version: runs, model versions, deployments."""
    dsv = data.get_version(ctx, version_id)
    graph = _Graph()
    graph.node(
        Node(dsv.id, "dataset_version", f"{dsv.dataset} v{dsv.version}", dsv.content_hash[:19])
    )
    uses = data.runs_using(ctx, version_id)
    _run_nodes(ctx, graph, [u.run_id for u in uses])
    for u in uses:
        graph.edge(dsv.id, u.run_id, f"used as {u.role.value}")
    versions = registry.versions_of_runs(ctx, [u.run_id for u in uses])
    for v in versions:
        graph.edge(v.run_id or "", _version_node(graph, v), "produced")
    for d in registry.deployments_of_versions(ctx, [v.id for v in versions]):
        graph.node(Node(d.id, "deployment", f"{d.environment} {d.traffic_share:.0%}", d.outcome))
        source = next(v.id for v in versions if v.model == d.model and v.version == d.version)
        graph.edge(source, d.id, "deployed as")
    return graph.done(dsv.id)


def from_deployment(ctx: Context, deployment_id: str) -> Lineage:
    """Where a deployment came from: model version, run, and the data the run used."""
    deployment, version = registry.deployment_source(ctx, deployment_id)
    graph = _Graph()
    graph.node(
        Node(
            deployment.id,
            "deployment",
            f"{deployment.environment} {deployment.traffic_share:.0%}",
            deployment.outcome,
        )
    )
    graph.edge(_version_node(graph, version), deployment.id, "deployed as")
    if version.run_id:
        tracking.run_project_id(ctx, version.run_id, Role.VIEWER)
        _run_nodes(ctx, graph, [version.run_id])
        graph.edge(version.run_id, version.id, "produced")
        for used in data.datasets_of_runs(ctx, [version.run_id]):
            graph.node(Node(used.version_id, "dataset_version", f"{used.dataset} v{used.version}"))
            graph.edge(used.version_id, version.run_id, f"used as {used.role.value}")
    return graph.done(deployment.id)
