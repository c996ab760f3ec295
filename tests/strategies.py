"""Hypothesis strategies for namgraph's property tests, reusable by anyone extending namgraph.

Everything drawn here is valid by construction (graphs are built through the public API:
``chain``, ``parallel``, ``Graph.add``/``connect``), so a property that fails points at the
code under test, not at the generator. ``design/testing.md`` lists the properties built on
these strategies and how to replay a failure.

**Cost model.** A new graph *shape* costs one XLA compile (0.2–3 s); new weights, gains,
mix amounts and input samples cost nothing (they are params, not part of the shape). So:
models come from a small pool of tiny architectures (one per kind, fresh weights drawn as a
seed), audio is short (any length up to one engine chunk reuses a compile), block sizes
come from a short menu, and properties that need many examples on few shapes draw from
:func:`pooled_rigs`. Every model runs at :data:`RATE` Hz, low enough that an LSTM's
start-up (half a second of samples) stays short.

Models
    ``POOL``: name -> :class:`PoolEntry` (document builder, Core's prewarm count worked out
    by hand from the format spec, channels, whether it is a bias-free Linear).
    ``pool_doc(name, seed)`` / ``pool_model(name, seed)``: one entry's document / loaded
    model (cached). ``model_seeds(names)``: a strategy of ``(name, seed)``;
    ``models(names)``: of loaded models; ``sequential_docs()``: of Sequential documents
    (nested Sequentials and containers among the children, optional metadata).
Graphs (one input and one output node each)
    ``parts(depth)``: mono in, mono out: chains, fan-outs, nested parallels with every
    blend (``mean``, ``sum``, weights), ``mix`` with both laws, stereo detours through
    ``merge`` / ``split`` (stereo edges, channel swaps and fan-out), declared model
    latencies (compensating delays), models of every architecture, gain, polarity, delay.
    ``rigs(depth)``: a part, or a stereo rig (2 channels in and out).
    ``lti_parts(depth)``: parts of LTI nodes only (fold to one Linear).
    ``raisable_rigs()``: opaque models in series with LTI regions between them, a region
    possibly ending in a biased Linear (raise exactly to a Sequential). ``pooled_rigs()``: a
    fixed handful of rigs covering every node kind (built once; for properties whose cost is
    per shape, e.g. streaming block sizes).
Signals and schedules
    ``audio(channels)``: bounded noise of 64–512 samples. ``partitions()``: block sizes from
    :data:`BLOCK_SIZES` (each a compile of the streaming step; the signal is their sum).
Graph transforms
    ``relabelings(graph)``: a bijection of node ids onto other valid ids (input and output
    ids keep their relative order, which fixes channel order); ``relabel(graph, mapping)``.
    ``topological_orders(graph)``: any valid topological order of the node ids.
Helpers
    ``embed(parent, part, feed)`` copies a part into a graph under construction;
    ``examples(n)`` scales a test's example count with the active profile;
    ``fast_compiles`` (a module fixture) turns XLA's optimisation passes off;
    ``peak_error(got, want)``: max abs difference over the reference's peak (at least 1).

Use: ``@examples(6)`` then ``@given(rigs(), audio())``; in a composite, ``draw(parts(1))``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jax
import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

import namgraph
from namgraph.format.configs import CONFIG_TYPES
from namgraph.format.layout import convnet_tensors, linear_tensors, lstm_tensors, pack, wavenet_tensors
from namgraph.graph import Graph, chain, delay, gain, parallel, polarity
from namgraph.graph.ir import NODE_ID_PATTERN
from namgraph.model import Model

# Hz, shared by every pool model. An LSTM prewarms floor(0.5 * RATE) = 512 samples: exactly
# eight of Core's 64-sample prewarm blocks, so any further count in a chain adds a block and
# a wrong prewarm sum shows in the output.
RATE = 1024
CI_EXAMPLES = 25  # the ci profile's max_examples (tests/conftest.py): the unit of examples()
BLOCK_SIZES = (1, 13, 64)  # streaming block sizes: one compile each per rig shape
CORE_BLOCK = 64  # Core's render tool prewarms in blocks of this size


def fast_compiles() -> Any:
    """Generator for a module-scoped autouse fixture: tiny graphs compile several times faster
    without XLA's optimisation passes, which save nothing at these sizes."""
    old = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", old)


