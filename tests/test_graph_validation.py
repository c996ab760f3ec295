"""Every graph validation error: its type, the nodes it names, and a message that says what to do."""

from __future__ import annotations

import pickle

import pytest

from graph_parts import linear, lstm, random_taps
from namgraph.errors import (
    CalibrationError,
    ChannelMismatchError,
    CycleError,
    DuplicateNodeError,
    FanInError,
    GraphChannelError,
    GraphError,
    GraphSampleRateError,
    NamGraphError,
    NodeConfigError,
    OptionError,
    SampleRateMismatchError,
    UnknownNodeKindError,
    UnreachableNodeError,
)
from namgraph.graph import Graph, chain, parallel

CAB = linear(random_taps(4, 0), name="cab")
STEREO = linear(random_taps(4, 1), channels=2, name="stereo_cab")


def base(*nodes: tuple) -> Graph:
    """A graph with ``in`` (mono) and ``out`` plus the given ``(id, kind, settings)`` nodes."""
    g = Graph()
    g.add("in", "input")
    g.add("out", "output")
    for node_id, kind, settings in nodes:
        g.add(node_id, kind, **settings)
    return g


def test_all_graph_errors_are_namgraph_errors() -> None:
    for cls in (CycleError, DuplicateNodeError, FanInError, GraphChannelError, GraphSampleRateError, NodeConfigError,
                UnknownNodeKindError, UnreachableNodeError, CalibrationError):
        assert issubclass(cls, GraphError) and issubclass(cls, NamGraphError)
    assert issubclass(GraphChannelError, ChannelMismatchError)
    assert issubclass(GraphSampleRateError, SampleRateMismatchError)


def test_errors_pickle_with_their_nodes() -> None:
    err = GraphChannelError("edge a -> b", nodes=("a", "b"))
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is GraphChannelError and back.nodes == ("a", "b") and str(back) == "edge a -> b"


# ----------------------------------------------------------------------------- nodes


def test_duplicate_id() -> None:
    g = base(("amp", "model", {"model": CAB}))
    with pytest.raises(DuplicateNodeError, match="'amp' is already used") as info:
        g.add("amp", "gain", db=1.0)
    assert info.value.nodes == ("amp",)


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNodeKindError, match=r"node 'verb' has unknown kind 'reverb'; known kinds: .*gain.*mix") as info:
        base().add("verb", "reverb")
    assert info.value.nodes == ("verb",)


@pytest.mark.parametrize(
    ("kind", "settings", "pattern"),
    [
        ("gain", {"db": "loud"}, r"gain node 'n': db: .*number"),
        ("gain", {"db": float("nan")}, r"gain node 'n': db"),
        ("gain", {"level": 3}, r"gain node 'n': level: Extra inputs .* \(settings of a gain node: db\)"),
        ("mix", {"amount": 1.5}, r"mix node 'n': amount: .*less than or equal to 1"),
        ("mix", {"law": "log"}, r"mix node 'n': law: .*'linear' or 'equal_power'"),
        ("delay", {"samples": -1}, r"delay node 'n': samples: .*greater than or equal to 0"),
        ("delay", {"samples": 2.5}, r"delay node 'n': samples"),
        ("delay", {}, r"delay node 'n': samples: Field required"),
        ("weighted_sum", {"weights": []}, r"weighted_sum node 'n': weights"),
        ("input", {"channels": 0}, r"input node 'n': channels"),
        ("polarity", {"invert": "yes"}, r"polarity node 'n': invert"),
    ],
)
def test_bad_settings(kind: str, settings: dict, pattern: str) -> None:
    with pytest.raises(NodeConfigError, match=pattern) as info:
        base().add("n", kind, **settings)
    assert info.value.nodes == ("n",)


def test_model_node_needs_a_model_and_others_refuse_one() -> None:
    with pytest.raises(GraphError, match="model node 'amp' needs model="):
        base().add("amp", "model")
    with pytest.raises(GraphError, match="gain node 'g' does not take a model"):
        base().add("g", "gain", model=CAB)
    with pytest.raises(GraphError, match="loaded Model or a .nam path"):
        base().add("amp", "model", model=42)


# ----------------------------------------------------------------------------- edges and fan-in


def test_connect_unknown_node() -> None:
    with pytest.raises(GraphError, match="no node 'amp' in the graph") as info:
        base().connect("in", "amp")
    assert info.value.nodes == ("amp",)


@pytest.mark.parametrize("kind", ["model", "gain"])
def test_fan_in_needs_an_aggregator(kind: str) -> None:
    settings = {"model": CAB} if kind == "model" else {}
    g = base(("a", "gain", {}), ("b", "gain", {}), ("x", kind, settings))
    g.connect("in", "a")
    g.connect("in", "b")
    g.connect("a", "x")
    with pytest.raises(FanInError, match=r"add an aggregator \(mean, mix, sum, weighted_sum\)") as info:
        g.connect("b", "x")
    assert set(info.value.nodes) == {"x", "a", "b"}
    assert f"{kind} node 'x' takes 1 input(s) but is fed by 'a', 'b'" in str(info.value)


