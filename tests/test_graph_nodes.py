"""Every built-in node kind against a NumPy reference written from its definition.

Linear models keep the references exact (``fir``: Core's Linear as a convolution) and
the compiles cheap; Linear prewarms nothing, so these graphs start from zero histories
(delays included: their lines start empty). Tolerance 1e-6 absolute (float32 rounding of signals
of magnitude ~1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import pytest

import namgraph
from graph_parts import delayed, fir, linear, max_err, noise, random_taps
from namgraph.graph import KINDS, Graph, NodeConfig, NodeKind, chain, delay, gain, parallel, polarity, register
from namgraph.graph.nodes import model_macs

T = 300
TOL = 1e-6
X = noise(T, seed=1)
A_TAPS, B_TAPS = random_taps(5, 2), random_taps(3, 3)
A, B = linear(A_TAPS, name="cab_a"), linear(B_TAPS, name="cab_b")


def test_every_kind_is_registered_with_its_config() -> None:
    expected = {"input", "output", "model", "gain", "polarity", "delay", "sum", "mean", "weighted_sum", "mix", "split", "merge"}
    assert expected <= set(KINDS)
    for name, cls in KINDS.items():
        assert cls.kind == name and issubclass(cls.Config, NodeConfig)


# ----------------------------------------------------------------------------- one-input effects


@pytest.mark.parametrize("db", [-6.0, 0.0, 12.5])
def test_gain(db: float) -> None:
    y = namgraph.render(chain(gain(db)), X)
    assert max_err(y, 10 ** (db / 20) * X.astype(np.float64)) <= TOL


@pytest.mark.parametrize("invert", [True, False])
def test_polarity(invert: bool) -> None:
    y = namgraph.render(chain(polarity(invert)), X)
    assert max_err(y, -X if invert else X) == 0.0


@pytest.mark.parametrize("n", [0, 1, 17, 64, 299])
def test_delay_shifts_by_whole_samples(n: int) -> None:
    y = namgraph.render(chain(delay(n)), X)
    assert max_err(y, delayed(X, n)) == 0.0


def test_delay_starts_empty_like_cores_linear() -> None:
    # A delay is Core's Linear [0, ..., 0, 1]: no prewarm, its line starts with zeros, so
    # a biased Linear's output reaches the output only once the line has filled.
    biased = linear(A_TAPS, bias=0.25)
    y = namgraph.render(chain(biased, delay(40)), X)
    assert max_err(y, delayed(fir(X, A_TAPS, 0.25), 40, fill=0.0)) <= TOL
    as_linear = linear(np.eye(1, 41, 40, dtype=np.float32)[0])
    assert max_err(y, namgraph.render(chain(biased, as_linear), X)) <= TOL


def test_model_node() -> None:
    assert max_err(namgraph.render(chain(A), X), fir(X, A_TAPS)) <= TOL


def test_model_node_from_a_path(tmp_path) -> None:
    g = Graph()
    g.add("in", "input")
    g.add("cab", "model", model="examples/rig/cab.nam")
    g.add("out", "output")
    g.connect("in", "cab", "out")
    assert g.node("cab").config.path == "examples/rig/cab.nam"
    cab = namgraph.load("examples/rig/cab.nam")
    assert max_err(namgraph.render(g, X), fir(X, cab.params["ir"])) <= TOL
    assert max_err(namgraph.render(chain("examples/rig/cab.nam"), X), fir(X, cab.params["ir"])) <= TOL


# ----------------------------------------------------------------------------- aggregators


def test_sum_mean_and_weighted_sum() -> None:
    ya, yb = fir(X, A_TAPS), fir(X, B_TAPS)
    assert max_err(namgraph.render(parallel(A, B, mix="sum"), X), ya + yb) <= TOL
    assert max_err(namgraph.render(parallel(A, B), X), (ya + yb) / 2) <= TOL
    assert max_err(namgraph.render(parallel(A, B, mix=[0.25, -2.0]), X), 0.25 * ya - 2.0 * yb) <= TOL
    three = parallel(A, B, polarity(), mix=[1.0, 2.0, 3.0])
    assert max_err(namgraph.render(three, X), ya + 2 * yb - 3 * X) <= TOL


def test_identical_branches_give_the_branch_back() -> None:
    # Two edges from one node into one mean: a MultiDiGraph keeps both (ports 0 and 1).
    g = Graph()
    g.add("in", "input")
    g.add("cab", "model", model=A)
    g.add("mean", "mean")
    g.add("out", "output")
    g.connect("in", "cab")
    g.connect("cab", "mean")
    g.connect("cab", "mean")
    g.connect("mean", "out")
    assert [e.port for e in g.edges if e.dst == "mean"] == [0, 1]
    assert max_err(namgraph.render(g, X), fir(X, A_TAPS)) <= TOL
    assert max_err(namgraph.render(parallel(A, A), X), fir(X, A_TAPS)) <= TOL


def test_weighted_sum_weights_follow_ports_not_connect_order() -> None:
    g = Graph()
    g.add("in", "input")
    g.add("a", "model", model=A)
    g.add("b", "model", model=B)
    g.add("w", "weighted_sum", weights=[1.0, 10.0])
    g.add("out", "output")
    g.connect("in", "a")
    g.connect("in", "b")
    g.connect("a", "w", port=1)  # connected first, but port 1: weight 10
    g.connect("b", "w", port=0)
    g.connect("w", "out")
    assert max_err(namgraph.render(g, X), 10 * fir(X, A_TAPS) + fir(X, B_TAPS)) <= 1e-5


def mix_graph(amount: float, law: str, swap: bool = False) -> Graph:
    g = Graph()
    g.add("in", "input")
    g.add("fx", "model", model=A)
    g.add("blend", "mix", amount=amount, law=law)
    g.add("out", "output")
    g.connect("in", "fx")
    g.connect("in", "blend", port="wet" if swap else "dry")
    g.connect("fx", "blend", port="dry" if swap else "wet")
    g.connect("blend", "out")
    return g


def mix_reference(amount: float, law: str, dry: np.ndarray, wet: np.ndarray) -> np.ndarray:
    if law == "linear":
        return (1 - amount) * dry + amount * wet
    return math.cos(amount * math.pi / 2) * dry + math.sin(amount * math.pi / 2) * wet


@pytest.mark.parametrize("law", ["linear", "equal_power"])
@pytest.mark.parametrize("amount", [0.0, 0.3, 1.0])
def test_mix(law: str, amount: float) -> None:
    dry, wet = X.astype(np.float64), fir(X, A_TAPS)
    assert max_err(namgraph.render(mix_graph(amount, law), X), mix_reference(amount, law, dry, wet)) <= TOL
    # Which input is dry is explicit: swapping the ports swaps the roles.
    swapped = namgraph.render(mix_graph(amount, law, swap=True), X)
    assert max_err(swapped, mix_reference(amount, law, wet, dry)) <= TOL


def test_equal_power_keeps_uncorrelated_power() -> None:
    # Two independent noises: at every amount the blend has the same power as each input.
    g = Graph()
    g.add("in", "input", channels=2)
    g.add("split", "split")
    g.add("blend", "mix", amount=0.37, law="equal_power")
    g.add("out", "output")
    g.connect("in", "split")
    g.connect("split", "blend", channel=0, port="dry")
    g.connect("split", "blend", channel=1, port="wet")
    g.connect("blend", "out")
    x = noise(2, 20000, seed=4)
    y = namgraph.render(g, x)
    assert y.shape == (1, 20000)
    assert abs(np.var(y[0]) / np.var(x[0]) - 1.0) < 0.03


# ----------------------------------------------------------------------------- channels


def stereo_cabs() -> Graph:
    """Mono in, cab A left and cab B right: the brief's stereo rig."""
    g = Graph()
    g.add("in", "input")
    g.add("left", "model", model=A)
    g.add("right", "model", model=B)
    g.add("stereo", "merge")
    g.add("out", "output", channels=2)
    g.connect("in", "left")
    g.connect("in", "right")
    g.connect("left", "stereo")  # port 0: left
    g.connect("right", "stereo")  # port 1: right
    g.connect("stereo", "out")
    return g