def examples(n: int) -> settings:
    """``n`` examples under the ci profile, scaled by the active profile (dev 2x, thorough 10x)."""
    scale = settings().max_examples / CI_EXAMPLES
    return settings(max_examples=max(1, round(n * scale)))


def peak_error(got: Any, want: Any) -> float:
    """Max abs difference relative to the reference's peak (absolute below a peak of 1)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    if not want.size:
        return 0.0
    return float(np.max(np.abs(got - want))) / max(1.0, float(np.max(np.abs(want))))


# ----------------------------------------------------------------------------- models


def _tensor_values(tensors: list, rng: np.random.Generator, scale: float) -> dict[str, np.ndarray]:
    """Random finite weights scaled by fan-in, so a few models in series stay bounded."""
    out = {}
    for t in tensors:
        if t.name.endswith("running_var"):
            value = rng.uniform(0.5, 1.5, t.shape)
        elif t.name.endswith("eps"):
            value = np.full(t.shape, 1e-3)
        elif t.name == "head_scale":
            value = np.full(t.shape, 0.5)
        else:
            fan_in = int(np.prod(t.shape[1:])) if len(t.shape) > 1 else int(t.shape[0])
            value = scale * rng.standard_normal(t.shape) / math.sqrt(fan_in)
        out[t.name] = value.astype(np.float32)
    return out


def _leaf(architecture: str, config: dict[str, Any], seed: int, *, tweak: Callable[[dict], None] | None = None, scale: float = 0.8) -> dict[str, Any]:
    tensors_of = {"Linear": linear_tensors, "ConvNet": convnet_tensors, "LSTM": lstm_tensors, "WaveNet": wavenet_tensors}[architecture]
    tensors = tensors_of(CONFIG_TYPES[architecture].model_validate(config))
    values = _tensor_values(tensors, np.random.default_rng(seed), scale)
    if tweak is not None:
        tweak(values)
    doc: dict[str, Any] = {"version": "0.7.0", "architecture": architecture, "config": copy.deepcopy(config)}
    doc["weights"] = [float(w) for w in pack(tensors, values)]
    doc["sample_rate"] = RATE
    return doc


def _wrapper(architecture: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"version": "0.7.0", "architecture": architecture, "config": config, "weights": [], "sample_rate": RATE}


def _slow_lstm(values: dict[str, np.ndarray]) -> None:
    """Forget gates near 1 (a time constant of ~1000 samples), input gates near 0 and a
    stored cell of 1.5: the cell decays slowly towards a small value without saturating
    tanh, so it is far from settled after the prewarm and one 64-sample block more or less
    of start-up changes the output by ~1% (measured: 0.25-2.4% of the peak over 8 seeds;
    with open input gates the cell saturated and settled within 512 samples, hiding it)."""
    h = values["layers.0.c0"].shape[0]
    values["layers.0.b"][:h] = -7.0  # gate order i, f, g, o
    values["layers.0.b"][h : 2 * h] = 7.0
    values["layers.0.c0"][:] = 1.5


_WAVENET = {
    "layers": [{"input_size": 1, "condition_size": 1, "head_size": 1, "channels": 2, "kernel_size": 2,
                "dilations": [1, 2], "activation": "Tanh", "gated": True, "head_bias": True}],
    "head_scale": 0.5,
}
_CONDITION = {
    "layers": [{"input_size": 1, "condition_size": 1, "head_size": 1, "channels": 2, "kernel_size": 2,
                "dilations": [1], "activation": "Tanh", "gated": False, "head_bias": False}],
    "head_scale": 0.5,
}
# A2 features: per-layer kernel sizes, gating modes and activations, bottleneck, layer1x1,
# head1x1, FiLMs, a layer-array head with kernel and dilation, a post-stack head, and a
# condition_dsp. Core's prewarm = condition_dsp's (1 + 1) + Σ d(K-1) (1·2 + 2·0) + head
# d_h(K_h - 1) (2·1) + post head Σ(k - 1) (1) = 7.
_WAVENET_A2 = {
    "layers": [{
        "input_size": 1, "condition_size": 1, "channels": 4, "bottleneck": 2, "kernel_sizes": [3, 1], "dilations": [1, 2],
        "activation": ["SiLU", "Tanh"], "gating_mode": ["blended", "gated"], "secondary_activation": ["Sigmoid", "Tanh"],
        "layer1x1": {"active": True, "groups": 1}, "head1x1": {"active": True, "out_channels": 2, "groups": 1},
        "conv_pre_film": {"active": True, "shift": True, "groups": 1},
        "head": {"out_channels": 2, "kernel_size": 2, "bias": True, "head_dilation": 2},
    }],
    "head": {"channels": 2, "out_channels": 1, "kernel_sizes": [2], "activation": "Tanh"},
    "head_scale": 0.5,
}


def _wavenet_a2(seed: int) -> dict[str, Any]:
    doc = _leaf("WaveNet", _WAVENET_A2, seed)
    doc["config"]["condition_dsp"] = _leaf("WaveNet", _CONDITION, seed + 1)
    return doc


@dataclass(frozen=True)
class PoolEntry:
    build: Callable[[int], dict[str, Any]]  # seed -> document
    prewarm: int  # Core's GetPrewarmSamples(), from the spec's table (not from namgraph)
    channels: int = 1  # in = out
    lti: bool = False  # a bias-free Linear: an exact rewrite can fold it


POOL: dict[str, PoolEntry] = {
    "ir3": PoolEntry(lambda s: _leaf("Linear", {"receptive_field": 3, "bias": False}, s), 0, lti=True),
    "ir24": PoolEntry(lambda s: _leaf("Linear", {"receptive_field": 24, "bias": False}, s), 0, lti=True),  # FFT path (>= 16 taps)
    "ir_bias": PoolEntry(lambda s: _leaf("Linear", {"receptive_field": 4, "bias": True}, s), 0),
    "convnet": PoolEntry(lambda s: _leaf("ConvNet", {"channels": 2, "dilations": [1, 2], "batchnorm": True, "activation": "Tanh"}, s), 1 + 1 + 2),
    "lstm": PoolEntry(lambda s: _leaf("LSTM", {"input_size": 1, "hidden_size": 2, "num_layers": 1}, s, tweak=_slow_lstm), RATE // 2),
    "wavenet": PoolEntry(lambda s: _leaf("WaveNet", _WAVENET, s), 1 + 1 + 2),
    "wavenet_a2": PoolEntry(_wavenet_a2, 7),
    # SlimmableContainer at Core's default size (the full model): the last submodel's count.
    "slimmable": PoolEntry(lambda s: _wrapper("SlimmableContainer", {"submodels": [
        {"max_value": 0.5, "model": POOL["ir3"].build(s)}, {"max_value": 1.0, "model": POOL["wavenet"].build(s + 1)}]}), 4),
    # Sequential(ir3, Sequential(convnet, ir24)): the sum of its children's counts.
    "sequential": PoolEntry(lambda s: _wrapper("Sequential", {"models": [
        POOL["ir3"].build(s), _wrapper("Sequential", {"models": [POOL["convnet"].build(s + 1), POOL["ir24"].build(s + 2)]})]}), 4),
    "ir_stereo": PoolEntry(lambda s: _leaf("Linear", {"receptive_field": 5, "bias": False, "in_channels": 2, "out_channels": 2}, s), 0, 2),
    "convnet_stereo": PoolEntry(lambda s: _leaf("ConvNet", {"channels": 2, "dilations": [2], "batchnorm": False, "activation": "Tanh",
                                                          "in_channels": 2, "out_channels": 2}, s), 1 + 2, 2),
}
MONO = tuple(n for n, e in POOL.items() if e.channels == 1)
STEREO = tuple(n for n, e in POOL.items() if e.channels == 2)
OPAQUE = tuple(n for n in MONO if not POOL[n].lti and n != "ir_bias")  # nonlinear: stay whole when raising
LTI = tuple(n for n in MONO if POOL[n].lti)
SEEDS = st.integers(0, 2**16)


def pool_doc(name: str, seed: int = 0) -> dict[str, Any]:
    """The document of pool entry ``name`` with weights drawn from ``seed`` (a fresh copy)."""
    return POOL[name].build(seed)


@lru_cache(maxsize=1024)
def pool_model(name: str, seed: int = 0) -> Model:
    """The loaded model (cached: equal architectures share every compile)."""
    return namgraph.load(pool_doc(name, seed))


def model_seeds(names: Sequence[str] = MONO) -> st.SearchStrategy[tuple[str, int]]:
    return st.tuples(st.sampled_from(list(names)), SEEDS)


def models(names: Sequence[str] = MONO) -> st.SearchStrategy[Model]:
    return model_seeds(names).map(lambda p: pool_model(*p))


@st.composite
def sequential_docs(draw: st.DrawFn, names: Sequence[str] = MONO, max_children: int = 3) -> tuple[dict[str, Any], int]:
    """``(document, prewarm)``: a Sequential of 1..max_children pool models (containers among
    them, and half the time a run of them in a nested Sequential; children and wrapper
    optionally carry metadata) and Core's prewarm count for it, the sum of the children's
    (from :data:`POOL`, not from namgraph). Half of them hold an LSTM (512 samples, eight
    whole blocks): any other child's count then adds a block, and its output shows a wrong
    count."""
    chosen = draw(st.lists(model_seeds(names), min_size=1, max_size=max_children))
    if "lstm" in names and draw(st.booleans()):
        chosen = chosen[: max_children - 1]
        chosen.insert(draw(st.integers(0, len(chosen))), ("lstm", draw(SEEDS)))
    children, prewarm = [], 0
    for name, seed in chosen:
        doc = pool_doc(name, seed)
        if draw(st.booleans()):
            doc["metadata"] = {"name": draw(st.sampled_from(["Amp", "My Cab!", "in", "pedal 2"]))}
        children.append(doc)
        prewarm += POOL[name].prewarm
    if len(children) > 1 and draw(st.booleans()):  # a run of children in a nested Sequential (same start-up)
        i = draw(st.integers(0, len(children) - 2))
        j = draw(st.integers(i + 2, len(children)))
        children[i:j] = [_wrapper("Sequential", {"models": children[i:j]})]
    doc = _wrapper("Sequential", {"models": children})
    if draw(st.booleans()):
        doc["metadata"] = {"name": "rig", "modeled_by": "hypothesis"}
    return doc, prewarm


# ----------------------------------------------------------------------------- building graphs


def _fresh_id(graph: Graph, base: str) -> str:
    if base not in graph:
        return base
    i = 2
    while f"{base}_{i}" in graph:
        i += 1
    return f"{base}_{i}"


def _settings(info: Any) -> dict[str, Any]:
    return info.config.model_dump()


Feed = tuple[str, int | None]  # (node id, channel when the node is a split, else None)


def embed(parent: Graph, part: Graph, feed: Feed) -> Feed:
    """Copy ``part`` (one input, one output) into ``parent``, fed from ``feed``; return what
    feeds ``part``'s output. Public API only: ``add`` and ``connect``."""
    (p_in,) = part.inputs
    (p_out,) = part.outputs
    rename = {}
    for info in part.nodes:
        if info.id in (p_in, p_out):
            continue
        rename[info.id] = _fresh_id(parent, info.id)
        parent.add(rename[info.id], info.kind, model=info.model, **_settings(info))
    tail: Feed | None = None
    for e in part.edges:
        src = feed if e.src == p_in else (rename[e.src], e.channel)
        if e.dst == p_out:
            tail = src
            continue
        parent.connect(src[0], rename[e.dst], port=e.port, channel=src[1], channels=e.channels)
    assert tail is not None
    return tail


