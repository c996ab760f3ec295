"""Activations (format spec section 10) in float64 NumPy, shared by the reference models.

Written from the spec with no code from ``namgraph.models``; PReLU's per-channel slopes
must number exactly the channels (the only well-defined case, spec 6.12).
"""

from __future__ import annotations

import numpy as np

from namgraph.format.configs import Activation

_A, _B, _C, _D, _E = 2.45550750702956, 0.893229853513558, 0.821226666969744, 2.44506634652299, 0.814642734961073


def fast_tanh(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    return x * (_A + _A * ax + (_B + _C * ax) * x * x) / (_D + (_D + x * x) * np.abs(x + _E * x * ax))


def activation(act: Activation, x: np.ndarray, fast: bool) -> np.ndarray:
    """Elementwise activation on a ``(channels, T)`` signal; PReLU slopes go by channel (row)."""
    t = act.type
    if t == "Tanh":
        return fast_tanh(x) if fast else np.tanh(x)
    if t == "Fasttanh":
        return fast_tanh(x)
    if t == "Hardtanh":
        return np.minimum(np.maximum(x, -1.0), 1.0)
    if t == "ReLU":
        return np.where(x > 0, x, 0.0)
    if t == "LeakyReLU":
        slope = act.negative_slope if act.negative_slope is not None else 0.01
        return np.where(x > 0, x, slope * x)
    if t == "PReLU":
        if act.negative_slope is not None:
            slopes = np.full(x.shape[0], act.negative_slope)
        elif act.negative_slopes:
            assert len(act.negative_slopes) == x.shape[0], "PReLU needs one slope per channel"
            slopes = np.asarray(act.negative_slopes, np.float64)
        else:
            slopes = np.full(x.shape[0], 0.01)
        return np.where(x > 0, x, slopes[:, None] * x)
    if t == "Sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if t == "SiLU":
        return x / (1.0 + np.exp(-x))
    if t == "Hardswish":
        return x * np.minimum(np.maximum(x + 3.0, 0.0), 6.0) / 6.0
    if t == "LeakyHardtanh":
        lo, hi = act.min_val, act.max_val
        out = x.copy()
        below, above = x < lo, x > hi
        out[below] = lo + (x[below] - lo) * act.min_slope
        out[above] = hi + (x[above] - hi) * act.max_slope
        return out
    if t == "Softsign":
        return x / (1.0 + np.abs(x))
    raise ValueError(f"unknown activation {t}")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def fast_sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (fast_tanh(0.5 * x) + 1.0)
