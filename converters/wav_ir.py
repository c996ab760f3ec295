"""Impulse-response wav files (cabinet IRs) as Linear models.

A cab IR is a wav of a few hundred to a few thousand samples: the response of a speaker
and microphone to a click. It is exactly Core's ``Linear`` architecture (format spec
section 3): ``y[t] = sum_k ir[k] x[t - k]``, taps in chronological order (``ir[0]`` = the
wav's first sample), no bias, no prewarm.

Core's Linear (before PR #335) runs one IR on every channel, so it cannot hold a stereo IR
whose channels differ; such a file becomes a small :class:`~namgraph.Graph` instead:
``in (1 ch) -> <stem>_L, <stem>_R -> merge -> out (2 ch)``.

Processing order: read, check, resample, trim, truncate (``max_taps``), normalise. Stereo
channels are processed together so the left/right balance and time alignment survive:
one trim length, one truncation, one normalisation gain for both.
"""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

from namgraph.audio import read_wav
from namgraph.errors import AudioError, LimitError, OptionError, SampleRateMismatchError
from namgraph.limits import MAX_IR_SAMPLES  # one constant: the receptive_field limit is 4x it

if TYPE_CHECKING:
    from namgraph.graph.ir import Graph
    from namgraph.model import Model

__all__ = ["read_ir", "MAX_IR_SAMPLES", "NORMALIZE_MODES"]

NORMALIZE_MODES = ("peak", "energy")
IR_VERSION = "0.5.4"  # a Linear needs only classic keys: loadable by every Core that reads sample_rate and metadata
SOXR_QUALITY = "VHQ"


def read_ir(
    path: str | PathLike[str],
    *,
    sample_rate: float | None = None,
    resample: bool = False,
    trim_db: float | None = None,
    normalize: str | None = None,
    max_taps: int | None = None,
) -> "Model | Graph":
    """Read an IR wav as a Linear model (mono) or a two-model graph (stereo).

    The model has ``receptive_field`` = number of taps, ``bias: false``, the taps exactly as
    read (integer PCM scaled to [-1, 1) as soundfile does: int16 / 32768), the wav's sample
    rate and metadata ``{"name": <file stem>}``. A stereo file whose two channels are
    identical gives the mono model (one channel in, one out; run on a stereo signal it
    filters each channel with the same IR, as any mono model does).

    * ``sample_rate``: the rate the IR is needed at. If the wav's rate differs, this is a
      :class:`SampleRateMismatchError` unless ``resample=True``, which resamples with soxr
      (VHQ) and scales by ``wav_rate / sample_rate``, so the filter's frequency response (not
      its tap sum) is kept. Time alignment is kept too: the IR's sample 0 stays at t = 0, so
      the band-limiting filter's ringing before t = 0 is dropped (a causal IR cannot hold
      it). Measured on synthetic cab IRs (44.1/48/96 kHz both ways): with a few samples of
      silence before the onset, as measured IRs have, the response stays within 0.04 dB up
      to 8 kHz; an IR whose first sample is its onset loses a little top end (within 0.1 dB
      up to ~5 kHz, ~0.3 dB at 8 kHz, up to ~1.5 dB at 16 kHz). The end is not padded: the
      resampled IR has ``round(taps * sample_rate / wav_rate)`` taps.
    * ``trim_db`` (< 0, e.g. -60): drop the trailing tail whose samples all stay below
      ``trim_db`` dB relative to the IR's peak (stereo: both channels, relative to the
      louder one's peak). The start is never trimmed (that would shift the IR in time). At
      least one tap is kept.
    * ``max_taps``: keep only the first ``max_taps`` taps (after resampling and trimming);
      a longer IR is truncated, not refused. Without it any length up to
      :data:`MAX_IR_SAMPLES` is accepted; longer files are refused with a
      :class:`LimitError` (before their audio is read).
    * ``normalize``: ``None`` keeps the file's level. ``"peak"``: scaled so the largest
      ``|tap|`` is 1 (the usual practice of IR loaders). ``"energy"``: scaled so the sum of
      squared taps is 1, i.e. unit gain (0 dB) for white noise. Stereo: one gain for both
      channels, set by the louder channel (largest peak, or largest energy).

    Errors (each names the file): unreadable, not audio, truncated wav, no samples, NaN or
    infinite samples, more than two channels, all-zero (silent) IR: :class:`AudioError`;
    longer than :data:`MAX_IR_SAMPLES`: :class:`LimitError`; bad options: :class:`OptionError`.
    """
    path = Path(path)
    _check_options(sample_rate, resample, trim_db, normalize, max_taps)
    _check_length(path)
    audio, rate = read_wav(path)
    _check_audio(path, audio)
    if audio.shape[0] == 2 and np.array_equal(audio[0], audio[1]):
        audio = audio[:1]
    out_rate: float = rate
    if sample_rate is not None and float(sample_rate) != float(rate):
        if not resample:
            raise SampleRateMismatchError(
                f"the IR is {_hz(rate)} Hz but {_hz(sample_rate)} Hz was asked for; "
                "pass resample=True (command line: --resample) to resample it",
                file=path,
            )
        audio = _resample(path, audio, rate, float(sample_rate))
        out_rate = float(sample_rate)
    if trim_db is not None:
        audio = audio[:, : _trimmed_length(audio, trim_db)]
    if max_taps is not None:
        audio = audio[:, :max_taps]
        if not np.any(audio):
            raise AudioError(f"the first {audio.shape[1]} sample(s) of the IR are all zero (silent); raise max_taps", file=path)
    if normalize is not None:
        audio = audio * _normalization_gain(audio, normalize)
    stem = path.stem
    if audio.shape[0] == 1:
        return _linear_model(audio[0], out_rate, stem, str(path))
    return _stereo_graph(audio, out_rate, stem, str(path))


