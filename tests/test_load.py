"""``namgraph.load`` and the ``Model`` it returns."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

import namgraph
from nam_docs import TINY_WAVENET_WEIGHTS, container, linear, sequential, tiny_wavenet, with_condition_dsp, write
from namgraph.engine import render_offline_jit
from namgraph.errors import NamGraphError, WeightCountError
from namgraph.model import Model

# Weight counts per model object, from the fixture README / format spec section 13 (worked
# out there by hand and with Core), not from namgraph: (own, nested...) in file order.
FIXTURE_COUNTS: dict[str, tuple[str, int, tuple[int, ...]]] = {
    "wavenet": ("WaveNet", 131, ()),
    "lstm": ("LSTM", 70, ()),
    "wavenet_a1_standard": ("WaveNet", 13802, ()),
    "identity_wavenet_standard": ("WaveNet", 13802, ()),  # the A1 standard shape
    "identity_wavenet_minimal": ("WaveNet", 9, ()),  # 1 channel, kernel 1: 9 scalars, counted by hand
    "identity_linear_1": ("Linear", 1, ()),
    "identity_linear_10": ("Linear", 10, ()),
    "wavenet_condition_dsp": ("WaveNet", 147, (137,)),
    "wavenet_a2_max": ("WaveNet", 818, (1052,)),
    "slimmable_wavenet": ("WaveNet", 457, ()),
    "slimmable_container": ("SlimmableContainer", 0, (70, 131, 842)),
    "A2": ("SlimmableContainer", 0, (1871, 12146)),
}


def _size(tree) -> int:
    if isinstance(tree, dict):
        return sum(_size(v) for v in tree.values())
    if isinstance(tree, tuple | list):
        return sum(_size(v) for v in tree)
    return int(np.size(tree))


def _own(params: dict) -> dict:
    return {k: v for k, v in params.items() if k not in ("children", "condition_dsp")}


@pytest.mark.parametrize("name", sorted(FIXTURE_COUNTS))
def test_every_fixture_loads_with_the_expected_weight_counts(core_fixtures: Path, name: str) -> None:
    architecture, own, nested = FIXTURE_COUNTS[name]
    model = namgraph.load(core_fixtures / f"{name}.nam")
    assert model.name == architecture and type(model.architecture).name == architecture
    assert _size(_own(model.params)) == own
    if architecture == "WaveNet":
        children = (model.params["condition_dsp"],) if "condition_dsp" in model.params else ()
    else:
        children = model.params.get("children", ())
    assert tuple(_size(c) for c in children) == nested
    assert model.num_weights == own + sum(nested)
    assert len(model.architecture.children()) == len(nested)
    assert model.source == str(core_fixtures / f"{name}.nam")
    for leaf in _leaves(model.params):
        assert leaf.dtype == np.float32
    raw = json.loads((core_fixtures / f"{name}.nam").read_text())
    assert model.sample_rate == raw.get("sample_rate")
    assert model.metadata == raw.get("metadata", {})


def _leaves(tree):
    if isinstance(tree, dict):
        for v in tree.values():
            yield from _leaves(v)
    elif isinstance(tree, tuple | list):
        for v in tree:
            yield from _leaves(v)
    else:
        yield tree


def test_fixture_details_match_the_spec(core_fixtures: Path) -> None:
    wavenet = namgraph.load(core_fixtures / "wavenet.nam")
    # spec 13.1: head_scale is the last weight, float32(0.02); LA0 rechannel is weights[0:3]
    raw = json.loads((core_fixtures / "wavenet.nam").read_text())
    assert wavenet.params["head_scale"].tolist() == [np.float32(0.02)]
    assert np.array_equal(wavenet.params["arrays.0.rechannel.weight"].reshape(-1), np.float32(raw["weights"][0:3]))
    assert wavenet.receptive_field == 23
    lstm = namgraph.load(core_fixtures / "lstm.nam")
    # spec 13.2: h0 = weights[60:63], c0 = weights[63:66]
    raw = json.loads((core_fixtures / "lstm.nam").read_text())
    assert np.array_equal(lstm.params["layers.0.h0"], np.float32(raw["weights"][60:63]))
    assert np.array_equal(lstm.params["layers.0.c0"], np.float32(raw["weights"][63:66]))
    a1 = namgraph.load(core_fixtures / "wavenet_a1_standard.nam")
    assert a1.sample_rate is None and a1.receptive_field == 4093


# ----------------------------------------------------------------------------- load()


def test_load_accepts_a_dict_and_copies_it() -> None:
    doc = linear()
    model = namgraph.load(doc)
    assert model.source is None
    doc["config"]["receptive_field"] = 99
    doc["weights"][0] = 5.0
    assert model.document["config"]["receptive_field"] == 3
    assert model.params["ir"][0] == 1.0


def test_load_accepts_str_and_pathlike(tmp_path: Path) -> None:
    path = write(tmp_path, linear())
    assert namgraph.load(str(path)) == namgraph.load(path)
    assert namgraph.load(str(path)).source == str(path)
    with pytest.raises(TypeError, match="path or a dict"):
        namgraph.load(42)  # type: ignore[arg-type]


def test_errors_from_load_name_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, sequential(linear(), linear(weights=[1.0, 2.0])))
    with pytest.raises(WeightCountError) as info:
        namgraph.load(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}: config.models[1].weights: expected 4 weights, found 2")
    assert pickle.loads(pickle.dumps(info.value)).json_path == "config.models[1].weights"
    with pytest.raises(NamGraphError) as info:
        namgraph.load(sequential(linear(), linear(weights=[1.0])))
    assert info.value.file is None  # a dict has no file


def test_linear_taps_are_taken_in_core_order() -> None:
    """Core: ``y[t] = bias + sum_k w[k] x[t-k]``; the file order is used as is."""
    model = namgraph.load(linear(taps=3, bias=True))
    assert model.params["ir"].tolist() == [1.0, 0.5, np.float32(1 / 3)]
    x = np.zeros((1, 8), np.float32)
    x[0, 2] = 1.0
    y = np.asarray(render_offline_jit(model.architecture, model.params, x))
    expected = np.full(8, 0.125, np.float32)
    expected[2:5] += np.float32([1.0, 0.5, 1 / 3])
    np.testing.assert_allclose(y[0], expected, atol=1e-7)


# ----------------------------------------------------------------------------- params layout


def test_params_nesting_follows_the_documented_keys() -> None:
    wn = namgraph.load(with_condition_dsp(tiny_wavenet(), linear()))
    assert set(wn.params["condition_dsp"]) == {"ir", "bias"}
    assert wn.num_weights == TINY_WAVENET_WEIGHTS + 4
    assert "condition_dsp" not in namgraph.load(tiny_wavenet()).params

    chain = namgraph.load(sequential(linear(), sequential(linear(bias=False), linear())))
    first, inner = chain.params["children"]
    assert set(first) == {"ir", "bias"}
    assert isinstance(chain.params["children"], tuple) and set(chain.params) == {"children"}
    assert [set(p) for p in inner["children"]] == [{"ir"}, {"ir", "bias"}]
    assert chain.num_weights == 4 + 3 + 4

    slim = namgraph.load(container(linear(), tiny_wavenet()))
    assert isinstance(slim.params["children"], tuple) and len(slim.params["children"]) == 2
    assert slim.architecture.children()[1].receptive_field() == 2  # kernel 2, dilation 1


def test_architecture_receives_exactly_the_params_pytree() -> None:
    """The params pytree is what ``prepare/initial_state/step`` take: render a chain with it."""
    model = namgraph.load(sequential(linear(taps=2, bias=False), linear(taps=1, bias=True)))
    x = np.zeros((1, 4), np.float32)
    x[0, 0] = 1.0
    y = np.asarray(render_offline_jit(model.architecture, model.params, x))
    # (x * [1, 0.5]) * [1] + 0.125
    np.testing.assert_allclose(y[0], [1.125, 0.625, 0.125, 0.125], atol=1e-7)


# ----------------------------------------------------------------------------- Model


def test_model_pickles_and_compares() -> None:
    model = namgraph.load(with_condition_dsp(tiny_wavenet(metadata={"name": "m"}), linear()))
    again = pickle.loads(pickle.dumps(model))
    assert again == model and again is not model
    assert again.metadata == {"name": "m"} and again.document == model.document
    assert again.to_document() == model.to_document()

    bumped = dict(model.params)
    bumped["head_scale"] = model.params["head_scale"] + np.float32(1e-7)
    assert model.with_params(bumped) != model
    other_rate = namgraph.load(with_condition_dsp(tiny_wavenet(sample_rate=44100), linear(sample_rate=44100)))
    assert other_rate != model  # same weights, other sample rate
    assert model != "model" and model != None  # noqa: E711
    assert namgraph.load(linear(metadata={"name": "other"})) == namgraph.load(linear())  # metadata is not the model
    with pytest.raises(TypeError):
        hash(model)


def test_model_repr_and_properties(tmp_path: Path) -> None:
    path = write(tmp_path, tiny_wavenet(), "x.nam")
    model = namgraph.load(path)
    assert repr(model) == f"Model(WaveNet, {TINY_WAVENET_WEIGHTS} weights, 48000 Hz, rf=2, source='{path}')"
    assert (model.in_channels, model.out_channels, model.receptive_field) == (1, 1, 2)
    unknown = namgraph.load({k: v for k, v in linear().items() if k != "sample_rate"})
    assert repr(unknown) == "Model(Linear, 4 weights, unknown rate, rf=3)"
    assert isinstance(unknown, namgraph.Model) and namgraph.Model is Model


def test_to_document_packs_current_params_without_touching_the_original() -> None:
    model = namgraph.load(linear())
    doc = model.to_document()
    doc["config"]["receptive_field"] = 7
    doc["weights"][0] = 9.0
    assert model.document["config"]["receptive_field"] == 3
    assert model.to_document()["weights"][0] == 1.0
