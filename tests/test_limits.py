"""Resource limits (issue 8): each is refused early, with a LimitError that says where, the
value, the limit and how to raise it; each can be raised per call, in a scope, or on the
command line; files within the defaults (a 2^20-tap IR) still load."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import namgraph
from namgraph import limits
from namgraph.cli import cli
from namgraph.converters import wav_ir
from namgraph.converters.dag_format import document_to_graph
from namgraph.errors import LimitError, NamFileError, OptionError, WeightCountError
from namgraph.limits import Limits, override

import nam_docs

REPO = Path(__file__).resolve().parents[1]


def deep_list(depth: int) -> list:
    """``depth`` arrays nested inside each other (built without recursion)."""
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def nested_sequential(levels: int) -> dict[str, Any]:
    doc = nam_docs.linear()
    for _ in range(levels):
        doc = nam_docs.sequential(doc)
    return doc


def wavenet(dilation: int = 1, kernel_size: int = 2) -> dict[str, Any]:
    doc = nam_docs.tiny_wavenet()
    doc["config"]["layers"][0]["dilations"] = [dilation]
    doc["config"]["layers"][0]["kernel_size"] = kernel_size
    return doc


def lstm(sample_rate: float) -> dict[str, Any]:
    # hidden 1, 1 layer: W (4, 2) + b 4 + h0 1 + c0 1, head w 1 + b 1 (spec 5) = 16 values
    return {
        "version": "0.5.4",
        "architecture": "LSTM",
        "config": {"input_size": 1, "hidden_size": 1, "num_layers": 1},
        "weights": [0.1] * 16,
        "sample_rate": sample_rate,
    }


def dag(*middle: dict[str, Any]) -> dict[str, Any]:
    """A DAG file ``in -> middle... -> out`` (each of ``middle`` a node object)."""
    nodes = [{"id": "in", "kind": "input", "config": {"channels": 1}}, *middle, {"id": "out", "kind": "output", "config": {}}]
    ids = [n["id"] for n in nodes]
    return {
        "version": "0.7.0",
        "architecture": "DAG",
        "config": {
            "nodes": nodes,
            "edges": [{"from": a, "to": b} for a, b in zip(ids, ids[1:])],
            "inputs": ["in"],
            "outputs": ["out"],
            "align_latency": True,
        },
        "weights": [],
    }


def delay(node_id: str, samples: int) -> dict[str, Any]:
    return {"id": node_id, "kind": "delay", "config": {"samples": samples}}


def model_node(node_id: str, model: dict[str, Any]) -> dict[str, Any]:
    return {"id": node_id, "kind": "model", "config": {}, "model": model}


def assert_says_how(err: LimitError, name: str, value: int, limit: int) -> None:
    text = str(err)
    assert f"{value:,}" in text and f"{limit:,}" in text and f"({name})" in text
    assert f"Limits({name}=" in text and f"override({name}=" in text and f"--limit {name}=" in text


# ----------------------------------------------------------------------------- the Limits object


def test_defaults_and_the_shared_ir_constant() -> None:
    d = Limits()
    assert wav_ir.MAX_IR_SAMPLES is limits.MAX_IR_SAMPLES == 1 << 20
    assert d.receptive_field == 4 * limits.MAX_IR_SAMPLES  # the longest IR loads, and four of them in a rig
    assert (d.file_bytes, d.json_depth, d.container_depth, d.state, d.audio_channels, d.nodes, d.parameters, d.render_samples) == (
        256 << 20, 160, 32, 1 << 26, 64, 4096, 50_000_000, 1 << 27
    )
    assert limits.current() == d


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10", None])
def test_limits_are_positive_whole_numbers(bad: Any) -> None:
    with pytest.raises(OptionError, match="file_bytes must be a positive whole number"):
        Limits(file_bytes=bad)


def test_unknown_limit_name() -> None:
    with pytest.raises(OptionError, match="unknown limit 'dilation'; limits: file_bytes"):
        Limits().replace(dilation=3)
    with pytest.raises(OptionError):
        with override(dilation=3):
            pass


def test_override_is_scoped_nested_and_per_thread() -> None:
    seen: list[int] = []
    with override(nodes=10) as outer:
        assert outer.nodes == 10 and limits.current() is outer
        with override(parameters=5):
            assert (limits.current().nodes, limits.current().parameters) == (10, 5)
        assert limits.current() is outer
        thread = threading.Thread(target=lambda: seen.append(limits.current().nodes))
        thread.start()
        thread.join()
        with override(Limits(json_depth=7)):  # a whole Limits replaces, not merges
            assert limits.current() == Limits(json_depth=7)
    assert limits.current() == Limits()
    assert seen == [4096]  # a new thread starts from the defaults


def test_from_assignments() -> None:
    assert limits.from_assignments(["receptive_field=16_777_216", "nodes = 9"]) == Limits(receptive_field=1 << 24, nodes=9)
    for bad in ("nodes", "nodes=many", "nodes=1.5"):
        with pytest.raises(OptionError, match="NAME=VALUE"):
            limits.from_assignments([bad])
    with pytest.raises(OptionError, match="unknown limit 'node'"):
        limits.from_assignments(["node=3"])


# ----------------------------------------------------------------------------- file size and JSON depth


def test_file_size_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.nam"
    with open(path, "wb") as f:  # sparse: 1 byte past the default limit, no disk or memory used
        f.truncate(Limits().file_bytes + 1)

    def refuse(self: Path) -> bytes:
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(LimitError) as info:
        namgraph.load(path)
    assert info.value.file == str(path)
    assert_says_how(info.value, "file_bytes", Limits().file_bytes + 1, Limits().file_bytes)


def test_file_size_limit_can_be_raised_or_lowered(tmp_path: Path) -> None:
    path = nam_docs.write(tmp_path, nam_docs.linear())
    size = path.stat().st_size
    with pytest.raises(LimitError, match="file_bytes"):
        namgraph.load(path, limits=Limits(file_bytes=size - 1))
    assert namgraph.load(path, limits=Limits(file_bytes=size)).receptive_field == 3


def test_a_fifo_is_not_read_forever(tmp_path: Path) -> None:
    path = tmp_path / "pipe.nam"
    os.mkfifo(path)
    with pytest.raises(NamFileError, match="not a regular file"):
        namgraph.load(path)


def test_json_depth_of_any_mapping_given_to_load() -> None:
    """A read-only mapping (not a dict) is checked too, before the deep copy that would recurse."""
    from types import MappingProxyType

    doc = nam_docs.linear()
    doc["metadata"] = {"x": deep_list(5000)}
    with pytest.raises(LimitError, match="json_depth"):
        namgraph.load(MappingProxyType(doc))


@pytest.mark.parametrize("where", ["metadata", "config", "extra_key", "weights"])
def test_json_depth_anywhere_in_a_file(tmp_path: Path, where: str) -> None:
    doc = nam_docs.linear()
    deep = deep_list(Limits().json_depth)  # at the root's child: one level too deep
    if where == "config":
        doc["config"]["comment"] = deep
    elif where == "weights":
        doc["weights"] = deep
    else:
        doc[where] = {"x": deep} if where == "metadata" else deep
    path = tmp_path / "deep.nam"
    path.write_text(json.dumps(doc))
    with pytest.raises(LimitError) as info:
        namgraph.load(path)
    assert info.value.file == str(path)
    assert info.value.json_path.startswith(where)
    assert "more than 160 deep (json_depth)" in str(info.value)


def test_json_depth_of_ten_thousand_never_recurses(tmp_path: Path) -> None:
    doc = nam_docs.linear(metadata={"x": deep_list(10_000)})
    with pytest.raises(LimitError, match="json_depth"):  # a dict: checked before deepcopy
        namgraph.load(doc)
    with pytest.raises(LimitError, match="json_depth"):
        document_to_graph(dag() | {"metadata": {"x": deep_list(10_000)}})
    path = tmp_path / "deep.nam"
    path.write_text('{"metadata": ' + "[" * 10_000 + "]" * 10_000 + "}")
    with pytest.raises(NamFileError, match="nested too deeply to parse"):  # beyond the parser itself
        namgraph.load(path)


def test_json_depth_limit_can_be_raised() -> None:
    doc = nam_docs.linear(metadata={"x": deep_list(200)})
    with override(json_depth=300):
        model = namgraph.load(doc)
    assert model.metadata["x"] == deep_list(200)


# ----------------------------------------------------------------------------- container depth


def test_container_depth() -> None:
    assert namgraph.load(nested_sequential(32)).receptive_field == 3
    with pytest.raises(LimitError) as info:
        namgraph.load(nested_sequential(33))
    assert info.value.json_path == ".".join(["config.models[0]"] * 33)  # the object 33 levels in
    assert_says_how(info.value, "container_depth", 33, 32)
    with override(container_depth=40):
        namgraph.load(nested_sequential(40))


# ----------------------------------------------------------------------------- receptive field, start-up, weights


_BIG_REFUSALS = r"""
import resource, sys, tracemalloc
sys.path.insert(0, "tests")
import namgraph, test_limits as t
from namgraph.errors import LimitError
cases = {
    "wavenet dilation 10^9": t.wavenet(dilation=10**9),
    "wavenet kernel 10^9": t.wavenet(kernel_size=10**9),
    "linear 10^9 taps": t.nam_docs.linear() | {"config": {"receptive_field": 10**9, "bias": True}},
    "lstm start-up at 10^13 Hz": t.lstm(1e13),
    "sequential of 5 x 10^6-dilation wavenets": t.nam_docs.sequential(*[t.wavenet(dilation=10**6)] * 5),
}
for name, doc in cases.items():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        namgraph.load(doc)
        raise SystemExit(f"{name}: loaded")
    except LimitError as exc:
        message = str(exc)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(f"{name}|{peak}|{grown}|{message}")
