"""Offline rendering as a scan of the streaming step, with Core's start-up (prewarm).

Core's ``Reset`` feeds zeros in blocks of the host buffer size until at least
``GetPrewarmSamples()`` have gone through; ``tools/render`` uses 64-sample blocks. We feed
the same count (rounded up to 64), so models whose prewarm matters exactly (an LSTM whose
stored state is not a fixed point) match Core's render too.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

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
    """Whole-signal render of ``x`` (in_channels, T) as Core renders it after ``Reset``."""
    prepared = arch.prepare(params)
    state = start_state(arch, prepared, params)
    _, y = process(arch, prepared, state, x.astype(jnp.float32))
    return y


render_offline_jit = jax.jit(render_offline, static_argnums=0)
