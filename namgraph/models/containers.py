"""Models made of other models: SlimmableContainer (spec §7.2) and Sequential (spec §8.1).

Neither has weights of its own. Their params are ``{"children": (p_0, p_1, ...)}``, one
entry per nested model in file order (see :class:`namgraph.model.Model`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..format.configs import SequentialConfig, SlimmableContainerConfig
from ..format.layout import TensorSpec
from .base import Architecture, Array, Params, RenderOptions, State

CHILDREN = "children"


def child_params(params: Params) -> tuple[Params, ...]:
    """The nested models' params, in file order."""
    return tuple(params[CHILDREN])


def select_submodel(max_values: tuple[float, ...], size: float) -> int:
    """Core's ``SetSlimmableSize`` rule: the first submodel with ``size < max_value``, else the last."""
    for i, limit in enumerate(max_values):
        if size < limit:
            return i
    return len(max_values) - 1


@dataclass(frozen=True)
class SlimmableContainer(Architecture):
    """Several complete models of one task, of which exactly one (the active one) runs.

    Core's default, before any ``SetSlimmableSize`` call, is the last (full) submodel;
    ``configure`` applies the size rule. Everything that affects the audio (channels,
    prewarm count, state, step) is the active submodel's, so an inactive submodel costs
    nothing: it is neither prepared nor stepped.
    """

    max_values: tuple[float, ...]
    submodels: tuple[Architecture, ...]
    active: int
    name = "SlimmableContainer"

    def __post_init__(self) -> None:
        if len(self.max_values) != len(self.submodels) or not self.submodels:
            raise ValueError(f"{len(self.max_values)} max_values for {len(self.submodels)} submodels")
        if not 0 <= self.active < len(self.submodels):
            raise ValueError(f"active submodel {self.active} out of range 0..{len(self.submodels) - 1}")

    @classmethod
    def build(
        cls, config: SlimmableContainerConfig, sample_rate: float | None, children: tuple[Architecture, ...]
    ) -> "SlimmableContainer":
        return cls(tuple(config.max_values), tuple(children), len(children) - 1)

    @property
    def active_model(self) -> Architecture:
        return self.submodels[self.active]

    @property
    def in_channels(self) -> int:
        return self.active_model.in_channels

    @property
    def out_channels(self) -> int:
        return self.active_model.out_channels

    def receptive_field(self) -> int:
        return self.active_model.receptive_field()

    def prewarm_samples(self) -> int:
        return self.active_model.prewarm_samples()

    def tensors(self) -> list[TensorSpec]:
        return []

    def children(self) -> tuple[Architecture, ...]:
        return self.submodels

    def configure(self, options: RenderOptions) -> "SlimmableContainer":
        last = len(self.max_values) - 1  # Core's default before any SetSlimmableSize
        index = last if options.size is None else select_submodel(self.max_values, options.size)
        submodels = list(self.submodels)
        submodels[index] = submodels[index].configure(options)
        return SlimmableContainer(self.max_values, tuple(submodels), index)

    def prepare(self, params: Params) -> Params:
        """The prepared form is the active submodel's own prepared params (the rest are dropped)."""
        return self.active_model.prepare(child_params(params)[self.active])

    def initial_state(self, params: Params) -> State:
        return self.active_model.initial_state(child_params(params)[self.active])

    def step(self, params: Params, state: State, x: Array) -> tuple[State, Array]:
        return self.active_model.step(params, state, x)

    def render_signal(self, params: Params, state: State, x: Array) -> Array:
        return self.active_model.render_signal(params, state, x)

    def preferred_chunk(self) -> int:
        return self.active_model.preferred_chunk()


@dataclass(frozen=True)
class Sequential(Architecture):
    """Models in series, ``y = f_n(... f_1(x))``, each keeping its own streaming state.

    Start-up follows Core's Sequential: the chain is prewarmed as one model with the sum of
    the children's prewarm counts (the engine feeds those zeros through ``step``, so each
    child sees what its predecessor makes of silence, not silence itself).
    """

    models: tuple[Architecture, ...]
    name = "Sequential"

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("a Sequential needs at least one model")

    @classmethod
    def build(cls, config: SequentialConfig, sample_rate: float | None, children: tuple[Architecture, ...]) -> "Sequential":
        return cls(tuple(children))

    @property
    def in_channels(self) -> int:
        return self.models[0].in_channels

    @property
    def out_channels(self) -> int:
        return self.models[-1].out_channels

    def receptive_field(self) -> int:
        return 1 + sum(m.receptive_field() - 1 for m in self.models)

    def prewarm_samples(self) -> int:
        return sum(m.prewarm_samples() for m in self.models)

    def tensors(self) -> list[TensorSpec]:
        return []

    def children(self) -> tuple[Architecture, ...]:
        return self.models

    def configure(self, options: RenderOptions) -> "Sequential":
        return Sequential(tuple(m.configure(options) for m in self.models))

    def prepare(self, params: Params) -> Params:
        """A tuple of the children's prepared params."""
        return tuple(m.prepare(p) for m, p in zip(self.models, child_params(params), strict=True))

    def initial_state(self, params: Params) -> State:
        return tuple(m.initial_state(p) for m, p in zip(self.models, child_params(params), strict=True))

    def step(self, params: Params, state: State, x: Array) -> tuple[State, Array]:
        new_state = []
        for model, p, s in zip(self.models, params, state, strict=True):
            s, x = model.step(p, s, x)
            new_state.append(s)
        return tuple(new_state), x

    def render_signal(self, params: Params, state: State, x: Array) -> Array:
        """Model by model over the whole signal, each at its own chunk size (a long IR after
        a WaveNet is several times cheaper at its own FFT-sized chunk than at the WaveNet's)."""
        for model, p, s in zip(self.models, params, state, strict=True):
            x = model.render_signal(p, s, x)
        return x

    def preferred_chunk(self) -> int:
        return min(m.preferred_chunk() for m in self.models)
