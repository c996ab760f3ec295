"""LSTM against the float64 reference (stored state + Core's prewarm), streaming, and its facts.

Tolerance: max |JAX - reference| <= 1e-5 * max(1, max |reference|) (float32 against float64
rounding; anything near 1e-4 would be a semantic difference, not rounding). The stored
``h0``/``c0`` here are random, not a fixed point, so the prewarm length matters.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from namgraph import engine
from namgraph.format.configs import LSTMConfig
from namgraph.models.base import RenderOptions
from namgraph.models.lstm import LSTM
from model_checks import assert_close, signal, stream
from reference import numpy_models as ref

# name: (config, sample rate). Low rates keep the prewarm (rate / 2, in 64-blocks) short.
CONFIGS = {
    "1x5": (dict(input_size=1, hidden_size=5, num_layers=1), 2000.0),
    "2x4_2in_3out_no_rate": (dict(input_size=2, hidden_size=4, num_layers=2, in_channels=2, out_channels=3), None),
    "3x3_2out": (dict(input_size=1, hidden_size=3, num_layers=3, out_channels=2), 1000.0),
    "passthrough_2in_3out": (dict(input_size=2, hidden_size=2, num_layers=0, in_channels=2, out_channels=3), 48_000.0),
}



def make(name: str, seed: int = 0) -> tuple[LSTM, dict[str, np.ndarray]]:
    config, rate = CONFIGS[name]
    arch = LSTM.build(LSTMConfig.model_validate(config), rate, ())
    rng = np.random.default_rng(seed)
    params = {}
    for t in arch.tensors():
        scale = 0.8 if t.name.endswith(("h0", "c0")) else 1.0 / np.sqrt(t.shape[-1])
        params[t.name] = (scale * rng.standard_normal(t.shape)).astype(np.float32)
    return arch, params


@pytest.mark.parametrize("name", list(CONFIGS))
def test_offline_matches_reference(name: str) -> None:
    arch, params = make(name)
    x = signal(arch.in_channels, 600)
    y = np.asarray(engine.render_offline_jit(arch, params, jnp.asarray(x)))
    assert_close(y, ref.lstm(arch.config, params, x, arch.sample_rate))


def test_prewarm_matters_for_these_weights() -> None:
    """Guards the test above: with random stored state, skipping the prewarm changes the output."""
    arch, params = make("1x5")
    x = signal(1, 600)
    with_prewarm = ref.lstm(arch.config, params, x, arch.sample_rate)
    without = ref.lstm(arch.config, params, x, arch.sample_rate, prewarm=False)
    assert np.max(np.abs(with_prewarm - without)) > 1e-3


def test_fast_tanh_matches_reference() -> None:
    arch, params = make("1x5", seed=5)
    fast = arch.configure(RenderOptions(fast_tanh=True))
    assert fast.fast_tanh and not arch.fast_tanh and fast.sample_rate == arch.sample_rate
    x = 3.0 * signal(1, 400)
    y = np.asarray(engine.render_offline_jit(fast, params, jnp.asarray(x)))
    expected = ref.lstm(arch.config, params, x, arch.sample_rate, fast_tanh_mode=True)
    assert_close(y, expected)
    assert np.max(np.abs(expected - ref.lstm(arch.config, params, x, arch.sample_rate))) > 1e-4


@pytest.mark.parametrize("name", ["1x5", "2x4_2in_3out_no_rate"])
def test_streaming_any_partition_matches_offline(name: str) -> None:
    arch, params = make(name, seed=3)
    sizes = list(np.random.default_rng(13).choice([1, 37, 200], size=12))
    x = signal(arch.in_channels, int(sum(sizes)), seed=4)
    offline = np.asarray(engine.render_offline_jit(arch, params, jnp.asarray(x)))
    streamed = stream(arch, params, x, sizes)
    np.testing.assert_allclose(streamed, offline, rtol=0, atol=1e-6)


def test_initial_state_is_the_stored_state() -> None:
    arch, params = make("3x3_2out")
    state = arch.initial_state(params)
    assert len(state) == 3
    for layer, (h, c) in enumerate(state):
        np.testing.assert_array_equal(np.asarray(h), params[f"layers.{layer}.h0"])
        np.testing.assert_array_equal(np.asarray(c), params[f"layers.{layer}.c0"])


@pytest.mark.parametrize(
    ("rate", "expected"), [(48_000.0, 24_000), (44_100.0, 22_050), (22_050.0, 11_025), (1.0, 1), (None, 1), (-1.0, 1)]
)
def test_prewarm_samples_follow_core(rate: float | None, expected: int) -> None:
    """Core: ``(int)(0.5 * rate)``, or 1 when that is not positive (spec 5.4)."""
    arch = LSTM.build(LSTMConfig(input_size=1, hidden_size=2, num_layers=1), rate, ())
    assert arch.prewarm_samples() == expected


def test_shape_facts() -> None:
    arch, _ = make("2x4_2in_3out_no_rate")
    assert (arch.in_channels, arch.out_channels, arch.receptive_field()) == (2, 3, 1)
    # Spec 5.2's count: sum_l [4H (I_l + H) + 4H + 2H] + out H + out.
    h = 4
    expected = (4 * h * (2 + h) + 6 * h) + (4 * h * (h + h) + 6 * h) + 3 * h + 3
    assert sum(t.size for t in arch.tensors()) == expected
    assert hash(arch) == hash(make("2x4_2in_3out_no_rate")[0])


def test_gradients_flow_to_file_weights() -> None:
    """``prepare`` rearranges weights inside the jitted function, so gradients reach the file tensors."""
    arch, params = make("1x5", seed=8)
    arch = LSTM.build(arch.config, None, ())  # unknown rate: a 64-sample prewarm keeps this quick
    x = jnp.asarray(signal(1, 64))
    jparams = {k: jnp.asarray(v) for k, v in params.items()}

    def loss(p):
        return jnp.sum(engine.render_offline(arch, p, x) ** 2)

    grads = jax.jit(jax.grad(loss))(jparams)
    loss = jax.jit(loss)
    for name in ("layers.0.w", "layers.0.b", "head.weight"):
        assert np.all(np.isfinite(grads[name])) and np.any(grads[name] != 0), name
    # Central difference on one head weight: d/dw of sum(y^2), float32, loose tolerance.
    eps = 1e-2
    bump = jnp.zeros_like(jparams["head.weight"]).at[0, 0].set(eps)
    numeric = (loss({**jparams, "head.weight": jparams["head.weight"] + bump})
               - loss({**jparams, "head.weight": jparams["head.weight"] - bump})) / (2 * eps)
    np.testing.assert_allclose(float(grads["head.weight"][0, 0]), float(numeric), rtol=2e-3)
