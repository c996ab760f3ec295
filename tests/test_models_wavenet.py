"""WaveNet in JAX vs the independent float64 NumPy reference, feature by feature.

Every case is a small random-weight model exercising one feature of format spec section 6
(or 7.1 / 10); the JAX render (Core's start-up included) must match the reference within
1e-5 (relative to the output's peak when that exceeds 1). Config ``head_scale`` is set to a
value unlike the weight everywhere, so a model reading the config instead of the last
weight fails every case.
"""

from __future__ import annotations

import copy
from typing import Any

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import numpy_wavenet as ref

from namgraph.engine import render_offline, render_offline_jit, start_state
from namgraph.format.configs import FILM_POSITIONS, WaveNetConfig
from namgraph.format.layout import wavenet_tensors
from namgraph.models.base import RenderOptions
from namgraph.models.wavenet import WaveNet

TOL = 1e-5
N = 257  # samples per test signal: short, odd, not a multiple of any block size


@pytest.fixture(autouse=True, scope="module")
def _fast_compiles():
    """Tiny graphs: XLA's optimisation passes cost more than they save here."""
    old = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", old)


# ----------------------------------------------------------------------------- building cases


def array(**kw: Any) -> dict:
    """A layer array with small defaults; keyword arguments override or add keys."""
    out = dict(
        input_size=1, condition_size=1, channels=3, kernel_size=2, dilations=[1, 2],
        activation="Tanh", head_size=1, head_bias=True,
    )
    out.update(kw)
    for key in [k for k, v in out.items() if v is _DROP]:
        del out[key]
    return out


_DROP = object()


def wavenet(*arrays: dict, **top: Any) -> dict:
    return {"layers": list(arrays), "head_scale": 7.0, **top}


def two_arrays(first: dict | None = None, second: dict | None = None, **top: Any) -> dict:
    """Classic two-array chain: 1 -> (C=3, head 2) -> (C=2, head 1)."""
    a = array(**{"channels": 3, "head_size": 2, "head_bias": False, **(first or {})})
    b = array(**{"input_size": 3, "channels": 2, "head_size": 1, "dilations": [4], **(second or {})})
    return wavenet(a, b, **top)


def film(shift: bool = True, groups: int = 1) -> dict:
    return {"active": True, "shift": shift, "groups": groups}


def random_params(cfg: WaveNetConfig, seed: int, scale: float = 0.6) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for t in wavenet_tensors(cfg):
        fan_in = int(np.prod(t.shape[1:])) if len(t.shape) > 1 else 1
        out[t.name] = (scale * rng.standard_normal(t.shape) / np.sqrt(fan_in)).astype(np.float32)
    out["head_scale"] = np.asarray([0.8], np.float32)
    return out