def _wrap(build: Callable[[Graph, Feed], Feed], channels: int = 1) -> Graph:
    """A graph ``in -> build(...) -> out``."""
    g = Graph()
    g.add("in", "input", channels=channels)
    tail = build(g, ("in", None))
    g.add("out", "output")
    g.connect(tail[0], "out", channel=tail[1])
    return g


def _model_part(name: str, seed: int, latency: int) -> Graph:
    model = pool_model(name, seed)
    if not latency:
        return chain(model)

    def build(g: Graph, feed: Feed) -> Feed:
        node = g.add(name, "model", model=model, latency=latency)
        g.connect(feed[0], node, channel=feed[1])
        return (node, None)

    return _wrap(build, POOL[name].channels)


def model_parts(names: Sequence[str] = MONO, latencies: Sequence[int] = (0, 0, 0, 2, 5)) -> st.SearchStrategy[Graph]:
    """One pool model as a part, sometimes declaring a latency (aligned at fan-in)."""
    return st.builds(_model_part, st.sampled_from(list(names)), SEEDS, st.sampled_from(list(latencies)))


DB = st.floats(-12.0, 12.0, allow_nan=False)
EFFECTS = st.one_of(
    st.builds(gain, DB),
    st.builds(delay, st.integers(0, 6)),
    st.builds(polarity, st.booleans()),
)


