"""Impulse-response wavs as Linear models (``converters/wav_ir.py``), ``load("cab.wav")`` and
``namgraph ir``.

References are independent of the code under test: the samples written with soundfile
(int PCM scaled as soundfile reads float: int16 / 2**15, int24 / 2**23), NumPy's
``np.convolve`` for renders, and NumPy FFTs for frequency responses.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cli_runner import invoke
import namgraph
from namgraph.converters import wav_ir
from namgraph.converters.wav_ir import MAX_IR_SAMPLES, read_ir
from namgraph.errors import AudioError, LimitError, NamGraphError, OptionError, SampleRateMismatchError
from namgraph.graph.ir import Graph
from namgraph.model import Model

X = (0.3 * np.random.default_rng(99).standard_normal(1500)).astype(np.float32)


def write(path: Path, data: np.ndarray, rate: int = 48000, subtype: str | None = None) -> Path:
    """``data``: ``(T,)`` or ``(T, C)``, in the dtype soundfile should write (int16/int32/float32)."""
    sf.write(path, data, rate, subtype=subtype)
    return path


def conv(x: np.ndarray, ir: np.ndarray) -> np.ndarray:
    return np.convolve(x.astype(np.float64), np.asarray(ir, np.float64))[: len(x)]


def assert_close(actual: np.ndarray, expected: np.ndarray, rel: float = 1e-6) -> None:
    """Within ``rel`` of the reference's peak (float32 rounding of a long convolution)."""
    scale = float(np.max(np.abs(expected)))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rel * scale)


def taps(model: Model) -> np.ndarray:
    return np.asarray(model.params["ir"])


def decaying(n: int, seed: int, channels: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.8 * rng.standard_normal((n, channels)) * np.exp(-np.arange(n) / (n / 5))[:, None]).astype(np.float32)


# ----------------------------------------------------------------------------- reading


def test_int16_mono_taps_are_the_samples(tmp_path: Path) -> None:
    ints = np.random.default_rng(1).integers(-32768, 32767, 500).astype(np.int16)
    path = write(tmp_path / "Mesa 4x12.wav", ints, 44100, "PCM_16")
    model = read_ir(path)
    assert isinstance(model, Model)
    np.testing.assert_array_equal(taps(model), ints.astype(np.float64) / 32768)
    assert model.architecture.config.receptive_field == 500 and not model.architecture.config.bias
    assert model.sample_rate == 44100 and model.metadata == {"name": "Mesa 4x12"}
    assert (model.in_channels, model.out_channels) == (1, 1)
    doc = model.to_document()
    assert doc["config"] == {"receptive_field": 500, "bias": False} and doc["sample_rate"] == 44100
    assert doc["metadata"] == {"name": "Mesa 4x12"} and len(doc["weights"]) == 500


def test_int24_taps_are_the_samples(tmp_path: Path) -> None:
    ints = np.random.default_rng(2).integers(-(2**23), 2**23, 300).astype(np.int32)
    path = write(tmp_path / "cab24.wav", ints << 8, 48000, "PCM_24")  # soundfile keeps the top 24 bits
    np.testing.assert_array_equal(taps(read_ir(path)), ints.astype(np.float64) / 2**23)


def test_render_equals_numpy_convolution(tmp_path: Path) -> None:
    ir = decaying(700, seed=3)[:, 0]  # long enough for Linear's FFT path
    model = read_ir(write(tmp_path / "cab.wav", ir, 48000, "FLOAT"))
    np.testing.assert_array_equal(taps(model), ir)  # chronological: ir[0] is the wav's first sample
    assert_close(namgraph.render(model, X), conv(X, ir))


