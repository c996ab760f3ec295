"""``namgraph chain`` and ``namgraph convert`` through click's runner.

The chained file is checked against the brief's definition, computed independently: the
parts loaded one by one and run in series by their own steps from their initial states,
after the chain's prewarm of silence (``graph_parts.chain_reference``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

import graph_parts
import nam_docs
from cli_runner import assert_error, invoke
import namgraph
from namgraph.audio import write_wav

X = (0.3 * np.random.default_rng(5).standard_normal(400)).astype(np.float32)
CAB = np.array([[0.5, 0.3, -0.2, 0.1, 0.05]], np.float32)




def lstm_doc(sample_rate: float) -> dict[str, Any]:
    """A 1-layer LSTM, hidden 2. Weights (spec 5): W (4H, I+H) = 8x3 = 24, b 4H = 8, h0 2,
    c0 2, head 2 + bias 1 -> 39. Forget-gate biases high and a large c0: the state is far
    from settled after the prewarm, so the exact prewarm count shows in the output."""
    w = (0.5 * np.random.default_rng(1).standard_normal(39)).astype(np.float32).astype(float).tolist()
    w[26:28] = [5.0, 5.0]  # b rows H..2H-1: the forget gate
    w[34:36] = [1.5, 1.5]  # c0
    return {"version": "0.5.4", "architecture": "LSTM", "config": {"input_size": 1, "hidden_size": 2, "num_layers": 1}, "weights": w, "sample_rate": sample_rate}


def amp_doc(**metadata: Any) -> dict[str, Any]:
    return nam_docs.tiny_wavenet(**({"metadata": metadata} if metadata else {}))


def amp2_doc(**metadata: Any) -> dict[str, Any]:
    doc = nam_docs.tiny_wavenet(weights=[0.03 * (i - 10) for i in range(22)] + [0.5])
    return doc | ({"metadata": metadata} if metadata else {})


def children(path: Path) -> list[str]:
    return [m["architecture"] for m in json.loads(path.read_text())["config"]["models"]]


# ----------------------------------------------------------------------------- chain


def test_chain_is_the_parts_in_series_start_up_included(tmp_path: Path) -> None:
    # At a made-up 200 Hz the LSTM prewarms 100 samples and the WaveNet 2: the file must
    # prewarm on ceil(102 / 64) * 64 = 128 zeros through the whole chain (Core's Sequential).
    lstm = nam_docs.write(tmp_path, lstm_doc(200), "pedal.nam")
    amp = nam_docs.write(tmp_path, nam_docs.tiny_wavenet(sample_rate=200), "amp.nam")
    cab = write_wav(tmp_path / "cab.wav", CAB, 200)
    out = tmp_path / "rig.nam"
    result = invoke("chain", lstm, amp, cab, "-o", out)
    assert result.exit_code == 0, result.output
    assert children(out) == ["LSTM", "WaveNet", "Linear"] and json.loads(out.read_text())["sample_rate"] == 200
    for fragment in (f"wrote {out}", "Sequential[LSTM -> WaveNet -> Linear]", "200 Hz", "receptive field"):
        assert fragment in result.stdout, (fragment, result.stdout)
    rig = namgraph.load(out)
    assert rig.architecture.name == "Sequential"
    parts = [namgraph.load(p) for p in (lstm, amp, cab)]
    got = namgraph.render(rig, X)
    np.testing.assert_allclose(got, graph_parts.chain_reference(parts, X, silence=128), atol=1e-5, rtol=0)
    assert graph_parts.max_err(got, graph_parts.chain_reference(parts, X, silence=64)) > 1e-4  # the count matters here


def test_chain_refuses_an_ir_at_another_rate_naming_both(tmp_path: Path) -> None:
    amp = nam_docs.write(tmp_path, amp_doc(), "amp.nam")
    cab = write_wav(tmp_path / "cab.wav", CAB, 44100)
    result = invoke("chain", amp, cab, "-o", tmp_path / "rig.nam")
    assert_error(result, "44100 Hz", "48000 Hz", "--resample", str(amp))
    assert not (tmp_path / "rig.nam").exists()


def test_chain_resamples_an_ir_when_asked(tmp_path: Path) -> None:
    amp = nam_docs.write(tmp_path, amp_doc(), "amp.nam")
    cab = write_wav(tmp_path / "cab.wav", np.tile(CAB, 20), 44100)  # 100 taps
    out = tmp_path / "rig.nam"
    result = invoke("chain", amp, cab, "-o", out, "--resample")
    assert result.exit_code == 0, result.output
    ir = json.loads(out.read_text())["config"]["models"][1]
    assert ir["sample_rate"] == 48000 and ir["config"]["receptive_field"] == round(100 * 48000 / 44100)


def test_chain_with_a_stereo_ir_needs_the_dag_form(tmp_path: Path) -> None:
    amp = nam_docs.write(tmp_path, amp_doc(), "amp.nam")
    cab = write_wav(tmp_path / "cab.wav", np.stack([CAB[0], -CAB[0]]), 48000)
    out = tmp_path / "rig.nam"
    assert_error(invoke("chain", amp, cab, "-o", out), "stereo IR", "--form dag")
    assert not out.exists()
    result = invoke("chain", amp, cab, "-o", out, "--form", "dag")
    assert result.exit_code == 0, result.output
    rig = namgraph.load(out)
    y = namgraph.render(rig, X)
    # The IRs' histories fill with the amp's response to the prewarm silence: run them on all of it.
    head = graph_parts.from_initial_state(namgraph.load(amp), np.concatenate([np.zeros(64, np.float32), X])[None])[0]
    expected = np.stack([graph_parts.fir(head, CAB[0]), graph_parts.fir(head, -CAB[0])])[:, 64:]
    np.testing.assert_allclose(y, expected, atol=1e-6, rtol=0)


def test_chain_auto_writes_the_simplest_form(tmp_path: Path) -> None:
    a = nam_docs.write_linear(tmp_path / "a.nam", [0.5, 0.25])
    b = nam_docs.write_linear(tmp_path / "b.nam", [1.0, -1.0])
    assert invoke("chain", a, "-o", tmp_path / "one.nam", "--form", "auto").exit_code == 0
    assert json.loads((tmp_path / "one.nam").read_text())["architecture"] == "Linear"  # one part: that model, no wrapper
    assert invoke("chain", a, b, "-o", tmp_path / "two.nam", "--form", "auto").exit_code == 0
    assert children(tmp_path / "two.nam") == ["Linear", "Linear"]  # a plain chain keeps its own models
    expected = graph_parts.fir(X, np.convolve([0.5, 0.25], [1.0, -1.0]))
    np.testing.assert_allclose(namgraph.render(namgraph.load(tmp_path / "two.nam"), X), expected, atol=1e-6, rtol=0)


def test_chain_calibrate_inserts_the_level_difference(tmp_path: Path) -> None:
    drive = nam_docs.write(tmp_path, amp_doc(output_level_dbu=12.0), "drive.nam")
    amp = nam_docs.write(tmp_path, amp2_doc(input_level_dbu=6.0), "amp.nam")
    out = tmp_path / "rig.nam"
    result = invoke("chain", drive, amp, "-o", out, "--calibrate")
    assert result.exit_code == 0, result.output
    models = json.loads(out.read_text())["config"]["models"]
    assert [m["architecture"] for m in models] == ["WaveNet", "Linear", "WaveNet"]
    np.testing.assert_allclose(models[1]["weights"], [10 ** ((12.0 - 6.0) / 20)], rtol=1e-6)  # +6 dB, computed in float32


def test_chain_calibrate_warns_where_levels_are_missing(tmp_path: Path) -> None:
    drive = nam_docs.write(tmp_path, amp_doc(), "drive.nam")
    amp = nam_docs.write(tmp_path, amp2_doc(), "amp.nam")
    result = invoke("chain", drive, amp, "-o", tmp_path / "rig.nam", "--calibrate")
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr and children(tmp_path / "rig.nam") == ["WaveNet", "WaveNet"]


def test_chain_of_a_sequential_and_a_model_nests_the_sequential(tmp_path: Path) -> None:
    seq = nam_docs.write(tmp_path, nam_docs.sequential(amp_doc(), nam_docs.linear(3)), "seq.nam")
    amp = nam_docs.write(tmp_path, amp2_doc(), "amp.nam")
    out = tmp_path / "rig.nam"
    assert invoke("chain", seq, amp, "-o", out).exit_code == 0
    assert children(out) == ["Sequential", "WaveNet"]
    parts = [namgraph.load(seq), namgraph.load(amp)]
    np.testing.assert_allclose(namgraph.render(namgraph.load(out), X), graph_parts.chain_reference(parts, X, 64), atol=1e-5, rtol=0)


def test_chain_with_a_parallel_rig_part_suggests_the_dag_form(tmp_path: Path) -> None:
    rig = namgraph.parallel(namgraph.load(amp_doc()), namgraph.load(amp2_doc()))
    namgraph.save(rig, tmp_path / "blend.nam", form="dag")
    cab = nam_docs.write_linear(tmp_path / "cab.nam", [0.5, 0.25])
    amps = [n.id for n in rig.nodes if n.kind == "model"]
    assert_error(invoke("chain", tmp_path / "blend.nam", cab, "-o", tmp_path / "rig.nam"), *amps, "--form dag")
    assert not (tmp_path / "rig.nam").exists()
    assert invoke("chain", tmp_path / "blend.nam", cab, "-o", tmp_path / "rig.nam", "--form", "dag").exit_code == 0
    assert json.loads((tmp_path / "rig.nam").read_text())["architecture"] == "DAG"


def test_chain_error_exits(tmp_path: Path) -> None:
    amp = nam_docs.write(tmp_path, amp_doc(), "amp.nam")
    out = tmp_path / "rig.nam"
    assert_error(invoke("chain", amp, tmp_path / "missing.nam", "-o", out), "missing.nam", "does not exist")
    out.write_text("keep")
    assert_error(invoke("chain", amp, amp, "-o", out), "already exists", "--force")
    assert_error(invoke("chain", amp, amp, "-o", amp, "--force"), "overwrite", str(amp))
    assert out.read_text() == "keep"
    assert invoke("chain", amp, amp, "-o", out, "--force").exit_code == 0
    assert children(out) == ["WaveNet", "WaveNet"]
    assert invoke("chain", "-o", out).exit_code == 2  # no parts: click's usage error


# ----------------------------------------------------------------------------- convert


def test_sequential_to_dag_and_back_is_the_same_file(tmp_path: Path) -> None:
    seq = tmp_path / "seq.nam"
    namgraph.save(namgraph.load(nam_docs.sequential(amp_doc(name="drive"), nam_docs.linear(3), amp2_doc(), metadata={"name": "rig"})), seq)
    result = invoke("convert", seq, tmp_path / "dag.nam", "--to", "dag")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "dag.nam").read_text())["architecture"] == "DAG"
    assert "DAG rig of 5 nodes (3 models)" in result.stdout
    assert invoke("convert", tmp_path / "dag.nam", tmp_path / "back.nam", "--to", "sequential").exit_code == 0
    assert (tmp_path / "back.nam").read_bytes() == seq.read_bytes()
    assert invoke("convert", tmp_path / "dag.nam", tmp_path / "auto.nam").exit_code == 0  # auto: the simplest form, here the Sequential
    assert (tmp_path / "auto.nam").read_bytes() == seq.read_bytes()


def test_convert_refuses_parallel_amps_to_sequential_naming_them(tmp_path: Path) -> None:
    rig = namgraph.parallel(namgraph.load(amp_doc()), namgraph.load(amp2_doc()))
    namgraph.save(rig, tmp_path / "rig.nam", form="dag")
    amps = [n.id for n in rig.nodes if n.kind == "model"]
    result = invoke("convert", tmp_path / "rig.nam", tmp_path / "seq.nam", "--to", "sequential")
    assert_error(result, *amps)
    assert not (tmp_path / "seq.nam").exists()


def test_convert_a_one_model_dag_to_the_model(tmp_path: Path) -> None:
    amp = namgraph.load(amp_doc(name="amp"))
    namgraph.save(amp, tmp_path / "dag.nam", form="dag")
    result = invoke("convert", tmp_path / "dag.nam", tmp_path / "amp.nam", "--to", "model")
    assert result.exit_code == 0, result.output
    assert namgraph.load(tmp_path / "amp.nam") == amp
    assert json.loads((tmp_path / "amp.nam").read_text())["architecture"] == "WaveNet"


def test_convert_flatten_inlines_nested_sequentials(tmp_path: Path) -> None:
    nested = nam_docs.write(tmp_path, nam_docs.sequential(amp_doc(), nam_docs.sequential(nam_docs.linear(3), amp2_doc())), "nested.nam")
    out = tmp_path / "flat.nam"
    result = invoke("convert", nested, out, "--flatten", "--to", "sequential")
    assert result.exit_code == 0, result.output
    assert children(out) == ["WaveNet", "Linear", "WaveNet"]
    np.testing.assert_allclose(namgraph.render(namgraph.load(out), X), namgraph.render(namgraph.load(nested), X), atol=1e-6, rtol=0)
    plain = nam_docs.write(tmp_path, amp_doc(), "amp.nam")
    assert_error(invoke("convert", plain, tmp_path / "x.nam", "--flatten"), "--flatten", "Sequential")


def test_convert_migrates_a_legacy_sequential_only_when_asked(tmp_path: Path) -> None:
    legacy = {
        "version": "0.7.0", "architecture": "Sequential", "sample_rate": 48000,
        "config": {"models": [{"receptive_field": 2, "bias": False}, {"receptive_field": 1, "bias": False}]},
        "weights": [0.25, 1.0, 2.0],
    }
    path = nam_docs.write(tmp_path, legacy, "legacy.nam")
    assert_error(invoke("convert", path, tmp_path / "new.nam"), "legacy", "--migrate-legacy")
    result = invoke("convert", path, tmp_path / "new.nam", "--migrate-legacy")
    assert result.exit_code == 0, result.output
    models = json.loads((tmp_path / "new.nam").read_text())["config"]["models"]
    assert [m["weights"] for m in models] == [[1.0, 0.25], [2.0]]  # legacy Linear taps were stored reversed (spec 8.2)


def test_convert_error_exits(tmp_path: Path) -> None:
    amp = nam_docs.write(tmp_path, amp_doc(), "amp.nam")
    assert_error(invoke("convert", amp, amp, "--force"), "overwrite the input", "choose another output")
    (tmp_path / "out.nam").write_text("keep")
    assert_error(invoke("convert", amp, tmp_path / "out.nam"), "already exists")
    assert (tmp_path / "out.nam").read_text() == "keep"
    assert_error(invoke("convert", tmp_path / "missing.nam", tmp_path / "x.nam"), "does not exist")
    assert invoke("convert", amp, tmp_path / "x.nam", "--to", "wav").exit_code == 2