def _blend(draw: st.DrawFn, n: int) -> str | list[float]:
    kind = draw(st.sampled_from(["mean", "sum", "weights"]))
    return [draw(st.floats(-2.0, 2.0)) for _ in range(n)] if kind == "weights" else kind


@st.composite
def _chains(draw: st.DrawFn, sub: st.SearchStrategy[Graph]) -> Graph:
    return chain(*draw(st.lists(sub, min_size=2, max_size=3)))


@st.composite
def _parallels(draw: st.DrawFn, sub: st.SearchStrategy[Graph]) -> Graph:
    branches = draw(st.lists(sub, min_size=2, max_size=3))
    return parallel(*branches, mix=_blend(draw, len(branches)))


@st.composite
def _mixes(draw: st.DrawFn, sub: st.SearchStrategy[Graph]) -> Graph:
    """A dry/wet ``mix`` (either law) of two parts; the dry side may be the plain input."""
    dry = draw(st.none() | sub)
    wet = draw(sub)
    amount, law = draw(st.floats(0.0, 1.0)), draw(st.sampled_from(["linear", "equal_power"]))

    def build(g: Graph, feed: Feed) -> Feed:
        d = feed if dry is None else embed(g, dry, feed)
        w = embed(g, wet, feed)
        m = g.add(_fresh_id(g, "mix"), "mix", amount=amount, law=law)
        g.connect(d[0], m, port="dry", channel=d[1])
        g.connect(w[0], m, port="wet", channel=w[1])
        return (m, None)

    return _wrap(build)