def test_fan_in_is_also_checked_when_validating() -> None:
    # A graph edited through networkx directly (as a file reader might build it).
    g = base(("a", "gain", {}), ("x", "gain", {}))
    g.connect("in", "a", "x", "out")
    g._g.add_edge("in", "x", port=1, channel=None, channels=None)
    with pytest.raises(FanInError, match="add an aggregator"):
        g.validate()


def test_mix_ports_are_explicit() -> None:
    g = base(("m", "mix", {}))
    with pytest.raises(FanInError, match="must say which input it is: port='dry' or port='wet'"):
        g.connect("in", "m")
    with pytest.raises(FanInError, match=r"has ports \['dry', 'wet'\], not 'left'"):
        g.connect("in", "m", port="left")
    g.connect("in", "m", port="dry")
    with pytest.raises(FanInError, match="port 0 of node 'm' is already fed by 'in'"):
        g.connect("in", "m", port="dry")


def test_mix_needs_both_inputs() -> None:
    g = base(("m", "mix", {}))
    g.connect("in", "m", port="dry")
    g.connect("m", "out")
    with pytest.raises(FanInError, match=r"mix node 'm' needs 'dry' and 'wet' input\(s\) but has 1 \(from 'in'\)"):
        g.validate()


def test_ports_must_be_contiguous() -> None:
    g = base(("s", "sum", {}))
    g.connect("in", "s", port=1)
    g.connect("s", "out")
    with pytest.raises(FanInError, match=r"node 's''s input ports are \[1\]"):
        g.validate()


def test_inputs_take_no_edges_and_outputs_feed_nothing() -> None:
    g = base(("g", "gain", {}))
    with pytest.raises(FanInError, match="input node 'in' takes no input"):
        g.connect("g", "in")
    g.connect("in", "out")
    g._g.add_edge("out", "g", port=0, channel=None, channels=None)
    g._g.add_edge("g", "out", port=1, channel=None, channels=None)
    with pytest.raises((FanInError, CycleError)):
        g.validate()


def test_output_feeding_a_node() -> None:
    g = base(("g", "gain", {}), ("o2", "output", {}))
    g.connect("in", "out")
    g.connect("out", "g", "o2")
    with pytest.raises(FanInError, match="output node 'out' feeds 'g'; an output ends the graph"):
        g.validate()


def test_weighted_sum_needs_one_weight_per_edge() -> None:
    g = base(("w", "weighted_sum", {"weights": [1.0, 2.0, 3.0]}))
    g.connect("in", "w")
    g.connect("in", "w")
    g.connect("w", "out")
    with pytest.raises(FanInError, match=r"weighted_sum node 'w' has 3 weight\(s\) for 2 incoming edge\(s\)") as info:
        g.validate()
    assert info.value.nodes == ("w",)


def test_split_edges_name_a_channel_and_only_they_do() -> None:
    g = base(("s", "split", {}), ("g", "gain", {}))
    with pytest.raises(GraphError, match=r"an edge from split node 's' must name its channel"):
        g.connect("s", "g")
    with pytest.raises(GraphError, match=r"channel= is only for edges leaving a split node \('in' is a input node\)"):
        g.connect("in", "g", channel=0)


# ----------------------------------------------------------------------------- whole graph


def test_no_input_or_output() -> None:
    g = Graph()
    g.add("amp", "model", model=CAB)
    with pytest.raises(GraphError, match="no input and no output node"):
        g.validate()


def test_cycle_prints_the_path() -> None:
    g = base(("a", "gain", {}), ("b", "sum", {}), ("c", "gain", {}))
    g.connect("in", "b", "a", "c", "out")
    g.connect("c", "b")
    with pytest.raises(CycleError, match=r"cycle: (b -> a -> c -> b|a -> c -> b -> a|c -> b -> a -> c)") as info:
        g.validate()
    assert set(info.value.nodes) == {"a", "b", "c"}


def test_self_loop_is_a_cycle() -> None:
    g = base(("s", "sum", {}))
    g.connect("in", "s", "out")
    g.connect("s", "s")
    with pytest.raises(CycleError, match="s -> s"):
        g.validate()


def test_node_not_reachable_from_an_input() -> None:
    g = base(("m", "mean", {}), ("orphan", "polarity", {}), ("orphan2", "polarity", {}))
    g.connect("in", "m")
    g.connect("orphan2", "orphan", "m")
    g.connect("m", "out")
    with pytest.raises(UnreachableNodeError, match="not reachable from any input node: 'orphan', 'orphan2'") as info:
        g.validate()
    assert info.value.nodes == ("orphan", "orphan2")


