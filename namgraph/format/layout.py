"""Where each tensor lives in a model's flat ``weights`` array.

This is the single source of truth for weight order: reading (``unpack``), writing
(``pack``), weight-count errors and parameter counts all walk the same list. Shapes are the
file's own (PyTorch) shapes: ``dense(C_out, C_in/groups, K)`` for convolutions, with the
kernel tap index fastest; 1x1 layers drop the K axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from ..errors import WeightCountError
from .configs import (
    ConvNetConfig,
    LayerArrayConfig,
    LinearConfig,
    LSTMConfig,
    WaveNetConfig,
)


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return prod(self.shape)


def _dense(name: str, cout: int, cin: int, groups: int = 1, kernel: int = 1, bias: bool = False) -> list[TensorSpec]:
    shape = (cout, cin // groups) if kernel == 1 else (cout, cin // groups, kernel)
    out = [TensorSpec(f"{name}.weight", shape)]
    if bias:
        out.append(TensorSpec(f"{name}.bias", (cout,)))
    return out


def linear_tensors(cfg: LinearConfig) -> list[TensorSpec]:
    out = [TensorSpec("ir", (cfg.receptive_field,))]
    if cfg.bias:
        out.append(TensorSpec("bias", (1,)))
    return out


def convnet_tensors(cfg: ConvNetConfig) -> list[TensorSpec]:
    out: list[TensorSpec] = []
    cin = cfg.in_channels
    for i, _ in enumerate(cfg.dilations):
        out += _dense(f"blocks.{i}.conv", cfg.channels, cin, cfg.groups, 2, bias=not cfg.batchnorm)
        if cfg.batchnorm:
            for stat in ("running_mean", "running_var", "weight", "bias"):
                out.append(TensorSpec(f"blocks.{i}.bn.{stat}", (cfg.channels,)))
            out.append(TensorSpec(f"blocks.{i}.bn.eps", (1,)))
        cin = cfg.channels
    out += _dense("head", cfg.out_channels, cfg.channels, bias=True)
    return out


def lstm_tensors(cfg: LSTMConfig) -> list[TensorSpec]:
    out: list[TensorSpec] = []
    h = cfg.hidden_size
    for layer in range(cfg.num_layers):
        inputs = cfg.input_size if layer == 0 else h
        out += [
            TensorSpec(f"layers.{layer}.w", (4 * h, inputs + h)),
            TensorSpec(f"layers.{layer}.b", (4 * h,)),
            TensorSpec(f"layers.{layer}.h0", (h,)),
            TensorSpec(f"layers.{layer}.c0", (h,)),
        ]
    out += _dense("head", cfg.out_channels, h, bias=True)
    return out


def film_width(position: str, la: LayerArrayConfig, gate_factor: int) -> int:
    """Channels a FiLM at ``position`` scales (format spec section 6.4)."""
    b = la.bottleneck_channels
    return {
        "conv_pre_film": la.channels,
        "conv_post_film": gate_factor * b,
        "input_mixin_pre_film": la.condition_size,
        "input_mixin_post_film": gate_factor * b,
        "activation_pre_film": gate_factor * b,
        "activation_post_film": b,
        "layer1x1_post_film": la.channels,
        "head1x1_post_film": la.head1x1.out_channels if la.head1x1_active else 0,
    }[position]


def layer_array_tensors(la: LayerArrayConfig, prefix: str) -> list[TensorSpec]:
    out = _dense(f"{prefix}.rechannel", la.channels, la.input_size)
    b = la.bottleneck_channels
    for i, layer in enumerate(la.resolved_layers):
        g = layer.gate_factor
        p = f"{prefix}.layers.{i}"
        out += _dense(f"{p}.conv", g * b, la.channels, la.groups_input, layer.kernel_size, bias=True)
        out += _dense(f"{p}.input_mixin", g * b, la.condition_size, la.groups_input_mixin)
        if la.layer1x1.active:
            out += _dense(f"{p}.layer1x1", la.channels, b, la.layer1x1.groups, bias=True)
        if la.head1x1_active:
            out += _dense(f"{p}.head1x1", la.head1x1.out_channels, b, la.head1x1.groups, bias=True)
        for position, film in la.active_films():
            width = film_width(position, la, g) * (2 if film.shift else 1)
            out += _dense(f"{p}.{position}", width, la.condition_size, film.groups, bias=True)
    out += _dense(
        f"{prefix}.head_rechannel",
        la.head_out_channels,
        la.head_in_channels,
        1,
        la.head_kernel_size,
        bias=la.head_has_bias,
    )
    return out


def wavenet_tensors(cfg: WaveNetConfig) -> list[TensorSpec]:
    out: list[TensorSpec] = []
    for a, la in enumerate(cfg.layers):
        out += layer_array_tensors(la, f"arrays.{a}")
    if cfg.head is not None:
        cin = cfg.layers[-1].head_out_channels
        last = len(cfg.head.kernel_sizes) - 1
        for j, k in enumerate(cfg.head.kernel_sizes):
            cout = cfg.head.out_channels if j == last else cfg.head.channels
            out += _dense(f"head.convs.{j}", cout, cin, 1, k, bias=True)
            cin = cout
    out.append(TensorSpec("head_scale", (1,)))
    return out


def count(tensors: list[TensorSpec]) -> int:
    return sum(t.size for t in tensors)


def unpack(tensors: list[TensorSpec], weights: np.ndarray) -> dict[str, np.ndarray]:
    """Split flat float32 weights into named tensors; the error names the tensor that ran short."""
    weights = np.asarray(weights, dtype=np.float32)
    expected = count(tensors)
    if weights.size != expected:
        raise WeightCountError(_count_message(tensors, weights.size), json_path="weights")
    out: dict[str, np.ndarray] = {}
    offset = 0
    for t in tensors:
        out[t.name] = weights[offset : offset + t.size].reshape(t.shape)
        offset += t.size
    return out


def pack(tensors: list[TensorSpec], params: dict[str, np.ndarray]) -> np.ndarray:
    """Inverse of :func:`unpack`: the flat float32 weights in file order."""
    parts = []
    for t in tensors:
        value = np.asarray(params[t.name], dtype=np.float32)
        if value.shape != t.shape:
            raise ValueError(f"tensor {t.name} has shape {value.shape}, layout expects {t.shape}")
        parts.append(value.reshape(-1))
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def _count_message(tensors: list[TensorSpec], found: int) -> str:
    expected = count(tensors)
    if found < expected:
        offset = 0
        for t in tensors:
            if offset + t.size > found:
                have = found - offset
                return (
                    f"expected {expected} weights, found {found}: the weights ran out in tensor "
                    f"'{t.name}' (shape {t.shape}, needs {t.size} values from offset {offset}, {have} left)"
                )
            offset += t.size
    return f"expected {expected} weights, found {found}: {found - expected} more than the config implies"