def _stereo_middle(draw: st.DrawFn, g: Graph, feed: Feed) -> Feed:
    """Zero to two stereo nodes: a stereo model, or a 2-channel gain, delay or polarity."""
    for _ in range(draw(st.integers(0, 2))):
        choice = draw(st.sampled_from(["model", "gain", "delay", "polarity"]))
        if choice == "model":
            name = draw(st.sampled_from(list(STEREO)))
            node = g.add(_fresh_id(g, name), "model", model=pool_model(name, draw(SEEDS)))
        elif choice == "gain":
            node = g.add(_fresh_id(g, "gain"), "gain", db=draw(DB))
        elif choice == "delay":
            node = g.add(_fresh_id(g, "delay"), "delay", samples=draw(st.integers(0, 4)))
        else:
            node = g.add(_fresh_id(g, "polarity"), "polarity", invert=draw(st.booleans()))
        g.connect(feed[0], node, channel=feed[1])
        feed = (node, None)
    return feed


def _join(draw: st.DrawFn, g: Graph, feeds: list[Feed]) -> Feed:
    """Blend mono feeds with a random aggregator (sum, mean, weighted_sum, or mix for two)."""
    kinds = ["sum", "mean", "weighted_sum"] + (["mix"] if len(feeds) == 2 else [])
    kind = draw(st.sampled_from(kinds))
    settings_: dict[str, Any] = {}
    if kind == "weighted_sum":
        settings_ = {"weights": [draw(st.floats(-2.0, 2.0)) for _ in feeds]}
    elif kind == "mix":
        settings_ = {"amount": draw(st.floats(0.0, 1.0)), "law": draw(st.sampled_from(["linear", "equal_power"]))}
    node = g.add(_fresh_id(g, kind), kind, **settings_)
    for port, (src, channel) in enumerate(feeds):
        g.connect(src, node, port=port, channel=channel)
    return (node, None)


