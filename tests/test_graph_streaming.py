"""Streaming equals the offline render for any partition into blocks; batched streams equal
each stream; ``render_streaming`` and ``namgraph render --block`` give the offline audio.

The offline render is the reference (itself checked against NumPy and Core elsewhere); the
systems are causal, so a streamed prefix equals the offline render's prefix. Block sizes
come from a small set so the number of compiles stays bounded. Tolerance 1e-6 absolute
(different block lengths change float32 fusion, not the arithmetic).
"""

from __future__ import annotations

from functools import cache

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import namgraph
from conftest import one_kernel_steps_expected
from graph_parts import linear, lstm, max_err, noise, random_taps, wavenet
from namgraph.cli import cli
from namgraph.errors import AudioError, ChannelMismatchError, OptionError, StateError
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


@pytest.mark.parametrize("packed", [False, True])
def test_state_layout_and_the_step_pure(packed: bool) -> None:
    s = stream() if not packed else Stream(mixed_rig(), packed=True)
    state = s.init_state()
    leaves = jax.tree_util.tree_leaves(state)
    assert leaves and all(leaf.dtype == jnp.float32 for leaf in leaves)
    if packed:  # one float32 vector each
        assert state.ndim == 1 and s.params.ndim == 1
    else:  # the graph's own pytrees: one entry per node
        assert isinstance(state, tuple) and isinstance(s.params, tuple) and len(leaves) > 1
    a = s.step(s.params, state, X[:64])
    b = s.step(s.params, state, X[:64])  # the same state again: the same result
    np.testing.assert_array_equal(np.asarray(a[1]), np.asarray(b[1]))
    for leaf_a, leaf_b in zip(jax.tree_util.tree_leaves(a[0]), jax.tree_util.tree_leaves(b[0]), strict=True):
        np.testing.assert_array_equal(np.asarray(leaf_a), np.asarray(leaf_b))


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
    assert all(leaf.shape[0] == 3 for leaf in jax.tree_util.tree_leaves(state))
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


def test_packed_stream_gives_the_same_audio() -> None:
    s = Stream(mixed_rig(), packed=True)
    assert max_err(run_blocks(s, X, [64, 97, 16]), offline()[:177]) <= 1e-6
    batched = Stream(mixed_rig(), packed=True, batch=2)
    assert batched.init_state().shape == (2, s.init_state().size)


def test_blocks_longer_than_the_chunk_are_scanned_in_chunks() -> None:
    """A block longer than the WaveNet's preferred chunk runs as the offline render's scan
    over chunks plus a remainder, from and to the same state as smaller blocks."""
    amp = wavenet(80, sample_rate=200.0)
    x = noise(2600, seed=81)
    chunk = amp.architecture.preferred_chunk()
    assert 2600 > 2 * chunk
    got = run_blocks(Stream(amp), x, [2500, 100])
    assert max_err(got, namgraph.render(amp, x)) <= 1e-6


@pytest.mark.parametrize("packed", [False, True])
def test_gradient_through_the_step(packed: bool) -> None:
    """``jax.grad`` through two steps (a long block scanned in chunks, then a short one)
    agrees with a central difference of the same loss."""
    s = Stream(wavenet(82, sample_rate=200.0), packed=packed)
    x = jnp.asarray(noise(2100, seed=83))

    def loss(params):
        state, first = s.step(params, s.init_state(), x[:1500])
        _, second = s.step(params, state, x[1500:])
        return jnp.sum(first**2) + jnp.sum(second**2)

    flat, unravel = jax.flatten_util.ravel_pytree(s.params)
    grad, _ = jax.flatten_util.ravel_pytree(jax.grad(loss)(s.params))
    for i in (0, 3, flat.size - 1):
        step = jnp.zeros_like(flat).at[i].set(1e-3)
        numeric = (loss(unravel(flat + step)) - loss(unravel(flat - step))) / 2e-3
        assert abs(float(grad[i]) - float(numeric)) <= 1e-3 * max(1.0, abs(float(numeric)))


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


# ----------------------------------------------------------------------------- step_in_place

IN_PLACE_SIZES = [64, 7, 200, 64, 1, 64, 200]  # one-kernel (<= 64 frames) and pure-step blocks mixed


def test_step_in_place_equals_offline_and_says_how_each_shape_runs() -> None:
    s = stream()
    state, out, pos = s.init_state(), [], 0
    for n in IN_PLACE_SIZES:
        state, y = s.step_in_place(s.params, state, X[pos : pos + n])
        out.append(np.asarray(y))
        pos += n
    assert max_err(np.concatenate(out), offline()[:pos]) <= 1e-6
    kinds = s.step_in_place.compiled()  # shared by every stream of this rig (other tests add shapes)
    assert {((n,), "float32") for n in IN_PLACE_SIZES} <= set(kinds)
    assert not kinds[((200,), "float32")]  # longer than ONE_KERNEL_MAX_FRAMES: the pure step
    if one_kernel_steps_expected():
        assert kinds[((64,), "float32")] and kinds[((7,), "float32")]


def test_batched_step_in_place_equals_each_stream() -> None:
    clips = noise(3, 1, 120, seed=77)
    s = Stream(mixed_rig(), batch=3)
    state, out = s.init_state(), []
    for pos, n in ((0, 16), (16, 100), (116, 4)):  # 3 x 16 and 3 x 4 frames are one kernel
        state, y = s.step_in_place(s.params, state, clips[..., pos : pos + n])
        out.append(np.asarray(y))
    assert max_err(np.concatenate(out, axis=-1), namgraph.render(mixed_rig(), clips)) <= 1e-6


def test_a_consumed_state_is_refused_and_a_bad_block_keeps_the_state() -> None:
    s = stream()
    old = s.init_state()
    new, _ = s.step_in_place(s.params, old, X[:64])
    if one_kernel_steps_expected():  # the one-kernel step reuses the state's buffers
        with pytest.raises(StateError, match="already consumed"):
            s.step_in_place(s.params, old, X[:64])
    p = Stream(mixed_rig())
    first = p.process(X[:64])
    with pytest.raises(ChannelMismatchError, match=r"got \(2, 64\): 2 channels"):
        p.process(np.zeros((2, 64), np.float32))  # a mono rig given two channels
    rest = p.process(X[64:128])  # the failed block consumed nothing
    assert max_err(np.concatenate([first, rest]), offline()[:128]) <= 1e-6


def test_blocks_of_the_wrong_shape_are_typed_errors() -> None:
    """Checked when the step is traced: a JAX shape error or a silently dropped channel never reaches the user."""
    s = stream()
    for step in (s.step, s.step_in_place):
        with pytest.raises(ChannelMismatchError, match=r"\(channels=1, frames\) or \(frames,\), got \(2, 64\)"):
            step(s.params, s.init_state(), np.zeros((2, 64), np.float32))
        with pytest.raises(AudioError, match=r"got \(1, 1, 64\)"):
            step(s.params, s.init_state(), np.zeros((1, 1, 64), np.float32))
