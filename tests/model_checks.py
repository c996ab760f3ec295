"""Checks shared by the single-model tests: test signals, tolerances, block-by-block rendering.

The jitted helpers live here once, so every test module reuses the same compiles.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from namgraph import engine

TOL = 1e-5  # float32 against a float64 reference; ~1e-4 would be a semantic difference

_step = jax.jit(lambda arch, prepared, state, x: arch.step(prepared, state, x), static_argnums=0)
_prepare = jax.jit(lambda arch, params: arch.prepare(params), static_argnums=0)
_start = jax.jit(engine.start_state, static_argnums=0)


def signal(channels: int, n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (channels, n)).astype(np.float32)


def assert_close(y: np.ndarray, expected: np.ndarray, tol: float = TOL) -> None:
    """Max abs error within ``tol``, relative to the reference's peak when that exceeds 1."""
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
