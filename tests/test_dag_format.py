"""The DAG file format (``converters/dag_format.py``, ``design/dag-format.md``).

Round trips of graphs using every node kind (equal graph, metadata, byte-identical re-save,
same audio), the canonical text (checked against hand-written documents and texts, and
across build orders), every reading error (class, file, JSON path, node ids), and the JSON
Schema (checked in == generated; every file written here validates against it).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

import namgraph
import nam_docs
from graph_parts import noise
from namgraph.converters.dag_format import (
    SCHEMA_PATH,
    document_to_graph,
    graph_to_document,
    json_schema,
    read_dag,
    schema_text,
    write_dag,
)
from namgraph.errors import (
    ConfigError,
    CycleError,
    DuplicateNodeError,
    FanInError,
    GraphChannelError,
    GraphError,
    GraphSampleRateError,
    LimitError,
    NamFormatError,
    NamGraphError,
    NodeConfigError,
    OutputError,
    UnknownArchitectureError,
    UnknownNodeKindError,
    UnreachableNodeError,
    UnsupportedVersionError,
    WeightCountError,
)
from namgraph.format.jsonfile import dumps_canonical
from namgraph.graph import Graph
from namgraph.model import Model

VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def stereo_linear() -> dict[str, Any]:
    doc = nam_docs.linear(taps=3, bias=False)
    doc["config"].update(in_channels=2, out_channels=2)
    return doc


def no_rate(doc: dict[str, Any]) -> dict[str, Any]:
    doc.pop("sample_rate")
    return doc


# Models loaded from hand-written documents (so each has the .nam object a file stores).
LIN = namgraph.load(nam_docs.linear())
LIN4 = namgraph.load(nam_docs.linear(taps=4, bias=False, metadata={"name": "cab four"}))
WN = namgraph.load(nam_docs.tiny_wavenet())
SEQ = namgraph.load(nam_docs.sequential(nam_docs.linear(), nam_docs.tiny_wavenet(), metadata={"name": "drive + amp"}))
SLIM = namgraph.load(nam_docs.container(nam_docs.linear(taps=2), nam_docs.linear(taps=5)))
WIDE = namgraph.load(stereo_linear())


def save(graph: Graph, path: Path) -> str:
    """Write ``graph`` and return the text; every file the tests write is checked against the schema."""
    write_dag(graph, path)
    text = path.read_text(encoding="utf-8")
    VALIDATOR.validate(json.loads(text))
    return text


# ----------------------------------------------------------------------------- graphs using every kind


def stereo_rig() -> Graph:
    """split/merge stereo: left = amp -> cab, right = a Sequential -> delay; then a stereo model."""
    g = Graph(metadata={"name": "stereo rig", "modeled_by": "tests"})
    g.add("in", "input", channels=2)
    g.add("split", "split")
    g.add("amp", model=WN)
    g.add("cab", model=LIN)
    g.add("seq", model=SEQ)
    g.add("late", "delay", samples=5)
    g.add("merge", "merge")
    g.add("wide", model=WIDE)
    g.add("out", "output", channels=2)
    g.connect("in", "split")
    g.connect("split", "amp", "cab", channel=0)
    g.connect("split", "seq", "late", channel=1)
    g.connect("cab", "merge", channels=1)
    g.connect("late", "merge")
    g.connect("merge", "wide", "out")
    return g


def blend_rig(*, reverse: bool = False) -> Graph:
    """Every aggregator: sum, weighted_sum (order matters), mix (named ports), mean of two edges from one node.

    ``reverse`` builds the same graph with nodes added and edges connected in another order.
    """
    nodes = [
        ("in", "input", {}),
        ("drive", "model", {"model": SLIM}),
        ("boost", "gain", {"db": -3.5}),
        ("flip", "polarity", {}),
        ("cab", "model", {"model": LIN4, "latency": 2}),
        ("sum", "sum", {}),
        ("ws", "weighted_sum", {"weights": (0.25, -1.5, 1 / 3)}),
        ("blend", "mix", {"amount": 0.3, "law": "equal_power"}),
        ("avg", "mean", {}),
        ("out", "output", {}),
    ]
    edges = [
        ("in", "drive", {}),
        ("drive", "boost", {}),
        ("drive", "flip", {}),
        ("drive", "cab", {}),
        ("boost", "sum", {"port": 0}),
        ("flip", "sum", {"port": 1}),
        ("sum", "ws", {"port": 0}),
        ("cab", "ws", {"port": 1}),
        ("drive", "ws", {"port": 2}),
        ("in", "blend", {"port": "dry"}),
        ("ws", "blend", {"port": "wet"}),
        ("blend", "avg", {"port": 0}),
        ("blend", "avg", {"port": 1}),
        ("avg", "out", {}),
    ]
    if reverse:
        nodes, edges = nodes[::-1], edges[::-1]
    g = Graph(metadata={"name": "blend"})
    for node_id, kind, settings in nodes:
        g.add(node_id, kind, **settings)
    for src, dst, options in edges:
        g.connect(src, dst, **options)
    return g


def multi_io_rig() -> Graph:
    """Two inputs, two outputs, no latency alignment, a declared model latency."""
    g = Graph(align_latency=False)
    g.add("in_a", "input")
    g.add("in_b", "input")
    g.add("amp", model=WN, latency=3)
    g.add("pass", "polarity", invert=False)
    g.add("mix", "mean")
    g.add("cab", model=LIN)
    g.add("out_l", "output")
    g.add("out_r", "output", channels=1)
    g.connect("in_a", "amp", "mix")
    g.connect("in_b", "pass", "mix")
    g.connect("mix", "out_l")
    g.connect("in_b", "cab", "out_r")
    return g


RIGS: dict[str, tuple[Callable[[], Graph], int]] = {"stereo": (stereo_rig, 2), "blend": (blend_rig, 1), "multi_io": (multi_io_rig, 2)}


def test_the_rigs_use_every_node_kind() -> None:
    kinds = {info.kind for make, _ in RIGS.values() for info in make().nodes}
    assert kinds == set(namgraph.graph.KINDS)


@pytest.mark.parametrize("name", sorted(RIGS))
def test_round_trip(name: str, tmp_path: Path) -> None:
    make, channels = RIGS[name]
    graph = make()
    text = save(graph, tmp_path / "rig.nam")
    loaded = namgraph.load(tmp_path / "rig.nam")
    assert isinstance(loaded, Graph)
    assert loaded == graph and loaded.metadata == graph.metadata
    assert save(loaded, tmp_path / "again.nam") == text
    x = noise(channels, 300, seed=3)
    assert np.array_equal(namgraph.render(loaded, x), namgraph.render(graph, x))


def test_nested_models_keep_their_own_envelopes(tmp_path: Path) -> None:
    """A model node's object is the model's own .nam object: version, rate and metadata included."""
    save(stereo_rig(), tmp_path / "rig.nam")
    nodes = {n["id"]: n for n in json.loads((tmp_path / "rig.nam").read_text())["config"]["nodes"]}
    seq = nodes["seq"]["model"]
    assert seq["architecture"] == "Sequential" and seq["metadata"] == {"name": "drive + amp"}
    assert [m["architecture"] for m in seq["config"]["models"]] == ["Linear", "WaveNet"]
    assert nodes["amp"]["model"]["version"] == "0.6.0" and nodes["cab"]["model"]["version"] == "0.5.4"
    assert dumps_canonical(nodes["seq"]["model"]) == dumps_canonical(SEQ.to_document())


def test_python_built_graph_writes_its_models_rate_and_the_default_version() -> None:
    doc = graph_to_document(multi_io_rig())
    assert doc["version"] == "0.7.0" and doc["sample_rate"] == 48000 and "metadata" not in doc
    g = namgraph.chain(namgraph.load(no_rate(nam_docs.linear())))
    assert "sample_rate" not in graph_to_document(g)


# ----------------------------------------------------------------------------- canonical text


def test_build_order_does_not_change_the_file() -> None:
    a, b = blend_rig(), blend_rig(reverse=True)
    assert a == b
    assert dumps_canonical(graph_to_document(a)) == dumps_canonical(graph_to_document(b))


def test_canonical_text_by_hand() -> None:
    """Node order (topological, ties by id, outputs last), edge order, ports only into multi-input
    kinds, channel on split edges, defaults omitted, floats exact, envelope key order."""
    g = Graph()
    g.add("out", "output")
    g.add("mix", "mix", amount=0.1 + 0.2)
    g.add("b", "gain", db=6)
    g.add("a", "polarity")
    g.add("split", "split")
    g.add("in", "input", channels=2)
    g.connect("in", "split")
    g.connect("split", "b", channel=0)
    g.connect("b", "mix", port="wet")
    g.connect("split", "a", channel=1)
    g.connect("a", "mix", port="dry")
    g.connect("mix", "out")
    expected = """{
  "version": "0.7.0",
  "architecture": "DAG",
  "config": {
    "nodes": [
      {
        "id": "in",
        "kind": "input",
        "config": {
          "channels": 2
        }
      },
      {
        "id": "split",
        "kind": "split",
        "config": {}
      },
      {
        "id": "a",
        "kind": "polarity",
        "config": {}
      },
      {
        "id": "b",
        "kind": "gain",
        "config": {
          "db": 6.0
        }
      },
      {
        "id": "mix",
        "kind": "mix",
        "config": {
          "amount": 0.30000000000000004
        }
      },
      {
        "id": "out",
        "kind": "output",
        "config": {}
      }
    ],
    "edges": [
      {
        "from": "in",
        "to": "split"
      },
      {
        "from": "split",
        "to": "a",
        "channel": 1
      },
      {
        "from": "split",
        "to": "b",
        "channel": 0
      },
      {
        "from": "a",
        "to": "mix",
        "port": 0
      },
      {
        "from": "b",
        "to": "mix",
        "port": 1
      },
      {
        "from": "mix",
        "to": "out"
      }
    ],
    "inputs": ["in"],
    "outputs": ["out"],
    "align_latency": true
  },
  "weights": []
}
"""
    assert dumps_canonical(graph_to_document(g)) == expected
    back = document_to_graph(json.loads(expected))
    assert back == g and back.node("mix").config.amount == 0.1 + 0.2


def base_doc() -> dict[str, Any]:
    """A valid DAG document written by hand in canonical form:
    in (2 ch) -> split; ch 0 -> amp -> sum port 0; ch 1 -> g -> sum port 1; sum -> out."""
    return {
        "version": "0.7.0",
        "architecture": "DAG",
        "config": {
            "nodes": [
                {"id": "in", "kind": "input", "config": {"channels": 2}},
                {"id": "split", "kind": "split", "config": {}},
                {"id": "amp", "kind": "model", "config": {}, "model": nam_docs.linear()},
                {"id": "g", "kind": "gain", "config": {"db": 1.5}},
                {"id": "sum", "kind": "sum", "config": {}},
                {"id": "out", "kind": "output", "config": {}},
            ],
            "edges": [
                {"from": "in", "to": "split"},
                {"from": "split", "to": "amp", "channel": 0},
                {"from": "split", "to": "g", "channel": 1},
                {"from": "amp", "to": "sum", "port": 0},
                {"from": "g", "to": "sum", "port": 1},
                {"from": "sum", "to": "out"},
            ],
            "inputs": ["in"],
            "outputs": ["out"],
            "align_latency": True,
        },
        "weights": [],
        "sample_rate": 48000.0,
        "metadata": {},
        "notes": ["kept", {"as": "is"}],
    }


def test_hand_written_canonical_document_reads_and_writes_back_unchanged(tmp_path: Path) -> None:
    """Envelope fields the graph does not hold come back: the rate's spelling, an empty
    metadata object, unknown keys; the nested model is unchanged."""
    path = tmp_path / "hand.nam"
    path.write_text(dumps_canonical(base_doc()), encoding="utf-8")
    graph = read_dag(path)
    assert graph.metadata == {} and graph.file_fields["notes"] == ["kept", {"as": "is"}]
    assert save(graph, tmp_path / "out.nam") == path.read_text(encoding="utf-8")
    x = noise(2, 64, seed=1)
    y = namgraph.render(graph, x)
    taps = np.array([1.0, 0.5, np.float32(1 / 3)])  # nam_docs.linear(): 1/(k+1), bias 0.125
    ref = np.convolve(x[0].astype(np.float64), taps)[:64] + 0.125 + 10 ** (1.5 / 20) * x[1]
    assert np.max(np.abs(y[0] - ref)) < 1e-5


def test_file_fields_after_reading() -> None:
    graph = document_to_graph(base_doc())
    assert graph.file_fields == {"version": "0.7.0", "sample_rate": 48000.0, "metadata": {}, "notes": ["kept", {"as": "is"}]}
    assert graph.align_latency is True and graph.sample_rate == 48000.0


def test_file_rate_is_kept_when_no_model_states_one() -> None:
    doc = base_doc()
    no_rate(nodes_(doc)[2]["model"])
    doc["sample_rate"] = 44100
    graph = document_to_graph(doc)
    assert graph.sample_rate is None and graph_to_document(graph)["sample_rate"] == 44100


def test_current_params_are_written() -> None:
    """A graph whose gains and weights were replaced (e.g. fitted) writes the new values."""
    graph = document_to_graph(base_doc())
    params = copy.deepcopy(graph.params)
    params["g"]["db"] = np.float32(-2.5)
    params["amp"]["ir"] = np.asarray([0.5, 0.25, 0.125], np.float32)
    doc = graph_to_document(graph.with_params(params))
    assert nodes_(doc)[3]["config"] == {"db": -2.5}
    assert nodes_(doc)[2]["model"]["weights"] == [0.5, 0.25, 0.125, 0.125]


def test_model_path_is_not_written(tmp_path: Path) -> None:
    cab = nam_docs.write(tmp_path, nam_docs.linear(), "cab.nam")
    g = namgraph.chain(cab)
    assert g.node("cab").config.path == str(cab)
    text = save(g, tmp_path / "rig.nam")
    assert '"path"' not in text and str(tmp_path) not in text
    back = namgraph.load(tmp_path / "rig.nam")
    assert back.node("cab").config.path is None
    assert back.node("cab").config == g.node("cab").config.model_copy(update={"path": None})


def test_load_dispatches_on_the_architecture(tmp_path: Path) -> None:
    assert isinstance(namgraph.load(base_doc()), Graph)
    assert isinstance(namgraph.load(nam_docs.linear()), Model)
    path = nam_docs.write(tmp_path, base_doc(), "rig.nam")
    assert isinstance(namgraph.load(path), Graph) and isinstance(namgraph.load(str(path)), Graph)


def test_design_page_example() -> None:
    """The example in design/dag-format.md reads, writes back unchanged and renders as the page says."""
    page = (Path(__file__).resolve().parents[1] / "design" / "dag-format.md").read_text(encoding="utf-8")
    block = page.split("## Example", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    VALIDATOR.validate(json.loads(block))
    graph = document_to_graph(json.loads(block))
    assert dumps_canonical(graph_to_document(graph)) == block
    x = noise(200, seed=5).astype(np.float64)
    f32 = lambda v: float(np.float32(v))  # noqa: E731 - weights as Core stores them
    amp = f32(0.8) * x + f32(0.1) * np.concatenate([[0.0], x[:-1]]) + f32(0.01)
    cab_a = np.convolve(amp, [0.5, 0.25, 0.125])[:200]
    cab_b = np.convolve(amp, [f32(0.6), f32(-0.2), f32(0.05)])[:200]
    expected = 10 ** (-6 / 20) * (0.7 * cab_a - 0.3 * cab_b)
    assert np.max(np.abs(namgraph.render(graph, x.astype(np.float32)) - expected)) < 1e-5


# ----------------------------------------------------------------------------- writing errors


def test_invalid_graph_is_not_written(tmp_path: Path) -> None:
    g = Graph()
    g.add("in", "input")
    g.add("a", "gain")
    g.add("b", "gain")
    g.add("out", "output")
    g.connect("in", "a", "b", "out")
    g.add("orphan", "gain")
    with pytest.raises(UnreachableNodeError) as info:
        write_dag(g, tmp_path / "bad.nam")
    assert info.value.nodes == ("orphan",) and info.value.file == str(tmp_path / "bad.nam")
    assert not (tmp_path / "bad.nam").exists()


def test_models_without_a_nam_object_are_refused(tmp_path: Path) -> None:
    from graph_parts import linear

    g = namgraph.chain(linear([1.0, 0.5]))
    with pytest.raises(OutputError, match="built in Python") as info:
        write_dag(g, tmp_path / "bad.nam")
    assert info.value.file == str(tmp_path / "bad.nam") and not (tmp_path / "bad.nam").exists()
    g = Graph()
    g.add("in", "input")
    g.add("inner", model=namgraph.chain(LIN).compile())
    g.add("out", "output")
    g.connect("in", "inner", "out")
    with pytest.raises(OutputError, match="inline"):
        graph_to_document(g)


# ----------------------------------------------------------------------------- reading errors


def nodes_(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["config"]["nodes"]


def edges_(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["config"]["edges"]


def _set(getter: Callable[[dict], Any], key: Any, value: Any) -> Callable[[dict], None]:
    return lambda d: getter(d).__setitem__(key, value)


def _del(getter: Callable[[dict], Any], key: Any) -> Callable[[dict], None]:
    return lambda d: getter(d).__delitem__(key)


ANY_EDGE = "config.edges[*]"

# (case id, mutation, error class, JSON path, node ids); ``ANY_EDGE`` = some edge's path.
READ_ERRORS: list[tuple[str, Callable[[dict], None], type[NamGraphError], str | None, tuple[str, ...] | None]] = [
    ("settings: unknown key", _set(lambda d: nodes_(d)[3]["config"], "dbx", 1.0), NodeConfigError, "config.nodes[3].config.dbx", ("g",)),
    ("settings: string for a number", _set(lambda d: nodes_(d)[3]["config"], "db", "6"), NodeConfigError, "config.nodes[3].config.db", ("g",)),
    ("settings: boolean for a number", _set(lambda d: nodes_(d)[3]["config"], "db", True), NodeConfigError, "config.nodes[3].config.db", ("g",)),
    ("settings: not an object", _set(lambda d: nodes_(d)[3], "config", []), NamFormatError, "config.nodes[3].config", None),
    ("settings: model path", _set(lambda d: nodes_(d)[2], "config", {"path": "/x/cab.nam"}), NodeConfigError, "config.nodes[2].config.path", ("amp",)),
    ("settings: bad value", _set(lambda d: nodes_(d)[0]["config"], "channels", 0), NodeConfigError, "config.nodes[0].config.channels", ("in",)),
    ("node: unknown key", _set(lambda d: nodes_(d)[3], "colour", "red"), NamFormatError, "config.nodes[3].colour", None),
    ("node: missing config", _del(lambda d: nodes_(d)[3], "config"), NamFormatError, "config.nodes[3].config", None),
    ("node: bad id", _set(lambda d: nodes_(d)[3], "id", "g g"), GraphError, "config.nodes[3].id", None),
    ("node: id not a string", _set(lambda d: nodes_(d)[3], "id", 7), NamFormatError, "config.nodes[3].id", None),
    ("node: duplicate id", _set(lambda d: nodes_(d)[3], "id", "amp"), DuplicateNodeError, "config.nodes[3].id", ("amp",)),
    ("node: unknown kind", _set(lambda d: nodes_(d)[3], "kind", "fuzz"), UnknownNodeKindError, "config.nodes[3].kind", ("g",)),
    ("node: a gain with a model", _set(lambda d: nodes_(d)[3], "model", nam_docs.linear()), NamFormatError, "config.nodes[3].model", None),
    ("node: a delay with a model", lambda d: nodes_(d)[3].update(kind="delay", config={"samples": 2}, model=nam_docs.linear()),
     NamFormatError, "config.nodes[3].model", None),
    ("node: model node without model", _del(lambda d: nodes_(d)[2], "model"), NamFormatError, "config.nodes[2]", None),
    ("node: null model", _set(lambda d: nodes_(d)[2], "model", None), NamFormatError, "config.nodes[2].model", None),
    ("node: gain with a model", _set(lambda d: nodes_(d)[3], "model", nam_docs.linear()), NamFormatError, "config.nodes[3].model", None),
    ("model: bad config", _set(lambda d: nodes_(d)[2]["model"]["config"], "receptive_field", "3"), ConfigError, "config.nodes[2].model.config.receptive_field", None),
    ("model: weight count", lambda d: nodes_(d)[2]["model"]["weights"].append(1.0), WeightCountError, "config.nodes[2].model.weights", None),
    ("model: a nested DAG", _set(lambda d: nodes_(d)[2], "model", base_doc()), NamFormatError, "config.nodes[2].model.architecture", None),
    ("model: DAG inside a Sequential", _set(lambda d: nodes_(d)[2], "model", nam_docs.sequential(base_doc())), UnknownArchitectureError,
     "config.nodes[2].model.config.models[0].architecture", None),
    ("edge: unknown key", _set(lambda d: edges_(d)[1], "gain", 1), NamFormatError, "config.edges[1].gain", None),
    ("edge: null port", _set(lambda d: edges_(d)[3], "port", None), NamFormatError, "config.edges[3].port", None),
    ("edge: negative port", _set(lambda d: edges_(d)[3], "port", -1), NamFormatError, "config.edges[3].port", None),
    ("edge: named port", _set(lambda d: edges_(d)[3], "port", "dry"), NamFormatError, "config.edges[3].port", None),
    ("edge: missing node", _set(lambda d: edges_(d)[5], "to", "outt"), GraphError, "config.edges[5].to", ("outt",)),
    ("edge: port missing into an aggregator", _del(lambda d: edges_(d)[3], "port"), FanInError, "config.edges[3]", ("amp", "sum")),
    ("edge: port used twice", _set(lambda d: edges_(d)[4], "port", 0), FanInError, "config.edges[4]", ("amp", "g", "sum")),
    ("edge: gap in ports", _set(lambda d: edges_(d)[4], "port", 2), FanInError, "config.nodes[4]", ("sum",)),
    ("edge: channel off a split", _set(lambda d: edges_(d)[3], "channel", 0), GraphError, "config.edges[3]", ("amp", "sum")),
    ("edge: split edge without channel", _del(lambda d: edges_(d)[1], "channel"), GraphError, "config.edges[1]", ("split", "amp")),
    ("edge: channel out of range", _set(lambda d: edges_(d)[2], "channel", 2), GraphChannelError, "config.edges[2]", ("split", "g")),
    ("edge: declared channels", _set(lambda d: edges_(d)[0], "channels", 1), GraphChannelError, "config.edges[0]", ("in", "split")),
    ("edge: fan-in at a model", lambda d: edges_(d).append({"from": "split", "to": "amp", "channel": 1}), FanInError, "config.edges[6]", None),
    ("graph: cycle", _set(edges_, 2, {"from": "sum", "to": "g"}), CycleError, ANY_EDGE, None),
    ("graph: unreachable node", lambda d: nodes_(d).insert(5, {"id": "lost", "kind": "gain", "config": {}}), UnreachableNodeError,
     "config.nodes[5]", ("lost",)),
    ("graph: output channels", _set(lambda d: nodes_(d)[5], "config", {"channels": 2}), GraphChannelError, "config.nodes[5]", ("out",)),
    ("graph: model node rates differ", lambda d: nodes_(d)[3].update(kind="model", config={}, model=nam_docs.linear(sample_rate=44100)),
     GraphSampleRateError, "config.nodes[2]", ("amp", "g")),
    ("graph: file rate differs", _set(lambda d: d, "sample_rate", 44100), GraphSampleRateError, "sample_rate", ("amp",)),
    ("config: unknown key", _set(lambda d: d["config"], "name", "x"), NamFormatError, "config.name", None),
    ("config: missing edges", _del(lambda d: d["config"], "edges"), NamFormatError, "config.edges", None),
    ("config: nodes not an array", _set(lambda d: d["config"], "nodes", {}), NamFormatError, "config.nodes", None),
    ("config: align_latency", _set(lambda d: d["config"], "align_latency", "yes"), NamFormatError, "config.align_latency", None),
    ("config: inputs mismatch", _set(lambda d: d["config"], "inputs", ["in", "x"]), GraphError, "config.inputs", ("x",)),
    ("config: outputs missing", _set(lambda d: d["config"], "outputs", []), GraphError, "config.outputs", ("out",)),
    ("envelope: weights", _set(lambda d: d, "weights", [0.0]), NamFormatError, "weights", None),
    ("envelope: version form", _set(lambda d: d, "version", "0.7"), UnsupportedVersionError, "version", None),
    ("envelope: version too new", _set(lambda d: d, "version", "0.8.0"), UnsupportedVersionError, "version", None),
    ("envelope: sample_rate type", _set(lambda d: d, "sample_rate", "48000"), NamFormatError, "sample_rate", None),
    ("envelope: metadata level", _set(lambda d: d, "metadata", {"loudness": "loud"}), NamFormatError, "metadata.loudness", None),
    ("envelope: infinite number", _set(lambda d: d, "notes", [float("inf")]), NamFormatError, "notes[0]", None),
    ("envelope: architecture", _set(lambda d: d, "architecture", "Dag"), UnknownArchitectureError, "architecture", None),
    ("envelope: missing config", _del(lambda d: d, "config"), NamFormatError, None, None),
]


@pytest.mark.parametrize("case", READ_ERRORS, ids=[c[0] for c in READ_ERRORS])
def test_read_errors(case: tuple) -> None:
    _, mutate, cls, json_path, nodes = case
    doc = base_doc()
    mutate(doc)
    with pytest.raises(NamGraphError) as info:
        document_to_graph(doc, file="rig.nam")
    err = info.value
    assert type(err) is cls, f"{type(err).__name__}: {err}"
    assert err.file == "rig.nam"
    if json_path == ANY_EDGE:
        assert err.json_path.startswith("config.edges[")
    else:
        assert err.json_path == json_path, str(err)
    if isinstance(err, GraphError):
        if nodes is not None:
            assert err.nodes == nodes, str(err)
        assert all(n in str(err) for n in err.nodes)
    assert str(err).startswith(f"rig.nam: {err.json_path}: " if err.json_path else "rig.nam: ")


def test_unknown_keys_are_named_with_the_allowed_ones() -> None:
    cases = [
        (_set(lambda d: nodes_(d)[3], "colour", "red"), "unknown key 'colour'; allowed: id, kind, config, model"),
        (_set(lambda d: edges_(d)[1], "gain", 1), "unknown key 'gain'; allowed: from, to, port, channel, channels"),
        (_set(lambda d: d["config"], "name", "x"), "unknown key 'name'; allowed: nodes, edges, inputs, outputs, align_latency"),
        (_set(lambda d: nodes_(d)[3]["config"], "dbx", 1.0), "gain node 'g': unknown key 'dbx' (gain node settings: db)"),
    ]
    for mutate, message in cases:
        doc = base_doc()
        mutate(doc)
        with pytest.raises(NamGraphError) as info:
            document_to_graph(doc)
        assert info.value.message == message


def test_hostile_nesting_is_a_limit_error() -> None:
    doc = base_doc()
    deep: list = []
    for _ in range(2000):
        deep = [deep]
    doc["metadata"] = {"deep": deep}
    with pytest.raises(LimitError, match="json_depth") as info:
        document_to_graph(doc, file="rig.nam")
    assert info.value.file == "rig.nam"


def test_cycle_names_its_nodes() -> None:
    doc = base_doc()
    edges_(doc)[2] = {"from": "sum", "to": "g"}
    with pytest.raises(CycleError) as info:
        document_to_graph(doc)
    assert set(info.value.nodes) == {"g", "sum"}


def test_errors_from_a_file_name_it(tmp_path: Path) -> None:
    doc = base_doc()
    nodes_(doc)[3]["config"]["db"] = "loud"
    path = nam_docs.write(tmp_path, doc, "rig.nam")
    for read in (read_dag, namgraph.load):
        with pytest.raises(NodeConfigError) as info:
            read(path)
        assert info.value.file == str(path) and info.value.json_path == "config.nodes[3].config.db"


def test_a_dict_is_not_modified_by_reading() -> None:
    doc = base_doc()
    before = copy.deepcopy(doc)
    graph = document_to_graph(doc)
    assert doc == before
    graph.file_fields["notes"][1]["as"] = "changed"
    assert doc == before


# ----------------------------------------------------------------------------- JSON Schema


def test_checked_in_schema_is_the_generated_one() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "regenerate with: .venv/bin/python -c 'from namgraph.converters.dag_format import write_schema; write_schema()'"
    )
    jsonschema.Draft202012Validator.check_schema(json_schema())


def test_schema_accepts_the_hand_written_document() -> None:
    VALIDATOR.validate(base_doc())


SCHEMA_REJECTS = [c for c in READ_ERRORS if c[0].split(":")[0] in ("node", "config", "envelope", "edge")
                  and c[0] not in ("node: duplicate id", "edge: missing node", "edge: port missing into an aggregator", "edge: port used twice",
                               "edge: gap in ports", "edge: channel off a split", "edge: split edge without channel",
                               "edge: channel out of range", "edge: declared channels", "edge: fan-in at a model",
                               "config: inputs mismatch", "config: outputs missing", "envelope: version too new",
                               "envelope: infinite number")]


@pytest.mark.parametrize("case", SCHEMA_REJECTS, ids=[c[0] for c in SCHEMA_REJECTS])
def test_schema_rejects_shape_errors(case: tuple) -> None:
    """Errors of shape (not of graph rules) are caught by the schema too."""
    doc = base_doc()
    case[1](doc)
    assert not VALIDATOR.is_valid(doc)
