"""Properties of conversions and files, on random rigs and Sequentials: lowering and raising
are inverse, exact rewrites keep the audio, DAG files round-trip exactly, and every broken
graph or file is refused with a namgraph error (never another exception).

Tolerances (relative to the reference's peak, absolute below 1): 1e-6 between a Sequential
and its lowered graph (the same models' steps, chunked differently); 1e-5 for folded
regions, whose taps are convolved and rounded once to float32 (measured 3-4e-7, see
design/converters.md). File comparisons are exact (canonical text).
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import namgraph
from namgraph.converters import simplest, to_dag, to_sequential
from namgraph.converters.dag_format import document_to_graph, graph_to_document
from namgraph.errors import NamGraphError
from namgraph.format.jsonfile import dumps_canonical
from namgraph.graph import Graph, validation
from strategies import (
    RATE, audio, examples, fast_compiles, lti_parts, peak_error, pool_doc, pool_model, raisable_rigs, rigs, sequential_docs,
)

_fast = pytest.fixture(autouse=True, scope="module")(fast_compiles)

SAME_MODELS = 1e-6  # one model's step on another chunking
FOLDED = 1e-5  # taps convolved in float64, rounded once to float32


def canonical(model: namgraph.Model) -> str:
    return dumps_canonical(model.to_document())


# ----------------------------------------------------------------------------- lowering and raising


@examples(5)
@given(sequential_docs(), audio())
def test_lowering_then_raising_gives_the_same_file(case: tuple[dict, int], x: np.ndarray) -> None:
    """A Sequential lowered to a DAG and raised again is the same file (in memory and through
    ``save``/``load`` of a DAG file), and every lowered form renders as the file does."""
    seq = namgraph.load(case[0])
    dag = to_dag(seq)
    assert canonical(to_sequential(dag)) == canonical(seq)
    with tempfile.TemporaryDirectory() as tmp:
        namgraph.save(seq, Path(tmp) / "rig.nam", form="dag")
        namgraph.save(namgraph.load(Path(tmp) / "rig.nam"), Path(tmp) / "back.nam", form="sequential")
        namgraph.save(seq, Path(tmp) / "seq.nam")
        assert (Path(tmp) / "back.nam").read_bytes() == (Path(tmp) / "seq.nam").read_bytes()
    want = namgraph.render(seq, x)
    assert peak_error(namgraph.render(dag, x), want) <= SAME_MODELS
    assert peak_error(namgraph.render(to_dag(seq, flatten=True), x), want) <= SAME_MODELS


@examples(8)
@given(raisable_rigs())
def test_raising_then_lowering_then_raising_gives_the_same_file(rig: Graph) -> None:
    raised = to_sequential(rig)
    assert canonical(to_sequential(to_dag(raised))) == canonical(raised)


# ----------------------------------------------------------------------------- exact rewrites


@examples(8)
@given(raisable_rigs(), audio())
def test_raising_a_rig_keeps_its_audio(rig: Graph, x: np.ndarray) -> None:
    """Opaque models in series with LTI regions (gains, delays, polarity, Linears, every blend,
    declared latencies) raise to a Sequential whose render equals the rig's, start-up included."""
    assert peak_error(namgraph.render(to_sequential(rig), x), namgraph.render(rig, x)) <= FOLDED


@examples(8)
@given(lti_parts(2), audio())
def test_lti_parts_raise_to_linears(part: Graph, x: np.ndarray) -> None:
    """An LTI graph raises to one Linear (or, for a plain series of Linears, to those Linears
    in a Sequential), rendering as the graph does."""
    raised = simplest(part)
    assert isinstance(raised, namgraph.Model)
    leaves = raised.document["config"]["models"] if raised.name == "Sequential" else [raised.document]
    assert {leaf["architecture"] for leaf in leaves} == {"Linear"}
    assert peak_error(namgraph.render(raised, x), namgraph.render(part, x)) <= FOLDED


# ----------------------------------------------------------------------------- DAG files


@examples(25)
@given(rigs(), st.booleans(), st.none() | st.fixed_dictionaries({"name": st.text(max_size=8)}))
def test_dag_files_round_trip_exactly(rig: Graph, align: bool, metadata: dict | None) -> None:
    """save -> load gives an equal graph (ids, kinds, settings, every weight bit, edges) with
    the same metadata, and saving it again gives the same bytes."""
    rig.align_latency = align
    rig.metadata = metadata or {}
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "a.nam", Path(tmp) / "b.nam"
        namgraph.save(rig, first, form="dag")
        loaded = namgraph.load(first)
        namgraph.save(loaded, second, form="dag")
        assert loaded == rig and loaded.metadata == rig.metadata
        assert second.read_bytes() == first.read_bytes()


