"""Streaming: render block by block with explicit state, equal to the offline render.

``Stream(obj)`` takes a model, a ``.nam`` path or a graph::

    s = namgraph.Stream(rig)
    state = s.init_state()                      # after Core's start-up (prewarm on silence)
    for block in blocks:                        # any sizes, (C, T) or 1-D for mono
        state, out = s.step(s.params, state, block)

Concatenated, the outputs equal ``namgraph.render(obj, audio)`` for any partition of the
audio into blocks: both are the same architecture ``step`` from the same start-up state.
``s.step`` is pure (the state passed in stays valid: branch, retry, differentiate);
``s.step_in_place`` takes and returns the same things but consumes the state, reusing its
memory, and on CPU runs as one compiled kernel where XLA can (:class:`InPlaceStep`): the
faster choice when only the latest state is kept, as in an audio callback. ``s.process``
and the command line's block rendering use it.

``s.params`` is the *prepared* params (what ``step`` consumes, see
``Architecture.prepare``: prepared once here, not per call) and the state is the
architecture's own state pytree; ``s.pack(params)`` turns a params pytree (e.g. after
fitting) into what ``step`` takes. ``packed=True`` passes both as one float32 vector each
instead. Why pytrees by default, measured on the project's 2-core CPU (jaxlib 0.10): a
jitted call costs about 0.7 µs of dispatch per leaf, but unpacking flat vectors inside the
step adds a slice per leaf that XLA's CPU runtime schedules as independent work at the
start of the program, and its thread pool then spends more time handing work between
threads than the fewer leaves save: the standard WaveNet streams 1.3-1.8x faster at 32-256
sample blocks as pytrees (about even at 4096), and rigs with WaveNets likewise. Flat
vectors win only where a step does almost nothing (a chain of gains: ~13 against ~19 µs a
block, both hundreds of times real time). A block longer than the architecture's
``preferred_chunk()`` is scanned in chunks of it, as the offline render is. The jitted
step is cached per (architecture, layout), so every stream of the same shape shares one
compile per block size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache, partial
from math import prod
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .engine import process, start_state
from .errors import AudioError, ChannelMismatchError, OptionError, StateError
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


def _check_block_shape(arch: Architecture, shape: tuple[int, ...]) -> None:
    """A block is ``(in_channels, T)``, or ``(T,)`` for a mono input (runs at trace time, so
    once per block shape): anything else is a typed error, never a JAX shape error or a
    silently dropped channel."""
    want = f"(channels={arch.in_channels}, frames)" + (" or (frames,)" if arch.in_channels == 1 else "")
    if len(shape) == 1 and arch.in_channels == 1:
        return
    if len(shape) != 2:
        raise AudioError(f"a stream block must be shaped {want} (batched streams: (batch, channels, frames)), got {shape}")
    if shape[0] != arch.in_channels:
        raise ChannelMismatchError(f"a stream block must be shaped {want}, got {shape}: {shape[0]} channels")


def _block_step(arch: Architecture, params_layout: FlatLayout | None, state_layout: FlatLayout | None, params: Any, state: Any, x: Array) -> tuple[Any, Array]:
    """One block through ``arch.step``; a block longer than the architecture's preferred
    chunk is scanned in chunks of it, as the offline render is (cache-sized chunks are faster)."""
    _check_block_shape(arch, x.shape)
    mono = x.ndim == 1
    block = x[None] if mono else x
    if block.shape[-1] == 0:
        y = jnp.zeros((arch.out_channels, 0), jnp.float32)
    else:
        new_state, y = process(arch, _unpack(params_layout, params), _unpack(state_layout, state), block.astype(jnp.float32))
        state = _pack(state_layout, new_state)
    return state, y[0] if mono and arch.out_channels == 1 else y


def _step_function(arch: Architecture, params_layout: FlatLayout | None, state_layout: FlatLayout | None, batched: bool) -> Callable[..., tuple[Any, Array]]:
    """The un-jitted ``(params, state, block) -> (state, out)`` (vmapped over the state and
    block when ``batched``), which :func:`compiled_step` and :func:`compiled_step_in_place` compile.

    The architecture is closed over, not a static argument: a static argument is hashed and
    compared on every call, which for a WaveNet's nested config costs more than a 64-sample
    block.
    """

    def one(params: Any, state: Any, x: Array) -> tuple[Any, Array]:
        return _block_step(arch, params_layout, state_layout, params, state, x)

    if batched:
        return lambda params, state, x: jax.vmap(lambda s, b: one(params, s, b))(state, x)
    return one


@lru_cache(maxsize=64)
def compiled_step(arch: Architecture, params_layout: FlatLayout | None, state_layout: FlatLayout | None, batched: bool) -> Any:
    """The jitted step for one architecture and layout, cached here so streams of equal shape
    share the function and its compiles."""
    return jax.jit(_step_function(arch, params_layout, state_layout, batched))


# XLA:CPU runs a program as a graph of small kernels, handing independent ones to its thread
# pool; on a 64-sample block the hand-offs cost as much as the arithmetic (a WaveNet step is
# ~100 kernels), and more whenever the pool's threads have gone to sleep. A while loop whose
# operands XLA counts as small is compiled as ONE kernel instead (namgraph.xla_tuning raises
# that size so a model's step fits), but only if nothing in it is a library call: the
# YNNPACK matrix products XLA uses by default are, so the one-kernel program is compiled
# without them. Its own matrix products are slower, so it pays only on small blocks.
# Measured, standard WaveNet, this project's 2-core CPU, real-time factor of the pure step
# against one kernel: block 64 12.6x / 13.0x on a quiet machine and 8.0x / 13.5x when the
# pool's hand-offs were slow; block 96 17.2x / 17.2x; 128 18.9x / 17.5x; 256 27.8x / 18.9x.
ONE_KERNEL_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}
ONE_KERNEL_MAX_FRAMES = 64
"""Largest block (frames x batch) run as one kernel; longer blocks run the pure step."""


def _as_one_trip_loop(fn: Callable[..., tuple[Any, Array]]) -> Callable[..., tuple[Any, Array]]:
    """``fn(params, state, x)`` as the body of a loop run once, its trip count hidden from
    XLA (an optimization barrier) so that the loop is kept and compiled as one kernel."""

    def looped(params: Any, state: Any, x: Array) -> tuple[Any, Array]:
        out = jax.eval_shape(fn, params, state, x)[1]
        trips = jax.lax.optimization_barrier(jnp.int32(1))

        def body(carry: tuple[Array, Any, Array]) -> tuple[Array, Any, Array]:
            i, s, _ = carry
            s, y = fn(params, s, x)
            return i + 1, s, y

        _, state, y = jax.lax.while_loop(lambda c: c[0] < trips, body, (jnp.int32(0), state, jnp.zeros(out.shape, out.dtype)))
        return state, y

    return looped


def _one_kernel(compiled: Any) -> bool:
    """Whether XLA:CPU compiled the program's loop as one kernel (its "small call")."""
    return "xla_cpu_small_call" in compiled.as_text()


