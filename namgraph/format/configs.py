"""pydantic schemas of each architecture's ``config`` object.

They accept exactly what NeuralAmpModelerCore accepts (see the format spec, sections 3-10)
and resolve the many optional and legacy spellings into one normal form, so the layout and
the JAX models read a single shape of data. Configs are frozen and hashable: an
architecture built from one can be a static argument to ``jax.jit``.

Nested model objects (``condition_dsp``, container children) are not part of these
schemas; the loader reads them as complete ``.nam`` objects of their own.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, field_validator, model_validator

from .jsonfile import json_float

PositiveInt = StrictInt


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


# ----------------------------------------------------------------------------- activations

ACTIVATION_TYPES = (
    "Tanh",
    "Hardtanh",
    "Fasttanh",
    "ReLU",
    "LeakyReLU",
    "PReLU",
    "Sigmoid",
    "SiLU",
    "Hardswish",
    "LeakyHardtanh",
    "Softsign",
)
_ACTIVATION_ALIASES = {"LeakyHardTanh": "LeakyHardtanh"}


class Activation(_Frozen):
    """One activation with its parameters; a bare string means the defaults."""

    type: str
    negative_slope: StrictFloat | None = None
    negative_slopes: tuple[StrictFloat, ...] | None = None
    min_val: StrictFloat = -1.0
    max_val: StrictFloat = 1.0
    min_slope: StrictFloat = 0.01
    max_slope: StrictFloat = 0.01

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"type": value}
        if not isinstance(value, dict):
            raise ValueError("invalid activation: expected a string or an object with a 'type'")
        return value

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        value = _ACTIVATION_ALIASES.get(value, value)
        if value not in ACTIVATION_TYPES:
            raise ValueError(f"unknown activation type {value!r}; expected one of {', '.join(ACTIVATION_TYPES)}")
        return value

    def slopes(self) -> tuple[float, ...]:
        """Negative slopes of (P/Leaky)ReLU: one value, or one per channel."""
        if self.negative_slope is not None:
            return (self.negative_slope,)
        if self.type == "PReLU" and self.negative_slopes:
            return self.negative_slopes
        return (0.01,)


SIGMOID = Activation(type="Sigmoid")


# ----------------------------------------------------------------------------- Linear, ConvNet, LSTM


class LinearConfig(_Frozen):
    receptive_field: PositiveInt = Field(ge=1)
    bias: StrictBool
    in_channels: PositiveInt = Field(1, ge=1)
    out_channels: PositiveInt = Field(1, ge=1)
    implementation: str = "auto"

    @field_validator("implementation")
    @classmethod
    def _impl(cls, value: str) -> str:
        allowed = {"auto", "direct", "legacy", "old", "fft", "partitioned_fft", "partitioned-fft"}
        if value.lower() not in allowed:
            raise ValueError(f"unsupported Linear implementation {value!r}; expected one of {sorted(allowed)}")
        return value


class ConvNetConfig(_Frozen):
    channels: PositiveInt = Field(ge=1)
    dilations: tuple[PositiveInt, ...] = Field(min_length=1)
    batchnorm: StrictBool
    activation: Activation
    groups: PositiveInt = Field(1, ge=1)
    in_channels: PositiveInt = Field(1, ge=1)
    out_channels: PositiveInt = Field(1, ge=1)

    @field_validator("dilations")
    @classmethod
    def _positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        _require_positive(value, "dilations")
        return value

    @model_validator(mode="after")
    def _groups_divide(self) -> "ConvNetConfig":
        for name, n in (("channels", self.channels), ("in_channels", self.in_channels)):
            if n % self.groups:
                raise ValueError(f"{name} ({n}) must be divisible by groups ({self.groups})")
        return self


class LSTMConfig(_Frozen):
    input_size: PositiveInt = Field(ge=1)
    hidden_size: PositiveInt = Field(ge=1)
    num_layers: StrictInt = Field(ge=0)
    in_channels: PositiveInt = Field(1, ge=1)
    out_channels: PositiveInt = Field(1, ge=1)

    @model_validator(mode="after")
    def _inputs(self) -> "LSTMConfig":
        if self.input_size != self.in_channels:
            raise ValueError(f"input_size ({self.input_size}) must equal in_channels ({self.in_channels})")
        return self


# ----------------------------------------------------------------------------- WaveNet

GatingMode = Literal["none", "gated", "blended"]
FILM_POSITIONS = (
    "conv_pre_film",
    "conv_post_film",
    "input_mixin_pre_film",
    "input_mixin_post_film",
    "activation_pre_film",
    "activation_post_film",
    "layer1x1_post_film",
    "head1x1_post_film",
)


class Film(_Frozen):
    active: StrictBool = True
    shift: StrictBool = True
    groups: PositiveInt = Field(1, ge=1)


class Layer1x1(_Frozen):
    active: StrictBool
    groups: PositiveInt = Field(ge=1)


class Head1x1(_Frozen):
    active: StrictBool
    out_channels: PositiveInt = Field(ge=1)
    groups: PositiveInt = Field(ge=1)


class LayerArrayHead(_Frozen):
    out_channels: PositiveInt = Field(ge=1)
    kernel_size: PositiveInt = Field(ge=1)
    bias: StrictBool
    head_dilation: PositiveInt = Field(1, ge=1)


class Slimmable(_Frozen):
    method: str
    allowed_channels: tuple[PositiveInt, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> Any:
        if isinstance(value, dict):
            kwargs = value.get("kwargs") or {}
            if not isinstance(kwargs, dict):
                raise ValueError("slimmable.kwargs must be an object")
            return {"method": value.get("method"), "allowed_channels": kwargs.get("allowed_channels")}
        return value


class Layer(_Frozen):
    """One WaveNet layer after resolving per-layer lists and legacy keys."""

    kernel_size: int
    dilation: int
    activation: Activation
    gating_mode: GatingMode
    secondary: Activation | None

    @property
    def gate_factor(self) -> int:
        return 1 if self.gating_mode == "none" else 2

    @property
    def history(self) -> int:
        """Past input samples this layer's dilated convolution reads (its state length)."""
        return self.dilation * (self.kernel_size - 1)


