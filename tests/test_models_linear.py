"""Linear (FIR, Core's chronological tap order) against the float64 reference, and streaming.

Tolerance: max |JAX - reference| <= 1e-5 * max(1, max |reference|) (float32 against float64
rounding; anything near 1e-4 would be a semantic difference, not rounding).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from namgraph import engine
from namgraph.format.configs import LinearConfig
from namgraph.models.linear import Linear
from reference import numpy_models as ref

TOL = 1e-5
CONFIGS = {
    "rf10_bias": dict(receptive_field=10, bias=True),
    "rf5_2in_3out": dict(receptive_field=5, bias=False, in_channels=2, out_channels=3),
    "rf3_3in_2out_bias": dict(receptive_field=3, bias=True, in_channels=3, out_channels=2),
    "rf300_long_ir": dict(receptive_field=300, bias=True),
}

_step = jax.jit(lambda arch, prepared, state, x: arch.step(prepared, state, x), static_argnums=0)
_prepare = jax.jit(lambda arch, params: arch.prepare(params), static_argnums=0)
_start = jax.jit(engine.start_state, static_argnums=0)


def make(name: str, seed: int = 0) -> tuple[Linear, dict[str, np.ndarray]]:
    arch = Linear.build(LinearConfig.model_validate(CONFIGS[name]), 48_000.0, ())
    rng = np.random.default_rng(seed)
    params = {t.name: (rng.standard_normal(t.shape) / np.sqrt(t.shape[0])).astype(np.float32) for t in arch.tensors()}
    return arch, params


def signal(channels: int, n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (channels, n)).astype(np.float32)


def assert_close(y: np.ndarray, expected: np.ndarray, tol: float = TOL) -> None:
    assert y.shape == expected.shape
    err = float(np.max(np.abs(np.asarray(y, np.float64) - expected)))
    assert err <= tol * max(1.0, float(np.max(np.abs(expected)))), f"max abs error {err:.3g}"


def stream(arch, params, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Render through ``arch.step`` block by block, after Core's start-up."""
    prepared = _prepare(arch, params)
    state = _start(arch, prepared, params)
    out, pos = [], 0
    for n in sizes:
        state, y = _step(arch, prepared, state, jnp.asarray(x[:, pos : pos + n]))
        out.append(np.asarray(y))
        pos += n
    return np.concatenate(out, axis=1)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_offline_matches_reference(name: str) -> None:
    arch, params = make(name)
    x = signal(arch.in_channels, 1500)
    y = np.asarray(engine.render_offline_jit(arch, params, jnp.asarray(x)))
    assert_close(y, ref.linear(arch.config, params, x))


def test_reference_is_chronological() -> None:
    """Guards the reference itself: ir[0] multiplies the current sample (spec 3.3)."""
    cfg = LinearConfig(receptive_field=3, bias=False)
    impulse = np.zeros((1, 6))
    impulse[0, 1] = 1.0
    y = ref.linear(cfg, {"ir": np.array([1.0, 2.0, 3.0])}, impulse)
    np.testing.assert_array_equal(y, [[0, 1, 2, 3, 0, 0]])


@pytest.mark.parametrize("name", ["rf10_bias", "rf5_2in_3out", "rf300_long_ir"])
def test_streaming_any_partition_matches_offline(name: str) -> None:
    arch, params = make(name, seed=3)
    rng = np.random.default_rng(7)
    sizes = list(rng.choice([1, 7, 64, 301], size=12))  # few distinct sizes: each one compiles once
    x = signal(arch.in_channels, int(sum(sizes)), seed=4)
    offline = np.asarray(engine.render_offline_jit(arch, params, jnp.asarray(x)))
    streamed = stream(arch, params, x, sizes)
    np.testing.assert_allclose(streamed, offline, rtol=0, atol=1e-6)


def test_shape_properties() -> None:
    arch, _ = make("rf300_long_ir")
    assert (arch.in_channels, arch.out_channels, arch.receptive_field(), arch.prewarm_samples()) == (1, 1, 300, 0)
    assert [t.size for t in arch.tensors()] == [300, 1]
