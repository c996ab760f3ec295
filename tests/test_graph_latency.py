"""Latency alignment, graph-level figures (receptive field, prewarm, latency, params, MACs)
and calibrated chaining, against hand-computed values and NumPy references."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import namgraph
from graph_parts import delayed, fir, linear, lstm, max_err, noise, random_taps, wavenet
from namgraph.errors import CalibrationWarning
from namgraph.graph import Graph, chain, delay, gain, parallel
from namgraph.models.containers import Sequential

T = 200
TOL = 1e-6
X = noise(T, seed=11)
A_TAPS, B_TAPS, C_TAPS = random_taps(5, 12), random_taps(3, 13), random_taps(2, 14)
A, B, C = linear(A_TAPS), linear(B_TAPS), linear(C_TAPS)


def two_branches(latency_a: int, latency_b: int, *, align: bool = True) -> Graph:
    g = Graph(align_latency=align)
    g.add("in", "input")
    g.add("a", "model", model=A, latency=latency_a)
    g.add("b", "model", model=B, latency=latency_b)
    g.add("mean", "mean")
    g.add("out", "output")
    g.connect("in", "a", "mean")
    g.connect("in", "b", "mean")
    g.connect("mean", "out")
    return g


# ----------------------------------------------------------------------------- alignment


def test_branches_are_aligned_by_compensating_delays() -> None:
    g = two_branches(3, 0)
    assert g.latency() == 3
    want = (fir(X, A_TAPS) + delayed(fir(X, B_TAPS), 3)) / 2
    assert max_err(namgraph.render(g, X), want) <= TOL
    ids = g.compile().architecture.ids
    assert "align:mean:1" in ids and "align:mean:0" not in ids  # only the early branch waits


def test_alignment_can_be_turned_off() -> None:
    want = (fir(X, A_TAPS) + fir(X, B_TAPS)) / 2
    assert max_err(namgraph.render(two_branches(3, 0, align=False), X), want) <= TOL
    assert max_err(namgraph.render(two_branches(3, 0).compile(align_latency=False), X), want) <= TOL
    assert two_branches(3, 0, align=False).latency() == 3  # still reported


def test_equal_latencies_need_no_delay() -> None:
    g = two_branches(2, 2)
    assert not any(i.startswith("align:") for i in g.compile().architecture.ids)
    assert g.latency() == 2


def test_latency_adds_up_along_a_path() -> None:
    # in -> a (2) -> b (3) -> sum ; in -> c (1) -> sum : c's branch waits 4 samples.
    g = Graph()
    g.add("in", "input")
    g.add("a", "model", model=A, latency=2)
    g.add("b", "model", model=B, latency=3)
    g.add("c", "model", model=C, latency=1)
    g.add("sum", "sum")
    g.add("out", "output")
    g.connect("in", "a", "b", "sum")
    g.connect("in", "c", "sum")
    g.connect("sum", "out")
    assert g.latency() == 5
    want = fir(fir(X, A_TAPS), B_TAPS) + delayed(fir(X, C_TAPS), 4)
    assert max_err(namgraph.render(g, X), want) <= TOL


def test_outputs_are_aligned_with_each_other() -> None:
    g = Graph()
    g.add("in", "input")
    g.add("a", "model", model=A, latency=3)
    g.add("out_1", "output")
    g.add("out_2", "output")
    g.connect("in", "a", "out_1")
    g.connect("in", "out_2")
    y = namgraph.render(g, X)
    assert max_err(y[0], fir(X, A_TAPS)) <= TOL and max_err(y[1], delayed(X, 3)) == 0.0
    y = namgraph.render(g.compile(align_latency=False), X)
    assert max_err(y[1], X) == 0.0


def test_intentional_delay_is_not_compensated() -> None:
    g = parallel(delay(5), A)
    assert g.latency() == 0
    assert max_err(namgraph.render(g, X), (delayed(X, 5) + fir(X, A_TAPS)) / 2) <= TOL


# ----------------------------------------------------------------------------- graph-level figures


def test_receptive_field() -> None:
    assert chain(A, B).receptive_field() == 1 + 4 + 2 == Sequential((A.architecture, B.architecture)).receptive_field()
    assert parallel(A, B).receptive_field() == 5
    assert chain(A, delay(10)).receptive_field() == 15
    assert chain(parallel(A, chain(B, C)), A).receptive_field() == 1 + max(4, 2 + 1) + 4


def test_prewarm_is_the_longest_path() -> None:
    slow, wn = lstm(0), wavenet(0, sample_rate=200.0)
    assert slow.architecture.prewarm_samples() == 100 and wn.architecture.prewarm_samples() == 15
    assert chain(slow, wn).prewarm_samples() == 115  # summed along a chain, as Core's Sequential
    assert parallel(slow, chain(wn, wn)).prewarm_samples() == 100  # the longest path
    assert parallel(chain(slow, slow), wn).prewarm_samples() == 200
    assert chain(A, B).prewarm_samples() == 0
    assert chain(delay(7)).prewarm_samples() == 0  # a delay is Core's Linear [0, ..., 0, 1]: no prewarm
    assert chain(slow, delay(7)).prewarm_samples() == 100


def test_parameter_count() -> None:
    assert chain(A, gain(1.0)).num_params == len(A_TAPS) + 1
    assert parallel(A, B, mix=[1.0, 2.0]).num_params == len(A_TAPS) + len(B_TAPS) + 2
    assert parallel(A, B).num_params == len(A_TAPS) + len(B_TAPS)
    lst = lstm(0)
    assert chain(lst).num_params == lst.num_weights


def test_lowering_is_deterministic() -> None:
    # The same graph built in two orders compiles to the same architecture (ties by id).
    def build(order: list[str]) -> Graph:
        g = Graph()
        makers = {"in": ("input", {}), "b": ("model", {"model": B}), "a": ("model", {"model": A}), "s": ("sum", {}), "out": ("output", {})}
        for n in order:
            g.add(n, makers[n][0], **makers[n][1])
        g.connect("in", "a")
        g.connect("in", "b")
        g.connect("a", "s")
        g.connect("b", "s")
        g.connect("s", "out")
        return g

    one, two = build(["in", "a", "b", "s", "out"]), build(["out", "s", "b", "a", "in"])
    assert one == two
    assert one.compile().architecture == two.compile().architecture
    assert one.compile().architecture.ids == ("in", "a", "b", "s", "out")


# ----------------------------------------------------------------------------- calibrated chaining


def leveled(taps: np.ndarray, **levels: float):
    return linear(taps, metadata=dict(levels))


def test_calibrated_chain_inserts_the_level_difference() -> None:
    up = leveled(A_TAPS, output_level_dbu=12.3, input_level_dbu=0.0)
    down = leveled(B_TAPS, input_level_dbu=18.3)
    g = chain(up, down, calibrate=True)
    gains = [n for n in g.nodes if n.kind == "gain"]
    assert len(gains) == 1 and gains[0].config.db == pytest.approx(12.3 - 18.3)
    want = fir(10 ** (-6.0 / 20) * fir(X, A_TAPS), B_TAPS)
    assert max_err(namgraph.render(g, X), want) <= TOL
    assert max_err(namgraph.render(chain(up, down), X), fir(fir(X, A_TAPS), B_TAPS)) <= TOL  # opt-in


def test_calibration_reaches_into_nested_parts() -> None:
    up = leveled(A_TAPS, output_level_dbu=10.0)
    g = chain(up, parallel(leveled(B_TAPS, input_level_dbu=4.0), leveled(C_TAPS, input_level_dbu=16.0)), calibrate=True)
    assert sorted(n.config.db for n in g.nodes if n.kind == "gain") == [-6.0, 6.0]
    ya = fir(X, A_TAPS)
    want = (fir(ya * 10 ** (6 / 20), B_TAPS) + fir(ya * 10 ** (-6 / 20), C_TAPS)) / 2
    assert max_err(namgraph.render(g, X), want) <= TOL


def test_calibration_without_levels_warns_and_adds_nothing() -> None:
    with pytest.warns(CalibrationWarning, match="has no metadata.input_level_dbu; no calibration gain inserted"):
        g = chain(leveled(A_TAPS, output_level_dbu=12.0), B, calibrate=True)
    assert not [n for n in g.nodes if n.kind == "gain"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chain(A, gain(3.0), B, calibrate=True)  # no two models meet: nothing to calibrate


def test_connect_with_calibration() -> None:
    g = Graph()
    g.add("in", "input")
    g.add("amp", "model", model=leveled(A_TAPS, output_level_dbu=20.0))
    g.add("cab", "model", model=leveled(B_TAPS, input_level_dbu=8.0))
    g.add("out", "output")
    g.connect("in", "amp")
    g.connect("amp", "cab", calibrate=True)
    g.connect("cab", "out")
    assert g.node("amp_to_cab_calibration").config.db == 12.0
    assert max_err(namgraph.render(g, X), fir(10 ** (12 / 20) * fir(X, A_TAPS), B_TAPS)) <= 1e-5


def test_calibration_of_core_fixtures(core_fixtures) -> None:
    wn = namgraph.load(core_fixtures / "wavenet.nam")
    ls = namgraph.load(core_fixtures / "lstm.nam")
    g = chain(wn, ls, calibrate=True)
    # Both files carry input 18.3 dBu and output 12.3 dBu: the wavenet's output is 6 dB too hot for the LSTM.
    (gain_node,) = [n for n in g.nodes if n.kind == "gain"]
    assert gain_node.id == "wavenet_to_lstm_calibration" and gain_node.config.db == pytest.approx(-6.0)
