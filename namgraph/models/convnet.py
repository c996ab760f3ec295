"""ConvNet: causal dilated kernel-2 convolutions, optional batchnorm, a 1x1 head (spec section 4).

Each block computes ``z[:, t] = W[:, :, 0] x[:, t - d] + W[:, :, 1] x[:, t]`` (tap 1 is the
current sample, spec section 1.2), then batchnorm folded to a scale and a shift (or the conv
bias), then the activation. The streaming state is each block's last ``d`` input columns,
which is all a kernel-2 conv of dilation ``d`` needs from the past.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ..format.configs import ConvNetConfig
from ..format.layout import TensorSpec, convnet_tensors
from . import activations
from .base import Architecture, Array, ConfigChannels, Params, RenderOptions, State, chunk_for_history

_HIGHEST = jax.lax.Precision.HIGHEST  # full float32 on every backend (no TF32 on GPUs)


def block_diagonal(weight: Array, groups: int) -> Array:
    """Dense ``(C_out, C_in)`` matrix of a grouped 1-tap weight ``(C_out, C_in/groups)``.

    Grouped convolutions of ConvNet size are tiny, so one dense matmul with zeros off the
    diagonal blocks is cheaper than a grouped primitive and keeps ``step`` one matmul.
    """
    if groups == 1:
        return weight
    cout, cin_g = weight.shape
    cout_g = cout // groups
    dense = jnp.zeros((cout, cin_g * groups), weight.dtype)
    for g in range(groups):
        rows = slice(g * cout_g, (g + 1) * cout_g)
        dense = dense.at[rows, g * cin_g : (g + 1) * cin_g].set(weight[rows])
    return dense


@dataclass(frozen=True)
class ConvNet(ConfigChannels, Architecture):
    config: ConvNetConfig
    fast_tanh: bool = False
    name = "ConvNet"

    @classmethod
    def build(cls, config: ConvNetConfig, sample_rate: float | None, children: tuple[Architecture, ...]) -> "ConvNet":
        return cls(config)

    def receptive_field(self) -> int:
        return 1 + sum(self.config.dilations)

    def prewarm_samples(self) -> int:
        return 1 + sum(self.config.dilations)

    def preferred_chunk(self) -> int:
        """The default, or longer for a block whose history (its dilation) is longer."""
        return chunk_for_history(max(self.config.dilations), super().preferred_chunk())

    def tensors(self) -> list[TensorSpec]:
        return convnet_tensors(self.config)

    def configure(self, options: RenderOptions) -> "ConvNet":
        return dataclasses.replace(self, fast_tanh=options.fast_tanh)

    def _block_inputs(self) -> list[int]:
        return [self.config.in_channels] + [self.config.channels] * (len(self.config.dilations) - 1)

    def initial_state(self, params: Params) -> State:
        return tuple(
            jnp.zeros((cin, d), jnp.float32) for cin, d in zip(self._block_inputs(), self.config.dilations)
        )

    def prepare(self, params: Params) -> Params:
        """Per block: ``[W_old | W_now]`` as one ``(C, 2 C_in)`` matrix (batchnorm scale folded in) and a shift."""
        cfg = self.config
        blocks = []
        for i in range(len(cfg.dilations)):
            w = jnp.asarray(params[f"blocks.{i}.conv.weight"], jnp.float32)  # (C, C_in/g, 2)
            taps = jnp.concatenate([block_diagonal(w[:, :, 0], cfg.groups), block_diagonal(w[:, :, 1], cfg.groups)], axis=1)
            if cfg.batchnorm:
                p = f"blocks.{i}.bn."
                scale = params[p + "weight"] / jnp.sqrt(params[p + "eps"][0] + params[p + "running_var"])
                shift = params[p + "bias"] - scale * params[p + "running_mean"]
                taps = scale[:, None] * taps
            else:
                shift = params[f"blocks.{i}.conv.bias"]
            blocks.append((taps, jnp.asarray(shift, jnp.float32)[:, None]))
        head = (jnp.asarray(params["head.weight"], jnp.float32), jnp.asarray(params["head.bias"], jnp.float32)[:, None])
        return {"blocks": tuple(blocks), "head": head}

    def step(self, params: Params, state: State, x: Array) -> tuple[State, Array]:
        t = x.shape[1]
        h = x
        new_state = []
        for (taps, shift), history, d in zip(params["blocks"], state, self.config.dilations):
            extended = jnp.concatenate([history, h], axis=1)  # column j is time j - d
            stacked = jnp.concatenate([extended[:, :t], extended[:, d:]], axis=0)  # [x(t-d); x(t)]
            z = jnp.dot(taps, stacked, precision=_HIGHEST) + shift
            h = activations.apply(self.config.activation, z, self.fast_tanh)
            new_state.append(extended[:, t:])
        w_head, b_head = params["head"]
        y = jnp.dot(w_head, h, precision=_HIGHEST) + b_head
        return tuple(new_state), y
