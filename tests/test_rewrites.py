"""Exact rewrites: LTI regions folded into one Linear, checked three ways.

* the folded taps and bias against NumPy computed here from each node's definition
  (``10^(dB/20)``, the mix laws, convolution, zero-padding), in float64;
* the render of the graph (the compiler runs every node) against the render of the raised
  model (one Linear, or a Sequential loaded from its document): 1e-6 of the peak for pure
  chains, 1e-5 where folding re-rounds taps;
* what cannot be folded raises NotRaisableError naming the blocking nodes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import namgraph
import nam_docs
from namgraph.converters import as_chain, to_dag, to_model, to_sequential
from namgraph.errors import NotRaisableError
from namgraph.graph import Graph, chain, delay, gain, parallel, polarity
from namgraph.model import Model
from strategies import lti_parts
from test_converters_lower_raise import peak_error, taps_doc

X = (0.3 * np.random.default_rng(11).standard_normal(1500)).astype(np.float32)
RNG = np.random.default_rng(5)
A_TAPS = (0.4 * RNG.standard_normal(7)).astype(np.float32)
B_TAPS = (0.4 * RNG.standard_normal(4)).astype(np.float32)


def lin(taps: Any, *, bias: float | None = None, sample_rate: float | None = 48000, channels: int = 1, **meta: Any) -> Model:
    doc = taps_doc([float(t) for t in np.asarray(taps, np.float32)], bias=bias, sample_rate=sample_rate)
    if channels != 1:
        doc["version"] = "0.7.0"
        doc["config"] |= {"in_channels": channels, "out_channels": channels}
    if meta:
        doc["metadata"] = meta
    return namgraph.load(doc)


A, B = lin(A_TAPS, name="cab_a"), lin(B_TAPS, name="cab_b")


def f64(taps: Any) -> np.ndarray:
    return np.asarray(taps, np.float32).astype(np.float64)


def padded(*arrays: np.ndarray) -> list[np.ndarray]:
    n = max(a.size for a in arrays)
    return [np.pad(a, (0, n - a.size)) for a in arrays]


def impulse(n: int, at: int = 0) -> np.ndarray:
    out = np.zeros(n + 1)
    out[at] = 1.0
    return out[: max(n, at + 1)]


def db(x: float) -> float:
    return 10 ** (x / 20)


def folded(graph: Graph) -> Model:
    """The graph raised to one model; its render must equal the graph's."""
    model = to_model(graph)
    assert model.name == "Linear"
    x = X if graph.in_channels == 1 else np.stack([X, X[::-1]])
    assert peak_error(namgraph.render(model, x), namgraph.render(graph, x)) <= 1e-5
    return model


def taps_of(model: Model) -> np.ndarray:
    return np.asarray(model.params["ir"], np.float64)


def assert_taps(model: Model, want: np.ndarray) -> None:
    got = taps_of(model)
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= 1e-6 * max(1.0, np.max(np.abs(want)))


# ----------------------------------------------------------------------------- each rewrite


def test_series_linears_with_a_gain_are_convolved() -> None:
    m = folded(chain(A, gain(-6.0), B))
    assert_taps(m, np.convolve(f64(A_TAPS), f64(B_TAPS)) * db(-6.0))
    assert m.receptive_field == len(A_TAPS) + len(B_TAPS) - 1 and not m.architecture.config.bias


def test_a_plain_series_of_linears_is_kept_as_it_is() -> None:
    links = as_chain(chain(A, B))
    assert [link.node for link in links] == ["linear", "linear_2"]
    assert links[0].model is A and links[1].model is B


@pytest.mark.parametrize(("mix", "weights"), [("sum", (1.0, 1.0)), ("mean", (0.5, 0.5)), ([0.25, -2.0], (0.25, -2.0))])
def test_parallel_linears_are_summed(mix: Any, weights: tuple[float, float]) -> None:
    a, b = padded(f64(A_TAPS), f64(B_TAPS))
    assert_taps(folded(parallel(A, B, mix=mix)), weights[0] * a + weights[1] * b)


def test_gains_polarity_and_delays_fold() -> None:
    assert np.array_equal(taps_of(folded(chain(delay(5)))), impulse(6, 5))
    assert_taps(folded(chain(gain(4.5), polarity())), np.array([-db(4.5)]))
    g = parallel(chain(A, gain(-3.0)), chain(delay(9), polarity()), B)
    a, d, b = padded(f64(A_TAPS), impulse(10, 9), f64(B_TAPS))
    assert_taps(folded(g), (db(-3.0) * a - d + b) / 3)


