"""Exact rewrites: a rig graph as a chain of models, each linear time-invariant region folded into one IR.

A graph raises to a chain when its *opaque* nodes (every model that is not a Linear with as
many outputs as inputs: amps, pedals, containers) all lie on every input-to-output path,
i.e. they dominate the output. Between two consecutive opaque nodes (and before the
first and after the last) the graph is then a region of linear time-invariant (LTI)
nodes (``gain``, ``polarity``, ``delay``, ``sum``, ``mean``, ``weighted_sum``, ``mix``,
Linear models, the compiler's compensating delays), which is exactly one FIR filter plus
a constant. A region that is a plain series of Linear models is kept as it is; any other
is folded into one Linear, computed here in float64:

* each node maps its inputs' impulse responses ``h`` (from the region's entry) to its own:
  a gain scales, a delay shifts, an aggregator adds with its coefficients, a Linear
  convolves with its taps;
* a bias is carried as a second response ``d``, the first difference of the region's
  output for a silent entry. A Linear adds ``bias·δ`` to it, everything else maps it like
  ``h``. Core's Linear starts from zero history, so a bias that then passes through a
  filter or a delay *ramps in*; one IR can only start its bias at once. The fold is exact
  iff ``d`` is a single impulse (``d[k] = 0`` for ``k ≥ 1``), and its bias is ``d[0]``
  (the steady-state rule ``(g, c)∘(h, b) = (g*h, c + b·Σg)`` when nothing has memory).

The fold works on the compiled graph (:meth:`namgraph.Graph.compile`), so it sees exactly
what a render runs: the coefficients come from each node's own ``prepare`` (dB to gain,
mix laws), and the compensating delays of latency alignment are folded like any delay.
Every LTI node prewarms nothing (as Core's Linear), so the graph's start-up (the longest
path of prewarm counts) equals the chain's (the sum of its children's): both feed the same
zeros through the same opaque models, and an LTI region started from zero state is its
folded IR started from zero state. See ``design/converters.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from namgraph.errors import NotRaisableError
from namgraph.graph import Graph
from namgraph.graph.compiler import ALIGN_PREFIX
from namgraph.graph.nodes import Delay, Gain, Input, Mean, Merge, Mix, ModelNode, NodeKind, Output, Polarity, Split, Sum, WeightedSum
from namgraph.loading import load
from namgraph.model import Model
from namgraph.models.linear import Linear

__all__ = ["Link", "as_chain", "LINEAR_VERSION"]

LINEAR_VERSION = "0.7.0"  # file version of folded IRs (what the trainer writes)
_LTI_KINDS = "gain, polarity, delay, sum, mean, weighted_sum, mix and Linear models"
_DIRECT_CONV_LIMIT = 1 << 22  # multiply-adds above which float64 FFT convolution is used


@dataclass(frozen=True)
class Link:
    """One model of the chain: a graph node kept as it is, or a region folded into one Linear."""

    model: Model
    node: str | None = None  # the graph node kept (None: a folded region)
    folded: tuple[str, ...] = ()  # the graph nodes folded into ``model``

    @property
    def name(self) -> str:
        return self.node if self.node is not None else "+".join(self.folded) or "identity"


@dataclass(frozen=True)
class _Response:
    """An LTI node's output for the region's entry signal x: ``h * x`` plus the bias response ``d``."""

    h: np.ndarray  # impulse response from the entry, float64
    d: np.ndarray  # first difference of the output for a silent entry, float64

    def scaled(self, factor: float) -> "_Response":
        return _Response(self.h * factor, self.d * factor)


_IDENTITY = _Response(np.ones(1), np.zeros(1))


def as_chain(graph: Graph) -> list[Link]:
    """``graph`` as models in series (each LTI region folded into one Linear), or a
    :class:`~namgraph.errors.NotRaisableError` naming the nodes that prevent it and why.

    A region that is empty, or folds to exactly the identity, adds nothing; a region that
    is Linear models in series keeps those models (no needless rewrite: a plain chain of
    model nodes raises to exactly its own models). A graph that is the identity as a
    whole gives one identity Linear (a chain needs a model).
    """
    compiled = graph.compile()  # validates the graph
    arch, params = compiled.architecture, compiled.params
    _check_kinds(graph, arch)
    _check_opaque_on_every_path(graph, arch)
    links: list[Link] = []
    responses: dict[int, _Response] = {}
    region: list[int] = []
    entry = arch.inputs[0]
    for i, op in enumerate(arch.ops):
        if i == entry:
            continue
        own = {} if arch.keys[i] is None else params[arch.keys[i]]
        rule = _lti_rule(op)
        if rule is not None:
            inputs = [responses.get(src, _IDENTITY) for src, _ in arch.wires[i]]
            responses[i] = rule(op, own, inputs)
            region.append(i)
            continue
        ((src, _),) = arch.wires[i]  # an opaque node or the output: one input (validated)
        if region:
            links.extend(_fold(graph, compiled, region, responses[src], _out_channels(arch.ops[entry])))
        if not isinstance(op, Output):
            links.append(Link(graph.node(arch.ids[i]).model, node=arch.ids[i]))
        entry, region = i, []
    if not links:
        identity = _linear_model(np.ones(1, np.float32), None, _out_channels(arch.ops[arch.inputs[0]]), compiled.sample_rate)
        links.append(Link(identity))
    return links


# ----------------------------------------------------------------------------- what can be raised


def _check_kinds(graph: Graph, arch: Any) -> None:
    """One input and one output; no channel routing; only models and LTI nodes."""
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        ends = [*graph.inputs, *graph.outputs]
        raise NotRaisableError(
            f"cannot raise to a chain: the graph has {len(graph.inputs)} input node(s) {graph.inputs} and "
            f"{len(graph.outputs)} output node(s) {graph.outputs}; a Sequential (or a single model) has exactly one "
            "input and one output. Keep it as a DAG file, or stack the channels with merge before one output node",
            nodes=ends,
        )
    routing = [node for node, op in zip(arch.ids, arch.ops) if isinstance(op, Split | Merge)]
    if routing:
        raise NotRaisableError(
            f"cannot raise to a chain: split/merge node(s) {', '.join(map(repr, routing))} route channels separately, "
            "and every model of a Sequential processes all its channels together. Keep this rig as a DAG file",
            nodes=routing,
        )
    for node, op in zip(arch.ids, arch.ops):
        if _lti_rule(op) is None and not isinstance(op, Input | Output | ModelNode):
            raise NotRaisableError(
                f"cannot raise to a chain: node {node!r} (a {type(op).kind} node) is neither a model nor a linear "
                f"time-invariant node ({_LTI_KINDS}), so no .nam model can hold it. Keep this rig as a DAG file",
                nodes=(node,),
            )


def _check_opaque_on_every_path(graph: Graph, arch: Any) -> None:
    """Every non-LTI model must dominate the output: on every input-to-output path."""
    start, end = graph.inputs[0], graph.outputs[0]
    simple = nx.DiGraph(graph.to_networkx())
    idom = nx.immediate_dominators(simple, start)
    on_every_path = {end}
    node = end
    while node != start:
        node = idom[node]
        on_every_path.add(node)
    blocking = sorted(n for n, op in zip(arch.ids, arch.ops) if isinstance(op, ModelNode) and _lti_rule(op) is None and n not in on_every_path)
    if blocking:
        raise NotRaisableError(
            f"cannot raise to a chain: model node(s) {', '.join(map(repr, blocking))} are not on every path from "
            f"{start!r} to {end!r} (they sit on parallel branches). Only linear time-invariant parts ({_LTI_KINDS} "
            "with as many outputs as inputs) can be folded into one IR; nonlinear models must follow one another "
            "in series. Keep this rig as a DAG file",
            nodes=blocking,
        )


# ----------------------------------------------------------------------------- the LTI algebra


def _lti_rule(op: NodeKind) -> Callable[[Any, Any, list[_Response]], _Response] | None:
    """How ``op`` maps its inputs' responses, or None when it is not LTI (opaque)."""
    if isinstance(op, ModelNode):
        a = op.arch
        return _linear if isinstance(a, Linear) and a.in_channels == a.out_channels else None
    return _RULES.get(type(op))


