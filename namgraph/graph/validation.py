"""Whole-graph validation: everything that must hold before a graph compiles.

Checks run in an order where each may rely on the ones before it (a node cut off from
the inputs is reported as such, not as "missing an input"; channel inference needs every
node's inputs to be well formed), and each error
names the nodes involved. The result also carries what the compiler needs: the
deterministic topological order and every node's output channel count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx

from ..errors import CycleError, FanInError, GraphChannelError, GraphError, GraphSampleRateError, UnreachableNodeError
from .ir import fan_in_error
from .nodes import KINDS

if TYPE_CHECKING:
    from .ir import Edge, Graph


@dataclass(frozen=True)
class Checked:
    order: tuple[str, ...]  # topological, ties broken by node id
    inputs: dict[str, tuple["Edge", ...]]  # each node's incoming edges in port order
    channels: dict[str, int]  # each node's output channel count
    sample_rate: float | None  # the models' common rate (None when no model states one)


def check(graph: "Graph") -> Checked:
    g = graph._g
    _check_endpoints(graph)
    _check_acyclic(g)
    _check_reachable(graph)
    inputs = _check_fan_in(graph)
    order = tuple(nx.lexicographical_topological_sort(g))
    channels = _infer_channels(graph, order, inputs)
    return Checked(order, inputs, channels, _check_sample_rates(graph))


def edge_channels(edge: "Edge", channels: dict[str, int]) -> int:
    """Channels an edge carries: one for a split's outgoing edge, else its source's output count."""
    return 1 if edge.channel is not None else channels[edge.src]


def _check_endpoints(graph: "Graph") -> None:
    missing = [kind for kind, ids in (("input", graph.inputs), ("output", graph.outputs)) if not ids]
    if missing:
        raise GraphError(f"the graph has no {' and no '.join(missing)} node; add one with add(id, {missing[0]!r})")


def _check_acyclic(g: nx.MultiDiGraph) -> None:
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return
    path = [edge[0] for edge in cycle] + [cycle[0][0]]
    raise CycleError(f"the graph has a cycle: {' -> '.join(path)} (audio cannot feed back into itself)", nodes=tuple(path[:-1]))


def _check_fan_in(graph: "Graph") -> dict[str, tuple["Edge", ...]]:
    g = graph._g
    incoming: dict[str, list] = {n: [] for n in g}
    for edge in graph.edges:
        incoming[edge.dst].append(edge)
    result = {}
    for node in sorted(g):
        cls = KINDS[g.nodes[node]["kind"]]
        edges = sorted(incoming[node], key=lambda e: e.port)
        sources = [e.src for e in edges]
        if cls.max_inputs is not None and len(edges) > cls.max_inputs:
            raise fan_in_error(node, cls, sources)
        if len(edges) < cls.min_inputs:
            need = " and ".join(f"{n!r}" for n in cls.port_names) if cls.port_names else f"at least {cls.min_inputs}"
            raise FanInError(
                f"{cls.kind} node {node!r} needs {need} input(s) but has {len(edges)}"
                + (f" (from {', '.join(map(repr, sources))})" if sources else ""),
                nodes=(node, *sources),
            )
        ports = [e.port for e in edges]
        if ports != list(range(len(edges))):
            raise FanInError(f"node {node!r}'s input ports are {ports}; they must be 0..{len(edges) - 1} with none repeated", nodes=(node,))
        if cls.kind == "output":
            fed = [v for _, v in g.out_edges(node)]
            if fed:
                raise FanInError(f"output node {node!r} feeds {', '.join(map(repr, fed))}; an output ends the graph", nodes=(node, *fed))
        result[node] = tuple(edges)
    return result


def _check_reachable(graph: "Graph") -> None:
    g = graph._g
    from_input = set(graph.inputs).union(*(nx.descendants(g, n) for n in graph.inputs))
    to_output = set(graph.outputs).union(*(nx.ancestors(g, n) for n in graph.outputs))
    cut_off = sorted(set(g) - from_input)
    if cut_off:
        raise UnreachableNodeError(f"not reachable from any input node: {', '.join(map(repr, cut_off))}", nodes=tuple(cut_off))
    dead = sorted(set(g) - to_output)
    if dead:
        raise UnreachableNodeError(f"do(es) not reach any output node: {', '.join(map(repr, dead))}", nodes=tuple(dead))


def _infer_channels(graph: "Graph", order: tuple[str, ...], inputs: dict[str, tuple["Edge", ...]]) -> dict[str, int]:
    g = graph._g
    channels: dict[str, int] = {}
    for node in order:
        data = g.nodes[node]
        cls = KINDS[data["kind"]]
        counts = []
        for edge in inputs[node]:
            if edge.channel is not None and edge.channel >= channels[edge.src]:
                raise GraphChannelError(
                    f"edge {edge.src} -> {node} takes channel {edge.channel} of split node {edge.src!r}, "
                    f"which has {channels[edge.src]} channel(s) (0..{channels[edge.src] - 1})",
                    nodes=(edge.src, node),
                )
            carried = edge_channels(edge, channels)
            if edge.channels is not None and edge.channels != carried:
                raise GraphChannelError(
                    f"edge {edge.src} -> {node} is declared with {edge.channels} channel(s) but carries {carried}",
                    nodes=(edge.src, node),
                )
            counts.append(carried)
        channels[node] = cls.output_channels(node, data["config"], counts, data["model"])
    return channels


def _check_sample_rates(graph: "Graph") -> float | None:
    first: tuple[str, float] | None = None
    for node in sorted(graph._g):
        model = graph._g.nodes[node]["model"]
        rate = None if model is None else model.sample_rate
        if rate is None:
            continue
        if first is None:
            first = (node, float(rate))
        elif float(rate) != first[1]:
            raise GraphSampleRateError(
                f"sample rates disagree: model node {first[0]!r} is {first[1]:g} Hz but model node {node!r} is {float(rate):g} Hz; "
                "every model of a graph must run at one rate",
                nodes=(first[0], node),
            )
    return None if first is None else first[1]
