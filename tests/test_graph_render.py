"""Rendering graphs: start-up state, chains against Sequential and against one-then-other,
the example rig, Core fixtures, batching, compile reuse and graphs as plain data.

The start-up reference (``chain_reference``) is the brief's definition: the whole rig fed
``silence`` zeros and then the input, each model run by its own step from its initial
state, the zeros' output dropped; ``silence`` is the graph's prewarm count rounded up to
Core's 64-sample blocks. Tolerance: 1e-6 absolute on these small models, 1e-5 on the 1 s
fixture renders (float32 rounding over 48 000 samples through two models).
"""

from __future__ import annotations

import pickle
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import namgraph
from namgraph.audio import read_wav
from graph_parts import chain_reference, fir, from_initial_state, linear, lstm, max_err, noise, random_taps, wavenet
from namgraph.engine import CORE_RENDER_BLOCK, prewarm_length, render_offline_jit
from namgraph.graph import Graph, chain, gain, parallel, polarity
from namgraph.model import Model
from namgraph.models.containers import Sequential

REPO = Path(__file__).resolve().parents[1]
RIG = REPO / "examples" / "rig"
T = 400
X = noise(T, seed=21)
RIG_X = read_wav(RIG / "di.wav")[0][0, 24000:26000]  # 2000 samples of the demo DI