def test_stereo_ir_is_a_graph_of_two_linears(tmp_path: Path) -> None:
    ir = decaying(300, seed=4, channels=2)
    graph = read_ir(write(tmp_path / "wide cab.wav", ir, 44100, "FLOAT"))
    assert isinstance(graph, Graph)
    assert graph.metadata == {"name": "wide cab"}
    assert graph.inputs == ["in"] and graph.outputs == ["out"]
    kinds = {node.id: node.kind for node in graph.nodes}
    assert kinds == {"in": "input", "wide_cab_L": "model", "wide_cab_R": "model", "merge": "merge", "out": "output"}
    assert graph.node("in").config.channels == 1
    ports = {(e.src, e.dst): e.port for e in graph.edges}
    assert ports[("wide_cab_L", "merge")] == 0 and ports[("wide_cab_R", "merge")] == 1
    for side, c in (("L", 0), ("R", 1)):
        model = graph.node(f"wide_cab_{side}").model
        np.testing.assert_array_equal(taps(model), ir[:, c])
        assert model.sample_rate == 44100
    out = namgraph.render(graph, X)
    assert out.shape == (2, len(X))
    assert_close(out[0], conv(X, ir[:, 0]))
    assert_close(out[1], conv(X, ir[:, 1]))


def test_stereo_with_identical_channels_is_one_mono_model(tmp_path: Path) -> None:
    mono = decaying(300, seed=5)
    model = read_ir(write(tmp_path / "dual.wav", np.repeat(mono, 2, axis=1), 48000, "FLOAT"))
    assert isinstance(model, Model) and (model.in_channels, model.out_channels) == (1, 1)
    np.testing.assert_array_equal(taps(model), mono[:, 0])


def test_load_dispatches_on_the_wav_extension(tmp_path: Path) -> None:
    ir = decaying(300, seed=6)
    path = write(tmp_path / "CAB.WAV", ir, 48000, "FLOAT")
    assert namgraph.load(path) == read_ir(path)
    assert namgraph.load(str(path)).source == str(path)
    stereo = write(tmp_path / "st.wav", decaying(300, seed=7, channels=2), 48000, "FLOAT")
    assert isinstance(namgraph.load(stereo), Graph)


def test_a_mono_ir_chains_after_a_model(tmp_path: Path) -> None:
    ir = decaying(300, seed=8)[:, 0]
    cab = write(tmp_path / "cab.wav", ir, 48000, "FLOAT")
    pre = np.array([0.5, -0.25], np.float32)
    rig = namgraph.chain(_linear_model(pre), cab)
    assert_close(namgraph.render(rig, X), conv(conv(X, pre).astype(np.float32), ir), rel=1e-5)


def _linear_model(ir: np.ndarray) -> Model:
    doc = {"version": "0.5.4", "architecture": "Linear", "config": {"receptive_field": len(ir), "bias": False},
           "weights": [float(v) for v in ir], "sample_rate": 48000}
    return namgraph.load(doc)


def test_the_written_model_round_trips_exactly(tmp_path: Path) -> None:
    ir = decaying(300, seed=9)
    model = read_ir(write(tmp_path / "cab.wav", ir, 48000, "FLOAT"))
    namgraph.loading.save_model(model, tmp_path / "cab.nam")
    raw = json.loads((tmp_path / "cab.nam").read_text())
    assert raw["architecture"] == "Linear"
    np.testing.assert_array_equal(np.array(raw["weights"], np.float32), ir[:, 0])  # float32-exact text
    assert namgraph.load(tmp_path / "cab.nam") == model


# ----------------------------------------------------------------------------- resampling


def cab_like(rate: int, predelay: int = 8) -> np.ndarray:
    """A cabinet-like IR: damped resonances (110 Hz .. 4.5 kHz) after a few samples of
    pre-delay, as a measured IR has; its spectrum is smooth, so dB comparisons are stable."""
    t = np.arange(int(0.05 * rate)) / rate
    h = sum(a * np.exp(-t / tau) * np.sin(2 * np.pi * f * t) for f, tau, a in ((110, 0.01, 1.0), (1200, 0.002, 0.6), (2800, 0.0012, 0.8), (4500, 0.0008, 0.5)))
    h = np.concatenate([np.zeros(predelay), h])
    return (0.9 * h / np.max(np.abs(h))).astype(np.float32)


