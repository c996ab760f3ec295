"""Offline rendering as a scan of the streaming step, with Core's start-up (prewarm).

Core's ``Reset`` feeds zeros in blocks of the host buffer size until at least
``GetPrewarmSamples()`` have gone through; ``tools/render`` uses 64-sample blocks. We feed
the same count (rounded up to 64), so models whose prewarm matters exactly (an LSTM whose
stored state is not a fixed point) match Core's render too.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np

from .models.base import Architecture, Array, Params, State

CORE_RENDER_BLOCK = 64


def prewarm_length(arch: Architecture) -> int:
    """Zeros Core's ``Reset(sr, 64)`` processes before the first real sample."""
    n = arch.prewarm_samples()
    return -(-n // CORE_RENDER_BLOCK) * CORE_RENDER_BLOCK


def process(arch: Architecture, prepared: Params, state: State, x: Array, chunk: int | None = None) -> tuple[State, Array]:
    """Run ``x`` (in_channels, T) through ``arch.step`` in fixed-size chunks plus a remainder."""
    chunk = chunk or arch.preferred_chunk()
    total = x.shape[-1]
    full = total // chunk
    outputs = []
    if full:
        blocks = x[:, : full * chunk].reshape(x.shape[0], full, chunk).transpose(1, 0, 2)

        def body(carry: State, block: Array) -> tuple[State, Array]:
            return arch.step(prepared, carry, block)

        state, ys = jax.lax.scan(body, state, blocks)
        outputs.append(ys.transpose(1, 0, 2).reshape(arch.out_channels, full * chunk))
    if total - full * chunk:
        state, y = arch.step(prepared, state, x[:, full * chunk :])
        outputs.append(y)
    if not outputs:
        return state, jnp.zeros((arch.out_channels, 0), jnp.float32)
    return state, outputs[0] if len(outputs) == 1 else jnp.concatenate(outputs, axis=1)


def start_state(arch: Architecture, prepared: Params, params: Params) -> State:
    """State after Core's default prewarm."""
    state = arch.initial_state(params)
    n = prewarm_length(arch)
    if n:
        zeros = jnp.zeros((arch.in_channels, n), jnp.float32)
        state, _ = process(arch, prepared, state, zeros)
    return state


def render_offline(arch: Architecture, params: Params, x: Array) -> Array:
    """Whole-signal render of ``x`` (in_channels, T) as Core renders it after ``Reset``.

    The prewarm zeros, the audio and zero padding up to a whole number of chunks go
    through one scan: the step is traced and compiled once, not three times (prewarm,
    body, remainder), which halves compile time. Output is causal, so the padding after
    the audio changes nothing that is kept.
    """
    prepared = arch.prepare(params)
    channels, length = x.shape
    lead = prewarm_length(arch)
    chunk = arch.preferred_chunk()
    total = -(-(lead + length) // chunk) * chunk
    padded = jnp.pad(x.astype(jnp.float32), ((0, 0), (lead, total - lead - length)))
    _, y = process(arch, prepared, arch.initial_state(params), padded, chunk)
    return y[:, lead : lead + length]


render_offline_jit = jax.jit(render_offline, static_argnums=0)


# --------------------------------------------------------------------------- numpy front end

SPLIT_MIN_SECONDS_OF_WORK = 1.0  # below this a segment's context overhead is not worth a thread
_SAMPLES_PER_SECOND = 48_000


def bucket_length(n: int, chunk: int) -> int:
    """``n`` rounded up so renders of similar lengths share one compile.

    Whole chunks, then at most 16 distinct sizes per octave of length: the padding wastes
    under 6.25% of the work, and rendering a folder of clips of varied lengths compiles a
    handful of times instead of once per clip.
    """
    chunks = max(1, -(-n // chunk))
    if chunks > 16:
        step = 1 << (chunks.bit_length() - 5)
        chunks = -(-chunks // step) * step
    return chunks * chunk


def render_array(arch: Architecture, params: Params, x: np.ndarray, workers: int | None = None) -> np.ndarray:
    """Render numpy ``x`` (in_channels, T) to numpy, as fast as this machine allows.

    Lengths are bucketed (:func:`bucket_length`) so compiles are shared. A model with
    finite memory is split into equal overlapping time segments rendered on parallel
    threads: XLA runs one computation on one core, and segment ``i`` preceded by
    ``receptive_field() - 1`` samples of its own context gives exactly the outputs of the
    whole render (the first segment's context is silence, which is Core's prewarm).
    """
    channels, length = x.shape
    workers = _segments(arch, length, workers)
    if workers == 1:
        padded = np.zeros((channels, bucket_length(length, arch.preferred_chunk())), np.float32)
        padded[:, :length] = x
        return np.array(render_offline_jit(arch, params, padded)[:, :length])  # a writeable copy
    context = arch.receptive_field() - 1
    segment = -(-length // workers)
    span = bucket_length(segment + context, arch.preferred_chunk())
    extended = np.zeros((channels, context + (workers - 1) * segment + span), np.float32)
    extended[:, context : context + length] = x
    pieces = [extended[:, i * segment : i * segment + span] for i in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        outs = list(pool.map(lambda piece: np.asarray(render_offline_jit(arch, params, piece)), pieces))
    y = np.concatenate([out[:, context : context + segment] for out in outs], axis=1)
    return y[:, :length]


def _segments(arch: Architecture, length: int, workers: int | None) -> int:
    if workers is None:
        workers = min(os.cpu_count() or 1, 8)
    if workers <= 1 or not arch.has_finite_memory():
        return 1
    context = arch.receptive_field() - 1
    # each segment must be long enough that its context is a small overhead
    worth = max(int(SPLIT_MIN_SECONDS_OF_WORK * _SAMPLES_PER_SECOND), 8 * context)
    return max(1, min(workers, length // worth))
