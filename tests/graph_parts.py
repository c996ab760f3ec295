"""Small models and references shared by the graph tests (``tests/test_graph_*.py``).

Models are built from configs with random weights, never from the code under test. The
references are NumPy: ``fir`` is Core's Linear written as a convolution, and
``from_initial_state`` runs one architecture's own step from its initial state (no
prewarm), the building block of the start-up reference (silence prepended to the whole
rig, then dropped), as in ``tests/test_containers.py``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jax
import numpy as np

from namgraph.engine import process
from namgraph.format.configs import LinearConfig, LSTMConfig, WaveNetConfig
from namgraph.model import Model
from namgraph.models.base import Architecture
from namgraph.models.linear import Linear
from namgraph.models.lstm import LSTM
from namgraph.models.wavenet import WaveNet

SR = 48000.0


def model(arch: Architecture, params: Any, *, sample_rate: float | None = SR, metadata: dict | None = None, name: str | None = None) -> Model:
    return Model(arch, params, document={}, sample_rate=sample_rate, metadata=metadata or {}, source=None if name is None else f"{name}.nam")


def linear(taps: Any, *, bias: float | None = None, channels: int = 1, **kw: Any) -> Model:
    taps = np.asarray(taps, np.float32)
    arch = Linear(LinearConfig(receptive_field=len(taps), bias=bias is not None, in_channels=channels, out_channels=channels))
    params = {"ir": taps} | ({} if bias is None else {"bias": np.array([bias], np.float32)})
    return model(arch, params, **kw)


def random_taps(n: int, seed: int) -> np.ndarray:
    return (0.5 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def lstm(seed: int = 0, *, sample_rate: float = 200.0, hidden: int = 3, slow: bool = True, **kw: Any) -> Model:
    """A tiny LSTM; at 200 Hz it prewarms 100 samples. ``slow``: forget gates near 1 and a
    large stored cell state, so the state is far from settled and the prewarm count matters."""
    arch = LSTM.build(LSTMConfig(input_size=1, hidden_size=hidden, num_layers=1), sample_rate, ())
    rng = np.random.default_rng(seed)
    params = {t.name: (0.5 * rng.standard_normal(t.shape)).astype(np.float32) for t in arch.tensors()}
    if slow:
        params["layers.0.b"][hidden : 2 * hidden] = 5.0
        params["layers.0.c0"][:] = 1.5
    return model(arch, params, sample_rate=sample_rate, **kw)


@cache
def _wavenet_arch(sample_rate: float) -> WaveNet:
    config = WaveNetConfig.model_validate(
        {
            "layers": [
                {"input_size": 1, "condition_size": 1, "channels": 3, "kernel_size": 3, "dilations": [1, 2, 4],
                 "activation": "Tanh", "gated": False, "head_size": 1, "head_bias": True}
            ],
            "head_scale": 0.5,
        }
    )
    return WaveNet.build(config, sample_rate, ())


def wavenet(seed: int = 0, *, sample_rate: float = SR, **kw: Any) -> Model:
    """A tiny WaveNet (3 channels, dilations 1, 2, 4; receptive field 15, prewarm 15)."""
    arch = _wavenet_arch(sample_rate)
    rng = np.random.default_rng(seed)
    params = {t.name: (0.5 * rng.standard_normal(t.shape)).astype(np.float32) for t in arch.tensors()}
    return model(arch, params, sample_rate=sample_rate, **kw)


def noise(*shape: int, seed: int = 0, scale: float = 0.3) -> np.ndarray:
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def fir(x: np.ndarray, taps: np.ndarray, bias: float = 0.0) -> np.ndarray:
    """Core's Linear, ``y[t] = bias + Σ_k ir[k] x[t-k]``, zero history, in float64."""
    x = np.asarray(x, np.float64)
    return np.convolve(x, np.asarray(taps, np.float64))[: x.shape[-1]] + bias


def delayed(x: np.ndarray, n: int, fill: float = 0.0) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return np.concatenate([np.full(n, fill), x[: len(x) - n]]) if n else x


_process = jax.jit(lambda arch, params, x: process(arch, arch.prepare(params), arch.initial_state(params), x)[1], static_argnums=0)


def from_initial_state(m: Model, x: np.ndarray) -> np.ndarray:
    """``m``'s own step from its initial state (no prewarm) over ``x`` (C, T)."""
    return np.asarray(_process(m.architecture, m.params, np.asarray(x, np.float32)), np.float64)


def chain_reference(models: list[Model], x: np.ndarray, silence: int) -> np.ndarray:
    """The start-up reference: ``silence`` zeros then ``x`` (1-D) through each model in turn, the zeros' output dropped."""
    y = np.concatenate([np.zeros(silence, np.float32), np.asarray(x, np.float32)])[None]
    for m in models:
        y = from_initial_state(m, y)
    return y[0, silence:]


def max_err(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b))) if a.size else 0.0