def silence_for(graph: Graph) -> int:
    n = graph.prewarm_samples()
    return -(-n // CORE_RENDER_BLOCK) * CORE_RENDER_BLOCK


# ----------------------------------------------------------------------------- start-up and chains


def test_chain_equals_sequential() -> None:
    slow, wn, cab = lstm(1), wavenet(2, sample_rate=200.0), linear(random_taps(6, 3), bias=0.1, sample_rate=200.0)
    graph = chain(slow, wn, cab)
    seq = Sequential((slow.architecture, wn.architecture, cab.architecture))
    assert graph.prewarm_samples() == seq.prewarm_samples() and graph.receptive_field() == seq.receptive_field()
    want = np.asarray(render_offline_jit(seq, {"children": (slow.params, wn.params, cab.params)}, X[None]))[0]
    assert max_err(namgraph.render(graph, X), want) <= 1e-6


def test_chain_equals_one_then_other_after_silence() -> None:
    slow, wn = lstm(4), wavenet(5, sample_rate=200.0)
    graph = chain(wn, slow)
    silence = silence_for(graph)
    assert silence == 128  # 15 + 100 rounded up to 64s
    got = namgraph.render(graph, X)
    assert max_err(got, chain_reference([wn, slow], X, silence)) <= 1e-6
    # The count matters for this LSTM: one model's count alone gives a different start.
    assert max_err(got, chain_reference([wn, slow], X, 64)) > 1e-4


def test_parallel_prewarms_the_longest_path() -> None:
    # in -> lstm -> lstm -> mean ; in -> lstm -> mean : every node sees 200 zeros (256 in 64s).
    a, b, c = lstm(6), lstm(7), lstm(8)
    graph = parallel(chain(a, b), c)
    silence = silence_for(graph)
    assert silence == 256
    want = (chain_reference([a, b], X, silence) + chain_reference([c], X, silence)) / 2
    assert max_err(namgraph.render(graph, X), want) <= 1e-6


def test_a_one_model_graph_renders_as_the_model() -> None:
    m = lstm(9)
    np.testing.assert_array_equal(namgraph.render(chain(m), X), namgraph.render(m, X))


# ----------------------------------------------------------------------------- the example rig


@cache
def example_rig() -> tuple[Graph, list[Model]]:
    """The maintainer's rig: drive -> amp -> two cabs in parallel -> summed -> preamp."""
    drive = namgraph.load(RIG / "drive.nam")
    cab = namgraph.load(RIG / "cab.nam")
    amp = wavenet(30, name="amp")
    cab_b = linear(random_taps(64, 31), name="cab_b")
    preamp = wavenet(32, name="preamp")
    return chain(drive, amp, parallel(cab, cab_b, mix="sum"), preamp), [drive, amp, cab, cab_b, preamp]


def test_example_rig_runs_and_matches_its_parts() -> None:
    rig, (drive, amp, cab, cab_b, preamp) = example_rig()
    assert [n.id for n in rig.nodes if n.kind == "model"] == ["amp", "cab", "cab_b", "drive", "preamp"]
    assert rig.sample_rate == 48000.0 and rig.latency() == 0
    assert rig.prewarm_samples() == sum(m.architecture.prewarm_samples() for m in (drive, amp, preamp))
    x = RIG_X
    y = namgraph.render(rig, x)
    assert y.shape == x.shape and np.all(np.isfinite(y)) and np.max(np.abs(y)) > 1e-3
    # Reference: the parts one after the other on silence-prefixed audio.
    silence = silence_for(rig)
    zeros_then_x = np.concatenate([np.zeros(silence, np.float32), x])[None]
    amped = from_initial_state(amp, from_initial_state(drive, zeros_then_x))
    summed = from_initial_state(cab, amped) + from_initial_state(cab_b, amped)
    want = from_initial_state(preamp, summed)[0, silence:]
    assert max_err(y, want) <= 1e-5


def test_example_rig_prints_readably() -> None:
    rig, _ = example_rig()
    text = repr(rig)
    assert text.splitlines()[0] == "Graph(8 nodes, 8 edges)"
    assert "drive  : model(WaveNet 'drive.nam', 1->1 ch)" in text
    assert "  cab -> sum (port 0)" in text and "  sum -> preamp" in text


# ----------------------------------------------------------------------------- Core fixtures


@pytest.mark.parametrize("name", ["wavenet", "lstm"])
def test_one_fixture_model_as_a_graph_is_core(core_fixtures, core_input, name: str) -> None:
    from conftest import core_output

    y = namgraph.render(chain(core_fixtures / f"{name}.nam"), core_input)
    assert max_err(y, core_output(name)) <= 1e-5


def test_render_options_reach_the_nodes(core_fixtures, core_input) -> None:
    # size selects the container's submodel inside the graph (0.5: the small WaveNet), as in Core.
    from conftest import core_output

    y = namgraph.render(chain(core_fixtures / "slimmable_container.nam", gain(0.0)), core_input, size=0.5)
    assert max_err(y, core_output("slimmable_container.size0.5")) <= 1e-5


def test_chain_of_two_fixture_models(core_fixtures, core_input) -> None:
    wn = namgraph.load(core_fixtures / "wavenet.nam")
    ls = namgraph.load(core_fixtures / "lstm.nam")
    graph = chain(wn, ls)
    silence = silence_for(graph)
    assert silence == prewarm_length(Sequential((wn.architecture, ls.architecture))) == 24064
    y = namgraph.render(graph, core_input)
    err = max_err(y, chain_reference([wn, ls], core_input, silence))
    assert err <= 1e-5, f"max abs error {err:.3g}"


# ----------------------------------------------------------------------------- layouts and batches


def test_batch_equals_each_clip() -> None:
    graph = parallel(wavenet(40), chain(linear(random_taps(5, 41)), polarity()), mix=[0.7, 0.4])
    clips = noise(3, 1, T, seed=42)
    batch = namgraph.render(graph, clips)
    assert batch.shape == (3, 1, T)
    for i in range(3):
        assert max_err(batch[i, 0], namgraph.render(graph, clips[i, 0])) <= 1e-6


def test_mono_graph_on_stereo_audio_is_dual_mono() -> None:
    graph = chain(wavenet(43), gain(-3.0))
    x = noise(2, T, seed=44)
    y = namgraph.render(graph, x)
    for c in range(2):
        assert max_err(y[c], namgraph.render(graph, x[c])) <= 1e-6


def test_stereo_graph_from_mono_audio() -> None:
    a, b = random_taps(4, 45), random_taps(4, 46)
    g = Graph()
    g.add("in", "input")
    g.add("left", "model", model=linear(a))
    g.add("right", "model", model=linear(b))
    g.add("merge", "merge")
    g.add("out", "output")
    g.connect("in", "left", "merge")
    g.connect("in", "right", "merge")
    g.connect("merge", "out")
    y = g.render(X)
    assert y.shape == (2, T)
    assert max_err(y[0], fir(X, a)) <= 1e-6 and max_err(y[1], fir(X, b)) <= 1e-6


# ----------------------------------------------------------------------------- compile reuse


def test_new_values_reuse_the_compile() -> None:
    graph = chain(linear(random_taps(7, 50)), gain(-3.0))
    namgraph.render(graph, X)
    before = render_offline_jit._cache_size()
    louder = graph.with_params({"gain": {"db": np.float32(6.0)}})
    assert louder.node("gain").config.db == 6.0 and louder != graph
    other_taps = chain(linear(random_taps(7, 51)), gain(1.0))
    y = namgraph.render(louder, X)
    namgraph.render(other_taps, X)
    assert render_offline_jit._cache_size() == before  # same shape: no new compile
    assert max_err(y, 10 ** (6 / 20) * fir(X, graph.params["linear"]["ir"])) <= 1e-6


def test_compile_is_cached_until_the_graph_changes() -> None:
    g = chain(linear(random_taps(3, 52)))
    first = g.compile()
    assert g.compile() is first
    g.add("extra", "gain")
    with pytest.raises(namgraph.errors.UnreachableNodeError):
        g.compile()


# ----------------------------------------------------------------------------- plain data


def test_graphs_pickle_and_compare() -> None:
    rig, _ = example_rig()
    back = pickle.loads(pickle.dumps(rig))
    assert back == rig and back is not rig
    assert repr(back) == repr(rig)
    np.testing.assert_array_equal(namgraph.render(back, RIG_X), namgraph.render(rig, RIG_X))  # one compile, shared
    louder = rig.with_params({"cab_b": {"ir": np.zeros(64, np.float32)}})
    assert louder != rig and rig == back
    assert chain(linear([1.0, 0.5])) != chain(linear([1.0, 0.25]))
    assert chain(gain(1.0)) != chain(gain(2.0)) and chain(gain(1.0)) == chain(gain(1.0))
    assert chain(gain(1.0)) != chain(gain(1.0), align_latency=False)


def test_nesting_is_free() -> None:
    a, b, c = (random_taps(3, s) for s in (60, 61, 62))
    inner = parallel(linear(b), chain(linear(c), polarity()), mix="sum")
    g = chain(linear(a), inner, parallel(inner, gain(0.0)))
    xa = fir(X, a)
    first = fir(xa, b) - fir(xa, c)
    want = (fir(first, b) - fir(first, c) + first) / 2
    assert max_err(namgraph.render(g, X), want) <= 1e-6
    assert len([n for n in g.nodes if n.kind == "model"]) == 5
