"""Writing ``.nam`` files: canonical text, float32-exact weights, atomic replacement."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nam_docs import container, linear, sequential, tiny_wavenet, with_condition_dsp, write
from namgraph.errors import OutputError
from namgraph.format import jsonfile
from namgraph.format.jsonfile import ENVELOPE_ORDER, dumps_canonical, float32_json, read_json, write_json
from namgraph.loading import load, save_model


def _bits(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float32).view(np.uint32)


def _read_back_float32(text: str) -> np.ndarray:
    """How Python (and Core) read a written array: decimal -> float64 -> float32."""
    return np.asarray(json.loads(text), dtype=np.float64).astype(np.float32)


# ----------------------------------------------------------------------------- float32 numbers


@given(st.lists(st.integers(0, 2**32 - 1), max_size=64))
def test_written_weights_read_back_bit_identical(patterns: list[int]) -> None:
    values = np.array(patterns, dtype=np.uint32).view(np.float32)
    values = values[np.isfinite(values)]
    text = float32_json(values)
    assert np.array_equal(_bits(_read_back_float32(text)), _bits(values))


def test_extreme_float32_values_round_trip() -> None:
    info = np.finfo(np.float32)
    values = np.array(
        [0.0, -0.0, info.max, -info.max, info.tiny, info.smallest_subnormal, -info.smallest_subnormal, 1 / 3, 16777217.0, 1e-30],
        dtype=np.float32,
    )
    assert np.array_equal(_bits(_read_back_float32(float32_json(values))), _bits(values))


def test_weights_are_written_as_the_shortest_float32_decimal() -> None:
    # float32(0.1) is 0.100000001490116...; "0.1" is the shortest text that reads back to it.
    assert float32_json(np.float32([0.1, 0.02, -2.5, 1.0])) == "[0.1, 0.02, -2.5, 1.0]"
    # float64 input is rounded to float32 first: it is what Core stores.
    assert float32_json([0.019999999552965164, 1 / 3]) == "[0.02, 0.33333334]"


@pytest.mark.parametrize("bad, index", [([1.0, float("nan")], 1), ([float("inf")], 0), ([0.0, 0.0, -np.inf], 2), ([1e39], 0)])
def test_non_finite_weights_cannot_be_written(tmp_path: Path, bad: list, index: int) -> None:
    doc = linear(taps=len(bad), bias=False)
    doc["weights"] = bad
    path = tmp_path / "out.nam"
    with pytest.raises(OutputError) as info:
        write_json(doc, path)
    assert info.value.json_path == f"weights[{index}]"
    assert info.value.file == str(path)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_nan_elsewhere_cannot_be_written_and_is_named(tmp_path: Path) -> None:
    doc = linear(metadata={"loudness": float("nan")})
    with pytest.raises(OutputError) as info:
        write_json(doc, tmp_path / "a.nam")
    assert info.value.json_path == "metadata.loudness" and "NaN" in info.value.message
    doc = sequential(linear(), linear(extra=[1.0, float("-inf")]))
    with pytest.raises(OutputError) as info:
        write_json(doc, tmp_path / "b.nam")
    assert info.value.json_path == "config.models[1].extra[1]"
    with pytest.raises(OutputError) as info:
        write_json(linear(extra={"when": object()}), tmp_path / "c.nam")
    assert info.value.json_path == "extra.when" and "not a JSON value" in info.value.message
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- canonical text


def test_canonical_text_is_stable_valid_json() -> None:
    doc = sequential(linear(metadata={"name": "Ampère \u2192 cab", "gear": None}), tiny_wavenet())
    text = dumps_canonical(doc)
    assert text == dumps_canonical(json.loads(text))  # a fixed point
    assert text.endswith("}\n")
    back = json.loads(text)
    assert list(back) == list(doc)  # key order kept
    assert back["config"]["models"][0]["metadata"]["name"] == "Ampère \u2192 cab"  # UTF-8, not escaped
    assert '"weights": [1.0, 0.5, 0.33333334, 0.125]' in text  # one line per array of numbers


def test_only_model_weights_are_rounded_to_float32() -> None:
    """Other numbers are the user's own and keep float64 precision."""
    third = 1 / 3
    back = json.loads(dumps_canonical(linear(metadata={"loudness": third, "weights": [third]})))
    assert back["metadata"]["loudness"] == third and back["metadata"]["weights"] == [third]
    assert back["weights"][2] == 0.33333334  # the shortest decimal of float32(1/3)


# ----------------------------------------------------------------------------- round trips


def test_read_write_read_preserves_unknown_keys_and_weights(tmp_path: Path) -> None:
    doc = with_condition_dsp(tiny_wavenet(notes=["kept"], metadata={"name": "x", "training": {"a": 1}}), linear(extra_key=3))
    doc["config"]["future_option"] = {"x": [1, 2]}
    doc["config"]["layers"][0]["unknown_layer_key"] = "y"
    src = write(tmp_path, doc, "src.nam")
    model = load(src)
    out = tmp_path / "out.nam"
    save_model(model, out)
    back = read_json(out)
    assert back["notes"] == ["kept"] and back["metadata"] == {"name": "x", "training": {"a": 1}}
    assert back["config"]["future_option"] == {"x": [1, 2]}
    assert back["config"]["layers"][0]["unknown_layer_key"] == "y"
    assert back["config"]["condition_dsp"]["extra_key"] == 3
    order = [k for k in ENVELOPE_ORDER if k in doc]
    assert list(back) == order + [k for k in doc if k not in order]  # canonical envelope order, extras after
    assert np.array_equal(_bits(back["weights"]), _bits(doc["weights"]))
    assert np.array_equal(_bits(back["config"]["condition_dsp"]["weights"]), _bits(linear()["weights"]))
    assert load(out) == model
    # writing again gives the same bytes
    save_model(load(out), tmp_path / "again.nam")
    assert (tmp_path / "again.nam").read_bytes() == out.read_bytes()