class LayerArrayConfig(_Frozen):
    input_size: PositiveInt = Field(ge=1)
    condition_size: PositiveInt = Field(ge=1)
    channels: PositiveInt = Field(ge=1)
    bottleneck: PositiveInt | None = Field(None, ge=1)
    dilations: tuple[PositiveInt, ...] = Field(min_length=1)
    kernel_size: PositiveInt | None = Field(None, ge=1)
    kernel_sizes: tuple[PositiveInt, ...] | None = None
    activation: Activation | tuple[Activation, ...]
    gating_mode: GatingMode | tuple[GatingMode, ...] | None = None
    gated: StrictBool | None = None
    secondary_activation: Any = None
    head: LayerArrayHead | None = None
    head_size: PositiveInt | None = Field(None, ge=1)
    head_bias: StrictBool | None = None
    groups_input: PositiveInt = Field(1, ge=1)
    groups_input_mixin: PositiveInt = Field(1, ge=1)
    layer1x1: Layer1x1 = Layer1x1(active=True, groups=1)
    head1x1: Head1x1 | None = None
    conv_pre_film: Film | None = None
    conv_post_film: Film | None = None
    input_mixin_pre_film: Film | None = None
    input_mixin_post_film: Film | None = None
    activation_pre_film: Film | None = None
    activation_post_film: Film | None = None
    layer1x1_post_film: Film | None = None
    head1x1_post_film: Film | None = None
    slimmable: Slimmable | None = None
    # resolved by the validator below; not file keys
    resolved_layers: tuple[Layer, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("a layer array must be an object")
        data = dict(data)
        data.pop("resolved_layers", None)
        if isinstance(data.get("secondary_activation"), list):
            data["secondary_activation"] = tuple(data["secondary_activation"])
        for key in FILM_POSITIONS:
            if key not in data:
                continue
            value = data[key]
            if value is False:
                data[key] = None
            elif value is None or not isinstance(value, dict):
                raise ValueError(f"{key} must be an object or false, not {_json_type(value)}")
        slim = data.get("slimmable")
        if not isinstance(slim, dict) or not slim.get("method"):
            data["slimmable"] = None  # Core: null, non-object or no method = not slimmable
        if data.get("head") is None:
            data.pop("head", None)
        return data

    @model_validator(mode="after")
    def _resolve(self) -> "LayerArrayConfig":
        n = len(self.dilations)
        _require_positive(self.dilations, "dilations")
        if self.kernel_size is not None and self.kernel_sizes is not None:
            raise ValueError("only one of kernel_size (int) or kernel_sizes (array) may be provided")
        if self.kernel_size is None and self.kernel_sizes is None:
            raise ValueError("either kernel_size (int) or kernel_sizes (array) must be provided")
        kernels = self.kernel_sizes if self.kernel_sizes is not None else (self.kernel_size,) * n
        if len(kernels) != n:
            raise ValueError(f"kernel_sizes has {len(kernels)} entries but dilations has {n}")
        _require_positive(kernels, "kernel_sizes")
        activations = _per_layer(self.activation, n, "activation")
        modes, secondaries = self._gating(n)
        if self.head is None and (self.head_size is None or self.head_bias is None):
            raise ValueError("expected a 'head' object with out_channels, kernel_size and bias, or legacy 'head_size' and 'head_bias'")
        if not self.layer1x1.active and self.bottleneck_channels != self.channels:
            raise ValueError(
                f"bottleneck ({self.bottleneck_channels}) must equal channels ({self.channels}) when layer1x1.active is false"
            )
        if self.layer1x1_post_film is not None and self.layer1x1_post_film.active and not self.layer1x1.active:
            raise ValueError("layer1x1_post_film cannot be active when layer1x1.active is false")
        if self.head1x1_post_film is not None and self.head1x1_post_film.active and not self.head1x1_active:
            raise ValueError("head1x1_post_film cannot be active when head1x1 is not active")
        self._check_groups(modes)
        if self.slimmable is not None:
            self._check_slimmable()
        layers = tuple(
            Layer(kernel_size=k, dilation=d, activation=a, gating_mode=m, secondary=s)
            for k, d, a, m, s in zip(kernels, self.dilations, activations, modes, secondaries)
        )
        object.__setattr__(self, "resolved_layers", layers)
        object.__setattr__(self, "secondary_activation", secondaries)  # hashable, resolved per layer
        return self

    def _gating(self, n: int) -> tuple[tuple[str, ...], tuple[Activation | None, ...]]:
        if self.gating_mode is None:
            mode = "gated" if self.gated else "none"
            return (mode,) * n, ((SIGMOID if self.gated else None),) * n
        modes = _per_layer(self.gating_mode, n, "gating_mode")
        raw = self.secondary_activation
        if isinstance(raw, list | tuple):
            if len(raw) != n:
                raise ValueError(f"secondary_activation has {len(raw)} entries but dilations has {n}")
            secondaries = tuple(
                None if m == "none" else (SIGMOID if s is None else _activation(s, "secondary_activation"))
                for m, s in zip(modes, raw)
            )
        else:
            single_needed = isinstance(self.gating_mode, str) and self.gating_mode != "none"
            if single_needed and "secondary_activation" in self.model_fields_set and raw is None:
                raise ValueError("secondary_activation must be a string or object for gated/blended layers, not null")
            needed = any(m != "none" for m in modes)
            value = (SIGMOID if raw is None else _activation(raw, "secondary_activation")) if needed else None
            secondaries = tuple(None if m == "none" else value for m in modes)
        return modes, secondaries

    def _check_groups(self, modes: tuple[str, ...]) -> None:
        b = self.bottleneck_channels
        for m in set(modes):
            g = 1 if m == "none" else 2
            _divisible(self.channels, g * b, self.groups_input, "groups_input")
            _divisible(self.condition_size, g * b, self.groups_input_mixin, "groups_input_mixin")
        if self.layer1x1.active:
            _divisible(b, self.channels, self.layer1x1.groups, "layer1x1.groups")
        if self.head1x1_active:
            _divisible(b, self.head1x1.out_channels, self.head1x1.groups, "head1x1.groups")
        for key in FILM_POSITIONS:
            film = getattr(self, key)
            if film is not None and film.active and self.condition_size % film.groups:
                raise ValueError(f"condition_size ({self.condition_size}) must be divisible by {key}.groups ({film.groups})")

    def _check_slimmable(self) -> None:
        slim = self.slimmable
        if slim.method != "slice_channels_uniform":
            raise ValueError(f"unsupported slimmable method {slim.method!r}; expected 'slice_channels_uniform'")
        allowed = slim.allowed_channels
        if allowed is None:
            return
        if not allowed or any(b <= a for a, b in zip(allowed, allowed[1:])) or allowed[0] < 1:
            raise ValueError("slimmable allowed_channels must be positive and strictly ascending")
        if allowed[-1] != self.channels:
            raise ValueError(f"last slimmable allowed_channels entry ({allowed[-1]}) must equal channels ({self.channels})")

    # --- derived values used by the layout and the model

    @property
    def bottleneck_channels(self) -> int:
        return self.channels if self.bottleneck is None else self.bottleneck

    @property
    def head1x1_active(self) -> bool:
        return self.head1x1 is not None and self.head1x1.active

    @property
    def head_out_channels(self) -> int:
        return self.head.out_channels if self.head is not None else self.head_size

    @property
    def head_kernel_size(self) -> int:
        return self.head.kernel_size if self.head is not None else 1

    @property
    def head_dilation(self) -> int:
        return self.head.head_dilation if self.head is not None else 1

    @property
    def head_has_bias(self) -> bool:
        return self.head.bias if self.head is not None else bool(self.head_bias)

    @property
    def head_in_channels(self) -> int:
        """Channels of the skip sum feeding the layer-array head."""
        return self.head1x1.out_channels if self.head1x1_active else self.bottleneck_channels

    def active_films(self) -> tuple[tuple[str, Film], ...]:
        return tuple((k, getattr(self, k)) for k in FILM_POSITIONS if getattr(self, k) is not None and getattr(self, k).active)

    def receptive_field(self) -> int:
        """Zero-indexed receptive field of this array, as Core's ``get_receptive_field``."""
        return sum(layer.history for layer in self.resolved_layers) + self.head_history

    @property
    def head_history(self) -> int:
        """Past samples the array's head convolution reads."""
        return self.head_dilation * (self.head_kernel_size - 1)


class PostHead(_Frozen):
    channels: PositiveInt = Field(ge=1)
    out_channels: PositiveInt = Field(ge=1)
    kernel_sizes: tuple[PositiveInt, ...] = Field(min_length=1)
    activation: Activation
    in_channels: PositiveInt | None = None

    @field_validator("kernel_sizes")
    @classmethod
    def _positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        _require_positive(value, "kernel_sizes")
        return value


class WaveNetConfig(_Frozen):
    layers: tuple[LayerArrayConfig, ...] = Field(min_length=1)
    head_scale: StrictFloat
    head: PostHead | None = None
    in_channels: PositiveInt = Field(1, ge=1)

    @model_validator(mode="after")
    def _links(self) -> "WaveNetConfig":
        first = self.layers[0]
        if first.input_size != self.in_channels:
            raise ValueError(f"layers[0].input_size ({first.input_size}) must equal in_channels ({self.in_channels})")
        for k in range(1, len(self.layers)):
            prev, cur = self.layers[k - 1], self.layers[k]
            if cur.channels != prev.head_out_channels:
                raise ValueError(
                    f"channels of layers[{k}] ({cur.channels}) doesn't match the head size of layers[{k - 1}] ({prev.head_out_channels})"
                )
            if cur.input_size != prev.channels:
                raise ValueError(f"input_size of layers[{k}] ({cur.input_size}) must equal channels of layers[{k - 1}] ({prev.channels})")
            if cur.head_in_channels != prev.head_out_channels:
                raise ValueError(
                    f"head input channels of layers[{k}] ({cur.head_in_channels}) must equal the head size of layers[{k - 1}] ({prev.head_out_channels})"
                )
        if self.head is not None and self.head.in_channels is not None:
            if self.head.in_channels != self.layers[-1].head_out_channels:
                raise ValueError(
                    f"head.in_channels ({self.head.in_channels}) must equal the last layer array's head size ({self.layers[-1].head_out_channels})"
                )
        if self.is_slimmable and self.head is not None:
            raise ValueError("a slimmable WaveNet cannot have a post-stack head")
        return self

    @property
    def is_slimmable(self) -> bool:
        return any(la.slimmable is not None for la in self.layers)

    @property
    def out_channels(self) -> int:
        return self.head.out_channels if self.head is not None else self.layers[-1].head_out_channels

    def receptive_field(self) -> int:
        """One-indexed receptive field of the WaveNet itself (without any condition_dsp)."""
        post = 0 if self.head is None else sum(k - 1 for k in self.head.kernel_sizes)
        return 1 + sum(la.receptive_field() for la in self.layers) + post


# ----------------------------------------------------------------------------- containers


class SlimmableContainerConfig(_Frozen):
    """Only the selection thresholds; each submodel's ``model`` is loaded as its own file object."""

    max_values: tuple[float, ...]

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: Any) -> Any:
        subs = data.get("submodels") if isinstance(data, dict) else None
        if not isinstance(subs, list) or not subs:
            raise ValueError("'submodels' must be a non-empty array")
        values = []
        for i, sub in enumerate(subs):
            if not isinstance(sub, dict) or not isinstance(sub.get("max_value"), int | float) or isinstance(sub.get("max_value"), bool):
                raise ValueError(f"submodels[{i}] must be an object with a numeric 'max_value' and a 'model'")
            if not isinstance(sub.get("model"), dict):
                raise ValueError(f"submodels[{i}].model must be a complete model object")
            value = json_float(sub["max_value"])
            if value is None or not math.isfinite(value):
                raise ValueError(f"submodels[{i}].max_value must be a finite number")
            values.append(value)
        return {"max_values": tuple(values)}

    @model_validator(mode="after")
    def _ordered(self) -> "SlimmableContainerConfig":
        if any(b <= a for a, b in zip(self.max_values, self.max_values[1:])):
            raise ValueError("submodels must be sorted by strictly ascending max_value")
        if self.max_values[-1] < 1.0:
            raise ValueError(f"the last submodel's max_value ({self.max_values[-1]}) must be >= 1.0")
        return self