def _split_picks(draw: st.DrawFn, split: str) -> list[Feed]:
    """Mono feeds taken from a 2-channel split: both channels (maybe swapped) or one channel twice."""
    picks = draw(st.sampled_from([[0, 1], [1, 0], [0, 0], [1, 1], [0, 1, 1]]))
    return [(split, c) for c in picks]


@st.composite
def _stereo_detours(draw: st.DrawFn, sub: st.SearchStrategy[Graph]) -> Graph:
    """Mono -> ``merge`` of two parts (a stereo edge) -> stereo nodes -> ``split`` -> blend -> mono."""
    left, right = draw(sub), draw(sub)

    def build(g: Graph, feed: Feed) -> Feed:
        a, b = embed(g, left, feed), embed(g, right, feed)
        merge = g.add(_fresh_id(g, "merge"), "merge")
        g.connect(a[0], merge, port=0, channel=a[1])
        g.connect(b[0], merge, port=1, channel=b[1])
        mid = _stereo_middle(draw, g, (merge, None))
        split = g.add(_fresh_id(g, "split"), "split")
        g.connect(mid[0], split, channel=mid[1])
        return _join(draw, g, _split_picks(draw, split))

    return _wrap(build)


def _leaves(names: Sequence[str], latencies: Sequence[int] = (0, 0, 0, 2, 5)) -> st.SearchStrategy[Graph]:
    """A one-node part: a model a third of the time (models dominate compile time), else a
    gain, delay or polarity."""
    return st.integers(0, 2).flatmap(lambda i: model_parts(names, latencies) if i == 0 else EFFECTS)


@lru_cache(maxsize=None)
def parts(depth: int = 2, names: tuple[str, ...] = MONO) -> st.SearchStrategy[Graph]:
    """Mono-in, mono-out graphs: a composition (chain, parallel, mix or stereo detour) whose
    members are single nodes or, up to ``depth`` levels, compositions themselves."""
    leaf = _leaves(names)
    if depth <= 0:
        return leaf
    sub = leaf if depth == 1 else st.one_of(leaf, parts(depth - 1, names))
    return st.one_of(_chains(sub), _parallels(sub), _mixes(sub), _stereo_detours(sub))


