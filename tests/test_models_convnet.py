"""ConvNet against the float64 reference (Core's start-up), streaming, and its shape facts.

Tolerance: max |JAX - reference| <= 1e-5 * max(1, max |reference|) (float32 against float64
rounding; anything near 1e-4 would be a semantic difference, not rounding).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from namgraph import engine
from namgraph.format.configs import ConvNetConfig
from namgraph.models.base import RenderOptions
from namgraph.models.convnet import ConvNet
from model_checks import assert_close, signal, stream
from reference import numpy_models as ref

CONFIGS = {
    "plain_tanh": dict(channels=3, dilations=[1, 2, 4], batchnorm=False, activation="Tanh"),
    "bn_groups2_2in_3out": dict(
        channels=4, dilations=[2, 1, 8], batchnorm=True, activation="Tanh", groups=2, in_channels=2, out_channels=3
    ),
    "bias_groups2_prelu": dict(
        channels=4,
        dilations=[1, 3],
        batchnorm=False,
        activation={"type": "PReLU", "negative_slopes": [0.1, 0.2, 0.3, 0.4]},
        groups=2,
        in_channels=2,
    ),
    "bn_relu_3out": dict(channels=5, dilations=[4, 16, 1], batchnorm=True, activation="ReLU", out_channels=3),
    # A dilation beyond the default chunk: rendered in 4096-sample chunks (history-sized).
    "long_dilation": dict(channels=2, dilations=[1, 2500], batchnorm=False, activation="Tanh"),
}



def make(name: str, seed: int = 0) -> tuple[ConvNet, dict[str, np.ndarray]]:
    arch = ConvNet.build(ConvNetConfig.model_validate(CONFIGS[name]), 48_000.0, ())
    rng = np.random.default_rng(seed)
    params = {}
    for t in arch.tensors():
        if t.name.endswith("running_var"):
            value = rng.uniform(0.3, 2.0, t.shape)
        elif t.name.endswith("eps"):
            value = np.full(t.shape, 0.05)  # large enough that ignoring it would show
        else:
            fan_in = int(np.prod(t.shape[1:])) if len(t.shape) > 1 else 1
            value = rng.standard_normal(t.shape) / np.sqrt(fan_in)
        params[t.name] = value.astype(np.float32)
    return arch, params


@pytest.mark.parametrize("name", list(CONFIGS))
def test_offline_matches_reference(name: str) -> None:
    arch, params = make(name)
    x = signal(arch.in_channels, 3000)  # > one 2048-sample engine chunk: chunk boundaries are crossed
    y = np.asarray(engine.render_offline_jit(arch, params, jnp.asarray(x)))
    assert_close(y, ref.convnet(arch.config, params, x))


def test_fast_tanh_matches_reference() -> None:
    arch, params = make("plain_tanh", seed=5)
    fast = arch.configure(RenderOptions(fast_tanh=True))
    assert fast.fast_tanh and not arch.fast_tanh
    x = 3.0 * signal(1, 500)  # drive the tanh hard, where the two differ most
    y = np.asarray(engine.render_offline_jit(fast, params, jnp.asarray(x)))
    expected = ref.convnet(arch.config, params, x, fast_tanh_mode=True)
    assert_close(y, expected)
    assert np.max(np.abs(expected - ref.convnet(arch.config, params, x))) > 1e-4  # the mode really differs


def test_start_up_is_prewarmed() -> None:
    """Core prewarms (spec 1.3): a silent input gives the steady-state output from the first sample."""
    arch, params = make("bn_groups2_2in_3out", seed=2)
    y = np.asarray(engine.render_offline_jit(arch, params, jnp.zeros((2, 64), jnp.float32)))
    assert np.max(np.abs(y - y[:, -1:])) <= 1e-6
    assert np.max(np.abs(y)) > 1e-3  # biases make the steady state non-zero, so this checks something


@pytest.mark.parametrize("name", ["plain_tanh", "bn_groups2_2in_3out"])
def test_streaming_any_partition_matches_offline(name: str) -> None:
    arch, params = make(name, seed=3)
    sizes = list(np.random.default_rng(11).choice([1, 3, 64, 250], size=12))
    x = signal(arch.in_channels, int(sum(sizes)), seed=4)
    offline = np.asarray(engine.render_offline_jit(arch, params, jnp.asarray(x)))
    streamed = stream(arch, params, x, sizes)
    np.testing.assert_allclose(streamed, offline, rtol=0, atol=1e-6)


def test_chunks_cover_the_longest_dilation() -> None:
    assert make("plain_tanh")[0].preferred_chunk() == 2048
    assert make("long_dilation")[0].preferred_chunk() == 4096


def test_shape_facts() -> None:
    arch, _ = make("bn_groups2_2in_3out")
    assert (arch.in_channels, arch.out_channels) == (2, 3)
    assert arch.receptive_field() == arch.prewarm_samples() == 1 + 2 + 1 + 8
    # Spec 4.2's count: sum_i [2 C C_in,i / g + (bn ? 4C + 1 : C)] + out C + out.
    c, g = 4, 2
    expected = (2 * c * 2 // g + 4 * c + 1) + 2 * (2 * c * c // g + 4 * c + 1) + 3 * c + 3
    assert sum(t.size for t in arch.tensors()) == expected
    assert hash(arch) == hash(make("bn_groups2_2in_3out")[0])  # a static jit argument
