"""Make the shipped demo rig: a synthesized DI, a fitted WaveNet drive, a synthetic cab IR.

    python examples/make_demo_rig.py [--out DIR] [--steps N] [--quick]

Everything here is made by this script from fixed seeds (no file is taken from
elsewhere), so rerunning it reproduces ``examples/rig/`` (CI does not retrain; the
committed files are what ships). ``--quick`` runs a few training steps on short signals as
a smoke test and writes to a temporary folder unless ``--out`` is given.

Outputs (in ``--out``):
  di.wav         ~3 s plucked-string guitar DI (Karplus-Strong), peak -6 dBFS, 24-bit.
  drive.nam      a small classic WaveNet fitted (JAX, Adam) to ``drive_target``.
  cab.nam        a 2048-tap Linear model: a synthetic 4x12-style cabinet response.
  full_rig.nam   canonical Sequential (format spec 8.1): drive then cab.

The DSP below is plain NumPy. Recursive filters are applied as their impulse responses,
truncated where the tail is below 1e-9, so nothing needs SciPy.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np

SAMPLE_RATE = 48000
VERSION = "0.7.0"
DEFAULT_OUT = Path(__file__).resolve().parent / "rig"
# Files carry this date so reruns are byte-identical; SOURCE_DATE_EPOCH overrides it.
FIXED_DATE = datetime(2026, 9, 1, 12, 0, 0, tzinfo=timezone.utc)

# ----------------------------------------------------------------------------- filters


def one_pole_lowpass_ir(cutoff_hz: float, sr: int = SAMPLE_RATE, floor: float = 1e-9) -> np.ndarray:
    """Impulse response of ``y[n] = (1 - a) x[n] + a y[n-1]``, ``a = exp(-2 pi fc / sr)``."""
    a = math.exp(-2.0 * math.pi * cutoff_hz / sr)
    n = int(math.ceil(math.log(floor) / math.log(a))) + 1
    return (1.0 - a) * a ** np.arange(n)


def rbj_biquad(kind: str, f0: float, q: float, gain_db: float = 0.0, sr: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """Audio-EQ-cookbook (R. Bristow-Johnson) biquad coefficients ``(b, a)`` with ``a[0] = 1``."""
    w0 = 2.0 * math.pi * f0 / sr
    cw, sw = math.cos(w0), math.sin(w0)
    alpha = sw / (2.0 * q)
    if kind == "lowpass":
        b = [(1 - cw) / 2, 1 - cw, (1 - cw) / 2]
        a = [1 + alpha, -2 * cw, 1 - alpha]
    elif kind == "highpass":
        b = [(1 + cw) / 2, -(1 + cw), (1 + cw) / 2]
        a = [1 + alpha, -2 * cw, 1 - alpha]
    elif kind == "peaking":
        amp = 10.0 ** (gain_db / 40.0)
        b = [1 + alpha * amp, -2 * cw, 1 - alpha * amp]
        a = [1 + alpha / amp, -2 * cw, 1 - alpha / amp]
    else:
        raise ValueError(f"unknown biquad kind {kind!r}")
    b_arr, a_arr = np.asarray(b) / a[0], np.asarray(a) / a[0]
    return b_arr, a_arr


def biquad_ir(b: np.ndarray, a: np.ndarray, n: int) -> np.ndarray:
    """First ``n`` samples of a biquad's impulse response (direct form I recursion)."""
    h = np.zeros(n)
    x1 = x2 = y1 = y2 = 0.0
    for i in range(n):
        x0 = 1.0 if i == 0 else 0.0
        y0 = b[0] * x0 + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
        h[i] = y0
        x2, x1, y2, y1 = x1, x0, y1, y0
    return h