@pytest.mark.parametrize("law", ["linear", "equal_power"])
def test_mix_folds_with_its_law(law: str) -> None:
    g = Graph()
    g.add("in", "input")
    g.add("cab", "model", model=A)
    g.add("late", "delay", samples=2)
    g.add("blend", "mix", amount=0.3, law=law)
    g.add("out", "output")
    g.connect("in", "late")
    g.connect("late", "blend", port="dry")
    g.connect("in", "cab", "blend", port="wet")
    g.connect("blend", "out")
    dry, wet = (0.7, 0.3) if law == "linear" else (math.cos(0.3 * math.pi / 2), math.sin(0.3 * math.pi / 2))
    d, a = padded(impulse(3, 2), f64(A_TAPS))
    assert_taps(folded(g), dry * d + wet * a)


def test_biases_propagate_through_memoryless_nodes() -> None:
    biased_a, biased_b = lin(A_TAPS, bias=0.25), lin(B_TAPS, bias=-0.5)
    m = folded(chain(A, biased_a, gain(6.0)))
    assert_taps(m, np.convolve(f64(A_TAPS), f64(A_TAPS)) * db(6.0))
    assert m.architecture.config.bias and float(m.params["bias"][0]) == pytest.approx(0.25 * db(6.0), rel=1e-6)
    m = folded(parallel(biased_a, chain(biased_b, polarity()), mix=[2.0, 1.0]))
    assert float(m.params["bias"][0]) == pytest.approx(2.0 * 0.25 + 0.5, rel=1e-6)


@pytest.mark.parametrize("after", ["filter", "delay"])
def test_a_bias_through_memory_is_refused(after: str) -> None:
    biased = lin(A_TAPS, bias=0.25, name="biased")
    rest = [gain(1.0), B] if after == "filter" else [delay(3)]
    with pytest.raises(NotRaisableError, match="ramps the bias in") as err:
        to_model(chain(biased, *rest))
    assert err.value.nodes == ("linear",)


def test_multichannel_regions_fold_into_one_shared_ir() -> None:
    stereo_cab = lin(A_TAPS, channels=2)
    g = Graph()
    g.add("in", "input", channels=2)
    g.add("cab", "model", model=stereo_cab)
    g.add("trim", "gain", db=-2.0)
    g.add("out", "output")
    g.connect("in", "cab", "trim", "out")
    m = folded(g)
    assert (m.in_channels, m.out_channels) == (2, 2)
    assert_taps(m, f64(A_TAPS) * db(-2.0))


@pytest.mark.parametrize("align", [True, False])
def test_compensating_delays_are_folded(align: bool) -> None:
    g = Graph(align_latency=align)
    g.add("in", "input")
    g.add("slow", "model", model=A, latency=3)
    g.add("fast", "model", model=B)
    g.add("mean", "mean")
    g.add("out", "output")
    g.connect("in", "slow", "mean")
    g.connect("in", "fast", "mean")
    g.connect("mean", "out")
    a, b = padded(f64(A_TAPS), np.concatenate([np.zeros(3 if align else 0), f64(B_TAPS)]))
    assert_taps(folded(g), (a + b) / 2)


def test_identity_regions_add_nothing() -> None:
    amp = namgraph.load(nam_docs.tiny_wavenet())
    assert to_model(chain(amp, gain(0.0), polarity(False), delay(0))) is amp
    identity = folded(chain(gain(0.0)))
    assert np.array_equal(taps_of(identity), [1.0])
    g = Graph()
    g.add("in", "input", channels=2)
    g.add("out", "output")
    g.connect("in", "out")
    assert to_model(g).in_channels == 2 and np.array_equal(taps_of(to_model(g)), [1.0])


# ----------------------------------------------------------------------------- the acceptance case


def lstm_doc(sample_rate: float = 256.0) -> dict[str, Any]:
    """A hand-made LSTM (spec 5.2: H = 3, I = 1: 4H(I+H) + 4H + 2H + H + 1 = 70 weights) at
    256 Hz, so it prewarms floor(0.5 * 256) = 128 samples, two of the engine's 64-sample
    blocks (one more sample of prewarm anywhere would feed a third). Forget gates near 1 and
    a large stored cell keep its state far from settled, so the prewarm count shows."""
    w = (0.5 * np.random.default_rng(3).standard_normal(70)).tolist()
    w[48 + 3 : 48 + 6] = [5.0] * 3  # forget-gate biases
    w[63:66] = [1.5] * 3  # c0
    return {"version": "0.5.4", "architecture": "LSTM", "config": {"input_size": 1, "hidden_size": 3, "num_layers": 1},
            "weights": w, "sample_rate": sample_rate}


