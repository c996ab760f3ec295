"""Lowering (model -> graph) and raising (graph -> model / Sequential).

The round-trip checks are on the canonical JSON text (``dumps_canonical``): a Sequential
lowered and raised again must be the same file, byte for byte. Renders of raised graphs are
compared with the graph's own render (the compiler runs the nodes one by one, the raised
model runs as a Sequential file through the loader: two independent paths).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import namgraph
import nam_docs
from namgraph.converters import simplest, to_dag, to_model, to_sequential
from namgraph.errors import NotRaisableError
from namgraph.format.jsonfile import dumps_canonical, read_json
from namgraph.graph import Graph, chain, gain, parallel
from namgraph.model import Model

X = (0.3 * np.random.default_rng(7).standard_normal(700)).astype(np.float32)


def canonical(model: Model) -> str:
    return dumps_canonical(model.to_document())


def peak_error(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


def taps_doc(taps: list[float], *, bias: float | None = None, sample_rate: float | None = 48000, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": "0.5.4",
        "architecture": "Linear",
        "config": {"receptive_field": len(taps), "bias": bias is not None},
        "weights": list(taps) + ([] if bias is None else [bias]),
    }
    if sample_rate is not None:
        doc["sample_rate"] = sample_rate
    doc.update(extra)
    return doc


def amp_doc(**metadata: Any) -> dict[str, Any]:
    return nam_docs.tiny_wavenet(metadata=metadata) if metadata else nam_docs.tiny_wavenet()


CAB = taps_doc([0.5, -0.25, 0.125, 0.0625, -0.03125])


# ----------------------------------------------------------------------------- round trips of Sequential files


def tiny_sequentials() -> dict[str, dict[str, Any]]:
    """Sequentials of hand-made models: metadata, nesting, unknown keys, absent and float rates."""
    nested = nam_docs.sequential(amp_doc(name="inner amp"), nam_docs.linear(3), metadata={"name": "inner"})
    return {
        "amp_cab": nam_docs.sequential(amp_doc(name="amp", input_level_dbu=12), CAB, metadata={"name": "rig", "loudness": -11.5}),
        "one_child": nam_docs.sequential(CAB),
        "linears_with_bias": nam_docs.sequential(nam_docs.linear(4), nam_docs.linear(2), taps_doc([1.0])),
        "nested": nam_docs.sequential(nested, nam_docs.container(amp_doc(), amp_doc()), nested, metadata={"author": "x"}),
        "no_wrapper_rate": {k: v for k, v in nam_docs.sequential(amp_doc(), CAB).items() if k != "sample_rate"},
        "child_without_rate": nam_docs.sequential(taps_doc([0.5, 0.5], sample_rate=None), sample_rate=None) | {"sample_rate": 44100.5},
        "extra_keys": nam_docs.sequential(CAB, amp_doc(), version="0.7.0", comment={"why": "kept"}, zzz=[1, 2]),
        "empty_metadata": nam_docs.sequential(amp_doc(input_level_dbu=3.0), metadata={}),
        "same_names": nam_docs.sequential(amp_doc(name="in"), amp_doc(name="in"), amp_doc(name="My Amp!")),
    }


@pytest.mark.parametrize("name", sorted(tiny_sequentials()))
def test_sequential_lowered_and_raised_is_the_same_file(name: str) -> None:
    s = namgraph.load(tiny_sequentials()[name])
    g = to_dag(s)
    assert canonical(to_sequential(g)) == canonical(s)
    assert len(g.nodes) == 2 + len(s.document["config"]["models"])  # in, out and one node per child


def test_shipped_example_rig_round_trips_to_its_own_bytes() -> None:
    path = Path(__file__).resolve().parents[1] / "examples" / "rig" / "full_rig.nam"
    g = to_dag(namgraph.load(path))
    assert chain_ids(g) == ["namgraph_demo_drive", "namgraph_demo_cab_synthetic_4x12", "out"]
    assert dumps_canonical(to_sequential(g).to_document()) == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["amp_cab", "empty_metadata", "extra_keys"])
def test_sequential_through_a_dag_document_is_the_same_file(name: str) -> None:
    # (a wrapper without sample_rate is not among them: a DAG file states its models' rate)
    dag_format = pytest.importorskip("namgraph.converters.dag_format")
    s = namgraph.load(tiny_sequentials()[name])
    g = dag_format.document_to_graph(dag_format.graph_to_document(to_dag(s)))
    assert canonical(to_sequential(g)) == canonical(s)


def test_round_trip_keeps_changed_weights() -> None:
    s = namgraph.load(tiny_sequentials()["amp_cab"])
    amp, cab = s.params["children"]
    changed = s.with_params({"children": (amp, {"ir": cab["ir"] * 2})})
    back = to_sequential(to_dag(changed))
    assert canonical(back) == canonical(changed) != canonical(s)
    assert np.array_equal(back.params["children"][1]["ir"], cab["ir"] * 2)


FIXTURE_SEQUENTIALS = {
    "amp_and_ir": (["wavenet", "identity_linear_10"], {"name": "fixture rig"}),
    "mixed": (["lstm", "wavenet_condition_dsp", "slimmable_container", "identity_linear_1"], None),
    "a1_without_rate": (["wavenet_a1_standard", "identity_linear_10"], {"loudness": -3.0}),
}


@pytest.fixture(scope="module")
def fixture_docs(core_fixtures: Path) -> dict[str, dict[str, Any]]:
    names = {n for children, _ in FIXTURE_SEQUENTIALS.values() for n in children} | {"A2", "wavenet_a2_max"}
    return {n: read_json(core_fixtures / f"{n}.nam") for n in names}


@pytest.mark.parametrize("name", sorted(FIXTURE_SEQUENTIALS))
def test_fixture_sequentials_round_trip(fixture_docs: dict[str, dict[str, Any]], name: str) -> None:
    children, metadata = FIXTURE_SEQUENTIALS[name]
    extra = {} if metadata is None else {"metadata": metadata}
    s = namgraph.load(nam_docs.sequential(*(copy.deepcopy(fixture_docs[c]) for c in children), **extra))
    g = to_dag(s)
    assert [g.node(n).model.name for n in chain_ids(g)[:-1]] == [fixture_docs[c]["architecture"] for c in children]
    assert canonical(to_sequential(g)) == canonical(s)
    assert g.metadata == (metadata or {})


def test_nested_fixture_sequential_round_trips(fixture_docs: dict[str, dict[str, Any]]) -> None:
    inner = nam_docs.sequential(copy.deepcopy(fixture_docs["wavenet_a2_max"]), copy.deepcopy(fixture_docs["identity_linear_10"]))
    outer = nam_docs.sequential(copy.deepcopy(fixture_docs["A2"]), inner, metadata={"name": "outer"})
    s = namgraph.load(outer)
    assert canonical(to_sequential(to_dag(s))) == canonical(s)
    flat = to_dag(s, flatten=True)
    assert [n.kind for n in flat.nodes].count("model") == 3


# ----------------------------------------------------------------------------- lowering


def chain_ids(g: Graph) -> list[str]:
    """Node ids from input to output (the graph is a path)."""
    succ = {e.src: e.dst for e in g.edges}
    node, out = g.inputs[0], []
    while node in succ:
        node = succ[node]
        out.append(node)
    return out


def test_lowered_sequential_is_a_path_of_its_children() -> None:
    s = namgraph.load(tiny_sequentials()["same_names"])
    g = to_dag(s)
    assert chain_ids(g) == ["in_2", "in_3", "My_Amp", "out"]
    assert g.metadata == {} and g.file_fields == {"version": "0.7.0", "sample_rate": 48000}
    children = [g.node(n).model for n in chain_ids(g)[:-1]]
    assert [c.metadata["name"] for c in children] == ["in", "in", "My Amp!"]
    assert all(c.sample_rate == 48000.0 for c in children)


def test_lowered_ids_fall_back_to_the_architecture() -> None:
    g = to_dag(namgraph.load(nam_docs.sequential(amp_doc(), CAB, amp_doc())))
    assert chain_ids(g) == ["wavenet", "linear", "wavenet_2", "out"]


def test_file_fields_hold_the_wrapper_envelope() -> None:
    g = to_dag(namgraph.load(tiny_sequentials()["extra_keys"]))
    assert g.file_fields == {"version": "0.7.0", "sample_rate": 48000, "comment": {"why": "kept"}, "zzz": [1, 2]}
    g = to_dag(namgraph.load(tiny_sequentials()["no_wrapper_rate"]))
    assert g.file_fields == {"version": "0.7.0"}
    g = to_dag(namgraph.load(tiny_sequentials()["amp_cab"]))  # metadata: a marker that the key was there
    assert g.file_fields["metadata"] == g.metadata == {"name": "rig", "loudness": -11.5}


def test_lowered_sequential_renders_like_the_file() -> None:
    s = namgraph.load(tiny_sequentials()["amp_cab"])
    assert peak_error(namgraph.render(to_dag(s), X), namgraph.render(s, X)) <= 1e-6


def test_flatten_inlines_nested_sequentials_and_renders_the_same() -> None:
    s = namgraph.load(tiny_sequentials()["nested"])
    kept, flat = to_dag(s), to_dag(s, flatten=True)
    assert [kept.node(n).model.name for n in chain_ids(kept)[:-1]] == ["Sequential", "SlimmableContainer", "Sequential"]
    assert [flat.node(n).model.name for n in chain_ids(flat)[:-1]] == ["WaveNet", "Linear", "SlimmableContainer", "WaveNet", "Linear"]
    want = namgraph.render(s, X)
    assert peak_error(namgraph.render(flat, X), want) <= 1e-6
    assert peak_error(namgraph.render(kept, X), want) <= 1e-6
    # flattened, the inner wrappers are gone: raising gives a flat Sequential, same sound
    raised = to_sequential(flat)
    assert len(raised.document["config"]["models"]) == 5
    assert peak_error(namgraph.render(raised, X), want) <= 1e-6


def test_a_plain_model_lowers_to_one_node_and_raises_back() -> None:
    m = namgraph.load(amp_doc(name="amp", loudness=-9.0))
    g = to_dag(m)
    assert chain_ids(g) == ["amp", "out"] and g.metadata == {} and g.file_fields == {}
    assert canonical(to_model(g)) == canonical(m)
    assert canonical(simplest(g)) == canonical(m)
    one = to_sequential(g)  # a one-child Sequential: the levels rule applies (no loudness)
    assert one.document["config"]["models"] == [m.to_document()] and "metadata" not in one.document


# ----------------------------------------------------------------------------- raising graphs built in Python


def test_python_chain_raises_to_its_models_and_renders_the_same() -> None:
    amp, cab = namgraph.load(amp_doc(name="amp")), namgraph.load(CAB)
    g = chain(amp, cab, amp)
    s = to_sequential(g)
    assert [c["architecture"] for c in s.document["config"]["models"]] == ["WaveNet", "Linear", "WaveNet"]
    assert s.document["config"]["models"][1] == cab.to_document()
    assert s.document["version"] == "0.7.0" and s.document["sample_rate"] == 48000
    want = namgraph.render(g, X)
    assert peak_error(namgraph.render(to_dag(s), X), want) <= 1e-6
    assert peak_error(namgraph.render(s, X), want) <= 1e-6


def test_wrapper_levels_come_from_the_ends_of_the_chain() -> None:
    amp = namgraph.load(amp_doc(name="amp", input_level_dbu=12, output_level_dbu=4, loudness=-10.0, gain=0.7))
    cab = namgraph.load(taps_doc([0.5, 0.25], metadata={"name": "cab", "output_level_dbu": -3.5, "loudness": -20.0}))
    assert to_sequential(chain(amp, cab)).metadata == {"input_level_dbu": 12, "output_level_dbu": -3.5}
    assert to_sequential(chain(amp, amp)).metadata == {"input_level_dbu": 12, "output_level_dbu": 4}
    # something in between (here a gain, folded into an IR without metadata): no level
    assert to_sequential(chain(gain(3.0), amp, cab)).metadata == {"output_level_dbu": -3.5}
    assert to_sequential(chain(amp, cab, gain(-1.0))).metadata == {"input_level_dbu": 12}
    assert "metadata" not in to_sequential(chain(gain(3.0), amp, gain(1.0))).document
    # an exact identity in between changes nothing
    assert to_sequential(chain(gain(0.0), amp)).metadata == {"input_level_dbu": 12, "output_level_dbu": 4}


def test_graph_metadata_is_kept_as_it_is() -> None:
    amp = namgraph.load(amp_doc(name="amp", input_level_dbu=12))
    g = chain(amp, amp)
    g.metadata = {"name": "two amps", "loudness": -7.0}
    assert to_sequential(g).metadata == {"name": "two amps", "loudness": -7.0}
    single = chain(amp)
    single.metadata = {"name": "rig"}
    assert to_model(single).metadata == {"name": "rig"}
    assert to_model(chain(amp)).metadata == {"name": "amp", "input_level_dbu": 12}


def test_wrapper_rate_of_a_python_graph_is_its_models_rate() -> None:
    unknown = namgraph.load(taps_doc([0.5, 0.5], sample_rate=None))
    assert "sample_rate" not in to_sequential(chain(unknown, gain(1.0), unknown)).document
    fast = namgraph.load(taps_doc([0.5, 0.5], sample_rate=96000))
    assert to_sequential(chain(unknown, fast)).document["sample_rate"] == 96000


def test_to_model_refuses_a_chain_of_several_models() -> None:
    amp, cab = namgraph.load(amp_doc(name="amp")), namgraph.load(CAB)
    g = chain(amp, gain(2.0), cab)
    with pytest.raises(NotRaisableError, match="chain of 2 models") as err:
        to_model(g)
    assert set(err.value.nodes) == {"wavenet", "gain", "linear"}  # chain() names nodes by architecture
    s = simplest(g)
    assert isinstance(s, Model) and s.name == "Sequential"
    assert isinstance(simplest(chain(gain(2.0), cab)), Model) and simplest(chain(gain(2.0), cab)).name == "Linear"
    unraisable = parallel(amp, amp)
    assert simplest(unraisable) is unraisable


def test_models_without_a_document_cannot_be_written() -> None:
    loaded = namgraph.load(CAB)
    bare = Model(loaded.architecture, loaded.params, document={}, sample_rate=48000.0)
    g = chain(namgraph.load(amp_doc()), bare)
    with pytest.raises(NotRaisableError, match="built in memory") as err:
        to_sequential(g)
    assert err.value.nodes == ("linear",)
