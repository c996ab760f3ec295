"""Migrating the legacy experimental Sequential (trainer PR #596) to the canonical form.

The legacy files are built by hand from small canonical children (``tests/nam_docs.py`` and
the LSTM/ConvNet below, weight counts worked out by hand from the format spec): bare
configs, weights concatenated, Linear taps reversed (the legacy writer's PyTorch order).
The migrated document must be the canonical Sequential of the same children, built
independently from their own documents.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nam_docs
import namgraph
from namgraph.converters.legacy import is_legacy_sequential, migrate_legacy
from namgraph.errors import LegacySequentialError
from namgraph.loading import save_model

VERSION = "0.7.0"


def values(n: int, seed: int) -> list[float]:
    return [round(0.3 * math.sin(1.7 * i + seed), 6) for i in range(n)]


def linear3() -> dict[str, Any]:
    doc = nam_docs.linear(3, bias=True, version=VERSION)
    doc["weights"] = [0.9, -0.3, 0.1, 0.05]  # taps h[0..2] (chronological), then the bias
    return doc


def linear1() -> dict[str, Any]:
    doc = nam_docs.linear(1, bias=False, version=VERSION)
    doc["weights"] = [0.8]
    return doc


def lstm() -> dict[str, Any]:
    # input 1, hidden 2, 1 layer (spec 5.2): W 4H x (I+H) = 8 x 3 = 24, b 8, h0 2, c0 2, head 2 + 1 -> 39
    return {"version": VERSION, "architecture": "LSTM", "config": {"input_size": 1, "hidden_size": 2, "num_layers": 1},
            "weights": values(39, 1), "sample_rate": 48000}


def convnet() -> dict[str, Any]:
    # channels 2, dilations [1, 2], no batchnorm (spec 4.2): conv (2,1,2) 4 + bias 2; conv (2,2,2) 8 + bias 2;
    # head (1,2) 2 + bias 1 -> 19
    return {"version": VERSION, "architecture": "ConvNet",
            "config": {"channels": 2, "dilations": [1, 2], "batchnorm": False, "activation": "Tanh"},
            "weights": values(19, 2), "sample_rate": 48000}


def wavenet() -> dict[str, Any]:
    doc = nam_docs.tiny_wavenet(version=VERSION)
    doc["weights"] = values(nam_docs.TINY_WAVENET_WEIGHTS - 1, 3) + [0.5]
    return doc


def canonical(*children: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return nam_docs.sequential(*children, metadata={"name": "rig", "loudness": -12.5}, **extra)


def legacy_of(doc: dict[str, Any]) -> dict[str, Any]:
    """What the legacy writer made of ``doc``: bare configs, concatenated weights, Linear taps reversed."""
    weights: list[float] = []
    for child in doc["config"]["models"]:
        w = list(child["weights"])
        if child["architecture"] == "Linear":
            taps = child["config"]["receptive_field"]
            w[:taps] = w[:taps][::-1]
        weights += w
    out = {k: copy.deepcopy(v) for k, v in doc.items() if k not in ("config", "weights")}
    out["config"] = {"models": [copy.deepcopy(c["config"]) for c in doc["config"]["models"]]}
    out["weights"] = weights
    return out


ALL = (linear3, wavenet, lstm, convnet, linear1)


def test_migration_gives_the_canonical_document() -> None:
    expected = canonical(*(make() for make in ALL))
    legacy = legacy_of(expected)
    assert is_legacy_sequential(legacy) and not is_legacy_sequential(expected)
    before = copy.deepcopy(legacy)
    assert migrate_legacy(legacy) == expected
    assert legacy == before  # the input is not changed


def test_migrated_renders_like_the_canonical(tmp_path: Path) -> None:
    expected = canonical(*(make() for make in ALL))
    path = nam_docs.write(tmp_path, legacy_of(expected), "legacy.nam")
    migrated = namgraph.load(path, migrate_legacy=True)
    reference = namgraph.load(expected)
    assert migrated == reference and migrated.metadata == {"name": "rig", "loudness": -12.5}
    x = (0.3 * np.random.default_rng(0).standard_normal(400)).astype(np.float32)
    np.testing.assert_array_equal(namgraph.render(migrated, x), namgraph.render(reference, x))
    # saved, it is an ordinary canonical file
    save_model(migrated, tmp_path / "canonical.nam")
    assert namgraph.load(tmp_path / "canonical.nam") == reference


def test_linear_taps_are_reversed_only_when_there_are_several() -> None:
    legacy = legacy_of(canonical(linear3(), linear1()))
    assert legacy["weights"] == [0.1, -0.3, 0.9, 0.05, 0.8]
    migrated = migrate_legacy(legacy)
    assert [m["weights"] for m in migrated["config"]["models"]] == [[0.9, -0.3, 0.1, 0.05], [0.8]]


def test_wrapper_without_sample_rate_gives_children_without_one() -> None:
    children = [linear3(), wavenet()]
    for child in children:
        del child["sample_rate"]
    expected = canonical(*children)
    del expected["sample_rate"]
    migrated = migrate_legacy(legacy_of(expected))
    assert migrated == expected
    assert namgraph.load(migrated, migrate_legacy=False).sample_rate is None


def test_load_from_a_dict_and_canonical_files_pass_through(tmp_path: Path) -> None:
    expected = canonical(linear3(), wavenet())
    assert namgraph.load(legacy_of(expected), migrate_legacy=True) == namgraph.load(expected)
    assert namgraph.load(expected, migrate_legacy=True) == namgraph.load(expected)
    plain = nam_docs.write(tmp_path, linear3(), "plain.nam")
    assert namgraph.load(plain, migrate_legacy=True) == namgraph.load(plain)
    assert migrate_legacy(expected) == expected and migrate_legacy(expected) is not expected


def test_without_the_option_the_loader_still_rejects_and_says_how_to_migrate(tmp_path: Path) -> None:
    path = nam_docs.write(tmp_path, legacy_of(canonical(linear3(), wavenet())), "legacy.nam")
    with pytest.raises(LegacySequentialError) as info:
        namgraph.load(path)
    assert "migrate_legacy=True" in info.value.message and "--migrate-legacy" in info.value.message


# ----------------------------------------------------------------------------- refusals


def refused(tmp_path: Path, doc: dict[str, Any], json_path: str, *fragments: str) -> LegacySequentialError:
    path = nam_docs.write(tmp_path, doc, "legacy.nam")
    with pytest.raises(LegacySequentialError) as info:
        namgraph.load(path, migrate_legacy=True)
    err = info.value
    assert err.file == str(path) and err.json_path == json_path, (err.file, err.json_path, err.message)
    for fragment in fragments:
        assert fragment in err.message, err.message
    assert str(path) in str(err) and json_path in str(err)
    return err


def test_weights_that_do_not_add_up(tmp_path: Path) -> None:
    legacy = legacy_of(canonical(linear3(), wavenet()))
    need = "the children need 4 (config.models[0], Linear) + 23 (config.models[1], WaveNet) = 27 values"
    refused(tmp_path, {**legacy, "weights": legacy["weights"] + [0.0, 0.0]}, "weights", need, "has 29 (2 too many)")
    refused(tmp_path, {**legacy, "weights": legacy["weights"][:-1]}, "weights", need, "has 26 (1 too few)")


def test_ambiguous_keys(tmp_path: Path) -> None:
    legacy = legacy_of(canonical(linear3(), wavenet()))
    legacy["config"]["models"][1]["receptive_field"] = 2
    legacy["config"]["models"][1]["bias"] = False
    refused(tmp_path, legacy, "config.models[1]", "match Linear and WaveNet", "ambiguous")


def test_unknown_child_config(tmp_path: Path) -> None:
    legacy = legacy_of(canonical(linear3(), wavenet()))
    legacy["config"]["models"][0] = {"taps": 3, "bias": False}
    refused(tmp_path, legacy, "config.models[0]", "match no architecture", "Linear: receptive_field, bias")


def test_nested_legacy_and_containers(tmp_path: Path) -> None:
    inner = legacy_of(canonical(linear3()))["config"]
    legacy = legacy_of(canonical(linear3(), wavenet()))
    legacy["config"]["models"][1] = inner
    refused(tmp_path, legacy, "config.models[1]", "itself a Sequential", "nested legacy")
    legacy["config"]["models"][1] = {"submodels": []}
    refused(tmp_path, legacy, "config.models[1]", "SlimmableContainer")


def test_mixed_forms(tmp_path: Path) -> None:
    legacy = legacy_of(canonical(linear3(), wavenet()))
    legacy["config"]["models"][1] = wavenet()
    refused(tmp_path, legacy, "config.models[1]", "complete model object", "config.models[0] is a bare config")


def test_config_that_does_not_validate(tmp_path: Path) -> None:
    legacy = legacy_of(canonical(linear3(), wavenet()))
    legacy["config"]["models"][0]["receptive_field"] = "3"
    refused(tmp_path, legacy, "config.models[0].receptive_field", "as a Linear config", "an integer")
    legacy = legacy_of(canonical(linear3(), convnet()))
    legacy["config"]["models"][1]["activation"] = "Relu"
    refused(tmp_path, legacy, "config.models[1].activation", "as a ConvNet config", "unknown activation")


def test_wavenet_with_condition_dsp(tmp_path: Path) -> None:
    legacy = legacy_of(canonical(linear3(), wavenet()))
    legacy["config"]["models"][1]["condition_dsp"] = linear1()
    refused(tmp_path, legacy, "config.models[1]", "condition_dsp")


def test_bad_types(tmp_path: Path) -> None:
    legacy = legacy_of(canonical(linear3(), wavenet()))
    refused(tmp_path, {**legacy, "weights": {"a": 1}}, "weights", "concatenated weights", "an object")
    bad = copy.deepcopy(legacy)
    bad["weights"][5] = "0.5"
    refused(tmp_path, bad, "weights[5]", "must be numbers")
    bad = copy.deepcopy(legacy)
    bad["weights"][2] = True
    refused(tmp_path, bad, "weights[2]", "must be numbers")
    bad = copy.deepcopy(legacy)
    bad["config"]["models"].append(3)
    refused(tmp_path, bad, "config.models[2]", "bare child config")
    refused(tmp_path, {**legacy, "version": 7}, "version", "must be a string")


def test_direct_call_names_the_file() -> None:
    legacy = legacy_of(canonical(linear3(), wavenet()))
    legacy["weights"].append(1.0)
    with pytest.raises(LegacySequentialError) as info:
        migrate_legacy(legacy, file="rig.nam")
    assert info.value.file == "rig.nam" and info.value.json_path == "weights"
    assert str(info.value).startswith("rig.nam: weights: cannot migrate the legacy Sequential")