def test_merge_stacks_channels_in_port_order() -> None:
    y = namgraph.render(stereo_cabs(), X)
    assert y.shape == (2, T)
    assert max_err(y[0], fir(X, A_TAPS)) <= TOL and max_err(y[1], fir(X, B_TAPS)) <= TOL


def test_split_then_merge_swaps_channels() -> None:
    g = Graph()
    g.add("in", "input", channels=2)
    g.add("split", "split")
    g.add("cab", "model", model=A)
    g.add("merge", "merge")
    g.add("out", "output")
    g.connect("in", "split")
    g.connect("split", "merge", channel=1)  # port 0 takes the right channel
    g.connect("split", "cab", channel=0)
    g.connect("cab", "merge")  # port 1: the left channel through the cab
    g.connect("merge", "out")
    x = noise(2, T, seed=5)
    y = namgraph.render(g, x)
    assert y.shape == (2, T)
    assert max_err(y[0], x[1]) == 0.0 and max_err(y[1], fir(x[0], A_TAPS)) <= TOL


def test_multichannel_model_node() -> None:
    stereo_fir = linear(A_TAPS, channels=2)
    x = noise(2, T, seed=6)
    y = namgraph.render(chain(stereo_fir, gain(-6.0, channels=2)), x)
    for c in range(2):
        assert max_err(y[c], 10 ** (-6 / 20) * fir(x[c], A_TAPS)) <= TOL


