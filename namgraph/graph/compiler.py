"""Graph -> one architecture: validate, order, align latencies, and run the nodes' steps in order.

The result, :class:`GraphArchitecture`, is an ordinary :class:`~namgraph.models.base.Architecture`
(frozen, hashable, no weights), so everything built for single models works on a whole
rig unchanged: the engine's prewarm and chunked scan, ``namgraph.render`` (layouts, dual
mono, vmapped batches), jit caching (one compile per graph *shape*: changing a gain or a
weight never recompiles), streaming and ``jax.grad``.

Its params are a dict keyed by node id holding every model's weights (the model's own
pytree) and every trainable node value (``{"db": ...}``, ``{"amount": ...}``,
``{"weights": ...}``); nodes without trainable values have no entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp

from ..format.layout import TensorSpec
from ..model import ArchitectureFacts
from ..models.base import Architecture, Array, Params, RenderOptions, State
from .nodes import KINDS, Delay, ModelNode, NodeKind, Output
from .validation import check, edge_channels

if TYPE_CHECKING:
    from .ir import Graph

DEFAULT_CHUNK = 2048
ALIGN_PREFIX = "align:"  # runtime ids of compensating delays: "align:<node>:<port>" (never params keys)


@dataclass(frozen=True)
class GraphArchitecture(Architecture):
    """Nodes in topological order, each fed by ``wires``: ``(source index, channel or -1)`` per input port.

    ``keys[i]`` is the node id whose params node ``i`` uses (None: it has none). The
    compiled function's input is the input nodes' channels stacked in ``inputs`` order,
    its output the output nodes' channels stacked in ``outputs`` order.
    """

    ids: tuple[str, ...]
    ops: tuple[NodeKind, ...]
    wires: tuple[tuple[tuple[int, int], ...], ...]
    keys: tuple[str | None, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    name = "Graph"

    @classmethod
    def build(cls, config: Any, sample_rate: float | None, children: tuple[Architecture, ...]) -> "GraphArchitecture":
        raise TypeError("a GraphArchitecture is compiled from a namgraph.Graph (graph.compile()), not read from a model config")

    # ------------------------------------------------------------------ shape

    @property
    def in_channels(self) -> int:
        return sum(self.ops[i].channels for i in self.inputs)

    @property
    def out_channels(self) -> int:
        return sum(self.ops[i].channels for i in self.outputs)

    def _longest(self, cost: Any) -> int:
        """Largest sum of ``cost(op)`` along any input-to-output path."""
        best: list[int] = []
        for op, wires in zip(self.ops, self.wires):
            best.append(cost(op) + max((best[src] for src, _ in wires), default=0))
        return max(best[i] for i in self.outputs)

    def receptive_field(self) -> int:
        return 1 + self._longest(lambda op: op.receptive_field() - 1)

    def prewarm_samples(self) -> int:
        """The longest input-to-output path of prewarm counts (a chain: the sum, as Core's Sequential)."""
        return self._longest(lambda op: op.prewarm_samples())

    def latency(self) -> int:
        """Reported processing latency at the outputs (the longest path of node latencies)."""
        return self._longest(lambda op: op.latency())

    def macs_per_sample(self) -> int:
        return sum(op.macs_per_sample() for op in self.ops)

    def tensors(self) -> list[TensorSpec]:
        return []

    def preferred_chunk(self) -> int:
        chunks = [c for op in self.ops if (c := op.preferred_chunk()) is not None]
        return min(chunks, default=DEFAULT_CHUNK)

    def configure(self, options: RenderOptions) -> "GraphArchitecture":
        return replace(self, ops=tuple(op.configure(options) for op in self.ops))

    # ------------------------------------------------------------------ computation

    def _own(self, params: Params, i: int) -> Params:
        key = self.keys[i]
        return {} if key is None else params[key]

    def prepare(self, params: Params) -> Params:
        """A tuple, one prepared entry per node (in order)."""
        return tuple(op.prepare(self._own(params, i)) for i, op in enumerate(self.ops))

    def initial_state(self, params: Params) -> State:
        return tuple(op.initial_state(self._own(params, i)) for i, op in enumerate(self.ops))

    def has_finite_memory(self) -> bool:
        """False when any model node remembers forever (an LSTM): then no time-split render."""
        return all(op.arch.has_finite_memory() for op in self.ops if isinstance(op, ModelNode))

    def _evaluate(self, x: Array, run: Callable[[int, NodeKind, list[Array]], tuple[Any, Array]]) -> tuple[list[Any], Array]:
        """Run ``run(index, op, inputs) -> (result, output)`` on every node in order, wiring each
        node's inputs from the graph input ``x`` or earlier outputs; return the results and
        the graph's output."""
        starts = {}
        offset = 0
        for i in self.inputs:
            starts[i] = offset
            offset += self.ops[i].channels
        values: list[Array] = []
        results = []
        for i, (op, wires) in enumerate(zip(self.ops, self.wires)):
            if i in starts:
                feeds = [x[starts[i] : starts[i] + op.channels]]
            else:
                feeds = [values[src] if ch < 0 else values[src][ch : ch + 1] for src, ch in wires]
            result, y = run(i, op, feeds)
            values.append(y)
            results.append(result)
        outs = [values[i] for i in self.outputs]
        return results, outs[0] if len(outs) == 1 else jnp.concatenate(outs, axis=0)

    def step(self, params: Params, state: State, x: Array) -> tuple[State, Array]:
        """Time-major: every node on this block, in order (streaming, prewarm)."""
        new_state, y = self._evaluate(x, lambda i, op, feeds: op.step(params[i], state[i], feeds))
        return tuple(new_state), y

    def render_signal(self, params: Params, state: State, x: Array) -> Array:
        """Node-major: each node over the whole signal in turn, a model at its own chunk size.

        Measured: a WaveNet amp feeding two 2048-tap cabs costs the sum of its nodes this
        way, while one time-major scan at the WaveNet's 1024-sample chunk made the cabs' FFTs
        ~3x dearer per sample than at their own ~14k chunk. Intermediate signals are whole
        (XLA frees each after its last reader).
        """
        _, y = self._evaluate(x, lambda i, op, feeds: (None, _render_node(op, params[i], state[i], feeds)))
        return y


def _render_node(op: NodeKind, params: Params, state: State, feeds: list[Array]) -> Array:
    """A model renders the signal at its own chunk size; the other kinds cost a few operations
    per sample (or are a delay line), cheapest as one block the length of the signal."""
    if isinstance(op, ModelNode):
        return op.arch.render_signal(params, state, feeds[0])
    return op.step(params, state, feeds)[1]


@dataclass(frozen=True, eq=False)
class CompiledGraph(ArchitectureFacts):
    """A graph ready to run: what :class:`~namgraph.Model` is to a ``.nam`` file (architecture + params + rate)."""

    architecture: GraphArchitecture
    params: Params
    _: KW_ONLY
    sample_rate: float | None = None
    graph: "Graph | None" = None
    source: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        arch = self.architecture
        rate = "unknown rate" if self.sample_rate is None else f"{self.sample_rate:g} Hz"
        return (
            f"CompiledGraph({len(arch.ops)} nodes, {arch.in_channels}->{arch.out_channels} ch, {rate}, "
            f"{self.num_weights} params, rf={arch.receptive_field()}, latency={arch.latency()})"
        )


def compile_graph(graph: "Graph", *, align_latency: bool = True) -> CompiledGraph:
    """Validate ``graph`` and lower it to a :class:`CompiledGraph` (deterministic for equal graphs)."""
    checked = check(graph)
    g = graph._g
    ids: list[str] = []
    ops: list[NodeKind] = []
    wires: list[tuple[tuple[int, int], ...]] = []
    keys: list[str | None] = []
    params: dict[str, Params] = {}
    index: dict[str, int] = {}
    arrival: dict[str, int] = {}  # reported latency at each node's output

    def emit(node_id: str, op: NodeKind, node_wires: list[tuple[int, int]], key: str | None) -> int:
        ids.append(node_id)
        ops.append(op)
        wires.append(tuple(node_wires))
        keys.append(key)
        return len(ops) - 1

    # Outputs are sinks: running them last keeps the order topological and lets them be aligned
    # with each other (every output's source has arrived by then).
    outputs = [n for n in checked.order if g.nodes[n]["kind"] == Output.kind]
    for node in [n for n in checked.order if n not in outputs] + outputs:
        data = g.nodes[node]
        cls = KINDS[data["kind"]]
        edges = checked.inputs[node]
        counts = [edge_channels(e, checked.channels) for e in edges]
        op = cls.create(data["config"], counts, data["model"])
        lags = [arrival[e.src] for e in edges]
        target = max(lags, default=0)
        if cls.kind == Output.kind and align_latency:  # outputs leave together: align them too
            target = max(arrival[checked.inputs[o][0].src] for o in outputs)
        node_wires = []
        for edge, count, lag in zip(edges, counts, lags):
            wire = (index[edge.src], -1 if edge.channel is None else edge.channel)
            if align_latency and lag < target:
                wire = (emit(f"{ALIGN_PREFIX}{node}:{edge.port}", Delay(count, target - lag), [wire], None), -1)
            node_wires.append(wire)
        own = cls.initial_params(data["config"], data["model"])
        key = node if _has_leaves(own) else None
        if key is not None:
            params[node] = own
        index[node] = emit(node, op, node_wires, key)
        arrival[node] = (target if align_latency else max(lags, default=0)) + op.latency()
    arch = GraphArchitecture(
        tuple(ids),
        tuple(ops),
        tuple(wires),
        tuple(keys),
        tuple(index[n] for n in graph.inputs),
        tuple(index[n] for n in graph.outputs),
    )
    return CompiledGraph(arch, params, sample_rate=checked.sample_rate, graph=graph)


def _has_leaves(tree: Params) -> bool:
    return bool(jax.tree_util.tree_leaves(tree))