@st.composite
def _stereo_rigs(draw: st.DrawFn, depth: int) -> Graph:
    """2 channels in -> ``split`` -> a part per channel -> ``merge`` -> stereo nodes -> 2 channels out."""
    left, right = draw(parts(depth)), draw(parts(depth))
    swap = draw(st.booleans())

    def build(g: Graph, feed: Feed) -> Feed:
        split = g.add("split", "split")
        g.connect(feed[0], split)
        a, b = embed(g, left, (split, 1 if swap else 0)), embed(g, right, (split, 0 if swap else 1))
        merge = g.add(_fresh_id(g, "merge"), "merge")
        g.connect(a[0], merge, port=0, channel=a[1])
        g.connect(b[0], merge, port=1, channel=b[1])
        return _stereo_middle(draw, g, (merge, None))

    return _wrap(build, channels=2)


def rigs(depth: int = 2) -> st.SearchStrategy[Graph]:
    """A mono rig (a part) or, less often, a stereo one."""
    return st.one_of(parts(depth), _stereo_rigs(max(0, depth - 1)))


@lru_cache(maxsize=None)
def lti_parts(depth: int = 2) -> st.SearchStrategy[Graph]:
    """Parts of LTI nodes only (gains, delays, polarity, bias-free Linears, every blend): they fold to one Linear."""
    leaf = _leaves(LTI, latencies=(0, 0, 3))
    if depth <= 0:
        return leaf
    sub = leaf if depth == 1 else st.one_of(leaf, lti_parts(depth - 1))
    return st.one_of(_chains(sub), _parallels(sub), _mixes(sub))


def _region(draw: st.DrawFn) -> list[Graph]:
    """An LTI region between opaque models: empty, an LTI part, and/or a biased Linear last
    (a bias that no filter or delay follows folds exactly)."""
    pieces = [draw(lti_parts(1))] if draw(st.booleans()) else []
    if draw(st.integers(0, 2)) == 0:
        pieces.append(chain(pool_model("ir_bias", draw(SEEDS))))
    return pieces


@st.composite
def raisable_rigs(draw: st.DrawFn, max_models: int = 2) -> Graph:
    """``region, amp, region[, amp, region]``: opaque models in series, LTI regions between
    (a region may be empty, and may end in a biased Linear): ``to_sequential`` raises it exactly."""
    pieces: list[Graph] = []
    for i in range(draw(st.integers(1, max_models))):
        pieces += _region(draw)
        pieces.append(draw(model_parts(OPAQUE + ("lstm",), latencies=(0,))))  # an LSTM twice as often: its start-up is exact or visibly wrong
    pieces += _region(draw)
    return chain(*pieces)


# ----------------------------------------------------------------------------- a fixed pool of rigs


@lru_cache(maxsize=None)
def _rig_pool() -> tuple[Graph, ...]:
    """Three hand-built rigs covering every node kind and architecture; their shapes are
    fixed, so their compiles are shared by every example."""
    m = pool_model
    cabs = parallel(m("slimmable", 2), chain(delay(3), m("ir24", 3), polarity()), mix=[0.7, -0.4])
    amp_and_cabs = chain(gain(3.0), m("wavenet_a2", 1), cabs, m("convnet", 4))
    lstm_mix = chain(m("sequential", 5), _wrap(_lstm_mix))
    stereo = _wrap(_stereo_pool, channels=2)
    return (amp_and_cabs, lstm_mix, stereo)


def _lstm_mix(g: Graph, feed: Feed) -> Feed:
    g.add("amp", "model", model=pool_model("lstm", 8))
    g.add("cab", "model", model=pool_model("ir_bias", 9), latency=2)
    g.add("late", "delay", samples=9)
    g.add("blend", "mix", amount=0.3, law="equal_power")
    g.connect(feed[0], "amp", "cab", "blend", port="wet")
    g.connect("amp", "late", "blend", port="dry")
    return ("blend", None)


