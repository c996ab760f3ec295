"""Plots of a render: waveform and spectrum of the input and the output, per channel.

``plot_render(di, out, 48000, "render.png")`` writes one figure: a row per channel, the
waveforms overlaid on the left and their Welch-averaged spectra on the right (dB, log
frequency). Long signals are drawn as their min/max envelope per pixel column, so a
10-minute file plots as fast, and as small, as a short one.
"""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AudioError, OptionError

SEGMENT = 8192  # Welch segment length (samples), shortened for short signals
FLOOR_DB = -200.0  # what silence reads as
ENVELOPE_BINS = 2000  # waveform columns above which a signal is drawn as its envelope
IN_COLOUR, OUT_COLOUR = "#8a8a8a", "#1565c0"
MAX_ROWS = 16


def welch_spectrum(x: Any, sample_rate: float, segment: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Welch-averaged magnitude spectrum of a 1-D signal: ``(frequencies in Hz, level in dB)``.

    Hann segments of ``segment`` samples (default: ``SEGMENT``, or the largest power of two
    that fits a shorter signal) overlapping by half; the level is the RMS over segments of
    each bin's magnitude, scaled so that a sine of amplitude A centred on a bin reads
    ``20·log10(A)`` (0 dB = a full-scale sine). Silence reads ``FLOOR_DB``.
    """
    x = np.asarray(x, np.float64)
    if x.ndim != 1 or x.size == 0:
        raise AudioError(f"a spectrum needs a non-empty 1-D signal, got shape {x.shape}")
    n = segment or (SEGMENT if x.size >= SEGMENT else 1 << (x.size.bit_length() - 1))
    n = min(n, x.size)
    hop = max(n // 2, 1)
    window = np.hanning(n) if n > 2 else np.ones(n)
    starts = range(0, x.size - n + 1, hop)
    frames = np.stack([x[s : s + n] * window for s in starts])
    power = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
    scale = np.full(power.shape, 2.0 / window.sum())
    scale[0] = 1.0 / window.sum()
    if n % 2 == 0:
        scale[-1] = 1.0 / window.sum()  # the Nyquist bin has no mirror image
    amplitude = np.sqrt(power) * scale
    with np.errstate(divide="ignore"):
        db = np.maximum(20.0 * np.log10(amplitude), FLOOR_DB)
    return np.fft.rfftfreq(n, 1.0 / sample_rate), db


def envelope(x: np.ndarray, bins: int = ENVELOPE_BINS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(first sample index of each bin, min, max)`` over ``bins`` equal runs of ``x``."""
    edges = np.linspace(0, x.size, bins + 1).astype(np.int64)
    lo = np.minimum.reduceat(x, edges[:-1])
    hi = np.maximum.reduceat(x, edges[:-1])
    return edges[:-1], lo, hi


def plot_render(input_audio: Any, output_audio: Any, sample_rate: float, path: str | PathLike[str]) -> Path:
    """Write a ``.png`` or ``.svg`` comparing a render's input and output, atomically; returns the path.

    Audio is 1-D (mono) or ``(channels, frames)``. A mono input feeding a multi-channel
    output is drawn under every output channel.
    """
    from .drawing import FIGURE_RC, new_figure, picture_format, save_figure

    fmt = picture_format(path)
    x, y = _channels(input_audio, "input"), _channels(output_audio, "output")
    rate = float(sample_rate) if isinstance(sample_rate, int | float | np.integer | np.floating) else math.nan
    if not (math.isfinite(rate) and rate > 0):
        raise OptionError(f"sample_rate must be a positive number of Hz, got {sample_rate!r}")
    rows = max(x.shape[0], y.shape[0])
    if rows > MAX_ROWS:
        raise OptionError(f"plots show at most {MAX_ROWS} channels, got {rows}")
    import matplotlib

    with matplotlib.rc_context(FIGURE_RC):
        fig = new_figure()
        fig.set_size_inches(11.0, 0.5 + 2.1 * rows)
        axes = fig.subplots(rows, 2, squeeze=False, gridspec_kw={"width_ratios": (3, 2)})
        for row in range(rows):
            pair = [(label, sig[c], colour) for label, sig, colour in (("in", x, IN_COLOUR), ("out", y, OUT_COLOUR))
                    if (c := _source_channel(row, sig.shape[0])) is not None]
            _waveform(axes[row][0], pair, rate, row, rows)
            _spectrum(axes[row][1], pair, rate, row, rows)
        axes[0][0].legend(loc="upper right", fontsize=8, frameon=False)
        fig.tight_layout()
        return save_figure(fig, path, fmt)


def _channels(audio: Any, what: str) -> np.ndarray:
    a = np.asarray(audio)
    if a.dtype.kind not in "fiu":
        raise AudioError(f"the {what} audio must be numeric samples, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise AudioError(f"the {what} audio must be 1-D or (channels, frames) with samples in it, got shape {np.shape(audio)}")
    if not np.isfinite(a).all():
        raise AudioError(f"the {what} audio has non-finite samples (NaN or infinity); nothing to plot")
    return a


def _source_channel(row: int, channels: int) -> int | None:
    if row < channels:
        return row
    return 0 if channels == 1 else None


def _waveform(ax: Any, signals: list[tuple[str, np.ndarray, str]], rate: float, row: int, rows: int) -> None:
    peak = 0.0
    for order, (label, sig, colour) in enumerate(signals):
        peak = max(peak, float(np.max(np.abs(sig))))
        z = 3 - order  # the input on top: it is usually the quieter one
        if sig.size > 2 * ENVELOPE_BINS:
            start, lo, hi = envelope(sig)
            ax.fill_between(start / rate, lo, hi, color=colour, alpha=0.6, linewidth=0, label=label, step="post", zorder=z)
        else:
            ax.plot(np.arange(sig.size) / rate, sig, color=colour, alpha=0.85, linewidth=0.8, label=label, zorder=z)
    if peak > 1.0:  # show full scale where the output goes over it
        for level in (-1.0, 1.0):
            ax.axhline(level, color="#c62828", linewidth=0.8, linestyle="--")
    ax.set_title(f"ch {row} waveform", fontsize=9, loc="left")
    ax.set_ylabel("amplitude", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.margins(x=0)
    if row == rows - 1:
        ax.set_xlabel("time (s)", fontsize=8)


def _spectrum(ax: Any, signals: list[tuple[str, np.ndarray, str]], rate: float, row: int, rows: int) -> None:
    top = FLOOR_DB
    low = rate / 2
    for label, sig, colour in signals:
        freqs, db = welch_spectrum(sig, rate)
        ax.semilogx(freqs[1:], db[1:], color=colour, linewidth=0.9, label=label)
        top = max(top, float(db[1:].max(initial=FLOOR_DB)))
        low = min(low, float(freqs[1]) if freqs.size > 1 else low)
    ax.set_xlim(max(low, 10.0) if low < rate / 2 else rate / 4, rate / 2)
    ax.set_ylim(top - 100.0, top + 6.0)
    ax.grid(True, which="both", linewidth=0.3, alpha=0.5)
    ax.set_title(f"ch {row} spectrum (Welch)", fontsize=9, loc="left")
    ax.set_ylabel("dB (0 = full-scale sine)", fontsize=8)
    ax.tick_params(labelsize=7)
    if row == rows - 1:
        ax.set_xlabel("frequency (Hz)", fontsize=8)
