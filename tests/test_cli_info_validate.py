"""``namgraph info`` and ``namgraph validate``: click's runner, and once the installed script.

The numbers ``info`` reports are checked against values worked out by hand from the format
spec (receptive fields section 6.11 / 8, prewarm counts section 1.3, weight counts from
``nam_docs``), not against namgraph's own properties.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

import nam_docs
from cli_runner import invoke
import namgraph
from namgraph.audio import write_wav
from namgraph.graph import gain

SCRIPT = Path(sys.executable).with_name("namgraph")
TINY = nam_docs.TINY_WAVENET_WEIGHTS  # 23; receptive field 1 + 1*(2-1) = 2, prewarm the same



def info_json(path: Path) -> dict[str, Any]:
    result = invoke("info", path, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def taps_doc(taps: list[float], **extra: Any) -> dict[str, Any]:
    return {"version": "0.5.4", "architecture": "Linear", "config": {"receptive_field": len(taps), "bias": False}, "weights": taps, "sample_rate": 48000} | extra


# ----------------------------------------------------------------------------- info


def test_info_of_a_wavenet(tmp_path: Path) -> None:
    path = nam_docs.write(tmp_path, nam_docs.tiny_wavenet(metadata={"name": "Plexi", "modeled_by": "me", "loudness": -18.5}), "amp.nam")
    data = info_json(path)
    assert data["form"] == "model" and data["version"] == "0.6.0" and data["file_size"] == path.stat().st_size
    assert data["model"]["architecture"] == "WaveNet" and data["model"]["name"] == "Plexi"
    assert "dilations [1]" in data["model"]["details"] and "kernel 2" in data["model"]["details"]
    expected = {"sample_rate": 48000, "in_channels": 1, "out_channels": 1, "receptive_field": 2, "latency": 0, "prewarm_samples": 2, "parameters": TINY, "macs_per_sample": TINY}
    assert {k: data[k] for k in expected} == expected
    assert data["metadata"] == {"name": "Plexi", "modeled_by": "me", "loudness": -18.5}
    text = invoke("info", path).stdout
    for fragment in ("model file, version 0.6.0", 'WaveNet "Plexi"', "48000 Hz", "1 in -> 1 out", "receptive field: 2 samples", "prewarm:         2", f"parameters:      {TINY}", "modeled_by: me", "loudness:"):
        assert fragment in text, (fragment, text)


def test_info_of_a_sequential_lists_its_children(tmp_path: Path) -> None:
    path = nam_docs.write(tmp_path, nam_docs.sequential(nam_docs.tiny_wavenet(metadata={"name": "drive"}), nam_docs.linear(3)), "rig.nam")
    data = info_json(path)
    assert data["form"] == "sequential"
    tree = data["model"]
    assert [(c["role"], c["architecture"]) for c in tree["children"]] == [("model 0", "WaveNet"), ("model 1", "Linear")]
    assert tree["children"][0]["name"] == "drive" and tree["children"][1]["details"] == "3 taps + bias"
    # receptive field 1 + (2-1) + (3-1); prewarm 2 + 0 (Linear prewarms nothing); 23 + 3 taps + 1 bias weights.
    assert (data["receptive_field"], data["prewarm_samples"], data["parameters"], data["macs_per_sample"]) == (4, 2, TINY + 4, TINY + 4)
    text = invoke("info", path).stdout
    assert "Sequential file" in text and '[model 0] WaveNet "drive"' in text and "[model 1] Linear: 3 taps + bias" in text


def test_info_of_nested_models_shows_their_roles(tmp_path: Path) -> None:
    box = nam_docs.container(nam_docs.linear(2), nam_docs.with_condition_dsp(nam_docs.tiny_wavenet(), nam_docs.linear(2, bias=False)))
    data = info_json(nam_docs.write(tmp_path, box, "box.nam"))
    small, full = data["model"]["children"]
    assert small["role"] == "size <= 0.5" and full["role"] == "size <= 1 (active)"
    assert [(c["role"], c["architecture"]) for c in full["children"]] == [("condition_dsp", "Linear")]
    assert data["parameters"] == 3 + TINY + 2  # both sizes are in the file; the estimate of work counts the active one only
    assert data["macs_per_sample"] == TINY + 2


def test_info_of_a_dag_lists_nodes_settings_and_connections(tmp_path: Path) -> None:
    amp = namgraph.load(nam_docs.tiny_wavenet())
    cab_a, cab_b = namgraph.load(taps_doc([0.5, 0.25, 0.125])), namgraph.load(taps_doc([0.3, 0.2, 0.1, 0.05]))
    rig = namgraph.chain(amp, namgraph.parallel(cab_a, namgraph.chain(gain(-6.0), cab_b)))
    rig.metadata = {"name": "two cabs"}
    path = tmp_path / "rig.nam"
    namgraph.save(rig, path, form="dag")
    data = info_json(path)
    assert data["form"] == "dag" and data["metadata"] == {"name": "two cabs"}
    kinds = {n["id"]: (n["kind"], n["settings"]) for n in data["nodes"]}
    assert kinds["gain"] == ("gain", {"db": -6.0}) and kinds["in"][0] == "input" and data["nodes"][-1]["kind"] == "output"
    assert {n["id"]: n["model"]["architecture"] for n in data["nodes"] if "model" in n} == {"wavenet": "WaveNet", "linear": "Linear", "linear_2": "Linear"}
    assert {"from": "gain", "to": "linear_2"} in data["edges"] and len(data["edges"]) == 7
    # receptive field 1 + (2-1) + max(3-1, 4-1); prewarm: the WaveNet's 2 on every path.
    assert (data["receptive_field"], data["prewarm_samples"], data["latency"]) == (5, 2, 0)
    assert data["parameters"] == TINY + 3 + 4 + 1  # the gain's dB is a parameter too
    assert data["macs_per_sample"] >= TINY + 3 + 4
    text = invoke("info", path).stdout
    for fragment in ("DAG rig file", "nodes (in signal-flow order):", 'gain (db=-6.0)', "connections:", "gain -> linear_2", "-> mean (input 1)"):
        assert fragment in text, (fragment, text)


def test_info_of_a_wav_ir(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "cab.wav", np.array([[0.5, 0.25, -0.125, 0.0625, 0.01]], np.float32), 44100)
    data = info_json(path)
    assert data["form"] == "ir" and data["version"] is None
    assert data["model"]["architecture"] == "Linear" and data["model"]["details"] == "5 taps"
    assert (data["sample_rate"], data["receptive_field"], data["prewarm_samples"], data["parameters"]) == (44100, 5, 0, 5)
    assert "impulse response wav" in invoke("info", path).stdout


def test_info_of_a_missing_file_is_an_error(tmp_path: Path) -> None:
    result = invoke("info", tmp_path / "nope.nam")
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and "does not exist" in result.stderr


# ----------------------------------------------------------------------------- validate


def test_validate_valid_files(tmp_path: Path) -> None:
    a = nam_docs.write(tmp_path, nam_docs.tiny_wavenet(), "amp.nam")
    b = nam_docs.write(tmp_path, nam_docs.sequential(nam_docs.tiny_wavenet(), nam_docs.linear(3)), "rig.nam")
    c = write_wav(tmp_path / "cab.wav", np.array([[0.5, 0.25]], np.float32), 48000)
    result = invoke("validate", a, b, c)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:3]] == [["OK", str(a)], ["OK", str(b)], ["OK", str(c)]]
    assert "Sequential[WaveNet -> Linear]" in lines[1] and lines[-1] == "3 of 3 files valid"


def test_validate_reports_every_bad_child_of_a_sequential(tmp_path: Path) -> None:
    short = nam_docs.linear(3)
    short["weights"] = short["weights"][:-1]
    odd = nam_docs.tiny_wavenet()
    odd["config"]["layers"][0]["activation"] = "Fuzz"
    path = nam_docs.write(tmp_path, nam_docs.sequential(short, nam_docs.linear(2), odd), "rig.nam")
    result = invoke("validate", path)
    assert result.exit_code == 1
    assert f"FAIL  {path}: 2 problems" in result.stdout
    assert "config.models[0].weights" in result.stdout and "config.models[2].config.layers[0].activation" in result.stdout
    assert "Fuzz" in result.stdout and "config.models[1]" not in result.stdout


def test_validate_reports_the_wrapper_after_its_children(tmp_path: Path) -> None:
    short = nam_docs.linear(3)
    short["weights"] = []
    path = nam_docs.write(tmp_path, nam_docs.sequential(short, nam_docs.linear(2), weights=[1.0]), "rig.nam")
    out = invoke("validate", path).stdout
    problems = [line.strip() for line in out.splitlines() if line.strip().startswith("- ")]
    assert len(problems) == 2 and problems[0].startswith("- config.models[0].weights") and problems[1].startswith("- weights: a Sequential's own weights")


def test_validate_reports_broken_nodes_and_graph_problems_of_a_rig(tmp_path: Path) -> None:
    rig = namgraph.chain(namgraph.load(nam_docs.tiny_wavenet()), namgraph.load(taps_doc([0.5, 0.25])))
    path = tmp_path / "rig.nam"
    namgraph.save(rig, path, form="dag")
    doc = json.loads(path.read_text())
    nodes = doc["config"]["nodes"]
    linear = next(i for i, n in enumerate(nodes) if n["id"] == "linear")
    nodes[linear]["model"]["weights"] = [0.5]  # 1 of 2 taps
    nodes.insert(1, {"id": "lost", "kind": "gain", "config": {}})  # fed, but feeding nothing
    doc["config"]["edges"].append({"from": "in", "to": "lost"})
    path.write_text(json.dumps(doc))
    result = invoke("validate", path)
    assert result.exit_code == 1 and "2 problems" in result.stdout
    problems = [line for line in result.stdout.splitlines() if line.strip().startswith("- ")]
    assert f"config.nodes[{linear + 1}].model.weights" in problems[0] and "'lost'" in problems[1]


def test_validate_shows_warnings_and_still_passes(tmp_path: Path) -> None:
    path = nam_docs.write(tmp_path, nam_docs.tiny_wavenet(version="0.7.1"), "new.nam")
    result = invoke("validate", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"OK    {path}") and f"WARN  {path}: version: 0.7.1" in result.stdout


def test_validate_legacy_sequential_with_and_without_migration(tmp_path: Path) -> None:
    legacy = {"version": "0.7.0", "architecture": "Sequential", "config": {"models": [{"receptive_field": 2, "bias": False}]}, "weights": [0.5, 1.0]}
    path = nam_docs.write(tmp_path, legacy, "legacy.nam")
    result = invoke("validate", path)
    assert result.exit_code == 1 and "FAIL" in result.stdout and "--migrate-legacy" in result.stdout
    assert "problems" not in result.stdout  # one problem, not one per bare child
    assert invoke("validate", path, "--migrate-legacy").exit_code == 0


def test_validate_file_level_failures_and_exit_status(tmp_path: Path) -> None:
    good = nam_docs.write(tmp_path, nam_docs.tiny_wavenet(), "good.nam")
    (tmp_path / "text.nam").write_text("{not json")
    silent = write_wav(tmp_path / "silent.wav", np.zeros((1, 8), np.float32), 48000)
    result = invoke("validate", good, tmp_path / "text.nam", tmp_path / "missing.nam", silent)
    assert result.exit_code == 1
    out = result.stdout
    assert f"OK    {good}" in out and f"FAIL  {tmp_path / 'text.nam'}: not valid JSON" in out
    assert f"FAIL  {tmp_path / 'missing.nam'}: file does not exist" in out and f"FAIL  {silent}:" in out
    assert out.splitlines()[-1] == "1 of 4 files valid"


def test_validate_through_the_installed_script(tmp_path: Path) -> None:
    good = nam_docs.write(tmp_path, nam_docs.tiny_wavenet(), "good.nam")
    bad = copy.deepcopy(nam_docs.tiny_wavenet())
    bad["weights"].append(0.0)
    bad = nam_docs.write(tmp_path, bad, "bad.nam")
    run = subprocess.run([str(SCRIPT), "validate", str(good), str(bad)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert f"OK    {good}" in run.stdout and f"FAIL  {bad}: weights" in run.stdout and "Traceback" not in run.stderr


def test_help_names_the_commands_with_examples() -> None:
    listing = invoke("--help").stdout
    for command in ("chain", "convert", "info", "validate"):
        assert command in listing
        assert "Example" in invoke(command, "--help").stdout
