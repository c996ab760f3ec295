"""Node kinds: one small class per kind, registered by its name.

A kind is a frozen dataclass playing two roles:

* **class level** (the IR): its ``Config`` (a frozen pydantic model: what a user sets and
  what the future file format stores), how many inputs it takes (``min_inputs`` /
  ``max_inputs``, named ``port_names``), its channel rule (``output_channels``), which
  config fields are trainable (``param_fields``), and ``create``, which makes the runtime
  node from a config and the channel counts of its input edges;
* **instance level** (the runtime): a static, hashable description (channel counts, delay
  length, mix law; never a trainable value) with the same streaming interface as an
  :class:`~namgraph.models.base.Architecture`, except that ``step`` takes a *list* of
  ``(C, T)`` inputs, one per input port in port order.

Trainable values (a gain in dB, a mix amount, weights) live in the params pytree, not in
the instance, so changing them never recompiles and ``jax.grad`` reaches them. Adding a
kind is one class here with ``@register``; nothing else dispatches on kind names.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from ..errors import FanInError, GraphChannelError, NodeConfigError, UnknownNodeKindError
from ..models.base import Architecture, Array, Params, RenderOptions, State

if TYPE_CHECKING:
    from ..model import Model


class NodeConfig(BaseModel):
    """Base of every kind's settings: frozen (hashable), unknown keys rejected, no NaN/inf."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


@dataclass(frozen=True)
class NodeKind(ABC):
    """One node kind. Subclasses set the class attributes and implement ``create`` and ``step``."""

    kind: ClassVar[str]
    Config: ClassVar[type[NodeConfig]]
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1  # None: any number
    port_names: ClassVar[tuple[str, ...]] = ()  # named input ports (required on connect)
    aggregator: ClassVar[bool] = False  # blends several inputs of equal channel count
    splits_channels: ClassVar[bool] = False  # each outgoing edge takes one channel
    param_fields: ClassVar[tuple[str, ...]] = ()  # config fields that are trainable params

    # ------------------------------------------------------------------ IR level

    @classmethod
    def output_channels(cls, node: str, config: NodeConfig, inputs: list[int], model: "Model | None") -> int:
        """Channel count of the output from the input edges' counts (port order); raises if they do not fit."""
        return inputs[0]

    @classmethod
    @abstractmethod
    def create(cls, config: NodeConfig, inputs: list[int], model: "Model | None") -> "NodeKind":
        """The runtime node for this config and these input channel counts (already checked)."""

    @classmethod
    def initial_params(cls, config: NodeConfig, model: "Model | None") -> Params:
        """The trainable values as float32 arrays, named as the config fields."""
        return {name: np.asarray(getattr(config, name), np.float32) for name in cls.param_fields}

    @classmethod
    def history(cls, config: NodeConfig, model: "Model | None") -> int:
        """Past samples per channel this node keeps, from its config alone (before anything is
        built): what a file's ``receptive_field`` limit counts. Stateless kinds keep none."""
        return 0

    @classmethod
    def config_with_params(cls, node: str, config: NodeConfig, params: Params) -> NodeConfig:
        """The config holding these (e.g. fitted) trainable values; validated like any setting."""
        update = {}
        for name in cls.param_fields:
            value = np.asarray(params[name], np.float64)
            update[name] = float(value) if value.ndim == 0 else tuple(float(v) for v in value.reshape(-1))
        return parse_config(node, cls, config.model_dump() | update)

    # ------------------------------------------------------------------ runtime

    def latency(self) -> int:
        """Processing latency in samples, compensated at fan-in (an intentional delay is not latency)."""
        return 0

    def prewarm_samples(self) -> int:
        """Zeros this node needs to reach its start-up state (Core's count for a model)."""
        return 0

    def receptive_field(self) -> int:
        """Span of input samples one output sample depends on (1 = memoryless)."""
        return 1

    def macs_per_sample(self) -> int:
        """Rough multiply-adds per output sample."""
        return 0

    def preferred_chunk(self) -> int | None:
        """Offline block length this node runs fastest at (None: no preference)."""
        return None

    def configure(self, options: RenderOptions) -> "NodeKind":
        return self

    def prepare(self, params: Params) -> Params:
        return params

    def initial_state(self, params: Params) -> State:
        return ()

    @abstractmethod
    def step(self, params: Params, state: State, inputs: list[Array]) -> tuple[State, Array]:
        """Process one block: ``inputs`` in port order, each ``(C_i, T)``; return ``(state, (C_out, T))``."""