class InPlaceStep:
    """``step(params, state, block) -> (state, out)`` that may consume ``state``: pass each
    state once, as an audio callback does. Using a consumed state again raises
    :class:`StateError`.

    On CPU a block of at most :data:`ONE_KERNEL_MAX_FRAMES` frames (times the batch) runs as
    one kernel with the state's buffers reused in place, when XLA can compile it so (decided
    once per block shape, by compiling it and looking); every other block runs the pure
    ``step``, which leaves the state as it was.
    """

    def __init__(self, fn: Callable[..., tuple[Any, Array]], pure: Callable[..., tuple[Any, Array]]) -> None:
        self._pure = pure
        on_cpu = jax.default_backend() == "cpu"
        self._looped = jax.jit(_as_one_trip_loop(fn), donate_argnums=1, compiler_options=ONE_KERNEL_OPTIONS) if on_cpu else None
        self._by_shape: dict[tuple, Any] = {}

    def compiled(self) -> dict[tuple, bool]:
        """Each block (shape, dtype) seen so far, and whether it runs as one kernel."""
        return {key: fn is self._looped for key, fn in self._by_shape.items()}

    def _choose(self, params: Any, state: Any, x: Any) -> Any:
        shape = np.shape(x)  # (T,), (C, T) or batched (B, C, T)
        small = (shape[0] if len(shape) == 3 else 1) * (shape[-1] if shape else 1) <= ONE_KERNEL_MAX_FRAMES
        if self._looped is not None and small and _one_kernel(self._looped.lower(params, state, x).compile()):
            return self._looped
        return self._pure

    def __call__(self, params: Any, state: Any, x: Any) -> tuple[Any, Array]:
        key = (np.shape(x), str(getattr(x, "dtype", "")))
        fn = self._by_shape.get(key)
        if fn is None:
            fn = self._by_shape[key] = self._choose(params, state, x)
        try:
            return fn(params, state, x)
        except (RuntimeError, ValueError) as err:  # jaxlib 0.10: "Buffer has been deleted or donated"
            if "deleted" in str(err):
                raise StateError(
                    "this stream state was already consumed by an in-place step; pass the state that step "
                    "returned (or use Stream.step, which leaves its input state as it was)"
                ) from err
            raise


