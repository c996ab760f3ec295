"""The graph IR: a ``networkx.MultiDiGraph`` of named nodes and audio edges, and its builder.

Nodes are string ids with attributes ``kind`` (a registered node kind), ``config`` (that
kind's frozen pydantic settings) and ``model`` (the loaded :class:`~namgraph.Model` of a
``model`` node, else None).

Edges carry audio from one node's output to one *input port* of another:

* ``port`` (int): the input port at the destination. Ports number a node's incoming edges
  0, 1, 2, ... and fix their order: the weights of a ``weighted_sum``, the channel order
  of a ``merge``, ``dry`` (0) / ``wet`` (1) of a ``mix``. Unless given, ``connect`` takes
  the next free port, so the order of ``connect`` calls is the order of the inputs.
* ``channel`` (int or None): set exactly on edges leaving a ``split`` node: the channel of
  the split's input the edge carries (a mono edge). None elsewhere.
* ``channels`` (int or None): a channel count the user declares for the edge; checked.

A MultiDiGraph because two edges between the same pair of nodes are legitimate (a ``mean``
of two copies of one branch: same source, ports 0 and 1). Fan-out is several edges from one
output; fan-in is several edges into one node, allowed only where the kind allows it.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING, Any, NamedTuple

import networkx as nx
import numpy as np

from ..errors import CalibrationError, DuplicateNodeError, FanInError, GraphError
from .nodes import KINDS, ModelNode, NodeConfig, aggregator_kinds, node_kind, parse_config

if TYPE_CHECKING:
    from ..model import Model
    from ..models.base import Params
    from .compiler import CompiledGraph

INPUT_LEVEL = "input_level_dbu"
# Node ids: what a file may carry and a picture or an error message can show unquoted.
NODE_ID_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")
OUTPUT_LEVEL = "output_level_dbu"


class Edge(NamedTuple):
    src: str
    dst: str
    port: int
    channel: int | None = None
    channels: int | None = None


@dataclass(frozen=True)
class NodeInfo:
    """One node as the user sees it."""

    id: str
    kind: str
    config: NodeConfig
    model: "Model | None" = None


class Graph:
    """A rig: nodes and audio edges, built with ``add`` and ``connect`` (or ``chain``/``parallel``).

    ``align_latency`` (default True) makes the compiler insert compensating delays where
    branches of different reported latency meet. A graph is plain data: it pickles, compares
    with ``==`` (same nodes, settings, models' weights and edges; not the path a model was
    loaded from) and prints its structure.

    ``metadata`` is the rig's own ``.nam`` metadata (name, author, levels), written to the
    file's envelope. ``file_fields`` keeps the other envelope fields of the file the graph
    was read or lowered from (``version``, ``sample_rate`` when the file had one, unknown
    keys), so writing it back reproduces that file; empty for a graph built in Python.
    Neither takes part in ``==`` (as for :class:`~namgraph.Model`).
    """

    def __init__(self, *, align_latency: bool = True, metadata: "dict[str, Any] | None" = None) -> None:
        self.align_latency = bool(align_latency)
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.file_fields: dict[str, Any] = {}
        self._g = nx.MultiDiGraph()
        self._version = 0
        self._compiled: dict[Any, "CompiledGraph"] = {}

    # ------------------------------------------------------------------ building

    def add(self, node_id: str, kind: str = "model", /, *, model: "Model | str | PathLike[str] | None" = None, **settings: Any) -> str:
        """Add a node; returns its id. ``model`` (a loaded Model or a ``.nam`` path) is for ``model`` nodes.

        ``settings`` are the kind's config fields, e.g. ``add("boost", "gain", db=6)``,
        ``add("blend", "mix", amount=0.3, law="equal_power")``, ``add("in", "input", channels=2)``.
        """
        if not isinstance(node_id, str) or not NODE_ID_PATTERN.fullmatch(node_id):
            raise GraphError(
                f"node ids are 1-64 characters of letters, digits, '_', '.' and '-' (not starting with '.' or '-'), got {node_id!r}"
            )
        if node_id in self._g:
            raise DuplicateNodeError(f"node id {node_id!r} is already used (by a {self._g.nodes[node_id]['kind']} node)", nodes=(node_id,))
        cls = node_kind(node_id, kind)
        if cls is ModelNode:
            if model is None:
                raise GraphError(f"model node {node_id!r} needs model= (a loaded Model or a .nam path)", nodes=(node_id,))
            model, path = _as_model(model)
            if path is not None and "path" not in settings:
                settings = {**settings, "path": path}
        elif model is not None:
            raise GraphError(f"{kind} node {node_id!r} does not take a model", nodes=(node_id,))
        config = parse_config(node_id, cls, settings)
        self._add_node(node_id, kind, config, model)
        return node_id

    def connect(
        self,
        *path: str,
        port: int | str | None = None,
        channel: int | None = None,
        channels: int | None = None,
        calibrate: bool = False,
    ) -> None:
        """Connect ``a -> b`` (or a path ``a -> b -> c ...``).

        ``port`` picks the input port of the last node (a name for ``mix``: ``"dry"`` or
        ``"wet"``); ``channel`` picks the channel when the first node is a ``split``;
        ``channels`` declares the edge's channel count (checked when compiling).
        ``calibrate=True`` (two model nodes) inserts a gain of the upstream model's
        ``output_level_dbu`` minus the downstream model's ``input_level_dbu``.
        """
        if len(path) < 2:
            raise GraphError(f"connect needs at least two node ids, got {list(path)}")
        for node in path:
            if node not in self._g:
                raise GraphError(f"connect: no node {node!r} in the graph (nodes: {', '.join(sorted(self._g)) or 'none'})", nodes=(node,))
        pairs = list(zip(path, path[1:]))
        for i, (src, dst) in enumerate(pairs):
            first, last = i == 0, i == len(pairs) - 1
            edge_channel = channel if first else None
            edge_port = port if last else None
            if calibrate:
                gain = self._calibration_gain(src, dst)
                gid = self._unique_id(f"{src}_to_{dst}_calibration")
                self._add_node(gid, "gain", KINDS["gain"].Config(db=gain), None)
                self._add_edge(src, gid, port=None, channel=edge_channel, channels=None)
                self._add_edge(gid, dst, port=edge_port, channel=None, channels=channels)
            else:
                self._add_edge(src, dst, port=edge_port, channel=edge_channel, channels=channels)

    # ------------------------------------------------------------------ reading

    @property
    def nodes(self) -> list[NodeInfo]:
        """Every node, sorted by id."""
        return [self.node(n) for n in sorted(self._g)]

    def node(self, node_id: str) -> NodeInfo:
        if node_id not in self._g:
            raise GraphError(f"no node {node_id!r} in the graph", nodes=(node_id,))
        data = self._g.nodes[node_id]
        return NodeInfo(node_id, data["kind"], data["config"], data["model"])

    @property
    def edges(self) -> list[Edge]:
        """Every edge, sorted (source, destination, port)."""
        return sorted(
            (Edge(u, v, d["port"], d["channel"], d["channels"]) for u, v, d in self._g.edges(data=True)),
            key=lambda e: (e.src, e.dst, e.port, -1 if e.channel is None else e.channel),
        )

    @property
    def inputs(self) -> list[str]:
        """Input node ids, in the order their channels enter the compiled function."""
        return sorted(n for n, d in self._g.nodes(data=True) if d["kind"] == "input")

    @property
    def outputs(self) -> list[str]:
        """Output node ids, in the order their channels leave the compiled function."""
        return sorted(n for n, d in self._g.nodes(data=True) if d["kind"] == "output")

    def to_networkx(self) -> nx.MultiDiGraph:
        """A copy of the underlying networkx graph (models shared, not copied)."""
        return self._g.copy()

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._g

    def __len__(self) -> int:
        return self._g.number_of_nodes()

    # ------------------------------------------------------------------ compiling and analysis

    def validate(self) -> None:
        """Raise the first problem found (a :class:`~namgraph.errors.GraphError` subclass naming the nodes)."""
        from .validation import check

        check(self)

    def compile(self, *, align_latency: bool | None = None) -> "CompiledGraph":
        """The graph as one architecture + params (a Model-like object); cached until the graph changes."""
        from .compiler import compile_graph

        align = self.align_latency if align_latency is None else bool(align_latency)
        key = (self._version, align)
        if key not in self._compiled:
            self._compiled = {key: compile_graph(self, align_latency=align)}
        return self._compiled[key]

    @property
    def params(self) -> "Params":
        """Every trainable value: ``{node id: params}`` for model nodes and gains, mixes, weighted sums."""
        return self.compile().params

    @property
    def sample_rate(self) -> float | None:
        return self.compile().sample_rate

    @property
    def in_channels(self) -> int:
        return sum(self._g.nodes[n]["config"].channels for n in self.inputs)

    @property
    def out_channels(self) -> int:
        return self.compile().architecture.out_channels

    def receptive_field(self) -> int:
        return self.compile().architecture.receptive_field()

    def latency(self) -> int:
        return self.compile().architecture.latency()

    def prewarm_samples(self) -> int:
        return self.compile().architecture.prewarm_samples()

    @property
    def num_params(self) -> int:
        return self.compile().num_weights

    def macs_per_sample(self) -> int:
        return self.compile().architecture.macs_per_sample()

    def with_params(self, params: "Params") -> "Graph":
        """A copy whose nodes hold ``params`` (e.g. fitted gains and weights): configs and models updated."""
        new = self.copy()
        for node_id, value in params.items():
            if node_id not in new._g:
                raise GraphError(f"params name node {node_id!r}, which is not in the graph", nodes=(node_id,))
            data = new._g.nodes[node_id]
            cls = KINDS[data["kind"]]
            if cls is ModelNode:
                data["model"] = data["model"].with_params(value)
            else:
                data["config"] = cls.config_with_params(node_id, data["config"], value)
        new._version += 1
        return new

    def render(self, audio: Any, **options: Any) -> np.ndarray:
        """``namgraph.render(self, audio, **options)``."""
        from ..rendering import render

        return render(self, audio, **options)

    # ------------------------------------------------------------------ Python protocol

    def copy(self) -> "Graph":
        new = Graph(align_latency=self.align_latency, metadata=copy.deepcopy(self.metadata))
        new.file_fields = copy.deepcopy(self.file_fields)
        new._g = self._g.copy()  # attribute dicts copied; configs (frozen) and models shared
        return new

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Graph):
            return NotImplemented
        if self.align_latency != other.align_latency or set(self._g) != set(other._g):
            return False
        for n in self._g:
            a, b = self._g.nodes[n], other._g.nodes[n]
            if a["kind"] != b["kind"] or _settings(a["config"]) != _settings(b["config"]):
                return False
            if (a["model"] is None) != (b["model"] is None) or (a["model"] is not None and a["model"] != b["model"]):
                return False
        return self.edges == other.edges

    __hash__ = None  # mutable

    def __getstate__(self) -> dict[str, Any]:
        return {"align_latency": self.align_latency, "graph": self._g, "metadata": self.metadata, "file_fields": self.file_fields}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.align_latency = state["align_latency"]
        self._g = state["graph"]
        self.metadata = state.get("metadata", {})
        self.file_fields = state.get("file_fields", {})
        self._version = 0
        self._compiled = {}

    def __repr__(self) -> str:
        lines = [f"Graph({len(self._g)} nodes, {self._g.number_of_edges()} edges{'' if self.align_latency else ', align_latency=False'})"]
        try:  # signal-flow order when there is one (a cyclic graph still prints)
            order = list(nx.lexicographical_topological_sort(self._g))
        except nx.NetworkXUnfeasible:
            order = sorted(self._g)
        rank = {n: i for i, n in enumerate(order)}
        width = max((len(n) for n in self._g), default=0)
        for node in order:
            lines.append(f"  {node:<{width}} : {_describe(self.node(node))}")
        for e in sorted(self.edges, key=lambda e: (rank[e.src], rank[e.dst], e.port)):
            src = e.src if e.channel is None else f"{e.src}[ch {e.channel}]"
            dst_kind = KINDS[self._g.nodes[e.dst]["kind"]]
            port = ""
            if dst_kind.port_names:
                port = f" ({dst_kind.port_names[e.port]})" if e.port < len(dst_kind.port_names) else f" (port {e.port})"
            elif dst_kind.max_inputs is None or dst_kind.max_inputs > 1:
                port = f" (port {e.port})"
            lines.append(f"  {src} -> {e.dst}{port}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ internals (also used by chain/parallel)

    def _add_node(self, node_id: str, kind: str, config: NodeConfig, model: "Model | None") -> None:
        if node_id in self._g:
            raise DuplicateNodeError(f"node id {node_id!r} is already used", nodes=(node_id,))
        self._g.add_node(node_id, kind=kind, config=config, model=model)
        self._version += 1

    def _add_edge(self, src: str, dst: str, *, port: int | str | None, channel: int | None, channels: int | None) -> None:
        src_kind = KINDS[self._g.nodes[src]["kind"]]
        dst_kind = KINDS[self._g.nodes[dst]["kind"]]
        if src_kind.splits_channels:
            if channel is None:
                raise GraphError(f"an edge from split node {src!r} must name its channel: connect({src!r}, {dst!r}, channel=0)", nodes=(src, dst))
            if isinstance(channel, bool) or not isinstance(channel, int | np.integer) or channel < 0:
                raise GraphError(f"channel of edge {src} -> {dst} must be a channel index >= 0, got {channel!r}", nodes=(src, dst))
            channel = int(channel)
        elif channel is not None:
            raise GraphError(
                f"edge {src} -> {dst}: channel= is only for edges leaving a split node ({src!r} is a {src_kind.kind} node)",
                nodes=(src, dst),
            )
        if channels is not None and (isinstance(channels, bool) or not isinstance(channels, int) or channels < 1):
            raise GraphError(f"edge {src} -> {dst}: channels must be a positive int, got {channels!r}", nodes=(src, dst))
        port = self._resolve_port(src, dst, dst_kind, port)
        self._g.add_edge(src, dst, port=port, channel=channel, channels=channels)
        self._version += 1

    def _resolve_port(self, src: str, dst: str, dst_kind: type, port: int | str | None) -> int:
        used = {d["port"]: u for u, _, d in self._g.in_edges(dst, data=True)}
        limit = dst_kind.max_inputs
        if limit is not None and len(used) >= limit:
            raise fan_in_error(dst, dst_kind, [*used.values(), src])
        if dst_kind.port_names:
            if port is None:
                names = " or ".join(f"port={n!r}" for n in dst_kind.port_names)
                raise FanInError(f"an edge into {dst_kind.kind} node {dst!r} must say which input it is: {names}", nodes=(src, dst))
            if isinstance(port, str):
                if port not in dst_kind.port_names:
                    raise FanInError(f"{dst_kind.kind} node {dst!r} has ports {list(dst_kind.port_names)}, not {port!r}", nodes=(dst,))
                port = dst_kind.port_names.index(port)
        elif isinstance(port, str):
            raise FanInError(f"{dst_kind.kind} node {dst!r} has no named ports; give port as an int", nodes=(dst,))
        if port is None:
            port = max(used, default=-1) + 1
        if isinstance(port, bool) or not isinstance(port, int | np.integer) or port < 0:
            raise FanInError(f"port of edge {src} -> {dst} must be an int >= 0, got {port!r}", nodes=(src, dst))
        port = int(port)
        if port in used:
            raise FanInError(f"port {port} of node {dst!r} is already fed by {used[port]!r}", nodes=(used[port], src, dst))
        return port

    def _unique_id(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.\-]+", "_", base).strip("_.-")[:56] or "node"
        if base not in self._g:
            return base
        i = 2
        while f"{base}_{i}" in self._g:
            i += 1
        return f"{base}_{i}"

    def _calibration_gain(self, src: str, dst: str) -> float:
        """Upstream output level minus downstream input level, in dB (both model nodes)."""
        a, b = self._g.nodes[src], self._g.nodes[dst]
        for node, data in ((src, a), (dst, b)):
            if data["kind"] != "model":
                raise CalibrationError(f"calibrated chaining joins two model nodes; {node!r} is a {data['kind']} node", nodes=(src, dst))
        out_level = level(a["model"], OUTPUT_LEVEL)
        in_level = level(b["model"], INPUT_LEVEL)
        missing = [f"{n!r} has no metadata.{key}" for n, key, v in ((src, OUTPUT_LEVEL, out_level), (dst, INPUT_LEVEL, in_level)) if v is None]
        if missing:
            raise CalibrationError(f"cannot calibrate {src} -> {dst}: {'; '.join(missing)}", nodes=(src, dst))
        return out_level - in_level


def _settings(config: NodeConfig) -> dict[str, Any]:
    """What ``==`` compares of a node's config: everything but where a model was loaded from."""
    return {k: v for k, v in config.model_dump().items() if k != "path"}