def _linear(op: ModelNode, params: Any, inputs: list[_Response]) -> _Response:
    (x,) = inputs
    ir = np.asarray(params["ir"], np.float64)
    d = _convolve(x.d, ir)
    if op.arch.config.bias:
        d[0] += float(np.asarray(params["bias"], np.float64).reshape(-1)[0])
    return _Response(_convolve(x.h, ir), _compact(d))


def _gain(op: Gain, params: Any, inputs: list[_Response]) -> _Response:
    return inputs[0].scaled(float(np.asarray(op.prepare(params), np.float64)))


def _polarity(op: Polarity, params: Any, inputs: list[_Response]) -> _Response:
    return inputs[0].scaled(-1.0 if op.invert else 1.0)


def _delay(op: Delay, params: Any, inputs: list[_Response]) -> _Response:
    (x,) = inputs
    shift = np.zeros(op.samples)
    return _Response(np.concatenate([shift, x.h]), _compact(np.concatenate([shift, x.d])))


def _weighted(inputs: list[_Response], weights: Any) -> _Response:
    weights = np.asarray(weights, np.float64).reshape(-1)
    return _Response(_add([w * x.h for w, x in zip(weights, inputs)]), _compact(_add([w * x.d for w, x in zip(weights, inputs)])))


def _sum(op: Sum, params: Any, inputs: list[_Response]) -> _Response:
    return _weighted(inputs, np.ones(len(inputs)))


