"""``namgraph render``: end to end through click's runner, and once through the installed script."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import nam_docs
from cli_runner import assert_error, invoke
import namgraph.loading
import namgraph.rendering
from namgraph.audio import read_wav, write_wav
from namgraph.errors import AudioError

TAPS = np.array([0.5, -0.25, 0.125], np.float32)
SCRIPT = Path(sys.executable).with_name("namgraph")


def write_linear(path: Path, taps: np.ndarray = TAPS, sample_rate: float | None = 48000) -> Path:
    return nam_docs.write_linear(path, taps, sample_rate)


def ref(x: np.ndarray, taps: np.ndarray = TAPS) -> np.ndarray:
    return np.convolve(x.astype(np.float64), taps.astype(np.float64))[: len(x)]


def signal(channels: int, frames: int = 500, seed: int = 0) -> np.ndarray:
    return (0.3 * np.random.default_rng(seed).standard_normal((channels, frames))).astype(np.float32)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    model = write_linear(tmp_path / "ir.nam")
    mono = write_wav(tmp_path / "mono.wav", signal(1), 48000)
    stereo = write_wav(tmp_path / "stereo.wav", signal(2, seed=1), 48000)
    return {"model": model, "mono": mono, "stereo": stereo, "dir": tmp_path}




def test_render_mono(files: dict[str, Path]) -> None:
    out = files["dir"] / "out.wav"
    result = invoke("render", files["model"], files["mono"], out)
    assert result.exit_code == 0, result.output
    y, rate = read_wav(out)
    assert rate == 48000 and y.shape == (1, 500) and sf.info(out).subtype == "FLOAT"
    np.testing.assert_allclose(y[0], ref(read_wav(files["mono"])[0][0]), atol=1e-6, rtol=0)
    for fragment in ("1 ch, 500 samples", "48000 Hz", "Linear", "receptive field 3 samples", str(out), "dBFS", "x real time"):
        assert fragment in result.stdout, (fragment, result.stdout)
    assert "warning" not in result.stdout


def test_mono_model_on_stereo_is_dual_mono(files: dict[str, Path]) -> None:
    out = files["dir"] / "out.wav"
    result = invoke("render", files["model"], files["stereo"], out)
    assert result.exit_code == 0, result.output
    x, _ = read_wav(files["stereo"])
    y, _ = read_wav(out)
    assert y.shape == (2, 500)
    for c in range(2):
        np.testing.assert_allclose(y[c], ref(x[c]), atol=1e-6, rtol=0)
    assert "run on each channel" in result.stdout


def test_peak_above_full_scale_warns(files: dict[str, Path]) -> None:
    loud = write_linear(files["dir"] / "loud.nam", np.array([8.0], np.float32))
    result = invoke("render", loud, files["mono"], files["dir"] / "out.wav")
    assert result.exit_code == 0, result.output
    peak = 20 * np.log10(8 * np.max(np.abs(read_wav(files["mono"])[0])))
    assert f"{peak:+.1f} dBFS" in result.stdout
    assert "warning: output peak" in result.stderr


def test_sample_rate_mismatch(files: dict[str, Path]) -> None:
    wav44 = write_wav(files["dir"] / "in44.wav", signal(1), 44100)
    out = files["dir"] / "out.wav"
    result = invoke("render", files["model"], wav44, out)
    assert_error(result, "44100 Hz", "48000 Hz", str(wav44), str(files["model"]))
    assert not out.exists()


def test_model_without_rate_takes_the_wavs(files: dict[str, Path]) -> None:
    model = write_linear(files["dir"] / "norate.nam", sample_rate=None)
    wav44 = write_wav(files["dir"] / "in44.wav", signal(1), 44100)
    out = files["dir"] / "out.wav"
    result = invoke("render", model, wav44, out)
    assert result.exit_code == 0, result.output
    assert read_wav(out)[1] == 44100
    assert "no sample_rate in the model, using 44100 Hz" in result.stdout


def test_missing_input(files: dict[str, Path]) -> None:
    missing = files["dir"] / "nope.wav"
    assert_error(invoke("render", files["model"], missing, files["dir"] / "out.wav"), str(missing), "not found")


@pytest.mark.parametrize("content", ["{not json", '{"version": "0.5.4"}', "[]"])
def test_bad_model_file(files: dict[str, Path], content: str) -> None:
    bad = files["dir"] / "bad.nam"
    bad.write_text(content)
    out = files["dir"] / "out.wav"
    assert_error(invoke("render", bad, files["mono"], out), str(bad))
    assert not out.exists()


def test_missing_model(files: dict[str, Path]) -> None:
    assert_error(invoke("render", files["dir"] / "none.nam", files["mono"], files["dir"] / "o.wav"), "none.nam")


def test_existing_output_needs_force(files: dict[str, Path]) -> None:
    out = files["dir"] / "out.wav"
    out.write_bytes(b"keep me")
    assert_error(invoke("render", files["model"], files["mono"], out), "already exists", "--force")
    assert out.read_bytes() == b"keep me"
    assert invoke("render", files["model"], files["mono"], out, "--force").exit_code == 0
    assert read_wav(out)[0].shape == (1, 500)


def test_output_over_input_is_refused(files: dict[str, Path]) -> None:
    before = files["mono"].read_bytes()
    assert_error(invoke("render", files["model"], files["mono"], files["mono"], "--force"), "overwrite the input")
    assert files["mono"].read_bytes() == before
    assert invoke("render", files["model"], files["mono"], files["mono"], "--overwrite-input").exit_code == 0
    assert files["mono"].read_bytes() != before


@pytest.mark.parametrize("size", ["1.5", "-0.5", "nan"])
def test_size_out_of_range(files: dict[str, Path], size: str) -> None:
    assert_error(invoke("render", files["model"], files["mono"], files["dir"] / "o.wav", "--size", size), "size")


def test_channel_mismatch_is_reported(files: dict[str, Path]) -> None:
    doc = json.loads(files["model"].read_text())
    doc["config"].update(in_channels=2, out_channels=2)
    two = files["dir"] / "two.nam"
    two.write_text(json.dumps(doc))
    three = write_wav(files["dir"] / "three.wav", signal(3), 48000)
    assert_error(invoke("render", two, three, files["dir"] / "o.wav"), "2 input channels", "has 3")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_failed_render_writes_nothing(files: dict[str, Path], monkeypatch) -> None:
    out = files["dir"] / "out.wav"
    out.write_bytes(b"previous render")

    def fail(*args, **kwargs):
        raise AudioError("simulated failure in the middle of rendering")

    monkeypatch.setattr(namgraph.rendering, "render", fail)
    assert_error(invoke("render", files["model"], files["mono"], out, "--force"), "simulated failure")
    assert out.read_bytes() == b"previous render"
    assert leftovers(files["dir"]) == []


def test_non_finite_output_writes_nothing(files: dict[str, Path]) -> None:
    huge = write_linear(files["dir"] / "huge.nam", np.array([3e38], np.float32))
    loud = write_wav(files["dir"] / "loud.wav", np.full((1, 10), 4.0, np.float32), 48000)
    out = files["dir"] / "out.wav"
    assert_error(invoke("render", huge, loud, out), "non-finite", "nothing was written")
    assert not out.exists() and leftovers(files["dir"]) == []


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and "namgraph" in result.stdout


def test_installed_script(files: dict[str, Path]) -> None:
    out = files["dir"] / "script.wav"
    ok = subprocess.run([str(SCRIPT), "render", files["model"], files["stereo"], out], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert read_wav(out)[0].shape == (2, 500) and "x real time" in ok.stdout
    bad = subprocess.run(
        [str(SCRIPT), "render", files["model"], files["dir"] / "missing.wav", out, "--force"],
        capture_output=True, text=True, timeout=300,
    )
    assert bad.returncode == 1 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr + bad.stdout
    assert "missing.wav" in bad.stderr


# ----------------------------------------------------------------------------- folders, batching, progress, clipping


@pytest.fixture
def folder(files: dict[str, Path]) -> dict[str, Path]:
    """Three wavs (two of equal length and channels, one longer) and a file that is not a wav."""
    src = files["dir"] / "di"
    src.mkdir()
    write_wav(src / "a.wav", signal(1, 400, seed=10), 48000)
    write_wav(src / "b.wav", signal(1, 400, seed=11), 48000)
    write_wav(src / "long.wav", signal(2, 900, seed=12), 48000)
    (src / "notes.txt").write_text("not audio")
    return {**files, "src": src, "out": files["dir"] / "renders"}


def test_folder_render_mirrors_names_and_equals_each_file_alone(folder: dict[str, Path], monkeypatch) -> None:
    calls = []
    real = namgraph.rendering.render
    monkeypatch.setattr(namgraph.rendering, "render", lambda model, audio, **kw: calls.append(np.shape(audio)) or real(model, audio, **kw))
    result = invoke("render", folder["model"], folder["src"], folder["out"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder["out"].iterdir()) == ["a.wav", "b.wav", "long.wav"]
    for name in ("a.wav", "b.wav", "long.wav"):
        x, _ = read_wav(folder["src"] / name)
        y, rate = read_wav(folder["out"] / name)
        assert rate == 48000 and y.shape == x.shape
        for c in range(x.shape[0]):
            np.testing.assert_allclose(y[c], ref(x[c]), atol=1e-6, rtol=0)
    assert sorted(calls) == [(1, 2, 900), (2, 1, 400)]  # a and b in one batched call
    assert "3 wav file(s)" in result.stdout and "2 batched render call(s)" in result.stdout


def test_folder_render_in_streaming_blocks(folder: dict[str, Path]) -> None:
    result = invoke("render", folder["model"], folder["src"], folder["out"], "--block", 64)
    assert result.exit_code == 0, result.output
    for name in ("a.wav", "long.wav"):
        x, _ = read_wav(folder["src"] / name)
        y, _ = read_wav(folder["out"] / name)
        for c in range(x.shape[0]):
            np.testing.assert_allclose(y[c], ref(x[c]), atol=1e-6, rtol=0)
    assert "streaming blocks of 64 samples" in result.stdout


def test_folder_render_checks_everything_before_writing(folder: dict[str, Path]) -> None:
    folder["out"].mkdir()
    (folder["out"] / "b.wav").write_bytes(b"keep me")
    assert_error(invoke("render", folder["model"], folder["src"], folder["out"]), "b.wav", "already exists", "--force")
    assert sorted(p.name for p in folder["out"].iterdir()) == ["b.wav"]  # a.wav was not rendered either
    write_wav(folder["src"] / "c44.wav", signal(1, 100), 44100)
    assert_error(invoke("render", folder["model"], folder["src"], folder["out"], "--force"), "c44.wav", "44100 Hz")
    assert (folder["out"] / "b.wav").read_bytes() == b"keep me"


def test_folder_render_errors(folder: dict[str, Path]) -> None:
    as_file = folder["dir"] / "renders.wav"
    as_file.write_bytes(b"")
    assert_error(invoke("render", folder["model"], folder["src"], as_file), "must be a folder")
    empty = folder["dir"] / "empty"
    empty.mkdir()
    assert_error(invoke("render", folder["model"], empty, folder["out"]), "no .wav files")
    assert_error(invoke("render", folder["model"], folder["src"], folder["dir"] / "x" / "y"), "cannot create the output folder")
    assert_error(invoke("render", folder["model"], folder["src"], folder["src"], "--force"), "overwrite the input")


def test_folder_channel_error_names_the_file(folder: dict[str, Path]) -> None:
    doc = json.loads(folder["model"].read_text())
    doc["config"].update(in_channels=2, out_channels=2)
    two = folder["dir"] / "two.nam"
    two.write_text(json.dumps(doc))
    assert_error(invoke("render", two, folder["src"], folder["out"]), "a.wav", "2 input channels")


def test_clipping_warning_says_by_how_much_and_the_fix_works(files: dict[str, Path]) -> None:
    loud = write_linear(files["dir"] / "loud.nam", np.array([8.0], np.float32))
    out = files["dir"] / "out.wav"
    result = invoke("render", loud, files["mono"], out)
    assert result.exit_code == 0
    peak_db = 20 * np.log10(8 * np.max(np.abs(read_wav(files["mono"])[0])))
    fix = math.ceil(peak_db * 10) / 10
    assert f"{peak_db:.1f} dB above full scale" in result.stderr and f"--gain -{fix:.1f}" in result.stderr
    assert "warning:" not in result.stdout
    assert np.max(np.abs(read_wav(out)[0])) > 1.0  # a float wav keeps the overs
    fixed = invoke("render", loud, files["mono"], out, "--force", "--gain", f"-{fix:.1f}")
    assert fixed.exit_code == 0 and "warning:" not in fixed.stderr
    y = read_wav(out)[0]
    assert np.max(np.abs(y)) <= 1.0
    np.testing.assert_allclose(y[0], 8 * read_wav(files["mono"])[0][0] * 10 ** (-fix / 20), rtol=1e-5, atol=1e-7)


def test_quiet_prints_nothing_but_warnings(files: dict[str, Path]) -> None:
    loud = write_linear(files["dir"] / "loud.nam", np.array([8.0], np.float32))
    result = invoke("render", loud, files["mono"], files["dir"] / "out.wav", "--quiet")
    assert result.exit_code == 0 and result.stdout == "" and "warning: output peak" in result.stderr


def test_single_file_streaming_blocks(files: dict[str, Path]) -> None:
    out = files["dir"] / "out.wav"
    assert invoke("render", files["model"], files["stereo"], out, "--block", 100).exit_code == 0
    x, _ = read_wav(files["stereo"])
    y, _ = read_wav(out)
    for c in range(2):
        np.testing.assert_allclose(y[c], ref(x[c]), atol=1e-6, rtol=0)


def test_a_rig_renders_like_its_parts(files: dict[str, Path], monkeypatch) -> None:
    from namgraph.graph import chain, gain

    rig = chain(files["model"], gain(-6.0))
    monkeypatch.setattr(namgraph.loading, "load", lambda path: rig)
    out = files["dir"] / "out.wav"
    result = invoke("render", "rig.nam", files["mono"], out)
    assert result.exit_code == 0, result.output
    x, _ = read_wav(files["mono"])
    np.testing.assert_allclose(read_wav(out)[0][0], ref(x[0]) * 10 ** (-6 / 20), atol=1e-6, rtol=0)
    assert "rig of 4 nodes" in result.stdout


def test_progress_bar_only_for_a_person_watching() -> None:
    from namgraph.cli.render import progress_enabled

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress_enabled(False, Terminal())
    assert not progress_enabled(True, Terminal())
    assert not progress_enabled(False, io.StringIO())


def test_batches_group_equal_shapes_within_the_limit() -> None:
    from namgraph.cli.render import Job, batches

    def job(channels: int, frames: int) -> Job:
        return Job(Path("x.wav"), Path("y.wav"), channels, frames, 48000)

    jobs = [job(1, 100), job(2, 100), job(1, 100), job(1, 100), job(1, 50)]
    assert batches(jobs) == [[0, 2, 3], [1], [4]]
    assert batches(jobs, limit=200) == [[0, 2], [3], [1], [4]]
    assert batches([job(4, 1000)], limit=10) == [[0]]  # one item per call at least
    assert batches([job(1, 100)] * 4, limit=400) == [[0, 1, 2, 3]]
    assert batches([job(1, 100)] * 4, limit=400, out_channels=2) == [[0, 1], [2, 3]]  # a stereo rig's output counts


def test_progress_callback_counts_every_sample() -> None:
    from namgraph.streaming import render_streaming

    seen = []
    model = namgraph.load(nam_docs.write_linear(Path(tempfile.mkdtemp()) / "m.nam", TAPS))
    render_streaming(model, signal(1, 250)[0], 64, progress=seen.append)
    assert seen == [64, 64, 64, 58]