def test_changed_params_are_written(tmp_path: Path) -> None:
    model = load(container(linear(), tiny_wavenet()))
    lin, wn = model.params["children"]
    new_lin = {"ir": lin["ir"] * 2, "bias": np.float32([-1.0])}
    new_wn = dict(wn, head_scale=np.float32([0.25]))
    changed = model.with_params({"children": (new_lin, new_wn)})
    assert changed != model
    path = tmp_path / "tuned.nam"
    save_model(changed, path)
    doc = read_json(path)
    sub0, sub1 = (s["model"] for s in doc["config"]["submodels"])
    assert np.array_equal(_bits(sub0["weights"]), _bits([2.0, 1.0, 2 / 3, -1.0]))
    assert sub1["weights"][-1] == 0.25 and sub1["config"]["head_scale"] == 0.25  # config kept in step
    reloaded = load(path)
    assert reloaded.with_params(changed.params) == reloaded  # same weights
    assert reloaded.architecture.children()[0] == changed.architecture.children()[0]
    # unchanged head_scale: the config value stays as written, even where it differs from the weight
    untouched = tiny_wavenet()
    untouched["config"]["head_scale"] = 0.02
    assert load(untouched).to_document()["config"]["head_scale"] == 0.02


def test_model_sample_rate_and_metadata_are_written(tmp_path: Path) -> None:
    from dataclasses import replace

    model = load(linear(metadata={"name": "a"}))
    changed = replace(model, sample_rate=44100.0, metadata={"name": "b", "loudness": -12.5})
    doc = changed.to_document()
    assert doc["sample_rate"] == 44100 and doc["metadata"] == {"name": "b", "loudness": -12.5}
    assert "sample_rate" not in replace(model, sample_rate=None).to_document()
    assert "metadata" not in load(linear()).to_document()


@pytest.mark.parametrize(
    "name",
    [
        "A2", "identity_linear_1", "identity_linear_10", "identity_wavenet_minimal", "identity_wavenet_standard",
        "lstm", "slimmable_container", "slimmable_wavenet", "wavenet", "wavenet_a1_standard",
        "wavenet_a2_max", "wavenet_condition_dsp",
    ],
)
def test_fixture_files_round_trip_to_their_canonical_text(core_fixtures: Path, tmp_path: Path, name: str) -> None:
    source = core_fixtures / f"{name}.nam"
    model = load(source)
    out = tmp_path / f"{name}.nam"
    save_model(model, out)
    assert out.read_text(encoding="utf-8") == dumps_canonical(read_json(source))
    original, written = read_json(source), read_json(out)
    assert np.array_equal(_bits(written["weights"]), _bits(np.asarray(original["weights"], np.float64)))
    assert load(out) == model


# ----------------------------------------------------------------------------- atomic writes


def test_failed_replace_leaves_the_old_file_and_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.nam"
    path.write_text("old content")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OutputError, match="No space left") as info:
        write_json(linear(), path)
    assert info.value.file == str(path)
    assert path.read_text() == "old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.nam"]


def test_interrupted_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.nam"
    path.write_text("old content")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_json(linear(), path)
    assert path.read_text() == "old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.nam"]


def test_encoding_failure_touches_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.nam"
    path.write_text("old content")

    def broken(document: object) -> str:
        raise OutputError("cannot encode")

    monkeypatch.setattr(jsonfile, "dumps_canonical", broken)
    with pytest.raises(OutputError, match="cannot encode"):
        write_json(linear(), path)
    assert path.read_text() == "old content" and len(list(tmp_path.iterdir())) == 1


def test_write_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "model.nam"
    path.write_text("old content")
    write_json(linear(), path)
    assert read_json(path) == json.loads(dumps_canonical(linear()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.nam"]


def test_refuses_missing_directory_and_directory_target(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist") as info:
        write_json(linear(), tmp_path / "missing" / "model.nam")
    assert "missing" in str(info.value)
    assert not (tmp_path / "missing").exists()
    (tmp_path / "dir.nam").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        write_json(linear(), tmp_path / "dir.nam")
    with pytest.raises(OutputError, match="must be an object"):
        write_json([linear()], tmp_path / "list.nam")  # type: ignore[arg-type]


def test_envelope_keys_are_written_in_one_order_whatever_the_input_order() -> None:
    doc = linear()
    shuffled = {"metadata": {"name": "m"}, "weights": doc["weights"], "sample_rate": 48000, "config": doc["config"], "architecture": "Linear", "version": doc["version"], "zz": 1}
    text = dumps_canonical(shuffled)
    keys = list(json.loads(text))
    assert keys == ["version", "architecture", "config", "weights", "sample_rate", "metadata", "zz"]
    assert text == dumps_canonical({k: shuffled[k] for k in keys})
