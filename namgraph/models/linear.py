"""Linear: an FIR filter (impulse response), in Core's tap order.

Core computes ``y[t] = bias + sum_k ir[k] * x[t - k]``: ``ir[0]`` multiplies the current
sample. Multi-channel (Core before PR #335): channel ``c < min(in, out)`` is filtered with
the same taps and bias; extra outputs are silent and extra inputs ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ..format.configs import LinearConfig
from ..format.layout import TensorSpec, linear_tensors
from .base import Architecture, Array, Params, State


@dataclass(frozen=True)
class Linear(Architecture):
    config: LinearConfig
    name = "Linear"

    @classmethod
    def build(cls, config: LinearConfig, sample_rate: float | None, children: tuple[Architecture, ...]) -> "Linear":
        return cls(config)

    @property
    def in_channels(self) -> int:
        return self.config.in_channels

    @property
    def out_channels(self) -> int:
        return self.config.out_channels

    def receptive_field(self) -> int:
        return self.config.receptive_field

    def prewarm_samples(self) -> int:
        return 0

    def tensors(self) -> list[TensorSpec]:
        return linear_tensors(self.config)

    def initial_state(self, params: Params) -> State:
        return jnp.zeros((self.in_channels, self.config.receptive_field - 1), jnp.float32)

    def step(self, params: Params, state: State, x: Array) -> tuple[State, Array]:
        taps = self.config.receptive_field
        extended = jnp.concatenate([state, x], axis=1)  # (C_in, taps - 1 + T)
        used = min(self.in_channels, self.out_channels)
        # Cross-correlation with the reversed IR is convolution with the IR.
        kernel = params["ir"][::-1].reshape(1, 1, taps)
        y = jax.lax.conv_general_dilated(
            extended[:used, None, :], kernel, window_strides=(1,), padding="VALID",
            precision=jax.lax.Precision.HIGHEST,
        )[:, 0, :]
        if self.config.bias:
            y = y + params["bias"][0]
        if used < self.out_channels:
            y = jnp.concatenate([y, jnp.zeros((self.out_channels - used, y.shape[1]), y.dtype)], axis=0)
        new_state = extended[:, extended.shape[1] - (taps - 1):] if taps > 1 else state
        return new_state, y