def signal(channels: int = 1, n: int = N, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = 0.4 * np.sin(2 * np.pi * 0.013 * t * (1 + t / n))[None] + rng.uniform(-0.5, 0.5, (channels, n))
    return x.astype(np.float32)


class Case:
    """A model (with optional condition_dsp), its params, and how to render it."""

    def __init__(self, config: dict, seed: int = 0, condition: dict | None = None, options: RenderOptions = RenderOptions()):
        self.cfg = WaveNetConfig.model_validate(config)
        self.params = random_params(self.cfg, seed)
        children = ()
        self.cond_cfg = None
        if condition is not None:
            self.cond_cfg = WaveNetConfig.model_validate(condition)
            self.params["condition_dsp"] = random_params(self.cond_cfg, seed + 100)
            children = (WaveNet.build(self.cond_cfg, 48000.0, ()),)
        self.options = options
        self.arch = WaveNet.build(self.cfg, 48000.0, children).configure(options)

    def reference(self, x: np.ndarray) -> np.ndarray:
        size = self.options.size if self.cfg.is_slimmable else None
        return ref.render(self.cfg, self.params, x, condition_cfg=self.cond_cfg, fast_tanh=self.options.fast_tanh, size=size)

    def render(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(render_offline_jit(self.arch, self.params, x))


def assert_matches(case: Case, x: np.ndarray | None = None) -> float:
    x = signal(case.arch.in_channels) if x is None else x
    y, want = case.render(x), case.reference(x)
    assert y.shape == want.shape == (case.arch.out_channels, x.shape[1])
    peak = max(1.0, float(np.abs(want).max()))
    err = float(np.abs(y - want).max())
    assert err <= TOL * peak, f"max abs error {err:.3g} (peak {peak:.3g})"
    assert np.abs(want).max() > 1e-3, "degenerate case: the output is silent"
    return err


# ----------------------------------------------------------------------------- feature cases

ACTIVATIONS = [
    "Tanh", "Hardtanh", {"type": "Hardtanh", "min_val": -3.0, "max_val": 3.0}, "Fasttanh", "ReLU", "LeakyReLU",
    {"type": "LeakyReLU", "negative_slope": 0.2}, {"type": "PReLU", "negative_slope": -0.3},
    {"type": "PReLU", "negative_slopes": [0.1, -0.5, 0.9]}, "Sigmoid", "SiLU", "Hardswish",
    "LeakyHardtanh", {"type": "LeakyHardTanh", "min_val": -0.3, "max_val": 0.5, "min_slope": 0.2, "max_slope": -0.4},
    "Softsign",
]

CASES: dict[str, dict] = {
    "classic_tanh": dict(config=two_arrays()),
    "classic_gated": dict(config=two_arrays({"gated": True}, {"gated": True})),
    "head_bias_both": dict(config=two_arrays({"head_bias": True})),
    "three_arrays_head_chain": dict(config=wavenet(
        array(channels=4, head_size=3, head_bias=True, dilations=[1, 3]),
        array(input_size=4, channels=3, head_size=2, head_bias=False, dilations=[2]),
        array(input_size=3, channels=2, head_size=2, head_bias=True, dilations=[1, 5]),
    )),
    "kernel_sizes": dict(config=two_arrays({"kernel_size": _DROP, "kernel_sizes": [3, 1, 4], "dilations": [2, 7, 1]})),
    "bottleneck": dict(config=two_arrays({"channels": 4, "bottleneck": 2, "head_size": 2}, {"input_size": 4})),
    "bottleneck_gated": dict(config=two_arrays({"channels": 4, "bottleneck": 3, "gated": True, "head_size": 3},
                                               {"input_size": 4, "channels": 3})),
    "groups_input": dict(config=two_arrays({"channels": 4, "groups_input": 2, "head_size": 2}, {"input_size": 4})),
    "groups_input_gated": dict(config=two_arrays({"channels": 4, "bottleneck": 2, "groups_input": 4, "gated": True, "head_size": 2},
                                                 {"input_size": 4})),
    "groups_input_mixin": dict(config=wavenet(
        array(input_size=2, condition_size=2, channels=4, groups_input_mixin=2, head_size=1)
    , in_channels=2)),
    "layer1x1_inactive": dict(config=two_arrays({"layer1x1": {"active": False, "groups": 1}})),
    "layer1x1_groups": dict(config=two_arrays({"channels": 4, "bottleneck": 2, "layer1x1": {"active": True, "groups": 2}, "head_size": 2},
                                              {"input_size": 4})),
    "head1x1": dict(config=two_arrays({"head1x1": {"active": True, "out_channels": 5, "groups": 1}})),
    "head1x1_groups_chain": dict(config=two_arrays(
        {"channels": 4, "head_size": 2, "head1x1": {"active": True, "out_channels": 2, "groups": 2}},
        {"input_size": 4, "head1x1": {"active": True, "out_channels": 2, "groups": 2}},
    )),
    "gating_list": dict(config=two_arrays({
        "dilations": [1, 2, 3], "gating_mode": ["none", "gated", "blended"],
        "secondary_activation": [None, "Softsign", {"type": "LeakyHardtanh", "min_val": -0.5, "max_val": 0.5}],
    })),
    "gating_blended_single": dict(config=two_arrays({"gating_mode": "blended", "secondary_activation": "Hardswish"})),
    "gating_gated_default_sigmoid": dict(config=two_arrays({"gating_mode": "gated"})),
    "gating_mode_overrides_gated": dict(config=two_arrays({"gating_mode": "none", "gated": True})),
    "per_layer_activations": dict(config=two_arrays({"dilations": [1, 2, 3], "activation": ["ReLU", {"type": "PReLU", "negative_slopes": [0.5, -1.0, 2.0]}, "SiLU"]})),
    "prelu_per_channel_gated": dict(config=two_arrays({
        "channels": 3, "gating_mode": "gated", "activation": {"type": "PReLU", "negative_slopes": [0.1, 0.7, -0.2]},
        "secondary_activation": {"type": "PReLU", "negative_slopes": [1.5, -0.5, 0.25]},
    })),
    "head_kernel_dilation": dict(config=two_arrays({"head_size": _DROP, "head_bias": _DROP,
                                                    "head": {"out_channels": 2, "kernel_size": 3, "bias": True, "head_dilation": 3}})),
    "head_kernel_no_bias": dict(config=two_arrays(None, {"head_size": _DROP, "head_bias": _DROP,
                                                          "head": {"out_channels": 1, "kernel_size": 4, "bias": False}})),
    "post_head": dict(config=two_arrays(head={"channels": 3, "out_channels": 2, "kernel_sizes": [1, 3, 2], "activation": "SiLU"})),
    "post_head_single": dict(config=two_arrays(head={"channels": 4, "out_channels": 1, "kernel_sizes": [2], "activation": "Tanh", "in_channels": 1})),
    "multichannel_in_out": dict(config=wavenet(
        array(input_size=2, condition_size=2, channels=3, head_size=3, dilations=[1, 3]), in_channels=2)),
    "multichannel_two_arrays": dict(config=wavenet(
        array(input_size=3, condition_size=3, channels=4, head_size=2, head_bias=False),
        array(input_size=4, condition_size=3, channels=2, head_size=2, dilations=[3]), in_channels=3)),
    "condition_dsp": dict(
        config=two_arrays({"condition_size": 2}, {"condition_size": 2}),
        condition=wavenet(array(channels=2, head_size=2, dilations=[1, 2])),
    ),
    "condition_dsp_films_multichannel": dict(
        config=wavenet(array(input_size=2, condition_size=3, channels=4, head_size=2, conv_pre_film=film(), activation_post_film=film(False)),
                       in_channels=2),
        condition=wavenet(array(input_size=2, condition_size=2, channels=3, head_size=3, dilations=[1, 4], gated=True), in_channels=2),
    ),
    # Runs of >= 3 alike short-dilation layers are one lax.scan with padded histories; a long
    # dilation (> 128 history) or another kernel/gating breaks the run.
    "scanned_runs": dict(config=two_arrays({
        "channels": 3, "kernel_size": _DROP, "kernel_sizes": [3, 3, 3, 3, 3, 2, 2, 2, 3, 3, 3],
        "dilations": [1, 7, 2, 40, 90, 3, 1, 5, 2, 4, 1],
        "gating_mode": ["gated"] * 8 + ["blended"] * 3, "conv_pre_film": film(), "activation_post_film": film(False),
    })),
    "scanned_long_kernels": dict(config=two_arrays({"kernel_size": _DROP, "kernel_sizes": [8, 8, 8, 8], "dilations": [1, 3, 2, 9]})),
    "long_kernels_loop_over_taps": dict(config=two_arrays(
        {"kernel_size": _DROP, "kernel_sizes": [9, 2, 12], "dilations": [2, 1, 3], "conv_post_film": film()},
        {"kernel_size": _DROP, "kernel_sizes": [8], "head_size": _DROP, "head_bias": _DROP,
         "head": {"out_channels": 1, "kernel_size": 10, "bias": True, "head_dilation": 2}},
        head={"channels": 2, "out_channels": 1, "kernel_sizes": [8, 1], "activation": "ReLU"},
    )),
    # A history (1500 x 2) longer than the default chunk: rendered in 4096-sample chunks.
    "long_history_long_chunks": dict(config=two_arrays({"kernel_size": 3, "dilations": [1, 1500]})),
    "fast_tanh": dict(config=two_arrays({"gated": True}, {"activation": "Sigmoid"}), options=RenderOptions(fast_tanh=True)),
    "fast_tanh_secondary_and_post_head": dict(
        config=two_arrays({"gating_mode": "blended", "secondary_activation": "Tanh"},
                          head={"channels": 2, "out_channels": 1, "kernel_sizes": [2], "activation": "Tanh"}),
        options=RenderOptions(fast_tanh=True),
    ),
    "fast_tanh_condition_dsp": dict(
        config=two_arrays({"condition_size": 2}, {"condition_size": 2}),
        condition=wavenet(array(channels=2, head_size=2, activation="Tanh")),
        options=RenderOptions(fast_tanh=True),
    ),
}

for i, act in enumerate(ACTIVATIONS):
    CASES[f"activation_{i}_{act if isinstance(act, str) else act['type']}"] = dict(
        config=wavenet(array(channels=3, dilations=[1, 2], gating_mode=["none", "gated"], activation=act, secondary_activation=act))
    )

# Every FiLM position, with and without shift, and grouped (groups divide Cd = 2 and the rows).
for position in FILM_POSITIONS:
    extra: dict = {"head1x1": {"active": True, "out_channels": 2, "groups": 1}} if position == "head1x1_post_film" else {}
    for shift in (True, False):
        CASES[f"film_{position}_shift{int(shift)}"] = dict(config=wavenet(
            array(channels=4, head_size=1, dilations=[1, 3, 2], gating_mode=["gated", "none", "blended"], secondary_activation="Sigmoid",
                  **{position: film(shift)}, **extra)))
    CASES[f"film_{position}_groups2"] = dict(config=wavenet(
        array(input_size=2, condition_size=2, channels=4, bottleneck=2, head_size=1, dilations=[2, 1, 3],
              gating_mode=["none", "blended", "gated"], **{position: film(True, 2)}, **extra), in_channels=2))


@pytest.mark.parametrize("name", list(CASES))
def test_feature_matches_reference(name: str) -> None:
    assert_matches(Case(**CASES[name]))


def test_all_films_at_once_with_groups_and_condition() -> None:
    """An A2-max-like layer: every FiLM, grouped convs, head1x1, bottleneck, mixed gating."""
    films = {p: film(shift=i % 2 == 0, groups=2 if i % 3 == 0 else 1) for i, p in enumerate(FILM_POSITIONS)}
    la = array(input_size=2, condition_size=2, channels=4, bottleneck=2, dilations=[1, 3, 2], kernel_size=_DROP,
               kernel_sizes=[2, 3, 1], groups_input=2, groups_input_mixin=2, layer1x1={"active": True, "groups": 2},
               head1x1={"active": True, "out_channels": 2, "groups": 2}, head_size=_DROP, head_bias=_DROP,
               head={"out_channels": 2, "kernel_size": 2, "bias": True, "head_dilation": 2},
               gating_mode=["gated", "blended", "none"], secondary_activation=["SiLU", "Sigmoid", None],
               activation=[{"type": "PReLU", "negative_slopes": [0.2, -0.4]}, "Softsign", "LeakyHardtanh"], **films)
    cfg = wavenet(la, in_channels=2, head={"channels": 3, "out_channels": 2, "kernel_sizes": [2, 1], "activation": "Hardswish"})
    cond = wavenet(array(input_size=2, condition_size=2, channels=2, head_size=2, gated=True), in_channels=2)
    assert_matches(Case(cfg, condition=cond))


# ----------------------------------------------------------------------------- the layer1x1_post_film quirk


def _quirk_output(mode: str, film_weight_scale: float) -> np.ndarray:
    cfg = wavenet(array(channels=3, dilations=[1, 2], gating_mode=mode, layer1x1_post_film=film()))
    case = Case(cfg, seed=4)
    for i in range(2):
        for part in ("weight", "bias"):
            case.params[f"arrays.0.layers.{i}.layer1x1_post_film.{part}"] *= film_weight_scale
    return case.render(signal())


@pytest.mark.parametrize("mode,applied", [("none", False), ("gated", False), ("blended", True)])
def test_layer1x1_post_film_only_applies_in_blended_layers(mode: str, applied: bool) -> None:
    """Core applies layer1x1_post_film only in blended layers; its weights are consumed regardless."""
    a, b = _quirk_output(mode, 1.0), _quirk_output(mode, 3.0)
    assert (np.abs(a - b).max() > 1e-3) == applied


# ----------------------------------------------------------------------------- slimmable (spec 7.1)

SLIM_ALLOWED = {"method": "slice_channels_uniform", "kwargs": {"allowed_channels": [1, 2, 4]}}
SLIM_CASES: dict[str, dict] = {
    "single_array": wavenet(array(channels=4, dilations=[1, 2, 4], slimmable=SLIM_ALLOWED)),
    "default_allowed": wavenet(array(channels=3, dilations=[1, 2], slimmable={"method": "slice_channels_uniform"})),
    "gated_two_arrays": wavenet(
        array(channels=4, head_size=2, head_bias=False, gated=True, slimmable=SLIM_ALLOWED),
        array(input_size=4, channels=2, head_size=1, dilations=[3], slimmable={"method": "slice_channels_uniform", "kwargs": {}}),
    ),
    "bottleneck_films_head1x1": wavenet(array(
        channels=4, bottleneck=2, head_size=1, dilations=[1, 2], gating_mode=["blended", "gated"],
        head1x1={"active": True, "out_channels": 3, "groups": 1}, conv_post_film=film(), activation_post_film=film(),
        layer1x1_post_film=film(False), head1x1_post_film=film(), input_mixin_pre_film=film(), slimmable=SLIM_ALLOWED,
    )),
    "layer1x1_inactive": wavenet(array(channels=4, layer1x1={"active": False, "groups": 1}, slimmable=SLIM_ALLOWED)),
}


@pytest.mark.parametrize("size", [0.0, 0.2, 0.34, 0.5, 0.7, 0.999, 1.0])
@pytest.mark.parametrize("name", list(SLIM_CASES))
def test_slimmable_matches_reference(name: str, size: float) -> None:
    assert_matches(Case(SLIM_CASES[name], seed=3, options=RenderOptions(size=size)))


def test_slimmable_default_is_full_size() -> None:
    case = Case(SLIM_CASES["single_array"], seed=3)
    x = signal()
    full = ref.render(case.cfg, case.params, x)  # no slicing at all
    np.testing.assert_allclose(case.render(x), full, atol=TOL)


def test_slimmed_sizes_differ() -> None:
    """A guard that slicing happens: the three widths give three different outputs."""
    outs = [Case(SLIM_CASES["single_array"], seed=3, options=RenderOptions(size=s)).render(signal()) for s in (0.0, 0.5, 1.0)]
    assert np.abs(outs[0] - outs[1]).max() > 1e-3 and np.abs(outs[1] - outs[2]).max() > 1e-3


# ----------------------------------------------------------------------------- random configurations


@st.composite
def random_configs(draw: st.DrawFn) -> tuple[dict, int]:
    """One or two arrays mixing every per-layer option; later arrays follow the chaining rules."""
    cin = draw(st.integers(1, 2))
    arrays: list[dict] = []
    for k in range(draw(st.integers(1, 2))):
        n = draw(st.integers(1, 3))
        c = arrays[-1]["head"]["out_channels"] if k else draw(st.sampled_from([2, 4]))
        l1 = k > 0 or draw(st.booleans())  # a later array's bottleneck must equal the previous head size
        b = draw(st.sampled_from([c, max(1, c // 2)])) if l1 and k == 0 else c
        modes = [draw(st.sampled_from(["none", "gated", "blended"])) for _ in range(n)]
        la: dict = dict(
            input_size=cin if k == 0 else arrays[-1]["channels"], condition_size=cin, channels=c, bottleneck=b,
            dilations=[draw(st.integers(1, 6)) for _ in range(n)],
            kernel_sizes=[draw(st.integers(1, 4)) for _ in range(n)],
            activation=[draw(st.sampled_from(ACTIVATIONS[:8] + ACTIVATIONS[9:])) for _ in range(n)],
            gating_mode=modes,
            secondary_activation=[None if m == "none" else draw(st.sampled_from(["Sigmoid", "Tanh", "Softsign"])) for m in modes],
            layer1x1={"active": l1, "groups": 1},
            head={"out_channels": draw(st.sampled_from([1, 2])), "kernel_size": draw(st.integers(1, 3)), "bias": draw(st.booleans())},
        )
        if k == 0 and draw(st.booleans()):
            la["head1x1"] = {"active": True, "out_channels": 2, "groups": 1}
        for position in draw(st.lists(st.sampled_from(FILM_POSITIONS), max_size=3, unique=True)):
            if (position == "layer1x1_post_film" and not l1) or (position == "head1x1_post_film" and "head1x1" not in la):
                continue
            la[position] = film(draw(st.booleans()))
        arrays.append(la)
    return wavenet(*arrays, in_channels=cin), draw(st.integers(0, 1000))


@settings(max_examples=8, deadline=None)
@given(random_configs())
def test_random_configs_match_reference(drawn: tuple[dict, int]) -> None:
    config, seed = drawn
    assert_matches(Case(config, seed=seed))


# ----------------------------------------------------------------------------- streaming, start-up, RF


# A scanned run (layers 0-3, histories padded to 18), a long kernel looping over its taps
# (layer 4), gating modes, a FiLM, head kernel/dilation, post head and a condition_dsp.
STREAM_CASE = dict(
    config=wavenet(
        array(input_size=2, condition_size=2, channels=4, bottleneck=2, kernel_size=_DROP, kernel_sizes=[3, 3, 3, 3, 9, 2, 1],
              dilations=[4, 1, 9, 2, 2, 9, 1], gating_mode=["gated"] * 5 + ["blended", "none"], conv_pre_film=film(),
              head_size=_DROP, head_bias=_DROP, head={"out_channels": 2, "kernel_size": 3, "bias": True, "head_dilation": 2}),
        in_channels=2, head={"channels": 2, "out_channels": 2, "kernel_sizes": [3], "activation": "Tanh"},
    ),
    condition=wavenet(array(input_size=2, condition_size=2, channels=2, head_size=2, dilations=[3, 5]), in_channels=2),
)
_STREAM: dict[str, Any] = {}


def _stream_setup() -> tuple[Case, Any, Any, np.ndarray, np.ndarray]:
    if not _STREAM:
        case = Case(**STREAM_CASE)
        prepared = case.arch.prepare(case.params)
        state0 = start_state(case.arch, prepared, case.params)
        x = signal(2, 300)
        _STREAM.update(case=case, prepared=prepared, state0=state0, x=x, offline=case.render(x),
                       step=jax.jit(case.arch.step))
    s = _STREAM
    return s["case"], s["prepared"], s["state0"], s["x"], s["offline"]


@settings(max_examples=10, deadline=None)
@given(st.lists(st.sampled_from([1, 2, 7, 64, 100]), min_size=1, max_size=40))
def test_streaming_in_any_blocks_equals_offline(blocks: list[int]) -> None:
    case, prepared, state, x, offline = _stream_setup()
    step = _STREAM["step"]
    out, pos = [], 0
    for size in blocks:
        if pos >= x.shape[1]:
            break
        state, y = step(prepared, state, x[:, pos : pos + size])
        out.append(np.asarray(y))
        pos += size
    got = np.concatenate(out, axis=1)
    np.testing.assert_allclose(got, offline[:, : got.shape[1]], atol=1e-6, rtol=0)


def test_streaming_matches_reference_too() -> None:
    case, _, _, x, offline = _stream_setup()
    want = case.reference(x)
    assert np.abs(offline - want).max() <= TOL * max(1.0, np.abs(want).max())


def test_batched_render_equals_single_renders() -> None:
    """vmap over signals (scanned runs, tap loops and the condition_dsp included)."""
    case, _, _, x, offline = _stream_setup()
    batch = np.stack([x, x[:, ::-1].copy()])
    ys = np.asarray(jax.jit(jax.vmap(lambda xx: render_offline(case.arch, case.params, xx)))(batch))
    np.testing.assert_allclose(ys[0], offline, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ys[1], case.render(batch[1]), atol=1e-6, rtol=0)


def test_receptive_field_and_prewarm_count() -> None:
    """RF = 1 + sum d(K-1) over layers and heads + post-head (k-1) + (condition RF - 1); spec 6.11."""
    case = Case(**STREAM_CASE)
    own = 1 + (4 * 2 + 1 * 2 + 9 * 2 + 2 * 2 + 2 * 8 + 9 * 1 + 0) + 2 * 2 + 2
    cond = 1 + 3 * 1 + 5 * 1
    assert case.cfg.receptive_field() == own
    assert case.arch.receptive_field() == own + cond - 1
    assert case.arch.prewarm_samples() == cond + own - 1  # Core: the condition's count replaces the leading 1


def test_long_histories_get_long_chunks() -> None:
    """The chunk covers the longest layer history (dilation x (kernel - 1)), as a power of two
    from the fastest 1024 up to 2^18: start-up then costs linear, not quadratic, time in it."""
    chunk = lambda first, second=None: Case(two_arrays(first, second)).arch.preferred_chunk()  # noqa: E731
    assert chunk({"dilations": [1, 2]}) == 1024
    assert chunk({"kernel_size": 3, "dilations": [1, 512]}) == 1024  # the standard WaveNet's longest: 1024
    assert chunk({"kernel_size": 3, "dilations": [1, 1500]}) == 4096
    assert chunk(None, {"head_size": _DROP, "head_bias": _DROP,
                        "head": {"out_channels": 1, "kernel_size": 3, "bias": True, "head_dilation": 1000}}) == 2048
    assert chunk({"dilations": [10**6]}) == 1 << 18


def test_receptive_field_is_exact() -> None:
    """An impulse reaches exactly RF - 1 samples later and no further."""
    case = Case(two_arrays({"kernel_size": _DROP, "kernel_sizes": [3, 2], "dilations": [2, 5]},
                           {"head_size": _DROP, "head_bias": _DROP, "head": {"out_channels": 1, "kernel_size": 2, "bias": True, "head_dilation": 3}}))
    rf = case.arch.receptive_field()
    assert rf == 1 + 4 + 5 + 4 + 3
    x = np.zeros((1, 64), np.float32)
    base = case.render(x)
    x[0, 10] = 1.0
    diff = np.abs(case.render(x) - base)[0]
    assert diff[10] > 0 and diff[10 + rf - 1] > 0
    assert diff[:10].max() == 0 and diff[10 + rf :].max() == 0


def test_gradients_flow_to_file_tensors() -> None:
    """Through prepare (stacking, scanned runs, the tap loop of long kernels) to the file-shaped tensors."""
    case = Case(two_arrays({"gated": True, "kernel_size": _DROP, "kernel_sizes": [2, 2, 2, 9], "dilations": [1, 2, 3, 1]},
                           head={"channels": 2, "out_channels": 1, "kernel_sizes": [2], "activation": "Tanh"}))
    x = signal(n=64)

    def loss(params):
        return (render_offline(case.arch, params, x) ** 2).sum()

    grads = jax.jit(jax.grad(loss))(case.params)
    assert set(grads) == set(case.params)
    assert all(np.isfinite(np.asarray(g)).all() for g in grads.values())
    for i in range(4):
        assert np.abs(np.asarray(grads[f"arrays.0.layers.{i}.conv.weight"])).min() > 0


def test_configure_is_a_pure_function() -> None:
    case = Case(copy.deepcopy(SLIM_CASES["single_array"]))
    small = case.arch.configure(RenderOptions(size=0.0, fast_tanh=True))
    assert case.arch.sliced is None and not case.arch.fast_tanh
    assert small.sliced is not None and small.fast_tanh and small.tensors() == case.arch.tensors()
    assert hash(small) == hash(case.arch.configure(RenderOptions(size=0.0, fast_tanh=True)))