@lru_cache(maxsize=64)
def compiled_step_in_place(arch: Architecture, params_layout: FlatLayout | None, state_layout: FlatLayout | None, batched: bool) -> InPlaceStep:
    """:func:`compiled_step`'s step as an :class:`InPlaceStep` (cached alike; its pure
    fallback is that very step, so the two share their compiles)."""
    return InPlaceStep(_step_function(arch, params_layout, state_layout, batched), compiled_step(arch, params_layout, state_layout, batched))


@partial(jax.jit, static_argnums=(0, 1))
def _packed_start(arch: Architecture, state_layout: FlatLayout | None, params: Params) -> Any:
    return _pack(state_layout, start_state(arch, arch.prepare(params), params))


@partial(jax.jit, static_argnums=0)
def _prepare(arch: Architecture, params: Params) -> Params:
    return arch.prepare(params)


class Stream:
    """Block-by-block rendering of a model or graph (see the module docstring).

    ``batch=B`` streams ``B`` independent signals at once: every state leaf gains a leading
    axis ``B`` and blocks are ``(B, C, T)``, sharing the params. ``size``/``fast_tanh`` are
    ``namgraph.render``'s; ``packed=True`` passes params and state as one float32 vector
    each (state ``(n,)``, ``(B, n)`` when batched) instead of pytrees (the default).
    """

    def __init__(
        self, obj: Any, *, size: float | None = None, fast_tanh: bool = False, batch: int | None = None, packed: bool = False
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
        self._step_in_place = compiled_step_in_place(self.architecture, self._params_layout, self._state_layout, self.batch is not None)
        self._state: Any = None

    @property
    def in_channels(self) -> int:
        return self.architecture.in_channels

    @property
    def out_channels(self) -> int:
        return self.architecture.out_channels

    def pack(self, params: Params) -> Any:
        """A params pytree (the model's or graph's own form) as the prepared params ``step`` takes
        (one flat vector when ``packed``)."""
        return _pack(self._params_layout, _prepare(self.architecture, params))

    def init_state(self, params: Params | None = None) -> Any:
        """The state after start-up (prewarm on silence): the architecture's state pytree, or one
        float32 vector when ``packed`` (a leading axis ``B`` on every leaf when batched).

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

    @property
    def step_in_place(self) -> InPlaceStep:
        """``step`` for when only the latest state is kept (a plugin's audio callback): the same
        arguments and results, but the state passed in may be consumed (its memory reused for
        the new one). On CPU, small blocks then run as one compiled kernel, which keeps their
        speed when XLA's thread pool is slow to respond (:class:`InPlaceStep`); the same output
        as ``step``. Not for ``jax.grad``: differentiate ``step``.
        """
        return self._step_in_place

    # ------------------------------------------------------------------ stateful convenience

    def reset(self) -> None:
        """Start again from the start-up state (as after Core's ``Reset``)."""
        self._state = self.init_state()

    def process(self, block: Any) -> np.ndarray:
        """Numpy in, numpy out, keeping the state inside this object (``reset()`` to start again)."""
        if self._state is None:
            self.reset()
        # A bad block fails while compiling, before the state is consumed: it stays usable.
        self._state, y = self.step_in_place(self.params, self._state, to_float32(block))
        return np.asarray(y)


_END = object()  # no block follows


def render_blocks(obj: Any, blocks: Iterable[Any], *, size: float | None = None, fast_tanh: bool = False) -> Iterator[np.ndarray]:
    """Render consecutive blocks of one signal with the state carried between them, yielding
    each output block as soon as it is computed.

    Blocks are in any layout ``namgraph.render`` takes (1-D, ``(C, T)``, ``(B, C, T)``), all
    with the leading shape of the first, and any number of frames each. Concatenated, the
    outputs equal ``namgraph.render`` of the concatenated input (up to float32 rounding), so
    a signal of any length renders holding two blocks at a time: the command line feeds the
    blocks of a wav file here and writes each output block out as it comes. One block is
    read ahead, so that a shorter last block is known to be the last and runs zero-padded
    to the first block's length, through the step already compiled for it.
    """
    model = _as_model(obj)
    options = render_options(size, fast_tanh)
    arch = model.architecture.configure(options)
    name = _model_name(model)
    lead: tuple[int, ...] | None = None
    stream: Stream | None = None
    state: Any = None
    first = 0  # frames of the first non-empty block: the length the step is compiled for
    offset = 0
    pending = iter(blocks)
    following = next(pending, _END)
    while following is not _END:
        block, following = following, next(pending, _END)
        x = to_float32(block)
        batch, restore = _as_batch(x, arch, name, guess_layout=lead is None)
        if lead is None:
            lead = x.shape[:-1]
        elif x.shape[:-1] != lead:
            raise AudioError(f"every block must have the leading shape {lead} of the first (channels, batch), got {x.shape}")
        _check_finite(x, offset)
        b, _, t = batch.shape
        if b == 0 or t == 0:
            yield restore(np.zeros((b, arch.out_channels, t), np.float32))
            continue
        if stream is None:
            stream = Stream(model, size=size, fast_tanh=fast_tanh, batch=None if b == 1 else b)
            state = stream.init_state()
            first = t
        if following is _END and t < first:
            # The last, shorter block runs zero-padded to the compiled length (outputs are
            # causal; the state after it is not used): no compile for one block.
            batch = np.pad(batch, ((0, 0), (0, 0), (0, first - t)))
        state, y = stream.step_in_place(stream.params, state, batch[0] if b == 1 else batch)
        y = np.asarray(y)[..., :t]
        yield restore(y[None] if b == 1 else y)
        offset += t


def render_streaming(
    obj: Any, audio: Any, block: int, *, size: float | None = None, fast_tanh: bool = False, progress: Callable[[int], Any] | None = None
) -> np.ndarray:
    """``namgraph.render`` computed in streaming blocks of ``block`` samples (same layouts, same audio).

    ``progress(n)`` is called after each block with the number of samples it advanced (a
    progress bar's ``update``). The output is filled in place, block by block: no second
    copy of the whole signal is made (this is how ``namgraph.render`` renders audio over
    the ``render_samples`` limit).
    """
    if isinstance(block, bool) or not isinstance(block, int | np.integer) or block < 1:
        raise OptionError(f"block must be a positive number of samples, got {block!r}")
    x = to_float32(audio)
    t = x.shape[-1] if x.ndim else 0
    starts = range(0, t, block) if t else range(1)
    pieces = (x[..., s : s + block] for s in starts) if x.ndim else iter([x])  # 0-d: render_blocks says why not
    out: np.ndarray | None = None
    for start, y in zip(starts, render_blocks(obj, pieces, size=size, fast_tanh=fast_tanh)):
        if out is None:
            out = np.empty((*y.shape[:-1], t), np.float32)
        out[..., start : start + y.shape[-1]] = y
        if progress is not None and y.shape[-1]:
            progress(y.shape[-1])
    assert out is not None  # render_blocks yields once per block, and there is at least one
    return out


__all__ = ["FlatLayout", "InPlaceStep", "Stream", "render_blocks", "render_streaming"]
