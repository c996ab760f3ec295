"""Linear: an FIR filter (impulse response), in Core's tap order.

Core computes ``y[t] = bias + sum_k ir[k] * x[t - k]``: ``ir[0]`` multiplies the current
sample. Multi-channel (Core before PR #335): channel ``c < min(in, out)`` is filtered with
the same taps and bias; extra outputs are silent and extra inputs ignored.

Two ways to compute one block, chosen per static block length ``T`` (same result up to
float32 rounding, same state: the last ``taps - 1`` input samples):

* direct: one ``conv_general_dilated`` over ``history ++ block`` (short IRs, tiny blocks);
* FFT overlap-save: the block is cut into frames of ``L = N - taps + 1`` new samples, each
  with its ``taps - 1`` samples of context, and filtered as ``irfft(rfft(frame) * H)`` of
  size ``N`` (a power of two). ``H``, the IR's spectrum, is computed once per render in
  ``prepare`` for each size ``step`` may pick (stored as float32 real/imag pairs so the
  prepared params still pack into one float32 vector). Measured on a 2-core CPU, a
  2048-tap cabinet IR renders ~50x faster than with the direct convolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import jax
import jax.numpy as jnp

from ..format.configs import LinearConfig
from ..format.layout import TensorSpec, linear_tensors
from .base import Architecture, Array, ConfigChannels, Params, State

FFT_MIN_TAPS = 16  # below this the direct convolution is always faster (measured: 8 taps direct, 16 FFT)
_MAX_FFT = 1 << 15  # larger transforms fall out of cache and cost more per sample (measured)
# Cost model (roughly ns on the measured 2-core CPU; only the ratios matter), fitted to
# measured step times: the direct convolution costs ~1 per multiply-add; one size-N
# transform pair ~0.5 per N*log2(N), plus a fixed cost per step for the FFT path.
_FFT_COST_PER_NLOGN = 0.5
_FFT_FIXED_COST = 5_000.0
_DIRECT_COST_PER_MAC = 1.0


def _fft_key(n: int) -> str:
    return f"ir_fft_{n}"


@lru_cache(maxsize=256)
def _fft_sizes(taps: int) -> tuple[int, ...]:
    """Transform sizes ``step`` may use for ``taps``: powers of two with room for at least
    ``N / 8`` new samples per frame (and at least twice the IR, always one candidate)."""
    if taps < FFT_MIN_TAPS:
        return ()
    first = 1 << (taps - 1).bit_length()  # next power of two >= taps
    sizes = [n for n in (first, 2 * first, 4 * first, 8 * first) if n - taps + 1 >= n // 8 and (n <= _MAX_FFT or n == 2 * first)]
    return tuple(sizes)


def _fft_cost(taps: int, n: int, length: int) -> float:
    frames = -(-length // (n - taps + 1))
    return frames * n * math.log2(n) * _FFT_COST_PER_NLOGN + _FFT_FIXED_COST


@lru_cache(maxsize=1024)
def _plan(taps: int, length: int) -> int | None:
    """FFT size for a block of ``length`` samples, or None for the direct convolution."""
    sizes = _fft_sizes(taps)
    if not sizes or length < 1:
        return None
    best = min(sizes, key=lambda n: (_fft_cost(taps, n, length), n))
    if _fft_cost(taps, best, length) >= taps * length * _DIRECT_COST_PER_MAC:
        return None
    return best


@dataclass(frozen=True)
class Linear(ConfigChannels, Architecture):
    config: LinearConfig
    name = "Linear"

    @classmethod
    def build(cls, config: LinearConfig, sample_rate: float | None, children: tuple[Architecture, ...]) -> "Linear":
        return cls(config)

    def receptive_field(self) -> int:
        return self.config.receptive_field

    def prewarm_samples(self) -> int:
        return 0

    def tensors(self) -> list[TensorSpec]:
        return linear_tensors(self.config)

    def preferred_chunk(self) -> int:
        """Long IRs: a few whole frames of the cheapest transform size per chunk (no frame
        is padded); short IRs: the default."""
        taps = self.config.receptive_field
        sizes = _fft_sizes(taps)
        if not sizes:
            return super().preferred_chunk()
        best = min(sizes, key=lambda n: (n * math.log2(n) / (n - taps + 1), n))
        step = best - taps + 1
        return step * max(1, round(_CHUNK_TARGET / step))

    def prepare(self, params: Params) -> Params:
        """The file params plus, for long IRs, the IR's spectrum at each size ``step`` may use
        (``(2, N/2 + 1)`` float32: real and imaginary parts)."""
        sizes = _fft_sizes(self.config.receptive_field)
        if not sizes:
            return params
        prepared = dict(params)
        ir = jnp.asarray(params["ir"], jnp.float32)
        for n in sizes:
            spectrum = jnp.fft.rfft(ir, n=n)
            prepared[_fft_key(n)] = jnp.stack([jnp.real(spectrum), jnp.imag(spectrum)]).astype(jnp.float32)
        return prepared

    def initial_state(self, params: Params) -> State:
        return jnp.zeros((self.in_channels, self.config.receptive_field - 1), jnp.float32)

    def step(self, params: Params, state: State, x: Array) -> tuple[State, Array]:
        taps = self.config.receptive_field
        extended = jnp.concatenate([state, x], axis=1)  # (C_in, taps - 1 + T)
        used = min(self.in_channels, self.out_channels)
        n = _plan(taps, x.shape[1])
        if n is None:
            y = self._direct(params, extended[:used])
        else:
            y = self._overlap_save(params, extended[:used], n, x.shape[1])
        if self.config.bias:
            y = y + params["bias"][0]
        if used < self.out_channels:
            y = jnp.concatenate([y, jnp.zeros((self.out_channels - used, y.shape[1]), y.dtype)], axis=0)
        new_state = extended[:, extended.shape[1] - (taps - 1):] if taps > 1 else state
        return new_state, y

    def _direct(self, params: Params, extended: Array) -> Array:
        taps = self.config.receptive_field
        # Cross-correlation with the reversed IR is convolution with the IR.
        kernel = params["ir"][::-1].reshape(1, 1, taps)
        return jax.lax.conv_general_dilated(
            extended[:, None, :], kernel, window_strides=(1,), padding="VALID",
            precision=jax.lax.Precision.HIGHEST,
        )[:, 0, :]

    def _overlap_save(self, params: Params, extended: Array, n: int, length: int) -> Array:
        """Overlap-save with size-``n`` transforms: ``extended`` is (C, taps - 1 + length)."""
        taps = self.config.receptive_field
        context = taps - 1
        hop = n - context  # new samples per frame
        frames = -(-length // hop)
        channels = extended.shape[0]
        padded = jnp.pad(extended, ((0, 0), (0, frames * hop - length)))  # (C, context + frames * hop)
        if hop >= context:
            # frame f = the `context` samples before its block ++ its block: reshapes, no gather
            body = padded[:, context:].reshape(channels, frames, hop)
            before = jnp.concatenate([padded[:, None, :context], body[:, :-1, hop - context:]], axis=1)
            framed = jnp.concatenate([before, body], axis=2)
        else:
            framed = jnp.stack([padded[:, f * hop : f * hop + n] for f in range(frames)], axis=1)
        key = _fft_key(n)
        if key in params:
            spectrum = jax.lax.complex(params[key][0], params[key][1])
        else:  # file-form params (not prepared): transform the IR here
            spectrum = jnp.fft.rfft(jnp.asarray(params["ir"], jnp.float32), n=n)
        y = jnp.fft.irfft(jnp.fft.rfft(framed, axis=-1) * spectrum, n=n, axis=-1)[..., context:]
        return y.reshape(channels, frames * hop)[:, :length]


_CHUNK_TARGET = 8192  # offline chunk length aimed at (a whole number of frames)
