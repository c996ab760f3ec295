"""SlimmableContainer and Sequential: selection, delegation, chaining and start-up.

References are independent of the container code: numpy convolutions for Linear chains,
and for stateful children the children's own steps composed by hand (child 1 on silence
plus the input from its initial state, child 2 on all of that, the start-up part dropped).
"""

from __future__ import annotations

import numpy as np
import pytest

from namgraph.engine import CORE_RENDER_BLOCK, prewarm_length, process, render_offline_jit
from namgraph.format.configs import LinearConfig, LSTMConfig, SlimmableContainerConfig, WaveNetConfig
from namgraph.models.base import Architecture, RenderOptions
from namgraph.models.containers import Sequential, SlimmableContainer, select_submodel
from namgraph.models.linear import Linear
from namgraph.models.lstm import LSTM
from namgraph.models.wavenet import WaveNet

T = 700  # not a multiple of any chunk size: exercises the remainder path


def random_params(arch: Architecture, seed: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {t.name: (scale * rng.standard_normal(t.shape)).astype(np.float32) for t in arch.tensors()}


def linear(taps: int, bias: bool = False, cin: int = 1, cout: int = 1) -> Linear:
    return Linear(LinearConfig(receptive_field=taps, bias=bias, in_channels=cin, out_channels=cout))


def lstm(sample_rate: float | None = 48000.0) -> LSTM:
    return LSTM(LSTMConfig(input_size=1, hidden_size=3, num_layers=2), sample_rate)


def wavenet() -> WaveNet:
    config = WaveNetConfig.model_validate(
        {
            "layers": [
                {"input_size": 1, "condition_size": 1, "channels": 3, "kernel_size": 3, "dilations": [1, 2, 4],
                 "activation": "Tanh", "gated": False, "head_size": 1, "head_bias": True}
            ],
            "head_scale": 0.5,
        }
    )
    return WaveNet.build(config, 48000.0, ())


def container(max_values: tuple[float, ...], children: tuple[Architecture, ...]) -> SlimmableContainer:
    config = SlimmableContainerConfig.model_validate({"submodels": [{"max_value": v, "model": {}} for v in max_values]})
    return SlimmableContainer.build(config, 48000.0, children)


def signal(seed: int = 0, n: int = T) -> np.ndarray:
    return (0.5 * np.random.default_rng(seed).standard_normal((1, n))).astype(np.float32)


def run_from_initial_state(arch: Architecture, params, x: np.ndarray) -> np.ndarray:
    """The child's own step from its initial state, no prewarm (the reference's building block)."""
    _, y = process(arch, arch.prepare(params), arch.initial_state(params), x)
    return np.asarray(y)


# ----------------------------------------------------------------------------- SlimmableContainer


@pytest.mark.parametrize(
    ("size", "expected"),
    [(0.0, 0), (0.2499, 0), (0.25, 1), (0.4999, 1), (0.5, 2), (0.99, 2), (1.0, 2)],
)
def test_selection_rule_breakpoints(size: float, expected: int) -> None:
    assert select_submodel((0.25, 0.5, 1.0), size) == expected


def test_selection_past_the_last_limit_is_the_last() -> None:
    assert select_submodel((0.5, 1.0), 1.0) == 1
    assert select_submodel((0.5, 2.0), 1.0) == 1
    assert select_submodel((0.5, 1.5, 2.0), 1.0) == 1  # the rule, not "the last"


@pytest.mark.parametrize(("size", "expected"), [(0.0, 0), (0.3, 0), (0.5, 1), (0.7, 1), (1.0, 2)])
def test_configure_selects_and_delegates(size: float, expected: int) -> None:
    children = (linear(2), linear(5), linear(9))
    configured = container((0.5, 1.0 - 1e-9, 1.0), children).configure(RenderOptions(size=size))
    assert configured.active == expected
    assert configured.receptive_field() == children[expected].receptive_field()
    assert configured.children() == children


def test_default_is_the_last_submodel() -> None:
    # Core's default before any SetSlimmableSize call: the full (last) submodel.
    unconfigured = container((0.5, 1.5, 2.0), (linear(2), linear(5), linear(9)))
    assert unconfigured.active == 2
    assert unconfigured.receptive_field() == 9
    # render()'s default options (size=None) keep Core's default, even where size 1.0 would not
    assert unconfigured.configure(RenderOptions()).active == 2
    assert unconfigured.configure(RenderOptions(size=1.0)).active == 1


def test_only_the_active_prewarm_counts() -> None:
    box = container((0.5, 1.0), (lstm(48000.0), linear(4)))
    assert box.configure(RenderOptions(size=0.0)).prewarm_samples() == 24000
    assert box.configure(RenderOptions(size=1.0)).prewarm_samples() == 0
    assert box.prewarm_samples() == 0


def test_configure_reaches_the_active_child() -> None:
    child = lstm()
    options = RenderOptions(size=0.1, fast_tanh=True)
    configured = container((0.5, 1.0), (child, linear(3))).configure(options)
    assert configured.active_model == child.configure(options)
    assert configured.active_model != child


@pytest.mark.parametrize("size", [0.0, 1.0])
def test_container_renders_exactly_its_active_submodel(size: float) -> None:
    children = (lstm(4000.0), linear(6, bias=True))
    params = [random_params(c, seed) for seed, c in enumerate(children)]
    box = container((0.5, 1.0), children).configure(RenderOptions(size=size))
    active = children[box.active]
    # The inactive submodel's weights are poisoned: if it ran, the output would be NaN.
    poisoned = [p if i == box.active else {k: np.full_like(v, np.nan) for k, v in p.items()} for i, p in enumerate(params)]
    x = signal()
    got = np.asarray(render_offline_jit(box, {"children": tuple(poisoned)}, x))
    want = np.asarray(render_offline_jit(active, params[box.active], x))
    np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------------------------- Sequential


def test_sequential_shape() -> None:
    a, b, c = linear(5, cin=2, cout=2), wavenet(), lstm()
    seq = Sequential((a, linear(3, cin=2, cout=1), b, c))
    assert seq.in_channels == 2 and seq.out_channels == 1
    assert seq.receptive_field() == 1 + 4 + 2 + (b.receptive_field() - 1) + 0
    assert seq.prewarm_samples() == b.prewarm_samples() + c.prewarm_samples()
    assert seq.children() == (a, linear(3, cin=2, cout=1), b, c)


def test_sequential_configure_reaches_every_child() -> None:
    options = RenderOptions(fast_tanh=True)
    seq = Sequential((lstm(), wavenet()))
    assert seq.configure(options).models == (lstm().configure(options), wavenet().configure(options))


def test_two_linears_equal_the_convolution_of_their_irs() -> None:
    a, b = linear(7), linear(4)
    pa, pb = random_params(a, 1), random_params(b, 2)
    x = signal()
    got = np.asarray(render_offline_jit(Sequential((a, b)), {"children": (pa, pb)}, x))[0]
    want = np.convolve(x[0].astype(np.float64), np.convolve(pa["ir"], pb["ir"]).astype(np.float64))[:T]
    np.testing.assert_allclose(got, want, atol=2e-6, rtol=0)


def test_two_linears_with_bias() -> None:
    # Linear prewarms nothing, so the second filter's history starts at zero and the first
    # filter's bias ramps in through it, as it does in Core.
    a, b = linear(5, bias=True), linear(3, bias=True)
    pa, pb = random_params(a, 3), random_params(b, 4)
    x = signal(1)[0].astype(np.float64)
    y1 = np.convolve(x, pa["ir"])[:T] + pa["bias"][0]
    want = np.convolve(y1, pb["ir"])[:T] + pb["bias"][0]
    got = np.asarray(render_offline_jit(Sequential((a, b)), {"children": (pa, pb)}, signal(1)))[0]
    np.testing.assert_allclose(got, want, atol=2e-6, rtol=0)


def slow_lstm_params(arch: LSTM, seed: int) -> dict[str, np.ndarray]:
    """Forget gates near 1 and a large stored cell state: the state takes hundreds of samples to settle."""
    params = random_params(arch, seed)
    hidden = arch.config.hidden_size
    for layer in range(arch.config.num_layers):
        params[f"layers.{layer}.b"][hidden : 2 * hidden] = 6.0
        params[f"layers.{layer}.c0"][:] = 2.0
    return params


def chain_reference(children: tuple[Architecture, ...], params: list, x: np.ndarray, silence: int) -> np.ndarray:
    """The brief's start-up: the whole chain fed ``silence`` zeros then ``x``; the zeros' output dropped."""
    y = np.concatenate([np.zeros((x.shape[0], silence), np.float32), x], axis=1)
    for child, p in zip(children, params):
        y = run_from_initial_state(child, p, y)
    return y[:, silence:]


@pytest.mark.parametrize("first", ["lstm", "wavenet"])
def test_stateful_then_linear_start_up(first: str) -> None:
    # A slowly settling LSTM at a made-up 4 kHz (2000 prewarm samples): its state is not a
    # fixed point, so the exact number of prewarm zeros matters; the Linear's history then
    # holds the LSTM's response to silence, not zeros.
    head = lstm(4000.0) if first == "lstm" else wavenet()
    children = (head, linear(6, bias=True))
    head_params = slow_lstm_params(head, 5) if first == "lstm" else random_params(head, 5)
    params = [head_params, random_params(children[1], 6)]
    seq = Sequential(children)
    silence = prewarm_length(seq)
    assert silence == -(-sum(c.prewarm_samples() for c in children) // CORE_RENDER_BLOCK) * CORE_RENDER_BLOCK
    x = signal(2)
    got = np.asarray(render_offline_jit(seq, {"children": tuple(params)}, x))
    np.testing.assert_allclose(got, chain_reference(children, params, x, silence), atol=1e-6, rtol=0)


def test_prewarm_is_the_sum_along_the_chain() -> None:
    # Two LSTMs at a made-up 100 Hz (50 prewarm samples each, and far from settled after
    # that): the chain prewarms 128 zeros (100 rounded up to 64), not one child's 64.
    children = (lstm(100.0), lstm(100.0))
    params = [slow_lstm_params(children[0], 7), slow_lstm_params(children[1], 8)]
    x = signal(3, n=300)
    got = np.asarray(render_offline_jit(Sequential(children), {"children": tuple(params)}, x))
    np.testing.assert_allclose(got, chain_reference(children, params, x, 128), atol=1e-6, rtol=0)
    one_count = chain_reference(children, params, x, 64)
    assert np.max(np.abs(got - one_count)) > 1e-4  # the test can tell the two apart


def test_nested_containers() -> None:
    a, b, c = linear(3), linear(4), linear(2)
    pa, pb, pc = (random_params(m, s) for s, m in enumerate((a, b, c), start=10))
    inner = container((0.5, 1.0), (a, b))
    seq = Sequential((inner, c)).configure(RenderOptions(size=0.25))
    assert seq.models[0].active == 0
    x = signal(4)
    got = np.asarray(render_offline_jit(seq, {"children": ({"children": (pa, pb)}, pc)}, x))[0]
    want = np.convolve(np.convolve(x[0], pa["ir"])[:T], pc["ir"])[:T]
    np.testing.assert_allclose(got, want, atol=2e-6, rtol=0)
