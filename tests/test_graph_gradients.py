"""``jax.grad`` through a compiled graph, checked against central finite differences.

The loss is a mean squared error of the offline render against a fixed target. Finite
differences use the same render in float32 but accumulate the loss in float64, with steps
large enough that float32 rounding of the output (~1e-7 relative) stays far below the
difference: the two must agree to 1% (relative) or 1e-6 (absolute, for near-zero slopes).
"""

from __future__ import annotations

import copy
from functools import cache

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from graph_parts import linear, lstm, noise, random_taps
from namgraph.engine import render_offline, render_offline_jit
from namgraph.graph import Graph

T = 256
X = noise(1, T, seed=90)
TARGET = noise(1, T, seed=91, scale=0.2)


@cache
def rig():
    """in -> cab -> gain -> mix(dry=in, wet) -> weighted_sum(+ lstm branch) -> out."""
    g = Graph()
    g.add("in", "input")
    g.add("cab", "model", model=linear(random_taps(4, 92), bias=0.1, sample_rate=200.0))
    g.add("gain", "gain", db=-3.0)
    g.add("blend", "mix", amount=0.3, law="equal_power")
    g.add("amp", "model", model=lstm(93))  # slow: its stored state still matters after the prewarm
    g.add("w", "weighted_sum", weights=[0.8, 0.5])
    g.add("out", "output")
    g.connect("in", "cab", "gain")
    g.connect("in", "blend", port="dry")
    g.connect("gain", "blend", port="wet")
    g.connect("blend", "w")
    g.connect("in", "amp", "w")
    g.connect("w", "out")
    return g.compile()


def loss(arch, params) -> jax.Array:
    y = render_offline(arch, params, jnp.asarray(X))
    return jnp.mean((y - TARGET) ** 2)


@cache
def gradients():
    compiled = rig()
    return jax.jit(jax.grad(loss, argnums=1), static_argnums=0)(compiled.architecture, compiled.params)


def loss64(params) -> float:
    y = np.asarray(render_offline_jit(rig().architecture, params, X), np.float64)
    return float(np.mean((y - TARGET.astype(np.float64)) ** 2))


def perturbed(params, path: tuple, index: tuple, delta: float):
    out = copy.deepcopy(jax.tree_util.tree_map(np.asarray, params))
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    leaf = np.array(parent[path[-1]], np.float32)
    leaf[index] += delta
    parent[path[-1]] = leaf
    return out


CASES = [
    (("gain", "db"), (), 0.05),
    (("blend", "amount"), (), 1e-3),
    (("w", "weights"), (0,), 1e-3),
    (("w", "weights"), (1,), 1e-3),
    (("cab", "ir"), (2,), 1e-3),
    (("cab", "bias"), (0,), 1e-3),
    (("amp", "layers.0.w"), (6, 2), 1e-3),
    (("amp", "layers.0.w"), (8, 0), 1e-3),
    (("amp", "layers.0.c0"), (0,), 1e-3),
    (("amp", "head.bias"), (0,), 1e-3),
]


@pytest.mark.parametrize(("path", "index", "eps"), CASES, ids=[".".join(c[0]) + str(list(c[1])) for c in CASES])
def test_gradient_matches_finite_differences(path: tuple, index: tuple, eps: float) -> None:
    params = rig().params
    grad = gradients()
    for key in path:
        grad = grad[key]
    analytic = float(np.asarray(grad)[index])
    numeric = (loss64(perturbed(params, path, index, eps)) - loss64(perturbed(params, path, index, -eps))) / (2 * eps)
    assert abs(analytic - numeric) <= max(1e-2 * abs(numeric), 1e-6), f"grad {analytic:.6g} vs finite difference {numeric:.6g}"
    assert abs(numeric) > 1e-5  # the parameter matters: the check is not vacuous


def test_every_trainable_value_gets_a_gradient() -> None:
    grads = gradients()
    assert set(grads) == {"cab", "gain", "blend", "amp", "w"}
    assert jax.tree_util.tree_structure(grads) == jax.tree_util.tree_structure(rig().params)
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(grads))