def _stereo_pool(g: Graph, feed: Feed) -> Feed:
    g.add("split", "split")
    g.add("left", "model", model=pool_model("convnet", 10))
    g.add("right", "delay", samples=4)
    g.add("sides", "mean")
    g.add("merge", "merge")
    g.add("room", "model", model=pool_model("ir_stereo", 11))
    g.add("wide", "model", model=pool_model("convnet_stereo", 12))
    g.connect(feed[0], "split")
    g.connect("split", "left", channel=0)
    g.connect("split", "right", channel=1)
    g.connect("split", "sides", channel=0)
    g.connect("left", "sides")
    g.connect("right", "merge", port=0)
    g.connect("sides", "merge", port=1)
    g.connect("merge", "room", "wide")
    return ("wide", None)


def pooled_rigs() -> st.SearchStrategy[Graph]:
    """One of three fixed rigs (containers, FFT cab, LSTM, mix, latency, stereo split/merge)."""
    return st.integers(0, len(_rig_pool()) - 1).map(lambda i: _rig_pool()[i])


# ----------------------------------------------------------------------------- signals and schedules


@st.composite
def audio(draw: st.DrawFn, channels: int = 1, min_size: int = 64, max_size: int = 512) -> np.ndarray:
    """Noise of bounded amplitude (<= 0.5 peak), ``(channels, n)``; a drawn seed, so it shrinks well."""
    n = draw(st.integers(min_size, max_size))
    level = draw(st.sampled_from([0.05, 0.2, 0.5]))
    rng = np.random.default_rng(draw(SEEDS))
    return (level * np.clip(rng.standard_normal((channels, n)), -1.0, 1.0)).astype(np.float32)


def partitions(sizes: Sequence[int] = BLOCK_SIZES, max_blocks: int = 12) -> st.SearchStrategy[list[int]]:
    """Block sizes for a streaming render; the signal to stream is as long as their sum."""
    return st.lists(st.sampled_from(list(sizes)), min_size=1, max_size=max_blocks)


# ----------------------------------------------------------------------------- graph transforms

NODE_IDS = st.from_regex(NODE_ID_PATTERN, fullmatch=True)


@st.composite
def relabelings(draw: st.DrawFn, graph: Graph) -> dict[str, str]:
    """A bijection of ``graph``'s ids onto other valid ids. Input ids keep their relative order,
    and so do output ids (their channels are stacked in id order, a documented convention)."""
    ids = [n.id for n in graph.nodes]
    new = draw(st.lists(NODE_IDS, min_size=len(ids), max_size=len(ids), unique=True))
    mapping = dict(zip(ids, new))
    for group in (graph.inputs, graph.outputs):
        for old, target in zip(group, sorted(mapping[n] for n in group)):
            mapping[old] = target
    return mapping


def relabel(graph: Graph, mapping: dict[str, str]) -> Graph:
    """``graph`` with every node id replaced by ``mapping[id]``, rebuilt with ``add``/``connect``."""
    out = Graph(align_latency=graph.align_latency, metadata=copy.deepcopy(graph.metadata))
    for info in graph.nodes:
        out.add(mapping[info.id], info.kind, model=info.model, **_settings(info))
    for e in graph.edges:
        out.connect(mapping[e.src], mapping[e.dst], port=e.port, channel=e.channel, channels=e.channels)
    return out


@st.composite
def topological_orders(draw: st.DrawFn, graph: Graph) -> tuple[str, ...]:
    """Any topological order of ``graph``'s node ids (Kahn's algorithm with drawn choices;
    shrinks towards the sorted-id order the compiler uses)."""
    nx_graph = graph.to_networkx()
    indegree = {n: nx_graph.in_degree(n) for n in nx_graph}
    ready = sorted(n for n, d in indegree.items() if d == 0)
    order = []
    while ready:
        node = ready.pop(draw(st.integers(0, len(ready) - 1)))
        order.append(node)
        for _, succ in nx_graph.out_edges(node):
            indegree[succ] -= 1
            if indegree[succ] == 0:
                ready.append(succ)
        ready.sort()
    return tuple(order)