KINDS: dict[str, type[NodeKind]] = {}


def register(cls: type[NodeKind]) -> type[NodeKind]:
    """Class decorator: make ``cls`` available under ``cls.kind``."""
    if cls.kind in KINDS:
        raise ValueError(f"node kind {cls.kind!r} registered twice")
    KINDS[cls.kind] = cls
    return cls


def node_kind(node: str, kind: str) -> type[NodeKind]:
    """The class of ``kind``, or an error naming the node and the known kinds."""
    try:
        return KINDS[kind]
    except (KeyError, TypeError):
        raise UnknownNodeKindError(
            f"node {node!r} has unknown kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}", nodes=(node,)
        ) from None


def parse_config(node: str, cls: type[NodeKind], settings: dict[str, Any]) -> NodeConfig:
    """Validated settings of a node, or a :class:`NodeConfigError` naming the node and the field."""
    try:
        return cls.Config.model_validate(settings)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(settings)'}: {err['msg']}" for err in exc.errors()
        )
        allowed = ", ".join(cls.Config.model_fields) or "none"
        raise NodeConfigError(
            f"{cls.kind} node {node!r}: {problems} (settings of a {cls.kind} node: {allowed})", nodes=(node,)
        ) from None


def aggregator_kinds() -> list[str]:
    return sorted(k for k, cls in KINDS.items() if cls.aggregator)


def _equal_channels(kind: str, node: str, inputs: list[int]) -> int:
    if len(set(inputs)) > 1:
        raise GraphChannelError(
            f"{kind} node {node!r} blends edges of different channel counts {inputs} (in port order); "
            "an aggregator needs equal counts (use split/merge to change channels)",
            nodes=(node,),
        )
    return inputs[0]


def db_to_gain(db: Array) -> Array:
    """Amplitude factor of a level in dB (20·log10)."""
    return jnp.power(jnp.float32(10.0), db / 20.0)


# ----------------------------------------------------------------------------- endpoints


@register
@dataclass(frozen=True)
class Input(NodeKind):
    """A graph input: the compiled function's input channels, in input-node id order."""

    class Config(NodeConfig):
        channels: StrictInt = Field(1, ge=1)

    kind = "input"
    min_inputs = 0
    max_inputs = 0
    channels: int

    @classmethod
    def output_channels(cls, node: str, config: NodeConfig, inputs: list[int], model: Any) -> int:
        return config.channels

    @classmethod
    def create(cls, config: NodeConfig, inputs: list[int], model: Any) -> "Input":
        return cls(config.channels)

    def step(self, params: Params, state: State, inputs: list[Array]) -> tuple[State, Array]:
        return state, inputs[0]


@register
@dataclass(frozen=True)
class Output(NodeKind):
    """A graph output: the compiled function's output channels, in output-node id order."""

    class Config(NodeConfig):
        channels: StrictInt | None = Field(None, ge=1)

    kind = "output"
    channels: int

    @classmethod
    def output_channels(cls, node: str, config: NodeConfig, inputs: list[int], model: Any) -> int:
        if config.channels is not None and inputs[0] != config.channels:
            raise GraphChannelError(
                f"output node {node!r} is declared with {config.channels} channel(s) but its edge carries {inputs[0]}",
                nodes=(node,),
            )
        return inputs[0]

    @classmethod
    def create(cls, config: NodeConfig, inputs: list[int], model: Any) -> "Output":
        return cls(inputs[0])

    def step(self, params: Params, state: State, inputs: list[Array]) -> tuple[State, Array]:
        return state, inputs[0]


