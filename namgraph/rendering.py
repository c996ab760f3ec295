"""``namgraph.render``: numpy audio in, numpy audio out, as Core renders it after ``Reset``.

Layouts follow pedalboard: a 1-D array is one mono channel, 2-D is ``(channels, frames)``,
3-D is a batch ``(batch, channels, frames)``. A mono model given several channels runs on
each one independently (dual mono). Batch items and dual mono channels are rendered as
separate clips would be (:func:`namgraph.engine.render_batch` picks how, per backend).

Compiles are cached by JAX per (configured architecture, params and audio shapes): the
jitted functions live at module level and are never rebuilt per call.

Audio over the ``render_samples`` limit (:mod:`namgraph.limits`) is rendered in blocks
through the streaming path instead (:func:`namgraph.streaming.render_streaming`): the
same audio up to float32 rounding, with only one block of it on the device at a time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from os import PathLike
from typing import TYPE_CHECKING, Any

import numpy as np

from . import limits
from .engine import render_batch
from .errors import AudioError, ChannelMismatchError, OptionError
from .models.base import Architecture, Params, RenderOptions

if TYPE_CHECKING:
    from .graph.ir import Graph
    from .model import Model

TRANSPOSED_MIN_FRAMES = 64  # (T, C) suspicion: more "channels" than this ...
TRANSPOSED_MAX_CHANNELS = 8  # ... and at most this many "frames"
MIN_BLOCK_FRAMES = 1 << 16  # a render over the render_samples limit goes in blocks of at least this (see block_frames)


def render(obj: "Model | Graph | str | PathLike[str]", audio: Any, *, size: float | None = None, fast_tanh: bool = False) -> np.ndarray:
    """Render ``audio`` through a model (a :class:`Model`, or a ``.nam`` path or parsed dict to load)
    or a rig (a :class:`~namgraph.Graph`, compiled on demand).

    ``size`` is Core's ``SetSlimmableSize`` value in [0, 1] (default: Core's default, the
    full model); ``fast_tanh`` is Core's
    ``enable_fast_tanh()``. Integer input is PCM: int8/int16/int32 are scaled to [-1, 1)
    (uint8 is offset binary, as in 8-bit WAV). Returns float32 in the input's layout with
    the model's output channels; a 1-D input gives a 1-D output when the model has one
    output channel. Audio over the ``render_samples`` limit (:mod:`namgraph.limits`) is
    rendered in blocks through the streaming path: the same audio up to float32 rounding.
    """
    options = render_options(size, fast_tanh)
    model = _as_model(obj)
    arch = model.architecture.configure(options)
    x = to_float32(audio)
    batch, restore = _as_batch(x, arch, _model_name(model))
    b, c, t = batch.shape
    frames = block_frames(b * max(c, arch.out_channels), t, arch.preferred_chunk())
    if frames is not None:
        from .streaming import render_streaming  # deferred: streaming imports this module

        return render_streaming(model, x, frames, size=size, fast_tanh=fast_tanh)
    _check_finite(x)
    return restore(_render_batch(arch, model.params, batch))


def block_frames(channels: int, frames: int, chunk: int) -> int | None:
    """Frames per block for a render of ``channels x frames`` samples (batch items and the
    larger of input and output channels counted in ``channels``): None when it is within the
    ``render_samples`` limit and may be held whole, else a block length that keeps each
    block within it.

    The block is whole chunks of the model's ``preferred_chunk`` (``chunk``), at least
    :data:`MIN_BLOCK_FRAMES`. Measured on 10 s streamed (2-core CPU): a standard WaveNet runs
    28-35x real time in blocks of 1024 to 65536 (a stream step scans a long block in its
    chunks); a 2^17-tap IR runs 4x at 1024, 15x at 4096, 59x at 16384 and 220x at 65536
    (each block pays one FFT over the IR's history, so long blocks amortise it).
    """
    limit = limits.current().render_samples
    channels = max(1, channels)
    if channels * frames <= limit:
        return None
    chunk = max(1, chunk)
    return max(1, min(chunk * -(-MIN_BLOCK_FRAMES // chunk), limit // channels))


def render_options(size: float | None, fast_tanh: bool) -> RenderOptions:
    """Validated :class:`RenderOptions` (``size``: None for Core's default, or a number in [0, 1])."""
    if size is None:
        if not isinstance(fast_tanh, bool | np.bool_):
            raise OptionError(f"fast_tanh must be True or False, got {fast_tanh!r}")
        return RenderOptions(size=None, fast_tanh=bool(fast_tanh))
    if isinstance(size, bool) or not isinstance(size, int | float | np.integer | np.floating):
        raise OptionError(f"size must be a number in [0, 1], got {size!r}")
    if not (math.isfinite(size) and 0.0 <= size <= 1.0):
        raise OptionError(f"size must be in [0, 1] (0 = smallest submodel, 1 = full size), got {size}")
    if not isinstance(fast_tanh, bool | np.bool_):
        raise OptionError(f"fast_tanh must be True or False, got {fast_tanh!r}")
    return RenderOptions(size=float(size), fast_tanh=bool(fast_tanh))


def _as_model(obj: Any) -> "Model":
    from .graph.ir import Graph  # deferred: the graph package imports this module

    if isinstance(obj, Graph):  # compiled on demand; the compile is cached on the graph
        return obj.compile()
    if hasattr(obj, "architecture") and hasattr(obj, "params"):
        return obj
    if isinstance(obj, str | PathLike | Mapping):
        from .loading import load  # deferred: loading pulls in the format layer

        return _as_model(load(obj))  # a DAG rig file loads as a Graph
    raise TypeError(f"render() needs a Model, a Graph or a path to a .nam file, got {type(obj).__name__}")


def _model_name(model: Any) -> str:
    source = getattr(model, "source", None)
    return f"{model.architecture.name} model {source!r}" if source else f"{model.architecture.name} model"


def to_float32(audio: Any) -> np.ndarray:
    """The samples as float32; integer PCM scaled to full scale 1.0."""
    x = np.asarray(audio)
    kind, bits = x.dtype.kind, x.dtype.itemsize * 8
    if kind == "f":
        with np.errstate(over="ignore"):  # out-of-range values become inf and are reported as non-finite
            return x.astype(np.float32, copy=False)
    if kind == "i" and bits <= 32:
        return (x.astype(np.float64) / 2.0 ** (bits - 1)).astype(np.float32)
    if kind == "u" and bits == 8:
        return ((x.astype(np.float64) - 128.0) / 128.0).astype(np.float32)
    if kind in "iu":
        raise AudioError(
            f"integer audio of type {x.dtype} has no standard full scale; pass float audio "
            "(or int16/int32 PCM), e.g. audio.astype(np.float32)"
        )
    raise AudioError(f"audio must be a numeric array of samples, got dtype {x.dtype}")


def _as_batch(x: np.ndarray, arch: Architecture, name: str, *, guess_layout: bool = True) -> tuple[np.ndarray, Any]:
    """Reshape to ``(B, in_channels, T)`` and return the function that restores the input's layout.

    ``guess_layout=False`` skips refusing audio that looks like (frames, channels): for the
    later blocks of one signal, whose layout the first block settled (a short last block of
    many channels would look transposed).
    """
    if x.ndim == 0 or x.ndim > 3:
        raise AudioError(f"audio must be 1-D (frames), 2-D (channels, frames) or 3-D (batch, channels, frames); got shape {x.shape}")
    if x.ndim >= 2:
        c, t = x.shape[-2:]
        if guess_layout and c > TRANSPOSED_MIN_FRAMES and t <= TRANSPOSED_MAX_CHANNELS and c != arch.in_channels:
            raise AudioError(
                f"audio of shape {x.shape} looks like (frames, channels); namgraph wants "
                "(channels, frames) like pedalboard: pass audio.T"
            )
        if c == 0:
            raise AudioError(f"audio has no channels (shape {x.shape})")
    x3 = x.reshape((1,) * (3 - x.ndim) + x.shape)
    b, c, t = x3.shape
    m_in, m_out = arch.in_channels, arch.out_channels
    if c == m_in:
        run, c_out = x3, m_out
        unfold = lambda y: y  # noqa: E731
    elif m_in == 1 and m_out == 1:  # dual mono: every channel is its own batch item
        run, c_out = x3.reshape(b * c, 1, t), c
        unfold = lambda y: y.reshape(b, c, t)  # noqa: E731
    else:
        raise ChannelMismatchError(
            f"the {name} takes {m_in} input channel{'s' * (m_in != 1)} (and gives {m_out}), "
            f"but the audio has {c}; only a mono-in, mono-out model runs on each channel of multi-channel audio"
        )
    if x.ndim == 1:
        restore = (lambda y: y[0, 0]) if c_out == 1 else (lambda y: y[0])
    elif x.ndim == 2:
        restore = lambda y: y[0]  # noqa: E731
    else:
        restore = lambda y: y  # noqa: E731
    return run, lambda y: restore(unfold(y))


def _check_finite(x: np.ndarray, offset: int = 0) -> None:
    """Refuse NaN/inf samples, naming the first; ``offset``: where ``x`` starts in the whole signal."""
    bad = ~np.isfinite(x)
    if not bad.any():
        return
    index = np.unravel_index(int(np.argmax(bad)), x.shape)
    where = [f"sample {index[-1] + offset}"]
    if x.ndim >= 2:
        where.append(f"channel {index[-2]}")
    if x.ndim == 3:
        where.append(f"batch item {index[0]}")
    raise AudioError(
        f"audio has {int(bad.sum())} non-finite sample(s) (NaN, infinity, or too large for float32); "
        f"the first is at {', '.join(where)}"
    )


def _render_batch(arch: Architecture, params: Params, x: np.ndarray) -> np.ndarray:
    b, _, t = x.shape
    if b == 0 or t == 0:
        return np.zeros((b, arch.out_channels, t), np.float32)
    return render_batch(arch, params, x)