def magnitude_db(ir: np.ndarray, rate: int, freqs: list[int]) -> np.ndarray:
    """|H(f)| in dB from an FFT of length ``rate`` (1 Hz bins, so bin f is exactly f Hz)."""
    spectrum = np.fft.rfft(np.asarray(ir, np.float64), n=rate)
    return 20 * np.log10(np.abs(spectrum[freqs]))


@pytest.mark.parametrize(("src", "dst"), [(44100, 48000), (48000, 44100), (96000, 48000)])
def test_resampling_keeps_the_frequency_response(tmp_path: Path, src: int, dst: int) -> None:
    ir = cab_like(src)
    model = read_ir(write(tmp_path / "cab.wav", ir, src, "FLOAT"), sample_rate=dst, resample=True)
    assert model.sample_rate == dst
    out = taps(model)
    assert out.size == round(ir.size * dst / src)
    freqs = [100, 1000, 2500, 5000, 8000]
    np.testing.assert_allclose(magnitude_db(out, dst, freqs), magnitude_db(ir, src, freqs), atol=0.1)
    # time alignment kept: the onset stays at the same time (pre-delay 8 samples at src)
    onset = np.flatnonzero(np.abs(out) > 0.05 * np.abs(out).max())[0]
    assert abs(onset - 8 * dst / src) <= 2


def test_a_rate_mismatch_without_resample_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "cab.wav", cab_like(44100), 44100, "FLOAT")
    with pytest.raises(SampleRateMismatchError) as info:
        read_ir(path, sample_rate=48000)
    assert info.value.file == str(path)
    assert "44100 Hz" in info.value.message and "48000 Hz" in info.value.message and "resample" in info.value.message
    assert read_ir(path, sample_rate=44100.0) == read_ir(path)  # same rate: nothing to do
    assert read_ir(path, sample_rate=44100, resample=True) == read_ir(path)


def test_resampling_beyond_the_length_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wav_ir, "MAX_IR_SAMPLES", 1000)
    path = write(tmp_path / "cab.wav", decaying(600, seed=10), 24000, "FLOAT")
    with pytest.raises(LimitError, match="2400 samples") as info:
        read_ir(path, sample_rate=96000, resample=True)
    assert info.value.file == str(path)


# ----------------------------------------------------------------------------- trim, truncate, normalise

TAIL = np.array([1.0, -0.5, 0.02, 0.004, -0.0005, 0.0, 0.0], np.float32)


def test_trim_drops_the_quiet_tail_only(tmp_path: Path) -> None:
    ir = np.concatenate([[0.0, 0.0], TAIL]).astype(np.float32)  # leading zeros stay: no time shift
    path = write(tmp_path / "cab.wav", ir, 48000, "FLOAT")
    np.testing.assert_array_equal(taps(read_ir(path, trim_db=-40)), ir[:5])  # 0.02 >= 0.01; 0.004 < 0.01
    np.testing.assert_array_equal(taps(read_ir(path, trim_db=-20)), ir[:4])
    np.testing.assert_array_equal(taps(read_ir(path, trim_db=-70)), ir[:7])
    np.testing.assert_array_equal(taps(read_ir(path, trim_db=-200)), ir[:7])  # exact zeros are below any level
    np.testing.assert_array_equal(taps(read_ir(path)), ir)
    click = write(tmp_path / "click.wav", np.array([0.5, 0, 0, 0], np.float32), 48000, "FLOAT")
    np.testing.assert_array_equal(taps(read_ir(click, trim_db=-60)), [0.5])  # at least one tap


def test_stereo_trim_keeps_one_length(tmp_path: Path) -> None:
    ir = np.zeros((8, 2), np.float32)
    ir[0, 0], ir[4, 1], ir[6, 1] = 1.0, 0.1, 0.001  # right's 0.1 is above -40 dB of the left's peak
    graph = read_ir(write(tmp_path / "st.wav", ir, 48000, "FLOAT"), trim_db=-40)
    for side, c in (("L", 0), ("R", 1)):
        np.testing.assert_array_equal(taps(graph.node(f"st_{side}").model), ir[:5, c])