def level(model: "Model", key: str) -> float | None:
    """A model's ``metadata[key]`` as a float, or None when absent, null or not a number."""
    value = (model.metadata or {}).get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def fan_in_error(node: str, kind: type, sources: Iterable[str]) -> FanInError:
    sources = list(sources)
    if kind.max_inputs == 0:
        return FanInError(f"{kind.kind} node {node!r} takes no input, but {', '.join(map(repr, sources))} feed it", nodes=(node, *sources))
    return FanInError(
        f"{kind.kind} node {node!r} takes {kind.max_inputs} input(s) but is fed by {', '.join(map(repr, sources))}; "
        f"add an aggregator ({', '.join(aggregator_kinds())}) to blend them, or merge to stack their channels",
        nodes=(node, *sources),
    )


def _as_model(model: "Model | str | PathLike[str]") -> tuple["Model", str | None]:
    if isinstance(model, str | PathLike):
        from ..loading import load

        return load(model), os.fspath(model)
    if hasattr(model, "architecture") and hasattr(model, "params"):
        return model, None
    raise GraphError(f"model= takes a loaded Model or a .nam path, not {type(model).__name__}")


def _describe(info: NodeInfo) -> str:
    settings = info.config.model_dump(exclude_defaults=True)
    if info.kind == "model":
        model = info.model
        name = model.architecture.name
        src = f" {os.path.basename(model.source)!r}" if getattr(model, "source", None) else ""
        extra = "".join(f", {k}={v!r}" for k, v in settings.items() if k != "path")
        return f"model({name}{src}, {model.in_channels}->{model.out_channels} ch{extra})"
    return f"{info.kind}({', '.join(f'{k}={v!r}' for k, v in settings.items())})"

