"""Every script in ``examples/`` runs, writes what it promises, and its printed claims hold.

Scripts are found by glob, so a new example fails here until it is given a check in
``CHECKS``. Each runs once as a subprocess (``sys.executable``, ``--out`` a temporary folder,
started from another directory so it does not depend on the working directory). The
checks read the files back and compare the printed figures with values computed here from
the shipped models or with the numbers the example was built to recover.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import namgraph
from namgraph.audio import read_wav
from namgraph.converters import to_dag
from namgraph.drawing import draw

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
RIG = EXAMPLES / "rig"
NOT_RUN = {"make_demo_rig.py"}  # retrains the demo rig; tests/test_demo_rig.py runs it with --quick
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if p.name not in NOT_RUN)
RATE = 48000


def number(pattern: str, text: str) -> float:
    """The number captured by ``pattern`` in the printed output (fails if the line is missing)."""
    match = re.search(pattern, text)
    assert match, f"no line matching {pattern!r} in the output:\n{text}"
    return float(match.group(1))


def wav(path: Path, channels: int, seconds: float) -> np.ndarray:
    audio, rate = read_wav(path)
    assert (rate, audio.shape) == (RATE, (channels, int(seconds * RATE)))
    assert np.all(np.isfinite(audio)) and 0.1 < np.max(np.abs(audio)) < 1.0  # audible, not clipping
    return audio


def children(model: namgraph.Model) -> list[str]:
    return [child.name for child in model.architecture.children()]


def check_full_rig(out: Path, text: str) -> None:
    cab = namgraph.load(RIG / "cab.nam")
    ir, rate = read_wav(out / "cab.wav")
    assert rate == RATE and np.array_equal(ir[0], np.asarray(cab.params["ir"]))  # the taps, exactly
    rig = namgraph.load(out / "full_rig.nam")
    assert rig.architecture.name == "Sequential" and children(rig) == ["WaveNet", "Linear"]
    assert rig.num_weights == namgraph.load(RIG / "drive.nam").num_weights + cab.num_weights
    wav(out / "full_rig.wav", 1, 2.0)
    assert number(r"file vs chain graph: max difference (\S+)", text) == 0.0
    assert number(r"file vs drive then convolution: max difference (\S+)", text) < 1e-5


def check_parallel_cabs(out: Path, text: str) -> None:
    assert isinstance(namgraph.load(out / "parallel_cabs.nam"), namgraph.Graph)
    baked = namgraph.load(out / "parallel_cabs_sequential.nam")
    assert children(baked) == ["WaveNet", "Linear"]
    # The folded IR is the two IRs at their levels (-1 dB; -4 dB with inverted polarity), summed.
    cab = np.asarray(namgraph.load(RIG / "cab.nam").params["ir"], np.float64)
    far, _ = read_wav(out / "cab_far.wav")
    assert far.shape == (1, 2048) and np.all(far[0, :24] == 0)  # mic B: 0.5 ms (24 samples) later
    folded = np.asarray(baked.params["children"][1]["ir"], np.float64)
    expected = 10 ** (-1 / 20) * cab - 10 ** (-4 / 20) * far[0].astype(np.float64)
    np.testing.assert_allclose(folded, expected, rtol=0, atol=1e-7)
    wav(out / "parallel_cabs.wav", 1, 2.0)
    assert number(r"rig vs two-model Sequential: max difference (\S+)", text) < 1e-5


def check_dual_amp_stereo(out: Path, text: str) -> None:
    rig = namgraph.load(out / "dual_amp_stereo.nam")
    assert isinstance(rig, namgraph.Graph) and (rig.in_channels, rig.out_channels) == (1, 2)
    stereo = wav(out / "dual_amp_stereo.wav", 2, 2.0)
    rms = 20 * np.log10(np.sqrt(np.mean(stereo.astype(np.float64) ** 2, axis=1)))
    assert abs(rms[0] - rms[1]) < 1.0  # levels matched, as the script says ...
    assert np.max(np.abs(stereo[0] - stereo[1])) > 0.05  # ... but two different sounds
    assert "same graph True" in text
    assert number(r"max render difference (\S+)", text) == 0.0


def check_maintainer_rig(out: Path, text: str) -> None:
    rig = namgraph.load(out / "maintainer_rig.nam")
    assert isinstance(rig, namgraph.Graph)
    assert {"drive", "amp", "cab_a", "cab_b", "cabs", "preamp"} <= {n.id for n in rig.nodes}
    wav(out / "maintainer_rig.wav", 1, 2.0)
    drive, cab = namgraph.load(RIG / "drive.nam"), namgraph.load(RIG / "cab.nam")
    # Three WaveNets and one cab on the longest path; receptive fields add as (rf - 1).
    assert number(r"receptive field\s+(\d+)", text) == 3 * (drive.receptive_field - 1) + (cab.receptive_field - 1) + 1
    # Three WaveNets, two 2048-tap cabs and two trim gains.
    assert number(r"parameters\s+(\d+)", text) == 3 * drive.num_weights + 2 * cab.num_weights + 2
    assert number(r"latency\s+(\d+)", text) == 0


def check_fit_branch_gains(out: Path, text: str) -> None:
    assert number(r"fitted level_a = (\S+) dB", text) == pytest.approx(-3.0, abs=0.05)
    assert number(r"fitted level_b = (\S+) dB", text) == pytest.approx(2.0, abs=0.05)
    fitted = namgraph.load(out / "fitted_cabs.nam")
    db = {k: float(v["db"]) for k, v in fitted.params.items() if k.startswith("level_")}
    assert db == pytest.approx({"level_a": -3.0, "level_b": 2.0}, abs=0.05)  # the levels were saved


CHECKS: dict[str, Callable[[Path, str], None]] = {
    "full_rig.py": check_full_rig,
    "parallel_cabs.py": check_parallel_cabs,
    "dual_amp_stereo.py": check_dual_amp_stereo,
    "maintainer_rig.py": check_maintainer_rig,
    "fit_branch_gains.py": check_fit_branch_gains,
}


def example_files() -> set[Path]:
    return {p for p in EXAMPLES.rglob("*") if "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def examples_before() -> set[Path]:
    return example_files()


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_and_keeps_its_promises(script: str, tmp_path: Path, examples_before: set[Path]) -> None:
    assert script in CHECKS, f"examples/{script} is not run by the tests: add a check for it to CHECKS in {__file__}"
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--out", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, f"examples/{script} failed:\n{result.stdout}\n{result.stderr}"
    written = re.findall(r"wrote (\S+?\.(?:nam|wav))\b", result.stdout)
    assert written and all(Path(p).is_file() and Path(p).parent == out for p in written), written
    CHECKS[script](out, result.stdout)
    assert example_files() <= examples_before, "an example wrote into examples/"
    for path in written:
        if path.endswith(".nam"):
            check_picture(Path(path), tmp_path / f"{Path(path).stem}.svg")


def check_picture(rig_file: Path, svg: Path) -> None:
    """The rig's picture is a valid SVG naming every node of the rig (every model of a chain)."""
    rig = namgraph.load(rig_file)
    draw(rig, svg)
    texts = " ".join("".join(el.itertext()) for el in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}text"))
    graph = rig if isinstance(rig, namgraph.Graph) else to_dag(rig)
    for node in graph.nodes:
        assert node.id in texts, (rig_file.name, node.id)


def test_every_check_has_its_script() -> None:
    assert set(CHECKS) == set(SCRIPTS)


def test_readme_lists_every_script() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    missing = [s for s in SCRIPTS if f"python examples/{s}" not in readme]
    assert not missing, f"examples/README.md has no command for {missing}"
