"""The numpy front end of the engine: length buckets and time-split parallel renders."""

from __future__ import annotations

import numpy as np
import pytest

from namgraph.engine import bucket_length, render_array, render_offline_jit
from namgraph.format.configs import LinearConfig, LSTMConfig, WaveNetConfig
from namgraph.format.layout import unpack
from namgraph.models.linear import Linear
from namgraph.models.lstm import LSTM
from namgraph.models.wavenet import WaveNet


def _wavenet() -> tuple[WaveNet, dict]:
    cfg = WaveNetConfig.model_validate({
        "layers": [{
            "input_size": 1, "condition_size": 1, "head_size": 1, "channels": 3, "kernel_size": 3,
            "dilations": [1, 4, 16], "activation": "Tanh", "gated": False, "head_bias": True,
        }],
        "head_scale": 0.5,
    })
    arch = WaveNet.build(cfg, 48_000.0, ())
    rng = np.random.default_rng(3)
    n = sum(t.size for t in arch.tensors())
    return arch, unpack(arch.tensors(), rng.normal(0, 0.5, n).astype(np.float32))


@pytest.mark.parametrize("n", [1, 100, 1024, 5000, 16 * 1024, 17 * 1024, 100_000, 1_000_000])
def test_bucket_length_covers_and_wastes_little(n: int) -> None:
    b = bucket_length(n, 1024)
    assert b >= n and b % 1024 == 0
    assert b - n < max(1024, 0.0625 * n + 1024)


def test_buckets_are_few_per_octave() -> None:
    sizes = {bucket_length(n, 512) for n in range(64 * 512, 128 * 512, 37)}
    assert len(sizes) <= 17


def test_time_split_render_equals_whole_render() -> None:
    arch, params = _wavenet()
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3 * 48_000 + 123)).astype(np.float32)
    whole = np.asarray(render_offline_jit(arch, params, x))
    split = render_array(arch, params, x, workers=3)
    assert split.shape == whole.shape
    np.testing.assert_allclose(split, whole, atol=1e-6, rtol=0)


def test_time_split_is_exact_at_segment_boundaries() -> None:
    """A click just before a boundary must ring on into the next segment."""
    arch, params = _wavenet()
    x = np.zeros((1, 2 * 48_000), np.float32)
    x[0, 48_000 - 5] = 1.0
    whole = np.asarray(render_offline_jit(arch, params, x))
    split = render_array(arch, params, x, workers=2)
    np.testing.assert_allclose(split, whole, atol=1e-6, rtol=0)


def test_recurrent_models_are_never_split() -> None:
    cfg = LSTMConfig(input_size=1, hidden_size=3, num_layers=1)
    arch = LSTM.build(cfg, 48_000.0, ())
    assert not arch.has_finite_memory()
    rng = np.random.default_rng(1)
    params = unpack(arch.tensors(), rng.normal(0, 0.5, sum(t.size for t in arch.tensors())).astype(np.float32))
    x = rng.uniform(-1, 1, (1, 2 * 48_000)).astype(np.float32)
    np.testing.assert_allclose(render_array(arch, params, x, workers=4), np.asarray(render_offline_jit(arch, params, x)), atol=1e-7)


def test_linear_has_finite_memory() -> None:
    assert Linear(LinearConfig(receptive_field=8, bias=False)).has_finite_memory()
