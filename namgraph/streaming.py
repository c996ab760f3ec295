"""Streaming: render block by block with explicit state, equal to the offline render.

``Stream(obj)`` takes a model, a ``.nam`` path or a graph::

    s = namgraph.Stream(rig)
    state = s.init_state()                      # after Core's start-up (prewarm on silence)
    for block in blocks:                        # any sizes, (C, T) or 1-D for mono
        state, out = s.step(s.params, state, block)

Concatenated, the outputs equal ``namgraph.render(obj, audio)`` for any partition of the
audio into blocks: both are the same architecture ``step`` from the same start-up state.

Why flat arrays: a jitted call costs about 0.35–1.5 µs per pytree leaf passed in and out,
which matters at 32–64-sample blocks (a standard WaveNet passes ~50 leaves of params and
state; a rig, the sum of its nodes'). By default ``s.params`` is the *prepared* params
(what ``step`` consumes, see ``Architecture.prepare``) packed into one float32 vector and
the state is one float32 vector, so a call passes three arrays; ``packed=False`` passes the
pytrees instead (measured: packing clearly wins for small models and rigs of small nodes,
and is about even for a standard WaveNet, whose own per-block work dominates).
``s.pack(params)`` turns a params pytree (e.g. after fitting) into what ``step`` takes. The
jitted step is cached per (architecture, layout), so every stream of the same shape shares
one compile per block size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from math import prod
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .engine import start_state
from .errors import OptionError
from .models.base import Architecture, Array, Params
from .rendering import _as_batch, _as_model, _check_finite, _model_name, render_options, to_float32


@dataclass(frozen=True)
class FlatLayout:
    """How a pytree of arrays packs into one float32 vector (hashable: a static jit argument)."""

    treedef: Any
    shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[str, ...]

    @classmethod
    def of(cls, tree: Any) -> "FlatLayout":
        leaves, treedef = jax.tree_util.tree_flatten(jax.eval_shape(lambda t: t, tree))
        return cls(treedef, tuple(tuple(x.shape) for x in leaves), tuple(str(np.dtype(x.dtype)) for x in leaves))

    @property
    def size(self) -> int:
        return sum(prod(s) for s in self.shapes)

    def pack(self, tree: Any) -> Array:
        leaves, treedef = jax.tree_util.tree_flatten(tree)
        if treedef != self.treedef:
            raise ValueError(f"pytree structure {treedef} does not match the stream's {self.treedef}")
        if not leaves:
            return jnp.zeros((0,), jnp.float32)
        return jnp.concatenate([jnp.ravel(jnp.asarray(x)).astype(jnp.float32) for x in leaves])

    def unpack(self, flat: Array) -> Any:
        leaves, offset = [], 0
        for shape, dtype in zip(self.shapes, self.dtypes):
            n = prod(shape)
            leaves.append(flat[offset : offset + n].reshape(shape).astype(dtype))
            offset += n
        return jax.tree_util.tree_unflatten(self.treedef, leaves)


def _unpack(layout: FlatLayout | None, flat: Any) -> Any:
    return flat if layout is None else layout.unpack(flat)


def _pack(layout: FlatLayout | None, tree: Any) -> Any:
    return tree if layout is None else layout.pack(tree)


def _block_step(arch: Architecture, params_layout: FlatLayout | None, state_layout: FlatLayout | None, params: Any, state: Any, x: Array) -> tuple[Any, Array]:
    mono = x.ndim == 1
    block = x[None] if mono else x
    if block.shape[-1] == 0:
        y = jnp.zeros((arch.out_channels, 0), jnp.float32)
    else:
        new_state, y = arch.step(_unpack(params_layout, params), _unpack(state_layout, state), block.astype(jnp.float32))
        state = _pack(state_layout, new_state)
    return state, y[0] if mono and arch.out_channels == 1 else y


@lru_cache(maxsize=64)
def compiled_step(arch: Architecture, params_layout: FlatLayout | None, state_layout: FlatLayout | None, batched: bool) -> Any:
    """The jitted ``(params, state, block) -> (state, out)`` for one architecture and layout.

    The architecture is closed over, not a static argument: a static argument is hashed and
    compared on every call, which for a WaveNet's nested config costs more than a 64-sample
    block. Cached here, so streams of equal shape share the function and its compiles.
    """

    def one(params: Any, state: Any, x: Array) -> tuple[Any, Array]:
        return _block_step(arch, params_layout, state_layout, params, state, x)

    if batched:
        return jax.jit(lambda params, state, x: jax.vmap(lambda s, b: one(params, s, b))(state, x))
    return jax.jit(one)


@partial(jax.jit, static_argnums=(0, 1))
def _packed_start(arch: Architecture, state_layout: FlatLayout | None, params: Params) -> Any:
    return _pack(state_layout, start_state(arch, arch.prepare(params), params))


@partial(jax.jit, static_argnums=0)
def _prepare(arch: Architecture, params: Params) -> Params:
    return arch.prepare(params)


class Stream:
    """Block-by-block rendering of a model or graph (see the module docstring).

    ``batch=B`` streams ``B`` independent signals at once: state ``(B, n)`` and blocks
    ``(B, C, T)``, sharing the params. ``size``/``fast_tanh`` are ``namgraph.render``'s;
    ``packed`` chooses flat vectors (default) or pytrees for params and state.
    """

    def __init__(
        self, obj: Any, *, size: float | None = None, fast_tanh: bool = False, batch: int | None = None, packed: bool = True
    ) -> None:
        options = render_options(size, fast_tanh)
        model = _as_model(obj)
        self.name = _model_name(model)
        self.architecture: Architecture = model.architecture.configure(options)
        self.sample_rate: float | None = model.sample_rate
        self.batch = None if batch is None else int(batch)
        if self.batch is not None and self.batch < 1:
            raise OptionError(f"batch must be a positive int, got {batch!r}")
        self._raw_params = model.params
        prepared = _prepare(self.architecture, model.params)
        self.packed = bool(packed)
        self._params_layout = FlatLayout.of(prepared) if self.packed else None
        self._state_layout = FlatLayout.of(jax.eval_shape(self.architecture.initial_state, model.params)) if self.packed else None
        self.params: Any = _pack(self._params_layout, prepared)
        self._step = compiled_step(self.architecture, self._params_layout, self._state_layout, self.batch is not None)
        self._state: Array | None = None

    @property
    def in_channels(self) -> int:
        return self.architecture.in_channels

    @property
    def out_channels(self) -> int:
        return self.architecture.out_channels

    def pack(self, params: Params) -> Array:
        """A params pytree (the model's or graph's own form) as the flat prepared vector ``step`` takes."""
        return _pack(self._params_layout, _prepare(self.architecture, params))

    def init_state(self, params: Params | None = None) -> Array:
        """The state after start-up (prewarm on silence), as one float32 vector (``(B, n)`` when batched).

        ``params``: the params pytree to start from (default: the model's own); an LSTM's
        stored initial state lives in its params, so fitted params start from their own.
        """
        state = _packed_start(self.architecture, self._state_layout, self._raw_params if params is None else params)
        if self.batch is not None:
            state = jax.tree_util.tree_map(lambda leaf: jnp.broadcast_to(leaf, (self.batch, *leaf.shape)), state)
        return state

    @property
    def step(self) -> Any:
        """The jitted, pure ``step(params, state, block) -> (new state, output block)``.

        ``block`` is ``(C, T)`` (1-D for mono; ``(B, C, T)`` when batched), any ``T``; the
        state passed in is not modified (keep it to branch or retry).
        """
        return self._step

    # ------------------------------------------------------------------ stateful convenience

    def reset(self) -> None:
        """Start again from the start-up state (as after Core's ``Reset``)."""
        self._state = self.init_state()

    def process(self, block: Any) -> np.ndarray:
        """Numpy in, numpy out, keeping the state inside this object (``reset()`` to start again)."""
        if self._state is None:
            self.reset()
        self._state, y = self.step(self.params, self._state, jnp.asarray(to_float32(block)))
        return np.asarray(y)


def render_streaming(
    obj: Any, audio: Any, block: int, *, size: float | None = None, fast_tanh: bool = False, progress: Callable[[int], Any] | None = None
) -> np.ndarray:
    """``namgraph.render`` computed in streaming blocks of ``block`` samples (same layouts, same audio).

    ``progress(n)`` is called after each block with the number of samples it advanced (a progress bar's ``update``)."""
    if isinstance(block, bool) or not isinstance(block, int | np.integer) or block < 1:
        raise OptionError(f"block must be a positive number of samples, got {block!r}")
    model = _as_model(obj)
    x = to_float32(audio)
    options = render_options(size, fast_tanh)
    arch = model.architecture.configure(options)
    batch, restore = _as_batch(x, arch, _model_name(model))
    _check_finite(x)
    b, _, t = batch.shape
    if b == 0 or t == 0:
        return restore(np.zeros((b, arch.out_channels, t), np.float32))
    stream = Stream(model, size=size, fast_tanh=fast_tanh, batch=None if b == 1 else b)
    step = stream.step
    state = stream.init_state()
    run = batch[0] if b == 1 else batch
    pieces = []
    for start in range(0, t, block):
        state, y = step(stream.params, state, run[..., start : start + block])
        pieces.append(np.asarray(y))
        if progress is not None:
            progress(min(block, t - start))
    out = np.concatenate(pieces, axis=-1)
    return restore(out[None] if b == 1 else out)


__all__ = ["FlatLayout", "Stream", "render_streaming"]
