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
from model_checks import _prepare, assert_close, signal, stream
from reference import numpy_models as ref

CONFIGS = {
    "rf10_bias": dict(receptive_field=10, bias=True),
    "rf5_2in_3out": dict(receptive_field=5, bias=False, in_channels=2, out_channels=3),
    "rf3_3in_2out_bias": dict(receptive_field=3, bias=True, in_channels=3, out_channels=2),
    "rf300_long_ir": dict(receptive_field=300, bias=True),
}



def make(name: str, seed: int = 0) -> tuple[Linear, dict[str, np.ndarray]]:
    arch = Linear.build(LinearConfig.model_validate(CONFIGS[name]), 48_000.0, ())
    rng = np.random.default_rng(seed)
    params = {t.name: (rng.standard_normal(t.shape) / np.sqrt(t.shape[0])).astype(np.float32) for t in arch.tensors()}
    return arch, params


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


# --------------------------------------------------------------------------- FFT overlap-save path

from namgraph.models import linear as linear_module  # noqa: E402


def _long(taps: int, bias: bool = True, cin: int = 1, cout: int = 1, seed: int = 0) -> tuple[Linear, dict[str, np.ndarray]]:
    arch = Linear(LinearConfig(receptive_field=taps, bias=bias, in_channels=cin, out_channels=cout))
    rng = np.random.default_rng(seed)
    params = {"ir": (rng.standard_normal(taps) / np.sqrt(taps)).astype(np.float32)}
    if bias:
        params["bias"] = np.array([0.25], np.float32)
    return arch, params


def _np_reference(params: dict[str, np.ndarray], x: np.ndarray, cout: int) -> np.ndarray:
    """np.convolve in float64, Core's multi-channel rule (extra outputs silent)."""
    ir = params["ir"].astype(np.float64)
    bias = float(params["bias"][0]) if "bias" in params else 0.0
    y = np.zeros((cout, x.shape[1]))
    for c in range(min(cout, x.shape[0])):
        y[c] = np.convolve(x[c].astype(np.float64), ir)[: x.shape[1]] + bias
    return y


def _rel_err(y: np.ndarray, expected: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(y, np.float64) - expected)) / max(1e-30, float(np.max(np.abs(expected)))))


@pytest.mark.parametrize("taps", [300, 2048, 5000])
def test_fft_path_matches_np_convolve(taps: int) -> None:
    arch, params = _long(taps, seed=taps)
    assert linear_module._plan(taps, arch.preferred_chunk()) is not None  # the offline render uses the FFT
    x = signal(1, 3 * arch.preferred_chunk() + 1234, seed=2)
    y = np.asarray(engine.render_offline_jit(arch, params, jnp.asarray(x)))
    assert _rel_err(y, _np_reference(params, x, 1)) <= 1e-6


@pytest.mark.parametrize(("cin", "cout"), [(2, 3), (3, 2), (2, 2)])
def test_fft_path_multichannel(cin: int, cout: int) -> None:
    arch, params = _long(700, cin=cin, cout=cout, seed=5)
    x = signal(cin, 20_000, seed=6)
    y = np.asarray(engine.render_offline_jit(arch, params, jnp.asarray(x)))
    expected = _np_reference(params, x, cout)
    assert _rel_err(y, expected) <= 1e-6
    if cout > cin:
        assert np.all(y[cin:] == 0.0)


@pytest.mark.parametrize("taps", [300, 2048])
def test_fft_streaming_random_partition_matches_offline(taps: int) -> None:
    """Blocks of sizes that pick different methods (direct / FFT sizes) agree with the offline render."""
    arch, params = _long(taps, cin=2, cout=2, seed=11)
    rng = np.random.default_rng(taps)
    sizes = list(rng.choice([1, 16, 64, 700, 3000, 9001], size=14))
    assert len({linear_module._plan(taps, int(n)) for n in sizes}) >= 2
    x = signal(2, int(sum(sizes)), seed=12)
    offline = np.asarray(engine.render_offline_jit(arch, params, jnp.asarray(x)))
    streamed = stream(arch, params, x, sizes)
    scale = max(1.0, float(np.max(np.abs(offline))))
    np.testing.assert_allclose(streamed, offline, rtol=0, atol=1e-6 * scale)
    assert _rel_err(streamed, _np_reference(params, x, 2)) <= 1e-6


def test_fft_step_accepts_file_params() -> None:
    """``step`` on unprepared params transforms the IR itself (same output)."""
    arch, params = _long(1000, seed=3)
    x = jnp.asarray(signal(1, 4096, seed=4))
    state = arch.initial_state(params)
    _, y_file = jax.jit(arch.step)(params, state, x)
    _, y_prep = jax.jit(arch.step)(_prepare(arch, params), state, x)
    np.testing.assert_allclose(np.asarray(y_file), np.asarray(y_prep), rtol=0, atol=1e-6)


def test_fft_gradient_matches_direct(monkeypatch: pytest.MonkeyPatch) -> None:
    taps = 2048
    arch, params = _long(taps, seed=9)
    x = jnp.asarray(signal(1, 12_000, seed=10))
    target = jnp.asarray(signal(1, 12_000, seed=11))

    def loss(ir: jax.Array) -> jax.Array:
        y = engine.render_offline(arch, {**params, "ir": ir}, x)
        return jnp.mean((y - target) ** 2)

    assert linear_module._plan(taps, arch.preferred_chunk()) is not None
    g_fft = np.asarray(jax.jit(jax.grad(loss))(jnp.asarray(params["ir"])))
    monkeypatch.setattr(linear_module, "_plan", lambda taps, length: None)
    g_direct = np.asarray(jax.jit(jax.grad(loss))(jnp.asarray(params["ir"])))
    assert np.all(np.isfinite(g_fft))
    np.testing.assert_allclose(g_fft, g_direct, rtol=0, atol=1e-5 * float(np.max(np.abs(g_direct))))
