"""Reading and validating ``.nam`` files: every malformed kind gives its typed error, with
the file and the JSON path in the message."""

from __future__ import annotations

import copy
import json
import re
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from nam_docs import TINY_WAVENET_WEIGHTS, container, linear, sequential, tiny_wavenet, with_condition_dsp, write
from namgraph.errors import (
    ChannelMismatchError,
    ConfigError,
    LegacySequentialError,
    NamFileError,
    NamFormatError,
    NamFormatWarning,
    NamGraphError,
    SampleRateMismatchError,
    UnknownArchitectureError,
    UnsupportedVersionError,
    WeightCountError,
    WeightValueError,
)
from namgraph.format.document import parse_document, read_document
from namgraph.format.jsonfile import read_json
from namgraph.loading import load

# ----------------------------------------------------------------------------- file level


FILE_CASES: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "empty"),
    "whitespace": (b"  \n\t ", "empty"),
    "not utf-8": (b'{"a": "\xff\xfe"}', "not UTF-8"),
    "truncated": (b'{"version": "0.5.4", "weights": [1, 2', "line 1, column"),
    "not json": (b"version = 0.5.4", "line 1, column 1"),
    "NaN token": (b'{"weights": [1.0,\n  NaN]}', "NaN at line 2, column 3"),
    "Infinity token": (b'{"weights": [Infinity]}', "Infinity at line 1, column 14"),
    "-Infinity token": (b'{"a": "NaN is fine in a string", "w": [-Infinity]}', "-Infinity at line 1, column 40"),
    "root array": (b"[1, 2, 3]", "root JSON value must be an object, found an array"),
    "root string": (b'"model"', "root JSON value must be an object, found a string"),
    "root null": (b"null", "found null"),
    "duplicate key": (b'{"version": "0.5.4", "version": "0.7.0"}', 'key "version" appears twice'),
    "deep nesting": (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
    "integer of 5000 digits": (b'{"sample_rate": ' + b"9" * 5000 + b"}", "not valid for .nam"),
}