# ----------------------------------------------------------------------------- invalid graphs


def _channels(graph: Graph) -> dict[str, int]:
    return validation.check(graph).channels


def _pick(data: st.DataObject, items: list[str], label: str) -> str:
    return data.draw(st.sampled_from(sorted(items)), label=label)


def _inner(graph: Graph) -> list[str]:
    return [n.id for n in graph.nodes if n.kind not in ("input", "output")]


def _cycle(g: Graph, data: st.DataObject) -> None:
    """Feed a node from one of its own descendants (a blend when there is one, so that the
    edge itself is allowed and only the cycle is wrong)."""
    nxg = g.to_networkx()
    blends = [n.id for n in g.nodes if n.kind in ("sum", "mean", "weighted_sum", "merge")]
    node = _pick(data, blends or _inner(g), "node")
    later = [d for d in nx.descendants(nxg, node) if g.node(d).kind != "output"] or [node]
    g.connect(_pick(data, later, "from"), node)


def _dangling(g: Graph, data: st.DataObject) -> None:
    """A node that leads nowhere, or one that nothing feeds."""
    g.add("loose", "gain", db=1.0)
    if data.draw(st.booleans(), label="fed"):
        g.connect(_pick(data, _inner(g)[:-1] or [g.inputs[0]], "src"), "loose")


def _channel_mismatch(g: Graph, data: st.DataObject) -> None:
    """A stereo model fed by a mono node (its output to a second output node)."""
    mono = [n for n, c in _channels(g).items() if c == 1 and g.node(n).kind != "output"]
    g.add("wide", "model", model=pool_model("ir_stereo"))
    g.add("out_2", "output")
    g.connect(_pick(data, mono, "src"), "wide", "out_2")


def _fan_in(g: Graph, data: st.DataObject) -> None:
    """A second edge into a node that takes one input."""
    single = [n.id for n in g.nodes if n.kind in ("model", "gain", "delay", "polarity", "output", "split")]
    g.connect(_pick(data, [n.id for n in g.nodes if n.kind != "output"], "src"), _pick(data, single, "dst"))


def _bad_setting(g: Graph, data: st.DataObject) -> None:
    kind, settings = data.draw(st.sampled_from([
        ("gain", {"db": math.nan}), ("gain", {"db": "loud"}), ("delay", {"samples": -1}), ("delay", {"samples": 1.5}),
        ("mix", {"amount": 1.5}), ("mix", {"law": "cubic"}), ("polarity", {"invert": "yes"}), ("input", {"channels": 0}),
        ("weighted_sum", {"weights": []}), ("reverb", {}), ("gain", {"gain": 2.0}),
    ]), label="setting")
    g.add("bad", kind, **settings)


def _bad_id(g: Graph, data: st.DataObject) -> None:
    node = data.draw(st.sampled_from(["", "has space", ".dot", "-dash", "x" * 65, "a:b"]) | st.sampled_from(_inner(g) or ["in"]), label="id")
    g.add(node, "gain")


def _bad_model(g: Graph, data: st.DataObject) -> None:
    """A model node loaded from a file with a bad weight (NaN, a string, one too few) or another rate."""
    doc = pool_doc(data.draw(st.sampled_from(["ir3", "wavenet", "lstm"]), label="model"))
    how = data.draw(st.sampled_from(["nan", "string", "short", "rate"]), label="how")
    if how == "nan":
        doc["weights"][0] = math.nan
    elif how == "string":
        doc["weights"][0] = "0.5"
    elif how == "short":
        doc["weights"].pop()
    else:
        doc["sample_rate"] = 2 * RATE
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bad.nam"
        path.write_text(json.dumps(doc))
        g.add("bad", "model", model=path)
    g.add("ref", "model", model=pool_model("ir3"))  # a model at the rig's rate before it
    g.add("tail", "output")
    g.connect(_pick(data, _inner(g), "before"), "ref", "bad", "tail")


