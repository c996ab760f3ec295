"""Model shapes the benchmarks time, with random weights (speed does not depend on values)."""

from __future__ import annotations

import numpy as np

from namgraph.format.configs import CONFIG_TYPES
from namgraph.models.base import Architecture
from namgraph.models.registry import architecture_class

_A1_DILATIONS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
_A2_DILATIONS = [1, 3, 7, 17, 41, 101, 239]


def _layer_array(inputs: int, channels: int, head: int, dilations: list[int], head_bias: bool) -> dict:
    return {
        "input_size": inputs, "condition_size": 1, "head_size": head, "channels": channels,
        "kernel_size": 3, "dilations": dilations, "activation": "Tanh", "gated": False, "head_bias": head_bias,
    }


STANDARD_WAVENET = {
    "layers": [_layer_array(1, 16, 8, _A1_DILATIONS, False), _layer_array(16, 8, 1, _A1_DILATIONS, True)],
    "head": None,
    "head_scale": 0.02,
}

A2_FULL = {
    "layers": [{
        "input_size": 1, "condition_size": 1, "channels": 8, "bottleneck": 8,
        "kernel_sizes": [6] * 14 + [15, 15] + [6] * 7,
        "dilations": _A2_DILATIONS * 2 + [1, 13] + _A2_DILATIONS,
        "activation": {"type": "LeakyReLU", "negative_slope": 0.01}, "gating_mode": "none",
        "layer1x1": {"active": True, "groups": 1}, "head1x1": {"active": False, "out_channels": 8, "groups": 1},
        "head": {"out_channels": 1, "kernel_size": 16, "bias": True},
    }],
    "head": None,
    "head_scale": 0.01,
}

LSTM_1X24 = {"input_size": 1, "hidden_size": 24, "num_layers": 1}


def build(architecture: str, config: dict, sample_rate: float = 48_000.0) -> Architecture:
    cfg = CONFIG_TYPES[architecture].model_validate(config)
    return architecture_class(architecture).build(cfg, sample_rate, ())


def model_zoo() -> dict[str, Architecture]:
    return {
        "wavenet_standard": build("WaveNet", STANDARD_WAVENET),
        "lstm_1x24": build("LSTM", LSTM_1X24),
        "a2_full": build("WaveNet", A2_FULL),
    }


def random_params(arch: Architecture, seed: int = 0) -> dict[str, np.ndarray]:
    """Small random weights: keeps activations out of saturation, like a trained model."""
    rng = np.random.default_rng(seed)
    params = {}
    for t in arch.tensors():
        fan_in = int(np.prod(t.shape[1:])) if len(t.shape) > 1 else 1
        params[t.name] = (rng.standard_normal(t.shape) / np.sqrt(max(fan_in, 1))).astype(np.float32)
    return params