@pytest.mark.parametrize("name", FILE_CASES)
def test_unreadable_files_raise_file_errors_naming_the_file(tmp_path: Path, name: str) -> None:
    content, fragment = FILE_CASES[name]
    path = tmp_path / "bad.nam"
    path.write_bytes(content)
    with pytest.raises(NamFileError) as info:
        read_json(path)
    assert info.value.file == str(path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)
    with pytest.raises(NamFileError):  # and the same through load()
        load(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(NamFileError, match="does not exist") as info:
        load(tmp_path / "nope.nam")
    assert str(tmp_path / "nope.nam") in str(info.value)
    with pytest.raises(NamFileError, match="directory"):
        load(tmp_path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, linear())

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(NamFileError, match="could not be read .Permission denied") as info:
        read_json(path)
    assert info.value.file == str(path)


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.nam"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(linear()).encode())
    assert read_json(path)["architecture"] == "Linear"


# ----------------------------------------------------------------------------- envelope


def _set(key: str, value: Any) -> Callable[[dict], None]:
    def edit(doc: dict) -> None:
        doc[key] = value
    return edit


def _drop(key: str) -> Callable[[dict], None]:
    return lambda doc: doc.pop(key)


def _config(key: str, value: Any) -> Callable[[dict], None]:
    def edit(doc: dict) -> None:
        doc["config"][key] = value
    return edit


def _config_drop(key: str) -> Callable[[dict], None]:
    return lambda doc: doc["config"].pop(key)


# (edit of a valid Linear document, error class, JSON path, message fragment)
ENVELOPE_CASES: dict[str, tuple[Callable[[dict], None], type[NamGraphError], str | None, str]] = {
    "missing version": (_drop("version"), NamFormatError, None, "missing required key 'version'"),
    "missing architecture": (_drop("architecture"), NamFormatError, None, "missing required key 'architecture'"),
    "missing config": (_drop("config"), NamFormatError, None, "missing required key 'config'"),
    "missing weights": (_drop("weights"), NamFormatError, None, "missing required key 'weights'"),
    "version 0.5": (_set("version", "0.5"), UnsupportedVersionError, "version", "MAJOR.MINOR.PATCH"),
    "version v0.7.0": (_set("version", "v0.7.0"), UnsupportedVersionError, "version", "MAJOR.MINOR.PATCH"),
    "version 0.7.0-rc1": (_set("version", "0.7.0-rc1"), UnsupportedVersionError, "version", "MAJOR.MINOR.PATCH"),
    "version with newline": (_set("version", "0.7.0\n"), UnsupportedVersionError, "version", "MAJOR.MINOR.PATCH"),
    "version 0.4.9": (_set("version", "0.4.9"), UnsupportedVersionError, "version", "0.5.0 to 0.7.0"),
    "version 0.8.0": (_set("version", "0.8.0"), UnsupportedVersionError, "version", "0.5.0 to 0.7.0"),
    "version 1.0.0": (_set("version", "1.0.0"), UnsupportedVersionError, "version", "not supported"),
    "version number": (_set("version", 0.5), UnsupportedVersionError, "version", "expected a string, found a number"),
    "unknown architecture": (_set("architecture", "Transformer"), UnknownArchitectureError, "architecture", "known: Linear, ConvNet"),
    "wrong case architecture": (_set("architecture", "linear"), UnknownArchitectureError, "architecture", "did you mean 'Linear'"),
    "architecture not a string": (_set("architecture", ["Linear"]), UnknownArchitectureError, "architecture", "expected a string"),
    "config not an object": (_set("config", [3, True]), ConfigError, "config", "config must be an object, found an array"),
    "config key missing": (_config_drop("bias"), ConfigError, "config.bias", "required key is missing"),
    "config string for int": (_config("receptive_field", "3"), ConfigError, "config.receptive_field", 'found a string ("3")'),
    "config bool for int": (_config("receptive_field", True), ConfigError, "config.receptive_field", "found a boolean (true)"),
    "config float for int": (_config("receptive_field", 3.5), ConfigError, "config.receptive_field", "expected an integer, found a number (3.5)"),
    "config int for bool": (_config("bias", 1), ConfigError, "config.bias", "expected true or false"),
    "config zero taps": (_config("receptive_field", 0), ConfigError, "config.receptive_field", "must be >= 1"),
    "config validator message": (_config("implementation", "gpu"), ConfigError, "config.implementation", "unsupported Linear implementation"),
    "too few weights": (_set("weights", [1.0, 0.5, 0.25]), WeightCountError, "weights", "expected 4 weights, found 3: the weights ran out in tensor 'bias'"),
    "far too few weights": (_set("weights", [1.0]), WeightCountError, "weights", "ran out in tensor 'ir'"),
    "too many weights": (_set("weights", [1.0] * 6), WeightCountError, "weights", "expected 4 weights, found 6: 2 more"),
    "weights not an array": (_set("weights", "1 2 3 4"), WeightValueError, "weights", "must be an array of numbers"),
    "weights object": (_set("weights", {"ir": [1, 2, 3]}), WeightValueError, "weights", "found an object"),
    "string weight": (_set("weights", [1, "0.5", 0.25, 0]), WeightValueError, "weights[1]", "found a string"),
    "bool weight": (_set("weights", [1, 0.5, False, 0]), WeightValueError, "weights[2]", "found a boolean (false)"),
    "null weight": (_set("weights", [1, 0.5, 0.25, None]), WeightValueError, "weights[3]", "found null"),
    "nested weight": (_set("weights", [1, [0.5], 0.25, 0]), WeightValueError, "weights[1]", "found an array"),
    "NaN weight (dict input)": (_set("weights", [1, 0.5, float("nan"), 0]), WeightValueError, "weights[2]", "finite"),
    "float32 overflow": (_set("weights", [1, 0.5, 0.25, 1e39]), WeightValueError, "weights[3]", "float32 range"),
    "huge integer weight": (_set("weights", [1, 10**400, 0.25, 0]), WeightValueError, "weights[1]", "too large"),
    "sample_rate 0": (_set("sample_rate", 0), NamFormatError, "sample_rate", "positive"),
    "sample_rate -1": (_set("sample_rate", -1), NamFormatError, "sample_rate", "positive"),
    "sample_rate null": (_set("sample_rate", None), NamFormatError, "sample_rate", "found null"),
    "sample_rate string": (_set("sample_rate", "48000"), NamFormatError, "sample_rate", 'found a string ("48000")'),
    "sample_rate bool": (_set("sample_rate", True), NamFormatError, "sample_rate", "found a boolean"),
    "sample_rate infinite": (_set("sample_rate", 10**400), NamFormatError, "sample_rate", "positive"),
    "metadata array": (_set("metadata", ["loud"]), NamFormatError, "metadata", "must be an object"),
    "metadata null": (_set("metadata", None), NamFormatError, "metadata", "must be an object"),
    "metadata loudness string": (_set("metadata", {"loudness": "loud"}), NamFormatError, "metadata.loudness", 'found a string ("loud")'),
    "metadata level bool": (_set("metadata", {"input_level_dbu": True}), NamFormatError, "metadata.input_level_dbu", "found a boolean"),
    "metadata level NaN": (_set("metadata", {"output_level_dbu": float("nan")}), NamFormatError, "metadata.output_level_dbu", "finite"),
}


@pytest.mark.parametrize("name", ENVELOPE_CASES)
def test_bad_envelopes_raise_typed_errors_with_file_and_path(tmp_path: Path, name: str) -> None:
    edit, error, json_path, fragment = ENVELOPE_CASES[name]
    doc = linear()
    edit(doc)
    with pytest.raises(error) as info:
        parse_document(copy.deepcopy(doc), file="x.nam")
    err = info.value
    assert err.json_path == json_path
    assert fragment in err.message
    assert err.file == "x.nam" and str(err).startswith("x.nam: ")
    if json_path:
        assert f"x.nam: {json_path}: " in str(err)
    # The same from a file on disk, through load(): the path is attached.
    if "dict input" not in name and name != "metadata level NaN":
        path = write(tmp_path, doc)
        with pytest.raises(error) as info:
            load(path)
        assert info.value.file == str(path) and str(path) in str(info.value)
        assert info.value.json_path == json_path


def test_sample_rate_and_weight_overflow_literals_in_a_file(tmp_path: Path) -> None:
    """``1e999`` is valid JSON that overflows float64; Core cannot read it either."""
    text = json.dumps(linear()).replace("[1.0, 0.5,", "[1.0, 1e999,")
    path = tmp_path / "inf.nam"
    path.write_text(text)
    with pytest.raises(WeightValueError) as info:
        load(path)
    assert info.value.json_path == "weights[1]" and str(path) in str(info.value)

    text = json.dumps(tiny_wavenet()).replace('"head_scale": 0.5', '"head_scale": -1e999')
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.json_path == "config.head_scale"

    text = json.dumps(linear(extra_key={"notes": [1, 2.5]})).replace("2.5", "2e999")
    path.write_text(text)
    with pytest.raises(NamFormatError) as info:
        load(path)
    assert info.value.json_path == "extra_key.notes[1]"


@pytest.mark.parametrize("version", ["0.5.0", "0.5.4", "0.6.0", "0.7.0", "00.5.0"])
def test_supported_versions_load_without_warnings(version: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load(linear(version=version)).num_weights == 4


@pytest.mark.parametrize("version", ["0.7.1", "0.7.12"])
def test_newer_patch_versions_load_with_a_warning(tmp_path: Path, version: str) -> None:
    path = write(tmp_path, linear(version=version))
    with pytest.warns(NamFormatWarning, match=rf"{path}: version: {version} is newer than 0.7.0"):
        model = load(path)
    assert model.num_weights == 4


def test_nested_versions_are_checked_too() -> None:
    doc = sequential(linear(), linear(version="0.8.0"))
    with pytest.raises(UnsupportedVersionError) as info:
        load(doc)
    assert info.value.json_path == "config.models[1].version"
    with pytest.warns(NamFormatWarning, match=r"config.submodels\[0\].model.version"):
        load(container(linear(version="0.7.1"), linear()))


# ----------------------------------------------------------------------------- WaveNet config paths


def _layer(key: str, value: Any) -> Callable[[dict], None]:
    def edit(doc: dict) -> None:
        doc["config"]["layers"][0][key] = value
    return edit


WAVENET_CASES: dict[str, tuple[Callable[[dict], None], type[NamGraphError], str, str]] = {
    "layer key missing": (lambda d: d["config"]["layers"][0].pop("channels"), ConfigError, "config.layers[0].channels", "required key is missing"),
    "dilation bool": (_layer("dilations", [1, True]), ConfigError, "config.layers[0].dilations[1]", "found a boolean (true)"),
    "dilation string": (_layer("dilations", ["1"]), ConfigError, "config.layers[0].dilations[0]", "expected an integer"),
    "activation typo": (_layer("activation", "Relu"), ConfigError, "config.layers[0].activation", "unknown activation type 'Relu'"),
    "activation object without type": (_layer("activation", {"name": "ReLU"}), ConfigError, "config.layers[0].activation.type", "required key is missing"),
    "gating mode typo": (_layer("gating_mode", "gatd"), ConfigError, "config.layers[0].gating_mode", "'none', 'gated' or 'blended'"),
    "both kernel keys": (_layer("kernel_sizes", [2]), ConfigError, "config.layers[0]", "only one of kernel_size"),
    "FiLM null": (_layer("conv_pre_film", None), ConfigError, "config.layers[0]", "conv_pre_film must be an object or false, not null"),
    "head_scale string": (lambda d: d["config"].__setitem__("head_scale", "0.5"), ConfigError, "config.head_scale", 'found a string ("0.5")'),
    "head_scale bool": (lambda d: d["config"].__setitem__("head_scale", True), ConfigError, "config.head_scale", "found a boolean"),
    "no layers": (lambda d: d["config"].__setitem__("layers", []), ConfigError, "config.layers", "at least 1"),
    "condition_size without condition_dsp": (_layer("condition_size", 2), ConfigError, "config.layers[0].condition_size", "without a condition_dsp"),
    "condition_dsp not an object": (lambda d: d["config"].__setitem__("condition_dsp", "dsp.nam"), ConfigError, "config.condition_dsp", "complete model object or null"),
    "weights one short": (lambda d: d["weights"].pop(), WeightCountError, "weights", "ran out in tensor 'head_scale'"),
}


@pytest.mark.parametrize("name", WAVENET_CASES)
def test_wavenet_config_errors_carry_the_json_path(name: str) -> None:
    edit, error, json_path, fragment = WAVENET_CASES[name]
    doc = tiny_wavenet()
    edit(doc)
    with pytest.raises(error) as info:
        load(doc)
    assert info.value.json_path == json_path
    assert fragment in info.value.message


def test_tiny_wavenet_is_valid() -> None:
    """Guards the cases above: each fails for its own reason only."""
    assert load(tiny_wavenet()).num_weights == TINY_WAVENET_WEIGHTS


# ----------------------------------------------------------------------------- nested objects


def test_nested_errors_carry_the_full_json_path(tmp_path: Path) -> None:
    bad = tiny_wavenet()
    bad["config"]["layers"][0]["channels"] = "2"
    path = write(tmp_path, container(linear(), bad))
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.json_path == "config.submodels[1].model.config.layers[0].channels"
    assert str(info.value).startswith(f"{path}: config.submodels[1].model.config.layers[0].channels: ")

    deep = sequential(linear(), sequential(linear(), linear(weights=[1.0])))
    with pytest.raises(WeightCountError) as info:
        load(deep)
    assert info.value.json_path == "config.models[1].config.models[1].weights"

    dsp = tiny_wavenet()
    dsp["weights"] = dsp["weights"][:5]
    with pytest.raises(WeightCountError) as info:
        load(with_condition_dsp(tiny_wavenet(), dsp))
    assert info.value.json_path == "config.condition_dsp.weights"

    with pytest.raises(NamFormatError) as info:
        load(sequential(linear(), {k: v for k, v in linear().items() if k != "version"}))
    assert info.value.json_path == "config.models[1]" and "missing required key 'version'" in info.value.message

    with pytest.raises(NamFormatError) as info:
        load(sequential(linear(), [1, 2]))
    assert info.value.json_path == "config.models[1]" and "must be a JSON object" in info.value.message


def test_container_config_errors() -> None:
    doc = container(linear(), linear())
    doc["config"]["submodels"][0]["max_value"] = 2.0
    with pytest.raises(ConfigError, match="ascending") as info:
        load(doc)
    assert info.value.json_path == "config"
    doc = container(linear())
    doc["config"]["submodels"][0]["model"] = "a.nam"
    with pytest.raises(ConfigError, match=r"submodels\[0\].model must be a complete model object"):
        load(doc)
    with pytest.raises(ConfigError, match="'models' must be a non-empty array"):
        load(sequential())


def test_legacy_sequential_is_rejected_with_a_migration_hint(tmp_path: Path) -> None:
    legacy = {
        "version": "0.7.0",
        "architecture": "Sequential",
        "config": {"models": [{"receptive_field": 2, "bias": False}, {"receptive_field": 1, "bias": False}]},
        "weights": [1.0, 0.0, 0.5],
        "sample_rate": 48000,
    }
    path = write(tmp_path, legacy)
    with pytest.raises(LegacySequentialError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message and "config.models[0]" in message
    assert "legacy" in message and "PR #596" in message and "migrated" in message
    assert "3 concatenated weights" in message
    assert isinstance(info.value, NamFormatError)


def test_sequential_wrapper_weights_must_be_empty() -> None:
    with pytest.raises(NamFormatError, match=r"own weights must be empty") as info:
        load(sequential(linear(), linear(), weights=[0.5]))
    assert info.value.json_path == "weights"
    assert not isinstance(info.value, LegacySequentialError)


def test_sequential_channel_mismatch() -> None:
    stereo_out = linear()
    stereo_out["config"]["out_channels"] = 2
    with pytest.raises(ChannelMismatchError) as info:
        load(sequential(linear(), stereo_out, linear()))
    assert info.value.json_path == "config.models[2]"
    assert "config.models[1] outputs 2 channel(s)" in info.value.message and "takes 1" in info.value.message
    stereo_in = linear()
    stereo_in["config"]["in_channels"] = 2
    assert load(sequential(stereo_out, stereo_in)).out_channels == 1


def test_condition_dsp_channel_mismatch() -> None:
    dsp = linear()
    dsp["config"]["out_channels"] = 2
    with pytest.raises(ChannelMismatchError) as info:
        load(with_condition_dsp(tiny_wavenet(), dsp))
    assert info.value.json_path == "config.layers[0].condition_size"
    assert "condition_dsp outputs 2" in info.value.message


# ----------------------------------------------------------------------------- sample rates


def _rate(doc: dict, rate: float | None) -> dict:
    doc = copy.deepcopy(doc)
    if rate is None:
        doc.pop("sample_rate", None)
    else:
        doc["sample_rate"] = rate
    return doc


RATE_CASES = [
    # (parent builder, parent rate, child rates, error path or None)
    ("condition_dsp", 48000, [48000.0], None),
    ("condition_dsp", None, [None], None),
    ("condition_dsp", 48000, [44100], "config.condition_dsp.sample_rate"),
    ("condition_dsp", 48000, [None], "config.condition_dsp.sample_rate"),
    ("condition_dsp", None, [48000], "config.condition_dsp.sample_rate"),
    ("container", 48000, [48000, None], None),
    ("container", None, [44100, 48000], None),
    ("container", 48000, [48000, 44100], "config.submodels[1].model.sample_rate"),
    ("sequential", 48000, [None, 48000], None),
    ("sequential", None, [None, 44100, 44100], None),
    ("sequential", None, [44100, None, 48000], "config.models[2].sample_rate"),
    ("sequential", 48000, [None, 44100], "config.models[1].sample_rate"),
]


@pytest.mark.parametrize("kind, parent_rate, child_rates, error_path", RATE_CASES)
def test_sample_rate_rules(kind: str, parent_rate: float | None, child_rates: list, error_path: str | None) -> None:
    if kind == "condition_dsp":
        doc = with_condition_dsp(_rate(tiny_wavenet(), parent_rate), _rate(linear(), child_rates[0]))
    elif kind == "container":
        doc = _rate(container(*(_rate(linear(), r) for r in child_rates)), parent_rate)
    else:
        doc = _rate(sequential(*(_rate(linear(), r) for r in child_rates)), parent_rate)
    if error_path is None:
        assert load(doc).sample_rate == (None if parent_rate is None else float(parent_rate))
        return
    with pytest.raises(SampleRateMismatchError) as info:
        load(doc)
    assert info.value.json_path == error_path
    # "<child path> is <rate> but <other path> is <rate>; <rule>": both paths, both rates
    match = re.match(r"(\S+) is (.+?) but (\S+) is (.+?); ", info.value.message)
    assert match, info.value.message
    assert match.group(1) == error_path and match.group(3).endswith("sample_rate")
    rates = {"44100 Hz", "48000 Hz", "absent (unknown)"}
    assert match.group(2) in rates and match.group(4) in rates and match.group(2) != match.group(4)


def test_container_weights_are_ignored_with_a_warning() -> None:
    with pytest.warns(NamFormatWarning, match="ignored"):
        model = load(container(linear(), linear(), weights=[1.0, 2.0]))
    assert set(model.params) == {"children"}
    assert model.to_document()["weights"] == []


def test_read_document_exposes_the_validated_tree(tmp_path: Path) -> None:
    path = write(tmp_path, with_condition_dsp(tiny_wavenet(), linear(extra={"kept": True})))
    doc = read_document(path)
    assert doc.architecture == "WaveNet" and doc.version == "0.6.0" and doc.sample_rate == 48000.0
    assert doc.weights.dtype == np.float32 and doc.weights.size == TINY_WAVENET_WEIGHTS
    (dsp,) = doc.children
    assert dsp.json_path == "config.condition_dsp" and dsp.raw["extra"] == {"kept": True}
    assert dsp.own_params["ir"].tolist() == [1.0, 0.5, np.float32(1 / 3)]