# ----------------------------------------------------------------------------- models


def model_macs(arch: Architecture) -> int:
    """Weights touched per output sample: each weight is one multiply-add per sample for every
    built-in architecture (convolutions, LSTM matrices, heads), biases counted as adds; a
    Linear's taps run once per used channel; a SlimmableContainer counts its active model."""
    from ..models.containers import SlimmableContainer
    from ..models.linear import Linear

    if isinstance(arch, SlimmableContainer):
        return model_macs(arch.active_model)
    own = sum(t.size for t in arch.tensors())
    if isinstance(arch, Linear):
        own *= min(arch.in_channels, arch.out_channels)
    return own + sum(model_macs(child) for child in arch.children())


@register
@dataclass(frozen=True)
class ModelNode(NodeKind):
    """A loaded ``.nam`` model (containers included). Its params are the model's own pytree.

    ``latency`` is what the user declares (Core reports 0 for every NAM model); it is only
    used to align parallel branches.
    """

    class Config(NodeConfig):
        path: str | None = None  # where the model was loaded from (for the file format)
        latency: StrictInt = Field(0, ge=0)

    kind = "model"
    arch: Architecture
    declared_latency: int = 0

    @classmethod
    def output_channels(cls, node: str, config: NodeConfig, inputs: list[int], model: "Model") -> int:
        if inputs[0] != model.in_channels:
            raise GraphChannelError(
                f"model node {node!r} takes {model.in_channels} channel(s) but its input edge carries {inputs[0]} "
                "(use split to feed one channel, merge to combine channels)",
                nodes=(node,),
            )
        return model.out_channels

    @classmethod
    def create(cls, config: NodeConfig, inputs: list[int], model: "Model") -> "ModelNode":
        return cls(model.architecture, config.latency)

    @classmethod
    def history(cls, config: NodeConfig, model: "Model") -> int:
        arch = model.architecture
        return max(arch.receptive_field() - 1, arch.prewarm_samples())

    @classmethod
    def initial_params(cls, config: NodeConfig, model: "Model") -> Params:
        return model.params

    def latency(self) -> int:
        return self.declared_latency

    def prewarm_samples(self) -> int:
        return self.arch.prewarm_samples()

    def receptive_field(self) -> int:
        return self.arch.receptive_field()

    def macs_per_sample(self) -> int:
        return model_macs(self.arch)

    def preferred_chunk(self) -> int | None:
        return self.arch.preferred_chunk()

    def configure(self, options: RenderOptions) -> "ModelNode":
        return replace(self, arch=self.arch.configure(options))

    def prepare(self, params: Params) -> Params:
        return self.arch.prepare(params)

    def initial_state(self, params: Params) -> State:
        return self.arch.initial_state(params)

    def step(self, params: Params, state: State, inputs: list[Array]) -> tuple[State, Array]:
        return self.arch.step(params, state, inputs[0])


# ----------------------------------------------------------------------------- one-input effects


@register
@dataclass(frozen=True)
class Gain(NodeKind):
    """Level change in dB (trainable): ``y = 10^(db/20) · x``."""

    class Config(NodeConfig):
        db: float = 0.0

    kind = "gain"
    param_fields = ("db",)
    channels: int

    @classmethod
    def create(cls, config: NodeConfig, inputs: list[int], model: Any) -> "Gain":
        return cls(inputs[0])

    def macs_per_sample(self) -> int:
        return self.channels

    def prepare(self, params: Params) -> Params:
        return db_to_gain(jnp.asarray(params["db"], jnp.float32))

    def step(self, params: Params, state: State, inputs: list[Array]) -> tuple[State, Array]:
        return state, inputs[0] * params


