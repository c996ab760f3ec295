"""Every Sequential file namgraph writes satisfies the spec's writer checklist (section 11).

The checker (``tests/writer_checklist.py``) is written from the spec, not from namgraph's
format code. First it is shown to catch each rule it checks; then it is run on the files
every writer makes: ``namgraph.save`` (chains, raised rigs, random Sequentials), the
``chain`` and ``convert`` commands, legacy migration, the shipped example rig, and Core's
fixture models chained and re-raised. That these files render as their children in series
is checked where each writer is tested (tests/test_cli_convert_chain.py,
tests/test_properties_algebra.py, tests/test_properties_files.py); the raised rigs here
are also compared with the graph they came from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given

import nam_docs
from cli_runner import invoke
import namgraph
from namgraph.audio import write_wav
from strategies import examples, peak_error, raisable_rigs, sequential_docs
from test_legacy import legacy_of
from writer_checklist import problems

REPO = Path(__file__).resolve().parents[1]
X = (0.2 * np.random.default_rng(3).standard_normal(300)).astype(np.float32)


def good_sequential() -> dict[str, Any]:
    return nam_docs.sequential(nam_docs.tiny_wavenet(), nam_docs.linear(3, bias=False), metadata={"loudness": -20.0})


def checked_file(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text())
    assert problems(doc) == [], problems(doc)
    return doc


# ----------------------------------------------------------------------------- the checker can fail


def _set(path: tuple[Any, ...], value: Any):
    def mutate(doc: dict[str, Any]) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


MODELS = ("config", "models")
BROKEN = {
    "version not a string": (_set(("version",), 7), ".version"),
    "version too new": (_set(("version",), "0.8.0"), ".version"),
    "unknown architecture": (_set(("architecture",), "sequential"), ".architecture"),
    "wrapper weights": (_set(("weights",), [1.0]), ".weights"),
    "null sample rate": (_set(("sample_rate",), None), ".sample_rate"),
    "child rate differs": (_set((*MODELS, 1, "sample_rate"), 44100), "models[1].sample_rate"),
    "child without sample rate": (lambda d: d["config"]["models"][1].pop("sample_rate"), "models[1]"),
    "level not a number": (_set(("metadata", "loudness"), "-20"), "metadata.loudness"),
    "non-finite weight": (_set((*MODELS, 1, "weights", 0), float("nan")), "models[1].weights[0]"),
    "weight beyond float32": (_set((*MODELS, 1, "weights", 0), 1e39), "models[1].weights[0]"),
    "linear weight count": (lambda d: d["config"]["models"][1]["weights"].append(0.5), "models[1].weights"),
    "head_scale weight": (_set((*MODELS, 0, "weights", -1), 0.25), "models[0].weights"),
    "null FiLM key": (_set((*MODELS, 0, "config", "layers", 0, "conv_pre_film"), None), "conv_pre_film"),
    "unknown activation": (_set((*MODELS, 0, "config", "layers", 0, "activation"), "GELU"), "activation"),
    "channels do not link": (_set((*MODELS, 1, "config", "in_channels"), 2), "models[1]"),
    "empty models": (_set(MODELS, []), "config.models"),
}


def test_a_good_sequential_passes() -> None:
    assert problems(good_sequential()) == []


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_checker_catches(case: str) -> None:
    mutate, where = BROKEN[case]
    doc = good_sequential()
    mutate(doc)
    found = problems(doc)
    assert found and any(where in p for p in found), found


# ----------------------------------------------------------------------------- what namgraph writes


@examples(8)
@given(case=sequential_docs())
def test_saving_a_random_sequential(case: tuple[dict[str, Any], int], tmp_path_factory: pytest.TempPathFactory) -> None:
    doc, _ = case
    path = tmp_path_factory.mktemp("seq") / "rig.nam"
    namgraph.save(namgraph.load(doc), path, form="sequential")
    checked_file(path)


@examples(8)
@given(rig=raisable_rigs())
def test_raising_a_random_rig(rig: namgraph.Graph, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("raised") / "rig.nam"
    namgraph.save(rig, path, form="sequential")
    assert checked_file(path)["architecture"] == "Sequential"
    assert peak_error(namgraph.render(namgraph.load(path), X), namgraph.render(rig, X)) <= 1e-5


def test_the_shipped_example_rig() -> None:
    doc = checked_file(REPO / "examples" / "rig" / "full_rig.nam")
    assert doc["architecture"] == "Sequential"


def test_the_chain_and_convert_commands(tmp_path: Path) -> None:
    amp = nam_docs.write(tmp_path, nam_docs.tiny_wavenet(metadata={"input_level_dbu": 4.0, "loudness": -18.0}), "amp.nam")
    cab = write_wav(tmp_path / "cab.wav", np.array([[0.5, 0.3, -0.2, 0.1]], np.float32), 48000)
    rig = tmp_path / "rig.nam"
    assert invoke("chain", amp, cab, "-o", rig).exit_code == 0
    doc = checked_file(rig)
    assert "loudness" not in doc.get("metadata", {})  # a child's loudness is not the rig's
    dag = tmp_path / "rig_dag.nam"
    back = tmp_path / "rig_back.nam"
    assert invoke("convert", rig, dag, "--to", "dag").exit_code == 0
    assert invoke("convert", dag, back, "--to", "sequential").exit_code == 0
    assert checked_file(back) == doc


def test_a_migrated_legacy_file(tmp_path: Path) -> None:
    legacy = nam_docs.write(tmp_path, legacy_of(good_sequential()), "legacy.nam")
    out = tmp_path / "migrated.nam"
    result = invoke("convert", legacy, out, "--to", "sequential", "--migrate-legacy")
    assert result.exit_code == 0, result.output
    checked_file(out)


def test_core_fixture_models_chained_and_raised(core_fixtures: Path, tmp_path: Path) -> None:
    """Real captures of every architecture, each chained with an IR and re-raised from its DAG."""
    for source in sorted(core_fixtures.glob("*.nam")):
        model = namgraph.load(source)
        if model.architecture.in_channels != 1 or model.architecture.out_channels != 1:
            continue
        ir = namgraph.load(nam_docs.linear(4, bias=False) | {"sample_rate": model.sample_rate} if model.sample_rate else nam_docs.linear(4, bias=False))
        path = tmp_path / f"{source.stem}_rig.nam"
        namgraph.save(namgraph.chain(model, ir), path, form="sequential")
        doc = json.loads(path.read_text())
        # A child is copied as it is: the written file may break a rule only where its source does.
        inherited = problems(json.loads(source.read_text()), ".config.models[0]", model.sample_rate)
        assert set(problems(doc)) <= set(inherited), (source.name, problems(doc))
        again = tmp_path / f"{source.stem}_again.nam"
        namgraph.save(namgraph.converters.to_dag(namgraph.load(path)), again, form="sequential")
        assert json.loads(again.read_text()) == doc, source.name
        written = np.array(doc["config"]["models"][0]["weights"], np.float64).astype(np.float32)
        original = np.array(json.loads(source.read_text())["weights"], np.float64).astype(np.float32)
        np.testing.assert_array_equal(written, original, err_msg=f"{source.name}: weights did not round-trip")
