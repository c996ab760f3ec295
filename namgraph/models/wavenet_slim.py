"""Slimmable WaveNet (format spec section 7.1): pick channel counts, slice the full model.

A slimmable file stores the *full* model. Choosing a size picks, for each slimmable layer
array, a channel count from its ``allowed_channels``; the smaller model is an ordinary
WaveNet whose every tensor is the leading block (first rows, first columns, all taps) of
the full tensor of the same name. So slicing is two steps: a config with the smaller
widths, then ``full[:rows, :cols, ...]`` for each tensor of that config's layout.
"""

from __future__ import annotations

import math

from ..errors import ConfigError
from ..format.configs import LayerArrayConfig, WaveNetConfig
from ..format.layout import wavenet_tensors
from .base import Params


def allowed_channels(la: LayerArrayConfig) -> tuple[int, ...]:
    """The widths a slimmable array may take (Core's default: 1, 2, ..., channels)."""
    if la.slimmable is None:
        return (la.channels,)
    return la.slimmable.allowed_channels or tuple(range(1, la.channels + 1))


def selected_channels(cfg: WaveNetConfig, size: float) -> tuple[int, ...]:
    """Channels per layer array at ``size`` (Core: ``A[min(floor(size * m), m - 1)]``)."""
    out = []
    for la in cfg.layers:
        allowed = allowed_channels(la)
        m = len(allowed)
        index = min(max(math.floor(size * m), 0), m - 1)
        out.append(allowed[index])
    return tuple(out)


def slice_config(cfg: WaveNetConfig, channels: tuple[int, ...]) -> WaveNetConfig:
    """The ordinary WaveNet config Core builds for these per-array channel counts.

    Raises :class:`ConfigError` for what Core refuses at a slimmed size: grouped
    convolutions and layer-array heads with kernel size > 1.
    """
    full = tuple(la.channels for la in cfg.layers)
    if channels == full:
        return cfg
    _check_sliceable(cfg)
    last = len(cfg.layers) - 1
    layers = []
    for k, la in enumerate(cfg.layers):
        c = channels[k]
        bottleneck = max(1, la.bottleneck_channels * c // la.channels) if la.layer1x1.active else c
        head_size = channels[k + 1] if k < last else la.head_out_channels
        update: dict = {"channels": c, "bottleneck": bottleneck, "input_size": la.input_size if k == 0 else channels[k - 1]}
        if la.head is not None:
            update["head"] = la.head.model_copy(update={"out_channels": head_size})
        else:
            update["head_size"] = head_size
        layers.append(la.model_copy(update=update))
    return cfg.model_copy(update={"layers": tuple(layers)})


def _check_sliceable(cfg: WaveNetConfig) -> None:
    for k, la in enumerate(cfg.layers):
        where = f"config.layers[{k}]"
        groups = {
            "groups_input": la.groups_input,
            "groups_input_mixin": la.groups_input_mixin,
            "layer1x1.groups": la.layer1x1.groups if la.layer1x1.active else 1,
            "head1x1.groups": la.head1x1.groups if la.head1x1_active else 1,
        }
        groups.update({f"{position}.groups": f.groups for position, f in la.active_films()})
        for key, g in groups.items():
            if g != 1:
                raise ConfigError(
                    f"a slimmable WaveNet cannot be run at a reduced size with grouped convolutions ({key} = {g}); "
                    "Core supports only groups = 1 there",
                    json_path=f"{where}.{key}",
                )
        if la.head_kernel_size != 1:
            raise ConfigError(
                f"a slimmable WaveNet cannot be run at a reduced size with a layer-array head of kernel size "
                f"{la.head_kernel_size}; Core supports only 1 there",
                json_path=f"{where}.head.kernel_size",
            )


def slice_params(full_cfg: WaveNetConfig, sliced_cfg: WaveNetConfig, params: Params) -> Params:
    """The sliced model's tensors: the leading block of each full tensor of the same name."""
    if sliced_cfg is full_cfg:
        return params
    out = {k: v for k, v in params.items() if k == "condition_dsp"}
    for spec in wavenet_tensors(sliced_cfg):
        full = params[spec.name]
        out[spec.name] = full[tuple(slice(0, n) for n in spec.shape)]
    return out
