"""``namgraph.save(obj, path, form=...)``: every form from a Model and from a Graph, and its errors.

What a saved file holds is checked by reading it back as plain JSON (its architecture,
its children) and by rendering it against NumPy references: ``graph_parts.chain_reference``
(each model's own step, silence first) and convolutions of IR taps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import graph_parts
import nam_docs
import namgraph
from namgraph.errors import NotRaisableError, OptionError, OutputError
from namgraph.graph import Graph, gain

X = (0.3 * np.random.default_rng(3).standard_normal(300)).astype(np.float32)
CAB_A = [0.5, -0.25, 0.125]
CAB_B = [0.25, 0.5, 0.0, -0.125]


def taps_doc(taps: list[float], name: str | None = None) -> dict[str, Any]:
    doc = {"version": "0.5.4", "architecture": "Linear", "config": {"receptive_field": len(taps), "bias": False}, "weights": taps, "sample_rate": 48000}
    return doc | ({"metadata": {"name": name}} if name else {})


@pytest.fixture(scope="module")
def parts() -> dict[str, namgraph.Model]:
    return {
        "amp": namgraph.load(nam_docs.tiny_wavenet(metadata={"name": "amp"})),
        "amp2": namgraph.load(nam_docs.tiny_wavenet(weights=[0.02 * (i - 11) for i in range(22)] + [0.5])),
        "cab_a": namgraph.load(taps_doc(CAB_A, "cab_a")),
        "cab_b": namgraph.load(taps_doc(CAB_B, "cab_b")),
    }


def architecture(path: Path) -> str:
    return json.loads(path.read_text())["architecture"]


def children(path: Path) -> list[str]:
    return [m["architecture"] for m in json.loads(path.read_text())["config"]["models"]]


# ----------------------------------------------------------------------------- a Model


def test_auto_writes_a_model_as_it_is(tmp_path: Path, parts: dict) -> None:
    written = namgraph.save(parts["amp"], tmp_path / "amp.nam")
    assert written is parts["amp"]
    assert architecture(tmp_path / "amp.nam") == "WaveNet"
    assert namgraph.load(tmp_path / "amp.nam") == parts["amp"]
    assert json.loads((tmp_path / "amp.nam").read_text())["metadata"] == {"name": "amp"}


def test_auto_keeps_a_sequential_and_its_bytes(tmp_path: Path) -> None:
    seq = namgraph.load(nam_docs.sequential(nam_docs.tiny_wavenet(), taps_doc(CAB_A)))
    namgraph.save(seq, tmp_path / "a.nam")
    namgraph.save(namgraph.load(tmp_path / "a.nam"), tmp_path / "b.nam")
    assert children(tmp_path / "a.nam") == ["WaveNet", "Linear"]
    assert (tmp_path / "a.nam").read_bytes() == (tmp_path / "b.nam").read_bytes()


def test_a_sequential_as_dag_is_its_children_in_series(tmp_path: Path, parts: dict) -> None:
    seq = namgraph.load(nam_docs.sequential(nam_docs.tiny_wavenet(), taps_doc(CAB_A)))
    written = namgraph.save(seq, tmp_path / "rig.nam", form="dag")
    assert isinstance(written, Graph)
    doc = json.loads((tmp_path / "rig.nam").read_text())
    assert doc["architecture"] == "DAG"
    assert [n["kind"] for n in doc["config"]["nodes"]] == ["input", "model", "model", "output"]
    rig = namgraph.load(tmp_path / "rig.nam")
    expected = graph_parts.chain_reference([parts["amp"], parts["cab_a"]], X, silence=64)  # FIR: any silence >= RF works
    np.testing.assert_allclose(namgraph.render(rig, X), expected, atol=1e-6, rtol=0)


def test_a_single_model_as_sequential_is_a_one_child_sequential(tmp_path: Path, parts: dict) -> None:
    written = namgraph.save(parts["amp"], tmp_path / "seq.nam", form="sequential")
    assert written.architecture.name == "Sequential"
    assert architecture(tmp_path / "seq.nam") == "Sequential" and children(tmp_path / "seq.nam") == ["WaveNet"]
    np.testing.assert_allclose(namgraph.render(namgraph.load(tmp_path / "seq.nam"), X), graph_parts.chain_reference([parts["amp"]], X, 64), atol=1e-6, rtol=0)


def test_model_form_of_a_one_child_sequential_is_the_child(tmp_path: Path, parts: dict) -> None:
    seq = namgraph.load(nam_docs.sequential(nam_docs.tiny_wavenet()))
    namgraph.save(seq, tmp_path / "one.nam", form="model")
    assert architecture(tmp_path / "one.nam") == "WaveNet"
    assert namgraph.load(tmp_path / "one.nam") == namgraph.load(nam_docs.tiny_wavenet())
    assert namgraph.save(parts["amp"], tmp_path / "amp.nam", form="model") is parts["amp"]


def test_model_form_of_a_longer_sequential_is_refused(tmp_path: Path) -> None:
    seq = namgraph.load(nam_docs.sequential(nam_docs.tiny_wavenet(), nam_docs.tiny_wavenet()))
    with pytest.raises(NotRaisableError, match="2 models"):
        namgraph.save(seq, tmp_path / "x.nam", form="model")
    assert not (tmp_path / "x.nam").exists()


# ----------------------------------------------------------------------------- a Graph


def test_auto_writes_a_chain_as_a_sequential(tmp_path: Path, parts: dict) -> None:
    written = namgraph.save(namgraph.chain(parts["amp"], parts["cab_a"]), tmp_path / "rig.nam")
    assert isinstance(written, namgraph.Model) and children(tmp_path / "rig.nam") == ["WaveNet", "Linear"]
    np.testing.assert_allclose(
        namgraph.render(namgraph.load(tmp_path / "rig.nam"), X), graph_parts.chain_reference([parts["amp"], parts["cab_a"]], X, 64), atol=1e-6, rtol=0
    )


def test_auto_writes_a_one_model_graph_as_that_model(tmp_path: Path, parts: dict) -> None:
    namgraph.save(namgraph.chain(parts["amp"]), tmp_path / "amp.nam")
    assert architecture(tmp_path / "amp.nam") == "WaveNet"
    assert namgraph.load(tmp_path / "amp.nam") == parts["amp"]


def test_auto_folds_parallel_cabs_into_one_ir(tmp_path: Path, parts: dict) -> None:
    namgraph.save(namgraph.parallel(parts["cab_a"], parts["cab_b"]), tmp_path / "cabs.nam")
    doc = json.loads((tmp_path / "cabs.nam").read_text())
    assert doc["architecture"] == "Linear"
    a, b = np.zeros(4), np.zeros(4)
    a[:3], b[:] = CAB_A, CAB_B
    np.testing.assert_array_equal(np.float32(doc["weights"]), np.float32((a + b) / 2))


def test_auto_writes_parallel_amps_as_a_dag(tmp_path: Path, parts: dict) -> None:
    rig = namgraph.parallel(parts["amp"], parts["amp2"])
    written = namgraph.save(rig, tmp_path / "rig.nam")
    assert written is rig and architecture(tmp_path / "rig.nam") == "DAG"
    assert namgraph.load(tmp_path / "rig.nam") == rig


def test_sequential_form_of_parallel_amps_names_them_and_writes_nothing(tmp_path: Path, parts: dict) -> None:
    rig = namgraph.parallel(parts["amp"], parts["amp2"])
    target = tmp_path / "rig.nam"
    target.write_text("old")
    with pytest.raises(NotRaisableError) as err:
        namgraph.save(rig, target, form="sequential")
    amps = {n.id for n in rig.nodes if n.kind == "model"}
    assert set(err.value.nodes) == amps and all(a in str(err.value) for a in amps)
    assert target.read_text() == "old"


def test_model_form_of_a_chain_of_two_is_refused(tmp_path: Path, parts: dict) -> None:
    with pytest.raises(NotRaisableError):
        namgraph.save(namgraph.chain(parts["amp"], parts["amp2"]), tmp_path / "x.nam", form="model")
    assert not (tmp_path / "x.nam").exists()


def test_model_form_folds_a_gain_into_an_ir(tmp_path: Path, parts: dict) -> None:
    namgraph.save(namgraph.chain(gain(-6.0), parts["cab_a"]), tmp_path / "cab.nam", form="model")
    doc = json.loads((tmp_path / "cab.nam").read_text())
    np.testing.assert_allclose(doc["weights"], np.float32(CAB_A) * np.float32(10 ** (-6 / 20)), rtol=1e-6)


def test_dag_form_of_a_graph_round_trips(tmp_path: Path, parts: dict) -> None:
    rig = namgraph.chain(parts["amp"], gain(-3.0), parts["cab_a"])
    namgraph.save(rig, tmp_path / "a.nam", form="dag")
    namgraph.save(namgraph.load(tmp_path / "a.nam"), tmp_path / "b.nam", form="dag")
    assert (tmp_path / "a.nam").read_bytes() == (tmp_path / "b.nam").read_bytes()
    assert namgraph.load(tmp_path / "a.nam") == rig


def test_save_replaces_an_existing_file(tmp_path: Path, parts: dict) -> None:
    target = tmp_path / "amp.nam"
    target.write_text("something else")
    namgraph.save(parts["amp"], target)
    assert namgraph.load(target) == parts["amp"]


# ----------------------------------------------------------------------------- errors


def test_unknown_form_is_an_option_error(tmp_path: Path, parts: dict) -> None:
    with pytest.raises(OptionError, match="'auto', 'dag', 'sequential', 'model'"):
        namgraph.save(parts["amp"], tmp_path / "x.nam", form="wav")
    assert not (tmp_path / "x.nam").exists()


def test_a_path_is_not_something_to_save(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="namgraph.load"):
        namgraph.save("examples/rig/drive.nam", tmp_path / "x.nam")


def test_a_model_built_in_python_has_nothing_to_write(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="without a .nam document"):
        namgraph.save(graph_parts.linear([1.0, 0.5]), tmp_path / "x.nam")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_an_output_error(tmp_path: Path, parts: dict) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        namgraph.save(parts["amp"], tmp_path / "nope" / "x.nam")