def cab_pair(sample_rate: float) -> tuple[Model, Model, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(9)
    ta = (rng.standard_normal(512) * np.exp(-np.arange(512) / 60)).astype(np.float32)
    tb = (rng.standard_normal(512) * np.exp(-np.arange(512) / 90)).astype(np.float32)
    return lin(ta, sample_rate=sample_rate, name="cab A"), lin(tb, sample_rate=sample_rate, name="cab B"), ta, tb


@pytest.mark.parametrize("blend", ["mean", "gain_polarity"])
def test_amp_and_two_parallel_cabs_raise_to_amp_and_one_ir(blend: str) -> None:
    amp = namgraph.load(nam_docs.tiny_wavenet(metadata={"name": "amp", "input_level_dbu": 10.0}))
    cab_a, cab_b, ta, tb = cab_pair(48000)
    if blend == "mean":
        cabs, want = parallel(cab_a, cab_b), (f64(ta) + f64(tb)) / 2
    else:
        cabs, want = parallel(chain(cab_a, gain(-3.0)), chain(cab_b, polarity()), mix="sum"), db(-3.0) * f64(ta) - f64(tb)
    rig = chain(amp, cabs)
    s = to_sequential(rig)
    children = s.document["config"]["models"]
    assert [c["architecture"] for c in children] == ["WaveNet", "Linear"] and children[0] == amp.to_document()
    assert_taps(to_dag(s).node("linear").model, want)
    assert s.metadata == {"input_level_dbu": 10.0}
    x = np.concatenate([X, X])
    assert peak_error(namgraph.render(s, x), namgraph.render(rig, x)) <= 1e-5
    assert peak_error(namgraph.render(to_dag(s), x), namgraph.render(rig, x)) <= 1e-5


def test_start_up_is_exact_around_a_recurrent_amp() -> None:
    """An LSTM amp (its output depends on the exact prewarm count) between two folded
    regions with delays: the graph's prewarm (longest path) equals the Sequential's (sum)."""
    amp = namgraph.load(lstm_doc())
    cab_a, cab_b, _, _ = cab_pair(256.0)
    pre = lin([0.9, 0.2], sample_rate=256.0)
    rig = chain(parallel(chain(pre, gain(2.0)), delay(4)), amp, parallel(cab_a, chain(delay(7), cab_b), mix=[0.5, -1.0]))
    s = to_sequential(rig)
    assert [c["architecture"] for c in s.document["config"]["models"]] == ["Linear", "LSTM", "Linear"]
    assert s.architecture.prewarm_samples() == rig.prewarm_samples() == 128
    assert peak_error(namgraph.render(s, X), namgraph.render(rig, X)) <= 1e-5


# ----------------------------------------------------------------------------- what is refused


def test_two_amps_in_parallel_are_named() -> None:
    amp = namgraph.load(nam_docs.tiny_wavenet())
    with pytest.raises(NotRaisableError, match="not on every path") as err:
        to_sequential(chain(A, parallel(amp, chain(amp, gain(1.0))), B))
    assert err.value.nodes == ("wavenet", "wavenet_2")
    with pytest.raises(NotRaisableError, match="parallel branches") as err:
        to_sequential(parallel(amp, A))
    assert err.value.nodes == ("wavenet",)


def test_split_and_merge_are_named() -> None:
    g = Graph()
    g.add("in", "input", channels=2)
    g.add("split", "split")
    g.add("left", "model", model=A)
    g.add("right", "model", model=B)
    g.add("merge", "merge")
    g.add("out", "output")
    g.connect("in", "split")
    g.connect("split", "left", channel=0)
    g.connect("split", "right", channel=1)
    g.connect("left", "merge")
    g.connect("right", "merge")
    g.connect("merge", "out")
    with pytest.raises(NotRaisableError, match="route channels separately") as err:
        to_sequential(g)
    assert err.value.nodes == ("split", "merge")  # in signal-flow order


def test_several_outputs_are_refused() -> None:
    g = Graph()
    g.add("in", "input")
    g.add("cab", "model", model=A)
    g.add("dry", "output")
    g.add("wet", "output")
    g.connect("in", "dry")
    g.connect("in", "cab", "wet")
    with pytest.raises(NotRaisableError, match="one input and one output") as err:
        to_model(g)
    assert err.value.nodes == ("in", "dry", "wet")


# ----------------------------------------------------------------------------- property: random LTI rigs


def lti_rigs() -> st.SearchStrategy[Graph]:
    """The shared LTI strategy (tests/strategies.py), made to need a fold: a plain series
    of Linears is kept as its models, so a gain follows."""
    return lti_parts().map(lambda part: chain(part, gain(-1.0)))


@settings(max_examples=12)
@given(lti_rigs())
def test_random_lti_rigs_fold_exactly(rig: Graph) -> None:
    model = to_model(rig)
    assert model.name == "Linear"
    x = X[:300]
    want = namgraph.render(rig, x)
    assert np.max(np.abs(namgraph.render(model, x) - want)) <= 1e-5 * max(1.0, float(np.max(np.abs(want))))