@register
@dataclass(frozen=True)
class Polarity(NodeKind):
    """Polarity (phase) inversion, ``y = -x``; ``invert=False`` passes the signal through."""

    class Config(NodeConfig):
        invert: StrictBool = True

    kind = "polarity"
    channels: int
    invert: bool = True

    @classmethod
    def create(cls, config: NodeConfig, inputs: list[int], model: Any) -> "Polarity":
        return cls(inputs[0], config.invert)

    def macs_per_sample(self) -> int:
        return self.channels if self.invert else 0

    def step(self, params: Params, state: State, inputs: list[Array]) -> tuple[State, Array]:
        return state, -inputs[0] if self.invert else inputs[0]


@register
@dataclass(frozen=True)
class Delay(NodeKind):
    """A delay of whole samples, ``y[t] = x[t - samples]``: an intentional effect, so its latency is 0.

    It prewarms nothing and its line starts empty (zeros), exactly as Core starts a Linear
    with taps ``[0, ..., 0, 1]``: a delay *is* that Linear, so rewrites can fold it into an
    IR without changing a sample (and a graph's start-up equals its raised Sequential's).
    The compiler also uses it for the compensating delays of latency alignment.
    """

    class Config(NodeConfig):
        samples: StrictInt = Field(ge=0)

    kind = "delay"
    channels: int
    samples: int

    @classmethod
    def create(cls, config: NodeConfig, inputs: list[int], model: Any) -> "Delay":
        return cls(inputs[0], config.samples)

    @classmethod
    def history(cls, config: NodeConfig, model: Any) -> int:
        return config.samples

    def receptive_field(self) -> int:
        return self.samples + 1

    def initial_state(self, params: Params) -> State:
        return jnp.zeros((self.channels, self.samples), jnp.float32)

    def step(self, params: Params, state: State, inputs: list[Array]) -> tuple[State, Array]:
        if self.samples == 0:
            return state, inputs[0]
        line = jnp.concatenate([state, inputs[0]], axis=1)
        t = inputs[0].shape[1]
        return line[:, t:], line[:, :t]


# ----------------------------------------------------------------------------- aggregators


@register
@dataclass(frozen=True)
class Sum(NodeKind):
    """Sum of the incoming edges (equal channel counts)."""

    class Config(NodeConfig):
        pass

    kind = "sum"
    max_inputs = None
    aggregator = True
    channels: int
    count: int

    @classmethod
    def output_channels(cls, node: str, config: NodeConfig, inputs: list[int], model: Any) -> int:
        return _equal_channels(cls.kind, node, inputs)

    @classmethod
    def create(cls, config: NodeConfig, inputs: list[int], model: Any) -> "Sum":
        return cls(inputs[0], len(inputs))

    def macs_per_sample(self) -> int:
        return (self.count - 1) * self.channels

    def step(self, params: Params, state: State, inputs: list[Array]) -> tuple[State, Array]:
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return state, total


@register
@dataclass(frozen=True)
class Mean(Sum):
    """Mean of the incoming edges: the default blend (identical branches give the input level back)."""

    class Config(NodeConfig):
        pass

    kind = "mean"

    def macs_per_sample(self) -> int:
        return self.count * self.channels

    def step(self, params: Params, state: State, inputs: list[Array]) -> tuple[State, Array]:
        state, total = super().step(params, state, inputs)
        return state, total * jnp.float32(1.0 / self.count)