def test_node_not_reaching_an_output() -> None:
    g = base(("dead", "gain", {}))
    g.connect("in", "out")
    g.connect("in", "dead")
    with pytest.raises(UnreachableNodeError, match=r"do\(es\) not reach any output node: 'dead'"):
        g.validate()


def test_channel_mismatch_into_a_model() -> None:
    g = base(("cab", "model", {"model": STEREO}))
    g.connect("in", "cab", "out")
    with pytest.raises(GraphChannelError, match=r"model node 'cab' takes 2 channel\(s\) but its input edge carries 1") as info:
        g.validate()
    assert info.value.nodes == ("cab",)


def test_aggregator_needs_equal_channel_counts() -> None:
    g = base(("cab", "model", {"model": STEREO}), ("merge", "merge", {}), ("sum", "sum", {}))
    g.connect("in", "merge")
    g.connect("in", "merge")
    g.connect("merge", "cab", "sum")
    g.connect("in", "sum")
    g.connect("sum", "out")
    with pytest.raises(GraphChannelError, match=r"sum node 'sum' blends edges of different channel counts \[2, 1\]"):
        g.validate()


def test_split_channel_out_of_range() -> None:
    g = base(("s", "split", {}))
    g.connect("in", "s")
    g.connect("s", "out", channel=1)
    with pytest.raises(GraphChannelError, match=r"takes channel 1 of split node 's', which has 1 channel\(s\) \(0..0\)"):
        g.validate()


def test_declared_edge_channels_are_checked() -> None:
    g = base(("cab", "model", {"model": CAB}))
    g.connect("in", "cab")
    g.connect("cab", "out", channels=2)
    with pytest.raises(GraphChannelError, match=r"edge cab -> out is declared with 2 channel\(s\) but carries 1") as info:
        g.validate()
    assert info.value.nodes == ("cab", "out")


def test_declared_output_channels_are_checked() -> None:
    g = Graph()
    g.add("in", "input")
    g.add("out", "output", channels=2)
    g.connect("in", "out")
    with pytest.raises(GraphChannelError, match=r"output node 'out' is declared with 2 channel\(s\) but its edge carries 1"):
        g.validate()


def test_sample_rate_mismatch_names_both_nodes_and_rates() -> None:
    g = base(("amp", "model", {"model": lstm(sample_rate=44100.0)}), ("cab", "model", {"model": CAB}))
    g.connect("in", "amp", "cab", "out")
    with pytest.raises(GraphSampleRateError, match=r"model node 'amp' is 44100 Hz but model node 'cab' is 48000 Hz") as info:
        g.validate()
    assert info.value.nodes == ("amp", "cab")


def test_unknown_rates_are_wildcards() -> None:
    g = base(("amp", "model", {"model": linear([1.0], sample_rate=None)}), ("cab", "model", {"model": CAB}))
    g.connect("in", "amp", "cab", "out")
    assert g.compile().sample_rate == 48000.0


# ----------------------------------------------------------------------------- builders


def test_parts_need_one_input_and_one_output() -> None:
    g = base(("in2", "input", {}))
    g.connect("in", "out")
    with pytest.raises(GraphError, match=r"exactly one input and one output node; this one has inputs \['in', 'in2'\]"):
        chain(g, CAB)


def test_parallel_mix_options() -> None:
    with pytest.raises(OptionError, match="'mean', 'sum' or a list of weights, not 'max'"):
        parallel(CAB, CAB, mix="max")
    with pytest.raises(OptionError, match=r"2 weight\(s\) for 3 branch\(es\)"):
        parallel(CAB, CAB, CAB, mix=[1.0, 2.0])
    with pytest.raises(TypeError, match="not int"):
        chain(CAB, 3)


def test_calibrate_between_nodes_without_levels() -> None:
    g = base(("amp", "model", {"model": CAB}), ("cab", "model", {"model": CAB}), ("g", "gain", {}))
    with pytest.raises(CalibrationError, match=r"cannot calibrate amp -> cab: 'amp' has no metadata.output_level_dbu; 'cab' has no metadata.input_level_dbu"):
        g.connect("amp", "cab", calibrate=True)
    with pytest.raises(CalibrationError, match="joins two model nodes; 'g' is a gain node"):
        g.connect("g", "cab", calibrate=True)


def test_fitted_values_are_validated_like_settings() -> None:
    g = chain(CAB)
    g.add("blend", "mix", amount=0.5)
    with pytest.raises(NodeConfigError, match=r"mix node 'blend': amount: .*less than or equal to 1"):
        g.with_params({"blend": {"amount": 1.2}})
    with pytest.raises(GraphError, match="params name node 'nope', which is not in the graph"):
        g.with_params({"nope": {}})
