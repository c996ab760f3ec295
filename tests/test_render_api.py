"""``namgraph.render``: layouts, dual mono, batching, dtypes and errors.

Linear models keep these fast and give an exact reference: ``np.convolve`` with the taps.
Streaming/offline equality and per-architecture parity are tested elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import namgraph
from nam_docs import write_linear
from namgraph.engine import render_offline_jit
from namgraph.errors import AudioError, ChannelMismatchError, NamGraphError, OptionError
from namgraph.format.configs import LinearConfig
from namgraph.models.base import Architecture
from namgraph.models.linear import Linear
from namgraph.engine import render_vmapped_jit

TAPS = np.array([0.5, -0.25, 0.125, 0.0625], np.float32)


@dataclass(frozen=True)
class Stub:
    """The two attributes render() needs from a Model (the loader is tested elsewhere)."""

    architecture: Architecture
    params: Any
    source: str | None = "stub.nam"


def fir(cin: int = 1, cout: int = 1, bias: float | None = None) -> Stub:
    arch = Linear(LinearConfig(receptive_field=len(TAPS), bias=bias is not None, in_channels=cin, out_channels=cout))
    params = {"ir": TAPS} | ({} if bias is None else {"bias": np.array([bias], np.float32)})
    return Stub(arch, params)


MONO = fir()


def ref(x: np.ndarray, bias: float = 0.0) -> np.ndarray:
    """Core's Linear: y[t] = bias + sum_k ir[k] x[t-k], zero history."""
    return np.convolve(np.asarray(x, np.float64), TAPS.astype(np.float64))[: len(x)] + bias


def noise(*shape: int, seed: int = 0) -> np.ndarray:
    return (0.3 * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def test_1d_in_1d_out() -> None:
    x = noise(300)
    y = namgraph.render(MONO, x)
    assert y.shape == (300,) and y.dtype == np.float32 and y.flags.writeable
    np.testing.assert_allclose(y, ref(x), atol=1e-6, rtol=0)


def test_float64_and_lists_are_accepted() -> None:
    x = noise(50).astype(np.float64)
    np.testing.assert_allclose(namgraph.render(MONO, x), ref(x), atol=1e-6, rtol=0)
    np.testing.assert_allclose(namgraph.render(MONO, x.tolist()), ref(x), atol=1e-6, rtol=0)


def test_channel_first_matches_model_channels() -> None:
    # Linear with 2 in / 2 out filters both channels with the same taps (Core's snapshot semantics).
    x = noise(2, 200)
    y = namgraph.render(fir(2, 2), x)
    assert y.shape == (2, 200)
    for c in range(2):
        np.testing.assert_allclose(y[c], ref(x[c]), atol=1e-6, rtol=0)


def test_dual_mono_processes_each_channel_on_its_own() -> None:
    x = noise(2, 200)
    x[1] *= -2.0
    model = fir(bias=0.25)
    y = namgraph.render(model, x)
    assert y.shape == (2, 200)
    for c in range(2):
        np.testing.assert_allclose(y[c], ref(x[c], 0.25), atol=1e-6, rtol=0)


def test_batch_equals_item_by_item() -> None:
    x = noise(3, 1, 150, seed=1)
    y = namgraph.render(MONO, x)
    assert y.shape == (3, 1, 150)
    for b in range(3):
        np.testing.assert_allclose(y[b, 0], ref(x[b, 0]), atol=1e-6, rtol=0)


def test_batch_of_dual_mono() -> None:
    x = noise(2, 3, 100, seed=2)
    y = namgraph.render(MONO, x)
    assert y.shape == (2, 3, 100)
    for b in range(2):
        for c in range(3):
            np.testing.assert_allclose(y[b, c], ref(x[b, c]), atol=1e-6, rtol=0)


def test_one_in_two_out_model_on_1d_audio() -> None:
    y = namgraph.render(fir(1, 2), noise(80))
    assert y.shape == (2, 80)
    np.testing.assert_allclose(y[0], ref(noise(80)), atol=1e-6, rtol=0)
    np.testing.assert_array_equal(y[1], 0.0)  # Core: outputs beyond the inputs are silent


def test_int16_is_pcm_scaled() -> None:
    pcm = (noise(120) * 32767).astype(np.int16)
    np.testing.assert_array_equal(namgraph.render(MONO, pcm), namgraph.render(MONO, pcm.astype(np.float32) / 32768))


@pytest.mark.parametrize("dtype", [np.int64, np.uint16, np.bool_, np.complex64, object])
def test_ambiguous_dtypes_are_refused(dtype) -> None:
    with pytest.raises(AudioError, match="dtype|full scale"):
        namgraph.render(MONO, np.zeros(10, dtype=dtype))


@pytest.mark.parametrize(("shape", "expected"), [((0,), (0,)), ((2, 0), (2, 0)), ((0, 1, 5), (0, 1, 5))])
def test_empty_audio_gives_empty_output(shape, expected) -> None:
    y = namgraph.render(MONO, np.zeros(shape, np.float32))
    assert y.shape == expected and y.dtype == np.float32


def test_wrong_channel_count_names_model_and_counts() -> None:
    with pytest.raises(ChannelMismatchError) as info:
        namgraph.render(fir(2, 2), noise(3, 100))
    message = str(info.value)
    assert "stub.nam" in message and "2 input channels" in message and "has 3" in message
    with pytest.raises(ChannelMismatchError, match="has 1"):
        namgraph.render(fir(2, 2), noise(100))
    with pytest.raises(ChannelMismatchError):  # mono in but two out: dual mono would be ambiguous
        namgraph.render(fir(1, 2), noise(2, 100))


def test_time_major_audio_is_refused_with_a_hint() -> None:
    with pytest.raises(AudioError, match=r"audio\.T"):
        namgraph.render(MONO, noise(1000, 2))
    with pytest.raises(AudioError, match=r"audio\.T"):
        namgraph.render(MONO, noise(4, 1000, 2))


@pytest.mark.parametrize("shape", [(), (1, 1, 1, 10)])
def test_bad_rank_is_refused(shape) -> None:
    with pytest.raises(AudioError, match="1-D"):
        namgraph.render(MONO, np.zeros(shape, np.float32))


def test_non_finite_audio_says_how_many_and_where() -> None:
    x = noise(2, 50)
    x[1, 7] = np.nan
    x[1, 9] = np.inf
    with pytest.raises(AudioError, match=r"2 non-finite .* sample 7, channel 1"):
        namgraph.render(MONO, x)
    with pytest.raises(AudioError, match="1 non-finite"):
        namgraph.render(MONO, np.array([0.0, 1e300]))  # too large for float32


@pytest.mark.parametrize("size", [-0.1, 1.01, float("nan"), "1", True])
def test_size_out_of_range(size) -> None:
    with pytest.raises(OptionError, match="size"):
        namgraph.render(MONO, noise(10), size=size)


def test_bad_object_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="Model, a Graph or a path"):
        namgraph.render(42, noise(10))