@register
@dataclass(frozen=True)
class WeightedSum(NodeKind):
    """``Σ weights[i] · input[i]``, one trainable weight per incoming edge in input-port order."""

    class Config(NodeConfig):
        weights: tuple[float, ...] = Field(min_length=1)

    kind = "weighted_sum"
    max_inputs = None
    aggregator = True
    param_fields = ("weights",)
    channels: int
    count: int

    @classmethod
    def output_channels(cls, node: str, config: NodeConfig, inputs: list[int], model: Any) -> int:
        if len(config.weights) != len(inputs):
            raise FanInError(
                f"weighted_sum node {node!r} has {len(config.weights)} weight(s) for {len(inputs)} incoming edge(s); "
                "give one weight per edge, in input-port order",
                nodes=(node,),
            )
        return _equal_channels(cls.kind, node, inputs)

    @classmethod
    def create(cls, config: NodeConfig, inputs: list[int], model: Any) -> "WeightedSum":
        return cls(inputs[0], len(inputs))

    def macs_per_sample(self) -> int:
        return self.count * self.channels

    def prepare(self, params: Params) -> Params:
        return jnp.asarray(params["weights"], jnp.float32)

    def step(self, params: Params, state: State, inputs: list[Array]) -> tuple[State, Array]:
        total = params[0] * inputs[0]
        for i, x in enumerate(inputs[1:], start=1):
            total = total + params[i] * x
        return state, total


@register
@dataclass(frozen=True)
class Mix(NodeKind):
    """Dry/wet blend of port ``dry`` (0) and port ``wet`` (1); ``amount`` (trainable) is the wet share.

    ``linear``: ``(1 − a)·dry + a·wet``. ``equal_power``: ``cos(a·π/2)·dry + sin(a·π/2)·wet``,
    which keeps the loudness of uncorrelated signals constant across the sweep.
    """

    class Config(NodeConfig):
        amount: float = Field(0.5, ge=0.0, le=1.0)
        law: Literal["linear", "equal_power"] = "linear"

    kind = "mix"
    min_inputs = 2
    max_inputs = 2
    port_names = ("dry", "wet")
    aggregator = True
    param_fields = ("amount",)
    channels: int
    law: str = "linear"

    @classmethod
    def output_channels(cls, node: str, config: NodeConfig, inputs: list[int], model: Any) -> int:
        return _equal_channels(cls.kind, node, inputs)

    @classmethod
    def create(cls, config: NodeConfig, inputs: list[int], model: Any) -> "Mix":
        return cls(inputs[0], config.law)

    def macs_per_sample(self) -> int:
        return 2 * self.channels

    def prepare(self, params: Params) -> Params:
        a = jnp.asarray(params["amount"], jnp.float32)
        if self.law == "equal_power":
            angle = a * jnp.float32(math.pi / 2)
            return jnp.stack([jnp.cos(angle), jnp.sin(angle)])
        return jnp.stack([1.0 - a, a])

    def step(self, params: Params, state: State, inputs: list[Array]) -> tuple[State, Array]:
        dry, wet = inputs
        return state, params[0] * dry + params[1] * wet


# ----------------------------------------------------------------------------- channels


@register
@dataclass(frozen=True)
class Split(NodeKind):
    """A multi-channel edge into mono edges: each outgoing edge names its ``channel`` (0-based)."""

    class Config(NodeConfig):
        pass

    kind = "split"
    splits_channels = True
    channels: int

    @classmethod
    def create(cls, config: NodeConfig, inputs: list[int], model: Any) -> "Split":
        return cls(inputs[0])

    def step(self, params: Params, state: State, inputs: list[Array]) -> tuple[State, Array]:
        return state, inputs[0]  # the compiler takes each outgoing edge's channel


@register
@dataclass(frozen=True)
class Merge(NodeKind):
    """Edges into one multi-channel edge: channels stacked in input-port order (port 0 first)."""

    class Config(NodeConfig):
        pass

    kind = "merge"
    max_inputs = None
    inputs: tuple[int, ...]

    @classmethod
    def output_channels(cls, node: str, config: NodeConfig, inputs: list[int], model: Any) -> int:
        return sum(inputs)

    @classmethod
    def create(cls, config: NodeConfig, inputs: list[int], model: Any) -> "Merge":
        return cls(tuple(inputs))

    def step(self, params: Params, state: State, inputs: list[Array]) -> tuple[State, Array]:
        return state, inputs[0] if len(inputs) == 1 else jnp.concatenate(inputs, axis=0)
