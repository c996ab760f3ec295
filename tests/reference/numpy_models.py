"""Slow, plain float64 NumPy forward passes of Linear, ConvNet and LSTM, from the format spec.

They exist to check the JAX models, so they share none of their code: every convolution is
an explicit sum over groups, channels and taps, batchnorm is applied unfolded, and the LSTM
runs one sample at a time with σ written as ``1 / (1 + exp(-z))``. Only the config schemas
(``namgraph.format.configs``) and the tensor names (``namgraph.format.layout``) are shared;
those are checked against Core's own renders by the parity tests.

Start of signal is Core's default (spec 1.3): Linear starts from zero history; ConvNet
(an FIR model) equals left-padding the input with ``RF - 1`` zeros and dropping those
outputs; the LSTM starts at the stored ``(h0, c0)`` and first runs the prewarm zeros,
``floor(0.5 * rate)`` (1 when the rate is unknown) rounded up to whole 64-sample blocks.
"""

from __future__ import annotations

import math

import numpy as np

from namgraph.format.configs import ConvNetConfig, LinearConfig, LSTMConfig

from .activations import activation, fast_sigmoid, fast_tanh, sigmoid

Params = dict  # tensor name -> array in the file's shape

CORE_BLOCK = 64  # Core's render tool calls Reset(rate, 64): prewarm runs in 64-sample blocks

def _f64(params: Params) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}


# ----------------------------------------------------------------------------- Linear (spec 3)


def linear(cfg: LinearConfig, params: Params, x: np.ndarray) -> np.ndarray:
    """``y[c, t] = b + sum_k ir[k] x[c, t - k]`` for ``c < min(in, out)``; other outputs are 0."""
    p = _f64(params)
    x = np.asarray(x, np.float64)
    ir = p["ir"]
    bias = p["bias"][0] if cfg.bias else 0.0
    y = np.zeros((cfg.out_channels, x.shape[1]))
    for c in range(min(cfg.in_channels, cfg.out_channels)):
        acc = np.full(x.shape[1], bias)
        for k in range(len(ir)):  # tap k multiplies the sample k steps in the past
            if k < x.shape[1]:
                acc[k:] += ir[k] * x[c, : x.shape[1] - k]
        y[c] = acc
    return y


# ----------------------------------------------------------------------------- ConvNet (spec 4)


def _causal_conv_k2(w: np.ndarray, bias: np.ndarray | None, h: np.ndarray, d: int, groups: int) -> np.ndarray:
    """Valid kernel-2 dilated grouped conv: output ``t`` sees ``h[t]`` (tap 0) and ``h[t + d]`` (tap 1, newest)."""
    cout, cin_g, _ = w.shape
    cout_g = cout // groups
    n = h.shape[1] - d
    z = np.zeros((cout, n))
    for o in range(cout):
        g = o // cout_g
        for i in range(cin_g):
            src = h[g * cin_g + i]
            z[o] += w[o, i, 0] * src[:n] + w[o, i, 1] * src[d : d + n]
        if bias is not None:
            z[o] += bias[o]
    return z


def convnet(cfg: ConvNetConfig, params: Params, x: np.ndarray, fast_tanh_mode: bool = False) -> np.ndarray:
    """Core's output after its default prewarm: the input left-padded with ``RF - 1`` zeros, valid convs."""
    p = _f64(params)
    rf = 1 + sum(cfg.dilations)
    h = np.concatenate([np.zeros((cfg.in_channels, rf - 1)), np.asarray(x, np.float64)], axis=1)
    for i, d in enumerate(cfg.dilations):
        pre = f"blocks.{i}."
        z = _causal_conv_k2(p[pre + "conv.weight"], None if cfg.batchnorm else p[pre + "conv.bias"], h, d, cfg.groups)
        if cfg.batchnorm:
            mean, var = p[pre + "bn.running_mean"][:, None], p[pre + "bn.running_var"][:, None]
            gamma, beta, eps = p[pre + "bn.weight"][:, None], p[pre + "bn.bias"][:, None], p[pre + "bn.eps"][0]
            z = (z - mean) / np.sqrt(var + eps) * gamma + beta
        h = activation(cfg.activation, z, fast_tanh_mode)
    assert h.shape[1] == x.shape[1]
    return p["head.weight"] @ h + p["head.bias"][:, None]


# ----------------------------------------------------------------------------- LSTM (spec 5)


def lstm_prewarm_zeros(sample_rate: float | None, block: int = CORE_BLOCK) -> int:
    """Zeros Core's ``Reset(rate, block)`` feeds an LSTM: ``floor(rate / 2)`` (or 1), rounded up to blocks."""
    p = int(0.5 * sample_rate) if sample_rate is not None else 0
    p = p if p > 0 else 1
    return math.ceil(p / block) * block


def lstm(
    cfg: LSTMConfig,
    params: Params,
    x: np.ndarray,
    sample_rate: float | None,
    fast_tanh_mode: bool = False,
    prewarm: bool = True,
) -> np.ndarray:
    """Per-sample LSTM from the stored ``(h0, c0)``, after Core's prewarm zeros (when ``prewarm``)."""
    p = _f64(params)
    x = np.asarray(x, np.float64)
    if cfg.num_layers == 0:  # pass-through: first min(in, out) channels copied, the rest silent
        y = np.zeros((cfg.out_channels, x.shape[1]))
        n = min(cfg.in_channels, cfg.out_channels)
        y[:n] = x[:n]
        return y
    sig = fast_sigmoid if fast_tanh_mode else sigmoid
    tanh = fast_tanh if fast_tanh_mode else np.tanh
    hid = cfg.hidden_size
    h = [p[f"layers.{l}.h0"].copy() for l in range(cfg.num_layers)]
    c = [p[f"layers.{l}.c0"].copy() for l in range(cfg.num_layers)]
    zeros = lstm_prewarm_zeros(sample_rate) if prewarm else 0
    signal = np.concatenate([np.zeros((cfg.in_channels, zeros)), x], axis=1)
    y = np.zeros((cfg.out_channels, signal.shape[1]))
    for t in range(signal.shape[1]):
        v = signal[:, t]
        for l in range(cfg.num_layers):
            z = p[f"layers.{l}.w"] @ np.concatenate([v, h[l]]) + p[f"layers.{l}.b"]
            i_g, f_g, g_g, o_g = (z[k * hid : (k + 1) * hid] for k in range(4))
            c[l] = sig(f_g) * c[l] + sig(i_g) * tanh(g_g)
            h[l] = sig(o_g) * tanh(c[l])
            v = h[l]
        y[:, t] = p["head.weight"] @ v + p["head.bias"]
    return y[:, zeros:]