class SequentialConfig(_Frozen):
    """Only the number of children; each entry of ``models`` is loaded as its own file object."""

    count: int

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: Any) -> Any:
        models = data.get("models") if isinstance(data, dict) else None
        if not isinstance(models, list) or not models:
            raise ValueError("'models' must be a non-empty array of complete model objects")
        return {"count": len(models)}


CONFIG_TYPES: dict[str, type[_Frozen]] = {
    "Linear": LinearConfig,
    "ConvNet": ConvNetConfig,
    "LSTM": LSTMConfig,
    "WaveNet": WaveNetConfig,
    "SlimmableContainer": SlimmableContainerConfig,
    "Sequential": SequentialConfig,
}


# ----------------------------------------------------------------------------- helpers


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", str: "a string", list: "an array", dict: "an object"}.get(type(value), "a number")


def _require_positive(values: tuple[int, ...], name: str) -> None:
    for i, v in enumerate(values):
        if v < 1:
            raise ValueError(f"{name}[{i}] must be >= 1, got {v}")


def _divisible(cin: int, cout: int, groups: int, name: str) -> None:
    if cin % groups or cout % groups:
        raise ValueError(f"{name} ({groups}) must divide both the input ({cin}) and output ({cout}) channels")


def _per_layer(value: Any, n: int, name: str) -> tuple:
    if isinstance(value, tuple):
        if len(value) != n:
            raise ValueError(f"{name} has {len(value)} entries but dilations has {n}")
        return value
    return (value,) * n


def _activation(value: Any, name: str) -> Activation:
    try:
        return Activation.model_validate(value)
    except Exception as exc:  # re-raised as a plain ValueError so pydantic reports the field
        raise ValueError(f"{name}: {exc}") from None