def test_compiles_are_reused() -> None:
    x = noise(333, seed=5)
    namgraph.render(MONO, x)
    single = render_offline_jit._cache_size()
    other = Stub(MONO.architecture, {"ir": TAPS * 2})  # same shape, new weights: no recompile
    np.testing.assert_allclose(namgraph.render(other, x), 2 * ref(x), atol=2e-6, rtol=0)
    assert render_offline_jit._cache_size() == single
    namgraph.render(MONO, noise(2, 333))
    batched = render_offline_jit._cache_size() + render_vmapped_jit._cache_size()  # either, per backend
    namgraph.render(other, noise(2, 333, seed=6))
    assert render_offline_jit._cache_size() + render_vmapped_jit._cache_size() == batched


def test_render_a_path(tmp_path: Path) -> None:
    path = write_linear(tmp_path / "ir.nam", TAPS)
    x = noise(64)
    np.testing.assert_allclose(namgraph.render(path, x), ref(x), atol=1e-6, rtol=0)
    np.testing.assert_allclose(namgraph.render(str(path), x), ref(x), atol=1e-6, rtol=0)
    with pytest.raises(NamGraphError, match="missing.nam"):
        namgraph.render(tmp_path / "missing.nam", x)


def test_render_a_dag_rig_file(tmp_path: Path) -> None:
    """A DAG file loads as a Graph; render compiles it like a Graph given directly."""
    ir = namgraph.load(write_linear(tmp_path / "ir.nam", TAPS))
    rig = tmp_path / "rig.nam"
    namgraph.save(namgraph.parallel(ir, namgraph.chain(ir, ir), mix="sum"), rig, form="dag")
    x = noise(200)
    expected = ref(x) + ref(ref(x))
    np.testing.assert_allclose(namgraph.render(rig, x), expected, atol=1e-6, rtol=0)
