"""Plots of a render: the spectrum estimate against known signals, and valid images out."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from namgraph.errors import AudioError, OptionError
from namgraph.plotting import FLOOR_DB, envelope, plot_render, welch_spectrum

SR = 48000


def bin_sine(amplitude: float, k: int, n: int, frames: int) -> np.ndarray:
    """A sine centred on bin ``k`` of an ``n``-point FFT."""
    return amplitude * np.sin(2 * np.pi * k / n * np.arange(frames) + 0.3)


@pytest.mark.parametrize("amplitude", [1.0, 0.5, 0.01])
def test_a_sine_reads_its_amplitude_in_db(amplitude: float) -> None:
    freqs, db = welch_spectrum(bin_sine(amplitude, 100, 8192, SR), SR)
    peak = int(np.argmax(db))
    assert freqs[peak] == pytest.approx(100 * SR / 8192)
    assert db[peak] == pytest.approx(20 * math.log10(amplitude), abs=0.02)


def test_two_sines_keep_their_level_difference() -> None:
    x = bin_sine(0.5, 64, 1024, 4096) + bin_sine(0.05, 300, 1024, 4096)
    freqs, db = welch_spectrum(x, SR, segment=1024)
    low, high = db[64], db[300]
    assert low - high == pytest.approx(20.0, abs=0.05)
    assert freqs.size == 513


def test_short_signal_uses_one_power_of_two_segment() -> None:
    x = np.random.default_rng(0).standard_normal(1500)
    freqs, db = welch_spectrum(x, SR)
    assert freqs.size == 1024 // 2 + 1  # the largest power of two that fits
    # one segment: the periodogram of the first 1024 samples, computed directly
    w = np.hanning(1024)
    direct = np.abs(np.fft.rfft(x[:1024] * w)) * 2 / w.sum()
    np.testing.assert_allclose(db[1:-1], 20 * np.log10(direct[1:-1]), atol=1e-9)


def test_silence_reads_the_floor() -> None:
    _, db = welch_spectrum(np.zeros(4096), SR)
    assert np.all(db == FLOOR_DB)


def test_envelope_is_min_and_max_per_run() -> None:
    x = np.random.default_rng(1).standard_normal(6000)
    start, lo, hi = envelope(x, 100)
    runs = x.reshape(100, 60)
    np.testing.assert_array_equal(start, np.arange(0, 6000, 60))
    np.testing.assert_array_equal(lo, runs.min(axis=1))
    np.testing.assert_array_equal(hi, runs.max(axis=1))


def signal(channels: int, frames: int, seed: int = 0) -> np.ndarray:
    return (0.3 * np.random.default_rng(seed).standard_normal((channels, frames))).astype(np.float32)


def test_png_of_a_mono_render(tmp_path: Path) -> None:
    import matplotlib.image

    x = signal(1, 12000)[0]  # long enough to be drawn as an envelope
    path = plot_render(x, 1.5 * x, SR, tmp_path / "render.png")
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (260, 1100)  # 11 x (0.5 + 2.1) inches at 100 dpi
    assert [p.name for p in tmp_path.iterdir()] == ["render.png"]


def test_mono_input_stereo_output_gives_a_row_per_channel(tmp_path: Path) -> None:
    import matplotlib.image

    x = signal(1, 3000)
    image = matplotlib.image.imread(plot_render(x, np.concatenate([x, -x]), SR, tmp_path / "render.png"))
    assert image.shape[:2] == (470, 1100)


def test_svg_is_valid_and_labelled(tmp_path: Path) -> None:
    x = signal(2, 2000)
    path = plot_render(x, 2.0 * x, SR, tmp_path / "render.svg")  # over full scale: marked
    root = ET.parse(path).getroot()
    texts = {"".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"ch 0 waveform", "ch 1 waveform", "ch 0 spectrum (Welch)", "time (s)", "frequency (Hz)"} <= texts


def test_plot_is_reproducible(tmp_path: Path) -> None:
    x = signal(1, 2000)
    a = plot_render(x, x, SR, tmp_path / "a.svg").read_bytes()
    b = plot_render(x, x, SR, tmp_path / "b.svg").read_bytes()
    assert a == b


@pytest.mark.parametrize(
    ("inp", "out", "rate", "name", "error", "fragment"),
    [
        (np.zeros(100), np.zeros(100), SR, "p.jpg", OptionError, "svg or .png"),
        (np.zeros(100), np.zeros(100), 0, "p.png", OptionError, "sample_rate"),
        (np.zeros(100), np.full(100, np.nan), SR, "p.png", AudioError, "non-finite"),
        (np.zeros(0), np.zeros(100), SR, "p.png", AudioError, "shape"),
        (np.zeros((2, 3, 4)), np.zeros(100), SR, "p.png", AudioError, "shape"),
        (np.array(["a"]), np.zeros(100), SR, "p.png", AudioError, "numeric"),
    ],
)
def test_bad_arguments(tmp_path: Path, inp, out, rate, name, error, fragment) -> None:
    with pytest.raises(error, match=fragment):
        plot_render(inp, out, rate, tmp_path / name)
    assert list(tmp_path.iterdir()) == []