def test_max_taps_truncates(tmp_path: Path) -> None:
    ir = decaying(100, seed=11)[:, 0]
    path = write(tmp_path / "cab.wav", ir, 48000, "FLOAT")
    np.testing.assert_array_equal(taps(read_ir(path, max_taps=10)), ir[:10])
    np.testing.assert_array_equal(taps(read_ir(path, max_taps=1000)), ir)
    late = write(tmp_path / "late.wav", np.concatenate([np.zeros(20), ir]).astype(np.float32), 48000, "FLOAT")
    with pytest.raises(AudioError, match="first 10 sample.*all zero") as info:
        read_ir(late, max_taps=10)
    assert info.value.file == str(late)


def test_normalize_peak_and_energy(tmp_path: Path) -> None:
    ir = decaying(200, seed=12)[:, 0]
    path = write(tmp_path / "cab.wav", ir, 48000, "FLOAT")
    peak = taps(read_ir(path, normalize="peak")).astype(np.float64)
    np.testing.assert_allclose(peak, ir / np.max(np.abs(ir.astype(np.float64))), rtol=1e-6)
    assert np.max(np.abs(peak)) == pytest.approx(1.0, abs=1e-7)
    energy = taps(read_ir(path, normalize="energy")).astype(np.float64)
    assert np.sum(energy**2) == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(energy, ir / np.sqrt(np.sum(ir.astype(np.float64) ** 2)), rtol=1e-6)
    # unit gain for white noise: output power equals input power
    noise = np.random.default_rng(13).standard_normal(200_000)
    assert np.mean(conv(noise, energy) ** 2) / np.mean(noise**2) == pytest.approx(1.0, rel=0.02)


def test_stereo_normalisation_keeps_the_balance(tmp_path: Path) -> None:
    ir = decaying(200, seed=14, channels=2)
    ir[:, 1] *= 0.25
    graph = read_ir(write(tmp_path / "st.wav", ir, 48000, "FLOAT"), normalize="peak")
    left, right = (taps(graph.node(f"st_{s}").model).astype(np.float64) for s in "LR")
    gain = 1 / np.max(np.abs(ir.astype(np.float64)))
    np.testing.assert_allclose(left, ir[:, 0] * gain, rtol=1e-6)
    np.testing.assert_allclose(right, ir[:, 1] * gain, rtol=1e-6)
    graph = read_ir(tmp_path / "st.wav", normalize="energy")
    left, right = (taps(graph.node(f"st_{s}").model).astype(np.float64) for s in "LR")
    energies = np.sum(ir.astype(np.float64) ** 2, axis=0)
    assert energies[0] > energies[1]
    assert np.sum(left**2) == pytest.approx(1.0, rel=1e-6)
    assert np.sum(right**2) == pytest.approx(energies[1] / energies[0], rel=1e-6)


# ----------------------------------------------------------------------------- errors


def expect(cls: type[NamGraphError], path: Path, fragment: str, **options) -> NamGraphError:
    with pytest.raises(cls) as info:
        read_ir(path, **options)
    assert info.value.file == str(path), info.value
    assert fragment in info.value.message, info.value.message
    return info.value