def fir(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Causal FIR filter, same length as ``x`` (FFT convolution)."""
    n = len(x) + len(h) - 1
    size = 1 << (n - 1).bit_length()
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)
    return y[: len(x)]


# ----------------------------------------------------------------------------- the drive target

# A treble-boosted, asymmetric tanh overdrive with a post low-pass, in the manner of a
# "screamer"-style pedal. Every stage has a short memory (< 250 samples to 1e-9), well
# inside the WaveNet's receptive field, so the network can represent it closely.
TARGET = {
    "boost_cutoff_hz": 720.0,  # treble boost: u = x + boost * (x - lowpass(x))
    "boost": 1.5,
    "gain": 6.0,  # v = tanh(gain * u + bias) - tanh(bias)
    "bias": 0.3,
    "post_lowpass_hz": 4500.0,  # 2nd-order Butterworth low-pass after the clipper
    "post_lowpass_q": 1.0 / math.sqrt(2.0),
    "level": 0.5,
}


def drive_target(x: np.ndarray) -> np.ndarray:
    """The effect the drive is fitted to (float64 in, float64 out)."""
    t = TARGET
    x = np.asarray(x, np.float64)
    u = x + t["boost"] * (x - fir(x, one_pole_lowpass_ir(t["boost_cutoff_hz"])))
    v = np.tanh(t["gain"] * u + t["bias"]) - math.tanh(t["bias"])
    b, a = rbj_biquad("lowpass", t["post_lowpass_hz"], t["post_lowpass_q"])
    return t["level"] * fir(v, biquad_ir(b, a, 256))


# ----------------------------------------------------------------------------- the cab

# A closed-back 4x12-like response: 4th-order high-pass at 80 Hz, a low resonance, a
# low-mid scoop, presence peaks, 4th-order low-pass at 5 kHz. Normalised to 0 dB peak.
CAB_TAPS = 2048
CAB_SECTIONS: tuple[tuple[str, float, float, float], ...] = (
    ("highpass", 80.0, 0.54, 0.0),
    ("highpass", 80.0, 1.31, 0.0),
    ("peaking", 115.0, 2.0, 5.0),
    ("peaking", 450.0, 1.0, -4.0),
    ("peaking", 2300.0, 1.6, 4.0),
    ("peaking", 3700.0, 3.0, 3.0),
    ("lowpass", 5000.0, 0.54, 0.0),
    ("lowpass", 5000.0, 1.31, 0.0),
)
CAB_FADE = 512  # half-Hann fade-out over the last taps


def cab_ir() -> np.ndarray:
    """The cab's 2048 taps in Core's order (``ir[0]`` multiplies the current sample)."""
    long = 4 * CAB_TAPS
    h = np.zeros(long)
    h[0] = 1.0
    for kind, f0, q, gain in CAB_SECTIONS:
        h = fir(h, biquad_ir(*rbj_biquad(kind, f0, q, gain), long))
    h = h[:CAB_TAPS].copy()
    h[-CAB_FADE:] *= 0.5 * (1.0 + np.cos(np.linspace(0.0, math.pi, CAB_FADE)))
    peak = np.abs(np.fft.rfft(h, 1 << 16)).max()
    return (h / peak).astype(np.float32)


# ----------------------------------------------------------------------------- guitar synthesis


def pluck(freq: float, duration: float, rng: np.random.Generator, *, pick: float = 0.15, brightness_hz: float = 3000.0,
          t60: float = 2.5, release: float = 0.03, sr: int = SAMPLE_RATE) -> np.ndarray:
    """One Karplus-Strong string note.

    The loop delay is N samples plus the half sample of the two-point average, so the
    pitch is ``sr / (N + 0.5)`` (integer N: within a few cents for guitar notes). The
    excitation is one period of noise, low-passed (pick brightness) and combed at the pick
    position; the loop decays to -60 dB in ``t60`` seconds; a short release mutes the note.
    """
    period = max(2, int(round(sr / freq - 0.5)))
    n = int(duration * sr)
    exc = rng.uniform(-1.0, 1.0, period)
    exc = fir(np.concatenate([exc, exc]), one_pole_lowpass_ir(brightness_hz))[period:]
    exc = exc - np.roll(exc, max(1, int(round(pick * period))))
    exc -= exc.mean()
    rho = 10.0 ** (-3.0 / (freq * t60))
    blocks = -(-n // period) + 1
    z = np.zeros(1 + blocks * period)  # z[0] is the y[-1] = 0 pad
    z[1 : 1 + period] = exc
    for k in range(1, blocks):  # a whole period at a time: each sample needs only the previous period
        m = 1 + k * period
        z[m : m + period] = rho * 0.5 * (z[m - period : m] + z[m - period - 1 : m - 1])
    y = z[1 : 1 + n]
    fade = min(int(release * sr), n)
    y[n - fade :] *= np.linspace(1.0, 0.0, fade)
    return y


def note_hz(name: str) -> float:
    """``"E2"`` -> 82.41 Hz (equal temperament, A4 = 440 Hz)."""
    steps = {"C": -9, "D": -7, "E": -5, "F": -4, "G": -2, "A": 0, "B": 2}
    semis = steps[name[0]] + (1 if "#" in name else 0) + 12 * (int(name[-1]) - 4)
    return 440.0 * 2.0 ** (semis / 12.0)


def body(x: np.ndarray) -> np.ndarray:
    """Pickup and cable: a resonant 2nd-order low-pass at 3 kHz (Q 1), as a passive pickup loaded by a cable."""
    b, a = rbj_biquad("lowpass", 3000.0, 1.0)
    return fir(x, biquad_ir(b, a, 512))


def strum(events: list[tuple[float, list[str], float, float]], total: float, rng: np.random.Generator,
          sr: int = SAMPLE_RATE, spread: float = 0.012) -> np.ndarray:
    """Mix ``(start s, notes, duration s, velocity)`` events; chord notes are strummed ``spread`` s apart."""
    out = np.zeros(int(total * sr))
    for start, notes, dur, vel in events:
        for i, name in enumerate(notes):
            f = note_hz(name)
            at = int((start + i * spread) * sr)
            length = min(dur - i * spread, total - start - i * spread)
            if length <= 0.01:
                continue
            tone = pluck(f, length, rng, pick=rng.uniform(0.1, 0.25), brightness_hz=rng.uniform(800, 2000),
                         t60=float(np.clip(300.0 / f, 1.0, 4.0)))
            out[at : at + len(tone)] += vel * rng.uniform(0.8, 1.0) * tone / max(1.0, math.sqrt(len(notes)))
    return body(out)


def di_phrase() -> np.ndarray:
    """The demo DI: a short riff then two strummed chords and a lick, ~3 s, peak -6 dBFS."""
    rng = np.random.default_rng(2026)
    events = [
        (0.00, ["E2"], 0.30, 1.0),
        (0.25, ["E2"], 0.25, 0.8),
        (0.50, ["G2"], 0.25, 0.9),
        (0.75, ["A2"], 0.30, 1.0),
        (1.05, ["E2", "B2", "E3"], 0.80, 1.0),
        (1.85, ["G2", "D3", "G3", "B3"], 0.70, 0.9),
        (2.50, ["B3"], 0.18, 0.8),
        (2.65, ["D4"], 0.35, 0.9),
    ]
    x = strum(events, 3.0, rng)
    return (x / np.abs(x).max() * 10.0 ** (-6.0 / 20.0)).astype(np.float32)


def training_signal(seed: int, seconds: float) -> np.ndarray:
    """Fitting data (never the DI): noise bursts at several levels, sweeps, plucks, chords.

    Levels span -40 to -1 dBFS peak so the drive sees clean, edge-of-breakup and
    saturated inputs; the DI peaks at -6 dBFS.
    """
    rng = np.random.default_rng(seed)
    sr = SAMPLE_RATE
    parts: list[np.ndarray] = []
    total = 0.0
    names = [f"{n}{o}" for o in (2, 3, 4) for n in ("C", "D", "E", "F", "G", "A", "B")] + ["C5", "E5", "G5"]
    kind = 0
    while total < seconds:
        level = 10.0 ** (rng.uniform(-40.0, -1.0) / 20.0)
        dur = float(rng.uniform(0.4, 1.2))
        n = int(dur * sr)
        if kind % 4 == 0:  # noise burst with a random colour
            seg = rng.standard_normal(n)
            seg = fir(seg, one_pole_lowpass_ir(float(rng.uniform(500.0, 12000.0))))
            seg *= np.hanning(n) ** 0.25
        elif kind % 4 == 1:  # exponential sine sweep
            f0, f1 = float(rng.uniform(30.0, 200.0)), float(rng.uniform(3000.0, 16000.0))
            t = np.arange(n) / sr
            k = math.log(f1 / f0)
            seg = np.sin(2.0 * math.pi * f0 * dur / k * (np.exp(t / dur * k) - 1.0))
            if rng.uniform() < 0.5:
                seg = seg[::-1].copy()
            seg *= np.hanning(n) ** 0.1
        else:  # single notes or chords
            count = 1 if kind % 4 == 2 else int(rng.integers(2, 5))
            notes = list(rng.choice(names, size=count, replace=False))
            seg = strum([(0.0, notes, dur, 1.0)], dur, rng)
        seg = seg / max(np.abs(seg).max(), 1e-12) * level
        parts.append(seg)
        parts.append(np.zeros(int(rng.uniform(0.0, 0.05) * sr)))
        total += dur
        kind += 1
    return np.concatenate(parts).astype(np.float32)


# ----------------------------------------------------------------------------- fitting the drive

# A classic (A1-style) two-array WaveNet, much smaller than the trainer's presets:
# 8 -> 4 channels, kernel 3, dilations 1..128 in both arrays; receptive field 1021.
DILATIONS = [1, 2, 4, 8, 16, 32, 64, 128]
HEAD_SCALE = 0.02  # fixed, as in the NAM trainer (it is a config value, not trained)


def drive_config(dilations: list[int]) -> dict[str, Any]:
    """The drive's WaveNet config, in the classic (A1) keys only."""
    return {
        "layers": [
            {"input_size": 1, "condition_size": 1, "head_size": 4, "channels": 8, "kernel_size": 3,
             "dilations": list(dilations), "activation": "Tanh", "gated": False, "head_bias": False},
            {"input_size": 8, "condition_size": 1, "head_size": 1, "channels": 4, "kernel_size": 3,
             "dilations": list(dilations), "activation": "Tanh", "gated": False, "head_bias": True},
        ],
        "head": None,
        "head_scale": HEAD_SCALE,
    }


FIT: dict[str, Any] = {
    "seed": 7,
    "dilations": DILATIONS,
    "train_seconds": 24.0,
    "batch": 8,
    "segment": 2048,  # output samples per segment (plus receptive_field - 1 of context)
    "steps": 800,
    "lr": 4e-3,
    "lr_final": 1e-4,
}
# Smoke test: a few steps on short signals with one layer per array (compiles in seconds).
QUICK: dict[str, Any] = {"dilations": [1], "train_seconds": 1.0, "steps": 3, "segment": 512, "batch": 2}


def drive_architecture(config: dict[str, Any]) -> Any:
    """The drive's namgraph architecture, built through the project's config schema."""
    from namgraph.format.configs import WaveNetConfig
    from namgraph.models.registry import architecture_class

    return architecture_class("WaveNet").build(WaveNetConfig.model_validate(config), float(SAMPLE_RATE), ())


def init_params(tensors: list, seed: int) -> dict[str, np.ndarray]:
    """PyTorch-style init: weights ~ U(+-1/sqrt(fan_in)), biases 0, ``head_scale`` from the config."""
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {}
    for t in tensors:
        if t.name == "head_scale":
            params[t.name] = np.full(t.shape, HEAD_SCALE, np.float32)
        elif t.name.endswith(".bias"):
            params[t.name] = np.zeros(t.shape, np.float32)
        else:
            bound = 1.0 / math.sqrt(int(np.prod(t.shape[1:])))
            params[t.name] = rng.uniform(-bound, bound, t.shape).astype(np.float32)
    return params


def fit_drive(settings: dict[str, Any], log: Callable[[str], None] = print) -> tuple[Any, dict[str, np.ndarray], dict[str, float]]:
    """Fit the drive's weights to ``drive_target`` by Adam on the ESR of random segments.

    The loss runs the architecture's own ``step`` from zero history on each segment with
    ``receptive_field - 1`` samples of context and scores only the outputs after it (a
    FIR model's output there depends on the input alone), so training uses exactly the
    forward pass that renders the shipped file. ``head_scale`` stays at its config value,
    as in the NAM trainer. Returns the architecture, the params and the held-out ESRs.
    """
    import jax
    import jax.numpy as jnp

    from namgraph.engine import render_offline_jit
    from namgraph.training import adam_init, adam_update, esr

    arch = drive_architecture(drive_config(settings["dilations"]))
    rf = arch.receptive_field()
    s = settings
    x_train = training_signal(s["seed"], s["train_seconds"])
    y_train = drive_target(x_train).astype(np.float32)
    x_train = np.concatenate([np.zeros(rf - 1, np.float32), x_train])  # context for the first segment

    params = init_params(arch.tensors(), s["seed"])
    fixed = {"head_scale": jnp.asarray(params.pop("head_scale"))}
    trainable = {k: jnp.asarray(v) for k, v in params.items()}

    def predict(p: dict, segments: jax.Array) -> jax.Array:
        full = {**p, **fixed}
        prepared = arch.prepare(full)
        state = arch.initial_state(full)
        return jax.vmap(lambda seg: arch.step(prepared, state, seg[None, :])[1][0, rf - 1 :])(segments)

    def loss(p: dict, segments: jax.Array, targets: jax.Array) -> jax.Array:
        return esr(predict(p, segments), targets)

    @jax.jit
    def update(p: dict, opt, segments: jax.Array, targets: jax.Array, lr: jax.Array):
        value, grads = jax.value_and_grad(loss)(p, segments, targets)
        p, opt = adam_update(p, grads, opt, lr)
        return p, opt, value

    rng = np.random.default_rng(s["seed"] + 1)
    seg, batch, steps = s["segment"], s["batch"], s["steps"]
    opt = adam_init(trainable)
    offsets = np.arange(seg + rf - 1)
    started = time.perf_counter()
    for i in range(steps):
        starts = rng.integers(0, len(y_train) - seg, batch)
        segments = x_train[starts[:, None] + offsets]
        targets = y_train[starts[:, None] + np.arange(seg)]
        frac = i / max(steps - 1, 1)  # cosine decay from lr to lr_final
        lr = s["lr_final"] + 0.5 * (s["lr"] - s["lr_final"]) * (1.0 + math.cos(math.pi * frac))
        trainable, opt, value = update(trainable, opt, jnp.asarray(segments), jnp.asarray(targets), jnp.float32(lr))
        if i % 100 == 0 or i == steps - 1:
            log(f"  step {i:5d}/{steps}  batch ESR {float(value):.4f}  lr {lr:.2e}  {time.perf_counter() - started:6.1f} s")

    params = {k: np.asarray(v, np.float32) for k, v in {**trainable, **fixed}.items()}
    di = di_phrase()
    x_held = training_signal(s["seed"] + 1000, len(di) / SAMPLE_RATE)[: len(di)]  # same length: one compile
    scores = {}
    for name, x in (("heldout", x_held), ("di", di)):
        y = np.asarray(render_offline_jit(arch, params, jnp.asarray(x)[None, :]))[0]
        scores[name] = float(esr(y, drive_target(x).astype(np.float32)))
    scores["fit_seconds"] = time.perf_counter() - started
    return arch, params, scores


# ----------------------------------------------------------------------------- documents


def file_date() -> dict[str, int]:
    """The fixed export date (``SOURCE_DATE_EPOCH`` overrides it), in the trainer's format."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else FIXED_DATE
    return {"year": when.year, "month": when.month, "day": when.day, "hour": when.hour, "minute": when.minute, "second": when.second}


def loudness_db(y: np.ndarray) -> float:
    """The NAM convention ``20 log10(RMS(y))`` of a model's output; our standard input is ``di.wav``."""
    return float(20.0 * np.log10(np.sqrt(np.mean(np.asarray(y, np.float64) ** 2))))


def model_document(architecture: str, config: dict[str, Any], weights: np.ndarray, metadata: dict[str, Any]) -> dict[str, Any]:
    """A complete model object; weights as the float32 values (each written so it reads back identical)."""
    return {
        "version": VERSION,
        "architecture": architecture,
        "config": config,
        "weights": [float(w) for w in np.asarray(weights, np.float32)],
        "sample_rate": SAMPLE_RATE,
        "metadata": metadata,
    }


def sequential_document(children: list[dict[str, Any]], metadata: dict[str, Any]) -> dict[str, Any]:
    """Canonical Sequential (format spec 8.1): complete children, empty wrapper weights.

    The wrapper's calibration levels come from the chain's ends (input level of the first
    child, output level of the last) when they have them. A child's ``loudness`` is never
    copied: it describes that child alone; the caller measures the chain's own.
    """
    rates = {c.get("sample_rate") for c in children}
    if len(rates) != 1:
        raise ValueError(f"children disagree on sample_rate: {sorted(map(str, rates))}")
    meta = dict(metadata)
    first, last = children[0].get("metadata") or {}, children[-1].get("metadata") or {}
    if first.get("input_level_dbu") is not None:
        meta["input_level_dbu"] = first["input_level_dbu"]
    if last.get("output_level_dbu") is not None:
        meta["output_level_dbu"] = last["output_level_dbu"]
    return {
        "version": VERSION,
        "architecture": "Sequential",
        "config": {"models": children},
        "weights": [],
        "sample_rate": rates.pop(),
        "metadata": meta,
    }


def write_document(doc: dict[str, Any], path: Path) -> None:
    """Write with the project's canonical writer when present, else strict plain JSON."""
    try:
        from namgraph.format.document import write_json
    except ImportError:
        write_json = None
    if write_json is not None:
        write_json(doc, path)
        return
    path.write_text(json.dumps(doc, allow_nan=False, separators=(",", ":")) + "\n", encoding="utf-8")


def write_di(x: np.ndarray, path: Path) -> None:
    import soundfile as sf

    sf.write(str(path), x, SAMPLE_RATE, subtype="PCM_24", format="WAV")


# ----------------------------------------------------------------------------- main


def make_rig(out: Path, settings: dict[str, Any], log: Callable[[str], None] = print) -> dict[str, Any]:
    """Synthesize, fit and write the four files into ``out``; return a summary."""
    import jax.numpy as jnp

    from namgraph.engine import render_offline_jit
    from namgraph.format.configs import LinearConfig
    from namgraph.models.linear import Linear

    out.mkdir(parents=True, exist_ok=True)
    date = file_date()
    di = di_phrase()
    write_di(di, out / "di.wav")

    log(f"fitting the drive ({settings['steps']} steps)...")
    drive_arch, drive_params, scores = fit_drive(settings, log)
    log(f"  held-out ESR {scores['heldout']:.4f}, DI ESR {scores['di']:.4f}, {scores['fit_seconds']:.0f} s")

    ir = cab_ir()
    cab_config = {"receptive_field": CAB_TAPS, "bias": False}
    cab_arch = Linear.build(LinearConfig.model_validate(cab_config), float(SAMPLE_RATE), ())

    x = jnp.asarray(di)[None, :]
    driven = render_offline_jit(drive_arch, drive_params, x)
    y_drive = np.asarray(driven)[0]
    y_cab = np.asarray(render_offline_jit(cab_arch, {"ir": jnp.asarray(ir)}, x))[0]
    y_rig = np.asarray(render_offline_jit(cab_arch, {"ir": jnp.asarray(ir)}, driven))[0]

    from namgraph.format.layout import pack

    # head_scale: Core reads the last weight; the config carries the same float32 value.
    config = dict(drive_config(settings["dilations"]), head_scale=float(str(np.float32(drive_params["head_scale"][0]))))
    drive_doc = model_document(
        "WaveNet", config, pack(drive_arch.tensors(), drive_params),
        {"name": "namgraph demo drive", "modeled_by": "namgraph", "gear_type": "pedal", "tone_type": "overdrive",
         "date": date, "loudness": loudness_db(y_drive)},
    )
    cab_doc = model_document(
        "Linear", cab_config, ir,
        {"name": "namgraph demo cab (synthetic 4x12)", "modeled_by": "namgraph", "gear_type": None, "tone_type": None,
         "date": date, "loudness": loudness_db(y_cab)},
    )
    rig_doc = sequential_document(
        [drive_doc, cab_doc],
        {"name": "namgraph demo rig: drive into cab", "modeled_by": "namgraph", "gear_type": None,
         "tone_type": "overdrive", "date": date, "loudness": loudness_db(y_rig)},
    )
    for name, doc in (("drive.nam", drive_doc), ("cab.nam", cab_doc), ("full_rig.nam", rig_doc)):
        write_document(doc, out / name)
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.name in ("di.wav", "drive.nam", "cab.nam", "full_rig.nam")}
    return {"out": str(out), "esr": scores, "sizes": sizes, "receptive_field": drive_arch.receptive_field(),
            "drive_weights": len(drive_doc["weights"])}


def output_folder(out: Path | None, quick: bool) -> Path:
    """Where to write: as asked; else the shipped folder, or a new temporary one for ``--quick``
    (a smoke test never overwrites the shipped files unless told to)."""
    if out is not None:
        return out
    return Path(tempfile.mkdtemp(prefix="namgraph-demo-rig-")) if quick else DEFAULT_OUT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None,
                        help=f"output folder (default: {DEFAULT_OUT}; with --quick a new temporary folder)")
    parser.add_argument("--steps", type=int, default=None, help=f"training steps (default {FIT['steps']})")
    parser.add_argument("--quick", action="store_true", help="smoke test: tiny signals and a few steps")
    args = parser.parse_args(argv)
    settings = dict(FIT, **QUICK) if args.quick else dict(FIT)
    if args.steps is not None:
        settings["steps"] = args.steps
    summary = make_rig(output_folder(args.out, args.quick), settings)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
