"""Streaming equals the offline render for any partition into blocks; batched streams equal
each stream; ``render_streaming`` and ``namgraph render --block`` give the offline audio.

The offline render is the reference (itself checked against NumPy and Core elsewhere); the
systems are causal, so a streamed prefix equals the offline render's prefix. Block sizes
come from a small set so the number of compiles stays bounded. Tolerance 1e-6 absolute
(different block lengths change float32 fusion, not the arithmetic).
"""

from __future__ import annotations

from functools import cache

import jax.numpy as jnp
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import namgraph
from graph_parts import linear, lstm, max_err, noise, random_taps, wavenet
from namgraph.cli import cli
from namgraph.errors import OptionError
from namgraph.graph import Graph, chain, delay, gain, parallel
from namgraph.streaming import FlatLayout, Stream, render_streaming

N = 600
X = noise(N, seed=70)
SIZES = [1, 3, 16, 64, 97]


@cache
def mixed_rig() -> Graph:
    """Stateful parts of every kind (WaveNet, LSTM, biased Linear, a delay), then a dry/wet mix
    around a WaveNet: built with chain/parallel and, for the mix, the explicit builder."""
    inner = chain(wavenet(71, sample_rate=200.0), parallel(lstm(72), chain(linear(random_taps(9, 73), bias=0.05, sample_rate=200.0), delay(5))))
    g = Graph()
    g.add("in", "input")
    g.add("fx", "model", model=wavenet(74, sample_rate=200.0))
    g.add("blend", "mix", amount=0.4, law="equal_power")
    g.add("out", "output")
    g.connect("in", "fx")
    g.connect("in", "blend", port="dry")
    g.connect("fx", "blend", port="wet")
    g.connect("blend", "out")
    return chain(inner, g)


@cache
def offline() -> np.ndarray:
    return namgraph.render(mixed_rig(), X)


@cache
def stream() -> Stream:
    return Stream(mixed_rig())


def run_blocks(s: Stream, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    state, out, pos = s.init_state(), [], 0
    for n in sizes:
        state, y = s.step(s.params, state, x[..., pos : pos + n])
        out.append(np.asarray(y))
        pos += n
    return np.concatenate(out, axis=-1)


@given(st.lists(st.sampled_from(SIZES), min_size=1, max_size=40))
def test_any_partition_equals_offline(sizes: list[int]) -> None:
    total = sum(sizes)
    if total > N:  # keep the prefix inside the signal
        keep, acc = [], 0
        for n in sizes:
            if acc + n > N:
                break
            keep.append(n)
            acc += n
        sizes = keep or [1]
        total = sum(sizes)
    got = run_blocks(stream(), X, sizes)
    assert max_err(got, offline()[:total]) <= 1e-6


def test_whole_signal_in_fixed_blocks() -> None:
    assert max_err(run_blocks(stream(), X, [64] * (N // 64) + [N % 64]), offline()) <= 1e-6


def test_state_is_flat_and_the_step_pure() -> None:
    s = stream()
    state = s.init_state()
    assert state.ndim == 1 and state.dtype == jnp.float32 and s.params.ndim == 1
    a = s.step(s.params, state, X[:64])
    b = s.step(s.params, state, X[:64])  # the same state again: the same result
    np.testing.assert_array_equal(np.asarray(a[1]), np.asarray(b[1]))
    np.testing.assert_array_equal(np.asarray(a[0]), np.asarray(b[0]))


def test_process_keeps_state_and_reset_restarts() -> None:
    s = Stream(mixed_rig())
    first = np.concatenate([s.process(X[i : i + 100]) for i in range(0, 300, 100)])
    assert max_err(first, offline()[:300]) <= 1e-6
    s.reset()
    assert max_err(s.process(X[:100]), offline()[:100]) <= 1e-6


def test_pack_takes_new_params() -> None:
    g = chain(linear(random_taps(4, 75)), gain(0.0))
    s = Stream(g)
    louder = g.params | {"gain": {"db": np.float32(20.0)}}
    _, y = s.step(s.pack(louder), s.init_state(), X[:50])
    assert max_err(y, 10.0 * namgraph.render(g, X[:50])) <= 1e-5


def test_batched_stream_equals_each_stream() -> None:
    clips = noise(3, 1, 200, seed=76)
    s = Stream(mixed_rig(), batch=3)
    state = s.init_state()
    assert state.shape[0] == 3
    out = []
    for pos, n in ((0, 100), (100, 100)):
        state, y = s.step(s.params, state, clips[..., pos : pos + n])
        out.append(np.asarray(y))
    got = np.concatenate(out, axis=-1)
    assert got.shape == (3, 1, 200)
    want = namgraph.render(mixed_rig(), clips)
    assert max_err(got, want) <= 1e-6


def test_render_streaming_layouts() -> None:
    x = noise(2, 300, seed=77)  # dual mono: each channel streamed on its own
    got = render_streaming(mixed_rig(), x, 100)
    assert max_err(got, namgraph.render(mixed_rig(), x)) <= 1e-6
    assert render_streaming(mixed_rig(), X[:10], 64).shape == (10,)
    with pytest.raises(OptionError, match="positive number of samples"):
        render_streaming(mixed_rig(), X, 0)


def test_stream_of_a_plain_model() -> None:
    m = lstm(78)
    got = run_blocks(Stream(m), X[:300], [100, 1, 199])
    assert max_err(got, namgraph.render(m, X[:300])) <= 1e-6


def test_unpacked_stream_gives_the_same_audio() -> None:
    s = Stream(mixed_rig(), packed=False)
    assert isinstance(s.params, tuple)  # the graph's prepared pytree, one entry per node
    assert max_err(run_blocks(s, X, [64, 97, 16]), offline()[:177]) <= 1e-6


def test_flat_layout_round_trip() -> None:
    tree = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": (np.float32(2.0), np.zeros((0,), np.float32))}
    layout = FlatLayout.of(tree)
    flat = layout.pack(tree)
    assert flat.shape == (7,) and layout.size == 7
    back = layout.unpack(flat)
    np.testing.assert_array_equal(back["a"], tree["a"])
    assert float(back["b"][0]) == 2.0
    with pytest.raises(ValueError, match="does not match"):
        layout.pack({"a": tree["a"]})


def test_cli_block_option(tmp_path) -> None:
    model = tmp_path / "cab.nam"
    model.write_bytes(open("examples/rig/cab.nam", "rb").read())
    wav = tmp_path / "in.wav"
    x = noise(2, 1000, seed=79)
    sf.write(wav, x.T, 48000, subtype="FLOAT")
    outs = {}
    for name, extra in (("whole", []), ("blocks", ["--block", "64"])):
        out = tmp_path / f"{name}.wav"
        result = CliRunner().invoke(cli, ["render", str(model), str(wav), str(out), *extra])
        assert result.exit_code == 0, result.output
        outs[name] = sf.read(out, dtype="float32")[0]
    assert "in streaming blocks of 64 samples" in result.output
    assert outs["blocks"].shape == (1000, 2)
    assert max_err(outs["blocks"], outs["whole"]) <= 1e-6
    bad = CliRunner().invoke(cli, ["render", str(model), str(wav), str(tmp_path / "x.wav"), "--block", "0"])
    assert bad.exit_code == 2