"""


def test_huge_receptive_fields_are_refused_without_allocating() -> None:
    """In a fresh process, so the peak-RSS growth means something. A dilation of 10^9 would
    need gigabytes of state; the refusal allocates under 4 MB (Python's traced peak) and
    grows the process by under 16 MB. (How fast: ``benchmarks/bench_limits.py``.)"""
    out = subprocess.run([sys.executable, "-c", _BIG_REFUSALS], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [line.split("|", 3) for line in out.stdout.splitlines()]
    assert len(rows) == 5
    for name, peak, grown_kb, message in rows:
        assert int(peak) < 4 << 20 and int(grown_kb) * 1024 < 16 << 20, (name, peak, grown_kb)
        assert "(receptive_field)" in message, name
    messages = {name: message for name, *_, message in rows}
    assert "the receptive field (samples) is 1,000,000,001" in messages["wavenet dilation 10^9"]
    assert "start-up (prewarm) length (samples) is 5,000,000,000,000" in messages["lstm start-up at 10^13 Hz"]
    assert "config:" in messages["sequential of 5 x 10^6-dilation wavenets"]  # the Sequential's sum, not a member


def test_receptive_field_error_names_the_object_and_raising_it_loads() -> None:
    doc = nam_docs.sequential(nam_docs.linear(), nam_docs.container(nam_docs.linear(), wavenet(dilation=5000)))
    with pytest.raises(LimitError) as info:
        namgraph.load(doc, limits=Limits(receptive_field=4000))
    assert info.value.json_path == "config.models[1].config.submodels[1].model.config"
    assert_says_how(info.value, "receptive_field", 5001, 4000)
    assert namgraph.load(doc).receptive_field == 5003


def test_a_two_to_the_twenty_tap_ir_loads_with_the_defaults() -> None:
    taps = limits.MAX_IR_SAMPLES
    model = namgraph.load(nam_docs.linear(taps, bias=False))
    assert model.receptive_field == taps and model.num_weights == taps


def refused_with_peak(error: type[Exception], doc: dict[str, Any]) -> tuple[Any, int]:
    """``namgraph.load(doc)`` raising ``error``: the exception info and the peak of memory
    Python allocated on the way (tracemalloc), to show the refusal came before any big array."""
    tracemalloc.start()
    try:
        with pytest.raises(error) as info:
            namgraph.load(doc)
        return info, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_parameters_counted_from_the_config_before_any_array() -> None:
    doc = nam_docs.tiny_wavenet()
    doc["config"]["layers"][0]["channels"] = 10**6  # 3 x 10^12 weights implied; the file has 23
    info, peak = refused_with_peak(LimitError, doc)
    assert peak < 5e6
    assert info.value.json_path == "config"
    assert "the number of weights the config implies is 3,000,005,000,001" in str(info.value)


def wide_wavenet(channels: int, dilation: int) -> dict[str, Any]:
    """One layer of ``channels`` channels and one dilation, with every weight it needs."""
    doc = wavenet(dilation=dilation)
    doc["config"]["layers"][0]["channels"] = channels
    # rechannel c + conv 2c^2 + bias c + mixin c + 1x1 c^2 + bias c + head rechannel c + head scale 1
    doc["weights"] = [0.001] * (3 * channels * channels + 5 * channels + 1)
    return doc


def test_state_is_counted_from_shapes_before_anything_is_allocated() -> None:
    """A small file within every other limit that would keep 2 GiB of history."""
    doc = wide_wavenet(128, 4_000_000)
    assert len(json.dumps(doc)) < 400_000
    info, peak = refused_with_peak(LimitError, doc)
    assert peak < 4 << 20
    assert info.value.json_path == "config"
    assert_says_how(info.value, "state", 128 * 4_000_000, 1 << 26)  # each channel keeps one dilation of history
    assert "the streaming state (floats) the model keeps" in str(info.value)
    with override(state=128 * 4_000_000):
        assert namgraph.load(doc).receptive_field == 4_000_001


def test_state_limit_matches_what_a_stream_keeps() -> None:
    from namgraph.streaming import Stream

    doc = nam_docs.sequential(wide_wavenet(8, 300), nam_docs.linear(50))
    size = Stream(namgraph.load(doc), packed=True).init_state().size  # the packed state vector, allocated
    assert size == 8 * 300 + 49
    with pytest.raises(LimitError) as info:
        namgraph.load(doc, limits=Limits(state=size - 1))
    assert_says_how(info.value, "state", size, size - 1)


def test_dag_state_is_totalled_over_model_nodes() -> None:
    doc = dag(model_node("m1", nam_docs.linear(300)), delay("d", 5), model_node("m2", nam_docs.linear(300)))
    with override(state=500):
        with pytest.raises(LimitError) as info:
            document_to_graph(doc)
    assert info.value.json_path == "config.nodes[3]"
    assert_says_how(info.value, "state", 598, 500)


def test_a_huge_lstm_layer_count_is_refused_before_its_tensors_are_listed() -> None:
    """num_layers is one number; listing 10^9 layers' tensors to count them was a memory bomb
    (found by tests/fuzz/long_run.py). Every layer has weights, so the file's own count caps it."""
    doc = lstm(48000)
    doc["config"]["num_layers"] = 10**9
    info, peak = refused_with_peak(WeightCountError, doc)
    assert peak < 4 << 20
    assert info.value.json_path == "config.num_layers"
    assert "asks for 1,000,000,000 layers, but the file holds only 16 weights" in str(info.value)
    doc["config"]["num_layers"] = 16  # fillable in principle: the usual count check says what is missing
    with pytest.raises(WeightCountError, match="expected"):
        namgraph.load(doc)


def test_parameters_counted_from_the_weights_list_first() -> None:
    with pytest.raises(LimitError) as info:
        namgraph.load(nam_docs.linear(200), limits=Limits(parameters=100))
    assert info.value.json_path == "weights"
    assert_says_how(info.value, "parameters", 201, 100)


def test_parameters_are_totalled_over_nested_models() -> None:
    doc = nam_docs.sequential(nam_docs.linear(60), nam_docs.linear(60))  # 61 + 61 weights
    with pytest.raises(LimitError) as info:
        namgraph.load(doc, limits=Limits(parameters=100))
    assert info.value.json_path == "config"
    assert_says_how(info.value, "parameters", 122, 100)


# ----------------------------------------------------------------------------- DAG files


def test_dag_node_count_is_checked_before_the_graph_is_built() -> None:
    doc = dag(*[delay(f"d{i}", 1) for i in range(5)])
    assert len(document_to_graph(doc).nodes) == 7
    with override(nodes=6):
        with pytest.raises(LimitError) as info:
            document_to_graph(doc, file="rig.nam")
    assert (info.value.file, info.value.json_path) == ("rig.nam", "config.nodes")
    assert_says_how(info.value, "nodes", 7, 6)


def test_dag_edge_count() -> None:
    doc = dag(delay("d", 1))  # 3 nodes, 2 edges
    doc["config"]["edges"] *= 7  # 14 edges: refused before anything looks at them
    with override(nodes=3):
        with pytest.raises(LimitError, match=r"number of edges \(at most 4 per allowed node\) is 14, over the limit of 12"):
            document_to_graph(doc)


def test_dag_delay_length() -> None:
    doc = dag(delay("d", 10**12))
    with pytest.raises(LimitError) as info:
        document_to_graph(doc)
    assert info.value.json_path == "config.nodes[1].config.samples"
    assert "delay node 'd': the delay (samples) is 1,000,000,000,000" in str(info.value)
    assert_says_how(info.value, "receptive_field", 10**12, Limits().receptive_field)


def test_dag_history_and_weights_are_totalled_over_nodes() -> None:
    doc = dag(delay("a", 600), model_node("m", nam_docs.linear(300)), delay("b", 200))
    with override(receptive_field=1000):
        with pytest.raises(LimitError) as info:
            document_to_graph(doc)
    assert info.value.json_path == "config.nodes[3]"  # 600 + 299 + 200 passes 1000 at "b"
    assert_says_how(info.value, "receptive_field", 1099, 1000)
    with override(parameters=500):
        with pytest.raises(LimitError) as info:
            document_to_graph(dag(model_node("m1", nam_docs.linear(300)), model_node("m2", nam_docs.linear(300))))
    assert info.value.json_path == "config.nodes[2]"
    assert_says_how(info.value, "parameters", 602, 500)


@pytest.mark.parametrize("kind", ["input", "output"])
def test_dag_node_channels(kind: str) -> None:
    """Found by the long fuzz run: a rig whose input declared 2^31 channels loaded (a split
    used only two of them), and only the audio it asked for could not be made."""
    doc = dag(delay("d", 1))
    at = 0 if kind == "input" else 2
    doc["config"]["nodes"][at]["config"]["channels"] = 2**31
    with pytest.raises(LimitError) as info:
        document_to_graph(doc)
    assert info.value.json_path == f"config.nodes[{at}].config.channels"
    assert f"{kind} node '{doc['config']['nodes'][at]['id']}': the number of channels is 2,147,483,648" in str(info.value)
    assert_says_how(info.value, "audio_channels", 2**31, 64)
    doc["config"]["nodes"][at]["config"]["channels"] = 1
    assert len(document_to_graph(doc).nodes) == 3


def test_dag_model_nodes_count_as_a_container_level() -> None:
    doc = dag(model_node("m", nested_sequential(31)))
    document_to_graph(doc)
    with pytest.raises(LimitError, match="container_depth"):
        document_to_graph(dag(model_node("m", nested_sequential(32))))


# ----------------------------------------------------------------------------- the command line


def test_cli_limit_option(tmp_path: Path) -> None:
    path = nam_docs.write(tmp_path, nam_docs.linear(20))
    runner = CliRunner()
    refused = runner.invoke(cli, ["--limit", "receptive_field=10", "validate", str(path)])
    assert refused.exit_code == 1, refused.output
    assert "receptive field (samples) is 20, over the limit of 10" in refused.output
    assert limits.current() == Limits()  # nothing leaks out of the command
    assert runner.invoke(cli, ["--limit", "receptive_field=20", "--limit", "nodes=2", "validate", str(path)]).exit_code == 0
    for bad in ("receptive_field", "speed=3", "nodes=0"):
        result = runner.invoke(cli, ["--limit", bad, "validate", str(path)])
        assert result.exit_code == 1 and result.output.startswith("error: "), (bad, result.output)
    assert limits.current() == Limits()


def test_load_limits_keyword_does_not_leak() -> None:
    with pytest.raises(LimitError):
        namgraph.load(nam_docs.linear(), limits=Limits(receptive_field=2))
    assert limits.current() == Limits()
    doc = copy.deepcopy(nam_docs.linear())
    assert namgraph.load(doc).receptive_field == 3
