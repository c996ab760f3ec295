"""``namgraph draw`` and ``namgraph plot`` through click's runner: success paths, formats, errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import nam_docs
from cli_runner import assert_error, invoke
from namgraph.audio import write_wav

REPO = Path(__file__).resolve().parents[1]
FULL_RIG = REPO / "examples" / "rig" / "full_rig.nam"




@pytest.fixture
def model(tmp_path: Path) -> Path:
    return nam_docs.write(tmp_path, nam_docs.linear(taps=3), "cab.nam")


@pytest.mark.parametrize("command", ["draw", "plot", "render"])
def test_help(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.stdout


def test_group_lists_the_commands() -> None:
    result = invoke("--help")
    for command in ("render", "draw", "plot"):
        assert f"  {command}" in result.stdout


# ----------------------------------------------------------------------------- draw


@pytest.mark.parametrize("ext", ["svg", "png"])
def test_draw_picture(model: Path, tmp_path: Path, ext: str) -> None:
    out = tmp_path / f"rig.{ext}"
    result = invoke("draw", model, "-o", out)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stdout
    if ext == "svg":
        texts = {"".join(t.itertext()) for t in ET.parse(out).getroot().iter("{http://www.w3.org/2000/svg}text")}
        assert {"in", "cab", "out", "Linear · 1→1 ch"} <= texts
    else:
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_draw_mermaid_and_dot_to_stdout(model: Path) -> None:
    default = invoke("draw", model)
    mermaid = invoke("draw", model, "--format", "mermaid")
    assert default.exit_code == mermaid.exit_code == 0
    assert default.stdout == mermaid.stdout
    assert mermaid.stdout.startswith("graph LR\n") and "n_in --> n_cab" in mermaid.stdout and "n_cab --> n_out" in mermaid.stdout
    dot = invoke("draw", model, "--format", "dot")
    assert dot.exit_code == 0 and dot.stdout.startswith("digraph rig {") and '"in" -> "cab";' in dot.stdout


def test_draw_text_files(model: Path, tmp_path: Path) -> None:
    assert invoke("draw", model, "-o", tmp_path / "rig.md").exit_code == 0
    md = (tmp_path / "rig.md").read_text()
    assert md.startswith("```mermaid\ngraph LR\n") and md.endswith("```\n")  # renders on GitHub as it is
    assert invoke("draw", model, "-o", tmp_path / "rig.mmd").exit_code == 0
    assert (tmp_path / "rig.mmd").read_text().startswith("graph LR\n")
    assert invoke("draw", model, "-o", tmp_path / "rig.dot").exit_code == 0
    assert (tmp_path / "rig.dot").read_text().startswith("digraph rig {")
    assert invoke("draw", model, "--format", "dot", "-o", tmp_path / "rig.txt").exit_code == 0
    assert (tmp_path / "rig.txt").read_text().startswith("digraph rig {")


def test_draw_the_shipped_full_rig(tmp_path: Path) -> None:
    result = invoke("draw", FULL_RIG, "--format", "mermaid")
    assert result.exit_code == 0
    assert result.stdout.startswith("%% namgraph demo rig: drive into cab\ngraph LR\n")
    assert result.stdout.count("-->") == 3


def test_draw_errors(model: Path, tmp_path: Path) -> None:
    assert_error(invoke("draw", model, "-o", tmp_path / "rig.jpg"), "rig.jpg", ".jpg")
    assert_error(invoke("draw", model, "--format", "svg"), "-o rig.svg")
    assert_error(invoke("draw", model, "--format", "png", "-o", tmp_path / "rig.svg"), ".png file name")
    assert_error(invoke("draw", tmp_path / "missing.nam", "-o", tmp_path / "rig.svg"), "missing.nam")
    bad = tmp_path / "bad.nam"
    bad.write_text("{not json")
    assert_error(invoke("draw", bad), "bad.nam")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.nam", "cab.nam"]
    assert invoke("draw", model, "--format", "pdf").exit_code == 2  # click's own usage error


def test_draw_refuses_to_overwrite_without_force(model: Path, tmp_path: Path) -> None:
    for name in ("rig.svg", "rig.dot"):
        out = tmp_path / name
        out.write_text("keep me")
        assert_error(invoke("draw", model, "-o", out), "already exists", "--force")
        assert out.read_text() == "keep me"
        assert invoke("draw", model, "-o", out, "--force").exit_code == 0
        assert out.read_text() != "keep me"


# ----------------------------------------------------------------------------- plot


@pytest.fixture
def wavs(tmp_path: Path) -> tuple[Path, Path]:
    x = (0.3 * np.random.default_rng(0).standard_normal((1, 3000))).astype(np.float32)
    return write_wav(tmp_path / "di.wav", x, 48000), write_wav(tmp_path / "out.wav", np.concatenate([x, 0.5 * x]), 48000)


def test_plot_png(wavs: tuple[Path, Path], tmp_path: Path) -> None:
    import matplotlib.image

    out = tmp_path / "render.png"
    result = invoke("plot", *wavs, "-o", out)
    assert result.exit_code == 0, result.output
    assert matplotlib.image.imread(out).shape[:2] == (470, 1100)  # two rows: the output is stereo


def test_plot_errors(wavs: tuple[Path, Path], tmp_path: Path) -> None:
    di, out = wavs
    assert_error(invoke("plot", di, tmp_path / "none.wav", "-o", tmp_path / "p.png"), "none.wav", "not found")
    assert_error(invoke("plot", di, out, "-o", tmp_path / "p.gif"), ".gif")
    other = write_wav(tmp_path / "44k.wav", np.zeros((1, 100), np.float32), 44100)
    assert_error(invoke("plot", di, other, "-o", tmp_path / "p.png"), "48000 Hz", "44100 Hz")
    existing = tmp_path / "p.png"
    existing.write_bytes(b"keep me")
    assert_error(invoke("plot", di, out, "-o", existing), "already exists", "--force")
    assert existing.read_bytes() == b"keep me"
    assert invoke("plot", di, out, "-o", existing, "--force").exit_code == 0
    assert invoke("plot", di, out).exit_code == 2  # -o is required (a usage error)
