"""Offline rendering as a scan of the streaming step, with Core's start-up (prewarm).

Core's ``Reset`` feeds zeros in blocks of the host buffer size until at least
``GetPrewarmSamples()`` have gone through; ``tools/render`` uses 64-sample blocks. We feed
the same count (rounded up to 64), so models whose prewarm matters exactly (an LSTM whose
stored state is not a fixed point) match Core's render too.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial

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


def process_padded(arch: Architecture, prepared: Params, state: State, x: Array, chunk: int | None = None) -> Array:
    """Output of :func:`process` on ``x`` zero-padded to whole chunks, cut back to ``x``'s length.

    One traced step serves every chunk (no remainder call): half the compile time of
    :func:`process` on a length that is not a whole number of chunks. Outputs are causal,
    so the padding changes nothing that is kept; the end state (which would) is dropped.
    """
    chunk = chunk or arch.preferred_chunk()
    length = x.shape[-1]
    total = max(1, -(-length // chunk)) * chunk
    _, y = process(arch, prepared, state, jnp.pad(x, ((0, 0), (0, total - length))), chunk)
    return y[:, :length]


def render_offline(arch: Architecture, params: Params, x: Array) -> Array:
    """Whole-signal render of ``x`` (in_channels, T) as Core renders it after ``Reset``.

    The prewarm zeros and the audio are one signal through ``arch.render_signal``: a
    single model scans its step over its own chunk size; a graph or a Sequential renders
    each part over the whole signal in turn, each at its own chunk size (see
    :meth:`~namgraph.models.base.Architecture.render_signal`).
    """
    prepared = arch.prepare(params)
    lead = prewarm_length(arch)
    signal = jnp.pad(x.astype(jnp.float32), ((0, 0), (lead, 0)))
    return arch.render_signal(prepared, arch.initial_state(params), signal)[:, lead:]


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


def _bucketed(arch: Architecture, x: np.ndarray) -> np.ndarray:
    """``x`` (..., T) zero-padded at the end to :func:`bucket_length` (outputs are causal)."""
    padded = np.zeros((*x.shape[:-1], bucket_length(x.shape[-1], arch.preferred_chunk())), np.float32)
    padded[..., : x.shape[-1]] = x
    return padded


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
        return np.array(render_offline_jit(arch, params, _bucketed(arch, x))[:, :length])  # a writeable copy
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


def render_batch(arch: Architecture, params: Params, x: np.ndarray, workers: int | None = None) -> np.ndarray:
    """Render a numpy batch ``x`` (B, in_channels, T) to numpy: every item as a single render would.

    Per backend, by measurement (standard WaveNet, 32 clips of 2 s, 2-core CPU): on CPU the
    items go to parallel threads, each the single-item render (:func:`render_array`, so a
    batch item equals the same clip rendered alone, bit for bit when no time split is
    involved), sharing one compile: aggregate 63-69x real time on a quiet machine
    (``benchmarks/bench_graph.py``), against 17-21x for one ``vmap``ped render (XLA's CPU
    code for the batched WaveNet is slower per item than the unbatched one). On GPU and TPU
    backends the batch is one ``vmap``ped render of the bucketed length.
    """
    b, _, length = x.shape
    if jax.default_backend() != "cpu":
        return np.array(render_vmapped_jit(arch, params, _bucketed(arch, x))[..., :length])
    if b == 1:
        return render_array(arch, params, x[0], workers)[None]
    cores = workers or os.cpu_count() or 1
    each = max(1, cores // b)  # fewer items than cores: each item may still split in time

    def one(item: np.ndarray) -> np.ndarray:
        return render_array(arch, params, item, each)

    if cores == 1:
        return np.stack([one(item) for item in x])
    with ThreadPoolExecutor(min(cores, b)) as pool:
        return np.stack(list(pool.map(one, x)))


@partial(jax.jit, static_argnums=0)
def render_vmapped_jit(arch: Architecture, params: Params, x: Array) -> Array:
    """Offline render of every item of ``x`` (B, in_channels, T); params are shared, not batched."""
    return jax.vmap(lambda item: render_offline(arch, params, item))(x)


def _segments(arch: Architecture, length: int, workers: int | None) -> int:
    if workers is None:
        workers = min(os.cpu_count() or 1, 8)
    if workers <= 1 or not arch.has_finite_memory():
        return 1
    context = arch.receptive_field() - 1
    # each segment must be long enough that its context is a small overhead
    worth = max(int(SPLIT_MIN_SECONDS_OF_WORK * _SAMPLES_PER_SECOND), 8 * context)
    return max(1, min(workers, length // worth))
