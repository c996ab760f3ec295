"""Parity with NeuralAmpModelerCore's recorded renders: LSTM (exact and fast tanh) and Linear.

The fixtures (``../shared/fixtures/nam``) are Core's output for the 1 s test input after
``Reset(rate, 64)`` with the default prewarm; the tests skip when they are absent. Core's own
rounding differs from exact arithmetic by ~1e-7 here, so the bounds below (2e-5 for the LSTM,
1e-5 for Linear) leave room for float32 summation order only, not for any semantic change.
"""

from __future__ import annotations

from functools import cache

import jax.numpy as jnp
import numpy as np
import pytest

from conftest import core_fixtures_dir, core_output
import namgraph
from namgraph.engine import render_offline_jit
from namgraph.models.base import RenderOptions

CASES = [
    # (model, golden, fast tanh, max abs error)
    ("lstm", "lstm", False, 2e-5),
    ("lstm", "lstm.fasttanh", True, 2e-5),
    ("identity_linear_1", "identity_linear_1", False, 1e-5),
    ("identity_linear_10", "identity_linear_10", False, 1e-5),
]


@cache
def _render(model: str, fast_tanh: bool, x_bytes: bytes) -> np.ndarray:
    loaded = namgraph.load(core_fixtures_dir() / f"{model}.nam")
    arch = loaded.architecture.configure(RenderOptions(fast_tanh=fast_tanh))
    x = np.frombuffer(x_bytes, dtype=np.float32)[None, :]
    return np.asarray(render_offline_jit(arch, loaded.params, jnp.asarray(x)))[0]


@pytest.mark.parametrize(("model", "golden", "fast", "tol"), CASES, ids=[c[1] for c in CASES])
def test_matches_core(core_input: np.ndarray, model: str, golden: str, fast: bool, tol: float) -> None:
    y = _render(model, fast, core_input.tobytes())
    expected = core_output(golden)
    assert y.shape == expected.shape
    err = float(np.max(np.abs(y - expected)))
    print(f"{golden}: max |Δ| = {err:.3g} (peak {np.max(np.abs(expected)):.3g})")
    assert err <= tol, f"{golden}: max abs error {err:.3g} > {tol:g}"


def test_fast_tanh_golden_is_distinguishable(core_input: np.ndarray) -> None:
    """Guards the fast-tanh case: the two goldens differ far beyond the tolerance (Core: 5.75e-4)."""
    assert np.max(np.abs(core_output("lstm") - core_output("lstm.fasttanh"))) > 1e-4
    exact = _render("lstm", False, core_input.tobytes())
    assert np.max(np.abs(exact - core_output("lstm.fasttanh"))) > 1e-4


def test_identity_linear_is_an_identity(core_input: np.ndarray) -> None:
    """Core's tap order makes ``identity_linear_10`` (weights[0] = 1) an identity, not a delay."""
    np.testing.assert_array_equal(_render("identity_linear_10", False, core_input.tobytes()), core_input)
