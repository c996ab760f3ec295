"""Activation functions exactly as Core evaluates them (format spec section 10)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..format.configs import Activation

# Core's rational approximation of tanh (the NAM plugin turns it on at start-up).
_A, _B, _C, _D, _E = 2.45550750702956, 0.893229853513558, 0.821226666969744, 2.44506634652299, 0.814642734961073


def fast_tanh(x: jax.Array) -> jax.Array:
    ax = jnp.abs(x)
    x2 = x * x
    return x * (_A + _A * ax + (_B + _C * ax) * x2) / (_D + (_D + x2) * jnp.abs(x + _E * x * ax))


def fast_sigmoid(x: jax.Array) -> jax.Array:
    return 0.5 * (fast_tanh(0.5 * x) + 1.0)


def sigmoid(x: jax.Array) -> jax.Array:
    return 1.0 / (1.0 + jnp.exp(-x))


def apply(act: Activation, x: jax.Array, fast_tanh_mode: bool = False) -> jax.Array:
    """Apply ``act`` to ``x`` of shape ``(channels, T)``.

    ``fast_tanh_mode`` replaces ``Tanh`` (never ``Sigmoid``) with Core's fast tanh, as
    Core does for models built after ``enable_fast_tanh()``. Per-channel PReLU slopes run
    along axis 0; a single slope applies to every channel.
    """
    t = act.type
    if t == "Tanh":
        return fast_tanh(x) if fast_tanh_mode else jnp.tanh(x)
    if t == "Fasttanh":
        return fast_tanh(x)
    if t == "Hardtanh":
        return jnp.clip(x, -1.0, 1.0)
    if t == "ReLU":
        return jnp.maximum(x, 0.0)
    if t in ("LeakyReLU", "PReLU"):
        slopes = act.slopes()
        if len(slopes) == 1:
            slope = jnp.float32(slopes[0])
        else:
            slope = _per_channel(slopes, x.shape[0]).reshape((-1,) + (1,) * (x.ndim - 1))
        return jnp.where(x > 0, x, slope * x)
    if t == "Sigmoid":
        return sigmoid(x)
    if t == "SiLU":
        return x * sigmoid(x)
    if t == "Hardswish":
        return x * jnp.clip(x + 3.0, 0.0, 6.0) / 6.0
    if t == "LeakyHardtanh":
        lo, hi = act.min_val, act.max_val
        return jnp.where(x < lo, lo + (x - lo) * act.min_slope, jnp.where(x > hi, hi + (x - hi) * act.max_slope, x))
    if t == "Softsign":
        return x / (1.0 + jnp.abs(x))
    raise AssertionError(f"activation {t} passed config validation but has no implementation")


def _per_channel(slopes: tuple[float, ...], channels: int) -> jax.Array:
    """Core picks slope ``channel % len(slopes)``; exact when there is one per channel."""
    return jnp.asarray([slopes[c % len(slopes)] for c in range(channels)], jnp.float32)