def _mix_port(g: Graph, data: st.DataObject) -> None:
    """A mix with only one of its two ports fed, or fed on an unknown port."""
    g.add("blend", "mix")
    src = _pick(data, [n.id for n in g.nodes if n.kind not in ("output", "mix")], "src")
    g.connect(src, "blend", port=data.draw(st.sampled_from(["dry", "wet", "side", 0, None]), label="port"))
    g.add("out_2", "output")
    g.connect("blend", "out_2")


def _split_channel(g: Graph, data: st.DataObject) -> None:
    """An edge from a split without a channel, or with one its input does not have."""
    g.add("splitter", "split")
    g.connect(_pick(data, [n.id for n in g.nodes if n.kind not in ("output", "split")], "src"), "splitter")
    g.add("out_2", "output")
    g.connect("splitter", "out_2", channel=data.draw(st.sampled_from([None, 2, 7, -1]), label="channel"))


def _weights_count(g: Graph, data: st.DataObject) -> None:
    """A weighted_sum with more weights than edges."""
    g.add("ws", "weighted_sum", weights=[1.0, 2.0, 3.0])
    g.connect(_pick(data, [n.id for n in g.nodes if n.kind != "output"], "src"), "ws")
    g.add("out_2", "output")
    g.connect("ws", "out_2")


GRAPH_BREAKS: list[Callable[[Graph, st.DataObject], None]] = [
    _cycle, _dangling, _channel_mismatch, _fan_in, _bad_setting, _bad_id, _bad_model, _mix_port, _split_channel, _weights_count,
]


def assert_refused(action: Callable[[], Any]) -> NamGraphError:
    """``action`` raises a NamGraphError (any other exception, or none, fails the test)."""
    try:
        action()
    except NamGraphError as exc:
        assert str(exc)
        event(type(exc).__name__)
        return exc
    raise AssertionError("no error was raised")


@examples(100)
@given(rigs(1), st.sampled_from(GRAPH_BREAKS), st.data())
def test_broken_graphs_raise_namgraph_errors(rig: Graph, brk: Callable, data: st.DataObject) -> None:
    """Cycles, dangling nodes, channel mismatches, fan-in without an aggregator, bad settings
    and ids, bad model files, unfed or unknown ports, bad split channels, weight counts:
    building, validating or compiling the graph raises a NamGraphError."""

    def build() -> None:
        g = rig.copy()
        brk(g, data)
        g.compile()

    assert_refused(build)


# ----------------------------------------------------------------------------- invalid DAG documents


def _nodes(doc: dict) -> list[dict]:
    return doc["config"]["nodes"]


def _edges(doc: dict) -> list[dict]:
    return doc["config"]["edges"]


def _model_nodes(doc: dict) -> list[dict]:
    return [n for n in _nodes(doc) if n["kind"] == "model"]


def _doc_cycle(doc: dict, data: st.DataObject) -> None:
    """An edge from a later node (file order is topological) back to an earlier one."""
    nodes = [n["id"] for n in _nodes(doc) if n["kind"] not in ("input", "output")]
    i = data.draw(st.integers(0, len(nodes) - 1), label="i")
    j = data.draw(st.integers(i, len(nodes) - 1), label="j")
    _edges(doc).append({"from": nodes[j], "to": nodes[i], "port": 5})


def _doc_unknown_node(doc: dict, data: st.DataObject) -> None:
    edge = data.draw(st.sampled_from(_edges(doc)), label="edge")
    edge[data.draw(st.sampled_from(["from", "to"]), label="end")] = "nowhere"


def _doc_drop_node(doc: dict, data: st.DataObject) -> None:
    nodes = _nodes(doc)
    nodes.pop(data.draw(st.integers(1, len(nodes) - 2), label="index"))


def _doc_drop_edge(doc: dict, data: st.DataObject) -> None:
    """The edge into an output node (dropping any edge is not always an error: a branch may
    still reach the output another way)."""
    outputs = set(doc["config"]["outputs"])
    _edges(doc).remove(data.draw(st.sampled_from([e for e in _edges(doc) if e["to"] in outputs]), label="edge"))


