"""WaveNet (format spec sections 6, 7.1, 9, 10): classic A1 and every newer ("A2") feature.

One code path serves both: a classic file is the new schema with default values (no
bottleneck, no FiLM, groups 1, layer1x1 on). The step runs the layer arrays on one block,
each dilated conv carrying its own input history (:mod:`.wavenet_ops`); a
``condition_dsp`` is a nested architecture whose own state lives inside ours. A slimmable
WaveNet is configured to a size, which slices the full weights in ``prepare``
(:mod:`.wavenet_slim`), so the params pytree always holds the file's full tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import jax.numpy as jnp

from ..errors import ConfigError
from ..format.configs import WaveNetConfig
from ..format.layout import TensorSpec, wavenet_tensors
from . import wavenet_ops as ops
from .base import Architecture, Array, ConfigChannels, Params, RenderOptions, State, chunk_for_history
from .wavenet_slim import selected_channels, slice_config, slice_params


@dataclass(frozen=True)
class WaveNet(ConfigChannels, Architecture):
    """``config`` is the file's (full) config; ``sliced`` the one run at a slimmed size."""

    config: WaveNetConfig
    sample_rate: float | None = None
    condition_dsp: Architecture | None = None
    fast_tanh: bool = False
    sliced: WaveNetConfig | None = None
    name = "WaveNet"

    @classmethod
    def build(cls, config: WaveNetConfig, sample_rate: float | None, children: tuple[Architecture, ...]) -> "WaveNet":
        if len(children) > 1:
            raise ConfigError(f"a WaveNet has at most one nested model (condition_dsp), got {len(children)}", json_path="config")
        condition = children[0] if children else None
        _check_condition(config, condition)
        return cls(config, sample_rate, condition)

    # --- shape

    @property
    def run_config(self) -> WaveNetConfig:
        """The config the step runs: the sliced one at a slimmed size, else the file's."""
        return self.sliced if self.sliced is not None else self.config

    def receptive_field(self) -> int:
        own = self.config.receptive_field()
        return own if self.condition_dsp is None else own + self.condition_dsp.receptive_field() - 1

    def prewarm_samples(self) -> int:
        """Core: the condition_dsp's count (or 1) plus this WaveNet's receptive field minus 1.

        A slimmable WaveNet *reports* 0 in Core but prewarms its active model with this
        count on ``Reset``; this is the count actually fed.
        """
        lead = 1 if self.condition_dsp is None else self.condition_dsp.prewarm_samples()
        return lead + self.config.receptive_field() - 1

    def tensors(self) -> list[TensorSpec]:
        return wavenet_tensors(self.config)

    def children(self) -> tuple[Architecture, ...]:
        return () if self.condition_dsp is None else (self.condition_dsp,)

    def preferred_chunk(self) -> int:
        """1024: measured fastest here (2048 spills the stacked taps of 16 channels out of L2);
        longer for a layer whose history is longer (:func:`chunk_for_history`)."""
        longest = max(max(*(layer.history for layer in array.resolved_layers), array.head_history) for array in self.config.layers)
        return chunk_for_history(longest, 1024)

    def configure(self, options: RenderOptions) -> "WaveNet":
        """Fast tanh (here and in the condition_dsp) and, if slimmable, the size.

        The size is not passed to the condition_dsp: Core's ``SetSlimmableSize`` acts on
        the slimmable WaveNet itself only.
        """
        condition = self.condition_dsp
        if condition is not None:
            condition = condition.configure(RenderOptions(fast_tanh=options.fast_tanh))
        sliced = None
        if self.config.is_slimmable and options.size is not None:  # None: Core's default, full size
            cfg = slice_config(self.config, selected_channels(self.config, options.size))
            sliced = None if cfg is self.config else cfg
        return replace(self, condition_dsp=condition, fast_tanh=options.fast_tanh, sliced=sliced)

    # --- computation

    def prepare(self, params: Params) -> Params:
        cfg = self.run_config
        params = slice_params(self.config, cfg, params)
        prepared: dict = {
            "arrays": [ops.prepare_array(la, params, f"arrays.{a}") for a, la in enumerate(cfg.layers)],
            "head_scale": jnp.asarray(params["head_scale"], jnp.float32).reshape(()),
        }
        if cfg.head is not None:
            prepared["post"] = [
                (ops.conv_weight(params[f"head.convs.{j}.weight"]), ops.column(params[f"head.convs.{j}.bias"]))
                for j in range(len(cfg.head.kernel_sizes))
            ]
        if self.condition_dsp is not None:
            prepared["condition_dsp"] = self.condition_dsp.prepare(params["condition_dsp"])
        return prepared

    def initial_state(self, params: Params) -> State:
        cfg = self.run_config
        state: dict = {"arrays": [ops.array_initial_state(la) for la in cfg.layers]}
        if cfg.head is not None:
            widths = [cfg.layers[-1].head_out_channels] + [cfg.head.channels] * (len(cfg.head.kernel_sizes) - 1)
            state["post"] = [jnp.zeros((c, k - 1), jnp.float32) for c, k in zip(widths, cfg.head.kernel_sizes)]
        if self.condition_dsp is not None:
            state["condition_dsp"] = self.condition_dsp.initial_state(params["condition_dsp"])
        return state

    def step(self, params: Params, state: State, x: Array) -> tuple[State, Array]:
        cfg = self.run_config
        new_state: dict = {}
        if self.condition_dsp is not None:
            new_state["condition_dsp"], condition = self.condition_dsp.step(params["condition_dsp"], state["condition_dsp"], x)
        else:
            condition = x
        arrays = []
        h, head = x, None
        for la, prepared, array_state in zip(cfg.layers, params["arrays"], state["arrays"]):
            array_state, h, head = ops.array_step(la, prepared, array_state, h, condition, head, self.fast_tanh)
            arrays.append(array_state)
        new_state["arrays"] = arrays
        y = head * params["head_scale"]
        if cfg.head is not None:
            post = []
            for (w, b), history, k in zip(params["post"], state["post"], cfg.head.kernel_sizes):
                y, history = ops.dilated_conv(w, history, ops.act(cfg.head.activation, y, self.fast_tanh), k, 1)
                y = y + b
                post.append(history)
            new_state["post"] = post
        return new_state, y


def _check_condition(config: WaveNetConfig, condition: Architecture | None) -> None:
    """Channel links Core needs between the input, the condition and every layer array."""
    if condition is not None and condition.in_channels != config.in_channels:
        raise ConfigError(
            f"input channels of the WaveNet ({config.in_channels}) don't match input channels of its "
            f"condition_dsp ({condition.in_channels})",
            json_path="config.condition_dsp",
        )
    width = config.in_channels if condition is None else condition.out_channels
    source = "in_channels" if condition is None else "the condition_dsp's output channels"
    for k, la in enumerate(config.layers):
        if la.condition_size != width:
            raise ConfigError(
                f"condition_size of layer array {k} ({la.condition_size}) doesn't match {source} ({width})",
                json_path=f"config.layers[{k}].condition_size",
            )