def test_unreadable_files(tmp_path: Path) -> None:
    expect(AudioError, tmp_path / "missing.wav", "not found")
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all")
    expect(AudioError, text, "not a readable audio file")
    good = write(tmp_path / "good.wav", decaying(2000, seed=15), 48000, "PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[:-1000])
    expect(AudioError, cut, "truncated")


def test_bad_content(tmp_path: Path) -> None:
    expect(AudioError, write(tmp_path / "empty.wav", np.zeros(0, np.float32), 48000, "FLOAT"), "no samples")
    nan = np.ones(50, np.float32)
    nan[7] = np.nan
    expect(AudioError, write(tmp_path / "nan.wav", nan, 48000, "FLOAT"), "sample 7")
    inf = np.ones((50, 2), np.float32)
    inf[3, 1] = np.inf
    expect(AudioError, write(tmp_path / "inf.wav", inf, 48000, "FLOAT"), "NaN or infinite")
    expect(AudioError, write(tmp_path / "zero.wav", np.zeros(64, np.int16), 48000, "PCM_16"), "silent")
    expect(AudioError, write(tmp_path / "three.wav", decaying(64, seed=16, channels=3), 48000, "FLOAT"), "3 channels")


def test_a_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path / "huge.wav", np.ones(MAX_IR_SAMPLES + 1, np.int16), 48000, "PCM_16")
    err = expect(LimitError, path, str(MAX_IR_SAMPLES + 1))
    assert str(MAX_IR_SAMPLES) in err.message


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"normalize": "rms"}, "normalize"),
        ({"trim_db": 6.0}, "trim_db"),
        ({"trim_db": float("nan")}, "trim_db"),
        ({"max_taps": 0}, "max_taps"),
        ({"max_taps": 2.5}, "max_taps"),
        ({"sample_rate": -48000}, "sample_rate"),
        ({"resample": True}, "needs sample_rate"),
    ],
)
def test_bad_options(tmp_path: Path, options: dict, fragment: str) -> None:
    path = write(tmp_path / "cab.wav", decaying(64, seed=17), 48000, "FLOAT")
    with pytest.raises(OptionError, match=fragment):
        read_ir(path, **options)


# ----------------------------------------------------------------------------- command line



def test_cli_mono(tmp_path: Path) -> None:
    ir = decaying(300, seed=18)[:, 0]
    wav = write(tmp_path / "cab.wav", ir, 44100, "FLOAT")
    result = invoke("ir", wav, "-o", tmp_path / "out.nam")
    assert result.exit_code == 0, result.output
    assert "300 taps" in result.output and "44100 Hz" in result.output
    assert namgraph.load(tmp_path / "out.nam") == read_ir(wav)
    result = invoke("ir", wav)  # default: CAB.nam beside the wav
    assert result.exit_code == 0, result.output
    assert namgraph.load(tmp_path / "cab.nam") == read_ir(wav)


def test_cli_options_reach_read_ir(tmp_path: Path) -> None:
    wav = write(tmp_path / "cab.wav", cab_like(44100), 44100, "FLOAT")
    out = tmp_path / "cab48.nam"
    result = invoke("ir", wav, "-o", out, "--sample-rate", 48000, "--resample", "--trim-db", -50, "--normalize", "energy", "--max-taps", 2000)
    assert result.exit_code == 0, result.output
    expected = read_ir(wav, sample_rate=48000, resample=True, trim_db=-50, normalize="energy", max_taps=2000)
    assert namgraph.load(out) == expected


def test_cli_refuses_and_reports(tmp_path: Path) -> None:
    wav = write(tmp_path / "cab.wav", decaying(64, seed=19), 44100, "FLOAT")
    out = tmp_path / "out.nam"
    out.write_text("keep me")
    result = invoke("ir", wav, "-o", out)
    assert result.exit_code == 1 and "--force" in result.stderr
    assert out.read_text() == "keep me"
    assert invoke("ir", wav, "-o", out, "--force").exit_code == 0
    result = invoke("ir", wav, "-o", tmp_path / "x.nam", "--sample-rate", 48000)
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and "--resample" in result.stderr
    assert str(wav) in result.stderr and not (tmp_path / "x.nam").exists()
    result = invoke("ir", wav, "-o", wav, "--force")
    assert result.exit_code == 1 and "overwrite the input" in result.stderr
    assert invoke("ir", wav, "--normalize", "loud").exit_code == 2  # click's own usage error


def test_cli_stereo_writes_a_dag_file(tmp_path: Path) -> None:
    pytest.importorskip("namgraph.converters.dag_format")
    ir = decaying(300, seed=20, channels=2)
    wav = write(tmp_path / "st.wav", ir, 48000, "FLOAT")
    result = invoke("ir", wav, "-o", tmp_path / "st.nam")
    assert result.exit_code == 0, result.output
    graph = namgraph.load(tmp_path / "st.nam")
    assert isinstance(graph, Graph)
    out = namgraph.render(graph, X)
    assert_close(out[0], conv(X, ir[:, 0]))
    assert_close(out[1], conv(X, ir[:, 1]))