def test_several_inputs_and_outputs_in_id_order() -> None:
    g = Graph()
    g.add("in_b", "input")
    g.add("in_a", "input")
    g.add("cab", "model", model=A)
    g.add("out_2", "output")
    g.add("out_1", "output")
    g.connect("in_a", "cab", "out_2")
    g.connect("in_b", "out_1")
    x = noise(2, T, seed=7)  # channel 0 -> in_a, channel 1 -> in_b (ids sorted)
    y = namgraph.render(g, x)
    assert g.inputs == ["in_a", "in_b"] and g.outputs == ["out_1", "out_2"]
    assert max_err(y[0], x[1]) == 0.0 and max_err(y[1], fir(x[0], A_TAPS)) <= TOL


# ----------------------------------------------------------------------------- estimates


def test_macs_per_sample() -> None:
    g = parallel(A, chain(gain(3.0), B), polarity(), mix=[1.0, 2.0, 3.0])
    # cab taps, gain 1, cab taps, polarity 1, weighted_sum 3 inputs x 1 channel
    assert g.macs_per_sample() == len(A_TAPS) + 1 + len(B_TAPS) + 1 + 3
    assert model_macs(linear(A_TAPS, channels=2).architecture) == 2 * len(A_TAPS)


# ----------------------------------------------------------------------------- a new kind is one class


@pytest.fixture
def clip_kind():
    @register
    @dataclass(frozen=True)
    class Clip(NodeKind):
        """Hard clip at ±ceiling (trainable)."""

        class Config(NodeConfig):
            ceiling: float = 1.0

        kind = "test_clip"
        param_fields = ("ceiling",)
        channels: int

        @classmethod
        def create(cls, config, inputs, model):
            return cls(inputs[0])

        def step(self, params, state, inputs):
            c = params["ceiling"]
            return state, jnp.clip(inputs[0], -c, c)

    yield Clip
    del KINDS["test_clip"]


def test_a_new_kind_is_one_registered_class(clip_kind) -> None:
    g = Graph()
    g.add("in", "input")
    g.add("clip", "test_clip", ceiling=0.2)
    g.add("out", "output")
    g.connect("in", "clip", "out")
    assert g.params == {"clip": {"ceiling": np.float32(0.2)}}
    assert max_err(namgraph.render(g, X), np.clip(X, -0.2, 0.2)) <= TOL
    fitted = g.with_params({"clip": {"ceiling": np.float32(0.1)}})
    assert fitted.node("clip").config.ceiling == pytest.approx(0.1)
    assert max_err(namgraph.render(fitted, X), np.clip(X, -0.1, 0.1)) <= TOL
