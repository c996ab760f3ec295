"""WaveNet refuses what Core refuses, with typed errors that say where (no JAX compiles here)."""

from __future__ import annotations

import pytest

from namgraph.errors import ConfigError
from namgraph.format.configs import WaveNetConfig
from namgraph.models.base import RenderOptions
from namgraph.models.wavenet import WaveNet

SLIM = {"method": "slice_channels_uniform", "kwargs": {"allowed_channels": [2, 4]}}


def layer_array(**kw) -> dict:
    out = dict(input_size=1, condition_size=1, channels=4, kernel_size=2, dilations=[1, 2], activation="Tanh",
               head_size=1, head_bias=True, slimmable=SLIM)
    out.update(kw)
    return out


def build(*arrays: dict, children: tuple = (), **top) -> WaveNet:
    cfg = WaveNetConfig.model_validate({"layers": list(arrays), "head_scale": 0.1, **top})
    return WaveNet.build(cfg, 48000.0, children)


@pytest.mark.parametrize(
    "extra,key",
    [
        ({"groups_input": 2}, "groups_input"),
        ({"input_size": 2, "condition_size": 2, "groups_input_mixin": 2}, "groups_input_mixin"),
        ({"layer1x1": {"active": True, "groups": 2}}, "layer1x1.groups"),
        ({"head1x1": {"active": True, "out_channels": 2, "groups": 2}}, "head1x1.groups"),
        ({"input_size": 2, "condition_size": 2, "activation_pre_film": {"groups": 2}}, "activation_pre_film.groups"),
    ],
)
def test_slimmed_size_with_groups_is_refused(extra: dict, key: str) -> None:
    top = {"in_channels": 2} if "input_size" in extra else {}
    arch = build(layer_array(**extra), **top)
    arch.configure(RenderOptions(size=1.0))  # the full model runs
    with pytest.raises(ConfigError) as err:
        arch.configure(RenderOptions(size=0.0))
    assert err.value.json_path == f"config.layers[0].{key}"
    assert "groups" in err.value.message


def test_slimmed_size_with_head_kernel_is_refused() -> None:
    arch = build(layer_array(head_size=None, head_bias=None, head={"out_channels": 1, "kernel_size": 3, "bias": True}))
    assert arch.configure(RenderOptions()).sliced is None
    with pytest.raises(ConfigError, match="kernel size 3") as err:
        arch.configure(RenderOptions(size=0.2))
    assert err.value.json_path == "config.layers[0].head.kernel_size"


def test_sizes_select_channels_like_core() -> None:
    """``A[min(floor(v*m), m-1)]`` over allowed [2, 4]: below 0.5 -> 2, else 4 (full, not sliced)."""
    arch = build(layer_array())
    for size, channels in [(0.0, 2), (0.49, 2), (0.5, 4), (1.0, 4), (1.5, 4), (-1.0, 2)]:
        cfg = arch.configure(RenderOptions(size=size)).run_config
        assert cfg.layers[0].channels == channels, size


def test_condition_size_must_match_inputs_without_condition_dsp() -> None:
    with pytest.raises(ConfigError) as err:
        build(layer_array(condition_size=2, slimmable=None))
    assert err.value.json_path == "config.layers[0].condition_size"


def test_condition_dsp_channels_must_link() -> None:
    child = build(layer_array(head_size=2, slimmable=None))  # 1 in, 2 out
    parent = build(layer_array(condition_size=2, slimmable=None), children=(child,))
    assert parent.children() == (child,)
    with pytest.raises(ConfigError, match="condition_size") as err:
        build(layer_array(condition_size=3, slimmable=None), children=(child,))
    assert err.value.json_path == "config.layers[0].condition_size"
    with pytest.raises(ConfigError, match="input channels") as err:
        build(layer_array(input_size=2, condition_size=2, slimmable=None), children=(child,), in_channels=2)
    assert err.value.json_path == "config.condition_dsp"


def test_at_most_one_nested_model() -> None:
    child = build(layer_array(slimmable=None))
    with pytest.raises(ConfigError, match="at most one"):
        build(layer_array(slimmable=None), children=(child, child))
