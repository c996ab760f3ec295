"""The interface every model architecture implements.

An architecture is a frozen, hashable description of a model's shape (its config, sample
rate, children). It is a static argument to ``jax.jit``, so one compile serves every
model of the same shape. The weights live apart, in a params pytree (a dict of float32
arrays named by :mod:`namgraph.format.layout`, in the file's own tensor shapes), so
``jax.grad`` can differentiate with respect to them and they can be written back as-is.

Everything is a streaming step: ``step(params, state, x) -> (state, y)`` on a block of
shape ``(in_channels, T)``. The offline render is the same step scanned over blocks
(see :mod:`namgraph.engine`), so offline and streaming output agree by construction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import jax

from ..format.layout import TensorSpec

Params = Any  # pytree of float32 arrays
State = Any  # pytree of float32 arrays
Array = jax.Array


@dataclass(frozen=True)
class RenderOptions:
    """Choices that change how a model computes, not what it is.

    ``size`` is Core's ``SetSlimmableSize`` value in [0, 1]; ``None`` is Core's state
    before any call: the full model (a container's last submodel, every channel of a
    slimmable WaveNet). ``fast_tanh`` is Core's ``enable_fast_tanh()`` (the NAM plugin's default,
    off in Core's own render tool).
    """

    size: float | None = None
    fast_tanh: bool = False


MAX_CHUNK = 1 << 18
"""Longest chunk :func:`chunk_for_history` picks: 256 k samples, a few MiB per channel."""


def chunk_for_history(history: int, fastest: int) -> int:
    """Chunk length for a convolutional step whose longest layer keeps ``history`` samples.

    ``fastest`` (the measured-fastest, cache-sized chunk) while the history is no longer;
    else the power of two at or above it, at most :data:`MAX_CHUNK`. Each step joins every
    layer's history to the chunk, so with chunks much shorter than the history a render
    (and Core's start-up, a receptive field of silence) costs history x steps: quadratic
    in the dilation. Measured: one dilation of 2^21 took ~25 s to start up at 1024.
    """
    if history <= fastest:
        return fastest
    return min(1 << (history - 1).bit_length(), MAX_CHUNK)


@dataclass(frozen=True)
class Architecture(ABC):
    """Shape of one model; subclasses are frozen dataclasses (hashable, comparable, picklable)."""

    name = "?"

    @classmethod
    @abstractmethod
    def build(cls, config: Any, sample_rate: float | None, children: tuple["Architecture", ...]) -> "Architecture":
        """Make the architecture from a validated config (``namgraph.format.configs``), the
        file's ``sample_rate`` (None when absent) and the already-built nested models."""

    @property
    @abstractmethod
    def in_channels(self) -> int: ...

    @property
    @abstractmethod
    def out_channels(self) -> int: ...

    @abstractmethod
    def receptive_field(self) -> int:
        """Samples of input that affect one output sample (1 = memoryless)."""

    @abstractmethod
    def prewarm_samples(self) -> int:
        """Core's ``GetPrewarmSamples()``: zeros fed at start-up before real audio."""

    @abstractmethod
    def tensors(self) -> list[TensorSpec]:
        """This model's own weights in file order (containers: ``[]``)."""

    @abstractmethod
    def initial_state(self, params: Params) -> State:
        """State right after construction, before any prewarm (zero histories, stored LSTM state)."""

    @abstractmethod
    def step(self, params: Params, state: State, x: Array) -> tuple[State, Array]:
        """Process one block ``x`` of shape ``(in_channels, T)``; return the new state and ``(out_channels, T)``."""

    def prepare(self, params: Params) -> Params:
        """Params as ``step`` wants them (e.g. taps stacked for one matmul).

        Called once per render inside the jitted function, never per block, so ``step``
        sees the prepared form. The default is the file form unchanged.
        """
        return params

    def configure(self, options: RenderOptions) -> "Architecture":
        """This architecture with ``options`` applied (containers pass them to children)."""
        return self

    def children(self) -> tuple["Architecture", ...]:
        """Nested models (condition_dsp, container members), in file order."""
        return ()

    def has_finite_memory(self) -> bool:
        """True when an output depends only on the last ``receptive_field()`` input samples.

        Such models can be rendered in overlapping time segments in parallel (each segment
        preceded by ``receptive_field() - 1`` samples of context) with the same result.
        Recurrent models (LSTM) remember forever and override this with False.
        """
        return all(child.has_finite_memory() for child in self.children())

    def preferred_chunk(self) -> int:
        """Block length the offline render scans over (cache-sized blocks are fastest)."""
        return 2048


    def render_signal(self, params: Params, state: State, x: Array) -> Array:
        """Output of a whole signal ``x`` (in_channels, T) from ``state``, for the offline render.

        ``params`` are prepared. The default scans ``step`` over chunks of
        :meth:`preferred_chunk`, the input padded with zeros to whole chunks (outputs are
        causal, so the padding changes nothing kept, and one traced step serves every
        chunk). The end state is not returned: it would include the padding. Models made
        of models (containers, graphs) override this to render each part at its own chunk.
        """
        from ..engine import process_padded  # deferred: the engine imports this module

        return process_padded(self, params, state, x)


class ConfigChannels:
    """Mixin for architectures whose ``config`` declares ``in_channels``/``out_channels``
    (Linear, ConvNet, LSTM, WaveNet); list it before :class:`Architecture`."""

    @property
    def in_channels(self) -> int:
        return self.config.in_channels

    @property
    def out_channels(self) -> int:
        return self.config.out_channels