def _mean(op: Mean, params: Any, inputs: list[_Response]) -> _Response:
    return _weighted(inputs, np.full(len(inputs), 1.0 / len(inputs)))


def _prepared_weights(op: WeightedSum | Mix, params: Any, inputs: list[_Response]) -> _Response:
    return _weighted(inputs, op.prepare(params))  # weighted_sum: its weights; mix: (dry, wet) of its law


_RULES: dict[type, Callable[[Any, Any, list[_Response]], _Response]] = {
    Gain: _gain,
    Polarity: _polarity,
    Delay: _delay,
    Sum: _sum,
    Mean: _mean,
    WeightedSum: _prepared_weights,
    Mix: _prepared_weights,
}


def _add(arrays: list[np.ndarray]) -> np.ndarray:
    out = np.zeros(max(a.size for a in arrays))
    for a in arrays:
        out[: a.size] += a
    return out


def _compact(d: np.ndarray) -> np.ndarray:
    """A bias response that is all zeros stays one sample long (it never sets the IR's length)."""
    return d if d.any() else np.zeros(1)


def _convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.size * b.size <= _DIRECT_CONV_LIMIT:
        return np.convolve(a, b)
    n = a.size + b.size - 1
    size = 1 << (n - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(a, size) * np.fft.rfft(b, size), size)[:n]


# ----------------------------------------------------------------------------- folding a region


def _fold(graph: Graph, compiled: Any, region: list[int], response: _Response, channels: int) -> list[Link]:
    """The links of one LTI region: its Linear models as they are when it is a plain series
    of them (no rewrite needed), else one folded Linear (none when that is the identity)."""
    arch = compiled.architecture
    nodes = tuple(arch.ids[i] for i in region if not arch.ids[i].startswith(ALIGN_PREFIX))
    if all(isinstance(arch.ops[i], ModelNode) for i in region):  # model nodes take one input: a path
        return [Link(graph.node(node).model, node=node) for node in nodes]
    biased = [arch.ids[i] for i in region if isinstance(arch.ops[i], ModelNode) and arch.ops[i].arch.config.bias]
    if np.any(response.d[1:]):
        raise NotRaisableError(
            f"cannot fold {', '.join(map(repr, nodes))} into one IR: the bias of Linear node(s) "
            f"{', '.join(map(repr, biased))} then passes through a filter or a delay, so the graph's output ramps the "
            "bias in while that filter's history fills from zeros, and a single IR applies its bias at once. "
            "Remove the bias, or move the biased model after the filters",
            nodes=biased,
        )
    taps = response.h.astype(np.float32)
    bias = np.float32(response.d[0]) if biased else None
    if not np.all(np.isfinite(taps)) or (bias is not None and not np.isfinite(bias)):
        raise NotRaisableError(
            f"cannot fold {', '.join(map(repr, nodes))} into one IR: its taps overflow float32 (gains too large)",
            nodes=nodes,
        )
    if bias is None and taps.size == 1 and taps[0] == 1.0:
        return []  # exactly the identity: nothing to add
    return [Link(_linear_model(taps, bias, channels, compiled.sample_rate), folded=nodes)]


def _linear_model(taps: np.ndarray, bias: np.float32 | None, channels: int, sample_rate: float | None) -> Model:
    """A Linear ``.nam`` model (validated by the loader like any file)."""
    config: dict[str, Any] = {"receptive_field": int(taps.size), "bias": bias is not None}
    if channels != 1:
        config |= {"in_channels": channels, "out_channels": channels}
    weights = [float(t) for t in taps] + ([] if bias is None else [float(bias)])
    doc: dict[str, Any] = {"version": LINEAR_VERSION, "architecture": "Linear", "config": config, "weights": weights}
    if sample_rate is not None:
        doc["sample_rate"] = int(sample_rate) if float(sample_rate).is_integer() else float(sample_rate)
    return load(doc)


def _out_channels(op: NodeKind) -> int:
    """Channels leaving a region's entry: the graph input or an opaque model."""
    return op.arch.out_channels if isinstance(op, ModelNode) else op.channels