# ----------------------------------------------------------------------------- checks


def _check_options(
    sample_rate: float | None, resample: bool, trim_db: float | None, normalize: str | None, max_taps: int | None
) -> None:
    if sample_rate is not None and not (_is_number(sample_rate) and math.isfinite(sample_rate) and sample_rate > 0):
        raise OptionError(f"sample_rate must be a positive number of Hz, got {sample_rate!r}")
    if not isinstance(resample, bool | np.bool_):
        raise OptionError(f"resample must be True or False, got {resample!r}")
    if resample and sample_rate is None:
        raise OptionError("resample=True needs sample_rate (the rate to resample to)")
    if trim_db is not None and not (_is_number(trim_db) and math.isfinite(trim_db) and trim_db < 0):
        raise OptionError(f"trim_db must be a negative number of dB relative to the peak (e.g. -60), got {trim_db!r}")
    if normalize is not None and normalize not in NORMALIZE_MODES:
        raise OptionError(f"normalize must be None, 'peak' or 'energy', got {normalize!r}")
    if max_taps is not None and (
        isinstance(max_taps, bool) or not isinstance(max_taps, int | np.integer) or not 1 <= max_taps <= MAX_IR_SAMPLES
    ):
        raise OptionError(f"max_taps must be a whole number from 1 to {MAX_IR_SAMPLES}, got {max_taps!r}")


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)


def _check_length(path: Path) -> None:
    """Refuse a huge file from its header, before reading its audio."""
    try:
        frames = sf.info(str(path)).frames
    except Exception:  # unreadable: read_wav reports it with the reason
        return
    if frames > MAX_IR_SAMPLES:
        raise LimitError(
            f"the IR has {frames} samples; at most {MAX_IR_SAMPLES} are accepted "
            "(an IR this long is not a cabinet response; cut it to length first)",
            file=path,
        )


def _check_audio(path: Path, audio: np.ndarray) -> None:
    channels, frames = audio.shape
    if channels > 2:
        raise AudioError(f"the IR has {channels} channels; an IR must be mono or stereo", file=path)
    if frames == 0:
        raise AudioError("the IR file contains no samples", file=path)
    bad = np.argwhere(~np.isfinite(audio))
    if bad.size:
        c, t = (int(v) for v in bad[0])
        raise AudioError(
            f"the IR has {len(bad)} NaN or infinite sample(s) (first: channel {c}, sample {t}); it cannot be used",
            file=path,
        )
    if not np.any(audio):
        raise AudioError(f"the IR is silent: all {frames} samples are zero", file=path)


# ----------------------------------------------------------------------------- processing


def _resample(path: Path, audio: np.ndarray, rate: float, target: float) -> np.ndarray:
    """soxr VHQ, time-aligned, scaled by ``rate / target`` to keep the frequency response."""
    import soxr

    expected = round(audio.shape[1] * target / rate)
    if expected > MAX_IR_SAMPLES:
        raise LimitError(
            f"resampled to {_hz(target)} Hz the IR would have {expected} samples; at most {MAX_IR_SAMPLES} are accepted",
            file=path,
        )
    out = soxr.resample(audio.T.astype(np.float64), rate, target, quality=SOXR_QUALITY)
    out = np.asarray(out, np.float64).reshape(-1, audio.shape[0]).T * (rate / target)
    if out.shape[1] == 0:
        raise AudioError(f"resampled to {_hz(target)} Hz the IR has no samples left", file=path)
    return out.astype(np.float32)


def _trimmed_length(audio: np.ndarray, trim_db: float) -> int:
    """Taps up to the last sample (any channel) at or above ``trim_db`` relative to the peak."""
    magnitude = np.max(np.abs(audio.astype(np.float64)), axis=0)
    threshold = magnitude.max() * 10.0 ** (trim_db / 20.0)
    loud = np.flatnonzero(magnitude >= threshold)
    return int(loud[-1]) + 1 if loud.size else 1


def _normalization_gain(audio: np.ndarray, mode: str) -> float:
    x = audio.astype(np.float64)
    if mode == "peak":
        return 1.0 / float(np.max(np.abs(x)))
    return 1.0 / math.sqrt(float(np.max(np.sum(x * x, axis=1))))


# ----------------------------------------------------------------------------- results


def _linear_model(taps: np.ndarray, rate: float, stem: str, source: str) -> "Model":
    """A validated Linear model, built through the same document path as any ``.nam`` file."""
    from namgraph.format.document import parse_document
    from namgraph.loading import model_from_document

    taps = np.asarray(taps, np.float32)
    document = {
        "version": IR_VERSION,
        "architecture": "Linear",
        "config": {"receptive_field": int(taps.size), "bias": False},
        "weights": taps.tolist(),
        "sample_rate": int(rate) if float(rate).is_integer() else float(rate),
        "metadata": {"name": stem},
    }
    return model_from_document(parse_document(document), source=source)


def _stereo_graph(audio: np.ndarray, rate: float, stem: str, source: str) -> "Graph":
    """``in (1 ch) -> <stem>_L, <stem>_R -> merge -> out (2 ch)``: left is merge port 0."""
    from namgraph.graph.ir import Graph

    graph = Graph(metadata={"name": stem})
    graph.add("in", "input", channels=1)
    merge = graph.add("merge", "merge")
    for side, taps in zip("LR", audio):
        node = graph.add(graph._unique_id(f"{stem}_{side}"), "model", model=_linear_model(taps, rate, f"{stem}_{side}", source))
        graph.connect("in", node, merge)
    graph.add("out", "output", channels=2)
    graph.connect(merge, "out")
    return graph


def _hz(rate: float) -> str:
    return f"{int(rate)}" if float(rate).is_integer() else f"{rate:g}"