def _doc_bad_weights(doc: dict, data: st.DataObject) -> None:
    models = _model_nodes(doc)
    if not models:  # no model node in this rig: break it another way
        _doc_drop_edge(doc, data)
        return
    model = data.draw(st.sampled_from(models), label="node")["model"]
    while model["architecture"] in ("Sequential", "SlimmableContainer"):
        model = model["config"]["models"][0] if model["architecture"] == "Sequential" else model["config"]["submodels"][-1]["model"]
    weights = model["weights"]
    how = data.draw(st.sampled_from(["nan", "inf", "string", "short", "long", "null"]), label="how")
    if how in ("nan", "inf", "string", "null"):
        weights[data.draw(st.integers(0, len(weights) - 1), label="at")] = {"nan": math.nan, "inf": -math.inf, "string": "1", "null": None}[how]
    elif how == "short":
        weights.pop()
    else:
        weights.append(0.5)


def _doc_channels(doc: dict, data: st.DataObject, carried: dict[str, int]) -> None:
    """An edge declaring another channel count than it carries."""
    edge = data.draw(st.sampled_from(_edges(doc)), label="edge")
    edge["channels"] = (1 if "channel" in edge else carried[edge["from"]]) + data.draw(st.integers(1, 3), label="extra")


def _doc_duplicate(doc: dict, data: st.DataObject) -> None:
    nodes = _nodes(doc)
    nodes.insert(1, copy.deepcopy(data.draw(st.sampled_from(nodes[1:-1]), label="node")))


def _doc_kind(doc: dict, data: st.DataObject) -> None:
    node = data.draw(st.sampled_from(_nodes(doc)), label="node")
    node["kind"] = data.draw(st.sampled_from(["reverb", "Model", "", 3, None]), label="kind")


def _doc_setting(doc: dict, data: st.DataObject) -> None:
    node = data.draw(st.sampled_from(_nodes(doc)), label="node")
    key, value = data.draw(st.sampled_from([("db", "loud"), ("samples", -3), ("amount", 2.0), ("channels", 0), ("law", "x"), ("nope", 1)]), label="setting")
    node["config"][key] = value


def _doc_ports(doc: dict, data: st.DataObject) -> None:
    """Every edge into one blend on the same port, or an edge with an impossible port."""
    fed = [e["to"] for e in _edges(doc)]
    blends = sorted({n for n in fed if fed.count(n) > 1})
    if blends and data.draw(st.booleans(), label="same port"):
        node, port = data.draw(st.sampled_from(blends), label="node"), data.draw(st.integers(0, 1), label="port")
        for edge in _edges(doc):
            if edge["to"] == node:
                edge["port"] = port
    else:
        data.draw(st.sampled_from(_edges(doc)), label="edge")["port"] = data.draw(st.sampled_from([-1, "wet", 1.5, None]), label="port")


def _doc_rate(doc: dict, data: st.DataObject) -> None:
    """One model at another sample rate than the rest (or than the file's)."""
    models = _model_nodes(doc)
    if models:
        data.draw(st.sampled_from(models), label="node")["model"]["sample_rate"] = 2 * RATE
    else:
        doc["sample_rate"] = "fast"


def _doc_lists(doc: dict, data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(["inputs", "outputs", "nodes", "edges", "align_latency"]), label="key")
    doc["config"][key] = data.draw(st.sampled_from([["nowhere"], [], None, "in", 1]), label="value")


DOC_BREAKS: list[Callable[[dict, st.DataObject], None]] = [
    _doc_cycle, _doc_unknown_node, _doc_drop_node, _doc_drop_edge, _doc_bad_weights, _doc_channels, _doc_duplicate,
    _doc_kind, _doc_setting, _doc_ports, _doc_rate, _doc_lists,
]


@examples(100)
@given(rigs(1), st.sampled_from(DOC_BREAKS), st.booleans(), st.data())
def test_broken_dag_documents_raise_namgraph_errors(rig: Graph, brk: Callable, from_file: bool, data: st.DataObject) -> None:
    """A valid rig's DAG document with one graph-level defect (a cycle, an unknown or missing
    node or edge, bad weights in a node's model, a channel or rate mismatch, a duplicate id,
    an unknown kind or setting, bad ports, broken lists) is refused on reading, from a dict
    or from a file, with a NamGraphError. Byte-level defects are tests/test_fuzz_*'s job."""
    doc = graph_to_document(rig)
    if brk is _doc_channels:
        _doc_channels(doc, data, validation.check(rig).channels)
    else:
        brk(doc, data)

    def read() -> None:
        if from_file:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "rig.nam"
                path.write_text(json.dumps(doc))
                graph = namgraph.load(path)
        else:
            graph = document_to_graph(doc)
        graph.compile()

    err = assert_refused(read)
    if from_file:
        assert err.file and err.file.endswith("rig.nam")
