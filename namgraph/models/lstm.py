"""LSTM: stacked cells with a 1x1 head, one sample at a time (spec section 5).

Per sample and layer: ``z = W [v; h] + b`` with gate rows ``i, f, g, o``;
``c <- σ(f) c + σ(i) tanh(g)``, ``h <- σ(o) tanh(c)``, and ``h`` feeds the next layer.
The state starts at the ``h0``/``c0`` stored in the file.

Speed: the recurrence is latency-bound (per sample a 4H x H product and a few tiny
elementwise kernels, each a separate XLA thunk on CPU), so the loop body does as little as
possible: the first layer's input projection is one matmul over the whole block outside
the loop; the recurrent product is a row vector times ``W_h^T``; the state is separate
``(h, c)`` vectors; and σ is evaluated as ``0.5 + 0.5 tanh(z / 2)`` with the ``1/2`` folded
into the i, f, o rows, so all four gates are one tanh over ``4H`` values. Scaling by a
power of two is exact, and Core's fast mode defines ``fast_sigmoid(x) = 0.5 (fast_tanh(x / 2)
+ 1)``, the same shape. Measured for a 1x24 LSTM on the 2-core CI CPU: ~50-55x real time;
~70-75x when XLA may compile the whole per-sample loop as one kernel
(``XLA_FLAGS=--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=16384``).
See ``benchmarks/lstm_probe.py`` for the formulations that were slower.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ..format.configs import LSTMConfig
from ..format.layout import TensorSpec, lstm_tensors
from . import activations
from .base import Architecture, Array, ConfigChannels, Params, RenderOptions, State

_HIGHEST = jax.lax.Precision.HIGHEST  # full float32 on every backend (no TF32 on GPUs)


@dataclass(frozen=True)
class LSTM(ConfigChannels, Architecture):
    config: LSTMConfig
    sample_rate: float | None = None
    fast_tanh: bool = False
    name = "LSTM"

    @classmethod
    def build(cls, config: LSTMConfig, sample_rate: float | None, children: tuple[Architecture, ...]) -> "LSTM":
        return cls(config, sample_rate)

    def receptive_field(self) -> int:
        """The trainer's nominal value; the real memory is unbounded (the recurrent state)."""
        return 1

    def prewarm_samples(self) -> int:
        """Core: ``(int)(0.5 * rate)``, or 1 when that is not positive (rate unknown)."""
        n = 0 if self.sample_rate is None else math.trunc(0.5 * self.sample_rate)
        return n if n > 0 else 1

    def has_finite_memory(self) -> bool:
        return False  # the recurrence carries every past sample

    def tensors(self) -> list[TensorSpec]:
        return lstm_tensors(self.config)

    def preferred_chunk(self) -> int:
        """Offline chunk length: the (T, 4H) input projection of a 512-sample chunk stays in
        L2 cache; measured ~5% faster than 2048 for a 1x24 LSTM, no slower for 128-1024."""
        return 512

    def configure(self, options: RenderOptions) -> "LSTM":
        return dataclasses.replace(self, fast_tanh=options.fast_tanh)

    def initial_state(self, params: Params) -> State:
        """One ``(h, c)`` pair of (H,) vectors per layer: the stored ``h0``, ``c0``.

        Separate small vectors, not one stacked array: stacking costs XLA a copy per sample,
        which halved the speed of the recurrence.
        """
        return tuple(
            (jnp.asarray(params[f"layers.{l}.h0"], jnp.float32), jnp.asarray(params[f"layers.{l}.c0"], jnp.float32))
            for l in range(self.config.num_layers)
        )

    def prepare(self, params: Params) -> Params:
        """Per layer ``W^T`` ``(I_l + H, 4H)`` and ``b`` with the σ gates' columns halved.

        Transposed so the recurrence is a row vector times a matrix (``h @ W_h^T``), which
        XLA's CPU backend runs faster than the matrix-vector form.
        """
        hidden = self.config.hidden_size
        half = jnp.concatenate([jnp.full((2 * hidden,), 0.5), jnp.ones((hidden,)), jnp.full((hidden,), 0.5)]).astype(jnp.float32)
        layers = []
        for l in range(self.config.num_layers):
            w = jnp.asarray(params[f"layers.{l}.w"], jnp.float32) * half[:, None]
            b = jnp.asarray(params[f"layers.{l}.b"], jnp.float32) * half
            layers.append((w.T, b))
        head = (jnp.asarray(params["head.weight"], jnp.float32), jnp.asarray(params["head.bias"], jnp.float32))
        return {"layers": tuple(layers), "head": head}

    def _gates(self, z: Array, c: Array) -> tuple[Array, Array]:
        """One cell update from halved pre-activations ``z`` (4H,) and the cell state ``c`` (H,)."""
        hidden = self.config.hidden_size
        tanh = activations.fast_tanh if self.fast_tanh else jnp.tanh
        t = tanh(z)
        i = 0.5 + 0.5 * t[:hidden]
        f = 0.5 + 0.5 * t[hidden : 2 * hidden]
        g = t[2 * hidden : 3 * hidden]
        o = 0.5 + 0.5 * t[3 * hidden :]
        c = f * c + i * g
        return o * tanh(c), c

    def step(self, params: Params, state: State, x: Array) -> tuple[State, Array]:
        cfg = self.config
        if cfg.num_layers == 0:  # Core: inputs copied to the first outputs, the rest silent
            used = min(cfg.in_channels, cfg.out_channels)
            pad = jnp.zeros((cfg.out_channels - used, x.shape[1]), jnp.float32)
            return state, jnp.concatenate([x[:used].astype(jnp.float32), pad], axis=0)
        layers = params["layers"]
        n_in = cfg.input_size
        w0_t, b0 = layers[0]
        # Input projection of the first layer for the whole block: (T, 4H), time-major for the loop.
        u = jnp.dot(x.T, w0_t[:n_in], precision=_HIGHEST) + b0
        w0_ht = w0_t[n_in:]

        def sample(carry: State, u_t: Array) -> tuple[State, Array]:
            h, c = self._gates(u_t + jnp.dot(carry[0][0], w0_ht, precision=_HIGHEST), carry[0][1])
            new = [(h, c)]
            for l in range(1, cfg.num_layers):
                w_t, b = layers[l]
                z = jnp.dot(jnp.concatenate([h, carry[l][0]]), w_t, precision=_HIGHEST) + b
                h, c = self._gates(z, carry[l][1])
                new.append((h, c))
            return tuple(new), h

        state, h_last = jax.lax.scan(sample, state, u)  # h_last (T, H)
        w_head, b_head = params["head"]
        y = jnp.dot(w_head, h_last.T, precision=_HIGHEST) + b_head[:, None]
        return state, y
