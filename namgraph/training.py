"""The smallest fitting kit: Adam on a params pytree, and the error-to-signal ratio.

Enough to fit a model's weights (or a rig's gains) with ``jax.grad`` without pulling in
an optimiser library. Pure functions on pytrees; the optimiser state is explicit.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

Params = Any


class AdamState(NamedTuple):
    step: jax.Array  # int32 scalar: updates done so far
    mean: Params  # first-moment estimate, same tree as the params
    var: Params  # second-moment estimate


def adam_init(params: Params) -> AdamState:
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return AdamState(jnp.zeros((), jnp.int32), zeros, zeros)


def adam_update(
    params: Params,
    grads: Params,
    state: AdamState,
    lr: float | jax.Array,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
) -> tuple[Params, AdamState]:
    """One Adam step (Kingma & Ba, with bias correction); returns new params and state."""
    step = state.step + 1
    mean = jax.tree_util.tree_map(lambda m, g: b1 * m + (1.0 - b1) * g, state.mean, grads)
    var = jax.tree_util.tree_map(lambda v, g: b2 * v + (1.0 - b2) * g * g, state.var, grads)
    t = step.astype(jnp.float32)
    scale = lr * jnp.sqrt(1.0 - b2**t) / (1.0 - b1**t)
    new = jax.tree_util.tree_map(lambda p, m, v: p - scale * m / (jnp.sqrt(v) + eps), params, mean, var)
    return new, AdamState(step, mean, var)


def esr(prediction: jax.Array, target: jax.Array, eps: float = 1e-12) -> jax.Array:
    """Error-to-signal ratio ``sum((y - t)^2) / sum(t^2)`` (0 = exact; 1 = as bad as silence)."""
    return jnp.sum((prediction - target) ** 2) / (jnp.sum(target**2) + eps)
